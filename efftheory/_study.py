r"""A study: one model card across many decades of n, measured and predicted.

`run_study` is the package's main job (``efftheory run <card>``). For one model it

1. computes the prior mode spectrum: the eigenvalues $\mu_j$ of the network's
   Gaussian-process kernel in the mode basis, $\Sigma_{kl} = H s_a^2 E_w[c_k(w) c_l(w)]$
   (see Concepts);
2. samples the tempered posteriors $p_n \propto e^{-n(L - L_0)}\varphi$ over a ladder of $n$
   with replica-exchange NUTS (`efftheory.sample`), checkpointing every chunk;
3. estimates $\hat\lambda(n)$ with its Monte Carlo standard error and $F(n)$ by
   thermodynamic integration;
4. sets beside them the effective prediction (the free theory with the width's rank cap,
   $\lambda_{eff}(n) = \tfrac12\sum_{j\le H} n\mu_j/(1 + n\mu_j)$, and its staircase),
   the *quenched* prior average $\lambda_q(n) = E_{w\sim\varphi}[\tfrac12\sum_j
   x_j/(1 + x_j)]$, $x_j = n s_a^2\,\mathrm{eig}_j G(w)$ (the exact collapsed integrand of
   `CollapsedNetworkModel` averaged over the prior instead of the posterior of $w$; by concavity
   $\lambda_q \le \lambda_{eff}$, Jensen), and the geometric values (global RLCT and the
   generic-stratum value); it fits
   $\hat\lambda \approx \alpha(\log n)^p$ and $\hat\lambda \approx \lambda - (m-1)/\log n$,
   and finds the crossover $n^*$ at which the effective prediction reaches each
   geometric value (the predictions need a two-layer network and a card's known
   values: for any other model, your own included, the summary's ``theory_absent`` and
   the report say which are missing and why; `efftheory._study_theory`);
5. writes everything to the output folder: ``sampling/inference_data.nc``,
   ``summary.json``, ``summary.csv``, ``spectrum.png``, ``learning_coefficient.png``,
   ``free_energy.png`` and ``report.md``.

A study is a pure function of its configuration and seed: rerunning it in the same folder
with the same configuration resumes the sampling checkpoint instead of starting over; with
any other configuration it refuses, naming the differences (``restart=True`` discards the
old run). ``status.json`` says whether the study finished (`efftheory._results_folder`).
"""

import csv
import dataclasses
import io
import json
import math
import os
from pathlib import Path
from typing import Any

import mpmath
import numpy as np

from ._io import atomic_save_figure, atomic_write_json, atomic_write_text
from ._study_cutoff import add_cutoff_columns, cutoff_form, cutoff_section, sample_cutoffs
from ._study_guards import checkpoint_errors, validate_study_settings
from ._study_theory import (
    absent_section,
    absent_theory,
    drop_absent_columns,
    measurement_section,
)

