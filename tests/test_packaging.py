"""Packaging tells the truth: the core needs NumPy and graphviz only; everything else is an extra that, when
missing, costs one line naming it (never a traceback), and the subpackages are part of what gets installed."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_the_core_dependencies_are_numpy_and_graphviz_only():
    requires = metadata.requires("backproplab")  # what the installed package declares
    core = sorted(re.split(r"[<>=!~ ;\[]", r)[0] for r in requires if "extra ==" not in r)
    assert core == ["graphviz", "numpy"]
    extras = set(metadata.metadata("backproplab").get_all("Provides-Extra"))
    assert {"train", "notebook", "dev"} <= extras
    assert any(r.startswith("backproplab[train]") and "extra == \"dev\"" in r for r in requires)


def test_every_subpackage_is_installed():
    text = (ROOT / "pyproject.toml").read_text()
    assert re.search(r'\[tool\.setuptools\.packages\.find\]\s*include = \["autograd\*", "nn\*"\]', text)
    for pkg in ("autograd", "autograd/check", "autograd/viz", "nn", "nn/train"):
        assert (ROOT / pkg / "__init__.py").is_file(), pkg


# A process in which the train extra's packages cannot be imported, as after `pip install backproplab`.
WITHOUT_EXTRAS = """
import importlib.abc, sys
class Missing(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("matplotlib", "tqdm", "threadpoolctl", "IPython", "ipywidgets"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None
sys.meta_path.insert(0, Missing())
sys.path.insert(0, ROOT)
"""


def run_without_extras(code: str) -> subprocess.CompletedProcess:
    script = WITHOUT_EXTRAS.replace("ROOT", repr(str(ROOT))) + textwrap.dedent(code)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120, cwd=ROOT)


def test_the_library_works_without_any_extra():
    done = run_without_extras("""
        import numpy as np
        import autograd, nn
        from autograd import Tensor, Value, draw_dot, grad
        x = Value(0.5)
        (d,) = grad(x.tanh(), x)
        model = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
        loss = model(Tensor(np.ones((4, 3), dtype=np.float32))).sum()
        loss.backward()
        assert "digraph" in draw_dot(loss).source
        print("ok", round(d.data, 6))
    """)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok 0.786448"


def test_the_training_command_without_its_extra_says_what_to_install_in_one_line():
    done = run_without_extras("""
        from nn.train import command
        raise SystemExit(command.main(["--epochs", "1"]))
    """)
    assert done.returncode == 2
    assert done.stderr.strip() == ("python -m nn.train needs tqdm, which is not installed: "
                                   "pip install backproplab[train]")


def test_ctrl_c_while_the_command_is_still_loading_is_one_line_and_exit_130(tmp_path):
    # A KeyboardInterrupt raised as numpy starts to load, as if Ctrl-C came then (sitecustomize runs first).
    site = tmp_path
    (site / "sitecustomize.py").write_text(textwrap.dedent("""
        import importlib.abc, sys
        class Interrupt(importlib.abc.MetaPathFinder):
            def find_spec(self, name, path=None, target=None):
                if name == "numpy":
                    raise KeyboardInterrupt
                return None
        sys.meta_path.insert(0, Interrupt())
    """))
    env = dict(os.environ, PYTHONPATH=f"{site}{os.pathsep}{ROOT}")
    for module in ("nn.train", "nn.moons"):
        done = subprocess.run([sys.executable, "-m", module], capture_output=True, text=True, timeout=60,
                              cwd=tmp_path, env=env)
        assert done.returncode == 130, (module, done.stderr)
        assert done.stderr == "interrupted while starting; nothing was done\n"
