"""``python -m nn.train``: train an MLP or a CNN on Fashion-MNIST (or MNIST) from the command line.

The MLP (``--model mlp``, the default) is 784 → hidden... → 10 with ReLU between layers, trained with mini-batch
cross-entropy:

    z¹ = W¹x + b¹,  a¹ = relu(z¹),  ...,  z^L = W^L a^(L-1) + b^L,  loss = cross_entropy(z^L, y)

The CNN (``--model cnn``) sees each image as 1 × 28 × 28: per entry of ``--channels`` a block of 3×3 convolution
(padding 1), 2×2 max-pooling and ReLU, then the MLP part (``--hidden``) on the flattened feature maps (see
``build_cnn``). The ResNet (``--model resnet``) is a stem convolution, one residual block per entry of ``--channels``
(convolutions, batch normalisation, a shortcut; each block after the first halves the image), global average
pooling and one linear layer (see ``build_resnet``). Everything else (progress, checkpoints, plots, the safety rules
below) is the same for all three.

Each epoch prints the mean training loss and the test accuracy. The run directory (``--out``) holds
``model.npz`` (``nn.save`` of the state dict), ``config.json`` (everything needed to rebuild the model and
repeat the run, the per-epoch history and how the run ended) and ``training.png`` (loss, accuracy and
gradient flow), each written atomically; ``model.npz`` and ``config.json`` are links into ``checkpoints/``,
switched together in one atomic step, so they are always from the same epoch (``runs`` explains the layout).
One ``--seed`` drives every random choice (initial weights, batch order) through one NumPy Generator, so the
same command gives the same numbers.

The command never lies and never loses work:

- the checkpoint (``model.npz`` and ``config.json``) is written at the end of every epoch, so a stop keeps
  every finished epoch; the plot is written at the end and on any stop (and after each epoch when that
  costs under 5% of the epoch: measured 0.6 s for a 20-epoch run's four panels, against ~1 s per MLP epoch);
- a non-finite loss (or weights) stops training at once with one line naming the epoch and step, exit
  code 1; the checkpoint on disk stays the last good one, never a NaN one;
- Ctrl-C stops with one line and exit code 130 (128 + SIGINT, as shells expect);
- a full disk stops with one line (exit 1), the last finished epoch whole and ``config.json`` saying
  ``crashed: no space left``;
- ``--out`` is created, locked and write-tested before any data is loaded: a second run into it is refused at
  once (exit 2); a directory holding a previous run is refused unless ``--force``; without ``--out``, a fresh
  ``runs/<dataset>-2``, ``-3``, ... is picked.

This file is the command: its options, the loop over epochs and what it prints, Ctrl-C. The parts live beside it
in ``nn.train``: ``models`` (``build_model``, ``build_cnn``), ``epoch`` (``train_epoch``, ``evaluate``,
``cosine_lr``), ``runs`` (``--out``, the checkpoint files, ``load_checkpoint``) and ``plots`` (``training.png``).

    python -m nn.train                                   # Fashion-MNIST, 784-256-128-10, Adam
    python -m nn.train --dataset mnist --hidden 128 --epochs 5
    python -m nn.train --model cnn                       # conv 32 → conv 64 → 128 → 10: 91.6-91.9%, ~7 min
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .. import data
from ..extras import require
from ..gradflow import GradientFlow
from ..optim import SGD, Adam, AdamW, Optimizer
from . import runs
from .cli import number
from .epoch import NonFiniteLossError, all_finite, cosine_lr, evaluate, train_epoch
from .models import IMAGE_SHAPE, IN_FEATURES, NUM_CLASSES, build_cnn, build_model, build_resnet
from .plots import plot_history
from .runs import CONFIG_FILE, MODEL_FILE, PLOT_FILE, load_checkpoint  # noqa: F401 - re-exports load_checkpoint

LOADERS: dict[str, Callable[..., data.MNISTData]] = {
    "mnist": data.load_mnist,
    "fashion-mnist": data.load_fashion_mnist,
}
# Learning rates that work for each optimizer when --lr is not given (SGD runs with momentum 0.9).
DEFAULT_LR = {"sgd": 0.05, "adam": 1e-3, "adamw": 1e-3}
DEFAULT_HIDDEN = (256, 128)
DEFAULT_EPOCHS = 20  # measured: 89.5-89.8% test accuracy on Fashion-MNIST for seeds 0-2, ~15 s
DEFAULT_BATCH_SIZE = 128
DEFAULT_CNN_CHANNELS = (32, 64)
DEFAULT_CNN_HIDDEN = (128,)
DEFAULT_CNN_EPOCHS = 10  # measured: 91.54% (seed 0) test accuracy on Fashion-MNIST in 5.8 min, 1 thread (91.90% seed 1)
# Evaluation batches for a CNN: the second convolution's im2col matrix holds 32·9 × 14·14 floats per image
# (225 MB for 1000 images, 56 MB for 250); a smaller batch costs nothing measurable.
CNN_EVAL_BATCH = 250
DEFAULT_RESNET_CHANNELS = (16, 32, 64)
DEFAULT_RESNET_EPOCHS = 8  # measured: 91.81% (seed 0) test accuracy on Fashion-MNIST in 22 min, 1 thread
GRADFLOW_SAMPLES = 300  # gradient-flow samples per run: enough for a smooth line, ~0.1% of an epoch's time

EXIT_NONFINITE, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
EXIT_NO_SPACE = 1  # like a crash, but with one line instead of a traceback


def default_threads() -> int:
    """Half the CPUs this process may use, at least 1: the BLAS thread count ``--threads`` defaults to.

    Measured on a 2-core machine, one Fashion-MNIST epoch (784-256-128-10, Adam): 1 BLAS thread 1.09 s;
    2 threads 0.95 s when the machine is otherwise idle, but 2.7-8.4 s beside one other busy process,
    because OpenBLAS threads spin-wait for a core that is taken. Half the CPUs (the physical cores on a
    hyper-threaded machine) leaves room for whatever else runs.
    """
    try:
        cpus = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cpus = os.cpu_count() or 1
    return max(1, cpus // 2)


def make_optimizer(name: str, params: Sequence, lr: float) -> Optimizer:
    """``sgd`` (momentum 0.9), ``adam`` or ``adamw`` (PyTorch's default weight decay 0.01)."""
    if name == "sgd":
        return SGD(params, lr=lr, momentum=0.9)
    if name == "adam":
        return Adam(params, lr=lr)
    if name == "adamw":
        return AdamW(params, lr=lr)
    raise ValueError(f"unknown optimizer {name!r}; choose sgd, adam or adamw")


# -- the command line -----------------------------------------------------------------------------


def _positive(kind: type) -> Callable[[str], int | float]:
    """An argparse type: ``kind(text)``, rejected unless > 0 (and finite)."""
    return number(kind, 0, strict=True)


def build_parser() -> argparse.ArgumentParser:
    """The command line's options; ``parse_args`` fills in what depends on other options."""
    p = argparse.ArgumentParser(
        prog="python -m nn.train",
        description="Train an MLP or CNN classifier on Fashion-MNIST or MNIST; save the checkpoint (every epoch), "
                    "config and plot. Exit codes: 0 done, 1 loss became nan/inf or the disk filled, 2 bad arguments, "
                    "data or --out (or another run is writing it), 130 interrupted (Ctrl-C).",
    )
    p.add_argument("--dataset", choices=sorted(LOADERS), default="fashion-mnist",
                   help="default %(default)s, installable offline (apt-get install dataset-fashion-mnist); "
                        "mnist is downloaded")
    p.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                   help="an existing directory holding the four IDX files, .gz or not; missing files are "
                        "downloaded into it (default: the user cache, created as needed, then system copies)")
    p.add_argument("--model", choices=["mlp", "cnn", "resnet"], default="mlp",
                   help="mlp (default): fully connected layers; cnn: conv blocks (--channels), then --hidden; "
                        "resnet: residual blocks with batch normalisation (--channels), global average pooling")
    p.add_argument("--channels", type=_positive(int), nargs="+", default=None, metavar="C",
                   help="--model cnn: output channels of each 3×3 conv + 2×2 max-pool block "
                        f"(default: {' '.join(map(str, DEFAULT_CNN_CHANNELS))}); --model resnet: of each residual "
                        f"block (default: {' '.join(map(str, DEFAULT_RESNET_CHANNELS))})")
    p.add_argument("--hidden", type=_positive(int), nargs="*", default=None, metavar="N",
                   help=f"hidden layer widths (default: mlp {' '.join(map(str, DEFAULT_HIDDEN))}, cnn "
                        f"{' '.join(map(str, DEFAULT_CNN_HIDDEN))}); --hidden alone: no hidden layer")
    p.add_argument("--epochs", type=_positive(int), default=None,
                   help=f"default: mlp {DEFAULT_EPOCHS}, cnn {DEFAULT_CNN_EPOCHS}, resnet {DEFAULT_RESNET_EPOCHS}")
    p.add_argument("--batch-size", type=_positive(int), default=DEFAULT_BATCH_SIZE, help="default %(default)s")
    p.add_argument("--lr", type=_positive(float), default=None,
                   help="learning rate (default: " + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_LR.items()) + ")")
    p.add_argument("--optimizer", choices=sorted(DEFAULT_LR), default="adam",
                   help="default %(default)s; sgd uses momentum 0.9, adamw weight decay 0.01")
    p.add_argument("--lr-schedule", choices=["cosine", "constant"], default="cosine",
                   help="cosine (default): lr·½(1 + cos(π(epoch − 1)/epochs)) each epoch; constant: lr throughout")
    p.add_argument("--seed", type=number(int, 0), default=0,
                   help="an integer >= 0; seeds weight init and batch order (default %(default)s)")
    p.add_argument("--out", type=Path, default=None, metavar="DIR",
                   help="run directory; one holding an earlier run is refused unless --force (default: "
                        "runs/<dataset>, or runs/<dataset>-2, -3, ... if that holds an earlier run)")
    p.add_argument("--force", action="store_true", help="replace the run already in --out")
    p.add_argument("--no-download", action="store_true", help="fail instead of downloading missing data")
    p.add_argument("--no-verify", action="store_true",
                   help="with --data-dir: use its files without checking their SHA-256 against the released "
                        "dataset's (for files of your own; recorded in config.json as data_verified: false)")
    p.add_argument("--limit", type=_positive(int), default=None, metavar="N",
                   help="train on the first N training examples only (quick runs)")
    p.add_argument("--threads", type=_positive(int), default=None, metavar="N",
                   help=f"BLAS threads (default: half the CPUs, here {default_threads()}). Measured on 2 cores: "
                        "2 threads were 13%% faster than 1 on an idle machine but 2.5-8x slower beside one "
                        "other busy process")
    return p


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """The command line; bad values (epochs, lr, sizes ≤ 0, seed < 0) stop here with argparse's usage error."""
    parser = build_parser()
    args = parser.parse_args(argv)
    cnn = args.model == "cnn"
    if args.no_verify and args.data_dir is None:
        parser.error("--no-verify is for a --data-dir of your own files; the cache and system copies are always "
                     "verified")
    if args.channels is not None and args.model == "mlp":
        parser.error("--channels is for --model cnn or resnet (an MLP has no convolutions)")
    if cnn:
        args.channels = list(DEFAULT_CNN_CHANNELS) if args.channels is None else args.channels
        if len(args.channels) > 4:
            parser.error(f"--channels: at most 4 conv blocks (each halves the 28×28 image), got {len(args.channels)}")
    if args.model == "resnet":
        args.channels = list(DEFAULT_RESNET_CHANNELS) if args.channels is None else args.channels
        if len(args.channels) > 5:
            parser.error(f"--channels: at most 5 residual blocks (each after the first halves the 28×28 image), "
                         f"got {len(args.channels)}")
        if args.hidden:
            parser.error("--hidden is for --model mlp or cnn (the ResNet ends in global average pooling and one "
                         "linear layer)")
        args.hidden = []
    if args.hidden is None:
        args.hidden = list(DEFAULT_CNN_HIDDEN if cnn else DEFAULT_HIDDEN)
    if args.epochs is None:
        args.epochs = default_epochs(args.model)
    if args.lr is None:
        args.lr = DEFAULT_LR[args.optimizer]
    if args.threads is None:
        args.threads = default_threads()
    return args


