r"""Exact references: $F(n) = -\log Z(n)$ and $\lambda(n) = dF/d\log n$ where they exist.

$$Z(n) = \int e^{-n(L(\theta) - L_0)}\varphi(\theta)\,d\theta, \qquad
  \lambda(n) = n\,E_n[L - L_0] = -\frac{d\log Z}{d\log n}.$$

Which models have one, and how it is computed (all vectorized over an array of $n$):

* free field theory: $F = \tfrac12\sum_j\log(1 + n\mu_j)$ in closed form (see Concepts);
  regular models likewise with $\mu_i = c_i s^2$;
* scale-mixture correction: $Z = \prod_j E_{s_j}[(1 + ns_j)^{-1/2}]$, each a 1-D
  trapezoid rule in $\log s_j$ (the integrand is analytic in a strip of width $\pi$, so
  the rule converges exponentially);
* two-layer networks of width 1 and 2 (target zero, no bias): the collapsed form
  $Z = E_w[\det(I + n s_a^2 G(w))^{-1/2}]$ (see Concepts) by quadrature over $w$ in
  coordinates that resolve the structure near the degenerate set: $w = e^y$ (width 1);
  $w_1 = \pm e^y$, $w_2 = \pm e^y t$ with $t = 1/(1 + e^{-v})$ (width 2, both
  $t \to 0$: a dead unit, and $t \to 1$: two equal units, are log-resolved) — the sharp
  structure at $|w| \sim n^{-1/2}$ becomes a smooth shift in $y$. $G$ itself by
  Gauss–Legendre panels in $x$ (split at 0, so kinks like relu's are integrated exactly);
* mode-cutoff networks (`CutoffNetworkModel`, `CollapsedCutoffNetworkModel`, and
  `ModeCoordinateModel`, whose $Z(n)$ is the same integral) at widths 1 and 2: the
  same integral with $G$ replaced by $G_K(w) = C_K C_K^\top$, $(G_K)_{ij} =
  \sum_{k\in\mathcal K} c_k(w_i)c_k(w_j)$ over the kept modes, each $c_k$ by the same
  panels (Gaussian: on $[-X, X]$, $X = \max(10, 2\sqrt{k_{max}} + 8)$, beyond which
  $h_k\,\phi$ is below rounding) or, on the circle, a 2048-point trapezoid rule in $t$;
  Both grids stop short of $w = 0$ (width 1: $|w| \ge s e^{-40/d}$; width 2:
  $\max|w_i| \ge s e^{-20}$ and $e^{-36} \le t \le 1 - e^{-36}$). The prior mass $P$ they
  leave out carries an integrand $\le 1$, so the relative error of $Z(n)$ is at most
  $P/Z(n)$; since $Z(n)$ falls like $n^{-\lambda}$, this bound fails at large $n$ (near
  $10^{22}$ at width 1), and `learning_coefficient`/`free_energy` refuse any $n$ where
  it exceeds $10^{-5}$ (an error below $10^{-5}$ in $\lambda$) instead of drifting silently;
* normal crossing $L = \prod w_i^{2k_i}$ with at most two active variables: nested 1-D
  rules, the inner one in closed form when $k = 1$
  ($E_w[e^{-cw^2}] = (1 + 2cs^2)^{-1/2}$);
* $\min(|x|, |y|)$: $Z = \int_0^\infty 4\phi_s(t)\operatorname{erfc}(t/(s\sqrt2))
  e^{-nt}dt$ (the law of $\min(|x|,|y|)$), in $\log t$.

Here the mathematics, as functions of numbers and arrays; `efftheory.exact` dispatches on
the model class (`efftheory.models._exact_references`), and everything else raises
`ExactReferenceUnavailable` naming the reason.
"""

import math

import jax
import jax.numpy as jnp
import numpy as np
import scipy.special

__all__ = ["circle_rule", "cutoff_kernel", "gram_kernel", "kernel_rule", "min_abs_reference",
           "network_reference", "normal_crossing_reference", "scale_mixture_reference"]

