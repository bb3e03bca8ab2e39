r"""Kernel eigenvalues of the prior mode covariance in arbitrary precision.

For the two-layer network $f(x) = \sum_{i\le H} a_i\sigma(w_i x)$ with $a_i \sim N(0, s_a^2)$,
$w_i \sim N(0, s_w^2)$ and Gaussian input $x \sim N(0, 1)$, the prior covariance of the mode
amplitudes $u_k = \sum_i a_i c_k(w_i)$ is (see Concepts)

$$\Sigma_{kl} = H s_a^2\,E_w[c_k(w)c_l(w)] = H s_a^2\,(T T^*)_{kl},\qquad
  (Tf)(x) = E_{w\sim N(0,1)}[\sigma(s_w w x) f(w)],$$

because $c_k(w) = (T^* h_k)(w)$ for the orthonormal Hermite basis $h_k$. With both variables
standard normal, $T$ is a *symmetric* integral operator on $L^2(N(0, 1))$, so the eigenvalues
of $\Sigma$ are $\mu_j = H s_a^2\,t_j^2$ with $t_j$ the eigenvalues of $T$. Two consequences
make high precision cheap:

* working with $T$ instead of $\Sigma$ halves the digits needed ($\mu_j/\mu_1 = 10^{-100}$
  needs $t_j/t_1 = 10^{-50}$), and no mode truncation $k \le k_{max}$ enters at all (the
  Hermite expansion of $\sigma(wx)$ converges slowly for large $|w|$; the float64 mode-basis
  eigenvalues of `prior_mode_statistics` carry that truncation error from $j \approx 5$ on);
* for an odd activation $T$ vanishes on even functions and, on odd ones, in logarithmic
  coordinates $w = e^s$, $x = e^t$ its kernel $\sigma(s_w e^{s+t})$ is analytic in a strip
  around the real axis (tanh: poles at $\operatorname{Im}(s + t) = \pi/2$), so the
  trapezoid rule in $s$ converges exponentially in $1/h$ (Trefethen & Weideman 2014,
  SIAM Review 56, Thm. 5.1).

Discretization (Nyström). Trapezoid nodes $s_p = p\,h$ with weights
$g_p^2 = 2h\,e^{s_p}\varphi(e^{s_p})$ ($\varphi$ the standard normal density; the 2 folds
$w < 0$ onto $w > 0$ for odd functions), giving the symmetric matrix
$B_{pq} = g_p\,\sigma(s_w e^{s_p+s_q})\,g_q$ whose eigenvalues approximate the $t_j$.
The nodes with small $w_p < w_c$ ($s_p$ down to where $g_p^2 w_p^3$ is below the
resolution) are many but carry little: there $\sigma(s_w w x) = \sum_{m<M}\tau_m
(s_w w x)^{2m+1}$ converges geometrically for every node $x \le x_{max}$ (tanh: radius
$\pi/2$), so their columns span at most $M$ directions. With $W_{pm} = g_p w_p^{2m+1}$ over
the small nodes and $W^\top W = R^\top R$ (Cholesky of the discrete moment matrix), the
nonzero eigenvalues of $B$ are exactly those of the compressed matrix

$$\begin{pmatrix} B_{ff} & U D R^\top \\ R D U^\top & R D R^\top \end{pmatrix},\qquad
  U_{im} = g_i x_i^{2m+1},\quad D = \mathrm{diag}(\tau_m s_w^{2m+1}),$$

($f$: the nodes with $w \ge w_c$), of size (far nodes) $+ M$. It is tridiagonalized by
Householder reflections in fixed-point integer arithmetic (every entry is bounded by
$\max\sigma$; fixed point loses nothing against the absolute accuracy the discretization
has and is an order of magnitude faster than mpmath floats) and diagonalized by mpmath's
implicit QL (`mpmath.eigsy`'s own tridiagonal solver).

Error estimate. Everything is computed twice, with steps $h$ and $1.15h$ (different nodes,
different matrix sizes); the difference of the two bounds the error of the coarser one,
which is the one whose accuracy the step was not chosen for. An eigenvalue whose estimated
error exceeds `rtol` times its size is returned as NaN, never as a number.
"""

