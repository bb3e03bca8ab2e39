r"""Mode coefficients of an activation under an input measure, with known accuracy.

For a unit $\sigma(w x + b)$ and an input measure $q$ with orthonormal basis $e_k$,

$$c_k(w, b) = E_q[\sigma(w x + b)\, e_k(x)], \qquad k = 0, \dots, k_{max}$$

(see Concepts). A two-layer network's mode amplitudes are $u_k = \sum_i a_i c_k(w_i, b_i)$ and,
by Parseval, $L = \tfrac12\sum_k (u_k - u_k^*)^2$.

How each measure is integrated:

* ``gaussian``: analytic activations use the trapezoid rule on $[-L, L]$ in $x$ with the
  basis scaled by $\sqrt{w_j}$ (Hermite functions: bounded at every order). For an
  integrand analytic in the strip $|\operatorname{Im} x| < d$ its error is
  $O(e^{-2\pi d/h})$ (Trefethen & Weideman 2014, SIAM Review 56, Thm. 5.1); $h$ is chosen
  from the activation's singularity so that this is below the working precision.
  Activations with kinks (relu) use composite Gauss–Legendre panels split at the kink.
* ``circle``: the trapezoid rule in $t$ (a DFT), with enough points that aliasing from
  harmonics beyond $M/2$ is below the working precision (checked on the computed tail).
* ``uniform``: Gauss–Legendre, split at kinks.

Accuracy. Every coefficient comes with an error bound: rounding
($\approx 8\varepsilon(1 + \sqrt{k})\sum_j |\text{terms}|$, $\varepsilon$ the unit roundoff
of the working precision) plus the discretization error the rule was designed to meet. A
coefficient whose bound exceeds ``rtol`` times its magnitude is **marked unresolved**: it
is returned as NaN (``below_floor="nan"``, the default), or as the raw value if you ask for
``below_floor="keep"``. Values are never silently replaced by zeros.

Arbitrary precision (``precision=P`` decimal digits) evaluates the same rules with
fixed-point integer arithmetic carrying $P$ digits plus guard bits: every basis value is
bounded, so fixed point loses nothing and is an order of magnitude faster than mpmath
floats. Activations are evaluated with mpmath at $P + 10$ digits.
"""

import math
import os
import sys
from functools import lru_cache
from typing import Literal

import jax
import jax.numpy as jnp
import mpmath
import numpy as np
from tqdm.auto import tqdm

from ._activations import get_activation
from ._measures import (
    CircleMeasure,
    GaussianMeasure,
    check_kmax,
    get_measure,
    hermite_recurrence,
    legendre_recurrence,
    three_term_recurrence,
)
from ._quadrature import decay_rate, line_rules, realize_float64, realize_mp

_FLOAT64_DIGITS = 16
_MIN_PRECISION = 17


