"""Reading a card file: its TOML checked field by field against the schema
(`efftheory.models._card_schema`), errors naming the file and the field."""

import re
import tomllib
from fractions import Fraction
from pathlib import Path

from ..theory import _rlct
from ._card_schema import (
    BUILDERS,
    CATALOGUE,
    OPTIONAL,
    SCHEMAS,
    KnownValue,
    ModelCard,
    ModelCardError,
    is_int,
)
from ._registry import (
    check_builder_parameters,
    is_builder_path,
    resolve_builder,
)


def _fail(path, field, message):
    raise ModelCardError(f"{path}: field '{field}' {message}")


def _require(table, key, kind, path, prefix="", default=...):
    if key not in table:
        if default is not ...:
            return default
        _fail(path, prefix + key, "is missing")
    value = table[key]
    if kind is int and not is_int(value) or kind is not int and not isinstance(value, kind):
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


def validate_parameters(builder, parameters, path, prefix="parameters."):
    if is_builder_path(builder):
        return check_builder_parameters(
            resolve_builder(builder, where=f"{path}: field 'builder'"), builder, parameters,
            path, prefix)
    schema = SCHEMAS[builder]
    for key in parameters:
        if key not in schema:
            _fail(path, prefix + key, f"is not a parameter of builder '{builder}' (known: "
                  f"{sorted(schema)})")
    resolved = {}
    for key, (check, default) in schema.items():
        if key not in parameters:
            if default is OPTIONAL:
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


def freeze(value):
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
    parameters = validate_parameters(
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
                                catalogue, tuple((k, freeze(v)) for k, v in arguments.items())))
    exact = _require(data, "exact", dict, path, default={} if user else ...)
    available = _require(exact, "available", bool, path, "exact.",
                         default=False if user else ...)
    reason = _require(exact, "reason", str, path, "exact.", default=(
        "a user model: efftheory.exact has lambda(n) only for built-in models") if user else ...)
    if user and available:
        _fail(path, "exact.available", "is true, but efftheory.exact has lambda(n) only for "
              "built-in models: set available = false (or drop [exact]).")
    return ModelCard(name, summary, builder, num_params, source,
                     tuple((k, freeze(v)) for k, v in parameters.items()), tuple(known),
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