from __future__ import annotations

import math
from functools import lru_cache
from typing import NamedTuple

import mpmath
import numpy as np

__all__ = ["KernelEigenvalues", "kernel_eigenvalues"]

# Odd activations with the radius of convergence of their Taylor series at 0.
_RADIUS = {"tanh": math.pi / 2, "erf": math.inf}
# exp(-c/h) is the trapezoid error for the tanh kernel in log coordinates; c = 5 is
# measured (float64 eigenvalues against h = 0.02: 1e-10 at h = 0.2, 1e-8 at h = 0.3) and
# used with a safety margin below; the two-step comparison checks it on every call.
_TRAPEZOID_RATE = 5.0
_COARSE_FACTOR = 1.15
_TAYLOR_RATIO = 0.1


class KernelEigenvalues(NamedTuple):
    r"""Eigenvalues $\mu_j$ of the prior mode covariance and their error estimates.

    Attributes:
        eigenvalues: $\mu_j = H s_a^2 t_j^2$, descending, as `mpmath.mpf`; NaN where
            unresolved (estimated error above `rtol` times the value).
        errors: estimated absolute error of each $\mu_j$ (the two-step difference), mpf.
        num_resolved: how many leading eigenvalues are resolved (all before the first NaN).
        precision: decimal digits of the computation.
        resolution: absolute size below which no eigenvalue is trusted at this precision.
    """

    eigenvalues: list
    errors: list
    num_resolved: int
    precision: int
    resolution: mpmath.mpf

    def resolved(self) -> list:
        """The leading resolved eigenvalues (mpf), for `crossover_n` and the free theory."""
        return self.eigenvalues[: self.num_resolved]


def _taylor_coefficients(activation: str, count: int) -> list:
    r"""$\tau_m$ with $\sigma(z) = \sum_m \tau_m z^{2m+1}$ (odd activations).

    tanh: $\tau_m = 2^{2n}(2^{2n}-1)B_{2n}/(2n)!$, $n = m + 1$ (Abramowitz & Stegun 4.5.67);
    erf: $\tau_m = \tfrac{2}{\sqrt\pi}(-1)^m/(m!(2m+1))$ (A&S 7.1.5).
    """
    if activation == "tanh":
        return [mpmath.mpf(4) ** (m + 1) * (mpmath.mpf(4) ** (m + 1) - 1)
                * mpmath.bernoulli(2 * m + 2) / mpmath.factorial(2 * m + 2)
                for m in range(count)]
    return [2 / mpmath.sqrt(mpmath.pi) * (-1) ** m / (mpmath.factorial(m) * (2 * m + 1))
            for m in range(count)]


