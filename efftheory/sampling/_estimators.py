r"""Per-rung estimators: learning coefficient, free energy by thermodynamic integration and
by stepping stones, each with an error estimate.

With $E = L - L_0$ and $\langle\cdot\rangle_n$ the tempered posterior mean,

$$\hat\lambda(n) = n\,\langle E\rangle_n, \qquad
\frac{dF}{dn} = \langle E\rangle_n, \qquad
\frac{d\lambda}{d\log n} = \lambda(n) - n^2\,\mathrm{Var}_n(E)$$

(Watanabe 2013, *A widely applicable Bayesian information criterion*, JMLR 14, eq. 11, for
the first; the second and third are the fluctuation identities of the canonical ensemble).
Monte Carlo standard errors use ArviZ's effective sample size over chains (Vehtari et al.
2021, *Rank-normalization, folding, and localization*, Bayesian Analysis 16, §3), treating
rungs as independent (replica exchange correlates neighbours only weakly; the errors are
then slightly optimistic).
"""

import numpy as np
from scipy.special import logsumexp

from .._types import ChainDrawRung, ChainDraws
from ._arviz import az


def _ess_mean(draws: ChainDraws) -> float:
    if draws.shape[1] < 4 or np.ptp(draws) == 0:
        return float(draws.size)
    return float(az.ess(draws, method="mean"))


def mean_and_mcse(draws: ChainDraws) -> tuple[float, float]:
    """Mean over all draws and its standard error $\\sigma / \\sqrt{\\mathrm{ESS}}$."""
    mean = float(np.mean(draws))
    if np.ptp(draws) == 0:
        return mean, 0.0
    return mean, float(np.std(draws, ddof=1) / np.sqrt(_ess_mean(draws)))


