"""``python -m nn.train``: train an MLP on Fashion-MNIST (or MNIST) from the command line.

The network is 784 → hidden... → 10 with ReLU between layers, trained with mini-batch cross-entropy:

    z¹ = W¹x + b¹,  a¹ = relu(z¹),  ...,  z^L = W^L a^(L-1) + b^L,  loss = cross_entropy(z^L, y)

Each epoch prints the mean training loss and the test accuracy. At the end the run directory (``--out``)
holds ``model.npz`` (``nn.save`` of the state dict), ``config.json`` (everything needed to rebuild the
model and repeat the run) and ``training.png`` (loss and accuracy per epoch), each written atomically.
One ``--seed`` drives every random choice (initial weights, batch order) through one NumPy Generator,
so the same command gives the same numbers.

    python -m nn.train                                   # Fashion-MNIST, 784-256-128-10, Adam
    python -m nn.train --dataset mnist --hidden 128 --epochs 5
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm import tqdm

from autograd import Tensor, no_grad

from . import data
from . import functional as F
from .layers import Linear, ReLU, Sequential
from .module import Module
from .optim import SGD, Adam, AdamW, Optimizer
from .serialization import atomic_write, load, save

IN_FEATURES = 784  # 28 × 28 pixels
NUM_CLASSES = 10

LOADERS: dict[str, Callable[..., data.MNISTData]] = {
    "mnist": data.load_mnist,
    "fashion-mnist": data.load_fashion_mnist,
}
# Learning rates that work for each optimizer when --lr is not given (SGD runs with momentum 0.9).
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}
DEFAULT_HIDDEN = (256, 128)
DEFAULT_EPOCHS = 20  # measured: 89.5-89.8% test accuracy on Fashion-MNIST for seeds 0-2, ~15 s
DEFAULT_BATCH_SIZE = 128

MODEL_FILE, CONFIG_FILE, PLOT_FILE = "model.npz", "config.json", "training.png"


# -- the model and one pass over the data ---------------------------------------------------------


def build_model(hidden: Sequence[int], rng: np.random.Generator, in_features: int = IN_FEATURES,
                num_classes: int = NUM_CLASSES) -> Sequential:
    """``Linear(784, h₁), ReLU, …, Linear(h_k, 10)``, weights drawn from ``rng``.

    With no hidden layers it is softmax regression, ``Linear(784, 10)``. State-dict keys are
    ``0.weight``, ``0.bias``, ``2.weight``, ... as in ``torch.nn.Sequential``.
    """
    sizes = [in_features, *hidden, num_classes]
    layers: list[Module] = []
    for i in range(len(sizes) - 1):
        if i > 0:
            layers.append(ReLU())
        layers.append(Linear(sizes[i], sizes[i + 1], rng=rng))
    return Sequential(*layers)


def make_optimizer(name: str, params: Sequence, lr: float) -> Optimizer:
    """``sgd`` (momentum 0.9), ``adam`` or ``adamw`` (PyTorch's default weight decay 0.01)."""
    if name == "sgd":
        return SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return Adam(params, lr=lr)
    if name == "adamw":
        return AdamW(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose sgd, adam or adamw")


def cosine_lr(base_lr: float, epoch: int, epochs: int) -> float:
    """Learning rate for ``epoch`` (1-based) of ``epochs``: lr_e = lr · ½(1 + cos(π(e − 1)/E)).

    Starts at ``base_lr`` and falls smoothly towards 0 by the last epoch. The small late steps settle
    the weights instead of letting Adam keep rattling around the minimum: measured on Fashion-MNIST,
    a constant rate wanders between 88% and 89.3% test accuracy from epoch 7 on.
    """
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / epochs))


def train_epoch(model: Module, optimizer: Optimizer, x: np.ndarray, y: np.ndarray, batch_size: int,
                rng: np.random.Generator, progress: tqdm | None = None) -> float:
    """One shuffled pass over ``(x, y)``; returns the mean training loss per example.

    Per batch: loss = cross_entropy(model(x_b), y_b); zero_grad; backward; step. The epoch's loss is
    Σ_b loss_b · |b| / N, so a short last batch counts for what it holds.
    """
    model.train()
    total, seen = 0.0, 0
    for step, (xb, yb) in enumerate(data.batches(x, y, batch_size, shuffle=True, rng=rng), start=1):
        loss = F.cross_entropy(model(Tensor(xb)), yb)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total += loss.item() * len(xb)
        seen += len(xb)
        if progress is not None:
            progress.update(1)
            if step % 20 == 0:  # formatting the postfix every batch would cost more than it shows
                progress.set_postfix(loss=f"{total / seen:.4f}", refresh=False)
    return total / seen


