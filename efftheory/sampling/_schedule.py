r"""The communication barrier of a ladder and the schedule that equalizes swap rejection.

Non-reversible parallel tempering (Syed, Bouchard-Côté, Deligiannidis & Doucet 2022,
*Non-reversible parallel tempering: a scalable highly parallel MCMC scheme*, JRSS B 84,
321; the schedule Pigeons.jl adapts) summarizes a ladder by the rejection rates
$r_i = E[1 - \alpha_i]$ of its neighbour swaps. Their sum

$$\Lambda = \sum_i r_i$$

estimates the *global communication barrier* (Syed et al., Theorem 3 and §5.1), which no
schedule can lower. For a fixed number of rungs the round-trip rate is highest when every
pair has the same rejection $\Lambda/(N-1)$ (their §5.2), and it then approaches
$\tau = 1/(2 + 2\Lambda)$ (Theorem 4); adding rungs beyond about $2\Lambda$ buys little
(§5.3). `equalized_schedule` moves the interior rungs there: the cumulative barrier
$\Lambda(x_k) = \sum_{i<k} r_i$ is interpolated monotonically (Fritsch & Carlson 1980,
*Monotone piecewise cubic interpolation*, SIAM J. Numer. Anal. 17, 238) in the rung
coordinate $x = \log n$ and inverted at equally spaced levels — Syed et al.'s Algorithm 4
with $\log n$ in place of $\beta$, since our ladders span many decades.
"""

import numpy as np
from scipy.interpolate import PchipInterpolator

# Rejection rates are clipped below by this before they enter the schedule, so that a pair
# that never rejects still moves (Pigeons.jl does the same for its cumulative barrier).
_MINIMUM_REJECTION = 1e-6


def communication_barrier(swap_rejection: np.ndarray) -> float:
    r"""$\Lambda = \sum_i r_i$ over neighbour pairs (Syed et al. 2022, §5.1)."""
    rejection = np.asarray(swap_rejection, dtype=np.float64)
    return float(np.sum(rejection[np.isfinite(rejection)]))


def round_trip_rate_bound(barrier: float) -> float:
    r"""$\tau = 1/(2 + 2\Lambda)$: the round-trip rate per swap round of an equalized
    schedule with many rungs (Syed et al. 2022, Theorem 4)."""
    return 1.0 / (2.0 + 2.0 * barrier)


def equalized_schedule(n_ladder: np.ndarray, swap_rejection: np.ndarray) -> np.ndarray:
    r"""Interior rungs moved so that every positive pair has the same estimated rejection.

    `swap_rejection[i]` is the mean rejection $r_i$ of pair $(i, i+1)$. A prior rung
    $n = 0$, the first positive rung and the top rung stay where they are; the positive
    rungs are respaced in $\log n$ by inverting the monotone interpolant of the cumulative
    barrier (module docstring). Ladders with fewer than three positive rungs are returned
    unchanged.
    """
    ladder = np.asarray(n_ladder, dtype=np.float64)
    rejection = np.asarray(swap_rejection, dtype=np.float64)
    first = 1 if ladder[0] == 0.0 else 0
    positions = np.log(ladder[first:])
    if positions.size < 3:
        return ladder.copy()
    rates = np.clip(np.nan_to_num(rejection[first:], nan=1.0), _MINIMUM_REJECTION, 1.0)
    cumulative = np.concatenate([[0.0], np.cumsum(rates)])
    inverse = PchipInterpolator(cumulative, positions)
    levels = np.linspace(0.0, cumulative[-1], positions.size)
    new_positions = inverse(levels)
    new = ladder.copy()
    new[first + 1:-1] = np.exp(np.sort(new_positions[1:-1]))
    return new