SUMMARY_JSON = "summary.json"
SUMMARY_CSV = "summary.csv"
REPORT = "report.md"


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Everything a study depends on. JSON-serializable; the seed makes it reproducible.

    Attributes:
        card: model card name or path.
        overrides: card parameter overrides (e.g. ``{"width": 8}``).
        n_min, n_max, num_rungs: the ladder is ``[0]`` plus `num_rungs` geometric rungs
            from `n_min` to `n_max` (the prior rung makes $F$ absolute).
        chains, warmup, draws, seed, chunk_size, target_accept_prob, max_tree_depth:
            sampler settings (`efftheory.sample`).
        kmax: highest mode in the spectrum and kernel (default: from the width).
        fit_n_min: smallest $n$ entering the $(\\log n)^p$ fit.
        store_positions: keep every position in the InferenceData (memory: rungs x
            chains x draws x params x 8 bytes).
        cutoff_modes: numbers of kept modes $K$ whose truncated models are sampled over
            the same ladder (two-layer cards in form raw or collapsed): each rung gains
            $\\hat\\lambda_K(n)$ and $K^*(n)$ (`efftheory._study_cutoff`).
    """

    card: str
    overrides: dict = dataclasses.field(default_factory=dict)
    n_min: float = 1.0
    n_max: float = 1e5
    num_rungs: int = 16
    chains: int = 4
    warmup: int = 500
    draws: int = 1000
    seed: int = 0
    chunk_size: int = 100
    target_accept_prob: float = 0.9
    max_tree_depth: int = 10
    kmax: int | None = None
    fit_n_min: float = 10.0
    store_positions: bool = True
    cutoff_modes: list[int] = dataclasses.field(default_factory=list)

    def __post_init__(self):
        if not (isinstance(self.n_min, int | float) and self.n_min > 0):
            raise ValueError(f"n_min must be positive (the prior rung n = 0 is added for you), "
                             f"got {self.n_min!r}.")
        if not (isinstance(self.n_max, int | float) and self.n_max > self.n_min):
            raise ValueError(f"n_max must exceed n_min={self.n_min}, got {self.n_max!r}.")
        if not (isinstance(self.num_rungs, int) and self.num_rungs >= 2):
            raise ValueError(f"num_rungs must be an integer >= 2, got {self.num_rungs!r}.")
        validate_study_settings(self)

    @property
    def n_ladder(self) -> np.ndarray:
        ladder = np.geomspace(self.n_min, self.n_max, self.num_rungs)
        return np.concatenate([[0.0], ladder])

    def replace(self, **changes) -> "StudyConfig":
        unknown = set(changes) - {f.name for f in dataclasses.fields(self)}
        if unknown:
            raise ValueError(f"unknown study settings {sorted(unknown)}; known: "
                             f"{sorted(f.name for f in dataclasses.fields(self))}.")
        return dataclasses.replace(self, **changes)


#: Named configurations. ``learning-zero-small`` is the CPU main job (about ten minutes on
#: two cores). ``learning-zero-256`` is the source post's 256-parameter model (width 128)
#: from n = 1 to 1e8 on a CPU: the readout integrated out (``form="collapsed"``, NUTS over
#: the 128 inner weights, lambda-hat Rao-Blackwellized), 24 rungs plus n = 0, 4 chains, and
#: trajectories capped at 15 leapfrog steps (tree depth 4): at n = 1e8 that costs about 30
#: gradients per effective sample against 106 with depth 10 and acceptance 0.9
#: (docs/benchmarks.md, `experiments/flagship_geometry.py`), and under vmap every lane pays
#: the longest trajectory. ``learning-zero-256-gpu`` is the same model with larger budgets;
#: ``learning-zero-circle`` the circle variant.
PRESETS: dict[str, StudyConfig] = {
    "learning-zero-small": StudyConfig(card="learning-zero-small", n_min=1.0, n_max=1e6,
                                       num_rungs=15, chains=4, warmup=400, draws=600,
                                       max_tree_depth=8, target_accept_prob=0.9),
    "learning-zero-256": StudyConfig(card="learning-zero-256", overrides={"form": "collapsed"},
                                     n_min=1.0, n_max=1e8, num_rungs=24, chains=4,
                                     warmup=300, draws=400, max_tree_depth=4,
                                     target_accept_prob=0.8),
    "learning-zero-256-gpu": StudyConfig(card="learning-zero-256",
                                         overrides={"form": "collapsed"}, n_min=1.0,
                                         n_max=1e8, num_rungs=33, chains=8, warmup=1000,
                                         draws=2000, max_tree_depth=6,
                                         target_accept_prob=0.8, store_positions=False),
    "learning-zero-circle": StudyConfig(card="learning-zero-circle", n_min=1.0, n_max=1e6,
                                        num_rungs=19, chains=4, warmup=500, draws=1000),
}


def study_config(card_or_preset: str, **settings) -> StudyConfig:
    """The preset of that name (or a default config for a card), with `settings` applied."""
    base = PRESETS.get(card_or_preset, StudyConfig(card=card_or_preset))
    return base.replace(**settings) if settings else base


@dataclasses.dataclass(frozen=True)
class GeometricValue:
    """A geometric learning coefficient shown beside the measurement."""

    label: str
    learning_coefficient: float
    multiplicity: int
    source: str


def _geometric_values(model) -> list[GeometricValue]:
    """The geometric learning coefficients recorded on the model's card."""
    card = getattr(model, "card", None)
    known = getattr(card, "known_values", ()) if card is not None else ()
    return [GeometricValue(value.label, float(value.learning_coefficient),
                           int(value.multiplicity), value.reference)
            for value in known]


def _two_layer_network(model):
    """The model's two-layer network, or None (deep linear and toy models have none)."""
    from ._networks import TwoLayerNetwork

    network = getattr(model, "network", None)
    return network if isinstance(network, TwoLayerNetwork) else None