_LOG_STEP = 0.05


# ----------------------------------------------------------------------------- helpers


def _log_grid(center: float, lower: float, upper: float, step: float = _LOG_STEP):
    """Trapezoid nodes $y$ on $[c + lower, c + upper]$ and the step."""
    count = int(math.ceil((upper - lower) / step)) + 1
    return center + np.linspace(lower, upper, count), (upper - lower) / (count - 1)


def _radial_rule(dim: int, scale: float):
    r"""Nodes $r$ and weights for $E[f(|w|)]$, $w \sim N(0, s^2 I_d)$, in $y = \log r$."""
    y, step = _log_grid(math.log(scale), -40.0 / dim, math.log(12.0))
    radius = np.exp(y)
    log_density = (math.log(2.0) + dim * (y - math.log(scale)) - radius**2 / (2 * scale**2)
                   - (dim / 2) * math.log(2.0) - scipy.special.gammaln(dim / 2))
    return radius, step * np.exp(log_density)


def _from_terms(weights, factor, integrand):
    """$F = -\\log\\sum W f$, $\\lambda = \\sum W f g/\\sum W f$ over the last axis."""
    partition = np.sum(weights * factor, axis=-1)
    return -np.log(partition), np.sum(weights * factor * integrand, axis=-1) / partition


# ------------------------------------------------------------------------ scale mixture


def _gamma_mode(shape: float, mean: float, n):
    r"""$-\log E[(1+ns)^{-1/2}]$ and its $d/d\log n$ for $s \sim \mathrm{Gamma}(\alpha,
    \text{mean } \mu)$, trapezoid in $y = \log s$."""
    width = 1.0 / math.sqrt(shape)
    lower = -max(45.0 / shape, 10.0 * width)
    upper = max(math.log(45.0 / shape + 1.0) + 1.0, 10.0 * width)
    y, _ = _log_grid(math.log(mean), lower, upper, min(width, 1.0) / 10.0)
    # log density of y = log s up to a constant (self-normalized below)
    log_density = shape * y - shape * np.exp(y) / mean
    weights = np.exp(log_density - log_density.max())
    weights /= weights.sum()
    scaled = n[:, None] * np.exp(y)[None, :]
    return _from_terms(weights, (1.0 + scaled) ** -0.5, 0.5 * scaled / (1.0 + scaled))


def scale_mixture_reference(n, shapes, means):
    r"""$F(n)$ and $\lambda(n)$ at a flat array `n` of the scale mixture
    $Z = \prod_j E_{s_j}[(1 + ns_j)^{-1/2}]$, $s_j \sim \mathrm{Gamma}(\alpha_j,
    \text{mean } \mu_j)$ (`shapes` $\alpha$, `means` $\mu$)."""
    energy, coefficient = np.zeros_like(n), np.zeros_like(n)
    for shape, mean in zip(shapes, means, strict=True):
        mode_energy, mode_coefficient = _gamma_mode(float(shape), float(mean), n)
        energy, coefficient = energy + mode_energy, coefficient + mode_coefficient
    return energy, coefficient


# ----------------------------------------------------------------------- normal crossing


def _power_expectation(exponent: int, scale: float, c):
    r"""$g(c) = E[e^{-cw^{2k}}]$ and $c\,E[w^{2k}e^{-cw^{2k}}]$ for $w \sim N(0, s^2)$."""
    if exponent == 1:
        base = 1.0 + 2.0 * c * scale**2
        return base**-0.5, c * scale**2 * base**-1.5
    radius, weights = _radial_rule(1, scale)
    power = radius ** (2 * exponent)
    decay = np.exp(-c[..., None] * power)
    return decay @ weights, (c[..., None] * power * decay) @ weights


