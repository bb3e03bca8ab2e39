"""Run folders: checkpoints after every chunk (atomic writes) and saved results.

A run folder holds `config.json`, optionally `model.pkl`, one `chunk_XXXXX.npz` of draws
per finished sampling chunk, and `state.npz`: the sampler state's pytree leaves (NumPyro
`HMCState` included) and the index of the next chunk. Every file is written to a temporary
name and moved into place with `os.replace`, so a run killed at any instant leaves either the
old or the new checkpoint, never a torn one, and loses at most the chunk in flight.
"""

import io
import pickle
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

from .._io import atomic_write_bytes
from ._config import SamplerConfig
from ._tempering import StepRecord, TemperingState

CONFIG_FILE = "config.json"
MODEL_FILE = "model.pkl"
STATE_FILE = "state.npz"


def _npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def start_run_folder(folder: Path, config: SamplerConfig, model) -> None:
    """Create the folder with its config (and the model, if it pickles)."""
    folder.mkdir(parents=True, exist_ok=True)
    existing = folder / CONFIG_FILE
    if existing.exists() and SamplerConfig.from_json(existing.read_text()) != config:
        raise FileExistsError(f"checkpoint_dir {folder} holds a run with a different "
                              "configuration; resume it with efftheory.sampling.resume(path) "
                              "or choose an empty checkpoint_dir.")
    if (folder / STATE_FILE).exists():
        raise FileExistsError(f"checkpoint_dir {folder} already holds a checkpoint; continue it "
                              "with efftheory.sampling.resume(path) or choose an empty folder.")
    atomic_write_bytes(existing, config.to_json().encode())
    try:
        atomic_write_bytes(folder / MODEL_FILE, pickle.dumps(jax.device_get(model)))
    except (pickle.PicklingError, AttributeError, TypeError):
        pass  # resume(path, model=...) then needs the model passed back in


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
    return SamplerConfig.from_json(path.read_text())


def read_model(folder: Path):
    path = Path(folder) / MODEL_FILE
    if not path.exists():
        raise FileNotFoundError(f"{folder} holds no pickled model (it did not pickle); call "
                                "resume(path, model=...) with the run's model.")
    return pickle.loads(path.read_bytes())


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