def _kernel_eigenvalues(model, kmax: int | None):
    """Eigenvalues of the prior mode covariance (descending), the rank cap H, and the
    float64 floor below which eigenvalues were dropped (None if none were)."""
    from ._mode_models import DEFAULT_EIGENVALUE_FLOOR, prior_mode_statistics

    network = _two_layer_network(model)
    if network is None:  # the mode spectrum is a two-layer network's: no theory columns
        return None, None, None
    if kmax is None:
        kmax = max(4 * network.width + 1, 41)
    statistics = prior_mode_statistics(network, kmax)
    eigenvalues = np.sort(np.asarray(statistics.eigenvalues, dtype=np.float64))[::-1]
    floor = (DEFAULT_EIGENVALUE_FLOOR * eigenvalues[0]) if statistics.num_dropped else None
    return eigenvalues, network.width, floor


def _spectrum_for_ladder(model, eigenvalues, floor, rank_cap, n_max: float):
    """The float64 spectrum, or the arbitrary-precision one (`_precise_eigenvalues`) where
    the ladder's top rung resolves eigenvalues below the float64 floor (n_max * floor >
    1e-3): there the float64 spectrum would stop λ_eff from growing. Returns the spectrum,
    its floor (None once the rank cap's worth of eigenvalues is known) and its source
    ("float64" or "arbitrary precision")."""
    if eigenvalues is None or floor is None or n_max * floor <= 1e-3:
        return eigenvalues, floor, "float64"
    needed = rank_cap if rank_cap is not None else 2 * len(eigenvalues)
    precise = _precise_eigenvalues(model, needed)
    if precise is None or len(precise) <= len(eigenvalues):
        return eigenvalues, floor, "float64"
    values = np.sort(np.asarray([float(value) for value in precise]))[::-1]
    floor = None if rank_cap is not None and len(values) >= rank_cap else values[-1]
    return values, floor, "arbitrary precision"


QUENCHED_DRAWS = 2000


def _quenched_prior_average(model, n: np.ndarray, *, seed: int):
    r"""$\lambda_q(n) = E_{w\sim\varphi}[\tfrac12\sum_j x_j/(1 + x_j)]$ and its MC error.

    The gap $\lambda_{eff} - \lambda_q \ge 0$ is the finite-width fluctuation of the kernel
    (Jensen); the gap $\lambda_q - \hat\lambda$ is the posterior moving the inner weights.
    """
    import jax

    from ._energies import gram_factor, gram_matrix

    network, rule = getattr(model, "network", None), getattr(model, "rule", None)
    if network is None or rule is None or not hasattr(network, "readout_variance"):
        return None, None
    keys = jax.random.split(jax.random.PRNGKey(seed), QUENCHED_DRAWS)
    positions = jax.vmap(network.sample_prior)(keys)
    # On the host: a batched LAPACK call under XLA can deadlock a small CPU thread pool
    # (see efftheory._linalg). Where G = Phi'Phi, its eigenvalues are the squared singular
    # values of Phi: forming G would bury those below eps * mu_1 in rounding, which large
    # n resolves.
    if rule.mehler:
        grams = jax.vmap(lambda position: gram_matrix(network, rule, position))(positions)
        eigenvalues = np.clip(np.linalg.eigvalsh(np.asarray(grams)), 0.0, None)
    else:
        factors = jax.vmap(lambda position: gram_factor(network, rule, position))(positions)
        eigenvalues = np.linalg.svd(np.asarray(factors), compute_uv=False)**2
    scaled = network.readout_variance * eigenvalues  # (draws, width)
    values = 0.5 * np.sum(n[:, None, None] * scaled / (1.0 + n[:, None, None] * scaled), -1)
    return values.mean(axis=1), values.std(axis=1, ddof=1) / math.sqrt(QUENCHED_DRAWS)


def _posterior_inner_weight_size(model, result):
    """Posterior mean of |w| over inner weights, per rung (None without stored positions)."""
    network = _two_layer_network(model)
    posterior = result.inference_data.posterior
    if network is None or "position" not in posterior:
        return None
    from ._models import CollapsedReadoutModel

    positions = np.asarray(posterior["position"].values)  # (chain, draw, rung, param)
    flat = positions.reshape(-1, positions.shape[-2], positions.shape[-1])
    width, dim = network.width, network.input_dim
    # Raw positions are [a, w.ravel(), b]; collapsed ones drop the readout a.
    start = 0 if isinstance(model, CollapsedReadoutModel) else width
    weights = flat[..., start: start + width * dim].reshape(*flat.shape[:2], width, dim)
    return np.linalg.norm(weights, axis=-1).mean(axis=(0, 2))


