"""The model a study samples: its card, the study's n_max where the builder takes one, and a
memory check before and after building; the study settings' types; a corrupt checkpoint
named."""

import contextlib
import json
import pickle
import zipfile
import zlib
from pathlib import Path

import numpy as np

from .. import sampling
from .._validation import check_int, check_number
from ..sampling._config import Ladder, SamplerSettings
from ._cutoff import check_cutoff_modes
from ._resources import check_study_memory


def load_study_model(config):
    """Build `config.card` with `config.overrides` for a study: a `CardModel`.

    Builders whose loss is a quadrature (two-layer cards) take the study's ``n_max`` so the
    quadrature is accurate up to the top rung; the others (deep linear, normal crossing,
    regular, ...) have exact losses and get none; a user builder gets it where it takes a
    parameter named ``n_max``. The memory the study will need is checked from the card's
    parameters before anything is built (`check_study_memory`), and again with the chosen
    number of quadrature nodes; a user model's, once built, from its size.
    """
    from ..models._card_parsing import validate_parameters as _validate_parameters
    from ..models._card_schema import ModelCardError
    from ..models._cards import builder_parameters, load_card, load_card_model
    from ..models._registry import is_builder_path

    n_max = config.ladder.n_max
    if "n_max" in config.overrides and config.overrides["n_max"] != n_max:
        raise ModelCardError(
            f"the card parameter n_max={config.overrides['n_max']!r} disagrees with the "
            f"ladder's n_max={n_max!r}: n_max is set once, by the ladder (its top rung, which "
            "also sets the loss quadrature). Pass --n-max (or n_max=...) instead of "
            "--override n_max=..., or drop the override.")
    card = load_card(config.card)
    overrides = {key: value for key, value in config.overrides.items() if key != "n_max"}
    if "n_max" in builder_parameters(config.card):
        overrides["n_max"] = n_max
    parameters = _validate_parameters(card.builder, {**card.parameters, **overrides},
                                      card.path, prefix="override ")
    user = is_builder_path(card.builder)
    if not user:
        check_study_memory(config, card.builder, parameters)
    card_model = load_card_model(config.card, **overrides)
    model = card_model.model
    if user:
        check_study_memory(config, card.builder, parameters, num_params=model.num_params)
    quadrature = getattr(model, "quadrature", None)
    if quadrature is not None:
        check_study_memory(config, card.builder, parameters, num_nodes=quadrature.num_nodes)
    return card_model


def validate_study_settings(config) -> None:
    """Raise a ValueError naming the setting when a study setting has the wrong type or range
    (``--set chunk_size=abc`` or ``--set chains=2.5`` must not reach the sampler). The
    ladder and the sampler settings check their own fields when they are built."""
    if not isinstance(config.card, str) or not config.card:
        raise ValueError(f"card must be a model card name or path, got {config.card!r}.")
    if not isinstance(config.overrides, dict):
        raise ValueError(f"overrides must be a table of card parameters, got "
                         f"{config.overrides!r}.")
    if not isinstance(config.ladder, Ladder):
        raise ValueError(f"ladder must be an efftheory.Ladder, got {config.ladder!r}; or give "
                         "n_min, n_max and num_rungs by name.")
    if not isinstance(config.sampler, SamplerSettings):
        raise ValueError(f"sampler must be efftheory.SamplerSettings, got {config.sampler!r}; "
                         "or give chains, warmup, draws, ... by name.")
    if not config.ladder.include_prior:
        raise ValueError("include_prior must be true for a study: its free energies start "
                         "from the prior rung n = 0; drop include_prior=False.")
    if config.ladder.num_rungs < 3:
        raise ValueError(f"num_rungs must be >= 3 for a study (n = 0 and at least two "
                         f"geometric rungs), got {config.ladder.num_rungs}.")
    check_number("fit_n_min", config.fit_n_min)
    if config.kmax is not None:
        check_int("kmax", config.kmax, 1, "use a positive integer, or leave kmax unset (from "
                  "the width)")
    check_cutoff_modes(config.cutoff_modes)
    if config.cutoff_modes and config.sampler.adapt_ladder:
        raise ValueError("adapt_ladder=True moves each run's rungs on its own, so the "
                         "truncations of cutoff_modes would not share the study's ladder; "
                         "drop adapt_ladder or cutoff_modes.")


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


def sample_resumable(out: Path, name: str, model, n_ladder, settings: dict, *,
                     restart: bool) -> "sampling.SamplingResult":
    """`efftheory.sample` with its checkpoints in ``out/name``: a rerun with the same model
    and settings resumes there, one with others is refused naming them (`rerun_refusal`)
    unless `restart`, and a corrupt checkpoint is named (`checkpoint_errors`)."""
    from ._results_folder import rerun_refusal

    checkpoint = out / name
    try:
        with checkpoint_errors(checkpoint):
            return sampling.sample(model, n_ladder, checkpoint_dir=checkpoint,
                                   if_exists="restart" if restart else "resume", **settings)
    except sampling.RunFolderMismatchError as error:
        raise rerun_refusal(out, error.differences) from None


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
