"""The notebooks in docs/notebooks/: committed without outputs, and executed as shipped
(their first cells hold illustration sizes) in a fresh kernel; any cell error fails."""

import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "docs" / "notebooks")
                   .glob("*.ipynb"))
# Each notebook runs in well under a minute on 2 idle cores at its shipped sizes (about 30 s
# of CPU); the wall-clock limit leaves room for a machine busy with other work.
TIME_LIMIT_S = 120


def test_there_are_notebooks():
    assert {path.name for path in NOTEBOOKS} >= {"tempering_study.ipynb",
                                                 "reading_a_run.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_committed_without_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    dirty = [index for index, cell in enumerate(notebook.cells) if cell.cell_type == "code"
             and (cell.outputs or cell.execution_count is not None)]
    assert not dirty, (f"{path.name}: cells {dirty} have outputs; strip them (e.g. "
                       "`jupyter nbconvert --clear-output --inplace`)")


@pytest.fixture(scope="module")
def compilation_cache(tmp_path_factory):
    """One JAX compilation cache for the notebooks' kernels: both run the same tiny study,
    so the second kernel loads the first one's compiled sampler instead of recompiling."""
    return tmp_path_factory.mktemp("jax-cache")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs(path, tmp_path, compilation_cache, monkeypatch):
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(compilation_cache))
    monkeypatch.setenv("TMPDIR", str(tmp_path))  # the notebooks' tempfile folders go here
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    notebook = nbformat.read(copy, as_version=4)
    client = NotebookClient(notebook, timeout=TIME_LIMIT_S, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    start = time.perf_counter()
    client.execute()  # raises CellExecutionError on the first failing cell
    elapsed = time.perf_counter() - start
    nbformat.write(notebook, copy)
    if output_folder := os.environ.get("EFFTHEORY_NOTEBOOK_OUTPUTS"):
        shutil.copy(copy, output_folder)  # to look at the executed notebook
    images = sum("image/png" in output.get("data", {}) for cell in notebook.cells
                 if cell.cell_type == "code" for output in cell.outputs)
    assert images >= 1, f"{path.name} drew no figure"
    streams = "".join(output.get("text", "") for cell in notebook.cells
                      if cell.cell_type == "code" for output in cell.outputs)
    assert "IProgress" not in streams, f"{path.name}: tqdm's IProgress warning reached the user"
    assert elapsed < TIME_LIMIT_S, f"{path.name} took {elapsed:.0f} s at its shipped sizes"
