r"""Effective mode-cutoff predictions and fits of measured learning-coefficient curves.

The free (Gaussian) mode theory (see Concepts) replaces the prior of the mode
amplitudes by $N(0, \Sigma)$; with $\mu_j \ge 0$ the eigenvalues of $\Sigma$ it is exactly
solvable:

$$F_{\text{free}}(n) = \tfrac12 \sum_j \log(1 + n\mu_j), \qquad
  \lambda_{\text{free}}(n) = \frac{dF_{\text{free}}}{d\log n}
  = \tfrac12 \sum_j \frac{n\mu_j}{1 + n\mu_j}.$$

Each mode contributes between $0$ and $\tfrac12$, and $\tfrac12$ once resolved
($n\mu_j \gg 1$). A finite-width network has at most `rank_cap` independent directions,
so only the largest `rank_cap` eigenvalues are kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, NamedTuple

import mpmath
import numpy as np

__all__ = [
    "LogPowerFit",
    "MultiplicityFit",
    "crossover_n",
    "fit_log_power",
    "fit_multiplicity",
    "free_free_energy",
    "free_learning_coefficient",
    "staircase_learning_coefficient",
]


# --------------------------------------------------------------------------- spectra


def _check_rank_cap(rank_cap: int | None) -> None:
    if rank_cap is not None and (
        isinstance(rank_cap, bool) or not isinstance(rank_cap, int | np.integer) or rank_cap < 1
    ):
        raise ValueError(f"`rank_cap` must be None or a positive integer, got {rank_cap!r}.")


def _float_spectrum(eigenvalues: Sequence[float] | np.ndarray, rank_cap: int | None) -> np.ndarray:
    """The largest `rank_cap` eigenvalues as a float64 array, validated, in descending order."""
    _check_rank_cap(rank_cap)
    spectrum = np.asarray(eigenvalues, dtype=np.float64).reshape(-1)
    if spectrum.size == 0:
        raise ValueError("`eigenvalues` is empty: the free theory needs at least one mode.")
    if not np.all(np.isfinite(spectrum)) or np.any(spectrum < 0):
        raise ValueError(
            "`eigenvalues` must be finite and >= 0 (they are variances of mode amplitudes)."
        )
    spectrum = np.sort(spectrum)[::-1]
    return spectrum if rank_cap is None else spectrum[:rank_cap]


def _sample_sizes(n: float | np.ndarray) -> np.ndarray:
    n_array = np.asarray(n, dtype=np.float64)
    if not np.all(np.isfinite(n_array)) or np.any(n_array < 0):
        raise ValueError("`n` must be finite and >= 0.")
    return n_array


def _shaped(result: np.ndarray) -> np.ndarray | float:
    return float(result) if result.ndim == 0 else result


def free_learning_coefficient(
    n: float | np.ndarray,
    eigenvalues: Sequence[float] | np.ndarray,
    rank_cap: int | None = None,
) -> np.ndarray | float:
    r"""Learning coefficient of the free mode theory, $\tfrac12\sum_j n\mu_j/(1+n\mu_j)$.

    Sum over the largest `rank_cap` eigenvalues (all when None). Vectorised over `n`
    (the result has the shape of `n`). Source: Concepts; the Gaussian integral
    $\int e^{-\frac n2 |u|^2} N(u; 0, \Sigma)\,du = \det(I + n\Sigma)^{-1/2}$.
    """
    spectrum = _float_spectrum(eigenvalues, rank_cap)
    n_array = _sample_sizes(n)
    with np.errstate(over="ignore", invalid="ignore"):
        scaled = n_array[..., None] * spectrum
        # x/(1+x) keeps full relative precision for unresolved modes; a mode whose n*mu
        # overflows float64 is fully resolved and contributes exactly 1 (not inf/inf).
        fraction = np.where(np.isinf(scaled), 1.0, scaled / (1.0 + scaled))
    return _shaped(0.5 * np.sum(fraction, axis=-1))


def free_free_energy(
    n: float | np.ndarray,
    eigenvalues: Sequence[float] | np.ndarray,
    rank_cap: int | None = None,
) -> np.ndarray | float:
    r"""Free energy of the free mode theory, $\tfrac12\sum_j \log(1 + n\mu_j)$.

    Uses `log1p` so that unresolved modes ($n\mu_j \ll 1$) keep full relative precision.
    Vectorised over `n`. Source: Concepts.
    """
    spectrum = _float_spectrum(eigenvalues, rank_cap)
    n_array = _sample_sizes(n)
    return _shaped(0.5 * np.sum(np.log1p(n_array[..., None] * spectrum), axis=-1))


def staircase_learning_coefficient(
    n: float | np.ndarray,
    eigenvalues: Sequence[float] | np.ndarray,
    rank_cap: int | None = None,
) -> np.ndarray | float:
    r"""Staircase (hard-cutoff) prediction $\tfrac12\,\#\{j : n\mu_j > 1\}$.

    The $n\mu_j \to \{0, \infty\}$ limit of each mode's contribution to
    `free_learning_coefficient`. Vectorised over `n`. Source: Concepts.
    """
    spectrum = _float_spectrum(eigenvalues, rank_cap)
    n_array = _sample_sizes(n)
    return _shaped(0.5 * np.sum(n_array[..., None] * spectrum > 1.0, axis=-1).astype(np.float64))


# --------------------------------------------------------------------------- crossover


def _mp_spectrum(eigenvalues: object, rank_cap: int | None) -> list:
    _check_rank_cap(rank_cap)
    values = np.asarray(eigenvalues, dtype=object).reshape(-1).tolist()
    if not values:
        raise ValueError("`eigenvalues` is empty: the free theory needs at least one mode.")
    spectrum = []
    for index, value in enumerate(values):
        mp_value = mpmath.mpf(value)
        if not mpmath.isfinite(mp_value) or mp_value < 0:
            raise ValueError(f"`eigenvalues[{index}]` = {value!r} must be finite and >= 0.")
        spectrum.append(mp_value)
    spectrum.sort(reverse=True)
    return spectrum if rank_cap is None else spectrum[:rank_cap]


def crossover_n(
    eigenvalues: object,
    target: float,
    rank_cap: int | None = None,
    form: Literal["smooth", "staircase"] = "smooth",
    precision: int = 50,
) -> mpmath.mpf:
    r"""Sample size $n^*$ at which the effective learning coefficient reaches `target`.

    `form="smooth"` solves $\tfrac12\sum_j n\mu_j/(1+n\mu_j) = \text{target}$ (strictly
    increasing in $n$, so the root is unique) by safeguarded Newton iteration in
    $\log n$ with bisection fallback; `form="staircase"` returns the threshold
    $1/\mu_{(k)}$ with $k = \lceil 2\,\text{target}\rceil$, beyond which
    $\tfrac12\#\{n\mu_j > 1\} \ge$ target.

    Everything runs in mpmath at `precision` significant digits, so eigenvalues far below
    1e-300 (pass mpmath numbers or strings) and $n^*$ beyond 1e100 are handled.

    Returns:
        $n^*$ as an `mpmath.mpf`.

    Raises:
        ValueError: when the capped theory never reaches `target`: its supremum is
            $\tfrac12\times$ (number of positive eigenvalues among the largest `rank_cap`),
            approached but never attained by the smooth form.
    """
    if form not in ("smooth", "staircase"):
        raise ValueError(f"`form` must be 'smooth' or 'staircase', got {form!r}.")
    if isinstance(precision, bool) or not isinstance(precision, int) or precision < 15:
        raise ValueError(f"`precision` must be an integer >= 15 (digits), got {precision!r}.")
    with mpmath.workdps(precision):
        spectrum = [mu for mu in _mp_spectrum(eigenvalues, rank_cap) if mu > 0]
        target_mp = mpmath.mpf(target)
        if not mpmath.isfinite(target_mp) or target_mp <= 0:
            raise ValueError(f"`target` must be a positive finite number, got {target!r}.")
        supremum = mpmath.mpf(len(spectrum)) / 2
        reachable = target_mp <= supremum if form == "staircase" else target_mp < supremum
        if not reachable:
            cap = "all modes" if rank_cap is None else f"rank_cap={rank_cap}"
            raise ValueError(
                f"the effective learning coefficient never reaches target={target}: with "
                f"{cap} ({len(spectrum)} positive eigenvalues) it is bounded by "
                f"{mpmath.nstr(supremum, 8)}{'' if form == 'staircase' else ' (not attained)'}"
                "; raise `rank_cap` or supply more eigenvalues."
            )
        if form == "staircase":
            count = int(mpmath.ceil(2 * target_mp))
            return 1 / spectrum[count - 1]
        return _smooth_crossover(spectrum, target_mp, precision)


def _smooth_crossover(spectrum: list, target, precision: int):
    def excess_and_slope(log_n):
        n = mpmath.exp(log_n)
        total = mpmath.mpf(0)
        slope = mpmath.mpf(0)
        for mu in spectrum:
            x = n * mu
            fraction = x / (1 + x)
            total += fraction
            slope += fraction / (1 + x)
        return total / 2 - target, slope / 2

    # Bracket: at n = 1/mu_max the largest mode alone gives 1/4, so search outward from there.
    start = -mpmath.log(spectrum[0])
    step = mpmath.mpf(1)
    low = high = start
    while excess_and_slope(low)[0] >= 0:
        low -= step
        step *= 2
    step = mpmath.mpf(1)
    while excess_and_slope(high)[0] < 0:
        high += step
        step *= 2

    tolerance = mpmath.mpf(10) ** (-(precision - 5))
    log_n = (low + high) / 2
    for _ in range(10 * precision):
        excess, slope = excess_and_slope(log_n)
        if excess == 0:
            break
        if excess > 0:
            high = log_n
        else:
            low = log_n
        candidate = log_n - excess / slope if slope > 0 else (low + high) / 2
        if not low < candidate < high:
            candidate = (low + high) / 2  # Newton left the bracket: bisect instead.
        converged = abs(candidate - log_n) <= tolerance * max(1, abs(log_n))
        log_n = candidate
        if converged or high - low <= tolerance * max(1, abs(log_n)):
            break
    return mpmath.exp(log_n)


# --------------------------------------------------------------------------- fits


class LogPowerFit(NamedTuple):
    r"""Weighted fit of $\hat\lambda(n) \approx \alpha (\log n)^p$."""

    amplitude: float
    exponent: float
    amplitude_standard_error: float
    exponent_standard_error: float
    reduced_chi_squared: float


class MultiplicityFit(NamedTuple):
    r"""Weighted fit of $\hat\lambda(n) \approx \lambda - (m - 1)/\log n$."""

    learning_coefficient: float
    multiplicity: float
    learning_coefficient_standard_error: float
    multiplicity_standard_error: float
    reduced_chi_squared: float


def _curve(n, learning_coefficient, standard_error) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n = np.asarray(n, dtype=np.float64).reshape(-1)
    values = np.asarray(learning_coefficient, dtype=np.float64).reshape(-1)
    errors = np.asarray(standard_error, dtype=np.float64).reshape(-1)
    if not n.size == values.size == errors.size:
        raise ValueError(
            "`n`, `learning_coefficient` and `standard_error` must have the same length, got "
            f"{n.size}, {values.size}, {errors.size}."
        )
    if n.size < 3:
        raise ValueError(f"a two-parameter fit needs at least 3 points, got {n.size}.")
    for name, array in (("n", n), ("learning_coefficient", values), ("standard_error", errors)):
        if not np.all(np.isfinite(array)):
            raise ValueError(f"`{name}` must be finite.")
    if np.any(n <= 1):
        raise ValueError("`n` must be > 1 for every point (the fits use log n and log log n).")
    if np.any(errors <= 0):
        raise ValueError("`standard_error` must be > 0 for every point (it sets the weights).")
    return n, values, errors


def _weighted_line(
    x: np.ndarray, y: np.ndarray, sigma: np.ndarray
) -> tuple[np.ndarray, np.ndarray, float]:
    """Weighted least squares for y = c0 + c1 x with known errors sigma.

    The covariance is $(X^T W X)^{-1}$ with $W = \\mathrm{diag}(\\sigma^{-2})$: the errors are
    taken as known, not rescaled by the reduced chi-squared (which is returned so that a
    misfit is visible rather than absorbed into the error bars).
    """
    design = np.stack([np.ones_like(x), x], axis=1) / sigma[:, None]
    rhs = y / sigma
    if np.ptp(x) == 0:
        raise ValueError("all points have the same n: the fit needs at least two distinct n.")
    coefficients, *_ = np.linalg.lstsq(design, rhs, rcond=None)
    covariance = np.linalg.inv(design.T @ design)
    residual = rhs - design @ coefficients
    reduced_chi_squared = float(residual @ residual / (x.size - 2))
    return coefficients, covariance, reduced_chi_squared


def fit_log_power(n, learning_coefficient, standard_error) -> LogPowerFit:
    r"""Fit $\hat\lambda(n) \approx \alpha(\log n)^p$ by weighted least squares.

    Linearised as $\log\hat\lambda = \log\alpha + p\log\log n$, with the error of
    $\log\hat\lambda$ taken as the relative standard error $\sigma/\hat\lambda$ (first-order
    propagation). Returns $\alpha$, $p$, their standard errors
    ($\sigma_\alpha = \alpha\,\sigma_{\log\alpha}$) and the reduced $\chi^2$. The effective
    theory predicts $p \approx 2$ for tanh on Gaussian inputs and $p \approx 1$ on the
    circle (the source post, *Learning zero, and what SLT gets wrong about it*).

    Requires every $n > 1$ and $\hat\lambda > 0$.
    """
    n, values, errors = _curve(n, learning_coefficient, standard_error)
    if np.any(values <= 0):
        raise ValueError(
            "`learning_coefficient` must be > 0 for every point to take its logarithm; drop "
            "or re-measure the non-positive points."
        )
    coefficients, covariance, reduced_chi_squared = _weighted_line(
        np.log(np.log(n)), np.log(values), errors / values
    )
    amplitude = float(np.exp(coefficients[0]))
    return LogPowerFit(
        amplitude=amplitude,
        exponent=float(coefficients[1]),
        amplitude_standard_error=amplitude * float(np.sqrt(covariance[0, 0])),
        exponent_standard_error=float(np.sqrt(covariance[1, 1])),
        reduced_chi_squared=reduced_chi_squared,
    )


def fit_multiplicity(n, learning_coefficient, standard_error) -> MultiplicityFit:
    r"""Fit $\hat\lambda(n) \approx \lambda - (m - 1)/\log n$ by weighted least squares.

    Linear in $u = 1/\log n$: intercept $\lambda$, slope $-(m-1)$. This is the finite-$n$
    approach to $\lambda$, $\hat\lambda(n) = dF/d\log n$ with
    $F = \lambda\log n - (m-1)\log\log n$ (Watanabe 2009, Main Formula II). Returns
    $\lambda$, $m$ (a real number: the fit does not round it), their standard errors and
    the reduced $\chi^2$.
    """
    n, values, errors = _curve(n, learning_coefficient, standard_error)
    coefficients, covariance, reduced_chi_squared = _weighted_line(1.0 / np.log(n), values, errors)
    return MultiplicityFit(
        learning_coefficient=float(coefficients[0]),
        multiplicity=float(1.0 - coefficients[1]),
        learning_coefficient_standard_error=float(np.sqrt(covariance[0, 0])),
        multiplicity_standard_error=float(np.sqrt(covariance[1, 1])),
        reduced_chi_squared=reduced_chi_squared,
    )
