"""A study's results folder: what may be written where, and whether the study finished.

`efftheory run` writes into a folder it owns. The folder is checked before any work:
a file, an unwritable path or a folder of someone else's files is refused, so nothing the
user did not ask to replace is overwritten. ``status.json`` marks the folder as a study's
(``"status": "running"`` from the start, ``"complete"`` once every artifact is written),
with the study's configuration as `dataclasses.asdict` writes it (``ladder`` and ``sampler``
as tables; a folder of an older efftheory holds it flat, and is recognized all the same:
only the two marks are read).
Whether a rerun may continue the sampling is decided by the run folder
(`efftheory.sampling`, ``checkpoint/``), which compares the stored configuration and model
with the requested ones; here that refusal is only worded for the command line.
"""

import dataclasses
import hashlib
import json
import re
import shutil
import tempfile
from pathlib import Path

from .._io import atomic_write_json

STATUS_FILE = "status.json"
CHECKPOINT = "checkpoint"
SAMPLING = "sampling"
#: Files a study writes beside ``status.json`` (removed by ``restart``).
STUDY_FILES = ("summary.json", "summary.csv", "report.md", "spectrum.png",
               "learning_coefficient.png", "free_energy.png")
#: Files a sweep writes into a run's folder before the study starts.
SWEEP_FILES = ("config.json", "done.json")


class ResultsFolderError(ValueError):
    """An output folder cannot be used; the message says which folder and what to change."""


def _status(out: Path) -> dict | None:
    try:
        status = json.loads((out / STATUS_FILE).read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return status if isinstance(status, dict) and status.get("efftheory") == "study" else None


def is_results_folder(out: str | Path) -> bool:
    """A folder with a study's ``status.json``, or a checkpoint from an older efftheory."""
    out = Path(out)
    return _status(out) is not None or (out / CHECKPOINT / "config.json").is_file()


def is_complete(out: str | Path) -> bool:
    """Whether the study in `out` finished writing every artifact."""
    status = _status(Path(out))
    return status is not None and status.get("status") == "complete"


def check_output_folder(out: str | Path) -> Path:
    """Refuse, before any work, an `out` that is a file, unwritable, or someone else's.

    Creates `out` if missing. A non-empty folder is accepted only if it is an efftheory
    results folder (or holds nothing but a sweep's bookkeeping).
    """
    out = Path(out)
    if out.exists() and not out.is_dir():
        raise ResultsFolderError(f"--out {out} is a file, not a folder; give the path of a new "
                                 "or empty folder (it is created if missing).")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ResultsFolderError(f"cannot create --out {out}: {error.strerror or error}; "
                                 "choose a folder you can write to.") from None
    entries = sorted(path.name for path in out.iterdir())
    if (entries and not is_results_folder(out)
            and not set(entries) <= set(SWEEP_FILES)):
        shown = ", ".join(entries[:5]) + (", ..." if len(entries) > 5 else "")
        raise ResultsFolderError(
            f"--out {out} is not empty and is not an efftheory results folder (it holds "
            f"{shown}); a study would overwrite report.md, summary.json and sampling/ there. "
            "Choose a new or empty folder for --out.")
    try:
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as error:
        raise ResultsFolderError(f"cannot write into --out {out}: {error.strerror or error}; "
                                 "choose a folder you can write to.") from None
    return out


def discard_study(out: Path) -> None:
    """Delete the study files of `out` (``--restart``); the checkpoint is the sampler's."""
    for name in (STATUS_FILE, *STUDY_FILES):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / SAMPLING, ignore_errors=True)


def mark_running(out: Path, config) -> None:
    """Mark a new (or restarted) study as started; a finished study keeps its mark."""
    if _status(out) is None:
        atomic_write_json(out / STATUS_FILE, {"efftheory": "study", "status": "running",
                                              "config": dataclasses.asdict(config)})


def mark_complete(out: Path, config) -> None:
    atomic_write_json(out / STATUS_FILE, {"efftheory": "study", "status": "complete",
                                          "config": dataclasses.asdict(config)})


def rerun_refusal(out: Path, differences: list[str]) -> ResultsFolderError:
    """The error for a rerun whose settings differ from the run stored in `out`."""
    return ResultsFolderError(
        f"{out} holds a study run with other settings, so it is not continued:\n  "
        + "\n  ".join(differences)
        + f"\nEither write this run elsewhere (a new --out, or run_study(config, out=...)), or "
        f"discard the old run in {out} with --restart (run_study(..., restart=True)).")


def default_results_folder(config, root: str | Path = "results") -> Path:
    """``results/<card>`` for a card's own settings, ``results/<card>-<changes>`` otherwise.

    `<changes>` lists every setting (by its own name, `StudyConfig.settings`) and override
    that differs from the card's defaults (``width=8,draws=20``), or is a stable hash of them
    when that would be long, so runs with different settings never share a folder by default.
    """
    from ._config import study_config

    name = Path(config.card).stem if config.card.endswith(".toml") else config.card
    plain = study_config(config.card)
    defaults = plain.settings()
    changes = {setting: value for setting, value in config.settings().items()
               if value != defaults[setting]}
    changes.update({key: value for key, value in config.overrides.items()
                    if plain.overrides.get(key, object()) != value})
    changes.update({key: None for key in plain.overrides if key not in config.overrides})
    if not changes:
        return Path(root) / name
    readable = ",".join(f"{key}={value if isinstance(value, str) else json.dumps(value)}"
                        for key, value in sorted(changes.items()))
    if len(readable) > 48 or not re.fullmatch(r"[A-Za-z0-9_.+=,-]+", readable):
        canonical = json.dumps(sorted(changes.items()), default=str)
        readable = hashlib.sha256(canonical.encode()).hexdigest()[:10]
    return Path(root) / f"{name}-{readable}"
