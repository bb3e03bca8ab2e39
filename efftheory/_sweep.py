"""Sweeps: one run per point of a grid of configs, on local processes or a Dask cluster.

A *run* is a pure, seeded function `run_fn(config, out_dir)` of a JSON-able config that
writes `summary.json` into its own folder `out/<run-id>/` (or returns the summary as a dict,
which is then written for it). The run id is a readable slug of the grid values plus a hash
of the whole config, so it is stable across reruns and machines. A run counts as finished
only once `done.json` has been written atomically *after* `run_fn` returned: finished runs
are skipped on a rerun, and a run killed at any instant is simply done again (its function
must accept a folder left by a killed attempt of itself, by resuming or overwriting it).
Results are gathered from every `summary.json` into `out/sweep.csv` and a list of dicts.
"""

import argparse
import concurrent.futures as futures
import csv
import dataclasses
import hashlib
import importlib
import io
import itertools
import json
import multiprocessing
import os
import re
import socket
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from ._io import atomic_write_json, atomic_write_text

DEFAULT_RUN = "efftheory:run_study"
CONFIG_FILE = "config.json"
SUMMARY_FILE = "summary.json"
DONE_FILE = "done.json"
TABLE_FILE = "sweep.csv"

RunFunction = Callable[[dict, Path], dict | None]


class SweepError(RuntimeError):
    """Some runs failed; `result` holds what finished and each failure's message."""

    def __init__(self, message: str, result: "SweepResult"):
        super().__init__(message)
        self.result = result


@dataclasses.dataclass(frozen=True)
class SweepResult:
    """What a sweep left in `out`: one row per finished run, in grid order.

    Each row is `{"run_id", **config, **summary, "run_seconds"}` (a summary key that clashes
    with a config key is prefixed `summary.`); `ran` and `skipped` are run ids, `failed`
    maps run ids to the error that stopped them.
    """

    out: Path
    rows: list[dict]
    ran: tuple[str, ...]
    skipped: tuple[str, ...]
    failed: dict[str, str]

    @property
    def table(self) -> Path:
        return self.out / TABLE_FILE


# ------------------------------------------------------------------------- configs


def expand_grid(grid: Mapping[str, Sequence] | Sequence[Mapping],
                fixed: Mapping[str, Any] | None = None) -> list[dict]:
    """Configs of a sweep: the Cartesian product of `grid`'s lists, each with `fixed` added.

    `grid` maps setting names to lists of values (`{"card": [...], "seed": [0, 1]}`; the
    last key varies fastest), or is already a list of config dicts.
    """
    fixed = dict(fixed or {})
    if isinstance(grid, Mapping):
        for name, values in grid.items():
            if isinstance(values, str | bytes) or not isinstance(values, Sequence):
                raise TypeError(f"grid[{name!r}] must be a list of values, got {values!r}; "
                                f"write [{values!r}] or move it to the fixed settings.")
            if len(values) == 0:
                raise ValueError(f"grid[{name!r}] is empty; give at least one value.")
        clash = set(grid) & set(fixed)
        if clash:
            raise ValueError(f"{sorted(clash)} appear both in the grid and in the fixed "
                             "settings; keep each setting in one of them.")
        names = list(grid)
        configs = [{**dict(zip(names, values, strict=True)), **fixed}
                   for values in itertools.product(*(grid[name] for name in names))]
    else:
        configs = [{**dict(config), **fixed} for config in grid]
    for config in configs:
        _canonical_json(config)
    return configs


def config_hash(config: Mapping) -> str:
    """First 10 hex digits of the SHA-256 of the config's canonical JSON."""
    return hashlib.sha256(_canonical_json(config).encode()).hexdigest()[:10]


def run_id(config: Mapping, name_keys: Iterable[str] | None = None) -> str:
    """`key-value_key-value-<hash>`: a slug of `name_keys` (default: all scalar settings)
    for people, and the hash of the whole config that makes it unique and stable. Scalars
    inside a dict value appear as `key.inner-value` (`overrides.width-8`)."""
    keys = sorted(config) if name_keys is None else list(name_keys)
    scalar = str | int | float | bool
    parts = []
    for key in keys:
        value = config.get(key)
        if isinstance(value, scalar):
            parts.append(f"{key}-{value}")
        elif isinstance(value, Mapping):
            parts += [f"{key}.{inner}-{item}" for inner, item in value.items()
                      if isinstance(item, scalar)]
    slug = re.sub(r"[^A-Za-z0-9.=+-]+", "_", "_".join(parts)).strip("_.")[:80]
    return f"{slug}-{config_hash(config)}" if slug else config_hash(config)


