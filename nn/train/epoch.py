"""One pass over the data: ``train_epoch`` (mini-batch training), ``evaluate`` (accuracy) and the learning rate per
epoch (``cosine_lr``): the parts of ``python -m nn.train``'s loop that know nothing of files or the command line.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np

from autograd import Tensor, no_grad

from .. import data
from .. import functional as F
from ..gradflow import GradientFlow
from ..module import Module
from ..optim import Optimizer

if TYPE_CHECKING:
    from tqdm.auto import tqdm  # the progress bar train_epoch updates; only nn.train needs it at run time


def cosine_lr(base_lr: float, epoch: int, epochs: int) -> float:
    """Learning rate for ``epoch`` (1-based) of ``epochs``: lr_e = lr · ½(1 + cos(π(e − 1)/E)).

    Starts at ``base_lr`` and falls smoothly towards 0 by the last epoch. The small late steps settle
    the weights instead of letting Adam keep rattling around the minimum: measured on Fashion-MNIST,
    a constant rate wanders between 88% and 89.3% test accuracy from epoch 7 on.
    """
    return base_lr * 0.5 * (1.0 + math.cos(math.pi * (epoch - 1) / epochs))


class NonFiniteLossError(FloatingPointError):
    """Training went non-finite at ``step`` (1-based, within the epoch); ``reason`` says what did."""

    def __init__(self, step: int, reason: str) -> None:
        super().__init__(f"{reason} at step {step}")
        self.step, self.reason = step, reason


def train_epoch(model: Module, optimizer: Optimizer, x: np.ndarray, y: np.ndarray, batch_size: int,
                rng: np.random.Generator, progress: tqdm | None = None, flow: GradientFlow | None = None,
                step_losses: list[float] | None = None) -> float:
    """One shuffled pass over ``(x, y)``; returns the mean training loss per example.

    Per batch: loss = cross_entropy(model(x_b), y_b); zero_grad; backward; step. The epoch's loss is
    Σ_b loss_b · |b| / N, so a short last batch counts for what it holds. A non-finite loss raises
    ``NonFiniteLossError`` before its backward pass, so the weights are never updated from it. ``flow``
    records gradient flow after each backward; ``step_losses`` collects each batch's loss.
    """
    model.train()
    total, seen = 0.0, 0
    for step, (xb, yb) in enumerate(data.batches(x, y, batch_size, shuffle=True, rng=rng), start=1):
        loss = F.cross_entropy(model(Tensor(xb)), yb)
        value = loss.item()
        if not math.isfinite(value):
            raise NonFiniteLossError(step, f"training loss is {value}")
        if step_losses is not None:
            step_losses.append(value)
        optimizer.zero_grad()
        loss.backward()
        if flow is not None:
            flow.record()
        optimizer.step()
        total += value * len(xb)
        seen += len(xb)
        if progress is not None:
            progress.update(1)
            if step % 20 == 0:  # formatting the postfix every batch would cost more than it shows
                progress.set_postfix(loss=f"{total / seen:.4f}", refresh=False)
    return total / seen


def all_finite(model: Module) -> bool:
    """True if every parameter of ``model`` is finite (the last update can overflow after a finite loss)."""
    return all(np.isfinite(p.data).all() for p in model.parameters())


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