def default_epochs(model: str) -> int:
    """``--epochs`` when not given: the MLP's, the CNN's or the ResNet's."""
    return {"cnn": DEFAULT_CNN_EPOCHS, "resnet": DEFAULT_RESNET_EPOCHS}.get(model, DEFAULT_EPOCHS)


def describe_model(args: argparse.Namespace) -> str:
    """``MLP 784-256-128-10`` or ``CNN conv 32-64, 3136-128-10`` (conv channels, then the layer sizes after them)."""
    if args.model == "resnet":
        return f"ResNet {'-'.join(map(str, args.channels))}, global average pool, {args.channels[-1]}-{NUM_CLASSES}"
    if args.model != "cnn":
        return "MLP " + "-".join(str(n) for n in [IN_FEATURES, *args.hidden, NUM_CLASSES])
    side = IMAGE_SHAPE[1] // 2 ** len(args.channels)
    sizes = [args.channels[-1] * side * side, *args.hidden, NUM_CLASSES]
    return f"CNN conv {'-'.join(map(str, args.channels))}, {'-'.join(map(str, sizes))}"


def plot_title(args: argparse.Namespace) -> str:
    """Dataset and architecture, then every option that changes the result and is not at its default,
    written as the flags that set it (``--limit 200 --optimizer sgd --lr 0.5``)."""
    parser = build_parser()
    flags = []
    for dest in ("epochs", "batch_size", "optimizer", "lr", "lr_schedule", "seed", "limit"):
        value = getattr(args, dest)
        default = {"lr": DEFAULT_LR[args.optimizer], "epochs": default_epochs(args.model)}.get(
            dest, parser.get_default(dest))
        if value != default:
            flags.append(f"--{dest.replace('_', '-')} {value:g}" if isinstance(value, float)
                         else f"--{dest.replace('_', '-')} {value}")
    return f"{args.dataset}, {describe_model(args)}" + (f"   {' '.join(flags)}" if flags else "")


