r"""The mode spectrum of an activation under an input measure, for weights from a prior.

`spectrum` computes $c_k(w)^2$ for given weights or for draws $w \sim N(0, s^2)$, their
average $E_w[c_k(w)^2]$ (the prior-averaged spectrum that sets which modes a network of
this activation can excite), fits the decay law of each, and compares the fitted constant
with the one predicted by the activation's nearest complex singularity (Hille 1940).
"""

import csv
import dataclasses
import io
import math
import os
from dataclasses import dataclass, field
from pathlib import Path

import mpmath
import numpy as np

from .._io import atomic_save_figure, atomic_write_json, atomic_write_text
from ._activations import get_activation
from ._fit import fit_decay
from ._measures import check_kmax, get_measure
from ._modes import check_weights, mode_coefficients, predicted_decay
from ._quadrature import decay_rate

MAX_AUTO_PRECISION = 400


@dataclass(frozen=True)
class SpectrumResult:
    """Squared coefficients per weight, their average, fits and predictions."""

    activation: str
    measure: str
    kmax: int
    weights: np.ndarray
    biases: np.ndarray
    log10_squared: np.ndarray  # (num_weights, kmax + 1), NaN where unresolved
    precisions: list
    fits: list = field(default_factory=list)
    average_fit: dict | None = None

    @property
    def average_log10_squared(self) -> np.ndarray:
        """log10 E_w[c_k^2] over the weights, NaN where any weight is unresolved."""
        with np.errstate(invalid="ignore"):
            peak = np.max(self.log10_squared, axis=0)
            return peak + np.log10(np.mean(10.0 ** (self.log10_squared - peak), axis=0))


def _auto_precision(activation, measure, w, b, kmax) -> tuple[int | None, int]:
    """Digits needed to resolve c_kmax (None: float64 suffices), and the kmax they allow."""
    activation = get_activation(activation)
    if activation.analyticity != "meromorphic" or activation.mp_function is None:
        return None, kmax
    rate = decay_rate(activation, measure, w, b)
    exponent = math.sqrt(kmax) if measure.name == "gaussian" else kmax
    digits = rate * exponent / math.log(10) + 6 + 10  # + rtol digits + margin
    if digits <= 14:
        return None, kmax
    if digits <= MAX_AUTO_PRECISION:
        return max(30, int(math.ceil(digits))), kmax
    # Lower kmax to what MAX_AUTO_PRECISION digits resolve for this weight.
    reach = (MAX_AUTO_PRECISION - 16) * math.log(10) / rate
    reachable = int(reach**2 if measure.name == "gaussian" else reach)
    return MAX_AUTO_PRECISION, max(1, min(kmax, reachable))


def spectrum(activation="tanh", measure="gaussian", *, w=None, b=0.0, samples=8,
             prior_scale=1.0, seed=0, kmax=201, precision="auto", progress=None,
             law=None, kmin_fit=5) -> SpectrumResult:
    """Compute and fit the mode spectrum.

    Args:
        activation, measure: as in `mode_coefficients`.
        w: explicit weights (sequence); if None, `samples` draws from N(0, prior_scale^2)
            with `seed`.
        b: bias for every unit.
        kmax: highest mode.
        precision: ``"auto"`` (float64 where it resolves c_kmax, else just enough digits,
            up to 400, lowering kmax for a weight that needs more), None (float64) or an
            integer number of digits.
        law: decay law to fit (default: the measure's predicted law).
        kmin_fit: smallest k used in fits (pre-asymptotic modes excluded).
    """
    activation_obj, measure_obj = get_activation(activation), get_measure(measure)
    kmax = check_kmax(kmax)
    if w is None:
        if not isinstance(samples, int) or samples < 1:
            raise ValueError(f"samples must be a positive integer, got {samples!r}.")
        if not (isinstance(prior_scale, int | float) and prior_scale > 0):
            raise ValueError(f"prior_scale must be positive, got {prior_scale!r}.")
        w = np.random.default_rng(seed).normal(0.0, prior_scale, samples)
    weights, biases = check_weights(np.atleast_1d(w), b)
    if precision != "auto" and precision is not None and not isinstance(precision, int):
        raise ValueError(f"precision must be 'auto', None or an integer, got {precision!r}.")
    if law is None:
        law = {"gaussian": "sqrt_exp", "circle": "exp", "uniform": "exp"}[measure_obj.name]
        if activation_obj.analyticity == "not_analytic":
            law = "power"
    log10_squared = np.full((weights.size, kmax + 1), np.nan)
    precisions = []
    for index, (wi, bi) in enumerate(zip(weights, biases, strict=True)):
        digits, reach = ((precision, kmax) if precision != "auto" else
                         _auto_precision(activation_obj, measure_obj, wi, bi, kmax))
        values = mode_coefficients(activation_obj, measure_obj, w=wi, b=bi, kmax=reach,
                                   precision=digits, progress=progress)
        log10_squared[index, : reach + 1] = _log10_squared(values)
        precisions.append(digits)
    result = SpectrumResult(activation_obj.name, measure_obj.name, kmax, weights,
                            np.asarray(biases), log10_squared, precisions)
    fits = [_fit_row(result, row, law, kmin_fit, float(wi), float(bi), activation_obj,
                     measure_obj)
            for row, (wi, bi) in enumerate(zip(weights, biases, strict=True))]
    average = _fit_log10(np.arange(kmax + 1), result.average_log10_squared, law, kmin_fit)
    return dataclasses.replace(result, fits=fits, average_fit=average)


