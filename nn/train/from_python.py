"""``nn.train(...)``: the training command called from Python, with the live view in a notebook.

    import nn
    # exactly what `python -m nn.train --epochs 5 --hidden 128` runs:
    result = nn.train(epochs=5, hidden=[128], live=True)
    result.model, result.history, result.out   # the trained model, per-epoch numbers, the run directory

Each keyword is the command's option of the same name (``batch_size`` for ``--batch-size``; ``True`` for a flag such
as ``force``; a list for ``hidden`` and ``channels``). They become a command line that the command's own parser
reads (``command.parse_args``) before its own loop trains (``command.main``), so a notebook trains exactly what
``make train`` trains, writes the same run directory, and rejects the same bad values.

What differs from the shell is only how it ends. A bad option, data that cannot be loaded or an ``out`` that
holds a run raise ``ValueError`` with the command's message (where the shell gets exit code 2). A run that stops
early (a non-finite loss, Ctrl-C / the notebook's stop button) returns its result like a finished one, with
``status`` saying how it ended, ``exit_code`` the shell's (1 or 130), and the run directory keeping every finished
epoch; Ctrl-C before the first step raises ``KeyboardInterrupt``.
"""
from __future__ import annotations

import argparse
import inspect
import io
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..gradflow import GradientFlow
from ..live import LiveView, running_in_kernel
from ..module import Module
from . import command
from .runs import CONFIG_FILE

__all__ = ["TrainResult", "command_line", "train"]


@dataclass
class TrainResult:
    """What ``nn.train(...)`` returns.

    ``model``: the trained model (after the last step run). ``history``: per finished epoch, ``train_loss`` (mean
    over the epoch's examples) and ``test_accuracy``. ``out``: the run directory (model.npz, config.json,
    training.png). ``status``: ``"finished"`` or how the run stopped; ``exit_code``: what the shell command would
    have returned (0, 1 non-finite loss, 130 interrupted). ``step_losses``: every batch's loss. ``flow``: the
    ``GradientFlow`` recorded during training (``result.flow.plot()``). ``config``: ``config.json`` as written.
    ``view``: the live view, when shown.
    """

    model: Module
    history: dict[str, list[float]]
    out: Path
    status: str
    exit_code: int
    step_losses: list[float] = field(repr=False)
    flow: GradientFlow = field(repr=False)
    config: dict = field(repr=False)
    view: LiveView | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        """True when every epoch ran (exit code 0)."""
        return self.exit_code == 0

    def __repr__(self) -> str:
        accuracy = self.history["test_accuracy"]
        done = f", test accuracy {100 * accuracy[-1]:.2f}%" if accuracy else ""
        return (f"TrainResult({self.status}: {len(accuracy)} of {self.config.get('epochs')} epochs{done}; "
                f"{command.describe_model(argparse.Namespace(**self.config))}; out={str(self.out)!r})")


def train(*, live: bool | None = None, **options: Any) -> TrainResult:
    """Train as ``python -m nn.train`` does, with the same options as keywords; returns a ``TrainResult``.

    Every option of ``python -m nn.train --help`` is a keyword here, spelt with underscores: ``dataset``
    ("fashion-mnist" or "mnist"), ``data_dir``, ``model`` ("mlp" or "cnn"), ``channels``, ``hidden`` (a list;
    ``[]``: no hidden layer), ``epochs``, ``batch_size``, ``lr``, ``optimizer`` ("adam", "adamw", "sgd"),
    ``lr_schedule`` ("cosine", "constant"), ``seed``, ``out`` (default: a fresh ``runs/<dataset>-N``), ``force``,
    ``no_download``, ``limit``, ``threads``, ... An option left out, or None, takes the command's default.

    ``live``: show ``nn.live.LiveView`` (loss per step, train loss and test accuracy per epoch, learning rate,
    gradient norm per layer) in place of the progress bar. None (default): in Jupyter yes, elsewhere no.
    Outside Jupyter ``live=True`` prints a step line every 10 s beside the command's epoch lines.
    """
    return _run(command_line(**options), live)


def _signature() -> inspect.Signature:
    """``train``'s keywords: one per option of the command's parser (read from it, so a new option is a new
    keyword without an edit here), then ``live``. Switches default to False, everything else to None."""
    keyword = inspect.Parameter.KEYWORD_ONLY
    params = [inspect.Parameter(a.dest, keyword, default=False if a.nargs == 0 else None)
              for a in command.build_parser()._actions if a.option_strings and a.dest != "help"]
    params.append(inspect.Parameter("live", keyword, default=None, annotation="bool | None"))
    return inspect.Signature(params, return_annotation="TrainResult")


train.__signature__ = _signature()  # type: ignore[attr-defined]  # for help(), Jupyter's tips and completion


