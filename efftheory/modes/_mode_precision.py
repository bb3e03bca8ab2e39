r"""Mode coefficients at arbitrary precision: the rules of `efftheory.modes._quadrature` in
fixed-point integer arithmetic carrying $P$ digits plus guard bits, activations by mpmath
at $P + 10$ digits, and the circle by the trapezoid rule in $t$. See `efftheory.modes._modes`
for the rules, their accuracy and the error bounds.
"""

import math
from functools import lru_cache

import mpmath
import numpy as np
from tqdm.auto import tqdm

from ._measures import CircleMeasure
from ._quadrature import decay_rate, line_rules, realize_mp


def mp_coefficients(activation, measure, w, b, kmax, precision, progress):
    """Coefficients $c_0..c_{k_{max}}$ of every unit and their error bounds, as object
    arrays of `mpmath.mpf` at `precision` decimal digits."""
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
    alpha, beta = _mp_recurrence(kind, kmax, precision)
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
