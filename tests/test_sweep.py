"""Sweeps: grid expansion, run ids, local processes vs Dask, skipping, dead workers."""

import argparse
import concurrent.futures as futures
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sweep_runs

from efftheory.sweeps._cli import add_sweep_parser
from efftheory.sweeps._grid import config_hash, expand_grid, run_id
from efftheory.sweeps._sweep import SweepError, read_sweep, sweep
from efftheory.sweeps._worker import DONE_FILE

GRID = {"seed": [0, 1, 2, 3], "coefficient": [1.0, 2.0]}
FIXED = {"rungs": 2, "chains": 2, "warmup": 20, "draws": 20, "n_max": 50.0}


def _attempts(folder: Path) -> int:
    return len((folder / sweep_runs.ATTEMPTS_FILE).read_text().split())


def _numbers(rows):
    return [{k: v for k, v in row.items() if k != "run_seconds"} for row in rows]


# ------------------------------------------------------------------------- configs


def test_grid_is_a_cartesian_product_with_fixed_settings():
    configs = expand_grid({"card": ["a", "b"], "seed": [0, 1, 2]}, {"draws": 10})
    assert len(configs) == 6
    assert configs[0] == {"card": "a", "seed": 0, "draws": 10}
    assert configs[1] == {"card": "a", "seed": 1, "draws": 10}  # last key fastest
    assert expand_grid([{"seed": 5}], {"draws": 1}) == [{"seed": 5, "draws": 1}]
    with pytest.raises(TypeError, match=r"write \[3\]"):
        expand_grid({"seed": 3})
    with pytest.raises(ValueError, match="both in the grid"):
        expand_grid({"seed": [1]}, {"seed": 2})
    with pytest.raises(TypeError, match="JSON-able"):
        expand_grid({"seed": [object()]})


def test_run_ids_are_stable_and_readable():
    config = {"card": "tanh 256/circle", "width": 8, "seed": 0, "draws": 1000}
    rid = run_id(config, ["card", "width", "seed"])
    assert rid == f"card-tanh_256_circle_width-8_seed-0-{config_hash(config)}"
    # The hash covers the whole config, in any key order.
    assert config_hash(dict(reversed(config.items()))) == config_hash(config)
    assert config_hash({**config, "draws": 2000}) != config_hash(config)
    assert config_hash(config) == "4d2f4d90a9"  # fixed forever: folders from old sweeps
    nested = {"card": "rrr", "overrides": {"width": 8, "activation": "tanh"}}
    assert run_id(nested, ["card", "overrides"]).startswith(
        "card-rrr_overrides.width-8_overrides.activation-tanh-")


# ------------------------------------------------------------------- local processes


@pytest.fixture(scope="module")
def local_sweep(tmp_path_factory):
    """8 runs on 2 spawned workers; CRASH_CONFIG's worker is SIGKILLed on its 1st try."""
    out = tmp_path_factory.mktemp("local")
    result = sweep(GRID, sweep_runs.crash_once_run, out=out, fixed=FIXED, workers=2)
    return out, result


def test_dead_worker_loses_only_its_own_run(local_sweep):
    out, result = local_sweep
    assert len(result.rows) == 8 and not result.failed and not result.skipped
    crashed = [row["run_id"] for row in result.rows
               if all(row[k] == v for k, v in sweep_runs.CRASH_CONFIG.items())]
    assert len(crashed) == 1
    for row in result.rows:
        folder = out / row["run_id"]
        assert (folder / DONE_FILE).exists()
        assert _attempts(folder) == (2 if row["run_id"] in crashed else 1), row["run_id"]


def test_table_and_rows(local_sweep):
    out, result = local_sweep
    with open(out / "sweep.csv", newline="") as file:
        table = list(csv.DictReader(file))
    assert [row["run_id"] for row in table] == [row["run_id"] for row in result.rows]
    assert list(table[0])[:3] == ["run_id", "seed", "coefficient"]
    for row, line in zip(result.rows, table, strict=True):
        assert len(row["learning_coefficient"]) == 3  # prior rung + 2
        assert json.loads(line["learning_coefficient"]) == row["learning_coefficient"]
        assert float(line["learning_coefficient_top"]) == row["learning_coefficient_top"]
    assert _numbers(read_sweep(out)) == sorted(_numbers(result.rows),
                                               key=lambda row: row["run_id"])
    # Different seeds give different draws; the same config gives the same numbers.
    assert len({row["learning_coefficient_top"] for row in result.rows}) == 8