def energy_moments(
    energy: ChainDrawRung,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    r"""Per rung: $\langle E\rangle$, its MCSE, $\mathrm{Var}(E)$, and the variance's MCSE.

    The variance's error is the MCSE of the mean of $(E - \bar E)^2$.
    """
    num_rungs = energy.shape[-1]
    mean, mean_se, var, var_se = (np.zeros(num_rungs) for _ in range(4))
    for rung in range(num_rungs):
        # Contiguous copies: sums then do not depend on the array's memory layout, so a
        # result loaded from netCDF reproduces the estimates bit for bit.
        draws = np.ascontiguousarray(energy[..., rung])
        mean[rung], mean_se[rung] = mean_and_mcse(draws)
        var[rung], var_se[rung] = mean_and_mcse((draws - mean[rung]) ** 2)
    return mean, mean_se, var, var_se


def learning_coefficient(
    n_ladder: np.ndarray, energy: ChainDrawRung
) -> tuple[np.ndarray, np.ndarray]:
    r"""$\hat\lambda(n) = n\langle E\rangle_n$ per rung, with MCSE $n\cdot\mathrm{MCSE}(E)$."""
    mean, mean_se, _, _ = energy_moments(energy)
    return n_ladder * mean, n_ladder * mean_se


def thermodynamic_integration(
    n_ladder: np.ndarray, energy: ChainDrawRung, *, linear: bool = True
) -> dict[str, np.ndarray]:
    r"""$F(n_k) - F(n_1) = \int_{n_1}^{n_k} \langle E\rangle_n\,dn$ at every rung.

    Positive rungs are integrated in $x = \log n$, where the integrand
    $f = \lambda(n)$ is smooth, by the end-corrected trapezoid rule (Euler–Maclaurin,
    exact for cubics): per segment of width $h$,

    $$\int_{x_i}^{x_{i+1}} f\,dx \approx \tfrac{h}{2}(f_i + f_{i+1})
      - \tfrac{h^2}{12}(f'_{i+1} - f'_i), \qquad f' = \lambda - n^2\mathrm{Var}_n(E).$$

    A first rung at $n = 0$ (the prior) is joined to the next in $n$ itself, with
    $f = \langle E\rangle_n$ and $f' = -\mathrm{Var}_n(E)$; then $F(0) = 0$ and $F$ is
    absolute. Returned errors: `mcse` propagates the per-rung MCSEs linearly (independent
    rungs); `discretization` sums the sizes of the segments' end corrections, i.e. the
    error estimate of the plain trapezoid rule, which bounds that of the corrected rule
    from above whenever the correction converges; `err` is their root sum of squares.

    For a model not linear in $n$ (``linear=False``) `energy` holds $\partial_n T_n$ and
    the variance identity for $f'$ does not apply: the plain trapezoid rule is used, and
    its error is estimated from finite-difference slopes of $f$.
    """
    n_ladder = np.asarray(n_ladder, dtype=np.float64)
    mean, mean_se, var, var_se = energy_moments(energy)
    num_rungs = n_ladder.size
    free_energy, correction = np.zeros(num_rungs), np.zeros(num_rungs)
    # Weights of each rung's <E> and Var(E) in F(n_k): F = A @ mean + B @ var.
    weight_mean = np.zeros((num_rungs, num_rungs))
    weight_var = np.zeros((num_rungs, num_rungs))
    for i in range(num_rungs - 1):
        row_mean, row_var = weight_mean[i].copy(), weight_var[i].copy()
        a, b = n_ladder[i], n_ladder[i + 1]
        if a == 0.0:
            # Segment in n: f = <E>, f' = -Var.
            h = b
            row_mean[[i, i + 1]] += h / 2
            row_var[i + 1] += h**2 / 12
            row_var[i] -= h**2 / 12
            correction[i + 1] = correction[i] + abs(h**2 / 12 * (var[i + 1] - var[i]))
        else:
            # Segment in log n: f = n<E>, f' = n<E> - n^2 Var.
            h = np.log(b / a)
            row_mean[i] += h / 2 * a + h**2 / 12 * a
            row_mean[i + 1] += h / 2 * b - h**2 / 12 * b
            row_var[i + 1] += h**2 / 12 * b**2
            row_var[i] -= h**2 / 12 * a**2
            slope_a, slope_b = a * mean[i] - a**2 * var[i], b * mean[i + 1] - b**2 * var[i + 1]
            correction[i + 1] = correction[i] + abs(h**2 / 12 * (slope_b - slope_a))
        weight_mean[i + 1], weight_var[i + 1] = row_mean, row_var
    if not linear:
        return _plain_trapezoid(n_ladder, mean, mean_se)
    free_energy = weight_mean @ mean + weight_var @ var
    mcse = np.sqrt(weight_mean**2 @ mean_se**2 + weight_var**2 @ var_se**2)
    discretization = correction
    return {
        "free_energy": free_energy,
        "mcse": mcse,
        "discretization": discretization,
        "err": np.hypot(mcse, discretization),
    }


def _plain_trapezoid(n_ladder, mean, mean_se) -> dict[str, np.ndarray]:
    """Trapezoid TI (in n from a prior rung, in log n elsewhere) with slope-based errors."""
    num_rungs = n_ladder.size
    weights = np.zeros((num_rungs, num_rungs))
    widths, values = np.zeros(num_rungs - 1), np.zeros(num_rungs)
    for i in range(num_rungs - 1):
        row = weights[i].copy()
        a, b = n_ladder[i], n_ladder[i + 1]
        if a == 0.0:
            row[[i, i + 1]] += b / 2
            widths[i] = b
        else:
            widths[i] = np.log(b / a)
            row[i] += widths[i] / 2 * a
            row[i + 1] += widths[i] / 2 * b
        weights[i + 1] = row
    values = np.where(n_ladder > 0, n_ladder * mean, mean)
    slopes = np.gradient(values, np.concatenate([[0.0], np.cumsum(widths)])) \
        if num_rungs > 2 else np.zeros(num_rungs)
    correction = np.concatenate([[0.0], np.cumsum(np.abs(widths**2 / 12 * np.diff(slopes)))])
    mcse = np.sqrt(weights**2 @ mean_se**2)
    return {"free_energy": weights @ mean, "mcse": mcse, "discretization": correction,
            "err": np.hypot(mcse, correction)}


def stepping_stone(
    n_ladder: np.ndarray, energy: ChainDrawRung, *, linear: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    r"""$F(n_k) - F(n_1)$ by stepping stones (Xie et al. 2011, *Improving marginal likelihood
    estimation for Bayesian phylogenetic model selection*, Syst. Biol. 60, eq. 5):

    $$F(n_{i+1}) - F(n_i) = -\log\big\langle e^{-(n_{i+1} - n_i) E}\big\rangle_{n_i}.$$

    Each ratio's error is the delta method on the mean of $w = e^{-\Delta n (E - E_{min})}$,
    $\mathrm{se}(\log\bar w) = \mathrm{MCSE}(\bar w)/\bar w$ with ArviZ's ESS; errors add in
    quadrature along the ladder.

    It needs $T_{n_{i+1}} - T_{n_i} = (n_{i+1} - n_i)E$, true only for models linear in
    $n$; for others (``linear=False``) it returns NaN.
    """
    n_ladder = np.asarray(n_ladder, dtype=np.float64)
    if not linear:
        return np.full(n_ladder.size, np.nan), np.full(n_ladder.size, np.nan)
    increments, variances = [0.0], [0.0]
    for i in range(n_ladder.size - 1):
        draws = np.ascontiguousarray(energy[..., i])
        log_weights = -(n_ladder[i + 1] - n_ladder[i]) * draws
        increments.append(-(logsumexp(log_weights) - np.log(draws.size)))
        weights = np.exp(log_weights - np.max(log_weights))
        mean, se = mean_and_mcse(weights)
        variances.append((se / mean) ** 2)
    return np.cumsum(increments), np.sqrt(np.cumsum(variances))
