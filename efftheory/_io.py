"""Atomic file writes: a reader never sees a half-written result.

Files are created with mode ``0o666`` masked by the user's umask (0644 under the usual
umask 022), like any file a program opens for writing; `tempfile.mkstemp` would make every
result private (0600).
"""

import contextlib
import json
import os
import secrets
from pathlib import Path


@contextlib.contextmanager
def atomic_destination(path: str | os.PathLike):
    """Yield a temporary path beside `path`; on success it replaces `path` in one step.

    For writers that take a file name (netCDF, savefig): a reader sees the old file or the
    complete new one, never a torn one, and a failed write leaves no temporary behind.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = _new_temporary(path)
    try:
        yield Path(temporary)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _new_temporary(path: Path) -> Path:
    """Create an empty, uniquely named file beside `path`; its mode honours the umask."""
    for _ in range(100):
        candidate = path.parent / f".{path.name}.{secrets.token_hex(6)}.tmp"
        try:
            os.close(os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
        except FileExistsError:
            continue
        return candidate
    raise FileExistsError(f"could not create a temporary file beside {path}; remove the "
                          f".{path.name}.*.tmp files in {path.parent}.")


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write `data` to `path` through a temporary file in the same folder and `os.replace`."""
    with atomic_destination(path) as temporary, open(temporary, "wb") as file:
        file.write(data)
        file.flush()
        os.fsync(file.fileno())
    return Path(path)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(path: str | os.PathLike, payload) -> Path:
    return atomic_write_text(path, json.dumps(payload, indent=2, default=_jsonable) + "\n")


def atomic_save_figure(figure, path: str | os.PathLike, **kwargs) -> Path:
    import io

    buffer = io.BytesIO()
    figure.savefig(buffer, format=Path(path).suffix.lstrip(".") or "png", **kwargs)
    return atomic_write_bytes(path, buffer.getvalue())


def _jsonable(value):
    import numpy as np

    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"{type(value).__name__} is not JSON serializable")
