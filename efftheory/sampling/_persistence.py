"""Run folders: checkpoints after every chunk (atomic writes) and saved results.

A run folder holds `config.json` (the `SamplerConfig`), `model.json` (which model was
sampled, as data: see `_model_record`), one `chunk_XXXXX.npz` of draws per finished
sampling chunk, and `state.npz`: the sampler state's pytree leaves (NumPyro `HMCState`
included) and the index of the next chunk. Every file is written to a temporary name and
moved into place with `os.replace`, so a run killed at any instant leaves either the old or
the new checkpoint, never a torn one, and loses at most the chunk in flight.

The folder owns its run: `open_run_folder` continues it only for the same configuration and
model, and names every difference otherwise, so no caller can resume a run under settings
it was not sampled with.
"""

import io
from pathlib import Path
from typing import Literal

import jax
import jax.numpy as jnp
import numpy as np

from .._io import atomic_write_bytes
from ._config import SamplerConfig
from ._model_record import (
    LEGACY_PICKLE,
    MODEL_FILE,
    describe_model,
    model_differences,
    read_model_record,
    write_model_record,
)
from ._tempering import StepRecord, TemperingState

CONFIG_FILE = "config.json"
STATE_FILE = "state.npz"
IF_EXISTS = ("refuse", "resume", "restart")
IfExists = Literal["refuse", "resume", "restart"]


class RunFolderMismatchError(FileExistsError):
    """A run folder holds a run with another configuration or model.

    `differences` lists each differing field as ``"field: stored -> requested"``.
    """

    def __init__(self, folder: Path, differences: list[str]):
        self.folder, self.differences = Path(folder), list(differences)
        super().__init__(
            f"checkpoint_dir {folder} holds a run with other settings: "
            + "; ".join(differences) + ". Choose a new checkpoint_dir, or pass "
            "if_exists='restart' to discard that run.")


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _owned(path: Path) -> bool:
    """Whether a run folder's entry is one of the files a run writes."""
    name = path.name
    return (name in (CONFIG_FILE, MODEL_FILE, STATE_FILE, LEGACY_PICKLE)
            or (name.startswith("chunk_") and name.endswith(".npz"))
            or (name.startswith(".") and name.endswith(".tmp")))


def config_differences(stored: SamplerConfig, requested: SamplerConfig) -> list[str]:
    """``"field: old -> new"`` for every sampler setting that differs."""
    old, new = stored.__dict__, requested.__dict__
    return [f"{name}: {old[name]!r} -> {new[name]!r}" for name in old if old[name] != new[name]]


def open_run_folder(folder: Path, config: SamplerConfig, model,
                    if_exists: IfExists = "refuse") -> None:
    """Make `folder` ready for `config` on `model`: a new run, or the same run continued.

    An empty or new folder starts a run. A folder holding a run continues it only when its
    configuration and model equal the requested ones (`if_exists="resume"`); any difference
    raises `RunFolderMismatchError` naming the fields. `if_exists="refuse"` refuses a folder
    that already holds a checkpoint; `"restart"` deletes the run's files first. A folder of
    other files is never written into.
    """
    if if_exists not in IF_EXISTS:
        raise ValueError(f"if_exists must be one of {IF_EXISTS}, got {if_exists!r}.")
    if folder.exists() and not folder.is_dir():
        raise NotADirectoryError(f"checkpoint_dir {folder} is a file; pass a folder.")
    folder.mkdir(parents=True, exist_ok=True)
    foreign = sorted(path.name for path in folder.iterdir() if not _owned(path))
    if foreign:
        raise FileExistsError(f"checkpoint_dir {folder} holds files a run does not write "
                              f"({', '.join(foreign[:5])}); choose an empty or new folder.")
    if if_exists == "restart":
        for path in folder.iterdir():
            path.unlink()
    stored = folder / CONFIG_FILE
    if stored.exists():
        differences = config_differences(read_config(folder), config)
        differences += model_differences(read_model_record(folder), describe_model(model))
        if differences:
            raise RunFolderMismatchError(folder, differences)
        if if_exists == "refuse" and (folder / STATE_FILE).exists():
            raise FileExistsError(
                f"checkpoint_dir {folder} already holds a checkpoint of this run; continue it "
                "with efftheory.sampling.resume(path) or sample(..., if_exists='resume'), or "
                "choose an empty folder.")
        return
    atomic_write_bytes(stored, config.to_json().encode())
    write_model_record(folder, model)


def write_checkpoint(folder: Path, chunk_index: int, state: TemperingState,
                     records: StepRecord | None) -> None:
    """Persist chunk `chunk_index`'s draws (if a sampling chunk), then the state after it."""
    if records is not None:
        arrays = {name: np.asarray(value) for name, value in records._asdict().items()
                  if value is not None}
        atomic_write_bytes(folder / f"chunk_{chunk_index:05d}.npz", _npz_bytes(arrays))
    leaves = jax.tree_util.tree_leaves(jax.device_get(state))
    arrays = {f"leaf_{i:04d}": np.asarray(leaf) for i, leaf in enumerate(leaves)}
    arrays["next_chunk"] = np.asarray(chunk_index + 1)
    atomic_write_bytes(folder / STATE_FILE, _npz_bytes(arrays))


def read_config(folder: Path) -> SamplerConfig:
    path = Path(folder) / CONFIG_FILE
    if not path.exists():
        raise FileNotFoundError(f"{folder} is not a run folder (no {CONFIG_FILE}); pass the "
                                "checkpoint_dir given to efftheory.sampling.sample.")
    try:
        return SamplerConfig.from_json(path.read_text())
    except (UnicodeDecodeError, ValueError, TypeError, KeyError) as error:
        raise ValueError(f"{path} is not a sampler configuration written by efftheory "
                         f"({error}); pass another checkpoint_dir.") from None


def read_checkpoint(folder: Path, template: TemperingState,
                    num_warmup_chunks: int) -> tuple[int, TemperingState, list[StepRecord]]:
    """The next chunk index, the state to continue from, and the sampling draws so far."""
    path = Path(folder) / STATE_FILE
    if not path.exists():
        return 0, template, []
    with np.load(path) as stored:
        next_chunk = int(stored["next_chunk"])
        leaves = [jnp.asarray(stored[f"leaf_{i:04d}"])
                  for i in range(len(stored.files) - 1)]
    treedef = jax.tree_util.tree_structure(template)
    state = jax.tree_util.tree_unflatten(treedef, leaves)
    records = []
    for chunk_index in range(num_warmup_chunks, next_chunk):
        with np.load(Path(folder) / f"chunk_{chunk_index:05d}.npz") as stored:
            fields = {name: stored[name] if name in stored.files else None
                      for name in StepRecord._fields}
        records.append(StepRecord(**fields))
    return next_chunk, state, records
