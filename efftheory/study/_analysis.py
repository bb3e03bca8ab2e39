"""A study's analysis: the per-rung table, the fitted laws, the crossovers and the comparison
with the effective prediction, as one JSON-ready summary."""

import dataclasses
import json
import math
from typing import Any

import numpy as np

from ..models._card_model import CardModel
from ..models._card_schema import ModelCard
from ._absent import absent_theory, drop_absent_columns
from ._kernel import effective_crossovers, precise_kernel_eigenvalues


@dataclasses.dataclass(frozen=True)
class GeometricValue:
    """A geometric learning coefficient shown beside the measurement."""

    label: str
    learning_coefficient: float
    multiplicity: int
    source: str


def geometric_values(card: ModelCard) -> list[GeometricValue]:
    """The geometric learning coefficients recorded on the model's card."""
    return [GeometricValue(value.label, float(value.learning_coefficient),
                           int(value.multiplicity), value.reference)
            for value in card.known_values]



def summarize(config, card_model: CardModel, result, eigenvalues, rank_cap, geometric,
              quenched=(None, None), eigenvalue_floor=None) -> dict:
    """Per-rung table, fits and crossovers as one JSON-ready dict."""
    from ..theory import (
        free_learning_coefficient,
        staircase_learning_coefficient,
    )

    model = card_model.model
    n = np.asarray(result.n_ladder, dtype=np.float64)
    lam = np.asarray(result.learning_coefficient)
    lam_se = np.asarray(result.learning_coefficient_mcse)
    rows = []
    effective = staircase = None
    if eigenvalues is not None:
        effective = np.asarray(free_learning_coefficient(n, eigenvalues, rank_cap=rank_cap))
        staircase = np.asarray(staircase_learning_coefficient(n, eigenvalues,
                                                              rank_cap=rank_cap))
    for index in range(n.size):
        row = {
            "n": float(n[index]),
            "learning_coefficient": finite_or_none(lam[index]),
            "learning_coefficient_mcse": finite_or_none(lam_se[index]),
            "free_energy": finite_or_none(result.free_energy[index]),
            "free_energy_err": finite_or_none(result.free_energy_err[index]),
            "free_energy_stepping_stone": finite_or_none(result.free_energy_stepping_stone[index]),
            "effective_learning_coefficient": None if effective is None else
            float(effective[index]),
            "effective_staircase": None if staircase is None else float(staircase[index]),
            "quenched_prior_average": None if quenched[0] is None else
            float(quenched[0][index]),
            "quenched_prior_average_se": None if quenched[1] is None else
            float(quenched[1][index]),
            "rhat": finite_or_none(result.rhat[index]),
            "ess_bulk": finite_or_none(result.ess_bulk[index]),
            "divergences": int(result.divergences[index]),
        }
        for value in geometric:
            row[f"geometric: {value.label}"] = value.learning_coefficient
        if effective is not None and n[index] > 0 and lam[index] > 0:
            row["effective_relative_difference"] = float(effective[index] / lam[index] - 1)
        if quenched[0] is not None and n[index] > 0 and lam[index] > 0:
            row["quenched_relative_difference"] = float(quenched[0][index] / lam[index] - 1)
        rows.append(drop_absent_columns(row, effective is not None, quenched[0] is not None))

    fits = _fits(n, lam, lam_se, config.fit_n_min)
    crossovers = effective_crossovers(
        eigenvalues, rank_cap, geometric, eigenvalue_floor,
        precise=lambda needed: precise_kernel_eigenvalues(model, needed))
    comparison = _effective_comparison(rows)
    if effective is None:  # nothing was compared: not "all within"
        comparison["all_within"] = None
    return {
        "config": dataclasses.asdict(config),
        "model": {"card": config.card, "num_params": int(model.num_params),
                  "card_metadata": _jsonable_card(card_model.card),
                  "trustworthy_n": finite_or_none(model.trustworthy_n),
                  "quadrature_nodes": _quadrature_nodes(model),
                  "factored": bool(getattr(model, "factored", False))},
        "rank_cap": rank_cap,
        "kernel_eigenvalues": None if eigenvalues is None else [float(v) for v in eigenvalues],
        "kernel_eigenvalue_floor": eigenvalue_floor,
        "geometric": [dataclasses.asdict(v) for v in geometric],
        "rungs": rows,
        "fits": fits,
        "crossovers": crossovers,
        "effective_comparison": comparison,
        "theory_absent": absent_theory(model, eigenvalues, quenched[0], geometric),
        "swap_acceptance": [finite_or_none(v) for v in result.swap_acceptance],
        "round_trips": [int(v) for v in result.round_trips],
        "communication_barrier": finite_or_none(result.communication_barrier),
        "round_trip_rate": finite_or_none(result.round_trip_rate),
        "swap_rejection": [finite_or_none(v) for v in result.swap_rejection],
        "diagnostics": list(result.diagnostics),
        "provenance": result.provenance,
    }


def finite_or_none(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _jsonable_card(card: ModelCard) -> dict:
    return json.loads(json.dumps(dataclasses.asdict(card), default=str))


def _fits(n, lam, lam_se, fit_n_min) -> dict:
    from ..theory import fit_log_power, fit_multiplicity

    usable = (n >= max(fit_n_min, math.e)) & (lam > 0) & np.isfinite(lam_se) & (lam_se > 0)
    fits: dict[str, Any] = {"num_rungs": int(usable.sum()),
                            "n_range": [float(n[usable].min()), float(n[usable].max())]
                            if usable.any() else None}
    if usable.sum() >= 3:
        power = fit_log_power(n[usable], lam[usable], lam_se[usable])
        fits["log_power"] = {key: float(value) for key, value in power._asdict().items()}
        multiplicity = fit_multiplicity(n[usable], lam[usable], lam_se[usable])
        fits["multiplicity"] = {key: float(value)
                                for key, value in multiplicity._asdict().items()}
        fits["local_exponent"] = _local_exponents(n[usable], lam[usable], lam_se[usable])
    return fits


def _local_exponents(n, lam, lam_se) -> list[dict]:
    r"""$p(n) = d\log\hat\lambda / d\log\log n$ between neighbouring rungs (at their
    geometric mean), with its error from the two MCSEs: the exponent a pure
    $\alpha(\log n)^p$ law would give everywhere, read locally."""
    log_log, log_lam = np.log(np.log(n)), np.log(lam)
    relative = lam_se / lam
    out = []
    for i in range(len(n) - 1):
        step = log_log[i + 1] - log_log[i]
        out.append({"n": float(math.sqrt(n[i] * n[i + 1])),
                    "exponent": float((log_lam[i + 1] - log_lam[i]) / step),
                    "standard_error": float(math.hypot(relative[i], relative[i + 1]) / step)})
    return out



def _effective_comparison(rows) -> dict:
    """Where the effective prediction tracks the measurement within 10% (and within 3 MCSE)."""
    within, outside = [], []
    for row in rows:
        if "effective_relative_difference" not in row:
            continue
        relative = row["effective_relative_difference"]
        tolerance = max(0.10, 3 * (row["learning_coefficient_mcse"] or 0.0)
                        / max(row["learning_coefficient"], 1e-300))
        (within if abs(relative) <= tolerance else outside).append(
            {"n": row["n"], "relative_difference": relative})
    return {"tolerance": "max(10%, 3 MCSE)", "within": within, "outside": outside,
            "all_within": not outside}



def _quadrature_nodes(model) -> int | None:
    quadrature = getattr(model, "quadrature", None)
    return None if quadrature is None else int(quadrature.num_nodes)

