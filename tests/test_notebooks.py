"""Every notebook in notebooks/ runs top to bottom without error (its own asserts included).

Each notebook is read into memory and executed there with nbclient, so the files on disk are never
rewritten. The kernel runs in the notebooks directory and gets the repository root on PYTHONPATH, so
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
def test_notebook_is_stored_clean(path: Path):
    """Committed notebooks carry no outputs and name the standard kernel, so diffs stay readable."""
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{path.name}: kernelspec must be python3"
    dirty = [i for i, c in enumerate(nb.cells) if c.cell_type == "code" and (c.outputs or c.execution_count)]
    assert not dirty, f"{path.name}: code cells {dirty} have stored outputs; clear them before committing"


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