def evaluate(model: Module, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    """Fraction of ``x`` classified correctly: mean(argmax_j model(x)_j == y).

    Runs under ``no_grad()`` (no graph is recorded) with the model in ``eval()`` mode; the model's
    previous mode is restored afterwards.
    """
    if len(x) == 0:
        raise ValueError("evaluate: no examples (x is empty); accuracy is undefined")
    was_training = model.training
    model.eval()
    correct = 0
    try:
        with no_grad():
            for xb, yb in data.batches(x, y, batch_size, shuffle=False):
                correct += int((model(Tensor(xb)).data.argmax(axis=1) == yb).sum())
    finally:
        model.train(was_training)
    return correct / len(x)


# -- files ----------------------------------------------------------------------------------------


def write_json(obj: object, path: Path) -> None:
    """``obj`` as indented JSON at ``path``, atomically."""
    with atomic_write(path, "w") as f:
        json.dump(obj, f, indent=2)
        f.write("\n")


def plot_history(losses: Sequence[float], accuracies: Sequence[float], path: Path, title: str = "") -> None:
    """A PNG with two panels, training loss and test accuracy per epoch, written atomically.

    Draws on a bare ``Figure`` with the Agg canvas, so no GUI backend or pyplot state is involved.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported here: ~0.3 s, only needed once
    from matplotlib.figure import Figure

    epochs = np.arange(1, len(losses) + 1)
    fig = Figure(figsize=(9, 3.5), layout="constrained")
    FigureCanvasAgg(fig)
    ax_loss, ax_acc = fig.subplots(1, 2)
    ax_loss.plot(epochs, losses, marker="o")
    ax_loss.set(xlabel="epoch", ylabel="mean cross-entropy", title="training loss")
    ax_acc.plot(epochs, 100 * np.asarray(accuracies), marker="o", color="tab:green")
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="test accuracy")
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
        ax.xaxis.get_major_locator().set_params(integer=True)
    if title:
        fig.suptitle(title)
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)


def load_checkpoint(directory: str | os.PathLike) -> tuple[Sequential, dict]:
    """Rebuild the model a run wrote to ``directory`` (from ``config.json``) and load ``model.npz`` into it."""
    directory = Path(directory)
    config_path = directory / CONFIG_FILE
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise FileNotFoundError(f"no {CONFIG_FILE} in {directory}: not a run directory written by nn.train") from None
    model = build_model(config["hidden"], np.random.default_rng(0), config["in_features"], config["num_classes"])
    model.load_state_dict(load(directory / MODEL_FILE))
    return model, config


# -- the command ----------------------------------------------------------------------------------


def _positive(kind: type) -> Callable[[str], int | float]:
    """An argparse type: ``kind(text)``, rejected unless > 0 (and finite)."""
    def parse(text: str) -> int | float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a positive {kind.__name__}, got {text!r}") from None
        if not value > 0 or not np.isfinite(value):
            raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
        return value

    parse.__name__ = f"positive {kind.__name__}"
    return parse


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; bad values (epochs, lr, sizes ≤ 0) stop here with argparse's usage error."""
    p = argparse.ArgumentParser(
        prog="python -m nn.train",
        description="Train an MLP classifier on Fashion-MNIST or MNIST; save the checkpoint, config and plot.",
    )
    p.add_argument("--dataset", choices=sorted(LOADERS), default="fashion-mnist",
                   help="default %(default)s, installable offline (apt-get install dataset-fashion-mnist); "
                        "mnist is downloaded")
    p.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="directory holding the four IDX files, .gz or not (default: the user cache, then "
                        "system copies); downloads go here too")
    p.add_argument("--hidden", type=_positive(int), nargs="*", default=list(DEFAULT_HIDDEN), metavar="N",
                   help=f"hidden layer widths (default: {' '.join(map(str, DEFAULT_HIDDEN))}); "
                        "--hidden alone: no hidden layer")
    p.add_argument("--epochs", type=_positive(int), default=DEFAULT_EPOCHS, help="default %(default)s")
    p.add_argument("--batch-size", type=_positive(int), default=DEFAULT_BATCH_SIZE, help="default %(default)s")
    p.add_argument("--lr", type=_positive(float), default=None,
                   help="learning rate (default: " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    p.add_argument("--optimizer", choices=sorted(DEFAULT_LR), default="adam",
                   help="default %(default)s; sgd uses momentum 0.9, adamw weight decay 0.01")
    p.add_argument("--lr-schedule", choices=["cosine", "constant"], default="cosine",
                   help="cosine (default): lr·½(1 + cos(π(epoch − 1)/epochs)) each epoch; constant: lr throughout")
    p.add_argument("--seed", type=int, default=0, help="seeds weight init and batch order (default %(default)s)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR", help="run directory (default: runs/<dataset>)")
    p.add_argument("--no-download", action="store_true", help="fail instead of downloading missing data")
    p.add_argument("--limit", type=_positive(int), default=None, metavar="N",
                   help="train on the first N training examples only (quick runs)")
    args = p.parse_args(argv)
    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    if args.out is None:
        args.out = Path("runs") / args.dataset
    return args


class _DataError(Exception):
    """The data could not be loaded; the message says why and what to do."""


def _load_data(args: argparse.Namespace) -> data.MNISTData:
    """The dataset named by ``args``, or ``_DataError`` with a message for the user (not a traceback)."""
    try:
        return LOADERS[args.dataset](root=args.data_dir, download=not args.no_download)
    except data.DatasetNotFoundError as err:
        # Its message already lists where it looked and how to get the files; add the flags that do it here.
        raise _DataError(f"nn.train: {err}\nOn the command line: run without --no-download to download it, "
                         "or pass --data-dir DIR to use the files in DIR.") from err
    except (OSError, ValueError, http.client.HTTPException) as err:
        # DownloadError (OSError), ChecksumError and corrupt or unreadable files (ValueError, OSError).
        hints = []
        if args.dataset == "fashion-mnist":
            hints.append("install it offline with apt-get install dataset-fashion-mnist")
        hints.append("put " + ", ".join(f"{stem}[.gz]" for stem in data.FILES) + " in a directory "
                     "and pass --data-dir DIR")
        raise _DataError(f"nn.train: could not load {args.dataset}: {err}\nTo get the data: "
                         + "; or ".join(hints) + ".") from err


def run_config(args: argparse.Namespace) -> dict:
    """What ``config.json`` records: enough to rebuild the model (``load_checkpoint``) and repeat the run."""
    return {
        "dataset": args.dataset,
        "hidden": list(args.hidden),
        "in_features": IN_FEATURES,
        "num_classes": NUM_CLASSES,
        "epochs": args.epochs,
        "batch_size": args.batch_size,
        "lr": args.lr,
        "lr_schedule": args.lr_schedule,
        "optimizer": args.optimizer,
        "seed": args.seed,
        "limit": args.limit,
        "data_dir": None if args.data_dir is None else str(args.data_dir),
    }


def save_run(out: Path, model: Module, config: dict, losses: Sequence[float], accuracies: Sequence[float],
             title: str = "") -> None:
    """Write ``model.npz``, ``config.json`` and ``training.png`` into ``out``, each atomically."""
    save(model.state_dict(), out / MODEL_FILE)
    write_json(config, out / CONFIG_FILE)
    plot_history(losses, accuracies, out / PLOT_FILE, title=title)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command: load data, train, report each epoch, save the run. Returns the exit code."""
    args = parse_args(argv)
    try:
        ds = _load_data(args)
    except _DataError as err:
        print(err, file=sys.stderr)
        return 2
    out = Path(args.out)
    try:  # before training, so a bad --out costs nothing
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        print(f"nn.train: cannot use --out {out}: {err}", file=sys.stderr)
        return 2
    x_train, y_train = ds.x_train, ds.y_train
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]

    rng = np.random.default_rng(args.seed)
    model = build_model(args.hidden, rng)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    arch = "-".join(str(n) for n in [IN_FEATURES, *args.hidden, NUM_CLASSES])
    print(f"{args.dataset}: {len(x_train)} training / {len(ds.x_test)} test images; MLP {arch}, "
          f"{args.optimizer} lr={args.lr:g} ({args.lr_schedule}), batch {args.batch_size}, "
          f"{args.epochs} epochs, seed {args.seed}")

    losses: list[float] = []
    accuracies: list[float] = []
    batches_per_epoch = -(-len(x_train) // args.batch_size)
    start = time.perf_counter()
    for epoch in range(1, args.epochs + 1):
        t0 = time.perf_counter()
        if args.lr_schedule == "cosine":
            optimizer.lr = cosine_lr(args.lr, epoch, args.epochs)
        # disable=None: a bar on a terminal, nothing in logs and pipes; the epoch line below always prints.
        with tqdm(total=batches_per_epoch, desc=f"epoch {epoch}/{args.epochs}", unit="batch",
                  leave=False, disable=None, file=sys.stderr) as bar:
            loss = train_epoch(model, optimizer, x_train, y_train, args.batch_size, rng, bar)
        accuracy = evaluate(model, ds.x_test, ds.y_test)
        losses.append(loss)
        accuracies.append(accuracy)
        print(f"epoch {epoch:>3}/{args.epochs}  train loss {loss:.4f}  test accuracy {100 * accuracy:.2f}%  "
              f"({time.perf_counter() - t0:.1f} s)", flush=True)
    elapsed = time.perf_counter() - start

    save_run(out, model, run_config(args), losses, accuracies, title=f"{args.dataset}, MLP {arch}")
    print(f"final test accuracy {100 * accuracies[-1]:.2f}% after {args.epochs} epochs ({elapsed:.1f} s)")
    print(f"wrote {out / MODEL_FILE}, {out / CONFIG_FILE}, {out / PLOT_FILE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
