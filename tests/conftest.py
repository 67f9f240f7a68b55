"""Shared test settings and helpers: hypothesis runs without deadlines (CI machines are shared and noisy); the one
way tests get PyTorch (``torch_or_skip``, or the ``torch`` fixture); and the worked examples several files use
(``worked_neuron``, the hand-written ``Sigmoid``), imported with ``from conftest import ...``."""
from __future__ import annotations

import math
import os
from types import ModuleType

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from autograd import Function, Tensor, Value

settings.register_profile("ci", deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
settings.load_profile("ci")

REQUIRE_TORCH = "BACKPROPLAB_REQUIRE_TORCH"


def torch_or_skip() -> ModuleType:
    """``torch``, for tests that check against PyTorch: skipped cleanly where it is not installed, unless the
    environment sets BACKPROPLAB_REQUIRE_TORCH=1 (CI with torch): then a missing torch is a failure, never a skip.

    At the top of a test module: ``torch = torch_or_skip()`` (``from conftest import torch_or_skip``)."""
    if os.environ.get(REQUIRE_TORCH) == "1":
        try:
            import torch
        except ImportError as err:
            pytest.fail(f"{REQUIRE_TORCH}=1 but torch cannot be imported: {err}", pytrace=False)
        return torch
    return pytest.importorskip("torch")


@pytest.fixture
def torch() -> ModuleType:
    """PyTorch for one test, with ``torch_or_skip``'s rule."""
    return torch_or_skip()


def worked_neuron() -> tuple[Value, dict[str, Value]]:
    """The worked neuron of notebook 01: o = tanh(x1·w1 + x2·w2 + b), with b chosen so that n = atanh(1/√2) and
    o = 1/√2 (so every gradient is a number to check by hand). Returns o and its named values."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.0 + math.atanh(1 / math.sqrt(2)), label="b")
    n = x1 * w1 + x2 * w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n}


class Sigmoid(Function):
    """σ by hand, written once for both engines: forward gets an ndarray or a float; σ' = σ(1 − σ)."""

    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return g * s * (1 - s)


def frozen(t: object) -> object:
    """The numbers of a Tensor or Value as a constant (arrays and floats, at first order, as they are): what a
    hand-written backward does wrong when it reads numbers where it should use the graph."""
    if isinstance(t, Tensor):
        return Tensor(t.data)
    return Value(t.data) if isinstance(t, Value) else t


class DetachedSigmoid(Function):
    """σ whose backward reads the output's numbers as a constant: right at first order, wrong in its derivative
    (the true d/dx of g·s(1 − s) has two terms in s'; this one keeps one)."""

    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(s)
        return s

    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return g * frozen(s) * (1 - s)


class FrozenSeed(Function):
    """y = x²; backward 2·x·g with g's numbers taken as a constant: right in x, wrong in the seed."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return frozen(g) * 2 * x
