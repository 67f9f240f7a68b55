"""The README is run as written: every Python block executes, and every shell command works on a stock system.

A learner copies the README's snippets first; a snippet that fails (a name it never defines, an API that has
since changed) costs them their first minutes. Each ```python block runs in a fresh interpreter, in a
temporary directory, with the repository on PYTHONPATH, exactly as pasted into a file.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def blocks(language: str) -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```", README, flags=re.MULTILINE | re.DOTALL)


PYTHON_BLOCKS = blocks("python")


def test_the_readme_has_examples():
    assert len(PYTHON_BLOCKS) >= 2, "README.md should show the scalar and the tensor engine at work"


@pytest.mark.parametrize("code", PYTHON_BLOCKS, ids=[f"block{i}" for i in range(len(PYTHON_BLOCKS))])
def test_python_block_runs_as_written(code: str, tmp_path: Path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), MPLBACKEND="Agg")
    done = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          check=False,
                          timeout=300)
    assert done.returncode == 0, f"README block failed:\n{code}\n--- stderr ---\n{done.stderr}"


def test_shell_commands_never_call_a_bare_python():
    """A stock Debian/Ubuntu has no `python` command, and its `python3` must not get packages: every command
    goes through `make` or the project's own `.venv/bin/python`."""
    bad = []
    for block in blocks("bash"):
        for line in block.splitlines():
            command = line.split("#", 1)[0].strip()
            if re.match(r"(python3?|pip3?)\b", command):
                bad.append(line)
    assert not bad, f"README shell lines that use the system interpreter: {bad}"
