"""ArviZ InferenceData with a `rung` dimension, convergence summaries, loud warnings.

Thresholds follow Vehtari et al. 2021 (*Rank-normalization, folding, and localization: an
improved R-hat*, Bayesian Analysis 16): R-hat below 1.01 and bulk ESS of at least 400
(100 per chain for 4 chains) before trusting a mean.
"""

import warnings

import numpy as np
import xarray as xr

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="ArviZ is undergoing", category=FutureWarning)
    import arviz as az

RHAT_MAX = 1.01
ESS_MIN = 400
SWAP_ACCEPT_MIN = 0.10


class SamplingWarning(UserWarning):
    """A run finished but a diagnostic says its numbers should not be trusted yet."""


def inference_data(
    n_ladder: np.ndarray,
    records: dict[str, np.ndarray],
    round_trips: np.ndarray,
    attrs: dict,
) -> az.InferenceData:
    """Records (draw, rung, chain, ...) from the sampler → InferenceData (chain, draw, ...).

    posterior: `energy` ($L - L_0$) and `position` if stored; sample_stats: `diverging`,
    `num_steps`, `tree_depth`, `step_size`, `potential_energy`, `accept_prob`, `replica`,
    and per neighbour pair `swap_accept_prob`, `swap_attempted`, `swap_accepted`;
    `round_trips` per chain is in sample_stats attrs.
    """
    num_draws, num_rungs, num_chains = records["energy"].shape
    coords = {
        "chain": np.arange(num_chains),
        "draw": np.arange(num_draws),
        "rung": np.arange(num_rungs),
        "pair": np.arange(num_rungs - 1),
    }

    def per_rung(name):
        return (("chain", "draw", "rung"), np.moveaxis(records[name], 2, 0))

    def per_pair(name):
        return (("chain", "draw", "pair"), np.moveaxis(records[name], 2, 0))

    posterior = {"energy": per_rung("energy")}
    if records.get("position") is not None:
        position = np.moveaxis(records["position"], 2, 0)
        posterior["position"] = (("chain", "draw", "rung", "param"), position)
        coords["param"] = np.arange(position.shape[-1])
    num_steps = np.moveaxis(records["num_steps"], 2, 0)
    sample_stats = {
        name: per_rung(name)
        for name in ("diverging", "num_steps", "step_size", "potential_energy",
                     "accept_prob", "replica")
    }
    sample_stats["tree_depth"] = (("chain", "draw", "rung"),
                                  np.floor(np.log2(np.maximum(num_steps, 1))).astype(int) + 1)
    for name in ("swap_accept_prob", "swap_attempted", "swap_accepted"):
        sample_stats[name] = per_pair(name)
    rung_coords = {"inverse_temperature": ("rung", np.asarray(n_ladder, dtype=np.float64)),
                   "n_lower": ("pair", np.asarray(n_ladder[:-1], dtype=np.float64)),
                   "n_upper": ("pair", np.asarray(n_ladder[1:], dtype=np.float64))}

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


def warn_diagnostics(messages: list[str]) -> None:
    for message in messages:
        # user -> sample|resume -> _run -> _assemble -> here -> warn
        warnings.warn(message, SamplingWarning, stacklevel=5)
