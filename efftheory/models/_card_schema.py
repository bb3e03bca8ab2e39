"""What a model card may say: its types, the built-in builders with the parameters each
takes (types, ranges, defaults), and the catalogue of learning coefficients a known value
may be recomputed from. The card format is described in `efftheory.models._cards`."""

import dataclasses
import math
from fractions import Fraction
from typing import Any

from ..theory import _rlct
from ._cutoff_models import CollapsedCutoffNetworkModel, CutoffNetworkModel
from ._empirical import EmpiricalNetworkModel, data_key
from ._mode_coordinates import ModeCoordinateModel
from ._mode_models import FreeFieldModel, ScaleMixtureModel
from ._models import CollapsedNetworkModel, DeepLinearModel, NetworkModel
from ._networks import SCALINGS, DeepLinearNetwork, TwoLayerNetwork
from ._partition import ModelCardError as ModelCardError
from ._quadrature_choice import DEFAULT_MAX_NODES
from ._toy_models import MinAbsModel, NormalCrossingModel, PolynomialMachine, RegularModel


@dataclasses.dataclass(frozen=True)
class KnownValue:
    """A learning coefficient recorded on a card, with what it is and where it comes from."""

    label: str
    learning_coefficient: Fraction | float
    multiplicity: int
    reference: str
    note: str = ""
    catalogue: str = ""
    arguments: tuple[tuple[str, Any], ...] = ()


@dataclasses.dataclass(frozen=True)
class ModelCard:
    """A parsed card. `parameters` are the builder arguments after overrides. `builder` is a
    built-in builder's name or a user builder's ``"package.module:function"``;
    `num_params` is None where a user card does not declare it (until the model is built).
    """

    name: str
    summary: str
    builder: str
    num_params: int | None
    source: str
    parameter_items: tuple[tuple[str, Any], ...]
    known_values: tuple[KnownValue, ...]
    exact_available: bool
    exact_reason: str
    path: str

    @property
    def parameters(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in self.parameter_items}



def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_positive_int(value):
    return None if is_int(value) and value > 0 else "a positive integer"


def _check_nonnegative_int(value):
    return None if is_int(value) and value >= 0 else "a non-negative integer"


def _check_positive_number(value):
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(
        value) and value > 0
    return None if ok else "a positive number"


def _check_bool(value):
    return None if isinstance(value, bool) else "true or false"


def _choice(*options):
    def check(value):
        return None if value in options else f"one of {list(options)}"
    return check


def _int_list(minimum: int, length: int = 1):
    def check(value):
        ok = isinstance(value, list | tuple) and len(value) >= length and all(
            is_int(v) and v >= minimum for v in value)
        return None if ok else (f"a list of at least {length} integers >= {minimum}")
    return check


# The default of a parameter that may be left out: the card then has no such parameter (a
# two-layer card without data_size is the population loss).
OPTIONAL = object()

FORMS = ("raw", "collapsed", "free_field", "scale_mixture", "cutoff", "collapsed_cutoff",
         "mode_coordinates")

# builder -> {parameter: (check, default)}; default None means required.
SCHEMAS: dict[str, dict[str, tuple]] = {
    "two_layer": {
        "width": (_check_positive_int, None),
        "activation": (_choice("tanh", "erf", "sigmoid", "softplus", "gelu", "relu"), "tanh"),
        "measure": (_choice("gaussian", "circle", "uniform"), "gaussian"),
        "input_dim": (_check_positive_int, 1),  # Gaussian inputs only
        "bias": (_check_bool, False),
        "scaling": (_choice(*SCALINGS), "standard"),
        "readout_scale": (_check_positive_number, 1.0),
        "weight_scale": (_check_positive_number, 1.0),
        "bias_scale": (_check_positive_number, 1.0),
        "n_max": (_check_positive_number, 1e6),
        "max_nodes": (_check_positive_int, DEFAULT_MAX_NODES),
        "form": (_choice(*FORMS), "raw"),
        "num_modes": (_check_positive_int, 24),
        "data_size": (_check_positive_int, OPTIONAL),
        "data_seed": (_check_nonnegative_int, OPTIONAL),
    },
    "deep_linear": {
        "widths": (_int_list(1, 2), None),
        "true_rank": (_check_nonnegative_int, 0),
        "weight_scale": (_check_positive_number, 1.0),
    },
    "normal_crossing": {
        "exponents": (_int_list(0, 1), None),
        "prior_scale": (_check_positive_number, 1.0),
    },
    "regular": {
        "dim": (_check_positive_int, None),
        "prior_scale": (_check_positive_number, 1.0),
    },
    "polynomial_machine": {
        "group_sizes": (_int_list(1, 1), [1, 2, 3, 4, 5]),
        "prior_scale": (_check_positive_number, 1.0),
    },
    "min_abs": {
        "prior_scale": (_check_positive_number, 1.0),
    },
}


