"""ArviZ InferenceData with a `rung` dimension, convergence summaries, loud warnings.

Thresholds follow Vehtari et al. 2021 (*Rank-normalization, folding, and localization: an
improved R-hat*, Bayesian Analysis 16): R-hat below 1.01 and bulk ESS of at least 400
(100 per chain for 4 chains) before trusting a mean.
"""

import os
import sys
import warnings

import numpy as np
import xarray as xr

from ._arviz import az

RHAT_MAX = 1.01
ESS_MIN = 400
SWAP_ACCEPT_MIN = 0.10


class SamplingWarning(UserWarning):
    """A run finished but a diagnostic says its numbers should not be trusted yet."""


# Posterior variable of the per-rung draws of $\partial_n T_n$ ($= L - L_0$ for models linear
# in n), named after `PartitionFunction.energy_derivative`. It is not called `energy`: ArviZ
# reserves `energy` for the sampler's Hamiltonian in `sample_stats` (`az.bfmi`,
# `az.plot_energy`), which is recorded there under that name.
ENERGY_DERIVATIVE = "energy_derivative"
# Our StepRecord field -> ArviZ's sample_stats name (the names `az.from_numpyro` uses).
ARVIZ_STAT_NAMES = {"diverging": "diverging", "num_steps": "n_steps",
                    "step_size": "step_size", "accept_prob": "acceptance_rate",
                    "hamiltonian": "energy", "replica": "replica"}


class RungLabeller(az.labels.BaseLabeller):
    """ArviZ labeller that writes a rung as ``n=15.85`` instead of its full coordinate
    ``15.848931924611133``: ``az.summary(idata, labeller=RungLabeller())`` has rows
    ``energy_derivative[n=15.85]``; `az.plot_trace` and the other plots take it too."""

    def dim_coord_to_str(self, dim, coord_val, coord_idx):
        if dim == "rung":
            return f"n={coord_val:.4g}"
        return super().dim_coord_to_str(dim, coord_val, coord_idx)


def inference_data(
    n_ladder: np.ndarray,
    records: dict[str, np.ndarray],
    round_trips: np.ndarray,
    attrs: dict,
) -> az.InferenceData:
    r"""Records (draw, rung, chain, ...) from the sampler → InferenceData (chain, draw, ...).

    The `rung` dimension's coordinate values are the inverse temperatures n (also the
    coordinate `inverse_temperature`), so `az.summary` rows read ``energy_derivative[10.0]``
    (``energy_derivative[n=10]`` with `labeller=RungLabeller()`) and `data.sel(rung=10.0)`
    picks a rung; `az.bfmi` and `az.plot_energy` take one rung at a time
    (``data.isel(rung=i)``): each rung has its own Hamiltonian. Pairs of neighbours carry
    `n_lower`, `n_upper`.

    posterior: `energy_derivative` ($\partial_n T_n$, i.e. $L - L_0$ for linear models) and
    `position` if stored. sample_stats, in ArviZ's names: `lp` ($-U_n$, the log of the
    unnormalized tempered posterior), `energy` (the NUTS Hamiltonian), `acceptance_rate`,
    `n_steps`, `tree_depth`, `diverging`, `step_size`; ours: `replica` (which replica occupies
    each rung) and per neighbour pair `swap_accept_prob`, `swap_attempted`,
    `swap_accepted`; `round_trips` per chain is in sample_stats attrs.
    """
    num_draws, num_rungs, num_chains = records["energy"].shape
    ladder = np.asarray(n_ladder, dtype=np.float64)
    coords = {
        "chain": np.arange(num_chains),
        "draw": np.arange(num_draws),
        "rung": ladder,
        "pair": np.arange(num_rungs - 1),
    }

    def per_rung(values):
        return (("chain", "draw", "rung"), np.moveaxis(values, 2, 0))

    def per_pair(name):
        return (("chain", "draw", "pair"), np.moveaxis(records[name], 2, 0))

    posterior = {ENERGY_DERIVATIVE: per_rung(records["energy"])}
    if records.get("position") is not None:
        position = np.moveaxis(records["position"], 2, 0)
        posterior["position"] = (("chain", "draw", "rung", "param"), position)
        coords["param"] = np.arange(position.shape[-1])
    sample_stats = {"lp": per_rung(-np.asarray(records["potential_energy"]))}
    for field, name in ARVIZ_STAT_NAMES.items():
        if records.get(field) is not None:  # runs checkpointed before `hamiltonian` existed
            sample_stats[name] = per_rung(records[field])
    num_steps = np.moveaxis(records["num_steps"], 2, 0)
    sample_stats["tree_depth"] = (("chain", "draw", "rung"),
                                  np.floor(np.log2(np.maximum(num_steps, 1))).astype(int) + 1)
    for name in ("swap_accept_prob", "swap_attempted", "swap_accepted"):
        sample_stats[name] = per_pair(name)
    rung_coords = {"inverse_temperature": ("rung", ladder),
                   "n_lower": ("pair", ladder[:-1]),
                   "n_upper": ("pair", ladder[1:])}

    def dataset(variables, extra_attrs):
        ds = xr.Dataset(variables, coords=coords)
        used = {k: v for k, v in rung_coords.items() if v[0] in ds.dims}
        return ds.assign_coords(used).assign_attrs({**attrs, **extra_attrs})

    return az.InferenceData(
        posterior=dataset(posterior, {}),
        sample_stats=dataset(sample_stats,
                             {"round_trips": np.asarray(round_trips, dtype=np.int64)}),
    )


