"""Two moons: a toy 2-D classification set, and the micrograd demo that fits it with a scalar MLP.

``python -m nn.moons [--steps 100] [--seed 1337] [--samples 100]`` trains MLP(2, [16, 16, 1]) with the
hinge loss plus a small L2 penalty and plain SGD with a decaying learning rate, printing loss and
training accuracy at each step.
"""
from __future__ import annotations

import argparse
import random
from collections.abc import Sequence

import numpy as np

from autograd.graph import no_grad
from autograd.value import Value

from .module import Module
from .scalar import MLP


def make_moons(
    n_samples: int = 100, noise: float = 0.1, rng: np.random.Generator | int | None = None
) -> tuple[list[list[float]], list[int]]:
    """Two interleaving half circles, shuffled, with Gaussian noise of std ``noise`` on each coordinate.

    The upper moon is (cos t, sin t), labelled -1; the lower is (1 - cos t, 0.5 - sin t), labelled +1;
    t runs evenly over [0, π]. Returns ``(X, y)``: ``n_samples`` points as [x1, x2] lists and labels.
    ``rng`` is a NumPy Generator or a seed.
    """
    if n_samples < 2:
        raise ValueError(f"make_moons needs n_samples >= 2 (one per moon), got {n_samples}")
    if noise < 0:
        raise ValueError(f"make_moons: noise is a standard deviation and must be >= 0, got {noise}")
    gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    n_upper = n_samples // 2
    n_lower = n_samples - n_upper
    t_upper = np.linspace(0.0, np.pi, n_upper)
    t_lower = np.linspace(0.0, np.pi, n_lower)
    points = np.concatenate(
        [
            np.stack([np.cos(t_upper), np.sin(t_upper)], axis=1),
            np.stack([1.0 - np.cos(t_lower), 0.5 - np.sin(t_lower)], axis=1),
        ]
    )
    labels = np.concatenate([-np.ones(n_upper, dtype=int), np.ones(n_lower, dtype=int)])
    points = points + gen.normal(0.0, noise, size=points.shape)
    order = gen.permutation(n_samples)
    return points[order].tolist(), labels[order].tolist()


def hinge_loss(
    model: Module, X: Sequence[Sequence[float]], y: Sequence[int], alpha: float = 1e-4
) -> tuple[Value, float]:
    """(loss, accuracy) of ``model`` on (X, y), labels in {-1, +1}.

    loss = mean_i max(0, 1 - yᵢ·scoreᵢ) + α Σ_p p²  (the SVM max-margin loss with L2, as in micrograd);
    accuracy is the fraction of points where the score's sign matches the label.
    """
    scores = [model(x) for x in X]
    margins = [(1 - yi * si).relu() for yi, si in zip(y, scores)]
    params = model.parameters()
    data_loss = Value.sum(margins) * (1.0 / len(margins))
    reg_loss = alpha * Value.dot(params, params)  # Σ p² as one node
    accuracy = sum((yi > 0) == (si.data > 0) for yi, si in zip(y, scores)) / len(y)
    return data_loss + reg_loss, accuracy


def train(
    model: Module,
    X: Sequence[Sequence[float]],
    y: Sequence[int],
    steps: int = 100,
    log: bool = False,
) -> tuple[float, float]:
    """Full-batch SGD on the hinge loss with lr = 1 - 0.9·k/steps; returns the last (loss, accuracy)."""
    loss_value, acc = float("nan"), 0.0
    for k in range(steps):
        loss, acc = hinge_loss(model, X, y)
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / steps
        for p in model.parameters():
            p.data -= lr * p.grad
        loss_value = loss.data
        if log:
            print(f"step {k:3d}  loss {loss_value:.6f}  accuracy {acc * 100:.1f}%")
    return loss_value, acc


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nn.moons", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100, help="SGD steps (default 100)")
    parser.add_argument("--seed", type=int, default=1337, help="seed for data and weights (default 1337)")
    parser.add_argument("--samples", type=int, default=100, help="number of points (default 100)")
    args = parser.parse_args(argv)
    X, y = make_moons(args.samples, noise=0.1, rng=args.seed)
    model = MLP(2, [16, 16, 1], rng=random.Random(args.seed))
    print(model)
    print(f"{len(model.parameters())} parameters")
    train(model, X, y, steps=args.steps, log=True)
    with no_grad():  # evaluate the model after the last update
        loss, acc = hinge_loss(model, X, y)
    print(f"final  loss {loss.data:.6f}  accuracy {acc * 100:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
