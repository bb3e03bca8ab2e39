"""The model a study samples: its card, the study's n_max where the builder takes one, and a
memory check before and after building; the study settings' types; a corrupt checkpoint
named."""

import contextlib
import json
import math
import pickle
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .._resources import check_study_memory
from ._cutoff import check_cutoff_modes


def load_study_model(config):
    """Build `config.card` with `config.overrides` for a study.

    Builders whose loss is a quadrature (two-layer cards) take the study's ``n_max`` so the
    quadrature is accurate up to the top rung; the others (deep linear, normal crossing,
    regular, ...) have exact losses and get none; a user builder gets it where it takes a
    parameter named ``n_max``. The memory the study will need is checked from the card's
    parameters before anything is built (`check_study_memory`), and again with the chosen
    number of quadrature nodes; a user model's, once built, from its size.
    """
    from .._card_parsing import validate_parameters as _validate_parameters
    from .._card_schema import ModelCardError
    from .._cards import builder_parameters, load_card, load_model
    from .._registry import is_builder_path

    if "n_max" in config.overrides:
        raise ModelCardError(
            "n_max is a study setting (the top rung of the ladder, which also sets the loss "
            "quadrature), not a card override: pass --n-max (or n_max=...) instead of "
            "--override n_max=...")
    card = load_card(config.card)
    overrides = dict(config.overrides)
    if "n_max" in builder_parameters(config.card):
        overrides["n_max"] = config.n_max
    parameters = _validate_parameters(card.builder, {**card.parameters, **overrides},
                                      card.path, prefix="override ")
    user = is_builder_path(card.builder)
    if not user:
        check_study_memory(config, card.builder, parameters)
    model = load_model(config.card, **overrides)
    if user:
        check_study_memory(config, card.builder, parameters, num_params=model.num_params)
    quadrature = getattr(model, "quadrature", None)
    if quadrature is not None:
        check_study_memory(config, card.builder, parameters, num_nodes=quadrature.num_nodes)
    return model


_INTEGER_SETTINGS = {"num_rungs": 2, "chains": 1, "warmup": 0, "draws": 1, "seed": 0,
                     "chunk_size": 1, "max_tree_depth": 1}


def _is_integer(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (isinstance(value, int | float) and not isinstance(value, bool)
            and math.isfinite(value))


def validate_study_settings(config) -> None:
    """Raise a ValueError naming the setting when a study setting has the wrong type or range
    (``--set chunk_size=abc`` or ``--set chains=2.5`` must not reach the sampler)."""
    if not isinstance(config.card, str) or not config.card:
        raise ValueError(f"card must be a model card name or path, got {config.card!r}.")
    if not isinstance(config.overrides, dict):
        raise ValueError(f"overrides must be a table of card parameters, got "
                         f"{config.overrides!r}.")
    for name in ("n_min", "n_max", "fit_n_min"):
        if not _is_number(getattr(config, name)):
            raise ValueError(f"{name} must be a finite number, got {getattr(config, name)!r}.")
    for name, minimum in _INTEGER_SETTINGS.items():
        value = getattr(config, name)
        if not (_is_integer(value) and value >= minimum):
            raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}.")
    if not (_is_number(config.target_accept_prob) and 0 < config.target_accept_prob < 1):
        raise ValueError(f"target_accept_prob must be a number in (0, 1), got "
                         f"{config.target_accept_prob!r}.")
    if config.kmax is not None and not (_is_integer(config.kmax) and config.kmax >= 1):
        raise ValueError(f"kmax must be a positive integer (or unset), got {config.kmax!r}.")
    if not isinstance(config.store_positions, bool):
        raise ValueError(f"store_positions must be true or false, got "
                         f"{config.store_positions!r}.")
    check_cutoff_modes(config.cutoff_modes)


def _unreadable_files(folder: Path) -> list[str]:
    """The checkpoint files in `folder` that cannot be read back whole."""
    bad = []
    for path in sorted(folder.iterdir()):
        try:
            if path.suffix == ".json":
                json.loads(path.read_text())
            elif path.suffix == ".npz":
                with zipfile.ZipFile(path) as archive:
                    if archive.testzip() is not None:
                        raise zipfile.BadZipFile("CRC mismatch")
                with np.load(path) as stored:
                    for name in stored.files:
                        stored[name]
        except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error):
            bad.append(str(path))
    return bad


@contextlib.contextmanager
def checkpoint_errors(folder: Path):
    """Turn a truncated or corrupt checkpoint (a half-copied folder, a full disk) into a
    message naming the file and the way out, instead of a zip or pickle traceback."""
    try:
        yield
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error,
            pickle.UnpicklingError) as error:
        bad = _unreadable_files(Path(folder)) if Path(folder).is_dir() else []
        if not bad:
            raise
        raise ValueError(
            f"the checkpoint cannot be read: {', '.join(bad)} "
            f"{'is' if len(bad) == 1 else 'are'} truncated or corrupt "
            f"({type(error).__name__}: {error}). Rerun with --restart to discard the "
            f"checkpoint in {folder} and start over, or use a new --out.") from error
