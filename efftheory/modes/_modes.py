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
from typing import Literal

import jax.numpy as jnp
import mpmath
import numpy as np

from ._activations import get_activation
from ._measures import GaussianMeasure, check_kmax, get_measure
from ._mode_float64 import float64_coefficients
from ._mode_precision import mp_coefficients
from ._quadrature import decay_rate

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
        values, error = float64_coefficients(activation, measure, w, b, kmax)
        values, error = _exact_values(activation, b, kmax, constant, values, error, None)
        resolved = error <= rtol * jnp.abs(values)
        if below_floor == "nan":
            values = jnp.where(resolved, values, jnp.nan)
    else:
        values, error = mp_coefficients(activation, measure, w, b, kmax, precision, progress)
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
