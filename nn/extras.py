"""Optional dependencies: imported on first use, or an ImportError that names the extra that installs them.

The library itself needs NumPy (and Graphviz for drawing graphs). Pictures and notebooks need more, installed
as extras of the ``backproplab`` package (see ``pyproject.toml``):

    train      matplotlib (training.png, moons.png, decision boundaries), tqdm, threadpoolctl
    notebook   Jupyter (IPython display handles for the live view, ipywidgets for step_through)

so ``import nn`` stays fast and works without them, and a missing one fails with one line saying what to run.
"""
from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


def require(module: str, extra: str, purpose: str) -> ModuleType:
    """``import module``, or ImportError: "<purpose> needs <module>: pip install backproplab[<extra>]"."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        top = module.split(".")[0]
        raise ImportError(f"{purpose} needs {top}, which is not installed: pip install backproplab[{extra}]"
                          ) from err
