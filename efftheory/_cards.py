"""Model cards: TOML files naming a builder, its parameters, the source, and known values.

A card (``models/<name>.toml`` in the repository, shipped in the wheel as
``efftheory/model_cards/``)::

    name = "learning-zero-256"
    summary = "one line"
    builder = "two_layer"            # see BUILDERS
    num_params = 256                 # checked against the built model
    source = "citation"
    [parameters]                     # the builder's arguments (validated)
    width = 128
    [[known_values]]                 # zero or more
    label = "what this value is"
    learning_coefficient = "130/23"  # exact fraction as a string, or a number
    multiplicity = 1
    reference = "citation"
    catalogue = "tanh_zero_rlct"     # optional: recomputed after overrides, checked in tests
    arguments = { H = "width" }      # catalogue argument -> parameter (``widths[0]``) or literal
    [exact]
    available = true                 # whether efftheory.exact has lambda(n) for this model
    reason = "why not, or how"

A card for your own model names its builder by import path instead (`efftheory._registry`);
``num_params``, ``source`` and ``[exact]`` are then optional, and ``[parameters]`` are passed
to the builder as keyword arguments, checked against its signature::

    name = "my-crossing"
    builder = "mypackage.models:crossing"   # builder(**parameters) -> PartitionFunction
    [parameters]
    exponent = 2

`load_model(name_or_path, **overrides)` builds the model; errors name the file and field.
A name registered with `efftheory.register_model` works wherever a card's name does.
"""

import dataclasses
import importlib.resources
import math
import re
import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np

from ._cutoff_models import CollapsedCutoffNetworkModel, CutoffNetworkModel
from ._empirical import EmpiricalNetworkModel, data_key
from ._energies import DEFAULT_MAX_NODES
from ._mode_coordinates import ModeCoordinateModel
from ._mode_models import FreeFieldModel, ScaleMixtureModel
from ._models import CollapsedNetworkModel, DeepLinearModel, NetworkModel
from ._networks import SCALINGS, DeepLinearNetwork, TwoLayerNetwork
from ._registry import (
    build_user_model,
    builder_keywords,
    check_builder_parameters,
    is_builder_path,
    registered_model,
    resolve_builder,
)
from ._toy_models import MinAbsModel, NormalCrossingModel, PolynomialMachine, RegularModel
from .theory import _rlct


class ModelCardError(ValueError):
    """A model card (or an override) is malformed; the message names the file and field."""


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


# ----------------------------------------------------------------------------- schema


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_positive_int(value):
    return None if _is_int(value) and value > 0 else "a positive integer"


def _check_nonnegative_int(value):
    return None if _is_int(value) and value >= 0 else "a non-negative integer"


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
            _is_int(v) and v >= minimum for v in value)
        return None if ok else (f"a list of at least {length} integers >= {minimum}")
    return check


# The default of a parameter that may be left out: the card then has no such parameter (a
# two-layer card without data_size is the population loss).
_OPTIONAL = object()

FORMS = ("raw", "collapsed", "free_field", "scale_mixture", "cutoff", "collapsed_cutoff",
         "mode_coordinates")

