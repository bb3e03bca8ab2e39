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

A card for your own model names its builder by import path instead (`efftheory.models._registry`);
``num_params``, ``source`` and ``[exact]`` are then optional, and ``[parameters]`` are passed
to the builder as keyword arguments, checked against its signature::

    name = "my-crossing"
    builder = "mypackage.models:crossing"   # builder(**parameters) -> PartitionFunction
    [parameters]
    exponent = 2

`load_card_model(name_or_path, **overrides)` builds the model and returns it beside the card
(a `CardModel`); `load_model` returns the model alone. Errors name the file and field.
A name registered with `efftheory.register_model` works wherever a card's name does.
"""

import dataclasses
import importlib.resources
import re
from pathlib import Path
from typing import Any

import numpy as np

from ._card_model import CardModel
from ._card_parsing import catalogue_value, parse_card
from ._card_parsing import freeze as _freeze
from ._card_parsing import validate_parameters as _validate_parameters
from ._card_schema import BUILDERS, ModelCard, ModelCardError
from ._card_schema import SCHEMAS as _SCHEMAS
from ._card_schema import build_two_layer_network as _two_layer_network
from ._empirical import EmpiricalNetworkModel
from ._registry import (
    build_user_model,
    builder_keywords,
    is_builder_path,
    registered_model,
    resolve_builder,
)


def _card_directories() -> list[Path]:
    directories = []
    try:
        packaged = importlib.resources.files("efftheory") / "model_cards"
        if packaged.is_dir():
            directories.append(Path(str(packaged)))
    except (ModuleNotFoundError, TypeError):
        pass
    # The repository's models/ folder (a source checkout), two levels above this file:
    # efftheory/models/ is this package, not the cards.
    repository = Path(__file__).resolve().parents[2] / "models"
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

    Returns the `PartitionFunction` of `load_card_model` (``load_card_model(...).model``),
    which has ``num_params``, ``sample_prior``, ``population_loss`` and
    ``mode_amplitudes``; use `load_card_model` for the card beside it (its known values
    after overrides), or to have a run record the card so that ``resume(path)`` rebuilds
    the model. Two-layer cards also take ``form`` = ``"raw"`` | ``"collapsed"`` |
    ``"free_field"`` | ``"scale_mixture"`` | ``"cutoff"`` | ``"collapsed_cutoff"`` |
    ``"mode_coordinates"``, ``num_modes`` (for the cutoff forms and
    ``"mode_coordinates"``, $K$: the number of kept modes that do not vanish identically,
    see `efftheory.CutoffNetworkModel` and `efftheory.ModeCoordinateModel`), and ``n_max``
    and ``max_nodes`` for the loss quadrature (``efftheory run --override
    max_nodes=8192``). A card naming a user builder (``"package.module:function"``), or a
    name registered with `efftheory.register_model`, gives what the builder returns for the
    card's parameters and the overrides.

    Finite data (two-layer cards, raw form): ``data_size=N`` gives an
    `efftheory.EmpiricalNetworkModel` whose loss is the empirical mean over $N$ inputs
    drawn from the card's input measure with labels $f^*(x) + N(0, 1)$ noise, reproducibly
    from ``data_seed`` (default 0). `data` = ``(inputs, labels)`` uses your own data set
    instead; its size must equal ``data_size`` where that is given, and such a model is not
    tied to the card (its data are not on the card, so `load_card_model` does not take
    `data`, and a run of it is recorded by fingerprint and resumed with
    ``resume(path, model=...)``).
    """
    if data is None:
        return load_card_model(name_or_path, **overrides).model
    card = load_card(name_or_path)
    if is_builder_path(card.builder):
        raise ModelCardError(
            f"{card.path}: data= is for the built-in two-layer cards; a user builder "
            f"('{card.builder}') takes its data set through its own parameters or code.")
    return _load_with_data(card, data, overrides)


def load_card_model(name_or_path, **overrides) -> CardModel:
    """The model a card describes, with validated parameter overrides, beside the card.

    Returns a `CardModel`: ``.model`` is what `load_model` returns for the same arguments
    (see there for the overrides each card takes), ``.card`` the `ModelCard` after the
    overrides (catalogue-backed known values recomputed, others dropped if a parameter
    changed what they describe; ``num_params`` the built model's). `efftheory.sample` takes
    the pair and records the card's name and parameters in the run folder, so
    ``efftheory.resume(path)`` rebuilds the model with no model argument.
    """
    if "data" in overrides:
        raise ModelCardError(
            "load_card_model takes no data=: a model of your own data set is not tied to "
            "its card (the data are not on it). Build it with efftheory.load_model(card, "
            "data=(inputs, labels)), or draw the data from the card with data_size=N.")
    card = load_card(name_or_path)
    user = is_builder_path(card.builder)
    mode_fields = sorted({"form", "num_modes"} & set(overrides))
    if mode_fields and not user and card.builder != "two_layer":
        raise ModelCardError(
            f"{card.path}: {', '.join(mode_fields)} given, but builder '{card.builder}' has "
            "no mode basis (forms and mode cutoffs exist only for two-layer networks): drop "
            f"{' and '.join(mode_fields)}, or load a two-layer card such as "
            "'learning-zero-small'.")
    parameters = card.parameters
    changed = {k for k, v in overrides.items() if parameters.get(k) != v}
    if not user:  # a user builder's data_size, if it has one, is its own parameter
        _check_data_fields(card, {**parameters, **overrides})
    if overrides:
        _validate_parameters(card.builder, {**parameters, **overrides}, card.path,
                             prefix="override ")
        parameters = {**parameters, **overrides}
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
            model = BUILDERS[card.builder](parameters)
        except ValueError as error:
            raise ModelCardError(f"{card.path}: the builder '{card.builder}' rejected the "
                                 f"parameters: {error}") from error
    # The card's count holds whenever the overrides change nothing but the ladder's reach
    # and quadrature (n_max, max_nodes set nodes, not parameters), so check it then too.
    neutral = set() if user else {"n_max", "max_nodes", "data_size", "data_seed"}
    if (card.num_params is not None and not changed - neutral
            and model.num_params != card.num_params):
        raise ModelCardError(f"{card.path}: field 'num_params' declares {card.num_params} but "
                             f"the built model has {model.num_params} parameters")
    return CardModel(model, dataclasses.replace(card, num_params=model.num_params))


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
    """`load_model` with the user's data set: checked against data_size, not tied to the
    card."""
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
