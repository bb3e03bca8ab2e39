"""User models everywhere a built-in model goes: builders named ``"package.module:function"``
or registered under a name.

A *builder* is a function ``builder(**parameters) -> PartitionFunction`` (a
`FunctionModel`, a `NumPyroModel`, or any `PartitionFunction`). A model card names one as

    builder = "mypackage.models:crossing"    # an importable module, then the function
    [parameters]                             # passed to it as keyword arguments
    exponent = 2

and `register_model("crossing", crossing)` names one in the running process, so that
`load_model("crossing")`, `run_study` and `sweep` take that name like a card's. A builder's
path is resolved by importing the module (`importlib.import_module`) and reading the
attribute: nothing read from a card is ever executed as code.

A study or sweep in other processes (a sweep's workers) needs the builder there too: a card
naming ``"module:function"`` imports it; a registration made in this process is carried to
the workers by `sweep` as the builder's path, which works when the builder lives in an
importable module (not in a notebook or a script's ``__main__``).
"""

import dataclasses
import importlib
import inspect
import json
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ._partition import PartitionFunction

ModelBuilder = Callable[..., PartitionFunction]

_DOTTED = r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"
_BUILDER_PATH = re.compile(rf"({_DOTTED}):({_DOTTED})")
_PATH_HELP = ("a builder path looks like 'package.module:function': a module Python can "
              "import (installed, or its folder on PYTHONPATH), a colon, then the function")


def _error(message: str) -> ValueError:
    from ._card_schema import ModelCardError

    return ModelCardError(message)


def is_builder_path(spec: str) -> bool:
    """Whether `spec` names a user builder (``"module:function"``) rather than a built-in."""
    return ":" in spec


def builder_path(builder: ModelBuilder) -> str:
    """``"module:qualname"`` of a builder function (how cards and run records name it)."""
    return f"{getattr(builder, '__module__', '?')}:{getattr(builder, '__qualname__', builder)}"


def resolve_builder(spec: str, *, where: str = "builder") -> ModelBuilder:
    """The builder a ``"package.module:function"`` path names.

    A builder registered in this process (`register_model`) is found by its path without
    importing; any other is imported. `where` starts every error message (``"card.toml:
    field 'builder'"``); each says what to change.
    """
    for registered in _REGISTRY.values():
        if registered.path == spec:
            return registered.builder
    match = _BUILDER_PATH.fullmatch(spec)
    if match is None or "/" in spec or match.group(1).endswith(".py"):
        raise _error(f"{where} is {spec!r}, which is not a builder path: {_PATH_HELP} "
                     "(a file path such as 'models.py:build' does not work: name the module).")
    module_name, attribute = match.groups()
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise _error(f"{where} names {spec!r}, but module {module_name!r} cannot be imported "
                     f"({type(error).__name__}: {error}). Install the package that holds it, "
                     "or put the folder holding it on PYTHONPATH (PYTHONPATH=path/to/folder "
                     "efftheory run ...).") from error
    except Exception as error:
        raise _error(f"{where} names {spec!r}, but importing module {module_name!r} raised "
                     f"{type(error).__name__}: {error}. Fix that module.") from error
    builder: Any = module
    for part in attribute.split("."):
        if not hasattr(builder, part):
            raise _error(f"{where} names {spec!r}, but module {module_name!r} has no attribute "
                         f"{attribute!r}. Check the spelling after the colon, or define "
                         f"{attribute} at the top level of {module_name}.")
        builder = getattr(builder, part)
    if not callable(builder):
        raise _error(f"{where} names {spec!r}, which is not a function (it is of type "
                     f"{type(builder).__name__}): name a function builder(**parameters) -> "
                     "PartitionFunction.")
    return builder


def builder_keywords(builder: ModelBuilder, spec: str) -> tuple[frozenset[str],
                                                                 frozenset[str], bool]:
    """The keyword parameters a builder takes, those without defaults, and whether it takes
    any keyword (``**kwargs``)."""
    try:
        signature = inspect.signature(builder)
    except (TypeError, ValueError):  # a builtin without a signature: accept anything
        return frozenset(), frozenset(), True
    names, required, anything = set(), set(), False
    for parameter in signature.parameters.values():
        if parameter.kind is parameter.VAR_KEYWORD:
            anything = True
        elif parameter.kind in (parameter.POSITIONAL_OR_KEYWORD, parameter.KEYWORD_ONLY):
            names.add(parameter.name)
            if parameter.default is parameter.empty:
                required.add(parameter.name)
        elif parameter.kind is parameter.POSITIONAL_ONLY and parameter.default is \
                parameter.empty:
            raise _error(f"builder {spec!r} takes the positional-only parameter "
                         f"{parameter.name!r}; a builder gets its parameters as keywords "
                         f"(def builder(*, {parameter.name}, ...)).")
    return frozenset(names), frozenset(required), anything