def rhat_and_ess(energy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """R-hat (rank-normalized) and bulk ESS of the energy per rung; (chain, draw, rung)."""
    num_chains, num_draws, num_rungs = energy.shape
    rhat, ess = np.full(num_rungs, np.nan), np.full(num_rungs, np.nan)
    for rung in range(num_rungs):
        draws = energy[..., rung]
        if num_draws < 4 or np.ptp(draws) == 0:
            continue
        ess[rung] = float(az.ess(draws, method="bulk"))
        if num_chains > 1:
            rhat[rung] = float(az.rhat(draws))
    return rhat, ess


def diagnostic_messages(
    n_ladder: np.ndarray,
    rhat: np.ndarray,
    ess_bulk: np.ndarray,
    divergences: np.ndarray,
    swap_acceptance: np.ndarray,
    swaps_enabled: bool,
) -> list[str]:
    """One message per failed check, naming the rungs and what to change."""
    def rungs(mask):
        return ", ".join(f"{i} (n={n_ladder[i]:.4g})" for i in np.flatnonzero(mask))

    messages = []
    bad_rhat = rhat > RHAT_MAX
    if bad_rhat.any():
        messages.append(f"R-hat of the energy > {RHAT_MAX} at rung {rungs(bad_rhat)} (max "
                        f"{np.nanmax(rhat):.3f}): chains disagree; increase warmup and draws, "
                        "or add rungs between these and their neighbours.")
    bad_ess = ess_bulk < ESS_MIN
    if bad_ess.any():
        messages.append(f"bulk ESS of the energy < {ESS_MIN} at rung {rungs(bad_ess)} (min "
                        f"{np.nanmin(ess_bulk):.0f}): increase draws (or chains).")
    if divergences.any():
        messages.append(f"{int(divergences.sum())} divergent transitions at rung "
                        f"{rungs(divergences > 0)}: raise target_accept_prob (e.g. 0.95) or "
                        "reparametrize; the draws are kept, not dropped.")
    bad_swap = swap_acceptance < SWAP_ACCEPT_MIN
    if swaps_enabled and bad_swap.any():
        pairs = ", ".join(f"{i}-{i + 1} (n={n_ladder[i]:.4g}..{n_ladder[i + 1]:.4g}: "
                          f"{swap_acceptance[i]:.1%})" for i in np.flatnonzero(bad_swap))
        messages.append(f"swap acceptance < {SWAP_ACCEPT_MIN:.0%} between rungs {pairs}: "
                        "insert rungs between them (or use adapt_ladder=True).")
    return messages


#: The folder of the efftheory package: warnings point at the first frame outside it.
_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep


def _caller_outside_package() -> int:
    """The `stacklevel` of the innermost frame, counting from the caller of this function,
    whose code lies outside the efftheory package: the user's line that called
    `efftheory.sample`, `resume` or `run_study` (however deep inside the package the warning
    is raised), so a warning names that line rather than one of ours."""
    level, frame = 1, sys._getframe(1)
    while frame is not None and os.path.abspath(frame.f_code.co_filename).startswith(_PACKAGE):
        frame, level = frame.f_back, level + 1
    return level


def warn_diagnostics(messages: list[str]) -> None:
    level = _caller_outside_package()
    for message in messages:
        warnings.warn(message, SamplingWarning, stacklevel=level)
