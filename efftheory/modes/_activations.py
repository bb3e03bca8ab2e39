r"""Activations $\sigma$ with the analytic metadata that predicts their mode spectra.

The decay of an activation's mode coefficients is set by how far $\sigma$ extends
analytically off the real axis (Hille 1940): a function analytic in the strip
$|\operatorname{Im} z| < \tau$ has Hermite coefficients decaying like $e^{-\tau\sqrt{k}}$
(Hille 1940, *Contributions to the theory of Hermitian series II*, Duke Math. J. 7;
see Boyd 1984, J. Comput. Phys. 54, eq. 2.8), and Fourier coefficients on a circle decay
like $e^{-\tau k}$ (Trefethen 2019, *Approximation Theory and Approximation Practice*,
Thm. 8.1 for the Chebyshev/Joukowski analogue). Each named activation records its
nearest complex singularity $\zeta$ (``singularity``), or says it is entire or not analytic.

=============  ==========================  ========================================
name           $\sigma(z)$                 nearest singularity
=============  ==========================  ========================================
``tanh``       $\tanh z$                   poles at $\pm i\pi/2$
``sigmoid``    $1/(1 + e^{-z})$            poles at $\pm i\pi$
``softplus``   $\log(1 + e^{z})$           branch points at $\pm i\pi$
``erf``        $\operatorname{erf} z$      entire
``gelu``       $z\,\Phi(z)$                entire
``relu``       $\max(z, 0)$                not analytic (kink at $z = 0$)
=============  ==========================  ========================================
"""

import math
from collections.abc import Callable
from typing import Literal

import equinox as eqx
import jax
import jax.numpy as jnp
import mpmath

Analyticity = Literal["meromorphic", "entire", "not_analytic", "unknown"]


class Activation(eqx.Module):
    """An activation function and what is known about its analytic continuation.

    Attributes:
        name: identifier (``"custom"`` for user callables unless named).
        function: $\\sigma$ on float64 JAX arrays.
        mp_function: $\\sigma$ on mpmath numbers (None if not available).
        analyticity: ``"meromorphic"`` (nearest singularity known), ``"entire"``,
            ``"not_analytic"`` or ``"unknown"``.
        singularity: the nearest singularity $\\zeta$ in the upper half plane (complex),
            for ``"meromorphic"`` activations; its imaginary part is the strip width.
        kinks: real points where $\\sigma$ is not smooth (``relu``: ``(0.0,)``).
        odd: $\\sigma(-z) = -\\sigma(z)$, so even modes of $\\sigma(wx)$ vanish.
    """

    name: str = eqx.field(static=True)
    function: Callable = eqx.field(static=True)
    mp_function: Callable | None = eqx.field(static=True, default=None)
    analyticity: Analyticity = eqx.field(static=True, default="unknown")
    singularity: complex | None = eqx.field(static=True, default=None)
    kinks: tuple[float, ...] = eqx.field(static=True, default=())
    odd: bool = eqx.field(static=True, default=False)

    def __call__(self, z):
        return self.function(z)

    @property
    def singularity_distance(self) -> float:
        """Distance from the real axis to the nearest complex singularity ($\\infty$ if
        entire, 0 if not analytic, NaN if unknown)."""
        if self.analyticity == "meromorphic":
            return abs(self.singularity.imag)
        if self.analyticity == "entire":
            return math.inf
        if self.analyticity == "not_analytic":
            return 0.0
        return math.nan


def _mp_gelu(z):
    return z * mpmath.ncdf(z)


def _mp_relu(z):
    return z if z > 0 else mpmath.mpf(0)


def _mp_sigmoid(z):
    return 1 / (1 + mpmath.exp(-z))


def _mp_softplus(z):
    return mpmath.log1p(mpmath.exp(z)) if z < 0 else z + mpmath.log1p(mpmath.exp(-z))


ACTIVATIONS: dict[str, Activation] = {
    "tanh": Activation("tanh", jnp.tanh, mpmath.tanh, "meromorphic", 0.5j * math.pi, odd=True),
    "sigmoid": Activation("sigmoid", jax.nn.sigmoid, _mp_sigmoid, "meromorphic", 1j * math.pi),
    "softplus": Activation("softplus", jax.nn.softplus, _mp_softplus, "meromorphic",
                           1j * math.pi),
    "erf": Activation("erf", jax.scipy.special.erf, mpmath.erf, "entire", odd=True),
    "gelu": Activation("gelu", lambda z: jax.nn.gelu(z, approximate=False), _mp_gelu,
                       "entire"),
    "relu": Activation("relu", jax.nn.relu, _mp_relu, "not_analytic", kinks=(0.0,)),
}


def get_activation(activation: "str | Activation | Callable") -> Activation:
    """Look up a named activation, pass an `Activation` through, or wrap a callable.

    A bare callable becomes an `Activation` named after it with unknown analyticity, so
    no spectral prediction is made for it and arbitrary precision is unavailable (wrap it
    in `Activation(..., mp_function=...)` to enable both).
    """
    if isinstance(activation, Activation):
        return activation
    if isinstance(activation, str):
        if activation in ACTIVATIONS:
            return ACTIVATIONS[activation]
        raise ValueError(
            f"unknown activation {activation!r}: choose one of {sorted(ACTIVATIONS)}, or pass "
            "a callable (or an efftheory.Activation with analytic metadata)."
        )
    if callable(activation):
        return Activation(getattr(activation, "__name__", "custom"), activation)
    raise TypeError(f"activation must be a name, an Activation or a callable, got "
                    f"{type(activation).__name__}.")
