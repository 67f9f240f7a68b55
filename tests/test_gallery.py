"""The gallery (tests/gallery.py): graphs learners write, drawn through the path a notebook uses.

Each is displayed as IPython displays it (``DisplayFormatter.format``, which calls ``_repr_mimebundle_``), and the
SVG that comes back must be readable at notebook width (its smallest text at least 9 px once shrunk to the
column) and the view drawn must be within the layout budget that keeps ``dot`` fast (edges, fan-in, long edges).
How long each takes is measured by benchmarks/draw_dot.py, not asserted here.
"""
from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import pytest
from IPython.core.formatters import DisplayFormatter

from autograd import draw_dot
from autograd.viz import budget
from autograd.viz.render import text_px
from tests.gallery import GALLERY

COLUMN_PX = 1000


@pytest.fixture(scope="module")
def drawn():
    """name -> (picture, the SVG Jupyter would show), each graph built and displayed once."""
    formatter = DisplayFormatter()
    out = {}
    for name, build in GALLERY.items():
        picture = draw_dot(build())
        data, _ = formatter.format(picture)
        out[name] = (picture, data["image/svg+xml"])
    return out


@pytest.mark.parametrize("name", GALLERY)
def test_each_graph_comes_back_readable_and_within_the_layout_budget(drawn, name):
    picture, svg = drawn[name]
    ET.fromstring(svg.encode("utf-8"))
    width_px = float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1)) * 4 / 3
    assert width_px <= COLUMN_PX + 1
    assert text_px(svg, COLUMN_PX) >= budget.MIN_TEXT_PX, f"{name}: text {text_px(svg, COLUMN_PX):.1f} px"
    shown = picture.shown.drawing
    est = budget.estimate(shown, shown.view)
    assert est.boxes <= 200 and est.edges <= budget.MAX_EDGES and est.fan_in <= budget.MAX_FAN_IN
    assert est.skipped_ranks <= budget.MAX_SKIPPED_RANKS


def shown_text(svg: str) -> str:
    """Every text of the SVG, in order, one space between (a two-line title reads "layers.0 Layer(2→16), relu")."""
    return html.unescape(" ".join(re.findall(r">([^<]+)</text>", svg)))


def test_micrograds_demo_loss_draws_each_python_sum_as_one_node(drawn):
    _, svg = drawn["micrograd demo loss (sum, L2), 100 points"]
    words = shown_text(svg)
    assert "sum of 100" in words and "sum of 337" in words  # the hinge losses, and Σ p·p over 337 parameters
    assert "layers.0 Layer(2→16), relu" in words and "relu ×100" in words
    assert "drawn as one box per layer" in words and "collapse='neuron'" in words


def test_the_lecture_mlp_is_drawn_per_neuron(drawn):
    words = shown_text(drawn["lecture MLP(3, [4, 4, 1]), 4 examples"][1])
    assert all(f"layers.1 · neuron {k} Neuron(4), relu" in words for k in range(4)) and "sum of 4" in words


def test_small_graphs_are_drawn_whole(drawn):
    for name, boxes in (("one neuron", 10), ("random DAG, 30 ops", None)):
        picture, svg = drawn[name]
        assert picture.shown.drawing.plan.level == "whole" and not picture.shown.drawing.view.hidden
        assert "drawn as" not in shown_text(svg)
        if boxes:
            assert len(picture.shown.drawing.view.boxes) == boxes


def test_repeated_and_reused_values_are_grouped_and_long_chains_cut(drawn):
    words = shown_text(drawn["sum(relu) over 1,000 values"][1])
    assert "sum of 1,000" in words and "relu ×1,000" in words
    picture, svg = drawn["one value used 10,000 times"]
    assert "×10,000" in shown_text(svg) and "* ×10,000" in shown_text(svg)
    picture, svg = drawn["100,000-op chain"]
    assert "more values not shown" in shown_text(svg) and picture.shown.drawing.view.hidden > 99_000


def test_tensor_models_are_one_box_per_module(drawn):
    words = shown_text(drawn["tensor MLP 784-128-10"][1])
    assert "0: Linear(784→128) + ReLU" in words and "2: Linear(128→10)" in words  # cluster titles: one line
    words = shown_text(drawn["CNN (conv 8, conv 16, 32)"][1])
    assert "Conv2d(1→8, 3×3)" in words and "Conv2d(8→16, 3×3)" in words
