r"""Catalogue of geometric learning coefficients (RLCTs) from the literature.

Every entry returns an `RLCT`: the real log canonical threshold $\lambda$ (exact
`fractions.Fraction` whenever the formula is rational), its multiplicity $m$, the
literature source, and a label saying *which* RLCT it is (global, local on a stratum, ...).
These are the $n \to \infty$ asymptotes against which measured $\hat\lambda(n)$ and the
effective mode theory are compared:

$$F(n) = n L_0 + \lambda \log n - (m - 1) \log\log n + O_p(1).$$
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

__all__ = [
    "RLCT",
    "asymptotic_free_energy",
    "dln_rlct",
    "normal_crossing_rlct",
    "regular_rlct",
    "rrr_rlct",
    "sum_rlct",
    "tanh_zero_generic_stratum_rlct",
    "tanh_zero_rlct",
]

_WATANABE_2009 = (
    "S. Watanabe (2009), Algebraic Geometry and Statistical Learning Theory, "
    "Cambridge University Press"
)
_AOYAGI_WATANABE_2005_RRR = (
    "M. Aoyagi and S. Watanabe (2005), Stochastic complexities of reduced rank regression "
    "in Bayesian estimation, Neural Networks 18(7):924-933, Main Theorem"
)
_AOYAGI_WATANABE_2005_TANH = (
    "M. Aoyagi and S. Watanabe (2005), Resolution of singularities and the generalization "
    "error with Bayesian estimation for layered neural network, IEICE Trans. J88-D-II(10) "
    "(reproduced in Watanabe 2009, Section 7)"
)
_AOYAGI_2024_DLN = (
    "M. Aoyagi (2024), Consideration on the learning efficiency of multiple-layered neural "
    "networks with linear units, Neural Networks 172:106132, Theorem 2 with Definition 3"
)


@dataclasses.dataclass(frozen=True)
class RLCT:
    """A learning coefficient with its multiplicity, provenance and meaning.

    Attributes:
        learning_coefficient: the RLCT $\\lambda$; a `Fraction` when the formula is rational.
        multiplicity: the order $m$ of the largest pole of the zeta function.
        source: the paper and theorem the value comes from.
        label: which RLCT this is (e.g. "global RLCT (origin)" or a local one on a stratum).
    """

    learning_coefficient: Fraction | float
    multiplicity: int
    source: str
    label: str

    def __float__(self) -> float:
        return float(self.learning_coefficient)


# --------------------------------------------------------------------------- validation


def _positive_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 1:
        raise ValueError(f"`{name}` must be a positive integer, got {value!r}.")
    return int(value)


def _nonnegative_int(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or int(value) < 0:
        raise ValueError(f"`{name}` must be a non-negative integer, got {value!r}.")
    return int(value)


def _exact_or_float(value: object, name: str) -> Fraction | float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"`{name}` must be a real number, got {value!r}.")
    if isinstance(value, numbers.Rational):
        return Fraction(int(value.numerator), int(value.denominator))
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"`{name}` must be finite, got {value!r}.")
    return value


# --------------------------------------------------------------------------- catalogue


def regular_rlct(d: int) -> RLCT:
    r"""Learning coefficient of a regular model with `d` parameters.

    $$\lambda = d/2, \qquad m = 1.$$

    Source: S. Watanabe (2009), *Algebraic Geometry and Statistical Learning Theory*,
    Ch. 1 and Ch. 6 (regular case of Main Formula II: the BIC penalty $\tfrac{d}{2}\log n$).
    """
    d = _positive_int(d, "d")
    return RLCT(Fraction(d, 2), 1, _WATANABE_2009 + ", regular models", "regular model (d/2)")


def normal_crossing_rlct(
    exponents: Sequence[int], prior_exponents: Sequence[numbers.Real] | None = None
) -> RLCT:
    r"""RLCT of a loss already in normal-crossing form at the origin.

    For $K(w) = \prod_i w_i^{2k_i}$ and prior density $\varphi(w) \propto \prod_i |w_i|^{h_i}$
    near $0$ (times a positive smooth function),

    $$\lambda = \min_{i:\,k_i > 0} \frac{h_i + 1}{2 k_i}, \qquad
      m = \#\{i : k_i > 0,\ (h_i + 1)/(2k_i) = \lambda\}.$$

    Variables with $k_i = 0$ do not appear in $K$ and are excluded.

    Source: S. Watanabe (2009), Algebraic Geometry and Statistical Learning Theory,
    Ch. 6, standard form (Main Formula I): for $K = w^{2k}$, $\varphi = |w^h| b(w)$ the
    zeta function $\zeta(z) = \int K^z \varphi\,dw$ has its poles at $-(h_i+1)/(2k_i)$,
    the largest with order equal to the number of indices attaining it.

    Args:
        exponents: the $k_i \ge 0$ (integers), at least one positive.
        prior_exponents: the $h_i > -1$ (default all $0$). Rationals give an exact result;
            floats give a float.
    """
    exponents = [_nonnegative_int(k, f"exponents[{i}]") for i, k in enumerate(exponents)]
    if not any(exponents):
        raise ValueError(
            "`exponents` needs at least one positive k_i: with all k_i = 0 the loss is "
            "constant and has no RLCT."
        )
    if prior_exponents is None:
        prior = [Fraction(0)] * len(exponents)
    else:
        if len(prior_exponents) != len(exponents):
            raise ValueError(
                f"`prior_exponents` must have one entry per variable ({len(exponents)}), "
                f"got {len(prior_exponents)}."
            )
        prior = [_exact_or_float(h, f"prior_exponents[{i}]") for i, h in enumerate(prior_exponents)]
        for i, h in enumerate(prior):
            if h <= -1:
                raise ValueError(
                    f"`prior_exponents[{i}]` = {h} makes the prior non-integrable at 0; "
                    "each h_i must be > -1."
                )
    ratios = [(h + 1) / (2 * k) for k, h in zip(exponents, prior, strict=True) if k > 0]
    learning_coefficient = min(ratios)
    multiplicity = sum(1 for ratio in ratios if ratio == learning_coefficient)
    return RLCT(
        learning_coefficient,
        multiplicity,
        _WATANABE_2009 + ", Theorem 6.1 (normal crossing)",
        "normal crossing at the origin",
    )


def sum_rlct(*parts: RLCT) -> RLCT:
    r"""RLCT of $K_1(w^{(1)}) + K_2(w^{(2)}) + \cdots$ over disjoint groups of variables.

    With independent priors on the groups the zeta function factorises into a convolution
    of the groups' state densities, so

    $$\lambda = \sum_g \lambda_g, \qquad m - 1 = \sum_g (m_g - 1).$$

    Source: the product rule for zeta functions of functions of disjoint variables, e.g.
    S. Lin (2011), PhD thesis (UC Berkeley), "Algebraic methods for evaluating integrals
    in Bayesian statistics", Ch. 3 (RLCTs of sums of ideals in disjoint variables).
    """
    if not parts:
        raise ValueError("`sum_rlct` needs at least one RLCT part.")
    for i, part in enumerate(parts):
        if not isinstance(part, RLCT):
            raise ValueError(f"part {i} must be an RLCT, got {type(part).__name__}.")
    learning_coefficient = sum((part.learning_coefficient for part in parts), Fraction(0))
    multiplicity = 1 + sum(part.multiplicity - 1 for part in parts)
    return RLCT(
        learning_coefficient,
        multiplicity,
        "sum over disjoint variable groups of: " + "; ".join(part.source for part in parts),
        " + ".join(part.label for part in parts),
    )


def tanh_zero_rlct(H: int) -> RLCT:
    r"""Global RLCT of a one-input two-layer tanh network learning the zero function.

    Model $f(x) = \sum_{h=1}^H a_h \tanh(b_h x)$, true function $0$. With
    $i = \lfloor\sqrt{H}\rfloor$,

    $$\lambda = \frac{H + i^2 + i}{4i + 2}, \qquad
      m = \begin{cases} 2 & i^2 = H \\ 1 & i^2 < H \end{cases}$$

    ($H = 128$: $i = 11$, $\lambda = 130/23 \approx 5.65$.) This is the RLCT at the origin,
    the deepest singularity; it is *not* the local RLCT $H/2$ of the generic stratum
    $\{a = 0,\ b \text{ generic}\}$ (see `tanh_zero_generic_stratum_rlct`).

    Multiplicity: $m = 2$ iff $H$ is a perfect square, as stated by Aoyagi & Watanabe; we
    could not re-read the original theorem here, but the $H = 1$ case is checked
    independently: $K \approx \tfrac12 E[x^2]\, a^2 b^2$ is a normal crossing with
    $\lambda = 1/2$, $m = 2$, matching the formula.

    Caveat (input distribution): Watanabe's theory needs an analytic loss. For compactly
    supported inputs (interval, circle) the loss is analytic and the formula holds. For
    Gaussian inputs $L$ is smooth but not analytic at $b = 0$ (Gaussian moments grow
    factorially), so the formula is only conjectural there.

    Source: M. Aoyagi and S. Watanabe (2005), "Resolution of singularities and the
    generalization error with Bayesian estimation for layered neural network", IEICE Trans.
    J88-D-II(10):2112-2124, Main Theorem; restated in S. Watanabe (2009), Algebraic
    Geometry and Statistical Learning Theory, Ch. 7 (three-layered network example);
    method of M. Aoyagi and S. Watanabe (2005), Neural Networks 18(7):924-933.
    """
    H = _positive_int(H, "H")
    i = math.isqrt(H)
    learning_coefficient = Fraction(H + i * i + i, 4 * i + 2)
    multiplicity = 2 if i * i == H else 1
    return RLCT(
        learning_coefficient, multiplicity, _AOYAGI_WATANABE_2005_TANH, "global RLCT (origin)"
    )


def tanh_zero_generic_stratum_rlct(H: int) -> RLCT:
    r"""Local RLCT of the tanh learning-zero network on its generic stratum.

    On $\{a = 0,\ b \text{ generic}\}$ (all $b_h$ distinct and non-zero) the functions
    $\tanh(b_h x)$ are linearly independent, so the loss is a non-degenerate quadratic
    form in the $H$ output weights and flat in the $H$ inner weights:

    $$\lambda_{\text{local}} = H/2, \qquad m = 1$$

    ($H = 128$: $\lambda = 64$ for 256 parameters). Compare the global value
    `tanh_zero_rlct(H)`; never conflate them.

    Same caveat as `tanh_zero_rlct`: guaranteed for compactly supported inputs; for Gaussian
    inputs the loss is not analytic at $b = 0$ (this matters for the global value, not for
    this stratum, whose points have $b \ne 0$).

    Source: local RLCT of a quadratic form of rank $H$ (S. Watanabe 2009, regular case
    applied in the normal directions), as used in the effective-theory comparison of
    the source post, *Learning zero, and what SLT gets wrong about it*.
    """
    H = _positive_int(H, "H")
    return RLCT(
        Fraction(H, 2),
        1,
        _WATANABE_2009 + ", regular case in the H directions normal to the stratum",
        "local RLCT on the generic stratum {a = 0, w generic}",
    )


def rrr_rlct(M: int, N: int, H: int, r: int) -> RLCT:
    r"""RLCT of reduced rank regression $y = BAx$ ($A$: $H\times M$, $B$: $N\times H$).

    Input dimension $M$, output $N$, hidden $H$, true rank $r$. Four regimes:

    1. $N + r \le M + H$, $M + r \le N + H$, $H + r \le M + N$:
       $\lambda = [2(H+r)(M+N) - (M-N)^2 - (H+r)^2]/8$, $m = 1$, except when $M+N+H+r$
       is odd, where $\lambda$ gains $+1/8$ and $m = 2$.
    2. $M + H < N + r$: $\lambda = (HM - Hr + Nr)/2$, $m = 1$.
    3. $N + H < M + r$: $\lambda = (HN - Hr + Mr)/2$, $m = 1$.
    4. $M + N < H + r$: $\lambda = MN/2$, $m = 1$.

    Source: M. Aoyagi and S. Watanabe (2005), "Stochastic complexities of reduced rank
    regression in Bayesian estimation", Neural Networks 18(7):924-933, Main Theorem.
    """
    M = _positive_int(M, "M")
    N = _positive_int(N, "N")
    H = _positive_int(H, "H")
    r = _nonnegative_int(r, "r")
    if r > min(M, N, H):
        raise ValueError(
            f"`r` = {r} exceeds min(M, N, H) = {min(M, N, H)}: the true map BA has rank at "
            "most min(M, N, H); lower r or widen the layers."
        )
    if M + H < N + r:
        value, regime = Fraction(H * M - H * r + N * r, 2), "M + H < N + r"
        multiplicity = 1
    elif N + H < M + r:
        value, regime = Fraction(H * N - H * r + M * r, 2), "N + H < M + r"
        multiplicity = 1
    elif M + N < H + r:
        value, regime = Fraction(M * N, 2), "M + N < H + r"
        multiplicity = 1
    else:
        value = Fraction(2 * (H + r) * (M + N) - (M - N) ** 2 - (H + r) ** 2, 8)
        regime = "main regime"
        multiplicity = 1
        if (M + N + H + r) % 2 == 1:
            value += Fraction(1, 8)
            multiplicity = 2
    return RLCT(value, multiplicity, _AOYAGI_WATANABE_2005_RRR, f"global RLCT ({regime})")


def _dln_selected_count(reduced_widths: list[int]) -> int:
    """Number of layers Aoyagi's Definition 3 selects (the l + 1 smallest reduced widths).

    With $M_{(1)} \\le \\dots \\le M_{(L+1)}$ sorted, the selected set is the longest prefix
    $S$ of length $k \\ge 2$ with $(k-1)\\max_S M \\le \\sum_S M$; being a prefix it also has
    $\\max_S M \\le \\min_{\\notin S} M$ and, by maximality, $\\sum_S M < (k-1)\\min_{\\notin S} M$.
    Validity is prefix-closed, so the longest valid prefix is well defined.
    """
    ordered = sorted(reduced_widths)
    selected = 2
    for k in range(3, len(ordered) + 1):
        if (k - 1) * ordered[k - 1] <= sum(ordered[:k]):
            selected = k
        else:
            break
    return selected


def dln_rlct(widths: Sequence[int], r: int) -> RLCT:
    r"""RLCT of a deep linear network $y = W_L \cdots W_1 x$ with a rank-$r$ true map.

    `widths` $= (H_1, \dots, H_{L+1})$: $H_1$ the input dimension, $H_{L+1}$ the output,
    $W_s$ of shape $H_{s+1} \times H_s$. Let $M_s = H_s - r$. Select the $l + 1$ layers
    with the smallest $M_s$, $S$, such that

    $$l \max_{j\in S} M_j \le \sum_{j\in S} M_j < l \min_{k\notin S} M_k$$

    (the longest such prefix of the sorted $M$'s, $l \ge 1$). With $\Sigma = \sum_{j\in S}M_j$
    and $a \equiv \Sigma \pmod l$ (Aoyagi writes $a \in \{1,\dots,l\}$; $a(l-a)$ is the same),

    $$\lambda = \frac{-r^2 + r(H_1 + H_{L+1})}{2} + \frac{a(l-a)}{4l}
      - \frac{l(l-1)}{4}\Big(\frac{\Sigma}{l}\Big)^2
      + \frac12 \sum_{i<j \in S} M_i M_j, \qquad m = a(l-a) + 1.$$

    Source: M. Aoyagi (2024), "Consideration on the learning efficiency of multiple-layered
    neural networks with linear units", Neural Networks 172:106132, Theorem 2 with the
    selection of Definition 3. We could not read the paper itself; the displayed $\lambda$
    and order formula follow the transcription in a public Lean formalisation of the paper
    (DLNFibre, `FinalFormula.lean`). That transcription writes the selection inequalities
    as $l\,M_i < \Sigma$ and $\Sigma \le (l-1)M_k$, which admits no $S$ for e.g.
    $M = (1,1,1,2)$; we use the consistent maximal-prefix rule above instead, which gives
    the same $\lambda$ on boundaries (the formula is continuous there) and the correct $m$
    on the exact checks below. Verified: two layers reproduce `rrr_rlct` ($\lambda$ and
    $m$) for all $M, N, H \le 6$, $r \le \min$; chains of scalar layers
    ($K = \prod w_i^2 \cdot |u|^2|v|^2$) reproduce the normal-crossing value $\lambda = 1/2$
    and its multiplicity. Not independently verified: $m$ for $l \ge 3$ with
    $a(l-a) > 2$ beyond those chains.
    """
    widths = [_positive_int(h, f"widths[{s}]") for s, h in enumerate(widths)]
    if len(widths) < 2:
        raise ValueError(
            f"`widths` needs at least 2 entries (input and output dimension), got {len(widths)}."
        )
    r = _nonnegative_int(r, "r")
    if r > min(widths):
        raise ValueError(
            f"`r` = {r} exceeds the narrowest width {min(widths)}: the product of the layers "
            "has rank at most min(widths); lower r or widen the narrowest layer."
        )
    reduced = [h - r for h in widths]
    count = _dln_selected_count(reduced)
    selected = sorted(reduced)[:count]
    ell = count - 1
    total = sum(selected)
    a = total % ell
    pair_sum = sum(selected[i] * selected[j] for i in range(count) for j in range(i + 1, count))
    value = (
        Fraction(-(r**2) + r * (widths[0] + widths[-1]), 2)
        + Fraction(a * (ell - a), 4 * ell)
        - Fraction(ell * (ell - 1), 4) * Fraction(total, ell) ** 2
        + Fraction(pair_sum, 2)
    )
    return RLCT(
        value,
        a * (ell - a) + 1,
        _AOYAGI_2024_DLN,
        f"global RLCT (deep linear network, {count} of {len(widths)} layers selected)",
    )


def asymptotic_free_energy(
    n: np.ndarray | float,
    learning_coefficient: float | Fraction,
    multiplicity: int,
    constant: float = 0.0,
) -> np.ndarray | float:
    r"""Asymptotic free energy above $n L_0$: $\lambda\log n - (m-1)\log\log n + c$.

    Source: S. Watanabe (2009), Algebraic Geometry and Statistical Learning Theory,
    Main Formula II (Ch. 6): $F_n = nL_n(w_0) + \lambda\log n - (m-1)\log\log n
    + O_p(1)$. Vectorised over `n`; requires $n > 1$ so that $\log\log n$ is defined.
    """
    multiplicity = _positive_int(multiplicity, "multiplicity")
    n_array = np.asarray(n, dtype=np.float64)
    if not np.all(np.isfinite(n_array)) or np.any(n_array <= 1.0):
        raise ValueError("`n` must be finite and > 1 (log log n is undefined for n <= 1).")
    log_n = np.log(n_array)
    result = float(learning_coefficient) * log_n - (multiplicity - 1) * np.log(log_n) + constant
    return float(result) if result.ndim == 0 else result