def mode_coefficients(
    activation,
    measure,
    *,
    w,
    b=0.0,
    kmax: int,
    precision: int | None = None,
    rtol: float = 1e-6,
    below_floor: Literal["nan", "keep"] = "nan",
    return_error: bool = False,
    progress: bool | None = None,
):
    r"""Mode coefficients $c_0, \dots, c_{k_{max}}$ of $\sigma(w x + b)$ under `measure`.

    $$c_k(w, b) = E_q[\sigma(w x + b)\,e_k(x)]$$

    with $e_k$ the measure's orthonormal basis: $h_k = He_k/\sqrt{k!}$ (``gaussian``),
    $\sqrt{2k+1}P_k$ (``uniform``), $\sqrt2\cos kt$ (``circle``, where a scalar $w$ means
    $\sigma(w\cos t + b)$; its sine coefficients vanish, and a unit at angle $\phi$ has
    coefficients $c_k\cos k\phi$, $c_k\sin k\phi$).

    Args:
        activation: a name (``"tanh"``, ``"erf"``, …), an `Activation` or a callable.
        measure: ``"gaussian"``, ``"circle"``, ``"uniform"`` or an `InputMeasure`.
        w: weight(s); an array computes a whole layer, leading axes kept.
        b: bias(es), broadcast against `w`.
        kmax: highest mode index.
        precision: None for float64 (JAX); an integer number of decimal digits for
            arbitrary precision (mpmath), needed for coefficients far below 1e-16.
        rtol: a coefficient is resolved when its error bound is at most
            ``rtol * |c_k|``; others are marked (see `below_floor`).
        below_floor: ``"nan"`` returns unresolved coefficients as NaN; ``"keep"``
            returns them as computed (use `return_error` to see their bounds).
        return_error: also return the absolute error bound of every coefficient.
        progress: show a progress bar (default: on a terminal, off when ``CI`` is set).

    Returns:
        An array of shape ``w.shape + (kmax + 1,)``: float64 (JAX) when `precision` is
        None, else a NumPy object array of `mpmath.mpf`. With `return_error`, the pair
        ``(coefficients, error_bound)``.
    """
    activation = get_activation(activation)
    measure = get_measure(measure)
    kmax = check_kmax(kmax)
    w, b = check_weights(w, b)
    if not (isinstance(rtol, int | float) and 0 < rtol < 1):
        raise ValueError(f"rtol must be a number in (0, 1), got {rtol!r}.")
    if below_floor not in ("nan", "keep"):
        raise ValueError(f"below_floor must be 'nan' or 'keep', got {below_floor!r}.")
    # A unit with w = 0 is the constant sigma(b): no quadrature to design (its decay rate
    # is infinite), so it is computed as a stand-in unit and replaced by its exact values.
    constant = w == 0
    if constant.any():
        stand_in = float(np.max(np.abs(w))) or 1.0
        w = np.where(constant, stand_in, w)
    if precision is not None:
        precision = _check_precision(precision, activation, measure, w, b, kmax, rtol)
    if progress is None:
        progress = sys.stderr.isatty() and not os.environ.get("CI")

    if precision is None:
        values, error = _float64_coefficients(activation, measure, w, b, kmax)
        values, error = _exact_values(activation, b, kmax, constant, values, error, None)
        resolved = error <= rtol * jnp.abs(values)
        if below_floor == "nan":
            values = jnp.where(resolved, values, jnp.nan)
    else:
        values, error = _mp_coefficients(activation, measure, w, b, kmax, precision, progress)
        values, error = _exact_values(activation, b, kmax, constant, values, error, precision)
        if below_floor == "nan":
            unresolved = np.vectorize(lambda v, e: e > rtol * abs(v), otypes=[bool])(values,
                                                                                      error)
            values = values.copy()
            values[unresolved] = mpmath.mpf("nan")
    return (values, error) if return_error else values


def _exact_values(activation, b, kmax, constant, values, error, precision):
    r"""Put in the coefficients known exactly, with error bound 0.

    * $w = 0$: $\sigma(b)$ is constant, so $c_0 = \sigma(b)$ ($e_0 = 1$) and $c_k = 0$ for
      $k \ge 1$ (orthogonality to $e_0$).
    * An odd activation with $b = 0$: $\sigma(wx)$ is odd in $x$ ($x \to -x$; on the
      circle $t \to \pi - t$) while $e_k$ has parity $(-1)^k$ under the same map, so every
      even $c_k$ vanishes. Computed, they are rounding noise far below their own error
      bound and would be marked unresolved (NaN), making $\sum_k c_k^2$ NaN.
    """
    k = np.arange(kmax + 1)
    zero = (constant[..., None] & (k >= 1)) | (
        activation.odd & (b == 0)[..., None] & (k % 2 == 0))
    first = np.zeros_like(zero)
    first[..., 0] = constant
    if precision is None:
        level = jnp.asarray(activation.function(jnp.asarray(b, dtype=jnp.float64)))
        values = jnp.where(zero, 0.0, jnp.where(first, level[..., None], values))
        return values, jnp.where(zero | first, 0.0, error)
    values, error = values.copy(), error.copy()
    with mpmath.workdps(precision + 10):
        for index in zip(*np.nonzero(first), strict=True):
            values[index] = activation.mp_function(mpmath.mpf(float(b[index[:-1]])))
    values[zero] = mpmath.mpf(0)
    error[zero | first] = mpmath.mpf(0)
    return values, error


def coefficient_floor(activation, measure, *, w, b=0.0, kmax: int,
                      precision: int | None = None):
    """The absolute error bound of each coefficient (what `mode_coefficients` compares
    against ``rtol * |c_k|``); same shapes as its values."""
    return mode_coefficients(activation, measure, w=w, b=b, kmax=kmax, precision=precision,
                             below_floor="keep", return_error=True, progress=False)[1]


