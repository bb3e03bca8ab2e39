r"""The modes a mode cutoff keeps: the first $K$ mode indices that do not vanish
identically for the activation (parity, see `efftheory.models._cutoff_models`), resolved in
float64 at the prior's typical weight, and the basis columns that hold them.
"""

import jax.numpy as jnp
import numpy as np

from ..modes._measures import CircleMeasure, GaussianMeasure
from ..modes._modes import mode_coefficients
from ._networks import TwoLayerNetwork

# A kept coefficient is resolved when its float64 error bound is below this times |c_k|.
_RESOLUTION_RTOL = 1e-3
# Parity tests of sigma are exact identities up to rounding on |z| <= 8.
_PARITY_GRID = np.linspace(0.0, 8.0, 161)[1:]


def _parity(activation) -> tuple[bool, bool, bool, bool]:
    r"""Which parts of $\sigma$ are trivial: (odd part zero, even part zero, even part
    constant, odd part linear), tested on $0 < z \le 8$ up to rounding."""
    z = jnp.asarray(_PARITY_GRID)
    plus, minus = np.asarray(activation.function(z)), np.asarray(activation.function(-z))
    at_zero = float(activation.function(jnp.zeros(())))
    tolerance = 1e-10 * (1.0 + float(np.max(np.abs(plus)) + np.max(np.abs(minus))))
    even, odd = plus + minus, plus - minus
    slope = odd[-1] / z[-1]
    return (bool(np.max(np.abs(odd)) <= tolerance), bool(np.max(np.abs(even)) <= tolerance),
            bool(np.max(np.abs(even - 2.0 * at_zero)) <= tolerance),
            bool(np.max(np.abs(odd - slope * np.asarray(z))) <= tolerance))


def _vanishes_identically(k: int, parity) -> bool:
    odd_zero, even_zero, even_constant, odd_linear = parity
    if k % 2 == 0:
        return even_zero or (k >= 2 and even_constant)
    return odd_zero or (k >= 3 and odd_linear)


def _check_mode_basis(network) -> None:
    if not isinstance(network, TwoLayerNetwork):
        raise ValueError(
            f"a mode cutoff needs a mode basis, and {type(network).__name__} has none: "
            "cutoff models are built for two-layer networks (TwoLayerNetwork, builder "
            "'two_layer', e.g. the card 'learning-zero-small'); use form='raw' or drop "
            "form/num_modes for other models.")
    if isinstance(network.measure, GaussianMeasure) and network.input_dim > 1:
        raise ValueError(
            f"a mode cutoff with Gaussian inputs in input_dim={network.input_dim} is not "
            "supported (the mode amplitudes of degree k form a vector of dimension "
            f"C(k+{network.input_dim - 1}, {network.input_dim - 1})); use input_dim=1, or "
            "the full loss (form='raw' or 'collapsed').")


def kept_modes(network: TwoLayerNetwork, num_modes: int) -> tuple[int, ...]:
    r"""The indices of the first `num_modes` modes of `network` that do not vanish
    identically (see the module docstring), e.g. ``(1, 3)`` for tanh without bias.

    Raises ValueError if `num_modes` < 1, if the network has no mode basis, or if the
    last kept mode is not resolved in float64 at the prior's typical weight.
    """
    _check_mode_basis(network)
    if isinstance(num_modes, bool) or not isinstance(num_modes, int | np.integer) \
            or num_modes < 1:
        raise ValueError(f"num_modes must be an integer >= 1 (the number of kept modes K), "
                         f"got {num_modes!r}.")
    parity = (False,) * 4 if network.bias else _parity(network.activation)
    if not network.bias and parity[0] and parity[1]:
        raise ValueError("the activation vanishes identically: no mode can be kept.")
    kept, k = [], 0
    while len(kept) < num_modes:
        if not _vanishes_identically(k, parity):
            kept.append(k)
        k += 1
    _check_resolved(network, tuple(kept))
    return tuple(kept)


def _check_resolved(network, kept) -> None:
    bias = network.bias_scale if network.bias else 0.0
    values, error = mode_coefficients(network.activation, network.measure,
                                      w=network.weight_scale, b=bias, kmax=kept[-1],
                                      below_floor="keep", return_error=True, progress=False)
    values, error = np.abs(np.asarray(values)), np.asarray(error)
    resolved = [bool(error[k] <= _RESOLUTION_RTOL * values[k]) for k in kept]
    if all(resolved):
        return
    usable = resolved.index(False)
    first = kept[usable]
    raise ValueError(
        f"num_modes={len(kept)} keeps mode k={kept[-1]}, but float64 resolves the mode "
        f"coefficients of {network.activation.name} at the prior's typical weight "
        f"|w| = {network.weight_scale:g} only for the first {usable} kept modes (c_{first} = "
        f"{values[first]:.1e} with error bound {error[first]:.1e}): lower num_modes to at "
        f"most {usable}, or use the full loss (form='raw'), which sums every mode exactly.")


def mode_columns(measure, kept) -> list[int]:
    """Columns of `weighted_basis` for the kept modes (circle: cosine and sine)."""
    if isinstance(measure, CircleMeasure):
        return [c for k in kept for c in ((0,) if k == 0 else (2 * k - 1, 2 * k))]
    return list(kept)
