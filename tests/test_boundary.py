"""nn.plot_decision_boundary: on classifiers whose regions are known by hand, the drawn pixels have the right class."""
from __future__ import annotations

import random
import sys

import numpy as np
import pytest
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure

import nn
from autograd import Value
from nn.boundary import CLASS_COLOURS, REGION_ALPHA, decision_grid, plot_decision_boundary
from nn.scalar import MLP

# Two points, far from where pixels are read; labels in the hinge loss's convention.
X = np.array([[-2.0, -2.0], [2.0, 2.0]])
Y = [-1, 1]


def _region_rgb(c: int) -> np.ndarray:
    """Class c's region colour as drawn: CLASS_COLOURS[c] at REGION_ALPHA over white."""
    return REGION_ALPHA * np.array(to_rgb(CLASS_COLOURS[c])) + (1 - REGION_ALPHA) * np.ones(3)


def _pixel_classes(model, x, y, points) -> list[int]:
    """Draw the boundary, then classify the pixel under each data point by its nearest region colour."""
    fig = Figure(figsize=(4, 4), dpi=100)
    canvas = FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    plot_decision_boundary(model, x, y, ax=ax)
    canvas.draw()
    rgba = np.asarray(canvas.buffer_rgba())
    height = rgba.shape[0]
    colours = np.stack([_region_rgb(c) for c in range(3)])
    found = []
    for col, row in ax.transData.transform(np.asarray(points, dtype=float)):
        rgb = rgba[height - round(row), round(col), :3] / 255
        distances = np.linalg.norm(colours - rgb, axis=1)
        assert distances.min() < 0.03, f"pixel {rgb} at {col, row} is no region colour"
        found.append(int(distances.argmin()))
    return found


def _linear_tensor_model() -> nn.Linear:
    """score = x₁ − x₂: class +1 below the diagonal x₂ = x₁, class −1 above it."""
    model = nn.Linear(2, 1)
    model.weight.data[:] = [[1.0, -1.0]]
    model.bias.data[:] = 0.0
    return model


def _linear_scalar_model() -> MLP:
    """The same classifier on the scalar engine: MLP(2, [1]) is one linear neuron."""
    model = MLP(2, [1], rng=random.Random(0))
    neuron = model.layers[0].neurons[0]
    neuron.w[0].data, neuron.w[1].data, neuron.b.data = 1.0, -1.0, 0.0
    return model


# Above the diagonal → class 0 (label −1), below → class 1 (label +1); points near it by a quarter unit.
POINTS = [(-1.0, 1.0), (1.0, -1.0), (0.5, 0.75), (0.75, 0.5), (-2.2, 1.5), (2.2, -1.5)]
EXPECTED = [0, 1, 0, 1, 0, 1]


@pytest.mark.parametrize("make", [_linear_tensor_model, _linear_scalar_model], ids=["tensor", "scalar"])
def test_a_linear_classifier_colours_each_side_of_its_line(make):
    assert _pixel_classes(make(), X, Y, POINTS) == EXPECTED


def test_labels_zero_one_give_the_same_regions_as_minus_one_plus_one():
    assert _pixel_classes(_linear_tensor_model(), X, [0, 1], POINTS) == EXPECTED


def test_three_outputs_colour_the_argmax():
    # z = (x₁, −x₁, x₂): class 0 where x₁ is the largest, 1 where −x₁ is, 2 where x₂ is.
    model = nn.Linear(2, 3)
    model.weight.data[:] = [[1.0, 0.0], [-1.0, 0.0], [0.0, 1.0]]
    model.bias.data[:] = 0.0
    x = np.array([[-2.0, -2.0], [2.0, -2.0], [0.0, 2.0]])
    points = [(1.5, -1.0), (-1.5, -1.0), (0.0, 1.5)]
    assert _pixel_classes(model, x, [0, 1, 2], points) == [0, 1, 2]


def test_decision_grid_covers_the_points_with_padding_and_scores_each_cell():
    xx, yy, scores = decision_grid(_linear_tensor_model(), X, resolution=5, padding=1.0)
    assert xx.shape == yy.shape == scores.shape == (5, 5)
    assert xx.min() == -3 and xx.max() == 3 and yy.min() == -3 and yy.max() == 3
    np.testing.assert_allclose(scores, xx - yy, atol=1e-6)


def test_scalar_and_tensor_models_give_the_same_scores():
    a = decision_grid(_linear_tensor_model(), X, resolution=7)[2]
    b = decision_grid(_linear_scalar_model(), X, resolution=7)[2]
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_scalar_grid_records_no_graph():
    model = _linear_scalar_model()
    decision_grid(model, X, resolution=3)
    assert all(p.grad == 0.0 for p in model.parameters())
    assert isinstance(model([Value(0.0), Value(1.0)]), Value)


def test_one_output_cannot_separate_three_classes():
    with pytest.raises(ValueError, match="one output separates 2 classes"):
        plot_decision_boundary(_linear_tensor_model(), np.zeros((3, 2)) + np.arange(3)[:, None], [0, 1, 2],
                               ax=Figure().add_subplot())


def test_points_must_be_two_dimensional():
    with pytest.raises(ValueError, match=r"shape \(N, 2\)"):
        decision_grid(_linear_tensor_model(), np.zeros((4, 3)))


def test_without_matplotlib_the_message_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)  # import matplotlib now raises ImportError
    with pytest.raises(ImportError, match=r"pip install backproplab\[train\]"):
        plot_decision_boundary(_linear_tensor_model(), X, Y)
