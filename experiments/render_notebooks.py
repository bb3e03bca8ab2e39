"""Run the documentation notebooks as shipped and save them with their outputs.

The site renders ``docs/notebooks/*.ipynb`` with the outputs committed in them
(mkdocs-jupyter with ``execute: false``); this script makes those outputs. Each notebook
runs top to bottom in a fresh ``python3`` kernel, in a temporary folder (its ``tempfile``
folders go there too), at the sizes its first cell ships with, and is written back in place:
outputs and execution counts 1..N from that one run, streams merged per cell, the
notebook's own metadata kept (no kernel versions, timings or widget state), and the
folder that holds the imported efftheory left out of warnings' file names. Run it after
changing a notebook or what it calls:

    python experiments/render_notebooks.py [NOTEBOOK ...]

(default: every notebook in docs/notebooks/). tests/test_notebooks.py renders a copy of
each notebook with `render` and checks that its committed outputs are of the kinds that
this fresh run produces.
"""

import argparse
import copy
import importlib.util
import os
import tempfile
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "docs" / "notebooks"
# Seconds per cell: the slowest cell (a tiny study) takes about 30 s on 2 idle cores.
CELL_TIMEOUT = 600


def render(path: Path, cell_timeout: float = CELL_TIMEOUT) -> None:
    """Run the notebook at ``path`` in a fresh kernel and write it back with its outputs;
    raises `nbclient.exceptions.CellExecutionError` on the first failing cell."""
    notebook = nbformat.read(path, as_version=4)
    metadata = copy.deepcopy(notebook.metadata)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    with tempfile.TemporaryDirectory(prefix="efftheory-notebook-") as folder:
        previous = os.environ.get("TMPDIR")
        os.environ["TMPDIR"] = folder  # the kernel inherits it
        try:
            NotebookClient(notebook, timeout=cell_timeout, kernel_name="python3",
                           record_timing=False, coalesce_streams=True,
                           resources={"metadata": {"path": folder}}).execute()
        finally:
            if previous is None:
                del os.environ["TMPDIR"]
            else:
                os.environ["TMPDIR"] = previous
    notebook.metadata = metadata  # drops the kernel's language_info and any widget state
    # Warnings name the file that raised them: efftheory/..., not this machine's folders.
    package = Path(importlib.util.find_spec("efftheory").origin).parent.parent
    checkout = f"{package}{os.sep}"
    for cell in notebook.cells:
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                output.text = output.text.replace(checkout, "")
    nbformat.validate(notebook)
    nbformat.write(notebook, path)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", type=Path, nargs="*",
                        default=sorted(NOTEBOOKS.glob("*.ipynb")))
    for path in parser.parse_args(argv).notebooks:
        render(path)
        print(f"{path}: {path.stat().st_size / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
