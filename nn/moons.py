"""The micrograd demo: a scalar MLP fits two moons (the data comes from ``nn.data.make_moons``).

``python -m nn.moons [--steps 100] [--seed 1337] [--samples 100] [--out moons.png]`` trains MLP(2, [16, 16, 1])
with the hinge loss plus a small L2 penalty and plain SGD with a decaying learning rate. It prints a short model
summary, five progress lines (loss and training accuracy) and the final result, and writes ``moons.png``: the
decision boundary with the data (``nn.plot_decision_boundary``) beside the loss curve.
"""
from __future__ import annotations

import argparse
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from autograd.graph import no_grad
from autograd.value import Value

from .boundary import plot_decision_boundary
from .data import make_moons
from .extras import require
from .module import Module
from .scalar import MLP
from .serialization import atomic_write
from .train.cli import number

__all__ = ["hinge_loss", "main", "make_moons", "plot", "summary", "train"]  # make_moons: re-exported, it lived here


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
    history: list[tuple[float, float]] | None = None,
) -> tuple[float, float]:
    """Full-batch SGD on the hinge loss with lr = 1 - 0.9·k/steps; returns the last (loss, accuracy).

    ``log``: print five lines (the first step, the last, and three evenly between). ``history``: a list that
    gets each step's (loss, accuracy), measured before that step's update.
    """
    shown = {round(k) for k in (i * (steps - 1) / 4 for i in range(5))}
    loss_value, acc = float("nan"), 0.0
    for k in range(steps):
        loss, acc = hinge_loss(model, X, y)
        model.zero_grad()
        loss.backward()
        lr = 1.0 - 0.9 * k / steps
        for p in model.parameters():
            p.data -= lr * p.grad
        loss_value = loss.data
        if history is not None:
            history.append((loss_value, acc))
        if log and k in shown:
            print(f"step {k:3d}  loss {loss_value:.6f}  accuracy {acc * 100:.1f}%")
    return loss_value, acc


def plot(model: Module, X: Sequence[Sequence[float]], y: Sequence[int], losses: Sequence[float], accuracy: float,
         path: Path) -> None:
    """Write ``path`` (PNG, atomically): the decision boundary with the points, and the loss per step."""
    require("matplotlib", "train", "nn.moons' picture")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(10, 4), layout="constrained")
    FigureCanvasAgg(fig)
    ax_boundary, ax_loss = fig.subplots(1, 2)
    plot_decision_boundary(model, X, y, ax=ax_boundary, title=f"decision boundary (training accuracy {accuracy:.0%})")
    ax_loss.plot(range(1, len(losses) + 1), losses, color="#1f77b4")
    ax_loss.set(xlabel="step", ylabel="hinge loss + L2 penalty", title="training loss", yscale="log")
    ax_loss.grid(alpha=0.3, which="both")
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)


def _png_path(text: str) -> Path:
    """``--out``: a directory that exists (the file goes in it as moons.png) or a file whose directory exists."""
    path = Path(text)
    if path.is_dir():
        return path / "moons.png"
    if not path.parent.is_dir():
        raise argparse.ArgumentTypeError(f"{path.parent} is not a directory; create it first or choose another")
    return path


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
    parser.add_argument("--out", type=_png_path, default=Path("moons.png"), metavar="PATH",
                        help="the picture to write, or a directory to write moons.png into (default: moons.png "
                             "in the current directory)")
    args = parser.parse_args(argv)
    X, y = make_moons(args.samples, noise=0.1, rng=args.seed)
    model = MLP(2, [16, 16, 1], rng=random.Random(args.seed))
    print(summary(model))
    history: list[tuple[float, float]] = []
    train(model, X, y, steps=args.steps, log=True, history=history)
    with no_grad():  # evaluate the model after the last update
        loss, acc = hinge_loss(model, X, y)
    try:
        plot(model, X, y, [*(step_loss for step_loss, _ in history), loss.data], acc, args.out)
        print(f"wrote {args.out}: the decision boundary and the loss curve")
    except ImportError as err:  # no matplotlib: the training result is still worth printing
        print(f"nn.moons: no picture written: {err}", file=sys.stderr)
    print(f"final  loss {loss.data:.6f}  accuracy {acc * 100:.1f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
