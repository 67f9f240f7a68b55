"""``training.png``: the picture of a training run (loss, test accuracy and gradient flow per epoch)."""
from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ..gradflow import GradientFlow
from ..serialization import atomic_write


def plot_history(losses: Sequence[float], accuracies: Sequence[float], path: Path, title: str = "", *,
                 step_losses: Sequence[float] = (), steps_per_epoch: int | None = None,
                 flow: GradientFlow | None = None, stop: str = "", stop_at: float | None = None) -> Any:
    """A PNG of the run, written atomically: training loss and test accuracy per epoch, gradient flow.

    The loss panel (log scale) shows each batch's loss (``step_losses``, faint, at the end of its step) and
    the epoch means, each in the middle of its epoch's batches: it is their mean, so at the epoch's end it would
    sit above a falling batch curve. The accuracy panel shows the finished
    epochs (measured at each epoch's end), or says that none finished; with ``flow``, a second row shows
    gradient norms per layer and the activations' mean derivative. ``stop`` (e.g. "stopped at epoch 2,
    step 5/7: training loss is nan") labels a line at ``stop_at`` (in epochs) where training stopped.
    Draws on a bare ``Figure`` with the Agg canvas: no GUI, no pyplot state. Returns the Figure.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg  # imported here: ~0.3 s, only needed once
    from matplotlib.figure import Figure

    rows = 2 if flow is not None else 1
    fig = Figure(figsize=(10, 3.6 * rows + 0.4), layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(rows, 2, squeeze=False)
    ax_loss, ax_acc = axes[0]
    epochs = np.arange(1, len(losses) + 1)
    if len(step_losses) and steps_per_epoch:
        steps = (np.arange(len(step_losses)) + 1) / steps_per_epoch  # the end of each step, in epochs
        ax_loss.plot(steps, step_losses, color="tab:blue", alpha=0.3, lw=0.8, label="batch",
                     marker="." if len(step_losses) <= 50 else None)
    if len(losses):
        # Epoch k's batches end at k - 1 + j/S (j = 1..S): their mean belongs at the mean of those places.
        centres = epochs - 0.5 + (0.5 / steps_per_epoch if steps_per_epoch else 0.0)
        ax_loss.plot(centres, losses, marker="o", color="tab:blue", label="epoch mean")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy (log scale)", title="training loss")
    if stop and stop_at is not None:
        ax_loss.axvline(stop_at, color="tab:red", ls="--", lw=1, label=stop)
    if len(step_losses) or len(losses):
        ax_loss.set_yscale("log")
        ax_loss.legend(fontsize="small")
    else:
        ax_loss.text(0.5, 0.5, "no training step finished", ha="center", va="center", transform=ax_loss.transAxes)
    if len(accuracies):
        ax_acc.plot(epochs, 100 * np.asarray(accuracies), marker="o", color="tab:green")
    else:
        ax_acc.text(0.5, 0.5, "no epoch finished:\nno test accuracy", ha="center", va="center",
                    transform=ax_acc.transAxes)
    ax_acc.set(xlabel="epoch", ylabel="accuracy (%)", title="test accuracy")
    shown = np.asarray([*step_losses, *losses], dtype=float)
    shown = shown[np.isfinite(shown) & (shown > 0)]
    if shown.size and shown.max() < 100 * shown.min():  # a decade or two: label 0.1 0.2 0.5 1 2, plainly
        from matplotlib.ticker import LogLocator, NullFormatter

        ax_loss.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        ax_loss.yaxis.set_major_formatter("{x:g}")
        ax_loss.yaxis.set_minor_formatter(NullFormatter())
    for ax in (ax_loss, ax_acc):
        ax.grid(alpha=0.3)
    if flow is not None:
        flow.plot(axes[1], steps_per_epoch=steps_per_epoch)
    run = max(len(losses), len(step_losses) / steps_per_epoch if steps_per_epoch else 0, stop_at or 0)
    for ax in axes.flat:  # one epoch axis for every panel, so they line up
        ax.xaxis.get_major_locator().set_params(integer=True)
        if run:
            ax.set_xlim(0, run * 1.02)
    if title:
        fig.suptitle(title)
    with atomic_write(path, "wb") as f:
        fig.savefig(f, format="png", dpi=100)
    return fig
