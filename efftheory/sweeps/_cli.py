"""``efftheory sweep GRID.toml``: a grid file read and swept from the command line."""

import argparse
import json
import os
import sys
from pathlib import Path

from ._grid import expand_grid
from ._sweep import SweepError, sweep


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
