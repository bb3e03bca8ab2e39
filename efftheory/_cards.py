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

`load_model(name_or_path, **overrides)` builds the model; errors name the file and field.
"""

import dataclasses
import importlib.resources
import math
import re
import tomllib
from fractions import Fraction
from pathlib import Path
from typing import Any

from ._cutoff_models import CollapsedCutoffNetworkModel, CutoffNetworkModel
from ._energies import DEFAULT_MAX_NODES
from ._mode_coordinates import ModeCoordinateModel
from ._mode_models import FreeFieldModel, ScaleMixtureModel
from ._models import CollapsedNetworkModel, DeepLinearModel, NetworkModel
from ._networks import SCALINGS, DeepLinearNetwork, TwoLayerNetwork
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
    """A parsed card. `parameters` are the builder arguments after overrides."""

    name: str
    summary: str
    builder: str
    num_params: int
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


def _build_two_layer(p, card):
    network = TwoLayerNetwork(p["width"], p["activation"], p["measure"],
                              input_dim=p["input_dim"] if p["measure"] == "gaussian" else None,
                              bias=p["bias"],

                              scaling=p["scaling"], readout_scale=p["readout_scale"],
                              weight_scale=p["weight_scale"], bias_scale=p["bias_scale"])
    form = p["form"]
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
    schema = _SCHEMAS[builder]
    for key in parameters:
        if key not in schema:
            _fail(path, prefix + key, f"is not a parameter of builder '{builder}' (known: "
                  f"{sorted(schema)})")
    resolved = {}
    for key, (check, default) in schema.items():
        if key not in parameters:
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
    if builder not in BUILDERS:
        _fail(path, "builder", f"names an unknown builder {builder!r} (known: "
              f"{sorted(BUILDERS)})")
    num_params = _require(data, "num_params", int, path)
    if num_params < 1:
        _fail(path, "num_params", f"must be positive, got {num_params}")
    source = _require(data, "source", str, path)
    summary = _require(data, "summary", str, path, default="")
    parameters = _validate_parameters(builder, _require(data, "parameters", dict, path), path)
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
    exact = _require(data, "exact", dict, path)
    available = _require(exact, "available", bool, path, "exact.")
    reason = _require(exact, "reason", str, path, "exact.")
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
                             f"{sorted(paths)} (or pass a path to a .toml card)")
    return paths[name_or_path]


def load_card(name_or_path) -> ModelCard:
    """The validated card for a model name or a path to a ``.toml`` file."""
    return parse_card(_locate(name_or_path))


def load_model(name_or_path, **overrides):
    """Build the model a card describes, with validated parameter overrides.

    Returns a `PartitionFunction` with ``num_params``, ``sample_prior``,
    ``population_loss``, ``mode_amplitudes`` and ``card`` (the card after overrides:
    catalogue-backed known values recomputed, others dropped if a parameter changed).
    Two-layer cards also take ``form`` = ``"raw"`` | ``"collapsed"`` | ``"free_field"`` |
    ``"scale_mixture"`` | ``"cutoff"`` | ``"collapsed_cutoff"`` | ``"mode_coordinates"``,
    ``num_modes`` (for the cutoff forms and ``"mode_coordinates"``, $K$: the number of
    kept modes that do not vanish identically, see `efftheory.CutoffNetworkModel` and
    `efftheory.ModeCoordinateModel`), and ``n_max`` and ``max_nodes`` for the loss
    quadrature (``efftheory run --override max_nodes=8192``).
    """
    card = load_card(name_or_path)
    mode_fields = sorted({"form", "num_modes"} & set(overrides))
    if mode_fields and card.builder != "two_layer":
        raise ModelCardError(
            f"{card.path}: {', '.join(mode_fields)} given, but builder '{card.builder}' has "
            "no mode basis (forms and mode cutoffs exist only for two-layer networks): drop "
            f"{' and '.join(mode_fields)}, or load a two-layer card such as "
            "'learning-zero-small'.")
    parameters = card_parameters = card.parameters
    if overrides:
        _validate_parameters(card.builder, {**parameters, **overrides}, card.path,
                             prefix="override ")
        parameters = {**parameters, **overrides}
        changed = {k for k, v in overrides.items() if card.parameters.get(k) != v}
        known = []
        neutral = {"n_max", "max_nodes", "form", "num_modes"}
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
    try:
        model = BUILDERS[card.builder](parameters, None)
    except ValueError as error:
        raise ModelCardError(f"{card.path}: the builder '{card.builder}' rejected the "
                             f"parameters: {error}") from error
    # The card's count holds whenever the overrides change nothing but the ladder's reach
    # and quadrature (n_max, max_nodes set nodes, not parameters), so check it then too.
    changed = {k for k, v in overrides.items() if card_parameters.get(k) != v}
    if not changed - {"n_max", "max_nodes"} and model.num_params != card.num_params:
        raise ModelCardError(f"{card.path}: field 'num_params' declares {card.num_params} but "
                             f"the built model has {model.num_params} parameters")
    card = dataclasses.replace(card, num_params=model.num_params)
    return _with_card(model, card)


def builder_parameters(name_or_path) -> frozenset[str]:
    """The parameters the card's builder takes (what `load_model` accepts as overrides)."""
    return frozenset(_SCHEMAS[load_card(name_or_path).builder])


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
