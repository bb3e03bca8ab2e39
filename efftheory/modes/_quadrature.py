r"""Quadrature rules built inside efftheory, in one place (the input measures' own rules,
Gauss–Hermite, Gauss–Legendre and the trapezoid in $t$, are `efftheory.modes._measures`').

* Rules for mode coefficients, realizable in float64 or at any precision (see
  `efftheory.modes._modes` for how each measure is integrated and why). They are chosen from
  the activation's analytic structure so that their discretization error is below the
  working precision: trapezoid on the line for analytic activations (error
  $O(e^{-2\pi d/h})$ for a strip of half-width $d$; Trefethen & Weideman 2014, SIAM
  Review 56, Thm. 5.1), Clenshaw–Curtis panels split at kinks otherwise (weights by FFT,
  Waldvogel 2006, BIT 46).
* Trapezoid rules for a Gaussian on a truncated line: $N(0, 1)$ in $x$ with log weights
  (`gaussian_trapezoid`: the loss's rule for Gaussian inputs; `mode_trapezoid`: the
  mode-cutoff projection's) and $N(0, s^2)$ over a weight (`normal_trapezoid`: prior
  moments of mode coefficients).
"""
import cmath
import math
from functools import lru_cache
from typing import NamedTuple

import jax.numpy as jnp
import mpmath
import numpy as np

from ._activations import Activation
from ._measures import (
    CircleMeasure,
    GaussianMeasure,
    InputMeasure,
    Quadrature,
    UniformMeasure,
)


def decay_rate(activation: Activation, measure: InputMeasure, w: float, b: float) -> float:
    """Per-mode exponential rate of |c_k|: tau (in sqrt k) or log rho / circle distance."""
    if w == 0.0:
        return math.inf
    zeta = activation.singularity
    point = complex((zeta - b) / w)
    if isinstance(measure, GaussianMeasure):
        return abs(point.imag)
    if isinstance(measure, CircleMeasure):
        return abs(cmath.acos(point).imag)
    root = cmath.sqrt(point * point - 1.0)
    return max(math.log(abs(point + root)), math.log(abs(point - root)))


def _strip_and_growth(activation: Activation, w_abs: float, b_abs: float):
    """Strip half-width d used by the trapezoid rule and log of the integrand's growth."""
    if activation.analyticity == "meromorphic":
        tau = abs(activation.singularity.imag) / max(w_abs, 1e-300)
        distance = 0.75 * tau
        return distance, math.log(8.0 / 0.25)
    # Entire or unknown: |sigma(w(x + iy) + b)| grows at most like exp(w^2 y^2) for the
    # named entire activations (erf, gelu); pick d so that this growth stays moderate.
    distance = min(2.0, 1.5 / max(w_abs, 1e-300))
    return distance, (w_abs * distance) ** 2 + math.log(1.0 + b_abs + 1.0)


class Rule(NamedTuple):
    """A quadrature rule, realizable in float64 or at any precision.

    ``trapezoid``: nodes ``step * j`` for ``|j| <= count``, the N(0, 1) density folded into
    the weights. ``panels``: Clenshaw–Curtis with ``per_panel + 1`` points on each
    ``[edges[i], edges[i+1]]``, weighted by the N(0, 1) density (``density="gaussian"``),
    by 1/2 on [-1, 1] (``"uniform"``) or by 1/(2 pi) in the angle t (``"circle"``, whose
    basis recurrence then runs in x = cos t).
    """

    kind: str
    step: float = 0.0
    count: int = 0
    edges: tuple[float, ...] = ()
    per_panel: int = 0
    density: str = "gaussian"


def gaussian_rule(activation, w_abs_max, b_abs_max, kmax, digits, kink=None) -> Rule:
    log_target = digits * math.log(10.0) + 2.0
    half_width = 2.0 * math.sqrt(log_target + math.log(2.0 + b_abs_max + 2 * w_abs_max)) + 1.0
    if kink is None:
        distance, log_growth = _strip_and_growth(activation, w_abs_max, b_abs_max)
        step = 2.0 * math.pi * distance / (
            log_target + math.sqrt(2.0 * kmax + 1.0) * distance + distance**2 / 4 + log_growth
        )
        return Rule("trapezoid", step=step, count=int(math.ceil(half_width / step)))
    lower, upper = -half_width + min(kink, 0.0), half_width + max(kink, 0.0)
    edges = np.concatenate([kink - np.arange(0.0, kink - lower + 1.0)[::-1],
                            kink + np.arange(1.0, upper - kink + 1.0)])
    # On a unit panel the Hermite function oscillates with wavenumber <= sqrt(2k + 1).
    per_panel = 2 * int(math.ceil(math.sqrt(2.0 * kmax + 1.0) + 1.3 * digits + 10))
    return Rule("panels", edges=tuple(float(e) for e in np.unique(edges)), per_panel=per_panel)


def kink_location(activation, w, b):
    """Where w x + b crosses a kink of sigma (x on the line), or None."""
    if not activation.kinks or w == 0.0:
        return None
    return (activation.kinks[0] - b) / w


