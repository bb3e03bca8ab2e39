"""A run folder's model, stored as data: what the model is, never code to run.

`model.json` says which model a run sampled. A model sampled beside its card (the
`efftheory.CardModel` of `efftheory.load_card_model`) is recorded as the card's name and its
parameters after overrides (and, for a user model's card, its builder's
``"module:function"``), and `resume` rebuilds it with `load_model`; any other model is
recorded by its class and a fingerprint (its printed structure and a SHA-256 of its arrays),
so `resume(path, model=...)` and `sample(..., if_exists="resume")` can check that the model
passed in is the one sampled.

Nothing is ever unpickled: a results folder is data, and opening one must not run code that
came with it. A ``model.pkl`` left by an older efftheory is refused, not loaded.
"""

import dataclasses
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import jax
import numpy as np

from ..models._card_model import CardModel

MODEL_FILE = "model.json"
LEGACY_PICKLE = "model.pkl"

# What identifies a model; `card_path` is kept only to find a card outside the package,
# since the same card installed elsewhere is still the same model.
_IDENTITY = ("kind", "class", "num_params", "card", "builder", "parameters", "fingerprint")


def describe_model(model) -> dict:
    """The JSON record that `model.json` stores of `model`, a `PartitionFunction` or a
    `CardModel` (recorded as its card)."""
    card = None
    if isinstance(model, CardModel):
        model, card = model.model, model.card
    record = {"class": type(model).__name__, "num_params": int(model.num_params)}
    if card is not None:
        record.update(kind="card", card=card.name, card_path=str(card.path),
                      parameters=card.parameters)
        if ":" in card.builder:  # a user builder; built-in cards' records stay as they were
            record["builder"] = card.builder
    else:
        record.update(kind="python", fingerprint=_fingerprint(model))
    return json.loads(json.dumps(record))  # exactly what a read-back gives


# Model classes that carried a `card` field, printed last, until the card became metadata
# beside the model (`CardModel`). In a "python" record it was always None, and the
# fingerprint was taken with ``card=None`` printed; it still is, so that those records
# keep matching the same models.
_FORMERLY_CARDED = frozenset({
    "NetworkModel", "CollapsedNetworkModel", "DeepLinearModel", "RegularModel",
    "NormalCrossingModel", "PolynomialMachine", "MinAbsModel", "ModeCoordinateModel",
    "EmpiricalNetworkModel", "CutoffNetworkModel", "CollapsedCutoffNetworkModel",
    "FreeFieldModel", "ScaleMixtureModel"})


def _formerly_carded(node) -> bool:
    kind = type(node)
    return kind.__name__ in _FORMERLY_CARDED and kind.__module__.startswith("efftheory.")


def _with_card_none(tree):
    """`tree` with each model of `_FORMERLY_CARDED` replaced by a dataclass of the same
    name and fields (models inside it replaced too) plus a last field ``card=None``, which
    prints as that model printed when it had the field."""
    def replace(node):
        if not _formerly_carded(node):
            return node
        fields = [field for field in dataclasses.fields(node) if field.repr]
        stand_in = dataclasses.make_dataclass(
            type(node).__name__,
            [(field.name, Any, dataclasses.field(default=field.default)) for field in fields]
            + [("card", Any)], kw_only=True)
        return stand_in(card=None, **{field.name: _with_card_none(getattr(node, field.name))
                                      for field in fields})

    return jax.tree_util.tree_map(replace, tree, is_leaf=_formerly_carded)


def _fingerprint(model) -> str:
    """SHA-256 of the model's structure (memory addresses removed) and array contents."""
    import equinox as eqx

    structure = eqx.tree_pformat(_with_card_none(model), short_arrays=True)
    digest = hashlib.sha256(re.sub(r"0x[0-9a-fA-F]+", "", structure).encode())
    for leaf in jax.tree_util.tree_leaves(eqx.filter(model, eqx.is_array)):
        array = np.asarray(jax.device_get(leaf))
        digest.update(f"{array.dtype}{array.shape}".encode())
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:32]


def model_differences(stored: dict | None, current: dict) -> list[str]:
    """``"field: old -> new"`` for every way the stored model differs from `current`."""
    if stored is None:
        return [f"model: not recorded (a run folder from an older efftheory) -> "
                f"{_summary(current)}"]
    if stored.get("kind") == "card" and current.get("kind") == "python":
        return [f"model: {_summary(stored)} -> a {current.get('class')} without its card "
                f"(pass the CardModel of efftheory.load_card_model({stored['card']!r}, ...), "
                "not its .model; resume(path) rebuilds it with no model argument)"]
    differences = []
    for key in _IDENTITY:
        old, new = stored.get(key), current.get(key)
        if key == "parameters" and isinstance(old, dict) and isinstance(new, dict):
            differences += [f"model parameter {name}: {old.get(name)!r} -> {new.get(name)!r}"
                            for name in sorted(set(old) | set(new))
                            if old.get(name) != new.get(name)]
        elif old != new:
            differences.append(f"model {key}: {old!r} -> {new!r}")
    return differences


def _summary(record: dict) -> str:
    if record.get("kind") == "card":
        return f"card {record['card']!r}"
    return f"{record.get('class')} (fingerprint {record.get('fingerprint')})"


def write_model_record(folder: Path, model) -> None:
    from .._io import atomic_write_json

    atomic_write_json(folder / MODEL_FILE, describe_model(model))


def read_model_record(folder: Path) -> dict | None:
    """The stored record, or None if the folder has none (an older run folder)."""
    path = Path(folder) / MODEL_FILE
    if not path.exists():
        return None
    try:
        record = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ValueError(f"{path} is not a model record ({error}); pass the model to "
                         "resume(path, model=...) or start the run again.") from None
    if not isinstance(record, dict) or record.get("kind") not in ("card", "python"):
        raise ValueError(f"{path} is not a model record written by efftheory; pass the "
                         "model to resume(path, model=...) or start the run again.")
    return record


def rebuild_model(folder: Path):
    """The model of the run in `folder`, rebuilt from its card (the only kind rebuilt), as
    a plain `PartitionFunction`."""
    folder = Path(folder)
    record = read_model_record(folder)
    if record is None:
        pickled = " (its model.pkl is a pickle, which efftheory never loads: unpickling " \
                  "runs code from the folder)" if (folder / LEGACY_PICKLE).exists() else ""
        raise FileNotFoundError(f"{folder} has no {MODEL_FILE}{pickled}; pass the run's model "
                                "as resume(path, model=...).")
    if record["kind"] != "card":
        raise ValueError(f"{folder / MODEL_FILE} records a {record.get('class')} not built "
                         "from a card (or sampled without it: sample the CardModel of "
                         "efftheory.load_card_model to record the card), which cannot be "
                         "rebuilt from data; pass it as resume(path, model=...).")
    from ..models._cards import card_paths, load_model
    from ..models._registry import registered_model

    name = record["card"]
    known = name in card_paths() or registered_model(name) is not None
    source = name if known else record.get("card_path")
    if source is None or (source != name and not Path(source).is_file()):
        raise FileNotFoundError(f"the run in {folder} used card {name!r}, which is neither "
                                f"shipped nor at {record.get('card_path')!r}; pass the model "
                                "as resume(path, model=...).")
    return load_model(source, **record["parameters"])
