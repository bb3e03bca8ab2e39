"""A run folder's model, stored as data: what the model is, never code to run.

`model.json` says which model a run sampled. A model built from a card
(`efftheory.load_model`) is recorded as the card's name and its parameters after overrides
(and, for a user model's card, its builder's ``"module:function"``), and `resume` rebuilds
it with `load_model`; any other model is recorded by its class and a
fingerprint (its printed structure and a SHA-256 of its arrays), so `resume(path, model=...)`
and `sample(..., if_exists="resume")` can check that the model passed in is the one sampled.

Nothing is ever unpickled: a results folder is data, and opening one must not run code that
came with it. A ``model.pkl`` left by an older efftheory is refused, not loaded.
"""

import hashlib
import json
import re
from pathlib import Path

import jax
import numpy as np

MODEL_FILE = "model.json"
LEGACY_PICKLE = "model.pkl"

# What identifies a model; `card_path` is kept only to find a card outside the package,
# since the same card installed elsewhere is still the same model.
_IDENTITY = ("kind", "class", "num_params", "card", "builder", "parameters", "fingerprint")


def describe_model(model) -> dict:
    """The JSON record of `model` that `model.json` stores."""
    card = getattr(model, "card", None)
    record = {"class": type(model).__name__, "num_params": int(model.num_params)}
    if card is not None and hasattr(card, "parameter_items"):
        record.update(kind="card", card=card.name, card_path=str(card.path),
                      parameters=card.parameters)
        if ":" in card.builder:  # a user builder; built-in cards' records stay as they were
            record["builder"] = card.builder
    else:
        record.update(kind="python", fingerprint=_fingerprint(model))
    return json.loads(json.dumps(record))  # exactly what a read-back gives


def _fingerprint(model) -> str:
    """SHA-256 of the model's structure (memory addresses removed) and array contents."""
    import equinox as eqx

    structure = eqx.tree_pformat(model, short_arrays=True)
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
    """The model of the run in `folder`, rebuilt from its card (the only kind rebuilt)."""
    folder = Path(folder)
    record = read_model_record(folder)
    if record is None:
        pickled = " (its model.pkl is a pickle, which efftheory never loads: unpickling " \
                  "runs code from the folder)" if (folder / LEGACY_PICKLE).exists() else ""
        raise FileNotFoundError(f"{folder} has no {MODEL_FILE}{pickled}; pass the run's model "
                                "as resume(path, model=...).")
    if record["kind"] != "card":
        raise ValueError(f"{folder / MODEL_FILE} records a {record.get('class')} not built "
                         "from a card, which cannot be rebuilt from data; pass it as "
                         "resume(path, model=...).")
    from .._cards import card_paths, load_model
    from .._registry import registered_model

    name = record["card"]
    known = name in card_paths() or registered_model(name) is not None
    source = name if known else record.get("card_path")
    if source is None or (source != name and not Path(source).is_file()):
        raise FileNotFoundError(f"the run in {folder} used card {name!r}, which is neither "
                                f"shipped nor at {record.get('card_path')!r}; pass the model "
                                "as resume(path, model=...).")
    return load_model(source, **record["parameters"])
