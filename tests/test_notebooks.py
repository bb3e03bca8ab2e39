"""The notebooks in docs/notebooks/: committed with the outputs of one top-to-bottom run in a
fresh kernel (the documentation site shows them; it does not run the notebooks), and run
again here as shipped (their first cells hold illustration sizes) by the same script that
makes those outputs, ``experiments/render_notebooks.py``: any cell error fails, and so does
a committed output that the code no longer produces, or one that a cell now adds."""

import importlib.util
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = sorted((ROOT / "docs" / "notebooks").glob("*.ipynb"))
RENDER_SCRIPT = ROOT / "experiments" / "render_notebooks.py"
# Each notebook runs in well under a minute on 2 idle cores at its shipped sizes (about 30 s
# of CPU); the wall-clock limit leaves room for a machine busy with other work.
TIME_LIMIT_S = 120
# The site embeds every figure in the page: keep figures at the default dpi and sizes.
MAX_NOTEBOOK_BYTES = 600_000
REGENERATE = "regenerate the outputs: python experiments/render_notebooks.py"


def _render_script():
    spec = importlib.util.spec_from_file_location("render_notebooks", RENDER_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def code_cells(notebook):
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def shown(notebook) -> list[set[str]]:
    """Per code cell, what its outputs show: ``stdout`` and the MIME types of its results
    and displays. Warnings (``stderr``) are left out: they depend on the machine."""
    return [{output.name if output.output_type == "stream" else mime
             for output in cell.outputs if output.get("name") != "stderr"
             for mime in (output.get("data") or {None: None})}
            for cell in code_cells(notebook)]


def rendering_problems(notebook) -> list[str]:
    """How a notebook fails to look like one top-to-bottom run with clean metadata."""
    cells = code_cells(notebook)
    problems = []
    counts = [cell.execution_count for cell in cells]
    if counts != list(range(1, len(cells) + 1)):
        problems.append(f"execution counts {counts}, not 1..{len(cells)} from one run")
    errors = [index for index, cell in enumerate(cells)
              if any(output.output_type == "error" for output in cell.outputs)]
    if errors:
        problems.append(f"code cells {errors} show errors")
    if not any("image/png" in mimes for mimes in shown(notebook)):
        problems.append("no figure")
    if set(notebook.metadata) - {"kernelspec", "language_info"}:
        problems.append(f"notebook metadata {sorted(notebook.metadata)} (widget state?)")
    if any(cell.metadata.get("execution") for cell in cells):
        problems.append("cell timings in the metadata")
    return problems


def test_there_are_notebooks():
    assert {path.name for path in NOTEBOOKS} >= {"tempering_study.ipynb",
                                                 "reading_a_run.ipynb"}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_is_committed_with_outputs(path):
    notebook = nbformat.read(path, as_version=4)
    nbformat.validate(notebook)
    problems = rendering_problems(notebook)
    assert not problems, f"{path.name}: {'; '.join(problems)}; {REGENERATE}"
    size = path.stat().st_size
    assert size < MAX_NOTEBOOK_BYTES, f"{path.name}: {size} bytes; make the figures smaller"


@pytest.fixture(scope="module")
def compilation_cache(tmp_path_factory):
    """One JAX compilation cache for the notebooks' kernels: both run the same tiny study,
    so the second kernel loads the first one's compiled sampler instead of recompiling."""
    return tmp_path_factory.mktemp("jax-cache")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda path: path.name)
def test_notebook_runs(path, tmp_path, compilation_cache, monkeypatch):
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(compilation_cache))
    copy = tmp_path / path.name
    shutil.copy(path, copy)
    start = time.perf_counter()
    _render_script().render(copy, cell_timeout=TIME_LIMIT_S)  # raises on a failing cell
    elapsed = time.perf_counter() - start
    if output_folder := os.environ.get("EFFTHEORY_NOTEBOOK_OUTPUTS"):
        shutil.copy(copy, output_folder)  # to look at the executed notebook
    fresh = nbformat.read(copy, as_version=4)
    problems = rendering_problems(fresh)
    assert not problems, f"{path.name}, run as shipped: {'; '.join(problems)}"
    streams = "".join(output.get("text", "") for cell in code_cells(fresh)
                      for output in cell.outputs)
    assert "IProgress" not in streams, f"{path.name}: tqdm's IProgress warning reached the user"
    committed = shown(nbformat.read(path, as_version=4))
    differ = [index for index, (old, new) in enumerate(zip(committed, shown(fresh),
                                                           strict=True)) if old != new]
    assert not differ, (f"{path.name}: code cells {differ} show other outputs than the "
                        f"committed ones; {REGENERATE}")
    assert elapsed < TIME_LIMIT_S, f"{path.name} took {elapsed:.0f} s at its shipped sizes"
