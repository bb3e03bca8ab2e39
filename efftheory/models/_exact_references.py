"""Exact references for validating samplers: `free_energy(model, n)` and
`learning_coefficient(model, n)`, vectorized over an array of `n`.

Where no exact answer exists they raise `ExactReferenceUnavailable` with the reason. This
module picks the method by the model's class and hands its numbers to the mathematics in
`efftheory.theory._exact`, which describes the methods and their accuracy.
"""

from collections.abc import Callable

import jax.numpy as jnp
import numpy as np

from ..theory import _exact as exact_math
from ..theory import free_free_energy, free_learning_coefficient
from ._cutoff_models import CollapsedCutoffNetworkModel, CutoffNetworkModel
from ._kept_modes import mode_columns
from ._mode_coordinates import ModeCoordinateModel
from ._mode_models import FreeFieldModel, ScaleMixtureModel
from ._models import CollapsedNetworkModel, NetworkModel
from ._partition import ExactReferenceUnavailable
from ._toy_models import MinAbsModel, NormalCrossingModel, RegularModel

__all__ = ["ExactReferenceUnavailable", "free_energy", "has_exact_reference",
           "learning_coefficient"]

# Models whose Z(n) is that of the cutoff loss L_K: the mode-coordinate model's (u, w)
# posterior is the raw cutoff posterior's image, with the same Z(n).
_CUTOFF_MODELS = (CutoffNetworkModel, CollapsedCutoffNetworkModel, ModeCoordinateModel)


def free_energy(model, n) -> np.ndarray | float:
    r"""Exact $F(n) = -\log Z(n)$ (with $L_0$ subtracted) for `model`, shaped like `n`."""
    return _evaluate(model, n)[0]


def learning_coefficient(model, n) -> np.ndarray | float:
    r"""Exact $\lambda(n) = dF/d\log n = n E_n[L - L_0]$ for `model`, shaped like `n`."""
    return _evaluate(model, n)[1]


def has_exact_reference(model) -> bool:
    """Whether `free_energy` / `learning_coefficient` can be computed for `model`."""
    try:
        _method(model)
    except ExactReferenceUnavailable:
        return False
    return True


def _evaluate(model, n):
    method = _method(model)
    n_array = np.asarray(n, dtype=np.float64)
    if not np.all(np.isfinite(n_array)) or np.any(n_array <= 0):
        raise ValueError("n must be finite and > 0.")
    flat = n_array.reshape(-1)
    energy, coefficient = method(model, flat)
    energy, coefficient = energy.reshape(n_array.shape), coefficient.reshape(n_array.shape)
    if n_array.ndim == 0:
        return float(energy), float(coefficient)
    return energy, coefficient


def _method(model) -> Callable:
    if isinstance(model, FreeFieldModel):
        return _free_field
    if isinstance(model, RegularModel):
        return _regular
    if isinstance(model, ScaleMixtureModel):
        return _scale_mixture
    if isinstance(model, NormalCrossingModel):
        active = [k for k in model.exponents if k > 0]
        if len(active) > 2:
            raise ExactReferenceUnavailable(
                f"normal crossing with {len(active)} active variables: only up to two are "
                "integrated exactly (nested 1-D quadrature).")
        return _normal_crossing
    if isinstance(model, MinAbsModel):
        return _min_abs
    if isinstance(model, NetworkModel | CollapsedNetworkModel | CutoffNetworkModel
                  | CollapsedCutoffNetworkModel | ModeCoordinateModel):
        _check_network(model)
        return _network
    raise ExactReferenceUnavailable(
        f"no exact free energy is known for {type(model).__name__}: exact references exist "
        "for the free field and scale-mixture mode models, regular and normal-crossing "
        "models (<= 2 active variables), min(|x|,|y|), and two-layer networks (full or "
        "mode-cutoff) of width 1 or 2 learning zero.")


def _free_field(model, n):
    eigenvalues = np.asarray(model.eigenvalues)
    return (np.asarray(free_free_energy(n, eigenvalues)),
            np.asarray(free_learning_coefficient(n, eigenvalues)))


def _regular(model, n):
    eigenvalues = np.asarray(model.curvatures) * model.prior_scale**2
    return (np.asarray(free_free_energy(n, eigenvalues)),
            np.asarray(free_learning_coefficient(n, eigenvalues)))


def _scale_mixture(model, n):
    return exact_math.scale_mixture_reference(n, np.asarray(model.shapes),
                                              np.asarray(model.eigenvalues))


def _normal_crossing(model, n):
    active = [k for k in model.exponents if k > 0]
    return exact_math.normal_crossing_reference(n, active, model.prior_scale)


def _min_abs(model, n):
    return exact_math.min_abs_reference(n, model.prior_scale)


def _check_network(model):
    network = model.network
    reasons = []
    if network.width > 2:
        reasons.append(f"width {network.width} > 2 (the collapsed integral is "
                       f"{network.width * network.input_dim}-dimensional)")
    if getattr(model, "target", None) is not None:
        reasons.append("a nonzero target")
    if network.bias:
        reasons.append("biases")
    if network.width == 2 and network.input_dim > 1:
        reasons.append(f"width 2 with {network.input_dim}-dimensional inputs")
    if reasons:
        raise ExactReferenceUnavailable(
            "no exact reference for this network: " + ", ".join(reasons) + ". Exact Z(n) "
            "is computed for widths 1 and 2 learning zero without bias (width 2: "
            "one-dimensional inputs).")


def _kernel(model):
    r"""$G_{ij} = E_q[\sigma(w_ix)\sigma(w_jx)]$, or over the kept modes of a cutoff model
    $\sum_{k\in\mathcal K} c_k(w_i)c_k(w_j)$ with the measure's basis at the rule's nodes."""
    network = model.network
    function, measure = network.activation.function, network.measure
    if not isinstance(model, _CUTOFF_MODELS):
        _, inputs, weights = exact_math.kernel_rule(measure.name)
        return exact_math.gram_kernel(function, inputs, weights)
    kmax = max(model.kept_modes)
    coordinates, inputs, weights = exact_math.kernel_rule(measure.name, kmax)
    basis = weights[:, None] * np.asarray(measure.basis(jnp.asarray(coordinates), kmax))
    projection = basis[:, mode_columns(measure, model.kept_modes)]
    return exact_math.cutoff_kernel(function, inputs, projection)


def _network(model, n):
    network = model.network
    return exact_math.network_reference(
        n, _kernel(model), width=network.width, input_dim=network.input_dim,
        weight_scale=network.weight_scale, readout_variance=network.readout_variance)