def predicted_decay(activation, measure, *, w, b=0.0) -> dict:
    r"""The decay law and constant predicted by the activation's nearest singularity.

    * ``gaussian``: $c_k^2 \approx A k^p e^{-C\sqrt k}$ with $C = 2\tau$ and
      $\tau = |\operatorname{Im}\zeta|/|w|$ the half-width of the strip of analyticity of
      $x \mapsto \sigma(wx + b)$ (Hille 1940; Boyd 1984 eq. 2.8). tanh: $C = \pi/|w|$.
    * ``circle``: $|c_k| \approx A e^{-Ck}$ with $C = |\operatorname{Im}
      \arccos((\zeta - b)/w)|$, the distance from the real $t$-axis to the nearest
      singularity of $\sigma(w\cos t + b)$; tanh, $b = 0$: $C = \operatorname{asinh}
      (\pi/(2|w|))$.
    * ``uniform``: $|c_k| \approx A \rho^{-k}$, $C = \log\rho$ with $\rho$ the Bernstein
      ellipse parameter of $z_0 = (\zeta - b)/w$ (Trefethen 2019, ATAP Thm. 8.1).

    Entire activations decay faster than any such law (``"faster"``), non-analytic ones
    like a power of $k$ (``"power"``); then ``constant`` is None.
    """
    activation = get_activation(activation)
    measure = get_measure(measure)
    w, b = float(w), float(b)
    law = {"gaussian": "sqrt_exp", "circle": "exp", "uniform": "exp"}[measure.name]
    if activation.analyticity == "entire":
        return {"law": "faster", "constant": None, "quantity": None}
    if activation.analyticity == "not_analytic":
        return {"law": "power", "constant": None, "quantity": "|c_k|"}
    if activation.analyticity != "meromorphic":
        return {"law": "unknown", "constant": None, "quantity": None}
    constant = decay_rate(activation, measure, w, b)
    if measure.name == "gaussian":
        return {"law": law, "constant": 2.0 * constant, "quantity": "c_k^2"}
    return {"law": law, "constant": constant, "quantity": "|c_k|"}


# ----------------------------------------------------------------------------- checks


def check_weights(w, b):
    try:
        w = np.asarray(w, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"w must be a real number or array, got {w!r}.") from error
    try:
        b = np.broadcast_to(np.asarray(b, dtype=np.float64), w.shape)
    except ValueError as error:
        raise ValueError(f"b with shape {np.shape(b)} does not broadcast against w with "
                         f"shape {w.shape}.") from error
    if not np.all(np.isfinite(w)):
        raise ValueError("w contains non-finite values (nan or inf); pass finite weights.")
    if not np.all(np.isfinite(b)):
        raise ValueError("b contains non-finite values (nan or inf); pass finite biases.")
    return w, b


def _check_precision(precision, activation, measure, w, b, kmax, rtol) -> int:
    if isinstance(precision, bool) or not isinstance(precision, int | np.integer):
        raise ValueError(f"precision must be None (float64) or an integer number of decimal "
                         f"digits, got {precision!r}.")
    if precision < _MIN_PRECISION:
        raise ValueError(f"precision={precision} digits is no better than float64; use "
                         f"precision=None, or at least {_MIN_PRECISION} digits.")
    if activation.mp_function is None:
        raise ValueError(f"activation {activation.name!r} has no mpmath implementation; "
                         "wrap it in efftheory.Activation(..., mp_function=...) to use "
                         "arbitrary precision, or use precision=None.")
    if activation.analyticity == "meromorphic" and w.size:
        # The smallest coefficient the precision can resolve, against the predicted
        # envelope of c_kmax for the slowest-decaying unit.
        rates = [decay_rate(activation, measure, float(wi), float(bi))
                 for wi, bi in zip(w.ravel(), b.ravel(), strict=True)]
        rate = max(rates)
        exponent = math.sqrt(kmax) if isinstance(measure, GaussianMeasure) else kmax
        predicted_log10 = -rate * exponent / math.log(10)
        resolvable_log10 = -precision - math.log10(rtol)
        if predicted_log10 < resolvable_log10 + 2:
            # Accepted when -precision + log10(1/rtol) + 2 <= predicted_log10; one digit
            # of margin on top.
            needed = math.ceil(-predicted_log10 + math.log10(1 / rtol) + 2) + 1
            raise ValueError(
                f"precision={precision} digits resolves coefficients down to about "
                f"1e{resolvable_log10:.0f}, but c_{kmax} of {activation.name} is predicted "
                f"near 1e{predicted_log10:.0f}: raise precision to at least {needed}, or "
                "lower kmax."
            )
    return int(precision)