def uniform_rule(activation, w, b, kmax, digits, kink=None) -> Rule:
    if kink is not None and -1.0 < kink < 1.0:
        # sigma is a polynomial of degree <= 1 on each side (relu): exact with k + 2 points.
        return Rule("panels", edges=(-1.0, kink, 1.0), per_panel=kmax + 8, density="uniform")
    if activation.analyticity == "meromorphic":
        rate = min(decay_rate(activation, UniformMeasure(), float(wi), float(bi))
                   for wi, bi in zip(np.ravel(w), np.ravel(b), strict=True))
        count = int(math.ceil(kmax + digits * math.log(10) / max(rate, 1e-3))) + 32
    else:
        count = 2 * kmax + 16 * digits + 64
    return Rule("panels", edges=(-1.0, 1.0), per_panel=min(count, 40000), density="uniform")


def circle_kink_rule(activation, w, b, kmax, digits) -> Rule:
    """Panels in t split where w cos t + b crosses the kink."""
    edges = list(np.linspace(0.0, 2.0 * np.pi, 17))
    level = (activation.kinks[0] - b) / w if w != 0 else math.inf
    if -1.0 < level < 1.0:
        angle = math.acos(level)
        edges += [angle, 2.0 * math.pi - angle]
    edges = np.unique(np.asarray(edges))
    width = float(np.max(np.diff(edges)))
    per_panel = 2 * int(math.ceil(kmax * width / 2 + 1.3 * digits + 10))
    return Rule("panels", edges=tuple(float(e) for e in edges), per_panel=per_panel,
                 density="circle")


def line_rules(activation, measure, flat_w, flat_b, kmax, digits):
    """Group units that share a quadrature rule: all of them unless there are kinks.

    Yields ``(rows, rule, kind)``: the units' indices, their `Rule` and the basis
    (``"hermite"``, ``"legendre"`` or ``"fourier"``).
    """
    kind = {"gaussian": "hermite", "uniform": "legendre", "circle": "fourier"}[measure.name]
    if kind == "fourier":
        for index, (wi, bi) in enumerate(zip(flat_w, flat_b, strict=True)):
            yield np.asarray([index]), circle_kink_rule(activation, float(wi), float(bi), kmax,
                                                        digits), kind
        return
    groups: dict = {}
    for index, (wi, bi) in enumerate(zip(flat_w, flat_b, strict=True)):
        kink = kink_location(activation, float(wi), float(bi))
        groups.setdefault(None if kink is None else round(kink, 14), []).append(index)
    w_abs_max = float(np.max(np.abs(flat_w), initial=0.0))
    b_abs_max = float(np.max(np.abs(flat_b), initial=0.0))
    for kink, rows in groups.items():
        rows = np.asarray(rows)
        if kind == "hermite":
            rule = gaussian_rule(activation, w_abs_max, b_abs_max, kmax, digits, kink)
        else:
            rule = uniform_rule(activation, flat_w[rows], flat_b[rows], kmax, digits, kink)
        yield rows, rule, kind


def _clenshaw_curtis(count: int):
    """Clenshaw–Curtis points cos(pi j / n) and weights on [-1, 1], n = count.

    Weights by the FFT construction of Waldvogel 2006 (BIT 46, 195–202, §2), accurate to
    machine precision at any n (unlike Golub–Welsch Gauss weights, which lose digits).
    """
    n = count
    odd = np.arange(1, n, 2)
    length, m = len(odd), n - len(odd)
    v0 = np.concatenate([2.0 / odd / (odd - 2), [1.0 / odd[-1]], np.zeros(m)])
    v2 = -v0[:-1] - v0[:0:-1]
    g0 = -np.ones(n)
    g0[length] += n
    g0[m] += n
    weights = np.fft.ifft(v2 + g0 / (n**2 - 1 + n % 2)).real
    return np.cos(np.pi * np.arange(n + 1) / n), np.concatenate([weights, weights[:1]])


