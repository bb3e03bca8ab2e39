"""Sweeps: a grid of runs (studies by default) on local processes or a Dask cluster,
resumable, one folder per run. Named `sweeps`, not `sweep`: `efftheory.sweep` is the
function, and a subpackage of the same name would be shadowed by it."""

from ._sweep import SweepError as SweepError
from ._sweep import SweepResult as SweepResult
from ._sweep import read_sweep as read_sweep
from ._sweep import sweep as sweep