def normal_crossing_reference(n, active, scale: float):
    r"""$F(n)$ and $\lambda(n)$ at a flat array `n` for $L = \prod_i w_i^{2k_i}$ over the
    one or two `active` exponents $k_i > 0$, $w_i \sim N(0, s^2)$: nested 1-D rules."""
    if not 1 <= len(active) <= 2:
        raise ValueError(f"normal_crossing_reference integrates one or two active variables, "
                         f"got {len(active)}.")
    if len(active) == 1:
        factor, derivative = _power_expectation(active[0], scale, n)
        return -np.log(factor), derivative / factor
    # Outer variable k1 by quadrature in log|w|, inner k2 exactly or by quadrature.
    first, second = sorted(active, reverse=True)[0], sorted(active, reverse=True)[1]
    radius, weights = _radial_rule(1, scale)
    strength = n[:, None] * radius[None, :] ** (2 * first)
    inner, inner_derivative = _power_expectation(second, scale, strength)
    partition = inner @ weights
    return -np.log(partition), (inner_derivative @ weights) / partition


# ----------------------------------------------------------------------------- min |x|


def min_abs_reference(n, scale: float):
    r"""$F(n)$ and $\lambda(n)$ at a flat array `n` for $L = \min(|x|, |y|)$ with
    $x, y \sim N(0, s^2)$: $Z = \int_0^\infty 4\phi_s(t)\operatorname{erfc}(t/(s\sqrt2))
    e^{-nt}dt$, in $\log t$."""
    y, step = _log_grid(math.log(scale), -40.0, math.log(12.0))
    t = np.exp(y)
    density = 4.0 * np.exp(-t**2 / (2 * scale**2)) / math.sqrt(2 * math.pi * scale**2) * \
        scipy.special.erfc(t / (scale * math.sqrt(2.0)))
    weights = step * t * density
    scaled = n[:, None] * t[None, :]
    return _from_terms(weights, np.exp(-scaled), scaled)


# ---------------------------------------------------------------------------- networks


def _line_rule(measure_name: str, half_width: float = 10.0):
    """Gauss–Legendre panels for $E_q$ on a line, split at $x = 0$ (Gaussian: on
    $[-X, X]$, $X$ = `half_width`, a multiple of 0.5)."""
    if measure_name == "gaussian":
        edges, per_panel = np.arange(-half_width, half_width + 1e-9, 0.5), 20
    else:
        edges, per_panel = np.linspace(-1.0, 1.0, 17), 20
    unit_nodes, unit_weights = scipy.special.roots_legendre(per_panel)
    half = np.diff(edges)[:, None] / 2
    nodes = (edges[:-1, None] + half * (unit_nodes + 1.0)).ravel()
    weights = (half * unit_weights).ravel()
    if measure_name == "gaussian":
        weights = weights * np.exp(-nodes**2 / 2) / math.sqrt(2 * math.pi)
    else:
        weights = weights / 2.0
    return nodes, weights


def circle_rule():
    r"""The 2048-point trapezoid rule in $t$ on the circle: angles and weights."""
    return 2 * np.pi * np.arange(2048) / 2048, np.full(2048, 1 / 2048)


def kernel_rule(measure_name: str, kmax: int = 0):
    r"""The rule for $E_q$ over the inputs of units with modes up to $k_{max}$:
    the basis coordinates (the angle $t$ on the circle, else $x$), the inputs $x$ fed to
    $\sigma(wx)$ (units at angle 0 on the circle: $\cos t$) and the weights.

    On the line, Gauss–Legendre panels (`measure_name` ``"gaussian"``: on $[-X, X]$,
    $X = \max(10, 2\sqrt{k_{max}} + 8)$ rounded up to a multiple of 0.5, beyond which
    $h_k\,\phi$ is below rounding); on the circle, `circle_rule`.
    """
    if measure_name == "circle":
        angles, weights = circle_rule()
        return angles, np.cos(angles), weights
    nodes, weights = _line_rule(measure_name, max(10.0, math.ceil(
        2 * (2.0 * math.sqrt(kmax) + 8.0)) / 2))
    return nodes, nodes, weights