def check_builder_parameters(builder: ModelBuilder, spec: str, parameters: Mapping[str, Any],
                             path: str, prefix: str = "parameters.") -> dict[str, Any]:
    """`parameters` if the builder accepts them as keywords; else a `ModelCardError` naming
    the parameter (unknown, or required and missing) and the builder's parameters."""
    names, required, anything = builder_keywords(builder, spec)
    if not anything:
        for key in parameters:
            if key not in names:
                raise _error(f"{path}: field '{prefix}{key}' is not a parameter of builder "
                             f"{spec!r} (its parameters: {sorted(names)}); remove it or "
                             "rename it.")
    for key in sorted(required - set(parameters)):
        raise _error(f"{path}: field '{prefix}{key}' is missing (required by builder "
                     f"{spec!r}); add it under [parameters], or give it a default in the "
                     "builder.")
    try:
        json.dumps(dict(parameters), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise _error(f"{path}: the parameters of builder {spec!r} must be numbers, strings, "
                     f"booleans and lists of them (they are recorded with every run): "
                     f"{error}.") from None
    return dict(parameters)


def build_user_model(builder: ModelBuilder, spec: str, parameters: Mapping[str, Any],
                     path: str) -> PartitionFunction:
    """Call the builder with `parameters` as keywords; refuse what is not a partition
    function, and word a builder's own ValueError/TypeError as the card's."""
    try:
        model = builder(**parameters)
    except (ValueError, TypeError) as error:
        raise _error(f"{path}: builder {spec!r} rejected the parameters {dict(parameters)}: "
                     f"{type(error).__name__}: {error}") from error
    if not isinstance(model, PartitionFunction):
        raise _error(f"{path}: builder {spec!r} returned a {type(model).__name__}, not an "
                     "efftheory.PartitionFunction. Return a model: efftheory.FunctionModel("
                     "loss, log_prior, sample_prior, num_params), efftheory.NumPyroModel("
                     "model_fn, ...), or a PartitionFunction subclass.")
    return model


# ------------------------------------------------------------------------- the registry


@dataclasses.dataclass(frozen=True)
class RegisteredModel:
    """A builder registered under a name, with the parameters the name stands for."""

    name: str
    builder: ModelBuilder
    path: str
    parameter_items: tuple[tuple[str, Any], ...]
    summary: str

    @property
    def parameters(self) -> dict[str, Any]:
        return {key: list(value) if isinstance(value, tuple) else value
                for key, value in self.parameter_items}


_REGISTRY: dict[str, RegisteredModel] = {}


def register_model(name: str, builder: ModelBuilder, *,
                   parameters: Mapping[str, Any] | None = None, summary: str = "") -> None:
    """Make `name` a model like a card's: `load_model(name, **overrides)`,
    `run_study(StudyConfig(card=name))`, a sweep's ``card = [name]``.

    `builder(**parameters)` must return a `PartitionFunction`; `parameters` (JSON-able:
    numbers, strings, booleans, lists) are the defaults that overrides change. Registering
    the same name again with a builder of the same ``module:qualname`` replaces it (a
    notebook cell run twice); another builder under a taken name, or a built-in card's
    name, is refused. A sweep carries the registration to its worker processes when the
    builder is importable there (defined in a module, not in a notebook).
    """
    from ._cards import card_paths

    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.+-]*", name) \
            or name.endswith(".toml"):
        raise ValueError(f"register_model: name must be letters, digits and _ . + - (not a "
                         f"path), got {name!r}.")
    if not callable(builder):
        raise TypeError(f"register_model: builder must be a function builder(**parameters) "
                        f"-> PartitionFunction, got {type(builder).__name__}.")
    if name in card_paths():
        raise ValueError(f"register_model: {name!r} is a built-in model card; choose another "
                         "name.")
    path = builder_path(builder)
    previous = _REGISTRY.get(name)
    if previous is not None and previous.path != path:
        raise ValueError(f"register_model: {name!r} is already registered for "
                         f"{previous.path}; choose another name for {path}, or call "
                         "unregister_model(name) first.")
    checked = check_builder_parameters(builder, path, dict(parameters or {}),
                                       f"register_model({name!r})", prefix="parameters ")
    _REGISTRY[name] = RegisteredModel(
        name, builder, path, tuple((k, tuple(v) if isinstance(v, list) else v)
                                   for k, v in checked.items()), summary)


def unregister_model(name: str) -> None:
    """Forget a registered name (no error if it is not registered)."""
    _REGISTRY.pop(name, None)


def registered_model(name: str) -> RegisteredModel | None:
    """The registration of `name`, or None."""
    return _REGISTRY.get(name) if isinstance(name, str) else None


def registered_models() -> list[str]:
    """The names registered in this process."""
    return sorted(_REGISTRY)


# ------------------------------------------------------------------ across processes


def portable_registrations(names: Iterable[str], *, strict: bool = True) -> dict[str, dict]:
    """What a worker process needs to re-register the registered models among `names`:
    ``{name: {"builder": path, "parameters": ..., "summary": ...}}``. A builder another
    process cannot import raises a ValueError naming the fix (`strict`), or is left out
    (a thread pool's workers share this process's registry)."""
    carried = {}
    for name in sorted(set(names)):
        registered = _REGISTRY.get(name) if isinstance(name, str) else None
        if registered is None:
            continue
        module, _, qualname = registered.path.partition(":")
        if module in ("__main__", "__mp_main__") or "<" in qualname:
            if not strict:
                continue
            raise ValueError(
                f"registered model {name!r} is built by {registered.path}, defined "
                + ("in a notebook or a script" if module.startswith("__") else "inside a "
                   "function") + ", which the sweep's worker processes cannot import. Move "
                "the builder to the top level of a module on their path and register it "
                "from there, or name it in a card: builder = 'package.module:function'.")
        carried[name] = {"builder": registered.path, "parameters": registered.parameters,
                         "summary": registered.summary}
    return carried


def restore_registrations(carried: Mapping[str, Mapping]) -> None:
    """Worker side of `portable_registrations`: register each name by importing its builder
    (names already registered here are left alone)."""
    for name, entry in carried.items():
        if name not in _REGISTRY:
            builder = resolve_builder(entry["builder"],
                                      where=f"the builder of registered model {name!r}")
            register_model(name, builder, parameters=entry["parameters"],
                           summary=entry["summary"])