# ---------------------------------------------------------------------------- float64


def _float64_coefficients(activation, measure, w, b, kmax):
    flat_w, flat_b = w.ravel(), b.ravel()
    if isinstance(measure, CircleMeasure) and not activation.kinks:
        values, error = _circle_float64(activation, flat_w, flat_b, kmax)
    else:
        values = np.zeros((flat_w.size, kmax + 1))
        error = np.zeros((flat_w.size, kmax + 1))
        for rows, rule, kind in line_rules(activation, measure, flat_w, flat_b, kmax,
                                           _FLOAT64_DIGITS):
            nodes, log_weights = realize_float64(rule)
            v, e = _project_float64(activation, nodes, log_weights, kind, flat_w[rows],
                                    flat_b[rows], kmax)
            values[rows], error[rows] = v, e
    shape = (*w.shape, kmax + 1)
    return jnp.asarray(values).reshape(shape), jnp.asarray(error).reshape(shape)


def _recurrence(kind: str, kmax: int, *, mp_precision: int | None = None):
    """(alpha_k, beta_k) of e_{k+1} = alpha_k x e_k - beta_k e_{k-1} for the basis `kind`.

    hermite: h_k; legendre: sqrt(2k+1) P_k; fourier: 1, sqrt2 T_k(x) with x = cos t
    (sqrt2 cos kt), from T_{k+1} = 2x T_k - T_{k-1}.
    """
    if mp_precision is not None:
        return _mp_recurrence(kind, kmax, mp_precision)
    if kind == "hermite":
        return hermite_recurrence(kmax)
    if kind == "legendre":
        return legendre_recurrence(kmax)
    size = max(kmax, 1)
    alpha, beta = np.full(size, 2.0), np.ones(size)
    alpha[0], beta[0] = math.sqrt(2.0), 0.0
    if size > 1:
        beta[1] = math.sqrt(2.0)
    return alpha, beta


def _project_float64(activation, nodes, log_weights, kind, w, b, kmax):
    coefficients = _recurrence(kind, kmax)
    return _project_jit(activation.function, kmax, coefficients[0], coefficients[1],
                        jnp.asarray(nodes), jnp.asarray(log_weights), jnp.asarray(w),
                        jnp.asarray(b))


@jax.jit(static_argnums=(0, 1))
def _project_jit(function, kmax, alpha, beta, nodes, log_weights, w, b):
    root_weights = jnp.exp(0.5 * log_weights)
    basis = three_term_recurrence(nodes, kmax, (alpha, beta), root_weights)  # (nodes, kmax + 1)
    samples = function(w[:, None] * nodes[None, :] + b[:, None]) * root_weights[None, :]
    values = samples @ basis
    eps = jnp.finfo(jnp.float64).eps
    k = jnp.arange(kmax + 1)
    rounding = 8.0 * eps * (1.0 + jnp.sqrt(k)) * (jnp.abs(samples) @ jnp.abs(basis))
    scale = jnp.sqrt(jnp.sum(samples**2, axis=-1, keepdims=True))  # ~ E[sigma^2]^(1/2)
    return values, rounding + 10.0 ** (-_FLOAT64_DIGITS) * scale


_CIRCLE_BATCH_FLOATS = 1 << 23  # samples per FFT batch (64 MB of float64)


