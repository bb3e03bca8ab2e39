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

import concurrent.futures as futures
import csv
import dataclasses
import io
import json
import multiprocessing
import os
import sys
from collections import deque
from collections.abc import Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any

from .._io import atomic_write_text
from ._grid import expand_grid, run_id
from ._worker import (
    CONFIG_FILE,
    DONE_FILE,
    SUMMARY_FILE,
    RunFunction,
    execute_run,
    resolve_run_function,
    worker_setup,
)

TABLE_FILE = "sweep.csv"


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
    from ..models._registry import portable_registrations

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
                        1, mp_context=context, initializer=worker_setup,
                        initargs=(os.getpid(),))
                rid = queue.popleft()
                attempts[rid] += 1
                running[pools[slot].submit(execute_run, *tasks[rid])] = (slot, rid)
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
    submitted = {executor.submit(execute_run, *task): rid for rid, task in tasks.items()}
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
