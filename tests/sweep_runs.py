"""Run functions for tests/test_sweep.py, importable by spawned worker processes (which get
the parent's `sys.path`, this folder included)."""

import os
import signal
import time
from pathlib import Path

from sweep_demo import demo_run

ATTEMPTS_FILE = "attempts.txt"
# The one config whose worker is SIGKILLed on its first attempt.
CRASH_CONFIG = {"seed": 2, "coefficient": 2.0}


def counted_run(config, out_dir):
    """`demo_run`, logging each attempt in the run folder (to count work done)."""
    with open(Path(out_dir) / ATTEMPTS_FILE, "a") as log:
        log.write(f"{os.getpid()}\n")
    return demo_run(config, out_dir)


def crash_once_run(config, out_dir):
    """`counted_run`, except that CRASH_CONFIG's first attempt kills its own process
    half-way (after a partial summary), as the kernel's OOM killer would."""
    counted_run(config, out_dir)
    marker = Path(out_dir) / "crashed-once"
    if all(config.get(k) == v for k, v in CRASH_CONFIG.items()) and not marker.exists():
        marker.touch()
        os.kill(os.getpid(), signal.SIGKILL)
    return None


def must_not_run(config, out_dir):
    raise AssertionError(f"a finished run was run again: {out_dir}")


PID_FILE = "worker.pid"


def sleepy_run(config, out_dir):
    """Record the worker's pid beside the sweep's folder, then outlive any test."""
    (Path(out_dir).parent.parent / PID_FILE).write_text(str(os.getpid()))
    time.sleep(600)