def _circle_float64(activation, flat_w, flat_b, kmax):
    """DFT coefficients, units in memory-bounded batches, each sized to its own decay."""
    values = np.zeros((flat_w.size, kmax + 1))
    error = np.zeros((flat_w.size, kmax + 1))
    size = _circle_start_size(activation, flat_w, flat_b, kmax)
    batch = max(1, _CIRCLE_BATCH_FLOATS // size)
    for start in range(0, flat_w.size, batch):
        rows = slice(start, start + batch)
        values[rows], error[rows] = _circle_batch(activation, flat_w[rows], flat_b[rows], kmax,
                                                  size)
    return values, error


def _circle_start_size(activation, flat_w, flat_b, kmax) -> int:
    """Enough points that aliasing from beyond M/2 is below 1e-16 by the predicted decay
    (meromorphic activations); otherwise 4 (kmax + 1), doubled until the tail is small."""
    size = 4 * (kmax + 1)
    if activation.analyticity == "meromorphic" and flat_w.size:
        rate = min(decay_rate(activation, CircleMeasure(), float(w), float(b))
                   for w, b in zip(flat_w, flat_b, strict=True))
        size = max(size, 2 * (kmax + 1) + 2 * int(math.ceil(
            (_FLOAT64_DIGITS + 1) * math.log(10) / max(rate, 1e-3))) + 16)
    return max(64, 1 << (size - 1).bit_length())


def _circle_batch(activation, flat_w, flat_b, kmax, size):
    while True:
        values, tail, rounding = _circle_fft(activation.function, size, jnp.asarray(flat_w),
                                             jnp.asarray(flat_b))
        scale = np.max(np.abs(np.asarray(values[:, :1])), axis=-1, keepdims=True) + 1.0
        converged = np.all(np.asarray(tail) <= 10.0 ** (-_FLOAT64_DIGITS) * scale.ravel())
        if converged or size * len(flat_w) >= 16 * _CIRCLE_BATCH_FLOATS or size >= 1 << 20:
            break
        size *= 2
    values = np.asarray(values)[:, : kmax + 1]
    error = np.asarray(rounding)[:, None] + np.asarray(tail)[:, None]
    return values, np.broadcast_to(error, values.shape)


@jax.jit(static_argnums=(0, 1))
def _circle_fft(function, size, w, b):
    angles = 2.0 * jnp.pi * jnp.arange(size) / size
    samples = function(w[:, None] * jnp.cos(angles)[None, :] + b[:, None])
    spectrum = jnp.fft.rfft(samples, axis=-1).real / size
    values = spectrum.at[:, 1:].multiply(math.sqrt(2.0))
    # Aliasing: c_k is polluted by c_{M-k}; for k <= M/4, |c_{M-k}| <= the computed tail.
    tail = jnp.max(jnp.abs(values[:, size // 2 - size // 8: size // 2]), axis=-1)
    eps = jnp.finfo(jnp.float64).eps
    rounding = 8.0 * eps * math.sqrt(math.log2(size)) * jnp.mean(jnp.abs(samples), axis=-1)
    return values, tail, rounding


# ---------------------------------------------------------------- arbitrary precision


def _mp_coefficients(activation, measure, w, b, kmax, precision, progress):
    flat_w, flat_b = w.ravel(), b.ravel()
    values = np.empty((flat_w.size, kmax + 1), dtype=object)
    error = np.empty((flat_w.size, kmax + 1), dtype=object)
    with mpmath.workdps(precision + 10):
        if isinstance(measure, CircleMeasure) and not activation.kinks:
            for index in tqdm(range(flat_w.size), disable=not progress, desc="circle modes",
                              unit="unit"):
                values[index], error[index] = _circle_mp(activation, float(flat_w[index]),
                                                         float(flat_b[index]), kmax, precision)
        else:
            for rows, rule, kind in line_rules(activation, measure, flat_w, flat_b, kmax,
                                               precision):
                v, e = _project_mp(activation, rule, kind, flat_w[rows], flat_b[rows], kmax,
                                   precision, progress)
                values[rows], error[rows] = v, e
    shape = (*w.shape, kmax + 1)
    return values.reshape(shape), error.reshape(shape)


def _fixed_bits(precision: int, num_nodes: int, kmax: int) -> int:
    guard = math.log10(num_nodes + 1) + math.log10(kmax + 2) + 8
    return int(math.ceil((precision + guard) * math.log2(10)))


def _to_fixed(value, bits: int) -> int:
    return int(mpmath.nint(mpmath.ldexp(value, bits)))


def _project_mp(activation, rule, kind, w, b, kmax, precision, progress):
    """Fixed-point evaluation of sum_j sqrt(w_j) sigma(w x_j + b) sqrt(w_j) e_k(x_j)."""
    mp_nodes, mp_root_weights = realize_mp(rule, precision)
    bits = _fixed_bits(precision, len(mp_nodes), kmax)
    one = 1 << bits
    fixed_nodes = np.array([_to_fixed(x, bits) for x in mp_nodes], dtype=object)
    samples = np.array(
        [[_to_fixed(activation.mp_function(mpmath.mpf(wi) * x + mpmath.mpf(bi)) * r, bits)
          for x, r in zip(mp_nodes, mp_root_weights, strict=True)]
         for wi, bi in zip(w, b, strict=True)],
        dtype=object,
    ).reshape(len(w), len(mp_nodes))
    abs_samples = np.abs(samples)
    alpha, beta = _recurrence(kind, kmax, mp_precision=precision)
    current = np.array([_to_fixed(r, bits) for r in mp_root_weights], dtype=object)
    previous = np.zeros_like(current)
    sums = np.empty((len(w), kmax + 1), dtype=object)
    magnitudes = np.empty((len(w), kmax + 1), dtype=object)
    for k in tqdm(range(kmax + 1), disable=not progress, desc=f"{kind} modes", unit="mode"):
        sums[:, k] = samples.dot(current)
        magnitudes[:, k] = abs_samples.dot(np.abs(current))
        if k < kmax:
            a_k, b_k = _to_fixed(alpha[k], bits), _to_fixed(beta[k], bits)
            following = ((a_k * fixed_nodes >> bits) * current >> bits) - (b_k * previous >> bits)
            previous, current = current, following
    scale = mpmath.ldexp(1, -2 * bits)
    values = np.vectorize(lambda s: mpmath.mpf(s) * scale, otypes=[object])(sums)
    unit = mpmath.mpf(10) ** (-precision)
    rms = [mpmath.sqrt(sum(mpmath.mpf(s) ** 2 for s in row)) / one for row in samples]
    error = np.vectorize(lambda m: unit * (mpmath.mpf(m) * scale), otypes=[object])(magnitudes)
    error = error + np.array([[unit * r] for r in rms], dtype=object)

    return values, error


@lru_cache(maxsize=16)
def _mp_recurrence(kind, kmax, precision):
    with mpmath.workdps(precision + 10):
        ks = [mpmath.mpf(k) for k in range(max(kmax, 1))]
        if kind == "hermite":
            alpha = [1 / mpmath.sqrt(k + 1) for k in ks]
            beta = [mpmath.sqrt(k / (k + 1)) for k in ks]
        elif kind == "legendre":
            alpha = [mpmath.sqrt((2 * k + 1) * (2 * k + 3)) / (k + 1) for k in ks]
            beta = [k / (k + 1) * mpmath.sqrt((2 * k + 3) / (2 * k - 1)) if k > 0 else
                    mpmath.mpf(0) for k in ks]
        else:
            alpha = [mpmath.sqrt(2) if k == 0 else mpmath.mpf(2) for k in ks]
            beta = [mpmath.mpf(0) if k == 0 else mpmath.sqrt(2) if k == 1 else mpmath.mpf(1)
                    for k in ks]
    return alpha, beta


def _circle_mp(activation, w, b, kmax, precision):
    """Trapezoid rule in t at working precision; M grows until the tail is below 1e-P."""
    rate = (decay_rate(activation, CircleMeasure(), w, b)
            if activation.analyticity == "meromorphic" else 1.0)
    size = 2 * (kmax + 1) + 2 * int(math.ceil(precision * math.log(10) / max(rate, 1e-2))) + 8
    mp_w, mp_b = mpmath.mpf(w), mpmath.mpf(b)
    unit = mpmath.mpf(10) ** (-precision)
    for _ in range(12):
        bits = _fixed_bits(precision, size, kmax)
        table = [mpmath.cos(2 * mpmath.pi * j / size) for j in range(size)]
        fixed_table = np.array([_to_fixed(c, bits) for c in table], dtype=object)
        samples = np.array([_to_fixed(activation.mp_function(mp_w * c + mp_b), bits)
                            for c in table], dtype=object)
        positions = np.arange(size)
        half = size // 2
        tail = max(abs(samples.dot(fixed_table[(k * positions) % size]))
                   for k in range(half - 4, half))
        tail = mpmath.mpf(tail) * mpmath.ldexp(1, -2 * bits) / size * mpmath.sqrt(2)
        scale = abs(mpmath.mpf(int(np.sum(samples)))) * mpmath.ldexp(1, -bits) / size + 1
        if tail <= unit * scale or activation.analyticity == "not_analytic" and size > 1 << 16:
            break
        size *= 2
    sums = [samples.dot(fixed_table[(k * positions) % size]) for k in range(kmax + 1)]
    norm = mpmath.ldexp(1, -2 * bits) / size
    root_two = mpmath.sqrt(2)
    values = np.array([mpmath.mpf(s) * norm * (root_two if k else 1)
                       for k, s in enumerate(sums)], dtype=object)
    error = np.array([tail + unit * scale] * (kmax + 1), dtype=object)
    return values, error