def test_rerun_skips_finished_runs(local_sweep):
    out, first = local_sweep
    again = sweep(GRID, sweep_runs.must_not_run, out=out, fixed=FIXED, workers=2)
    assert again.ran == () and len(again.skipped) == 8
    assert _numbers(again.rows) == _numbers(first.rows)


def test_cli_on_a_finished_sweep(local_sweep, tmp_path, capsys):
    out, _ = local_sweep
    grid_file = tmp_path / "grid.toml"
    grid_file.write_text('run = "sweep_runs:must_not_run"\n'
                         '[grid]\nseed = [0, 1, 2, 3]\ncoefficient = [1.0, 2.0]\n'
                         '[fixed]\nrungs = 2\nchains = 2\nwarmup = 20\ndraws = 20\n'
                         'n_max = 50.0\n')
    parser = argparse.ArgumentParser()
    add_sweep_parser(parser.add_subparsers(dest="command"))
    arguments = parser.parse_args(["sweep", str(grid_file), "--out", str(out)])
    assert arguments.handler(arguments) == 0
    assert "0 ran, 8 already done, 0 failed" in capsys.readouterr().out


# ---------------------------------------------------------------------------- Dask


@pytest.mark.filterwarnings("ignore::efftheory.sampling.SamplingWarning")
def test_dask_cluster_gives_the_same_numbers(local_sweep, tmp_path):
    distributed = pytest.importorskip("distributed")
    _, local = local_sweep
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster:
        result = sweep(GRID, sweep_runs.counted_run, out=tmp_path, fixed=FIXED,
                       scheduler=cluster)
    assert len(result.ran) == 8
    assert _numbers(result.rows) == _numbers(local.rows)
    # A run whose done.json is missing (killed after its summary) is run again, alone.
    folder = tmp_path / result.rows[5]["run_id"]
    (folder / DONE_FILE).unlink()
    with futures.ThreadPoolExecutor(1) as executor:
        again = sweep(GRID, sweep_runs.counted_run, out=tmp_path, fixed=FIXED,
                      executor=executor)
    assert again.ran == (folder.name,) and _attempts(folder) == 2
    assert _numbers(again.rows) == _numbers(local.rows)


def test_failing_runs_are_reported_and_others_kept(tmp_path):
    with futures.ThreadPoolExecutor(1) as executor, pytest.raises(SweepError) as caught:
        sweep({"seed": [0, 1]}, sweep_runs.must_not_run, out=tmp_path, executor=executor)
    result = caught.value.result
    assert len(result.failed) == 2 and not result.rows
    error = (tmp_path / next(iter(result.failed)) / "error.txt").read_text()
    assert "a finished run was run again" in error
    with pytest.raises(ValueError, match="module:function"):
        sweep({"seed": [0]}, "no_colon", out=tmp_path)
    with pytest.raises(ValueError, match="cannot load"):
        sweep({"seed": [0]}, "efftheory:no_such_runner", out=tmp_path)


def _alive(pid: int) -> bool:
    """Whether `pid` runs (an exited, not yet reaped zombie counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    try:
        return not any(line.startswith("State:") and "Z" in line.split()[1]
                       for line in status.read_text().splitlines())
    except OSError:
        return not status.parent.parent.joinpath("self").exists()


def test_workers_exit_when_the_sweep_is_killed(tmp_path):
    """A SIGKILLed sweep cannot shut its pool down; its worker must notice and exit
    (issue 16: the orphan otherwise idled forever holding ~790 MB)."""
    script = ("import sweep_runs\nfrom efftheory.sweeps._sweep import sweep\n"
              f"sweep({{'seed': [0]}}, sweep_runs.sleepy_run, out={str(tmp_path / 'out')!r}, "
              "workers=1)\n")
    tests = Path(__file__).parent
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join(
        [str(tests.parent), str(tests), os.environ.get("PYTHONPATH", "")])}
    parent = subprocess.Popen([sys.executable, "-c", script], env=environment,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pid_file = tmp_path / sweep_runs.PID_FILE
    try:
        deadline = time.monotonic() + 120
        while not pid_file.exists() and time.monotonic() < deadline:
            assert parent.poll() is None, "the sweep ended before its run started"
            time.sleep(0.2)
        worker = int(pid_file.read_text())
        assert _alive(worker)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 15
    while _alive(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(worker)
    if alive:
        os.kill(worker, signal.SIGKILL)
    assert not alive, "the worker outlived its sweep"


def test_grid_files_naming_the_old_study_path_still_resolve():
    """Grid files written before the study became a package name its old private path."""
    import efftheory
    from efftheory.sweeps._worker import resolve_run_function

    assert resolve_run_function("efftheory._study:run_study") is efftheory.run_study
    assert resolve_run_function(None) is efftheory.run_study