def _fixed_tridiagonal_eigenvalues(matrix: np.ndarray, bits: int) -> list:
    """Eigenvalues of a symmetric matrix of fixed-point integers (scale 2**bits), ascending.

    Householder tridiagonalization (Golub & Van Loan 2013, Alg. 8.3.1) on Python integers in
    numpy object arrays, then mpmath's implicit QL on the tridiagonal matrix.
    """
    a = matrix.copy()
    size = a.shape[0]
    diagonal, offdiagonal = [], []
    for k in range(size - 1):
        column = a[k + 1:, k]
        norm = math.isqrt(int(np.dot(column, column)))
        alpha = -norm if column[0] >= 0 else norm
        diagonal.append(a[k, k])
        offdiagonal.append(alpha)
        if k == size - 2 or norm == 0:
            continue
        v = column.copy()
        v[0] -= alpha
        vv = int(np.dot(v, v))
        trailing = a[k + 1:, k + 1:]
        # p = 2 A v / (v.v), q = p - (v.p / v.v) v, A <- A - v q^T - q v^T.
        p = np.array([(int(x) << (bits + 1)) // vv for x in trailing.dot(v)], dtype=object)
        scale = (int(np.dot(v, p)) << bits) // vv
        q = p - np.array([(scale * int(x)) >> bits for x in v], dtype=object)
        a[k + 1:, k + 1:] = trailing - (np.outer(v, q) + np.outer(q, v)) // (1 << bits)
    diagonal.append(a[size - 1, size - 1])
    unit = mpmath.ldexp(1, -bits)
    d = [mpmath.mpf(int(x)) * unit for x in diagonal]
    e = [mpmath.mpf(int(x)) * unit for x in offdiagonal] + [mpmath.mpf(0)]
    _implicit_ql(d, e, unit * 4 * size)
    return d


def _implicit_ql(d: list, e: list, absolute_tolerance) -> None:
    """Eigenvalues (into `d`, unsorted) of the symmetric tridiagonal matrix (d, e).

    The implicit QL iteration of EISPACK's imtql1 (Martin & Wilkinson 1968, Numer. Math. 12,
    377; Dubrulle 1970), as in `mpmath.eigsy`'s ``tridiag_eigen`` but with an *absolute*
    deflation test as well: the fixed-point tridiagonalization leaves a cluster of
    eigenvalues at its rounding level, which a purely relative test never deflates.
    """
    size = len(d)
    e[size - 1] = 0
    iteration_limit = 4 * mpmath.mp.dps + 50
    for top in range(size):
        iterations = 0
        while True:
            m = top
            while m + 1 < size:
                bound = mpmath.mp.eps * (abs(d[m]) + abs(d[m + 1]))
                if abs(e[m]) <= max(bound, absolute_tolerance):
                    break
                m += 1
            if m == top:
                break
            if iterations >= iteration_limit:
                raise RuntimeError("implicit QL did not converge; raise `precision`.")
            iterations += 1
            g = (d[top + 1] - d[top]) / (2 * e[top])
            r = mpmath.hypot(g, 1)
            g = d[m] - d[top] + e[top] / (g - r if g < 0 else g + r)
            s, c, p = mpmath.mpf(1), mpmath.mpf(1), mpmath.mpf(0)
            for i in range(m - 1, top - 1, -1):
                f = s * e[i]
                b = c * e[i]
                if abs(f) > abs(g):
                    c = g / f
                    r = mpmath.hypot(c, 1)
                    e[i + 1] = f * r
                    s = 1 / r
                    c = c * s
                else:
                    s = f / g
                    r = mpmath.hypot(s, 1)
                    e[i + 1] = g * r
                    c = 1 / r
                    s = s * c
                g = d[i + 1] - p
                r = (d[i] - g) * s + 2 * c * b
                p = s * r
                d[i + 1] = g + p
                g = c * r - b
            d[top] = d[top] - p
            e[top] = g
            e[m] = 0


def _operator_eigenvalues(activation: str, weight_scale: float, digits: int,
                          step: float) -> list:
    r"""Eigenvalues $t_j$ of the discretized symmetric operator $T$ (unsorted, signed)."""
    function = {"tanh": mpmath.tanh, "erf": mpmath.erf}[activation]
    ln10 = math.log(10)
    s_w = mpmath.mpf(weight_scale)
    # Upper end: g^2 below 10^-(2 digits). Lower end of the small-w nodes: g^2 w^3 as small.
    s_high = 0.5 * math.log(4 * (digits + 5) * ln10)
    s_low = -(2 * digits + 10) * ln10 / 3
    x_max = math.exp(s_high)
    radius = min(_RADIUS[activation], math.pi / 2)
    s_cut = math.log(_TAYLOR_RATIO * radius / (weight_scale * x_max))
    terms = int(math.ceil((digits + 10) / (2 * -math.log10(_TAYLOR_RATIO)))) + 1
    first, last = math.floor(s_low / step), math.ceil(s_high / step)
    cut = math.ceil(s_cut / step)  # nodes p >= cut are "far" (kept as nodes)
    far = range(cut, last + 1)
    num_far = len(far)

    def weight(p):
        w = mpmath.exp(p * mpmath.mpf(step))
        return w, mpmath.sqrt(2 * step * w * mpmath.npdf(w))

    far_nodes, far_weights = zip(*(weight(p) for p in far), strict=True)
    # Hankel structure: the kernel depends on p + q only.
    kernel = [function(s_w * mpmath.exp((2 * cut + index) * mpmath.mpf(step)))
              for index in range(2 * num_far - 1)]
    taylor = _taylor_coefficients(activation, terms)
    # Discrete moments sum_p g_p^2 w_p^(2j), j = 1 .. 2 terms, over the small-w nodes, in
    # units of w_c (the moment matrix of (w/w_c)^(2m+1) is then O(1) in size).
    w_cut = mpmath.exp(cut * mpmath.mpf(step))
    moments = [mpmath.mpf(0)] * (2 * terms + 1)
    for p in range(first, cut):
        w, g = weight(p)
        ratio2 = (w / w_cut) ** 2
        power = g * g * ratio2
        for j in range(1, 2 * terms + 1):
            moments[j] += power
            power *= ratio2
    with mpmath.workdps(2 * mpmath.mp.dps + 20):  # the moment matrix is ill-conditioned
        gram = mpmath.matrix(terms, terms)
        for m in range(terms):
            for n in range(terms):
                gram[m, n] = moments[m + n + 1]
        factor = mpmath.cholesky(gram)  # gram = L L^T, R = L^T
    coupling = [taylor[m] * (s_w * w_cut) ** (2 * m + 1) for m in range(terms)]
    size = num_far + terms
    bits = int(math.ceil((digits + 12) * math.log2(10)))

    def fixed(value):
        return int(mpmath.nint(mpmath.ldexp(value, bits)))

    matrix = np.empty((size, size), dtype=object)
    for i in range(num_far):
        for q in range(i, num_far):
            matrix[i, q] = matrix[q, i] = fixed(far_weights[i] * kernel[i + q] * far_weights[q])
    # U D R^T: U_im = g_i x_i^(2m+1) (x in units of 1/w_c is folded into `coupling`).
    for i in range(num_far):
        x = far_nodes[i]
        ux = [far_weights[i] * x ** (2 * m + 1) * coupling[m] for m in range(terms)]
        for row in range(terms):
            value = mpmath.fsum(ux[m] * factor[m, row] for m in range(row, terms))
            matrix[i, num_far + row] = matrix[num_far + row, i] = fixed(value)
    for row in range(terms):
        for r in range(row, terms):
            value = mpmath.fsum(factor[m, row] * coupling[m] * w_cut ** (2 * m + 1) * factor[m, r]
                                for m in range(max(row, r), terms))
            matrix[num_far + row, num_far + r] = matrix[num_far + r, num_far + row] = fixed(value)
    return _fixed_tridiagonal_eigenvalues(matrix, bits)


def _check(activation, weight_scale, precision, rtol):
    if activation not in _RADIUS:
        raise ValueError(
            f"kernel_eigenvalues supports the odd activations {sorted(_RADIUS)} (it needs their "
            f"Taylor series at 0 and the oddness of sigma(wx)), got {activation!r}.")
    if not (isinstance(weight_scale, int | float) and math.isfinite(weight_scale)
            and weight_scale > 0):
        raise ValueError(f"`weight_scale` must be a positive number, got {weight_scale!r}.")
    if isinstance(precision, bool) or not isinstance(precision, int) or precision < 20:
        raise ValueError(f"`precision` must be an integer >= 20 (decimal digits), got "
                         f"{precision!r}.")
    if not (isinstance(rtol, int | float) and 0 < rtol < 1):
        raise ValueError(f"`rtol` must be a number in (0, 1), got {rtol!r}.")


@lru_cache(maxsize=32)
def _operator_spectrum(activation: str, weight_scale: float, precision: int):
    """|t_j| descending at steps h and 1.15 h, the step, and the absolute resolution."""
    digits = precision - 10  # target accuracy of t_j relative to the largest (a guard of 10)
    step = _TRAPEZOID_RATE / ((digits + 5) * math.log(10))
    with mpmath.workdps(precision):
        fine = _operator_eigenvalues(activation, weight_scale, digits, step)
        coarse = _operator_eigenvalues(activation, weight_scale, digits,
                                       _COARSE_FACTOR * step)
        fine = sorted((abs(t) for t in fine), reverse=True)
        coarse = sorted((abs(t) for t in coarse), reverse=True)
    return fine, coarse, mpmath.mpf(10) ** (-digits) * fine[0]


def kernel_eigenvalues(width: int, *, activation: str = "tanh", readout_variance: float = 1.0,
                       weight_scale: float = 1.0, precision: int = 70,
                       rtol: float = 1e-6, count: int | None = None) -> KernelEigenvalues:
    r"""Eigenvalues of the prior mode covariance $\Sigma = H s_a^2 E_w[c(w)c(w)^\top]$ in
    arbitrary precision, each with an error estimate.

    $\mu_j = H s_a^2\,t_j^2$ with $t_j$ the eigenvalues of the symmetric operator
    $(Tf)(x) = E_{w\sim N(0,1)}[\sigma(s_w w x) f(w)]$ on $L^2(N(0, 1))$ (module docstring;
    see Concepts). Gaussian input in one dimension, no bias, odd activation (tanh, erf).

    Args:
        width: $H$ (the eigenvalues scale with $H s_a^2$; the operator spectrum is cached
            per activation, weight scale and precision, so other widths cost nothing).
        activation: ``"tanh"`` or ``"erf"``.
        readout_variance: $s_a^2$ after width scaling (`TwoLayerNetwork.readout_variance`).
        weight_scale: $s_w$.
        precision: decimal digits. The operator eigenvalues are resolved down to about
            $10^{-(P-10)} t_1$, so $\mu_j$ down to about $10^{-2(P-10)}\mu_1$: 70 digits
            reach $\mu_j/\mu_1 \approx 10^{-110}$ (the width-128 tanh spectrum to $j = 128$).
        rtol: an eigenvalue whose estimated relative error exceeds this is NaN.
        count: how many eigenvalues to return (default: all the discretization has).

    Returns:
        `KernelEigenvalues`: the $\mu_j$ (mpf, descending, NaN where unresolved), their
        estimated absolute errors, the number resolved and the resolution.

    Cost: about half a minute for the first call at 70 digits, then cached.
    """
    _check(activation, weight_scale, precision, rtol)
    if isinstance(width, bool) or not isinstance(width, int | np.integer) or width < 1:
        raise ValueError(f"`width` must be a positive integer, got {width!r}.")
    if not (isinstance(readout_variance, int | float) and readout_variance > 0):
        raise ValueError(f"`readout_variance` must be positive, got {readout_variance!r}.")
    fine, coarse, resolution = _operator_spectrum(activation, float(weight_scale), precision)
    with mpmath.workdps(precision):
        scale = mpmath.mpf(int(width)) * mpmath.mpf(readout_variance)
        total = min(len(fine), len(coarse)) if count is None else int(count)
        if total > min(len(fine), len(coarse)):
            raise ValueError(f"`count`={count} exceeds the {min(len(fine), len(coarse))} "
                             f"eigenvalues of the discretization at precision={precision}.")
        values, errors, resolved = [], [], 0
        still_resolved = True
        for j in range(total):
            # |t - t'| bounds the error of the coarse value; |t| itself is more accurate.
            t_error = abs(fine[j] - coarse[j]) + mpmath.mpf(10) ** (-precision) * fine[0]
            mu = scale * fine[j] ** 2
            mu_error = scale * (2 * fine[j] * t_error + t_error**2)
            ok = fine[j] > resolution and mu_error <= rtol * mu
            still_resolved = still_resolved and ok
            resolved += still_resolved
            values.append(mu if still_resolved else mpmath.mpf("nan"))
            errors.append(mu_error)
        return KernelEigenvalues(values, errors, resolved, precision,
                                 scale * resolution**2)