def _log10_squared(values) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for k, value in enumerate(np.asarray(values, dtype=object).ravel()):
        if isinstance(value, mpmath.mpf):
            if mpmath.isfinite(value) and value != 0:
                out[k] = float(2 * mpmath.log10(abs(value)))
        elif np.isfinite(value) and value != 0:
            out[k] = 2.0 * math.log10(abs(float(value)))
    return out


def _fit_log10(k, log10_squared, law, kmin):
    keep = np.isfinite(log10_squared) & (k >= max(kmin, 1))
    if keep.sum() <= 3:
        return None
    # fit_decay takes |c_k|; rebuild it in mpmath to keep values below 1e-308.
    magnitudes = [mpmath.power(10, mpmath.mpf(v) / 2) for v in log10_squared[keep]]
    fit = fit_decay(k[keep], np.asarray(magnitudes, dtype=object), law)
    return fit._asdict()


def _fit_row(result, row, law, kmin, w, b, activation, measure):
    fit = _fit_log10(np.arange(result.kmax + 1), result.log10_squared[row], law, kmin)
    prediction = predicted_decay(activation, measure, w=w, b=b)
    entry = {"w": w, "b": b, "precision": result.precisions[row], "fit": fit,
             "predicted": prediction}
    if fit and prediction["constant"] is not None and law == prediction["law"]:
        entry["relative_difference"] = fit["rate"] / prediction["constant"] - 1.0
    return entry


def write_spectrum(result: SpectrumResult, out: str | os.PathLike) -> dict[str, Path]:
    """Write ``coefficients.csv``, ``spectrum.json`` and ``spectrum.png`` into `out`."""
    from ._plots import plot_spectrum

    out = Path(out)
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["sample", "w", "b", "k", "log10_c2", "resolved"])
    for row, (wi, bi) in enumerate(zip(result.weights, result.biases, strict=True)):
        for k, value in enumerate(result.log10_squared[row]):
            writer.writerow([row, repr(float(wi)), repr(float(bi)), k,
                             "" if np.isnan(value) else repr(float(value)),
                             int(not np.isnan(value))])
    average = result.average_log10_squared
    for k, value in enumerate(average):
        writer.writerow(["mean", "", "", k, "" if np.isnan(value) else repr(float(value)),
                         int(not np.isnan(value))])
    paths = {"csv": atomic_write_text(out / "coefficients.csv", buffer.getvalue())}
    summary = {
        "activation": result.activation, "measure": result.measure, "kmax": result.kmax,
        "samples": result.fits, "average": {"fit": result.average_fit,
                                            "note": "fit of log E_w[c_k^2] over the samples"},
    }
    paths["json"] = atomic_write_json(out / "spectrum.json", summary)
    figure = plot_spectrum(result)
    paths["png"] = atomic_save_figure(figure, out / "spectrum.png", dpi=130)
    return paths