def run_config(args: argparse.Namespace) -> dict:
    """What ``config.json`` records: enough to rebuild the model (``load_checkpoint``) and repeat the run."""
    return {
        "dataset": args.dataset,
        "model": args.model,
        "channels": None if args.model == "mlp" else list(args.channels),
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
        "data_verified": not args.no_verify,
        "threads": args.threads,
    }


@contextlib.contextmanager
def _sigint_deferred() -> Iterator[None]:
    """Hold Ctrl-C while the block runs (a checkpoint write), then raise it: model.npz and config.json stay a pair.

    Only the main thread may set signal handlers; elsewhere (a thread, some notebook set-ups) this is a no-op,
    as it is when SIGINT is ignored (``nohup``, a shell's background job): that choice is the caller's.
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        yield
        return
    received: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous if previous is not None else signal.default_int_handler)
    if received:
        raise KeyboardInterrupt


class _DataError(Exception):
    """The data could not be loaded (or ``--data-dir`` is no directory); the message says why and what to do."""


def _load_data(args: argparse.Namespace) -> data.MNISTData:
    """The dataset named by ``args``, or ``_DataError`` with a message for the user (not a traceback)."""
    try:
        return LOADERS[args.dataset](root=args.data_dir, download=not args.no_download, verify=not args.no_verify)
    except data.DatasetNotFoundError as err:
        # Its message already lists where it looked and how to get the files; add the flags that do it here.
        raise _DataError(f"nn.train: {err}\nOn the command line: run without --no-download to download it, "
                         "or pass --data-dir DIR to use the files in DIR.") from err
    except (OSError, ValueError) as err:
        # DownloadError (OSError: every mirror failed), ChecksumError and corrupt or unreadable files.
        hints = []
        if args.dataset == "fashion-mnist":
            hints.append("install it offline with apt-get install dataset-fashion-mnist")
        hints.append("put " + ", ".join(f"{stem}[.gz]" for stem in data.FILES) + " in a directory "
                     "and pass --data-dir DIR")
        raise _DataError(f"nn.train: could not load {args.dataset}: {err}\nTo get the data: "
                         + "; or ".join(hints) + ".") from err


# -- the command ----------------------------------------------------------------------------------


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def missing_extra() -> str | None:
    """The one line to print when the ``train`` extra (tqdm, threadpoolctl, matplotlib) is not installed."""
    for module in ("tqdm", "threadpoolctl", "matplotlib"):
        try:
            require(module, "train", "python -m nn.train")
        except ImportError as err:
            return str(err)
    return None


def main(argv: Sequence[str] | None = None, watch: Any = None) -> int:
    """Run the command: check --out, load data, train, checkpoint every epoch. Returns the exit code.

    ``watch``: told about the run as it goes (``nn.train(...)`` from Python passes one, ``from_python._Watch``):
    ``started(model=, optimizer=, flow=, history=, step_losses=, out=, args=)``, ``progress_bar(epoch)`` (a
    stand-in for the tqdm bar, or None) and ``epoch_done(epoch, loss, accuracy)``.
    """
    missing = missing_extra()
    if missing:
        print(missing, file=sys.stderr)
        return EXIT_USAGE
    args = parse_args(argv)
    created: list[Path] = []
    lock = None
    try:
        if args.data_dir is not None and not args.data_dir.is_dir():
            what = "is not a directory" if args.data_dir.exists() else "does not exist"
            raise _DataError(f"nn.train: --data-dir {args.data_dir} {what}; check the path (to download into "
                             f"a new directory, create it first: mkdir -p {args.data_dir})")
        out, note, created, lock = runs.claim_out(args.out, args.dataset, args.force)  # refused at once if in use
        ds = _load_data(args)
    except (runs.RunDirError, _DataError) as err:
        runs.release(lock, created)
        print(err, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        runs.release(lock, created)
        print("nn.train: interrupted before training started; nothing written", file=sys.stderr)
        return EXIT_INTERRUPTED
    if note:
        print(note)
    if args.force:
        runs.clear_run(out)

    from threadpoolctl import threadpool_limits  # ~10 ms; only a run needs it

    try:
        with threadpool_limits(limits=args.threads, user_api="blas"), np.errstate(all="ignore"):
            # errstate: overflow warnings would bury the one line that reports a non-finite loss.
            return _train(args, ds, out, watch)
    except KeyboardInterrupt:  # _train handles Ctrl-C during training; this is the moment before the first step
        print(f"nn.train: interrupted before the first step; {out} holds at most {CONFIG_FILE}", file=sys.stderr)
        return EXIT_INTERRUPTED
    finally:
        lock.release()  # a killed process never gets here: the kernel releases its lock


def _train(args: argparse.Namespace, ds: data.MNISTData, out: Path, watch: Any = None) -> int:
    x_train, y_train = ds.x_train, ds.y_train
    if args.limit is not None:
        x_train, y_train = x_train[: args.limit], y_train[: args.limit]
    x_test = ds.x_test
    rng = np.random.default_rng(args.seed)
    if args.model in ("cnn", "resnet"):
        model = build_cnn(args.channels, args.hidden, rng) if args.model == "cnn" else build_resnet(args.channels, rng)
        x_train, x_test = x_train.reshape(-1, *IMAGE_SHAPE), x_test.reshape(-1, *IMAGE_SHAPE)  # views: no copy
    else:
        model = build_model(args.hidden, rng)
    optimizer = make_optimizer(args.optimizer, model.parameters(), args.lr)
    batches_per_epoch = -(-len(x_train) // args.batch_size)
    flow = GradientFlow(model, every=max(1, args.epochs * batches_per_epoch // GRADFLOW_SAMPLES))
    print(f"{args.dataset}: {len(x_train)} training / {len(ds.x_test)} test images; {describe_model(args)}, "
          f"{args.optimizer} lr={args.lr:g} ({args.lr_schedule}), batch {args.batch_size}, "
          f"{args.epochs} epochs, seed {args.seed}, {_plural(args.threads, 'BLAS thread')}", flush=True)

    config = run_config(args)
    history: dict[str, list[float]] = {"train_loss": [], "test_accuracy": []}
    losses, accuracies = history["train_loss"], history["test_accuracy"]
    step_losses: list[float] = []
    title = plot_title(args)
    if watch is not None:
        watch.started(model=model, optimizer=optimizer, flow=flow, history=history, step_losses=step_losses,
                      out=out, args=args)

    def write_config(status: str) -> None:
        runs.write_config(out, {**config, "status": status, "epochs_completed": len(losses), "history": history})

    def write_plot(stop: str = "", stop_at: float | None = None) -> None:
        status = f"\n{stop}" if stop else f"\ntest accuracy {100 * accuracies[-1]:.2f}% after {len(losses)} epochs"
        plot_history(losses, accuracies, out / PLOT_FILE, title + status, step_losses=step_losses,
                     steps_per_epoch=batches_per_epoch, flow=flow, stop=stop, stop_at=stop_at)

    write_config("running")
    start = time.perf_counter()
    plot_seconds = 0.9  # measured: the first plot 0.9 s (it imports matplotlib), later ones ~0.6 s
    epoch, code, stop, stop_at = 0, 0, "", None
    try:
        for epoch in range(1, args.epochs + 1):
            t0 = time.perf_counter()
            if args.lr_schedule == "cosine":
                optimizer.lr = cosine_lr(args.lr, epoch, args.epochs)
            # disable=None: a bar on a terminal, nothing in logs and pipes (tqdm.auto shows a widget in Jupyter);
            # the epoch line below always prints.
            feed = watch.progress_bar(epoch) if watch is not None else None  # nn.train(live=True): the live view
            from tqdm.auto import tqdm  # the train extra, checked by main(); imported once, then a dict lookup

            with feed or tqdm(total=batches_per_epoch, desc=f"epoch {epoch}/{args.epochs}", unit="batch",
                              leave=False, disable=None, file=sys.stderr) as bar:
                loss = train_epoch(model, optimizer, x_train, y_train, args.batch_size, rng, bar, flow, step_losses)
            if not all_finite(model):  # the last update can overflow the weights after a finite loss
                raise NonFiniteLossError(batches_per_epoch, "the update made the weights nan or inf")
            accuracy = evaluate(model, x_test, ds.y_test, CNN_EVAL_BATCH if args.model != "mlp" else 1000)
            # Uninterruptible: model.npz and config.json are from the same epoch, and an epoch line printed
            # is an epoch kept.
            with _sigint_deferred():
                losses.append(loss)
                accuracies.append(accuracy)
                try:  # checkpoints/epoch-N/, then one atomic switch of checkpoints/latest (see runs.py)
                    runs.commit_epoch(out, epoch, model.state_dict(), {
                        **config, "status": "running" if epoch < args.epochs else "finished",
                        "epochs_completed": len(losses), "history": history})
                except BaseException:
                    del losses[-1], accuracies[-1]  # not kept, so not in the history config.json will show
                    raise
                epoch_seconds = time.perf_counter() - t0
                print(f"epoch {epoch:>3}/{args.epochs}  train loss {loss:.4f}  test accuracy {100 * accuracy:.2f}%  "
                      f"({epoch_seconds:.1f} s)", flush=True)
            if watch is not None:
                watch.epoch_done(epoch, loss, accuracy)
            if epoch < args.epochs and plot_seconds < 0.05 * epoch_seconds:  # cheap enough to keep it current
                t0 = time.perf_counter()
                write_plot()
                plot_seconds = time.perf_counter() - t0
    except NonFiniteLossError as err:
        code = EXIT_NONFINITE
        at = f"epoch {epoch}, step {err.step}/{batches_per_epoch}"
        stop = f"stopped at {at}: {err.reason}"
        stop_at = epoch - 1 + err.step / batches_per_epoch
        message = f"nn.train: {stop}; try a smaller --lr than {args.lr:g} (e.g. {args.lr / 10:.3g})."
    except KeyboardInterrupt:
        code = EXIT_INTERRUPTED
        in_epoch = len(step_losses) - len(losses) * batches_per_epoch  # steps begun in the unfinished epoch
        if in_epoch:
            stop = f"interrupted in epoch {len(losses) + 1}, step {in_epoch}/{batches_per_epoch}"
        else:
            stop = f"interrupted after epoch {len(losses)}" if losses else "interrupted before the first step"
        message = f"nn.train: {stop} (Ctrl-C)."
        stop_at = len(step_losses) / batches_per_epoch
    except Exception as err:  # a bug or a full disk: config.json must not keep saying "running"
        if runs.is_out_of_space(err):  # one line, no traceback: the last finished epoch is whole
            runs.free_reserve(out)
            with contextlib.suppress(OSError):
                write_config(runs.NO_SPACE_STATUS)
            kept = (f"it keeps {_plural(len(losses), 'finished epoch')}: {MODEL_FILE} (epoch {len(losses)}), "
                    f"{CONFIG_FILE}" if losses else f"no epoch finished; {CONFIG_FILE} says so")
            print(f"nn.train: no space left on the device for {out} in epoch {len(losses) + 1}; {kept}.",
                  file=sys.stderr)
            return EXIT_NO_SPACE
        with contextlib.suppress(Exception):
            write_config(f"crashed in epoch {len(losses) + 1}: {type(err).__name__}: {err}")
        raise

    with contextlib.suppress(KeyboardInterrupt), _sigint_deferred():  # stopping anyway: finish the files
        if code:
            write_config(stop)
        write_plot(stop, stop_at)
    if code:
        if losses:
            kept = (f"{out} keeps {_plural(len(losses), 'finished epoch')}: "
                    f"{MODEL_FILE} (epoch {len(losses)}), {CONFIG_FILE}, {PLOT_FILE}.")
        else:
            kept = f"No epoch finished, so no {MODEL_FILE}; {out} has {CONFIG_FILE} and {PLOT_FILE} (the steps run)."
        print(f"{message} {kept}", file=sys.stderr)
        return code
    elapsed = time.perf_counter() - start
    print(f"final test accuracy {100 * accuracies[-1]:.2f}% after {args.epochs} epochs ({elapsed:.1f} s)")
    print(f"wrote {out / MODEL_FILE}, {out / CONFIG_FILE}, {out / PLOT_FILE}")
    return 0
