"""Decision regions of a classifier on 2-D data, drawn with the data: the picture micrograd's demo is remembered for.

The model is evaluated on a grid over the plane (under ``no_grad()``: nothing is recorded) and each grid cell is
coloured by the class it predicts:

* one output (a score s, as the hinge loss or ``binary_cross_entropy_with_logits`` train): class "positive"
  where s > 0, so the boundary is the curve s(x) = 0, drawn as a line;
* k outputs (logits z): class argmax_j z_j.

Works for a scalar ``MLP`` (called point by point with floats, micrograd style: ``model([x1, x2])``) and for a
tensor model (called once with a ``Tensor`` of all grid points, shape (M, 2)). Drawing needs matplotlib (the
``train`` extra), imported when a boundary is drawn.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from autograd.graph import no_grad
from autograd.tensor import Tensor
from autograd.value import Value

from .extras import require
from .module import Module

__all__ = ["CLASS_COLOURS", "decision_grid", "plot_decision_boundary"]

# Class i's colour (labels sorted: -1 before +1, 0 before 1): blue, red, then the usual categorical colours.
CLASS_COLOURS = ("#3b75af", "#d1453b", "#4a9e4a", "#8e6bbf", "#e0912f", "#8c564b", "#d87cbf", "#7f7f7f",
                 "#bcbd22", "#17becf")
REGION_ALPHA = 0.3  # regions are the class colour this opaque over white; the points are drawn solid
SCALAR_RESOLUTION, TENSOR_RESOLUTION = 80, 250  # grid points per axis: a scalar MLP costs ~50 µs per point


def _is_scalar(model: Any) -> bool:
    """True for a model on the scalar engine (its parameters are ``Value``s)."""
    params = model.parameters() if isinstance(model, Module) else []
    return bool(params) and isinstance(params[0], Value)


def _scores(model: Any, points: np.ndarray) -> np.ndarray:
    """The model's outputs at ``points`` (M, 2): shape (M,) for one output, (M, k) for k."""
    with no_grad():
        if _is_scalar(model):
            rows = []
            for a, b in points.tolist():
                out = model([a, b])
                rows.append([v.data for v in out] if isinstance(out, (list, tuple)) else [out.data])
            scores = np.asarray(rows, dtype=float)
        else:
            out = model(Tensor(points.astype(np.float32)))
            scores = np.asarray(out.data if isinstance(out, Tensor) else out, dtype=float)
    scores = scores.reshape(len(points), -1)
    return scores[:, 0] if scores.shape[1] == 1 else scores


def decision_grid(model: Any, x: Any, resolution: int | None = None, padding: float = 0.5
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(xx, yy, scores)``: a ``resolution`` × ``resolution`` grid covering the points ``x`` (N, 2) plus
    ``padding`` on every side, and the model's output at each grid point, shape (r, r) or (r, r, k)."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(f"decision boundary: x must be N points of 2 coordinates, shape (N, 2); got {x.shape}")
    if resolution is None:
        resolution = SCALAR_RESOLUTION if _is_scalar(model) else TENSOR_RESOLUTION
    if resolution < 2:
        raise ValueError(f"decision boundary: resolution must be >= 2 grid points per axis, got {resolution}")
    lo, hi = x.min(axis=0) - padding, x.max(axis=0) + padding
    xx, yy = np.meshgrid(np.linspace(lo[0], hi[0], resolution), np.linspace(lo[1], hi[1], resolution))
    scores = _scores(model, np.column_stack([xx.ravel(), yy.ravel()]))
    return xx, yy, scores.reshape(*xx.shape, *scores.shape[1:])


def plot_decision_boundary(model: Any, x: Any, y: Sequence[Any], ax: Any = None, *, resolution: int | None = None,
                           padding: float = 0.5, title: str | None = None) -> Any:
    """Draw the classes ``model`` predicts over the plane, and the points ``x`` (N, 2) coloured by label ``y``.

    Labels are sorted and numbered (−1/+1 or 0/1 → classes 0 and 1; 0…k−1 as they are), class i drawn in
    ``CLASS_COLOURS[i]``: the region lightly, the points solid. A one-output model predicts the higher class
    where its score is > 0 (the line s = 0 is drawn); a k-output model predicts argmax. ``resolution``: grid
    points per axis (default 80 for a scalar ``MLP``, ~0.3 s; 250 for a tensor model). ``ax``: a matplotlib
    Axes to draw into (default: a new pyplot figure). Returns the Axes.
    """
    require("matplotlib", "train", "plot_decision_boundary")
    from matplotlib.colors import ListedColormap

    labels = np.asarray(y).ravel()
    x = np.asarray(x, dtype=float)
    if len(labels) != len(x):
        raise ValueError(f"plot_decision_boundary: {len(x)} points but {len(labels)} labels")
    classes = np.unique(labels)
    xx, yy, scores = decision_grid(model, x, resolution, padding)
    if scores.ndim == 2:  # one score per point
        if len(classes) > 2:
            raise ValueError(f"plot_decision_boundary: a model with one output separates 2 classes, but y has "
                             f"{len(classes)} ({classes.tolist()}); give it one output per class")
        predicted = (scores > 0).astype(int)
    else:
        predicted = scores.argmax(axis=-1)
    n_colours = max(len(classes), int(predicted.max()) + 1, 2)
    if n_colours > len(CLASS_COLOURS):
        raise ValueError(f"plot_decision_boundary: at most {len(CLASS_COLOURS)} classes, got {n_colours}")
    cmap = ListedColormap(CLASS_COLOURS[:n_colours])
    if ax is None:
        import matplotlib.pyplot as plt  # pyplot only for a new figure: Jupyter shows it inline

        _, ax = plt.subplots(figsize=(5, 4), layout="constrained")
    # One filled region per class, each from its own 0/1 mask: contouring the class index itself would
    # interpolate a thin band of class 1 wherever class 0 meets class 2.
    for c in np.unique(predicted):
        ax.contourf(xx, yy, (predicted == c).astype(float), levels=[0.5, 1.5], colors=[CLASS_COLOURS[c]],
                    alpha=REGION_ALPHA)
    if scores.ndim == 2 and scores.min() < 0 < scores.max():
        ax.contour(xx, yy, scores, levels=[0.0], colors="#333333", linewidths=1.0)
    index = np.searchsorted(classes, labels)
    ax.scatter(x[:, 0], x[:, 1], c=index, cmap=cmap, vmin=-0.5, vmax=n_colours - 0.5, s=22,
               edgecolors="#222222", linewidths=0.6, zorder=3)
    ax.set(xlim=(xx.min(), xx.max()), ylim=(yy.min(), yy.max()), xlabel="x₁", ylabel="x₂")
    if title is not None:
        ax.set_title(title)
    return ax