# builder -> {parameter: (check, default)}; default None means required.
_SCHEMAS: dict[str, dict[str, tuple]] = {
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
        "data_size": (_check_positive_int, _OPTIONAL),
        "data_seed": (_check_nonnegative_int, _OPTIONAL),
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


def _two_layer_network(p) -> TwoLayerNetwork:
    return TwoLayerNetwork(p["width"], p["activation"], p["measure"],
                           input_dim=p["input_dim"] if p["measure"] == "gaussian" else None,
                           bias=p["bias"], scaling=p["scaling"],
                           readout_scale=p["readout_scale"], weight_scale=p["weight_scale"],
                           bias_scale=p["bias_scale"])


def _build_two_layer(p, card):
    network = _two_layer_network(p)
    form = p["form"]
    if "data_size" in p:
        return EmpiricalNetworkModel.draw(network, p["data_size"],
                                          key=data_key(p.get("data_seed", 0)),
                                          n_max=p["n_max"], max_nodes=p["max_nodes"])
    if form == "raw":
        return NetworkModel(network, n_max=p["n_max"], max_nodes=p["max_nodes"], card=card)
    if form == "collapsed":
        return CollapsedNetworkModel(network, n_max=p["n_max"], max_nodes=p["max_nodes"],
                                     card=card)
    if form == "cutoff":
        return CutoffNetworkModel(network, p["num_modes"], n_max=p["n_max"],
                                  max_nodes=p["max_nodes"], card=card)
    if form == "collapsed_cutoff":
        return CollapsedCutoffNetworkModel(network, p["num_modes"], n_max=p["n_max"],
                                           max_nodes=p["max_nodes"], card=card)
    if form == "mode_coordinates":
        return ModeCoordinateModel(network, p["num_modes"], n_max=p["n_max"],
                                   max_nodes=p["max_nodes"], card=card)
    kind = FreeFieldModel if form == "free_field" else ScaleMixtureModel
    return kind.from_network(network, p["num_modes"], card=card)


BUILDERS = {
    "two_layer": _build_two_layer,
    "deep_linear": lambda p, card: DeepLinearModel(
        DeepLinearNetwork(p["widths"], weight_scale=p["weight_scale"]),
        true_rank=p["true_rank"], card=card),
    "normal_crossing": lambda p, card: NormalCrossingModel(
        p["exponents"], prior_scale=p["prior_scale"], card=card),
    "regular": lambda p, card: RegularModel(p["dim"], prior_scale=p["prior_scale"], card=card),
    "polynomial_machine": lambda p, card: PolynomialMachine(
        p["group_sizes"], prior_scale=p["prior_scale"], card=card),
    "min_abs": lambda p, card: MinAbsModel(prior_scale=p["prior_scale"], card=card),
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


# ----------------------------------------------------------------------------- parsing


def _fail(path, field, message):
    raise ModelCardError(f"{path}: field '{field}' {message}")


def _require(table, key, kind, path, prefix="", default=...):
    if key not in table:
        if default is not ...:
            return default
        _fail(path, prefix + key, "is missing")
    value = table[key]
    if kind is int and not _is_int(value) or kind is not int and not isinstance(value, kind):
        name = kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)
        _fail(path, prefix + key, f"must be of type {name}, got {value!r}")
    return value


def _parse_value(value, path, field):
    if isinstance(value, str):
        try:
            return Fraction(value.replace(" ", ""))
        except ValueError:
            _fail(path, field, f"must be a number or a fraction like '130/23', got {value!r}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return Fraction(value) if isinstance(value, int) else float(value)
    _fail(path, field, f"must be a number or a fraction string, got {value!r}")


def _validate_parameters(builder, parameters, path, prefix="parameters."):
    if is_builder_path(builder):
        return check_builder_parameters(
            resolve_builder(builder, where=f"{path}: field 'builder'"), builder, parameters,
            path, prefix)
    schema = _SCHEMAS[builder]
    for key in parameters:
        if key not in schema:
            _fail(path, prefix + key, f"is not a parameter of builder '{builder}' (known: "
                  f"{sorted(schema)})")
    resolved = {}
    for key, (check, default) in schema.items():
        if key not in parameters:
            if default is _OPTIONAL:
                continue
            if default is None:
                _fail(path, prefix + key, f"is missing (required by builder '{builder}')")
            resolved[key] = default
            continue
        problem = check(parameters[key])
        if problem is not None:
            _fail(path, prefix + key, f"must be {problem}, got {parameters[key]!r}")
        resolved[key] = parameters[key]
    return resolved


def _freeze(value):
    return tuple(value) if isinstance(value, list) else value


def parse_card(path) -> ModelCard:
    """Read and validate one card file (no model is built)."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as error:
        raise ModelCardError(f"{path}: not valid TOML ({error})") from None
    except UnicodeDecodeError:
        raise ModelCardError(f"{path}: not a text file (a model card is UTF-8 TOML)") from None
    except OSError as error:
        raise ModelCardError(f"{path}: cannot be read ({error.strerror or error})") from None
    name = _require(data, "name", str, path)
    builder = _require(data, "builder", str, path)
    user = is_builder_path(builder)
    if not user and builder not in BUILDERS:
        _fail(path, "builder", f"names an unknown builder {builder!r} (built-in builders: "
              f"{sorted(BUILDERS)}; your own model's builder as 'package.module:function')")
    # A user card need not declare what building the model tells (its size) or what only
    # built-in models have (an exact reference).
    optional = None if user else ...
    num_params = _require(data, "num_params", int, path, default=optional)
    if num_params is not None and num_params < 1:
        _fail(path, "num_params", f"must be positive, got {num_params}")
    source = _require(data, "source", str, path, default="" if user else ...)
    summary = _require(data, "summary", str, path, default="")
    parameters = _validate_parameters(
        builder, _require(data, "parameters", dict, path, default={} if user else ...), path)
    known = []
    for index, entry in enumerate(_require(data, "known_values", list, path, default=[])):
        prefix = f"known_values[{index}]."
        if not isinstance(entry, dict):
            _fail(path, f"known_values[{index}]", "must be a table")
        label = _require(entry, "label", str, path, prefix)
        value = _parse_value(_require(entry, "learning_coefficient", (str, int, float), path,
                                      prefix), path, prefix + "learning_coefficient")
        multiplicity = _require(entry, "multiplicity", int, path, prefix)
        reference = _require(entry, "reference", str, path, prefix)
        catalogue = _require(entry, "catalogue", str, path, prefix, default="")
        if catalogue and catalogue not in CATALOGUE:
            _fail(path, prefix + "catalogue", f"names an unknown catalogue entry {catalogue!r}")
        arguments = _require(entry, "arguments", dict, path, prefix, default={})
        known.append(KnownValue(label, value, multiplicity, reference,
                                _require(entry, "note", str, path, prefix, default=""),
                                catalogue, tuple((k, _freeze(v)) for k, v in arguments.items())))
    exact = _require(data, "exact", dict, path, default={} if user else ...)
    available = _require(exact, "available", bool, path, "exact.",
                         default=False if user else ...)
    reason = _require(exact, "reason", str, path, "exact.", default=(
        "a user model: efftheory.exact has lambda(n) only for built-in models") if user else ...)
    if user and available:
        _fail(path, "exact.available", "is true, but efftheory.exact has lambda(n) only for "
              "built-in models: set available = false (or drop [exact]).")
    return ModelCard(name, summary, builder, num_params, source,
                     tuple((k, _freeze(v)) for k, v in parameters.items()), tuple(known),
                     available, reason, str(path))


def catalogue_value(known: KnownValue, parameters: dict) -> _rlct.RLCT:
    """Evaluate a known value's catalogue formula at `parameters`."""
    arguments = {}
    for argument, source in known.arguments:
        if isinstance(source, str):
            match = re.fullmatch(r"(\w+)(?:\[(\d+)\])?", source)
            if match is None or match.group(1) not in parameters:
                raise ModelCardError(f"catalogue argument {argument} = {source!r} names no "
                                     "parameter")
            value = parameters[match.group(1)]
            arguments[argument] = value[int(match.group(2))] if match.group(2) else value
        else:
            arguments[argument] = list(source) if isinstance(source, tuple) else source
    return CATALOGUE[known.catalogue](**arguments)


# ----------------------------------------------------------------------------- finding


def _card_directories() -> list[Path]:
    directories = []
    try:
        packaged = importlib.resources.files("efftheory") / "model_cards"
        if packaged.is_dir():
            directories.append(Path(str(packaged)))
    except (ModuleNotFoundError, TypeError):
        pass
    repository = Path(__file__).resolve().parent.parent / "models"
    if repository.is_dir():
        directories.append(repository)
    return directories


def card_paths() -> dict[str, Path]:
    """Card name (file stem) -> path; the packaged cards win over the repository's."""
    found: dict[str, Path] = {}
    for directory in _card_directories():
        for path in sorted(directory.glob("*.toml")):
            found.setdefault(path.stem, path)
    return found


def _locate(name_or_path) -> Path:
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ModelCardError(f"{path}: no such model card file")
        return path
    paths = card_paths()
    if name_or_path not in paths:
        raise ModelCardError(f"unknown model {name_or_path!r}: known models are "
                             f"{sorted(paths)} (or pass a path to a .toml card, or a name "
                             "registered with efftheory.register_model in this process)")
    return paths[name_or_path]


def load_card(name_or_path) -> ModelCard:
    """The validated card for a model name, a path to a ``.toml`` file, or a name registered
    with `efftheory.register_model`."""
    registered = None
    if isinstance(name_or_path, str) and not Path(name_or_path).exists():
        registered = registered_model(name_or_path)
    if registered is not None:
        return ModelCard(registered.name, registered.summary, registered.path, None, "",
                         registered.parameter_items, (), False,
                         "a registered user model: efftheory.exact has lambda(n) only for "
                         "built-in models", f"registered model {registered.name!r}")
    return parse_card(_locate(name_or_path))


def load_model(name_or_path, *, data=None, **overrides):
    """Build the model a card describes, with validated parameter overrides.

    Returns a `PartitionFunction` with ``num_params``, ``sample_prior``,
    ``population_loss``, ``mode_amplitudes`` and ``card`` (the card after overrides:
    catalogue-backed known values recomputed, others dropped if a parameter changed).
    Two-layer cards also take ``form`` = ``"raw"`` | ``"collapsed"`` | ``"free_field"`` |
    ``"scale_mixture"`` | ``"cutoff"`` | ``"collapsed_cutoff"`` | ``"mode_coordinates"``,
    ``num_modes`` (for the cutoff forms and ``"mode_coordinates"``, $K$: the number of
    kept modes that do not vanish identically, see `efftheory.CutoffNetworkModel` and
    `efftheory.ModeCoordinateModel`), and ``n_max`` and ``max_nodes`` for the loss
    quadrature (``efftheory run --override max_nodes=8192``). A card naming a user builder
    (``"package.module:function"``), or a name registered with `efftheory.register_model`,
    gives what the builder returns for the card's parameters and the overrides, with
    ``card`` set on it.

    Finite data (two-layer cards, raw form): ``data_size=N`` gives an
    `efftheory.EmpiricalNetworkModel` whose loss is the empirical mean over $N$ inputs
    drawn from the card's input measure with labels $f^*(x) + N(0, 1)$ noise, reproducibly
    from ``data_seed`` (default 0). `data` = ``(inputs, labels)`` uses your own data set
    instead; its size must equal ``data_size`` where that is given, and such a model is not
    tied to the card (``card`` is None: its data are not on the card, so a run of it is
    recorded by fingerprint and resumed with ``resume(path, model=...)``).
    """
    card = load_card(name_or_path)
    user = is_builder_path(card.builder)
    if data is not None:
        if user:
            raise ModelCardError(
                f"{card.path}: data= is for the built-in two-layer cards; a user builder "
                f"('{card.builder}') takes its data set through its own parameters or code.")
        return _load_with_data(card, data, overrides)
    mode_fields = sorted({"form", "num_modes"} & set(overrides))
    if mode_fields and not user and card.builder != "two_layer":
        raise ModelCardError(
            f"{card.path}: {', '.join(mode_fields)} given, but builder '{card.builder}' has "
            "no mode basis (forms and mode cutoffs exist only for two-layer networks): drop "
            f"{' and '.join(mode_fields)}, or load a two-layer card such as "
            "'learning-zero-small'.")
    parameters = card_parameters = card.parameters
    if not user:  # a user builder's data_size, if it has one, is its own parameter
        _check_data_fields(card, {**parameters, **overrides})
    if overrides:
        _validate_parameters(card.builder, {**parameters, **overrides}, card.path,
                             prefix="override ")
        parameters = {**parameters, **overrides}
        changed = {k for k, v in overrides.items() if card.parameters.get(k) != v}
        known = []
        # A data set changes L_N, not the learning coefficient of the model at its truth;
        # a user builder's parameters all change its model, as far as efftheory knows.
        neutral = set() if user else {"n_max", "max_nodes", "form", "num_modes",
                                      "data_size", "data_seed"}
        for value in card.known_values:
            # A catalogue formula is recomputed when only its own arguments changed (width
            # for tanh_zero_rlct); any other change (activation, measure, ...) leaves the
            # formula's hypotheses, so the value is dropped rather than mislabelled.
            arguments = {re.match(r"\w+", source).group(0)
                         for _, source in value.arguments if isinstance(source, str)}
            if value.catalogue and not changed - neutral - arguments:
                rlct = catalogue_value(value, parameters)
                known.append(dataclasses.replace(value, learning_coefficient=rlct
                                                 .learning_coefficient,
                                                 multiplicity=rlct.multiplicity))
            elif not changed - neutral:
                known.append(value)
        if parameters.get("form") in ("cutoff", "collapsed_cutoff", "mode_coordinates"):
            # A K-mode truncation is a different singularity with its own RLCT: the full
            # network's values would be mislabelled.
            known = []
        card = dataclasses.replace(
            card, parameter_items=tuple((k, _freeze(v)) for k, v in parameters.items()),
            known_values=tuple(known))
    if user:
        builder = resolve_builder(card.builder, where=f"{card.path}: field 'builder'")
        model = build_user_model(builder, card.builder, parameters, card.path)
    else:
        try:
            model = BUILDERS[card.builder](parameters, None)
        except ValueError as error:
            raise ModelCardError(f"{card.path}: the builder '{card.builder}' rejected the "
                                 f"parameters: {error}") from error
    # The card's count holds whenever the overrides change nothing but the ladder's reach
    # and quadrature (n_max, max_nodes set nodes, not parameters), so check it then too.
    changed = {k for k, v in overrides.items() if card_parameters.get(k) != v}
    neutral = set() if user else {"n_max", "max_nodes", "data_size", "data_seed"}
    if (card.num_params is not None and not changed - neutral
            and model.num_params != card.num_params):
        raise ModelCardError(f"{card.path}: field 'num_params' declares {card.num_params} but "
                             f"the built model has {model.num_params} parameters")
    card = dataclasses.replace(card, num_params=model.num_params)
    return _with_card(model, card)


def _check_data_fields(card: ModelCard, parameters: dict) -> None:
    """Raise unless data_size/data_seed come with a builder and form that take them."""
    given = [key for key in ("data_size", "data_seed") if key in parameters]
    if not given:
        return
    if card.builder != "two_layer":
        raise ModelCardError(f"{card.path}: {' and '.join(given)} given, but only two-layer "
                             f"cards take a finite data set (builder '{card.builder}'): drop "
                             f"{' and '.join(given)}.")
    if "data_size" not in parameters:
        raise ModelCardError(f"{card.path}: data_seed given without data_size: add "
                             "data_size = N (the number of data points) or drop data_seed.")
    if parameters.get("form", "raw") != "raw":
        raise ModelCardError(
            f"{card.path}: data_size = {parameters['data_size']} needs form = 'raw' (the "
            f"empirical loss is a function of the raw weights), got form = "
            f"{parameters['form']!r}: drop data_size for the population loss, or set "
            "form = 'raw'.")


def _load_with_data(card: ModelCard, data, overrides: dict):
    """`load_model` with the user's data set: checked against data_size, no card kept."""
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise ModelCardError(f"data must be a pair (inputs, labels), got "
                             f"{type(data).__name__}.")
    labels_shape = np.shape(data[1])
    size = labels_shape[0] if len(labels_shape) == 1 else None
    parameters = {**card.parameters, **overrides}
    if "data_size" in parameters and size is not None and parameters["data_size"] != size:
        raise ModelCardError(
            f"{card.path}: data_size = {parameters['data_size']} but the data set passed has "
            f"{size} points: set data_size = {size} (or leave it out), or pass "
            f"{parameters['data_size']} points.")
    if "data_seed" in overrides:
        raise ModelCardError(f"{card.path}: data_seed draws a data set, but one was passed "
                             "as data: drop data_seed.")
    parameters.pop("data_seed", None)
    parameters["data_size"] = size if size is not None else 1
    parameters = _validate_parameters(card.builder, parameters, card.path, prefix="override ")
    _check_data_fields(card, parameters)
    try:
        return EmpiricalNetworkModel(_two_layer_network(parameters), data[0], data[1],
                                     data_size=size, n_max=parameters["n_max"],
                                     max_nodes=parameters["max_nodes"])
    except ValueError as error:
        raise ModelCardError(f"{card.path}: the data set was rejected: {error}") from error


def builder_parameters(name_or_path) -> frozenset[str]:
    """The parameters the card's builder takes by name (what `load_model` accepts as
    overrides; a user builder with ``**kwargs`` accepts others too)."""
    builder = load_card(name_or_path).builder
    if is_builder_path(builder):
        return builder_keywords(resolve_builder(builder), builder)[0]
    return frozenset(_SCHEMAS[builder])


def _with_card(model, card):
    object.__setattr__(model, "card", card)
    return model


def list_models() -> list[dict[str, Any]]:
    """Every card's name, parameter count, known values and exact-reference status."""
    rows = []
    for name, path in card_paths().items():
        card = parse_card(path)
        rows.append({
            "name": name,
            "num_params": card.num_params,
            "builder": card.builder,
            "summary": card.summary,
            "known_values": [{"label": v.label, "learning_coefficient": v.learning_coefficient,
                              "multiplicity": v.multiplicity} for v in card.known_values],
            "exact": card.exact_available,
        })
    return rows


def format_model_table() -> str:
    """`list_models` as a text table (for the ``efftheory models`` command)."""
    lines = [f"{'name':<28} {'params':>6}  {'exact':<5}  known values (lambda, m)"]
    for row in list_models():
        known = "; ".join(f"{v['label']}: {v['learning_coefficient']} (m={v['multiplicity']})"
                          for v in row["known_values"]) or "-"
        lines.append(f"{row['name']:<28} {row['num_params']:>6}  "
                     f"{'yes' if row['exact'] else 'no':<5}  {known}")
    return "\n".join(lines)