def _canonical_json(config: Mapping) -> str:
    try:
        return json.dumps(config, sort_keys=True, separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as error:
        raise TypeError(f"a sweep config must be JSON-able (str, int, float, bool, None, "
                        f"lists and dicts of them), got {config!r}: {error}") from None


# ------------------------------------------------------------------------ one run


def resolve_run_function(run_fn: RunFunction | str | None) -> RunFunction:
    """A callable from a callable or a `"package.module:function"` path (None: the study)."""
    if callable(run_fn):
        return run_fn
    spec = DEFAULT_RUN if run_fn is None else run_fn
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise ValueError(f"run function {spec!r} must look like 'package.module:function'.")
    try:
        return getattr(importlib.import_module(module_name), attribute)
    except (ImportError, AttributeError) as error:
        raise ValueError(f"cannot load the run function {spec!r} ({error}); pass run_fn= a "
                         "module-level function or an importable 'module:function'.") from None


def _execute(run_fn: RunFunction | str | None, config: dict, run_dir: str,
             registrations: dict | None = None) -> float:
    """Worker side: run one config into `run_dir`, then mark it done. Returns seconds.
    `registrations` are the sweep's registered models (`efftheory.register_model`), made
    here too by importing their builders."""
    folder = Path(run_dir)
    if (folder / DONE_FILE).exists():
        return 0.0
    if registrations:
        from ._registry import restore_registrations

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


def _worker_setup(parent_pid: int | None = None) -> None:
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


# ------------------------------------------------------------------------ the sweep


def sweep(
    grid: Mapping[str, Sequence] | Sequence[Mapping],
    run_fn: RunFunction | str | None = None,
    *,
    out: str | os.PathLike,
    fixed: Mapping[str, Any] | None = None,
    executor: futures.Executor | None = None,
    scheduler: Any = None,
    workers: int | None = None,
    retries: int = 2,
    verbose: bool = False,
) -> SweepResult:
    """Run `run_fn(config, out/<run-id>)` for every config of `grid` × `fixed` not yet done.

    Where the runs go:

    - default: local processes, a `ProcessPoolExecutor` per worker slot with the 'spawn'
      start method (JAX is not fork-safe); `workers` slots (default: half the CPUs, at most
      the number of runs). A worker that dies (killed, out of memory, `os._exit`) breaks
      only its own pool: its run is resubmitted to a fresh one, at most `retries` times,
      and the other workers' runs go on.
    - `scheduler`: a Dask distributed scheduler address (`"tcp://host:8786"`), a
      `distributed.Client`, or a cluster object (`LocalCluster`, `SLURMCluster`, ...); runs
      are submitted through `client.get_executor()`, and Dask itself reschedules the run of
      a worker that died. Needs the `sweep` extra: `pip install 'efftheory[sweep]'`.
    - `executor`: any `concurrent.futures.Executor` you manage (e.g. a thread pool).

    On a SLURM cluster, with `pip install dask-jobqueue` (workers must import efftheory and
    see `out` on a shared filesystem)::

        from dask_jobqueue import SLURMCluster
        from distributed import Client

        cluster = SLURMCluster(cores=4, memory="16GB", walltime="02:00:00",
                               job_extra_directives=["--gres=gpu:1"])
        cluster.scale(jobs=8)              # 8 SLURM jobs, one Dask worker each
        client = Client(cluster)
        efftheory.sweep(grid, out="results/sweep", scheduler=client)

    or start `dask scheduler` and `dask worker tcp://host:8786` yourself and pass the
    address (`efftheory sweep grid.toml --out DIR --scheduler tcp://host:8786`).

    `run_fn` is a module-level function (workers import it) or an import path
    `"package.module:function"`; the default, the study runner
    `"efftheory:run_study"`, is resolved lazily. A config's ``card`` may be your own
    model: a card file naming ``builder = "package.module:function"`` (workers import it;
    give the card's absolute path where workers run elsewhere), or a name registered with
    `efftheory.register_model`, which is registered again in each worker from its
    builder's module (so the builder must live in an importable module, not a notebook,
    unless `executor` is a thread pool). Every config must be JSON-able and
    should hold its own seed: a run is a pure function of its config. Runs that raise are
    recorded (`error.txt` in their folder) and the others go on; a `SweepError` carrying
    the `SweepResult` is raised at the end. The table `out/sweep.csv` (lists and dicts as
    JSON cells) and `SweepResult.rows` hold every finished run in grid order.
    """
    if executor is not None and scheduler is not None:
        raise ValueError("pass either executor= or scheduler=, not both.")
    if workers is not None and (executor is not None or scheduler is not None):
        raise ValueError("workers= sizes the local process pool; with executor= or "
                         "scheduler= size that executor or cluster instead.")
    if workers is not None and workers < 1:
        raise ValueError(f"workers must be >= 1, got {workers}.")
    if retries < 0:
        raise ValueError(f"retries must be >= 0, got {retries}.")
    out = Path(out)
    grid_keys = list(grid) if isinstance(grid, Mapping) else None
    configs = expand_grid(grid, fixed)
    ids = [run_id(config, grid_keys) for config in configs]
    if len(set(ids)) != len(ids):
        raise ValueError("the grid holds the same config more than once; remove duplicate "
                         "values.")
    # Resolve here too, so that a wrong path fails before any worker starts.
    resolve_run_function(run_fn)
    from ._registry import portable_registrations

    registrations = portable_registrations(
        (config.get("card") for config in configs if isinstance(config.get("card"), str)),
        strict=executor is None)
    pending = {rid: config for rid, config in zip(ids, configs, strict=True)
               if not (out / rid / DONE_FILE).exists()}
    skipped = tuple(rid for rid in ids if rid not in pending)
    failed: dict[str, str] = {}
    reporter = _Reporter(len(pending), verbose)
    if pending:
        out.mkdir(parents=True, exist_ok=True)
        tasks = {rid: (run_fn, config, str(out / rid), registrations)
                 for rid, config in pending.items()}
        if executor is None and scheduler is None:
            failed = _run_on_local_processes(tasks, workers, retries, reporter)
        elif executor is not None:
            failed = _run_on_executor(executor, tasks, reporter)
        else:
            with _dask_executor(scheduler) as dask_executor:
                failed = _run_on_executor(dask_executor, tasks, reporter)
        for rid, message in failed.items():
            atomic_write_text(out / rid / "error.txt", message + "\n")
    rows = [_row(rid, config, out / rid) for rid, config in zip(ids, configs, strict=True)
            if rid not in failed]
    if rows or out.exists():
        write_table(rows, out / TABLE_FILE)
    result = SweepResult(out=out, rows=rows,
                         ran=tuple(rid for rid in pending if rid not in failed),
                         skipped=skipped, failed=failed)
    if failed:
        first = next(iter(failed.items()))
        raise SweepError(f"{len(failed)} of {len(ids)} runs failed (first: {first[0]}: "
                         f"{first[1].splitlines()[-1] if first[1] else ''}); see error.txt in "
                         f"their folders under {out}. Finished runs are kept: fix and rerun.",
                         result)
    return result


class _Reporter:
    def __init__(self, total: int, verbose: bool):
        self.total, self.count, self.verbose = total, 0, verbose

    def __call__(self, rid: str, outcome: str) -> None:
        self.count += outcome != "retrying"
        if self.verbose:
            print(f"[{self.count}/{self.total}] {rid}: {outcome}", file=sys.stderr, flush=True)


def _run_on_local_processes(tasks: dict[str, tuple], workers: int | None, retries: int,
                            report: _Reporter) -> dict[str, str]:
    """One single-worker spawn pool per slot, so a dying worker takes down only its run."""
    if workers is None:
        workers = max(1, (os.cpu_count() or 2) // 2)
    workers = min(workers, len(tasks))
    context = multiprocessing.get_context("spawn")
    queue, attempts, failed = deque(tasks), dict.fromkeys(tasks, 0), {}
    pools: list[futures.ProcessPoolExecutor | None] = [None] * workers
    running: dict[futures.Future, tuple[int, str]] = {}
    try:
        while queue or running:
            for slot in range(workers):
                if not queue:
                    break
                if any(s == slot for s, _ in running.values()):
                    continue
                if pools[slot] is None:
                    pools[slot] = futures.ProcessPoolExecutor(
                        1, mp_context=context, initializer=_worker_setup,
                        initargs=(os.getpid(),))
                rid = queue.popleft()
                attempts[rid] += 1
                running[pools[slot].submit(_execute, *tasks[rid])] = (slot, rid)
            done, _ = futures.wait(running, return_when=futures.FIRST_COMPLETED)
            for future in done:
                slot, rid = running.pop(future)
                try:
                    future.result()
                    report(rid, "done")
                except BrokenProcessPool:
                    pools[slot].shutdown(wait=True)
                    pools[slot] = None
                    if attempts[rid] <= retries:
                        queue.appendleft(rid)
                        report(rid, "retrying")
                    else:
                        failed[rid] = (f"its worker process died {attempts[rid]} times "
                                       "(killed, out of memory, or exited); rerun the sweep "
                                       "to try again, with fewer workers if memory ran out.")
                        report(rid, "failed")
                except Exception as error:  # the run function's own error: do not retry
                    failed[rid] = _format_error(error)
                    report(rid, "failed")
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=True)
    finally:  # on an interrupt, do not wait for runs in flight
        for pool in pools:
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
    return failed


def _run_on_executor(executor: futures.Executor, tasks: dict[str, tuple],
                     report: _Reporter) -> dict[str, str]:
    submitted = {executor.submit(_execute, *task): rid for rid, task in tasks.items()}
    failed = {}
    for future in futures.as_completed(submitted):
        rid = submitted[future]
        try:
            future.result()
            report(rid, "done")
        except futures.BrokenExecutor as error:
            failed[rid] = (f"{_format_error(error)}\nthe executor broke (a worker died); "
                           "rerun the sweep, or leave executor=None so that the sweep "
                           "replaces dead workers itself.")
            report(rid, "failed")
        except Exception as error:
            failed[rid] = _format_error(error)
            report(rid, "failed")
    return failed


def _format_error(error: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception(error)).rstrip()


class _dask_executor:
    """Context manager: a `concurrent.futures` executor on a Dask cluster; closes the
    `Client` only if it made it."""

    def __init__(self, scheduler: Any):
        try:
            import distributed
        except ImportError:
            raise ImportError("scheduler= needs Dask distributed: pip install "
                              "'efftheory[sweep]' (or 'dask[distributed]').") from None
        self._owned = None
        if isinstance(scheduler, distributed.Client):
            client = scheduler
        elif isinstance(scheduler, str) or hasattr(scheduler, "scheduler_address"):
            client = self._owned = distributed.Client(scheduler)
        else:
            raise TypeError(f"scheduler must be an address 'tcp://host:port', a "
                            f"distributed.Client or a Dask cluster, got {scheduler!r}.")
        # pure=False: a resubmitted run must run again, not return a cached future.
        self.executor = client.get_executor(pure=False)

    def __enter__(self) -> futures.Executor:
        return self.executor

    def __exit__(self, *exc_info) -> None:
        if self._owned is not None:
            self._owned.close()


# ------------------------------------------------------------------------ results


def _row(rid: str, config: Mapping, folder: Path) -> dict:
    summary = json.loads((folder / SUMMARY_FILE).read_text())
    done = json.loads((folder / DONE_FILE).read_text())
    row = {"run_id": rid, **config}
    for key, value in summary.items():
        row[f"summary.{key}" if key in row else key] = value
    row["run_seconds"] = done.get("seconds")
    return row


def read_sweep(out: str | os.PathLike) -> list[dict]:
    """Rows of every finished run in a sweep folder (sorted by run id), without running
    anything: for tables and plots after the fact."""
    out = Path(out)
    rows = []
    for done in sorted(out.glob(f"*/{DONE_FILE}")):
        folder = done.parent
        config = json.loads((folder / CONFIG_FILE).read_text())
        rows.append(_row(folder.name, config, folder))
    return rows


def write_table(rows: Sequence[Mapping], path: str | os.PathLike) -> Path:
    """CSV of `rows` (columns in first-seen order; lists and dicts as JSON cells)."""
    columns: dict[str, None] = {}
    for row in rows:
        columns.update(dict.fromkeys(row))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({key: json.dumps(value) if isinstance(value, list | dict) else value
                         for key, value in row.items()})
    return atomic_write_text(path, buffer.getvalue())


# ------------------------------------------------------------------------ the CLI


def read_grid_file(path: str | os.PathLike) -> dict:
    """A sweep file (TOML or JSON): `[grid]` lists, optional `[fixed]` and `run`.

    Example (TOML)::

        run = "efftheory:run_study"   # optional
        [grid]
        card = ["tanh256", "circle"]
        seed = [0, 1, 2]
        [fixed]
        draws = 2000
    """
    import tomllib

    path = Path(path)
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file (a grid file is TOML or JSON).") from None
    except OSError as error:
        raise ValueError(f"grid file {path} cannot be read: {error.strerror or error}.") from None
    try:
        spec = json.loads(text) if path.suffix.lower() == ".json" else tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as error:
        kind = "JSON" if path.suffix.lower() == ".json" else "TOML"
        raise ValueError(f"{path}: not valid {kind} ({error}).") from None
    unknown = set(spec) - {"grid", "fixed", "run"} if isinstance(spec, dict) else set()
    if not isinstance(spec, dict) or "grid" not in spec or unknown:
        found = sorted(spec) if isinstance(spec, dict) else type(spec).__name__
        raise ValueError(f"{path} must have a [grid] table of lists, optionally [fixed] and "
                         f"run = 'module:function'; found {found}.")
    if not isinstance(spec["grid"], dict | list):
        raise ValueError(f"{path}: grid must be a table of lists, got {spec['grid']!r}.")
    if not isinstance(spec.get("fixed", {}), dict):
        raise ValueError(f"{path}: fixed must be a table, got {spec['fixed']!r}.")
    try:
        expand_grid(spec["grid"], spec.get("fixed"))
    except (TypeError, ValueError) as error:
        raise ValueError(f"{path}: {error}") from None
    return spec


def sweep_command(arguments: argparse.Namespace) -> int:
    """`efftheory sweep GRID --out DIR [--scheduler ADDRESS | --workers N]`."""
    try:
        spec = read_grid_file(arguments.grid)
    except ValueError as error:
        print(f"efftheory sweep: {error}", file=sys.stderr)
        return 2
    try:
        result = sweep(spec["grid"], spec.get("run"), out=arguments.out,
                       fixed=spec.get("fixed"), scheduler=arguments.scheduler,
                       workers=arguments.workers, retries=arguments.retries, verbose=True)
    except SweepError as error:
        print(f"efftheory sweep: {error}", file=sys.stderr)
        result, status = error.result, 1
    except ImportError as error:
        print(f"efftheory sweep: {error}", file=sys.stderr)
        return 2
    else:
        status = 0
    print(f"{len(result.ran)} ran, {len(result.skipped)} already done, "
          f"{len(result.failed)} failed; table: {result.table}")
    return status


def add_sweep_parser(subparsers) -> argparse.ArgumentParser:
    """Add the `sweep` command to the `efftheory` CLI's subparsers."""
    parser = subparsers.add_parser(
        "sweep", help="run a grid of studies (local processes or a Dask cluster)",
        description="Run every config of a grid file (TOML or JSON: [grid] lists, [fixed] "
                    "settings, optional run = 'module:function'), one folder per run under "
                    "--out; finished runs are skipped, results gathered in OUT/sweep.csv.")
    parser.add_argument("grid", type=Path, help="grid file (.toml or .json)")
    parser.add_argument("--out", type=Path, required=True, help="output folder")
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="Dask scheduler address, e.g. tcp://host:8786 (needs the "
                             "'sweep' extra); default: local processes")
    parser.add_argument("--workers", type=int, default=None, metavar="N",
                        help="local worker processes (default: half the CPUs)")
    parser.add_argument("--retries", type=int, default=2,
                        help="times a run whose worker died is resubmitted (default 2)")
    parser.set_defaults(handler=sweep_command)
    return parser
