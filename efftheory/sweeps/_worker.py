"""One run of a sweep, on the worker: resolve the run function, run it into its folder,
mark it done; and the worker process's setup."""

import importlib
import os
import socket
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path

from .._io import atomic_write_json
from ._grid import config_hash

DEFAULT_RUN = "efftheory:run_study"
# Run functions that moved; grid files written for an older efftheory still name them.
_MOVED = {"efftheory._study:run_study": DEFAULT_RUN}
CONFIG_FILE = "config.json"
SUMMARY_FILE = "summary.json"
DONE_FILE = "done.json"

RunFunction = Callable[[dict, Path], dict | None]


def resolve_run_function(run_fn: RunFunction | str | None) -> RunFunction:
    """A callable from a callable or a `"package.module:function"` path (None: the study)."""
    if callable(run_fn):
        return run_fn
    spec = DEFAULT_RUN if run_fn is None else _MOVED.get(run_fn, run_fn)
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"run function {spec!r} must look like 'package.module:function'.")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot load the run function {spec!r} ({error}); pass run_fn= a "
                         "module-level function or an importable 'module:function'.") from None


def execute_run(run_fn: RunFunction | str | None, config: dict, run_dir: str,
                registrations: dict | None = None) -> float:
    """Worker side: run one config into `run_dir`, then mark it done. Returns seconds.
    `registrations` are the sweep's registered models (`efftheory.register_model`), made
    here too by importing their builders."""
    folder = Path(run_dir)
    if (folder / DONE_FILE).exists():
        return 0.0
    if registrations:
        from ..models._registry import restore_registrations

        restore_registrations(registrations)
    atomic_write_json(folder / CONFIG_FILE, config)
    function = resolve_run_function(run_fn)
    start = time.perf_counter()
    summary = function(dict(config), folder)
    seconds = time.perf_counter() - start
    if not (folder / SUMMARY_FILE).exists():
        if not isinstance(summary, Mapping):
            raise FileNotFoundError(
                f"run function {_describe(run_fn)} wrote no {SUMMARY_FILE} in {folder} and "
                "returned no dict; write one or return the summary.")
        atomic_write_json(folder / SUMMARY_FILE, dict(summary))
    # Written last: its presence is the only mark of a finished run.
    atomic_write_json(folder / DONE_FILE, {
        "run_id": folder.name, "config_hash": config_hash(config), "run": _describe(run_fn),
        "seconds": seconds, "host": socket.gethostname(), "pid": os.getpid(),
        "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    return seconds


def _describe(run_fn) -> str:
    if run_fn is None or isinstance(run_fn, str):
        return run_fn or DEFAULT_RUN
    return f"{getattr(run_fn, '__module__', '?')}:{getattr(run_fn, '__qualname__', run_fn)}"


#: Seconds between a worker's checks that the sweep that started it is still alive.
PARENT_POLL_SECONDS = 0.5


def worker_setup(parent_pid: int | None = None) -> None:
    # Several JAX processes may share one accelerator; preallocating 75% of its memory
    # each would starve the rest (override by setting the variable before the sweep).
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if parent_pid is not None:
        threading.Thread(target=_exit_with_parent, args=(parent_pid,), daemon=True,
                         name="efftheory-parent-watchdog").start()


def _exit_with_parent(parent_pid: int) -> None:
    """Exit as soon as the sweep process that started this worker is gone.

    A killed sweep (SIGKILL, the OOM killer) cannot shut its pool down, and an orphaned
    spawn worker would otherwise wait on its call queue forever, holding its memory. An
    orphan is re-parented, so its parent pid changes: that is the signal (portable, unlike
    Linux's PR_SET_PDEATHSIG). `os._exit` because the main thread may be mid-run.
    """
    while os.getppid() == parent_pid:
        time.sleep(PARENT_POLL_SECONDS)
    os._exit(1)