def _gram_entry(function, nodes, weights, first, second):
    r"""$E_q[\sigma(w_1 x)\sigma(w_2 x)]$ for arrays $w_1, w_2$ (chunked)."""
    first, second = np.broadcast_arrays(np.asarray(first, float), np.asarray(second, float))
    flat_first, flat_second = first.ravel(), second.ravel()
    out = np.empty(flat_first.size)
    nodes, weights = jnp.asarray(nodes), jnp.asarray(weights)
    for start in range(0, flat_first.size, 4096):
        stop = min(start + 4096, flat_first.size)
        out[start:stop] = np.asarray(_gram_kernel(function, jnp.asarray(flat_first[start:stop]),
                                                  jnp.asarray(flat_second[start:stop]),
                                                  nodes, weights))
    return out.reshape(first.shape)


@jax.jit(static_argnums=0)
def _gram_kernel(function, first, second, nodes, weights):
    return (function(first[:, None] * nodes) * function(second[:, None] * nodes)) @ weights


def gram_kernel(function, inputs, weights):
    r"""$(w_1, w_2) \mapsto E_q[\sigma(w_1x)\sigma(w_2x)]$ by the rule (`inputs`,
    `weights`) of `kernel_rule`; `function` is $\sigma$."""
    return lambda first, second: _gram_entry(function, inputs, weights, first, second)


def cutoff_kernel(function, inputs, projection):
    r"""$(w_1, w_2) \mapsto \sum_{k\in\mathcal K} c_k(w_1)c_k(w_2)$ over the kept modes,
    $c_k(w) = \sum_q \sigma(wx_q)P_{qk}$ with `projection` $P_{qk} = \omega_q e_k$ at the
    nodes of `kernel_rule` (circle: cosine and sine of each kept harmonic, units at
    angle 0)."""
    projection = jnp.asarray(projection)
    nodes = jnp.asarray(inputs)

    def coefficients(w):
        flat = np.asarray(w, float).ravel()
        rows = [np.asarray(_coefficient_kernel(function, jnp.asarray(flat[i:i + 4096]), nodes,
                                               projection))
                for i in range(0, flat.size, 4096)]
        return np.concatenate(rows).reshape(*np.shape(w), projection.shape[1])

    def kernel(first, second):
        first, second = np.broadcast_arrays(np.asarray(first, float), np.asarray(second, float))
        return np.sum(coefficients(first) * coefficients(second), axis=-1)
    return kernel


@jax.jit(static_argnums=0)
def _coefficient_kernel(function, w, nodes, projection):
    return function(w[:, None] * nodes) @ projection


# The largest relative error of Z(n) the network references accept (see the docstring).
_NETWORK_TOLERANCE = 1e-5


def _truncation_bound(n, log_partition, kernel, width, input_dim, scale, variance):
    r"""An upper bound on the relative error of $Z(n)$ from the grids' ends (docstring).

    Width 1: the left-out prior mass $P$ (integrand $\le 1$) over $Z(n)$. Width 2: in every
    left-out piece one unit is tiny or the two coincide, so $\det(I + ns_a^2G) \ge
    1 + ns_a^2G_{bb}$ for the larger unit $b$, and the piece is at most its conditional
    probability ($\le 2\cdot e^{-20}\sqrt{2/\pi}$ near the origin, $4\cdot 12\,e^{-36}
    \sqrt{2/\pi}$ at the ends in $t$) times the width-1 partition function $Z_1(n)$.
    """
    if width == 1:
        mass = (scipy.special.gammainc(input_dim / 2, math.exp(-80.0 / input_dim) / 2)
                + scipy.special.gammaincc(input_dim / 2, 72.0))
        return mass * np.exp(log_partition)
    radius, weights = _radial_rule(1, scale)
    diagonal = variance * kernel(radius, radius)
    single = np.array([np.sum(weights / np.sqrt(1.0 + value * diagonal)) for value in n])
    factor = math.sqrt(2.0 / math.pi) * (2.0 * math.exp(-20.0) + 48.0 * math.exp(-36.0))
    tails = 2 * math.erfc(12.0 / math.sqrt(2.0))
    return (factor * single + tails) * np.exp(log_partition)


