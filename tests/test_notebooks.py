"""Every notebook in notebooks/ runs top to bottom without error (its own asserts included).

Notebooks are committed *executed* (``scripts/execute_notebooks.py``), so their graphs, tables and frames
read without a kernel. The test re-executes each one in memory with nbclient, so the files on disk are
never rewritten here. The kernel runs in the notebooks directory and gets the repository root on PYTHONPATH, so
``import autograd`` works whether or not the project is pip-installed.
"""
from __future__ import annotations

import os
from pathlib import Path

import nbclient  # dev extras (pip install -e .[dev]): nbformat, nbclient, ipykernel
import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
CELL_TIMEOUT = 120  # seconds per cell; the notebooks are written to finish each in a few


def test_the_stories_are_there():
    names = {p.name for p in NOTEBOOKS}
    assert {"01_value_engine.ipynb", "02_tensor_mnist.ipynb"} <= names, f"found only {sorted(names)} in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_is_stored_executed(path: Path):
    """Committed notebooks carry the outputs of one clean top-to-bottom run (scripts/execute_notebooks.py):
    every code cell ran, in order, and none stored an error."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec must be python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    counts = [c.execution_count for c in code]
    assert counts == list(range(1, len(code) + 1)), (
        f"{path.name}: cells were not run once, top to bottom (execution counts {counts}); "
        "run .venv/bin/python scripts/execute_notebooks.py " + f"notebooks/{path.name}")
    errors = [i for i, c in enumerate(nb.cells) if any(o.get("output_type") == "error" for o in c.get("outputs", []))]
    assert not errors, f"{path.name}: cells {errors} stored an error"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_executes(path: Path, monkeypatch: pytest.MonkeyPatch):
    # The kernel is a child process and inherits this environment.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    # Figures go into the cell outputs as PNGs, as when a reader runs the notebook; no display needed.
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb,
        timeout=CELL_TIMEOUT,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOK_DIR)}},  # the kernel's working directory
    )
    client.execute()  # raises CellExecutionError, naming the cell and traceback, on the first failure