def run_study(config: StudyConfig | dict | str, out: str | os.PathLike, *,
              progress: bool | None = None, restart: bool = False, **settings) -> dict:
    """Run (or resume) a study and write its artifacts to `out`; returns the summary dict.

    `config` is a `StudyConfig`, its dict form, or a card/preset name; `settings` override
    fields. Sampling checkpoints to ``out/checkpoint`` after every chunk, so an interrupted
    study resumes where it stopped when run again with the same arguments. A folder holding
    a run with other settings is refused (the error names them) unless `restart=True`,
    which discards that run; a file, an unwritable path or a non-empty folder that is not
    an efftheory results folder is refused before any work.
    """
    from . import _results_folder, sampling
    from ._study_guards import load_study_model

    if isinstance(config, str):
        config = study_config(config, **settings)
    elif isinstance(config, dict):
        # Flat sweep grids name card parameters (width, activation, ...) beside study
        # settings; whatever is not a study setting is a card override.
        merged = {**config, **settings}
        known = {f.name for f in dataclasses.fields(StudyConfig)}
        overrides = {**merged.pop("overrides", {}),
                     **{key: merged.pop(key) for key in list(merged) if key not in known}}
        config = StudyConfig(**merged, overrides=overrides)
    elif settings:
        config = config.replace(**settings)
    out = _results_folder.check_output_folder(out)
    model = load_study_model(config)
    if config.cutoff_modes:
        cutoff_form(config, model)  # refuse a model without a mode basis before any work
    eigenvalues, rank_cap, floor = _kernel_eigenvalues(model, config.kmax)
    eigenvalues, floor, spectrum_source = _spectrum_for_ladder(model, eigenvalues, floor,
                                                               rank_cap, config.n_max)
    geometric = _geometric_values(model)

    checkpoint = out / "checkpoint"
    sampler_settings = dict(chains=config.chains, draws=config.draws, warmup=config.warmup,
                            seed=config.seed, chunk_size=config.chunk_size,
                            target_accept_prob=config.target_accept_prob,
                            max_tree_depth=config.max_tree_depth,
                            store_positions=config.store_positions, progress=progress)
    if restart:
        _results_folder.discard_study(out)
    # A folder without a status (new, restarted, or from an older efftheory) is not known to
    # hold a finished study; a finished one keeps its mark unless the rerun is accepted.
    _results_folder.mark_running(out, config)
    try:
        with checkpoint_errors(checkpoint):
            result = sampling.sample(model, config.n_ladder, checkpoint_dir=checkpoint,
                                     if_exists="restart" if restart else "resume",
                                     **sampler_settings)
    except sampling.RunFolderMismatchError as error:
        raise _results_folder.rerun_refusal(out, error.differences) from None
    result.save(out / "sampling")
    cutoffs = sample_cutoffs(config, model, out, sampler_settings, restart=restart)

    quenched = _quenched_prior_average(model, np.asarray(result.n_ladder), seed=config.seed)
    summary = summarize(config, model, result, eigenvalues, rank_cap, geometric, quenched,
                        eigenvalue_floor=floor)
    summary["kernel_eigenvalues_source"] = spectrum_source
    sizes = _posterior_inner_weight_size(model, result)
    if sizes is not None:
        for row, size in zip(summary["rungs"], sizes, strict=True):
            row["posterior_mean_abs_w"] = float(size)
    add_cutoff_columns(summary, cutoffs, eigenvalues)
    write_artifacts(out, summary, eigenvalues)
    _results_folder.mark_complete(out, config)
    return summary


# ------------------------------------------------------------------------------ analysis