def network_reference(n, kernel, *, width: int, input_dim: int, weight_scale: float,
                      readout_variance: float):
    r"""$F(n)$ and $\lambda(n)$ at a flat array `n` of a two-layer network of width 1 or 2
    learning zero without bias: $Z = E_w[\det(I + n s_a^2 G(w))^{-1/2}]$ with
    $G_{ij} = $ `kernel`$(w_i, w_j)$ (`gram_kernel` or `cutoff_kernel`),
    $w \sim N(0, s_w^2 I_d)$ (width 2: $d = 1$).

    Raises ValueError at an $n$ where the grids' ends bound the relative error of $Z(n)$
    by more than $10^{-5}$ (module docstring).
    """
    energy, coefficient = _network_terms(n, kernel, width, input_dim, weight_scale,
                                         readout_variance)
    bound = _truncation_bound(n, energy, kernel, width, input_dim, weight_scale,
                              readout_variance)
    if np.any(bound > _NETWORK_TOLERANCE):
        bad = bound > _NETWORK_TOLERANCE
        trusted = n[~bad]
        largest = f"{trusted.max():.3g}" if trusted.size else "none of those asked for"
        raise ValueError(
            f"the exact reference cannot be trusted at n = {n[bad].min():.3g}: its "
            "quadrature stops short of w = 0, and what it leaves out bounds the relative "
            f"error of Z(n) by {bound.max():.1e} > {_NETWORK_TOLERANCE:g} there (Z(n) falls "
            f"like n^-lambda). Largest trusted n among those asked: {largest}; ask for "
            "smaller n.")
    return energy, coefficient


def _network_terms(n, kernel, width, input_dim, scale, variance):
    if width == 1:
        radius, weights = _radial_rule(input_dim, scale)
        gram = kernel(radius, radius)
        scaled = n[:, None] * variance * gram[None, :]
        return _from_terms(weights, (1.0 + scaled) ** -0.5, 0.5 * scaled / (1.0 + scaled))
    # Width 2, d = 1: w1 = e^y, w2 = ±e^y t, t = logistic(v); x -> -x covers the other signs.
    y, step_y = _log_grid(math.log(scale), -20.0, math.log(12.0), 0.08)
    v, step_v = _log_grid(0.0, -36.0, 36.0, 0.12)
    big = np.exp(y)[:, None]
    ratio = (1.0 / (1.0 + np.exp(-v)))[None, :]
    small = big * ratio
    density = np.exp(-(big**2 + small**2) / (2 * scale**2)) / (2 * np.pi * scale**2)
    # dw1 dw2 = a da dt = a^2 t (1 - t) dy dv; x2 for the swap, x2 for (w1, w2) -> (-w1, -w2)
    weights = 4.0 * step_y * step_v * density * big**2 * ratio * (1.0 - ratio)
    first_diagonal = kernel(big, big)
    second_diagonal = kernel(small, small)
    terms, partition_terms = [], []
    for sign in (1.0, -1.0):
        off = kernel(big, sign * small)
        trace = variance * (first_diagonal + second_diagonal)
        determinant = variance**2 * (first_diagonal * second_diagonal - off**2)
        terms.append((trace.ravel(), np.maximum(determinant, 0.0).ravel()))
        partition_terms.append(weights.ravel())
    trace = np.concatenate([t for t, _ in terms])
    determinant = np.concatenate([d for _, d in terms])
    flat_weights = np.concatenate(partition_terms)
    energy, coefficient = np.empty_like(n), np.empty_like(n)
    for index, value in enumerate(n):
        total = 1.0 + value * trace + value**2 * determinant
        factor = total**-0.5
        integrand = 0.5 * (value * trace + 2.0 * value**2 * determinant) / total
        energy[index], coefficient[index] = _from_terms(flat_weights, factor, integrand)
    return energy, coefficient
