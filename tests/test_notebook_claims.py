"""Stored notebook outputs claim no wall-clock times.

A notebook is stored executed (scripts/execute_notebooks.py) and read without a kernel, so whatever a cell printed
stays on the page; a time it printed ("157 steps in 6.1 s") was true once, on one machine, under one load, and
goes stale at the next re-run (that one now takes 0.5 s). Notebooks say how fast things are relatively, or not at
all; timings belong to benchmarks/, measured against a baseline in the same run.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
# A number and a unit of time: "6.1 s", "0.04 s", "12ms", "3 minutes". Not "157 steps" (no boundary after "s"),
# and not maths: "D(2h)" is a step of 2h, "2x" a factor (a number right after a bracket or operator is maths).
TIME = re.compile(r"(?<![(\w*/+−-])\d+(?:[.,]\d+)?\s?(?:s|ms|µs|us|sec|secs|seconds?|min|mins|minutes?|h|hours?)\b")


def printed(cell: dict) -> list[str]:
    """What a code cell's own code states in its stored outputs: what it printed, and the value it ended with.
    Displays a library keeps up to date while a cell runs (a training view's clock) are records of that run,
    not statements of the notebook: they are left alone."""
    out = []
    for o in cell.get("outputs", []):
        if o.get("output_type") == "stream":
            out.append(o.get("text", ""))
        elif o.get("output_type") == "execute_result":
            data = o.get("data", {})
            out.append(data.get("text/plain", ""))
            out.append(re.sub(r"<[^>]+>", " ", data.get("text/html", "")))
    return out


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_no_stored_output_claims_a_wall_clock_time(path: Path):
    nb = nbformat.read(path, as_version=4)
    claims = [(i, m.group(), text[max(0, m.start() - 40): m.end() + 10].strip())
              for i, cell in enumerate(nb.cells) if cell.cell_type == "code"
              for text in printed(cell) for m in TIME.finditer(text)]
    assert not claims, (f"{path.name}: stored outputs claim times that the next run will not repeat: {claims}; "
                        "print what does not depend on the machine (counts, ratios) instead")


def test_the_pattern_finds_times_and_only_times():
    assert TIME.findall("157 steps in 6.1 s, last loss 0.540") == ["6.1 s"]
    assert TIME.findall("drawn in 0.04 s, rendered by dot in 0.02 s") == ["0.04 s", "0.02 s"]
    assert TIME.findall("took 12ms; about 3 minutes") == ["12ms", "3 minutes"]
    assert not TIME.findall("64 KiB, 6 frames; 100 steps of SGD; MLP(2, [16, 16, 1]); 3 sigmoid layers")
