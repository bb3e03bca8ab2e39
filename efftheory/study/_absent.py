r"""Which of a study's predictions a model supports, and why not where it does not.

The measurement ($\hat\lambda(n)$, $F(n)$, their errors, the fits and the diagnostics) is
made for every model. The predictions set beside it need more: the effective prediction
and the crossovers need the prior mode spectrum of a two-layer network, the quenched prior
average its Gram matrix over the inner weights, and the geometric values a card that
records them. A model without what one needs (a deep linear network, a toy model, your
own `FunctionModel`) gets no such column: the summary's ``theory_absent`` and the report
say which are missing and why, instead of a column of blanks.
"""


#: The per-rung columns of each prediction.
EFFECTIVE_COLUMNS = ("effective_learning_coefficient", "effective_staircase",
                     "effective_relative_difference")
QUENCHED_COLUMNS = ("quenched_prior_average", "quenched_prior_average_se",
                    "quenched_relative_difference")


def absent_theory(model, eigenvalues, quenched_values, geometric) -> list[dict]:
    """``[{"name", "columns", "why"}]`` for every prediction the study cannot make here."""
    kind = type(model).__name__
    absent = []
    if eigenvalues is None:
        absent.append({
            "name": "effective prediction and kernel spectrum",
            "columns": [*EFFECTIVE_COLUMNS[:2], "kernel_eigenvalues"],
            "why": f"needs the prior mode spectrum of a two-layer network (model.network a "
                   f"TwoLayerNetwork); a {kind} has none"})
    if quenched_values is None:
        absent.append({
            "name": "quenched prior average",
            "columns": list(QUENCHED_COLUMNS[:2]),
            "why": f"needs a two-layer network's Gram matrix over its inner weights "
                   f"(model.network and its loss quadrature model.rule: the raw or collapsed "
                   f"form); a {kind} has none"})
    if not geometric:
        absent.append({
            "name": "geometric values",
            "columns": ["geometric: <label>"],
            "why": "the model's card records no known learning coefficient (add "
                   "[[known_values]] to a card to show one)"})
    if eigenvalues is None or not geometric:
        absent.append({
            "name": "crossovers",
            "columns": ["crossovers"],
            "why": "need both the effective prediction and a geometric value"})
    return absent


def drop_absent_columns(row: dict, effective_known: bool, quenched_known: bool) -> dict:
    """`row` without the columns of predictions the model does not support."""
    dropped = ((EFFECTIVE_COLUMNS if not effective_known else ())
               + (QUENCHED_COLUMNS if not quenched_known else ()))
    return {key: value for key, value in row.items() if key not in dropped}
