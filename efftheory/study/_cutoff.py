r"""What a mode cutoff predicts, measured inside a study: $\hat\lambda_K(n)$ beside
$\hat\lambda(n)$ and $K^*(n)$.

With ``cutoff_modes = [K, ...]`` a study of a two-layer card also samples, over the same
ladder and with the same sampler settings, the $K$-mode truncation of its model
(`efftheory.CutoffNetworkModel`, or `efftheory.CollapsedCutoffNetworkModel` when the study's
form is collapsed): the loss $L_K = \tfrac12\sum_{k\in\mathcal K}(u_k - u^*_k)^2$ over the
first $K$ modes that do not vanish identically. Each rung then carries $\hat\lambda_K(n)$
with its MCSE and

$$K^*(n) = \min\{K : |\hat\lambda_K(n) - \hat\lambda(n)| \le 3\sqrt{\mathrm{MCSE}_K^2 +
\mathrm{MCSE}^2}\},$$

the fewest kept modes that reproduce the measurement within its errors, beside the effective
theory's mode count $\#\{j : n\mu_j > 1\}$ ($\mu_j$ the prior mode covariance's eigenvalues;
twice the staircase). $K^*$ is a statement at the run's statistical resolution: more draws
can raise it. `experiments/mode_cutoff.py` grows $K$ until the largest matches at every
rung; docs/study.md, "What a mode cutoff predicts, measured", has the results.

Each truncation checkpoints to ``checkpoint-cutoff-K/`` of the results folder, so an
interrupted study resumes it, and a rerun with other settings is refused as for the main
run.
"""

import math
from pathlib import Path

import numpy as np

from ._analysis import finite_or_none
from ._kernel import two_layer_network_of

Z_AGREE = 3.0

#: Study forms whose truncation exists, and the cutoff form sampled for each.
CUTOFF_FORMS = {"raw": "cutoff", "collapsed": "collapsed_cutoff"}


def check_cutoff_modes(cutoff_modes) -> None:
    """Raise a ValueError naming ``cutoff_modes`` unless it is a list of distinct K >= 1."""
    if not isinstance(cutoff_modes, list | tuple) or not all(
            isinstance(k, int) and not isinstance(k, bool) and k >= 1 for k in cutoff_modes):
        raise ValueError(f"cutoff_modes must be a list of integers K >= 1 (the numbers of kept "
                         f"modes to sample, e.g. [1, 2, 4]), got {cutoff_modes!r}.")
    if len(set(cutoff_modes)) != len(cutoff_modes):
        raise ValueError(f"cutoff_modes lists a K twice: {list(cutoff_modes)}; give each once.")


def cutoff_form(config, model) -> str:
    """The form of the truncations of `config`'s model, or a ValueError saying what to change."""
    form = config.overrides.get("form", "raw")
    if two_layer_network_of(model) is None or form not in CUTOFF_FORMS:
        raise ValueError(
            f"cutoff_modes={list(config.cutoff_modes)} needs a two-layer card in form 'raw' or "
            f"'collapsed' (the truncation keeps the first K modes of its mode basis); this "
            f"study's model is a {type(model).__name__} in form {form!r}: drop cutoff_modes, "
            "or study a two-layer card such as 'learning-zero-small'.")
    return CUTOFF_FORMS[form]


def sample_cutoffs(config, model, out: Path, sampler_settings: dict, *,
                   restart: bool) -> dict[int, dict]:
    """Sample each truncation over the study's ladder: ``{K: {"learning_coefficient",
    "mcse", "kept_modes", "rhat", "ess_bulk", "divergences"}}`` (lists over the rungs)."""
    from ..models._cards import load_card_model
    from ._guards import sample_resumable

    if not config.cutoff_modes:
        return {}
    form = cutoff_form(config, model)
    overrides = {key: value for key, value in config.overrides.items()
                 if key not in ("form", "n_max")}
    measured = {}
    for num_modes in config.cutoff_modes:
        truncation = load_card_model(config.card, form=form, num_modes=num_modes,
                                     n_max=config.ladder.n_max, **overrides)
        result = sample_resumable(out, f"checkpoint-cutoff-{num_modes}", truncation,
                                  config.n_ladder,
                                  {**sampler_settings, "store_positions": False},
                                  restart=restart)
        measured[num_modes] = {
            "kept_modes": list(truncation.model.kept_modes),
            "learning_coefficient": [finite_or_none(v) for v in result.learning_coefficient],
            "mcse": [finite_or_none(v) for v in result.learning_coefficient_mcse],
            "rhat": [finite_or_none(v) for v in result.rhat],
            "ess_bulk": [finite_or_none(v) for v in result.ess_bulk],
            "divergences": [int(v) for v in result.divergences],
            "diagnostics": list(result.diagnostics),
        }
    return measured


def add_cutoff_columns(summary: dict, measured: dict[int, dict], eigenvalues) -> None:
    """Put λ̂_K and its MCSE (``cutoff_K_learning_coefficient``, ``cutoff_K_mcse``), ``k_star``
    and ``kernel_mode_count`` on every rung of `summary`, and the truncations' own
    diagnostics under ``summary["cutoffs"]``."""
    if not measured:
        return
    for index, row in enumerate(summary["rungs"]):
        for k, record in measured.items():
            row[f"cutoff_{k}_learning_coefficient"] = record["learning_coefficient"][index]
            row[f"cutoff_{k}_mcse"] = record["mcse"][index]
        row["k_star"] = _k_star(row, measured, index) if row["n"] > 0 else None
        row["kernel_mode_count"] = None if eigenvalues is None else int(
            np.sum(row["n"] * np.asarray(eigenvalues) > 1))
    summary["cutoffs"] = {str(k): {"kept_modes": record["kept_modes"],
                                   "rhat": record["rhat"], "ess_bulk": record["ess_bulk"],
                                   "divergences": record["divergences"],
                                   "diagnostics": record["diagnostics"]}
                          for k, record in measured.items()}


def _k_star(row: dict, measured: dict[int, dict], index: int) -> int | None:
    full, full_error = row["learning_coefficient"], row["learning_coefficient_mcse"]
    if full is None or full_error is None:
        return None
    for num_modes in sorted(measured):
        value = measured[num_modes]["learning_coefficient"][index]
        error = measured[num_modes]["mcse"][index]
        if value is None or error is None:
            continue
        if abs(value - full) <= Z_AGREE * math.hypot(error, full_error):
            return num_modes
    return None