def summarize(config, model, result, eigenvalues, rank_cap, geometric,
              quenched=(None, None), eigenvalue_floor=None) -> dict:
    """Per-rung table, fits and crossovers as one JSON-ready dict."""
    from .theory import (
        free_learning_coefficient,
        staircase_learning_coefficient,
    )

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
            "learning_coefficient": _finite(lam[index]),
            "learning_coefficient_mcse": _finite(lam_se[index]),
            "free_energy": _finite(result.free_energy[index]),
            "free_energy_err": _finite(result.free_energy_err[index]),
            "free_energy_stepping_stone": _finite(result.free_energy_stepping_stone[index]),
            "effective_learning_coefficient": None if effective is None else
            float(effective[index]),
            "effective_staircase": None if staircase is None else float(staircase[index]),
            "quenched_prior_average": None if quenched[0] is None else
            float(quenched[0][index]),
            "quenched_prior_average_se": None if quenched[1] is None else
            float(quenched[1][index]),
            "rhat": _finite(result.rhat[index]),
            "ess_bulk": _finite(result.ess_bulk[index]),
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
    crossovers = _crossovers(eigenvalues, rank_cap, geometric, eigenvalue_floor,
                             precise=lambda needed: _precise_eigenvalues(model, needed))
    comparison = _effective_comparison(rows)
    if effective is None:  # nothing was compared: not "all within"
        comparison["all_within"] = None
    card = getattr(model, "card", None)
    return {
        "config": dataclasses.asdict(config),
        "model": {"card": config.card, "num_params": int(model.num_params),
                  "card_metadata": _jsonable_card(card),
                  "trustworthy_n": _finite(model.trustworthy_n),
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
        "swap_acceptance": [_finite(v) for v in result.swap_acceptance],
        "round_trips": [int(v) for v in result.round_trips],
        "communication_barrier": _finite(result.communication_barrier),
        "round_trip_rate": _finite(result.round_trip_rate),
        "swap_rejection": [_finite(v) for v in result.swap_rejection],
        "diagnostics": list(result.diagnostics),
        "provenance": result.provenance,
    }


def _finite(value):
    value = float(value)
    return value if math.isfinite(value) else None


def _jsonable_card(card):
    if card is None:
        return None
    if isinstance(card, dict):
        return json.loads(json.dumps(card, default=str))
    if dataclasses.is_dataclass(card):
        return json.loads(json.dumps(dataclasses.asdict(card), default=str))
    return str(card)


def _fits(n, lam, lam_se, fit_n_min) -> dict:
    from .theory import fit_log_power, fit_multiplicity

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


def _precise_eigenvalues(model, needed: int):
    """The model's kernel eigenvalues in arbitrary precision (`efftheory.theory.
    kernel_eigenvalues`), or None where that computation does not apply."""
    from ._measures import GaussianMeasure
    from .theory import kernel_eigenvalues

    network = _two_layer_network(model)
    if (network is None or not isinstance(network.measure, GaussianMeasure)
            or network.input_dim != 1 or network.bias
            or network.activation.name not in ("tanh", "erf")):
        return None
    # 70 digits resolve about 90 eigenvalues, 90 digits about 130 (tanh, s_w = 1): raise the
    # precision only while too few are resolved (each step costs about 3x the last).
    for precision in _PRECISIONS:
        spectrum = kernel_eigenvalues(network.width, activation=network.activation.name,
                                      readout_variance=float(network.readout_variance),
                                      weight_scale=float(network.weight_scale),
                                      precision=precision)
        if spectrum.num_resolved >= needed:
            break
    return spectrum.resolved()


_PRECISIONS = (70, 90, 120)


def _crossovers(eigenvalues, rank_cap, geometric, eigenvalue_floor=None,
                precise=None) -> list[dict]:
    """n* at which the effective prediction reaches each geometric value.

    Eigenvalues below the float64 floor (`eigenvalue_floor`) are not known in float64. A
    value that needs them is computed from `precise(count)` (arbitrary-precision eigenvalues,
    `efftheory.theory.kernel_eigenvalues`) when it returns enough of them; otherwise it is
    reached, if at all, only beyond n = 1/floor and is reported as a lower bound.
    """
    from .theory import crossover_n

    if eigenvalues is None:
        return []
    out, precise_values = [], None
    most_needed = min(max((math.ceil(2 * value.learning_coefficient) for value in geometric),
                          default=0), rank_cap or 0)
    for value in geometric:
        entry = {"label": value.label, "learning_coefficient": value.learning_coefficient}
        needed = math.ceil(2 * value.learning_coefficient)
        spectrum = eigenvalues
        unresolved = (eigenvalue_floor is not None and rank_cap is not None
                      and needed > len(eigenvalues) and len(eigenvalues) < rank_cap)
        if unresolved and precise is not None:
            if precise_values is None:
                precise_values = precise(most_needed) or []
            if len(precise_values) >= min(needed, rank_cap):
                spectrum, unresolved = precise_values, False
                entry["eigenvalues"] = (f"arbitrary precision ({len(precise_values)} "
                                        "resolved; efftheory.theory.kernel_eigenvalues)")
        if unresolved:
            bound = 1.0 / eigenvalue_floor
            entry["n_star_lower_bound"] = bound
            entry["log10_n_star_lower_bound"] = math.log10(bound)
            entry["why_lower_bound"] = (
                f"λ = {value.learning_coefficient:g} needs {needed} resolved modes, but only "
                f"{len(eigenvalues)} kernel eigenvalues lie above the "
                f"float64 floor {eigenvalue_floor:.3g} (1e-13 of the largest): each further mode "
                f"counts only for n > {bound:.3g}")
            out.append(entry)
            continue
        for form in ("smooth", "staircase"):
            try:
                crossing = crossover_n(spectrum, value.learning_coefficient,
                                       rank_cap=rank_cap, form=form)
                entry[f"n_star_{form}"] = float(crossing) if crossing < mpmath.mpf(
                    "1e300") else mpmath.nstr(crossing, 6)
                entry[f"log10_n_star_{form}"] = float(mpmath.log10(crossing))
            except ValueError as error:
                entry[f"n_star_{form}"] = None
                entry[f"why_no_n_star_{form}"] = str(error)
        out.append(entry)
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


# ----------------------------------------------------------------------------- artifacts


def write_artifacts(out: Path, summary: dict, eigenvalues) -> None:
    """summary.json, summary.csv, the three figures and report.md (atomic writes)."""
    from ._plots import plot_free_energy, plot_learning_coefficient, plot_study_spectrum

    atomic_write_json(out / SUMMARY_JSON, summary)
    columns = list(summary["rungs"][0].keys())
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    for row in summary["rungs"]:
        writer.writerow({key: "" if row.get(key) is None else row.get(key) for key in columns})
    atomic_write_text(out / SUMMARY_CSV, buffer.getvalue())
    for name, plot in (("spectrum.png", plot_study_spectrum),
                       ("learning_coefficient.png", plot_learning_coefficient),
                       ("free_energy.png", plot_free_energy)):
        figure = plot(summary)
        atomic_save_figure(figure, out / name, dpi=130)
    atomic_write_text(out / REPORT, render_report(summary))


def _quadrature_nodes(model) -> int | None:
    quadrature = getattr(model, "quadrature", None)
    return None if quadrature is None else int(quadrature.num_nodes)


def render_report(summary: dict) -> str:
    """report.md: a warning first if any diagnostic failed, the run, its diagnostics, then
    the fitted exponent, the crossovers and the comparison with the effective theory."""
    config = summary["config"]
    lines = [f"# Study: {config['card']}", ""]
    if summary["diagnostics"]:
        lines += [f"> **Warning: {len(summary['diagnostics'])} diagnostic check(s) failed** "
                  "(see Diagnostics below): the numbers of the rungs they name are not to be "
                  "trusted yet, and neither is any interpretation built on them.", ""]
    metadata = summary["model"].get("card_metadata")
    builder = str(metadata.get("builder", "")) if isinstance(metadata, dict) else ""
    lines.append(f"Model: `{config['card']}` with {summary['model']['num_params']} parameters"
                 + (f", built by `{builder}`" if ":" in builder else "")
                 + (f", overrides {config['overrides']}" if config["overrides"] else "") + ".")
    lines.append(f"Ladder: n = 0 and {config['num_rungs']} geometric rungs from "
                 f"{config['n_min']:g} to {config['n_max']:g}; {config['chains']} chains, "
                 f"{config['warmup']} warmup and {config['draws']} draws per rung; "
                 f"seed {config['seed']}.")
    trustworthy = summary["model"].get("trustworthy_n")
    if trustworthy is not None:
        nodes = summary["model"].get("quadrature_nodes")
        lines.append(f"Trustworthy up to n = {trustworthy:.3g}"
                     + (f" ({nodes} quadrature nodes)" if nodes else "")
                     + ": beyond it quadrature and float64 rounding of the kernel change the "
                     "tempered energy by more than 1e-3 where the posterior lives"
                     + ("; the collapsed energy comes from QR of the kernel's node factor, "
                        "which never forms the kernel (its rounding grows like √n, not n)."
                        if summary["model"].get("factored") else "."))
    lines += _diagnostics_section(summary)
    lines += ["", "## Fitted laws", ""]
    fits = summary["fits"]
    if "log_power" in fits:
        power = fits["log_power"]
        lines.append(f"- λ̂(n) ≈ α (log n)^p over {fits['num_rungs']} rungs with n in "
                     f"[{fits['n_range'][0]:.3g}, {fits['n_range'][1]:.3g}]: "
                     f"**p = {power['exponent']:.3f} ± {power['exponent_standard_error']:.2g}**, "
                     f"α = {power['amplitude']:.4g} ± {power['amplitude_standard_error']:.2g} "
                     f"(reduced χ² = {power['reduced_chi_squared']:.2f}).")
        local = fits.get("local_exponent") or []
        if power["reduced_chi_squared"] > 3 and len(local) >= 2:
            first, last = local[0], local[-1]
            lines.append(
                f"  The law does not describe these rungs within their errors (reduced χ² ≫ 1):"
                f" the local exponent d log λ̂ / d log log n runs from {first['exponent']:.2f} "
                f"± {first['standard_error']:.2g} near n = {first['n']:.3g} to "
                f"{last['exponent']:.2f} ± {last['standard_error']:.2g} near n = "
                f"{last['n']:.3g} (`fits.local_exponent` in summary.json).")
        multiplicity = fits["multiplicity"]
        lines.append(f"- λ̂(n) ≈ λ − (m − 1)/log n: λ = {multiplicity['learning_coefficient']:.3f}"
                     f" ± {multiplicity['learning_coefficient_standard_error']:.3f}, m = "
                     f"{multiplicity['multiplicity']:.2f} ± "
                     f"{multiplicity['multiplicity_standard_error']:.2f} (reduced χ² = "
                     f"{multiplicity['reduced_chi_squared']:.2f}).")
    else:
        lines.append("- Too few rungs with n ≥ fit_n_min and positive λ̂ to fit a law.")
    if summary["kernel_eigenvalues"] is None and not any(
            "quenched_prior_average" in row for row in summary["rungs"]):
        # No prediction to set beside the measurement: show the measurement itself.
        lines += measurement_section(summary)
        lines += _geometric_lines(summary)
        lines += absent_section(summary)
        lines += ["", "Figures: `spectrum.png`, `learning_coefficient.png`, `free_energy.png`. "
                  "Numbers: `summary.json`, `summary.csv`. Draws: `sampling/inference_data.nc`."]
        return "\n".join(lines) + "\n"
    lines += ["", "## Geometric values and crossovers", ""]
    if summary.get("kernel_eigenvalues_source") == "arbitrary precision":
        lines += ["Kernel eigenvalues, effective prediction and crossovers from arbitrary "
                  "precision (efftheory.theory.kernel_eigenvalues): the top rung resolves "
                  "eigenvalues below the float64 floor.", ""]
    for value in summary["geometric"]:
        lines.append(f"- {value['label']}: λ = {value['learning_coefficient']:.4g}, "
                     f"m = {value['multiplicity']} ({value['source']}).")
    for crossing in summary["crossovers"]:
        if "n_star_lower_bound" in crossing:
            lines.append(f"- The effective prediction reaches λ = "
                         f"{crossing['learning_coefficient']:.4g} ({crossing['label']}) only "
                         f"beyond n* > 10^{crossing['log10_n_star_lower_bound']:.1f}: "
                         f"{crossing['why_lower_bound']}.")
            continue
        for form in ("smooth", "staircase"):
            if crossing.get(f"n_star_{form}") is not None:
                lines.append(f"- The effective prediction ({form}) reaches λ = "
                             f"{crossing['learning_coefficient']:.4g} ({crossing['label']}) at "
                             f"n* ≈ 10^{crossing[f'log10_n_star_{form}']:.2f}"
                             + (f" (eigenvalues in {crossing['eigenvalues']})."
                                if "eigenvalues" in crossing else "."))
            else:
                lines.append(f"- The effective prediction ({form}) never reaches λ = "
                             f"{crossing['learning_coefficient']:.4g} ({crossing['label']}): "
                             f"{crossing.get(f'why_no_n_star_{form}')}")
    lines += ["", "## Effective prediction against the measurement", ""]
    comparison = summary["effective_comparison"]
    lines.append("| n | λ̂ ± MCSE | λ_eff (free theory, rank cap) | λ_eff vs λ̂ | "
                 "λ_q (quenched prior average) | λ_q vs λ̂ |")
    lines.append("|---|---|---|---|---|---|")
    for row in summary["rungs"]:
        if row["n"] == 0 or row["learning_coefficient"] is None:
            continue
        relative = row.get("effective_relative_difference")
        effective = row.get("effective_learning_coefficient")
        quenched = row.get("quenched_prior_average")
        quenched_relative = row.get("quenched_relative_difference")
        lines.append(f"| {row['n']:.3g} | {row['learning_coefficient']:.4g} ± "
                     f"{row['learning_coefficient_mcse']:.2g} | "
                     f"{'' if effective is None else f'{effective:.4g}'} | "
                     f"{'' if relative is None else f'{relative:+.1%}'} | "
                     f"{'' if quenched is None else f'{quenched:.4g}'} | "
                     f"{'' if quenched_relative is None else f'{quenched_relative:+.1%}'} |")
    lines.append("")
    if comparison["all_within"]:
        lines.append("The effective prediction tracks λ̂(n) within max(10%, 3 MCSE) at every "
                     "rung.")
    else:
        ns = ", ".join(f"{entry['n']:.3g} ({entry['relative_difference']:+.0%})"
                       for entry in comparison["outside"])
        lines.append(f"The effective prediction misses λ̂(n) by more than max(10%, 3 MCSE) at "
                     f"n = {ns}.")
        lines.append("")
        lines.append("Why, in two parts. (1) λ = ½ Σ x/(1 + x) is concave in the kernel, so "
                     "the free theory, which averages the kernel over the prior before "
                     "counting modes, bounds the quenched prior average λ_q from above "
                     "(Jensen): the gap λ_eff − λ_q is the finite-width fluctuation of the "
                     "kernel. (2) The exact λ(n) averages the same integrand over the "
                     "*posterior* of the inner weights, which at larger n moves towards "
                     "weights whose kernel resolves fewer modes (smaller |w|, faster-decaying "
                     "spectra): the gap λ_q − λ̂ is that posterior shift.")
        sizes = [(row["n"], row["posterior_mean_abs_w"]) for row in summary["rungs"]
                 if row.get("posterior_mean_abs_w") is not None]
        if sizes:
            lines.append("")
            lines.append("Measured posterior mean |w| of the inner weights: "
                         + ", ".join(f"{size:.3f} at n = {n:.3g}" for n, size in sizes) + ".")
    lines += cutoff_section(summary)
    lines += absent_section(summary)
    lines += ["", "Figures: `spectrum.png`, `learning_coefficient.png`, `free_energy.png`. "
              "Numbers: `summary.json`, `summary.csv`. Draws: `sampling/inference_data.nc`."]
    return "\n".join(lines) + "\n"


def _geometric_lines(summary: dict) -> list[str]:
    """The card's geometric values, for a report without an effective prediction."""
    if not summary["geometric"]:
        return []
    return ["", "## Geometric values", ""] + [
        f"- {value['label']}: λ = {value['learning_coefficient']:.4g}, "
        f"m = {value['multiplicity']} ({value['source']})." for value in summary["geometric"]]


def _diagnostics_section(summary: dict) -> list[str]:
    """The convergence and replica-exchange checks, before anything is interpreted."""
    lines = ["", "## Diagnostics", ""]
    if summary["diagnostics"]:
        lines += [f"- {message}" for message in summary["diagnostics"]]
    else:
        lines.append("All diagnostics passed (R-hat ≤ 1.01, bulk ESS ≥ 400, no divergences, "
                     "every swap pair accepting ≥ 10%).")
    lines += ["", "Swap acceptance per neighbour pair: "
              + ", ".join("n/a" if v is None else f"{v:.2f}"
                          for v in summary["swap_acceptance"]) + ".",
              f"Replica round trips per chain: {summary['round_trips']}."]
    barrier = summary.get("communication_barrier")
    if barrier is not None:
        rate = summary.get("round_trip_rate")
        lines += [
            f"Communication barrier Λ = Σ r_i = {barrier:.2f} (Syed et al. 2022): an "
            f"equalized ladder needs about 2Λ ≈ {max(2, round(2 * barrier))} rungs; this one "
            f"has {len(summary['rungs'])}. Round trips per chain per 1000 post-warmup steps: "
            + ("n/a." if rate is None else f"{1000 * rate:.2f}.")]
    return lines