def build_two_layer_network(p) -> TwoLayerNetwork:
    return TwoLayerNetwork(p["width"], p["activation"], p["measure"],
                           input_dim=p["input_dim"] if p["measure"] == "gaussian" else None,
                           bias=p["bias"], scaling=p["scaling"],
                           readout_scale=p["readout_scale"], weight_scale=p["weight_scale"],
                           bias_scale=p["bias_scale"])


def _build_two_layer(p):
    network = build_two_layer_network(p)
    form = p["form"]
    if "data_size" in p:
        return EmpiricalNetworkModel.draw(network, p["data_size"],
                                          key=data_key(p.get("data_seed", 0)),
                                          n_max=p["n_max"], max_nodes=p["max_nodes"])
    if form == "raw":
        return NetworkModel(network, n_max=p["n_max"], max_nodes=p["max_nodes"])
    if form == "collapsed":
        return CollapsedNetworkModel(network, n_max=p["n_max"], max_nodes=p["max_nodes"])
    if form == "cutoff":
        return CutoffNetworkModel(network, p["num_modes"], n_max=p["n_max"],
                                  max_nodes=p["max_nodes"])
    if form == "collapsed_cutoff":
        return CollapsedCutoffNetworkModel(network, p["num_modes"], n_max=p["n_max"],
                                           max_nodes=p["max_nodes"])
    if form == "mode_coordinates":
        return ModeCoordinateModel(network, p["num_modes"], n_max=p["n_max"],
                                   max_nodes=p["max_nodes"])
    kind = FreeFieldModel if form == "free_field" else ScaleMixtureModel
    return kind.from_network(network, p["num_modes"])


BUILDERS = {
    "two_layer": _build_two_layer,
    "deep_linear": lambda p: DeepLinearModel(
        DeepLinearNetwork(p["widths"], weight_scale=p["weight_scale"]),
        true_rank=p["true_rank"]),
    "normal_crossing": lambda p: NormalCrossingModel(
        p["exponents"], prior_scale=p["prior_scale"]),
    "regular": lambda p: RegularModel(p["dim"], prior_scale=p["prior_scale"]),
    "polynomial_machine": lambda p: PolynomialMachine(
        p["group_sizes"], prior_scale=p["prior_scale"]),
    "min_abs": lambda p: MinAbsModel(prior_scale=p["prior_scale"]),
}


def polynomial_machine_rlct(group_sizes) -> _rlct.RLCT:
    r"""RLCT of `PolynomialMachine` learning zero: a sum over its monomial groups of normal
    crossings $\prod_{i\in g}\theta_i^2$ ($\lambda = \tfrac12$ each, $m_g = |g|$)."""
    return _rlct.sum_rlct(*[_rlct.normal_crossing_rlct([1] * size) for size in group_sizes])


CATALOGUE = {
    "tanh_zero_rlct": _rlct.tanh_zero_rlct,
    "tanh_zero_generic_stratum_rlct": _rlct.tanh_zero_generic_stratum_rlct,
    "regular_rlct": _rlct.regular_rlct,
    "normal_crossing_rlct": _rlct.normal_crossing_rlct,
    "rrr_rlct": _rlct.rrr_rlct,
    "dln_rlct": _rlct.dln_rlct,
    "polynomial_machine_rlct": polynomial_machine_rlct,
}
