"""The micrograd demo: a scalar MLP fits two moons (the data comes from ``nn.data.make_moons``).

``python -m nn.moons [--steps 100] [--seed 1337] [--samples 100]`` trains MLP(2, [16, 16, 1]) with the
hinge loss plus a small L2 penalty and plain SGD with a decaying learning rate, printing a short model
summary, then loss and training accuracy at each step.
"""
from __future__ import annotations

import argparse
import random
from collections.abc import Sequence

from autograd.graph import no_grad
from autograd.value import Value

from .train.cli import number
from .data import make_moons
from .module import Module
from .scalar import MLP

__all__ = ["hinge_loss", "main", "make_moons", "summary", "train"]  # make_moons: re-exported, it lived here


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


def summary(model: MLP) -> str:
    """A few lines about a scalar ``MLP``: one per layer (inputs → neurons, activation, parameter count).

    A neuron with n inputs holds n weights and a bias, so a layer of m such neurons has m(n + 1)
    parameters. ``repr(model)`` lists every neuron instead (about 900 characters for MLP(2, [16, 16, 1])).
    """
    sizes = [model.layers[0].nin, *(len(layer.neurons) for layer in model.layers)]
    lines = [f"MLP({sizes[0]}, {sizes[1:]}): {len(model.parameters())} parameters"]
    for i, layer in enumerate(model.layers):
        nin, nout = layer.nin, len(layer.neurons)
        activation = "ReLU" if layer.neurons[0].nonlin else "linear"
        lines.append(f"  layer {i}: {nin:>3} → {nout:<3} {activation:<6} {nout * (nin + 1):>5} parameters")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nn.moons", description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=number(int, 1), default=100, help="SGD steps (default 100)")
    parser.add_argument("--seed", type=number(int, 0), default=1337, help="seed for data and weights (default 1337)")
    parser.add_argument("--samples", type=number(int, 2), default=100, help="number of points, >= 2 (default 100)")
    args = parser.parse_args(argv)
    X, y = make_moons(args.samples, noise=0.1, rng=args.seed)
    model = MLP(2, [16, 16, 1], rng=random.Random(args.seed))
    print(summary(model))
    train(model, X, y, steps=args.steps, log=True)
    with no_grad():  # evaluate the model after the last update
        loss, acc = hinge_loss(model, X, y)
    print(f"final  loss {loss.data:.6f}  accuracy {acc * 100:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