def command_line(**options: Any) -> list[str]:
    """The command-line arguments for keyword options: ``command_line(epochs=2, hidden=[16], force=True)`` →
    ``["--epochs", "2", "--hidden", "16", "--force"]``. None means "not given" (the command's default)."""
    actions = {a.dest: a for a in command.build_parser()._actions if a.option_strings}
    argv: list[str] = []
    for name, value in options.items():
        if name not in actions or name == "help":
            raise TypeError(f"nn.train: no option {name!r}; the options are {', '.join(sorted(_option_names()))}")
        if value is None:
            continue
        action, flag = actions[name], actions[name].option_strings[-1]
        if action.nargs == 0:  # a switch such as --force
            if not isinstance(value, bool):
                raise TypeError(f"nn.train: {name} is a switch: True or False, got {value!r}")
            argv += [flag] if value else []
        elif action.nargs in ("+", "*"):
            if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
                raise TypeError(f"nn.train: {name} takes a list, e.g. {name}=[128], got {value!r}")
            argv += [flag, *map(str, value)]
        else:
            argv += [flag, str(value)]
    return argv


def _option_names() -> list[str]:
    return [a.dest for a in command.build_parser()._actions if a.option_strings and a.dest != "help"]


class _Watch:
    """What the command tells ``nn.train(...)`` as it runs (``command.main(argv, watch=...)``): the model and the
    lists it fills, each epoch's end, and a progress bar to use; the live view is fed from here."""

    def __init__(self, live: bool, stderr: _HeldStderr) -> None:
        self.live, self.stderr = live, stderr
        self.view: LiveView | None = None
        self.run: dict[str, Any] = {}

    def started(self, **run: Any) -> None:
        """Training begins: ``model``, ``optimizer``, ``flow``, ``history``, ``step_losses``, ``out``, ``args``."""
        self.run = run
        self.stderr.release()  # the run is under way: its messages go straight to stderr again
        if self.live:
            self.view = LiveView(flow=run["flow"], title=command.describe_model(run["args"]), epoch_lines=False)

    def progress_bar(self, epoch: int) -> _StepFeed | None:
        """The command's per-epoch progress bar: the live view's feed, or None for the usual tqdm bar."""
        return _StepFeed(self.view, self.run) if self.view is not None else None

    def epoch_done(self, epoch: int, loss: float, accuracy: float) -> None:
        if self.view is not None:
            self.view.end_epoch(train_loss=loss, test_accuracy=accuracy)


class _StepFeed:
    """Stands in for the tqdm bar ``train_epoch`` updates once per step (after ``optimizer.step()``): feeds that
    step's loss and learning rate to the live view instead."""

    def __init__(self, view: LiveView, run: dict[str, Any]) -> None:
        self.view, self.losses, self.optimizer = view, run["step_losses"], run["optimizer"]

    def update(self, n: int = 1) -> None:
        self.view.update(self.losses[-1], lr=self.optimizer.lr)

    def set_postfix(self, *args: Any, **kwargs: Any) -> None:
        """The bar's running loss: the view shows it already."""

    def __enter__(self) -> _StepFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        pass


class _HeldStderr:
    """Holds what the command writes to stderr until training starts, so that an error before it (a bad option,
    missing data) becomes the message of the exception ``nn.train`` raises instead of being printed as well."""

    def __init__(self) -> None:
        self.buffer, self.real = io.StringIO(), sys.stderr
        sys.stderr = self.buffer

    def release(self) -> None:
        if sys.stderr is self.buffer:
            sys.stderr = self.real
            self.real.write(self.buffer.getvalue())

    def message(self) -> str:
        """What was held, restored to stderr unwritten: the command's error, for an exception."""
        if sys.stderr is self.buffer:
            sys.stderr = self.real
        return self.buffer.getvalue().strip()


def _run(argv: list[str], live: bool | None) -> TrainResult:
    stderr = _HeldStderr()
    watch = _Watch(running_in_kernel() if live is None else bool(live), stderr)
    try:
        code = command.main(argv, watch=watch)
    except SystemExit:  # argparse's usage error: its last line says what is wrong
        lines = stderr.message().splitlines()
        raise ValueError(lines[-1] if lines else f"nn.train: bad options {argv}") from None
    except BaseException:
        stderr.release()  # show whatever was held, then the exception
        raise
    finally:
        if watch.view is not None:
            watch.view.close()
    if not watch.run:  # stopped before training: a bad --out or data (exit code 2), or Ctrl-C (130)
        message = stderr.message()
        if code == command.EXIT_INTERRUPTED:
            raise KeyboardInterrupt(message)
        raise ValueError(message or f"nn.train: the command stopped with exit code {code}")
    run = watch.run
    config_path = Path(run["out"]) / CONFIG_FILE
    config = (json.loads(config_path.read_text(encoding="utf-8")) if config_path.exists()
              else command.run_config(run["args"]))
    return TrainResult(model=run["model"], history=run["history"], out=Path(run["out"]),
                       status=config.get("status", "finished" if code == 0 else f"exit code {code}"),
                       exit_code=code, step_losses=run["step_losses"], flow=run["flow"], config=config,
                       view=watch.view)
