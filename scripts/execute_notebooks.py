"""Execute notebooks and store their outputs in place, so they read without a kernel (on GitHub, say).

    .venv/bin/python scripts/execute_notebooks.py                       # every notebook in notebooks/
    .venv/bin/python scripts/execute_notebooks.py notebooks/03_*.ipynb  # just these

Runs each notebook top to bottom in the notebooks directory, with the repository root on PYTHONPATH and
figures rendered inline, exactly as tests/test_notebooks.py does, then writes it back atomically.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbclient
import nbformat

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = ROOT / "notebooks"
sys.path.insert(0, str(ROOT))

# E402 is wrong here: this import only works once the repository root is on sys.path (the line above).
from nn.serialization import atomic_write  # noqa: E402

CELL_TIMEOUT = 300


def execute(path: Path) -> None:
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(nb, timeout=CELL_TIMEOUT, kernel_name="python3",
                                     resources={"metadata": {"path": str(NOTEBOOK_DIR)}})
    client.execute()
    with atomic_write(path, "w") as f:
        nbformat.write(nb, f)
    print(f"executed and stored {path.relative_to(ROOT)}")


def main(argv: list[str]) -> int:
    paths = [Path(a).resolve() for a in argv] or sorted(NOTEBOOK_DIR.glob("*.ipynb"))
    for path in paths:
        execute(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
