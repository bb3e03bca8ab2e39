r"""Fits of mode-spectrum decay laws, with standard errors.

Three laws, each linear in its parameters after taking logs (ordinary least squares;
standard errors from the residual variance, $\hat\sigma^2 (X^\top X)^{-1}$):

* ``"sqrt_exp"``: $|c_k|^2 \approx A\,k^{p}\,e^{-C\sqrt k}$ (Hermite modes of an activation
  analytic in a strip; Hille 1940).
* ``"exp"``: $|c_k| \approx A\,e^{-C k}$ (Fourier or Legendre modes of an analytic function).
* ``"power"``: $|c_k| \approx A\,k^{-p}$ (non-analytic activations such as relu).
"""

import math
from typing import Literal, NamedTuple

import mpmath
import numpy as np

DecayLaw = Literal["sqrt_exp", "exp", "power"]


class DecayFit(NamedTuple):
    """A fitted decay law. Unused constants of a law are NaN.

    Attributes:
        law: which law was fitted.
        amplitude, amplitude_stderr: $A$ and the standard error of $\\log A$.
        rate, rate_stderr: $C$ (``sqrt_exp`` and ``exp``).
        exponent, exponent_stderr: $p$ (``sqrt_exp``: the power of $k$ in $|c_k|^2$;
            ``power``: the decay exponent of $|c_k|$).
        num_points: how many coefficients entered the fit.
        residual_std: standard deviation of the residuals in log space.
    """

    law: str
    amplitude: float
    amplitude_stderr: float
    rate: float
    rate_stderr: float
    exponent: float
    exponent_stderr: float
    num_points: int
    residual_std: float

    def predict(self, k):
        """The fitted law at `k`: $|c_k|^2$ for ``sqrt_exp``, $|c_k|$ otherwise."""
        k = np.asarray(k, dtype=np.float64)
        if self.law == "sqrt_exp":
            return self.amplitude * k**self.exponent * np.exp(-self.rate * np.sqrt(k))
        if self.law == "exp":
            return self.amplitude * np.exp(-self.rate * k)
        return self.amplitude * k ** (-self.exponent)


def _log_abs(values) -> np.ndarray:
    """log|c| in float64, also for mpmath numbers far below the float64 range."""
    flat = np.ravel(np.asarray(values, dtype=object))
    out = np.empty(flat.shape, dtype=np.float64)
    for index, value in enumerate(flat):
        if isinstance(value, mpmath.mpf | mpmath.mpc):
            out[index] = (float(mpmath.log(abs(value))) if value != 0 and mpmath.isfinite(value)
                          else (math.nan if not mpmath.isfinite(value) else -math.inf))
        else:
            value = float(value)
            out[index] = math.log(abs(value)) if value != 0 else -math.inf
    return out.reshape(np.shape(values))


def fit_decay(k, c, law: DecayLaw) -> DecayFit:
    r"""Fit a decay law to mode coefficients $c_k$.

    Args:
        k: mode indices (positive for ``"sqrt_exp"`` and ``"power"``).
        c: coefficients (float64, or mpmath numbers from ``precision=...``). Entries that
            are NaN (unresolved, see `mode_coefficients`) or exactly zero are left out
            and counted: ``num_points`` says how many were used.
        law: ``"sqrt_exp"``, ``"exp"`` or ``"power"``.

    Returns:
        A `DecayFit` with the fitted constants and their standard errors.
    """
    if law not in ("sqrt_exp", "exp", "power"):
        raise ValueError(f"law must be 'sqrt_exp', 'exp' or 'power', got {law!r}.")
    k = np.asarray(k, dtype=np.float64).ravel()
    log_c = _log_abs(c).ravel()
    if k.shape != log_c.shape:
        raise ValueError(f"k and c must have the same length, got {k.size} and {log_c.size}.")
    keep = np.isfinite(log_c)
    k, log_c = k[keep], log_c[keep]
    if law in ("sqrt_exp", "power") and np.any(k <= 0):
        raise ValueError(f"law={law!r} needs k > 0; drop k = 0 from the fit.")
    if law == "sqrt_exp":
        response, design = 2.0 * log_c, np.stack([np.ones_like(k), np.log(k), -np.sqrt(k)], 1)
    elif law == "exp":
        response, design = log_c, np.stack([np.ones_like(k), -k], 1)
    else:
        response, design = log_c, np.stack([np.ones_like(k), -np.log(k)], 1)
    num_points, num_params = design.shape
    if num_points <= num_params:
        raise ValueError(f"law={law!r} needs more than {num_params} resolved, nonzero "
                         f"coefficients; got {num_points}. Raise kmax or precision.")
    coefficients, *_ = np.linalg.lstsq(design, response, rcond=None)
    residuals = response - design @ coefficients
    variance = residuals @ residuals / (num_points - num_params)
    stderr = np.sqrt(np.diag(variance * np.linalg.inv(design.T @ design)))
    nan = math.nan
    log_amplitude, log_amplitude_se = coefficients[0], stderr[0]
    if law == "sqrt_exp":
        exponent, exponent_se = coefficients[1], stderr[1]
        rate, rate_se = coefficients[2], stderr[2]
    elif law == "exp":
        exponent, exponent_se, rate, rate_se = nan, nan, coefficients[1], stderr[1]
    else:
        exponent, exponent_se, rate, rate_se = coefficients[1], stderr[1], nan, nan
    return DecayFit(law, float(np.exp(log_amplitude)), float(log_amplitude_se), float(rate),
                    float(rate_se), float(exponent), float(exponent_se), int(num_points),
                    float(math.sqrt(variance)))
