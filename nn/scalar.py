"""Neuron, Layer, MLP on the scalar ``Value`` engine, with micrograd's call style.

A neuron computes a = relu(z) with z = w·x + b (or just z, for the linear output layer). z is one fused
``Value.dot`` node rather than n multiplies and n adds, which is most of why training here is fast.

Layers always pass lists of Values to each other; only ``MLP`` unwraps a single output into a bare
Value, so a hidden layer of width 1 (``MLP(2, [16, 1, 1])``) works.

Initial weights are uniform(-1, 1) as in micrograd, drawn from ``rng`` if given (a ``random.Random``),
else from the ``random`` module, so ``random.seed(s)`` makes a model reproducible. Biases start at 0.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from autograd.value import Value

from .module import Module

Input = Sequence[Value | float]


def _as_values(x: Input, nin: int, who: str) -> list[Value]:
    """The input as Values (numbers become constants), checked against the expected width."""
    if len(x) != nin:
        raise ValueError(f"{who} expects {nin} inputs, got {len(x)}")
    return [v if isinstance(v, Value) else Value(v) for v in x]


class Neuron(Module):
    """One unit: relu(w·x + b), or w·x + b when ``nonlin=False``."""

    def __init__(self, nin: int, nonlin: bool = True, rng: random.Random | None = None) -> None:
        if nin < 1:
            raise ValueError(f"Neuron needs at least one input, got nin={nin}")
        draw = (rng or random).uniform
        self.w = [Value(draw(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin

    def forward(self, x: Input) -> Value:
        z = Value.dot(self.w, x, self.b)  # checks the width; numbers in x become constants
        return z.relu() if self.nonlin else z

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same inputs. Always returns a list, even of one Value."""

    def __init__(self, nin: int, nout: int, **kwargs: object) -> None:
        self.nin = nin
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def forward(self, x: Input) -> list[Value]:
        x = _as_values(x, self.nin, f"Layer({self.nin}, {len(self.neurons)})")  # once, not once per neuron
        return [n(x) for n in self.neurons]

    def __repr__(self) -> str:
        return f"Layer of [{', '.join(repr(n) for n in self.neurons)}]"


class MLP(Module):
    """A stack of Layers of sizes ``nouts``: ReLU in every layer but the last, which is linear.

    ``MLP(2, [16, 16, 1])(x)`` returns one Value; with several outputs, a list.
    """

    def __init__(self, nin: int, nouts: Sequence[int], rng: random.Random | None = None) -> None:
        if isinstance(nouts, (str, bytes)) or not isinstance(nouts, Sequence):
            raise TypeError(f"MLP: nouts must be a list of layer sizes, e.g. [16, 16, 1], got {nouts!r}")
        if not nouts:
            raise ValueError("MLP needs at least one layer size in nouts")
        sizes = [nin, *nouts]
        last = len(nouts) - 1
        self.layers = [Layer(sizes[i], sizes[i + 1], nonlin=i != last, rng=rng) for i in range(len(nouts))]

    def forward(self, x: Input) -> Value | list[Value]:
        out: list[Value] = list(x)  # type: ignore[arg-type]
        for layer in self.layers:
            out = layer(out)
        return out[0] if len(out) == 1 else out

    def __repr__(self) -> str:
        return f"MLP of [{', '.join(repr(layer) for layer in self.layers)}]"
