r"""Mode coefficients in float64 (JAX): each rule of `efftheory.modes._quadrature` projected onto
the basis by its three-term recurrence, and the circle by an FFT. See `efftheory.modes._modes`
for the rules, their accuracy and the error bounds.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np

from ._measures import CircleMeasure, hermite_recurrence, legendre_recurrence, three_term_recurrence
from ._quadrature import decay_rate, line_rules, realize_float64

# Decimal digits of float64: what the rules are designed to resolve.
FLOAT64_DIGITS = 16


def float64_coefficients(activation, measure, w, b, kmax):
    """Coefficients $c_0..c_{k_{max}}$ of every unit and their error bounds, in float64."""
    flat_w, flat_b = w.ravel(), b.ravel()
    if isinstance(measure, CircleMeasure) and not activation.kinks:
        values, error = _circle_float64(activation, flat_w, flat_b, kmax)
    else:
        values = np.zeros((flat_w.size, kmax + 1))
        error = np.zeros((flat_w.size, kmax + 1))
        for rows, rule, kind in line_rules(activation, measure, flat_w, flat_b, kmax,
                                           FLOAT64_DIGITS):
            nodes, log_weights = realize_float64(rule)
            v, e = _project_float64(activation, nodes, log_weights, kind, flat_w[rows],
                                    flat_b[rows], kmax)
            values[rows], error[rows] = v, e
    shape = (*w.shape, kmax + 1)
    return jnp.asarray(values).reshape(shape), jnp.asarray(error).reshape(shape)


def _recurrence(kind: str, kmax: int):
    """(alpha_k, beta_k) of e_{k+1} = alpha_k x e_k - beta_k e_{k-1} for the basis `kind`.

    hermite: h_k; legendre: sqrt(2k+1) P_k; fourier: 1, sqrt2 T_k(x) with x = cos t
    (sqrt2 cos kt), from T_{k+1} = 2x T_k - T_{k-1}.
    """
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
    return values, rounding + 10.0 ** (-FLOAT64_DIGITS) * scale


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
            (FLOAT64_DIGITS + 1) * math.log(10) / max(rate, 1e-3))) + 16)
    return max(64, 1 << (size - 1).bit_length())


def _circle_batch(activation, flat_w, flat_b, kmax, size):
    while True:
        values, tail, rounding = _circle_fft(activation.function, size, jnp.asarray(flat_w),
                                             jnp.asarray(flat_b))
        scale = np.max(np.abs(np.asarray(values[:, :1])), axis=-1, keepdims=True) + 1.0
        converged = np.all(np.asarray(tail) <= 10.0 ** (-FLOAT64_DIGITS) * scale.ravel())
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