@lru_cache(maxsize=32)
def _mp_clenshaw_curtis(count: int, precision: int):
    """The same rule at working precision (Trefethen 2000, *Spectral Methods in MATLAB*,
    program clencurt): w_j = (c_j/n)[1 - sum_k b_k cos(2k theta_j)/(4k^2 - 1)]."""
    n = count
    with mpmath.workdps(precision + 10):
        table = [mpmath.cos(mpmath.pi * j / n) for j in range(2 * n)]
        weights = []
        for j in range(n + 1):
            total = mpmath.mpf(1)
            for k in range(1, n // 2 + 1):
                total -= (1 if 2 * k == n else 2) * table[(2 * k * j) % (2 * n)] / (4 * k * k - 1)
            weights.append((1 if j in (0, n) else 2) * total / n)
        return tuple(table[: n + 1]), tuple(weights)


def _density(rule: Rule, nodes, *, mp: bool):
    if rule.density == "gaussian":
        return [mpmath.npdf(x) for x in nodes] if mp else np.exp(-nodes**2 / 2) / math.sqrt(
            2 * math.pi)
    value = 0.5 if rule.density == "uniform" else 1.0 / (2.0 * math.pi)
    return [mpmath.mpf(value) if rule.density == "uniform" else 1 / (2 * mpmath.pi)
            for _ in nodes] if mp else np.full(np.shape(nodes), value)


def realize_float64(rule: Rule):
    """Nodes (in the basis variable: x, or cos t for the circle) and log weights."""
    if rule.kind == "trapezoid":
        nodes = rule.step * np.arange(-rule.count, rule.count + 1, dtype=np.float64)
        return nodes, math.log(rule.step) - nodes**2 / 2.0 - 0.5 * math.log(2.0 * math.pi)
    unit_nodes, unit_weights = _clenshaw_curtis(rule.per_panel)
    edges = np.asarray(rule.edges)
    half = np.diff(edges)[:, None] / 2.0
    nodes = (edges[:-1, None] + half * (unit_nodes[None, :] + 1.0)).ravel()
    weights = (half * unit_weights[None, :]).ravel() * _density(rule, nodes, mp=False)
    keep = weights > 0
    nodes, weights = nodes[keep], weights[keep]
    if rule.density == "circle":
        nodes = np.cos(nodes)
    return nodes, np.log(weights)


def realize_mp(rule: Rule, precision: int):
    """Nodes and square-root weights of a rule at the current mpmath precision."""
    if rule.kind == "trapezoid":
        step = mpmath.mpf(rule.step)
        nodes = [step * j for j in range(-rule.count, rule.count + 1)]
        log_norm = mpmath.log(step) - mpmath.log(2 * mpmath.pi) / 2
        return nodes, [mpmath.exp((log_norm - x * x / 2) / 2) for x in nodes]
    unit_nodes, unit_weights = _mp_clenshaw_curtis(rule.per_panel, precision)
    nodes, weights = [], []
    for lower, upper in zip(rule.edges[:-1], rule.edges[1:], strict=True):
        lower, upper = mpmath.mpf(lower), mpmath.mpf(upper)
        half = (upper - lower) / 2
        for x, weight in zip(unit_nodes, unit_weights, strict=True):
            nodes.append(lower + half * (x + 1))
            weights.append(half * weight)
    weights = [w * d for w, d in zip(weights, _density(rule, nodes, mp=True), strict=True)]
    if rule.density == "circle":
        nodes = [mpmath.cos(t) for t in nodes]
    return nodes, [mpmath.sqrt(w) for w in weights]


# ----------------------------------------------------------------- Gaussian trapezoids

# Half-width of the trapezoid rule for N(0, 1): the density beyond it is below e^{-50}.
GAUSSIAN_HALF_WIDTH = 10.0


def gaussian_trapezoid(num_nodes: int, half_width: float = GAUSSIAN_HALF_WIDTH
                       ) -> tuple[np.ndarray, np.ndarray]:
    r"""Trapezoid nodes on $[-X, X]$ ($X$ = `half_width`) and log weights
    $\log(h\,\phi(x_j))$ for $N(0, 1)$.

    For an integrand analytic in the strip $|\operatorname{Im} x| < \tau$ the error falls
    like $e^{-2\pi\tau/h}$ (Trefethen & Weideman 2014, SIAM Review 56, Thm. 5.1), far
    faster in $Q$ than Gauss–Hermite for nearly singular $\sigma(wx)$ at large $|w|$.
    """
    nodes = np.linspace(-half_width, half_width, num_nodes)
    step = nodes[1] - nodes[0]
    return nodes, math.log(step) - nodes**2 / 2.0 - 0.5 * math.log(2.0 * math.pi)


def mode_trapezoid(num_nodes: int, kmax: int) -> Quadrature:
    r"""`gaussian_trapezoid` on $[-X, X]$, $X = \max(10, 2\sqrt{k_{max}} + 8)$, for
    projecting onto Hermite modes up to $k_{max}$: beyond the turning point $2\sqrt k$ the
    Hermite functions decay faster than Gaussian, so the truncated tail is below rounding.
    For $\sigma(wx)$ analytic in a strip the rule converges exponentially in $Q$, far faster
    than Gauss–Hermite for nearly singular units."""
    nodes, log_weights = gaussian_trapezoid(num_nodes, max(GAUSSIAN_HALF_WIDTH,
                                                           2.0 * math.sqrt(kmax) + 8.0))
    nodes, log_weights = jnp.asarray(nodes), jnp.asarray(log_weights)
    return Quadrature(nodes, nodes[:, None], jnp.exp(log_weights), log_weights)


def normal_trapezoid(num_nodes: int, scale: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Nodes $w_p$ and weights $W_p = h\,N(w_p; 0, s^2)$ of the trapezoid rule for
    $w \sim N(0, s^2)$ on $[-10s, 10s]$ ($s$ = `scale`)."""
    grid = np.linspace(-10.0 * scale, 10.0 * scale, num_nodes)
    step = grid[1] - grid[0]
    density = step * np.exp(-grid**2 / (2 * scale**2)) / math.sqrt(2 * math.pi * scale**2)
    return grid, density
