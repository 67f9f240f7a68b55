"""Neuron, Layer, MLP on the scalar ``Value`` engine, with micrograd's call style.

A neuron computes a = relu(z) with z = w·x + b (or just z, for the linear output layer). z is one fused
``Value.dot`` node rather than n multiplies and n adds, which is most of why training here is fast.

Layers always pass lists of Values to each other (and one tuple of them to their neurons); only ``MLP``
unwraps a single output into a bare Value, so a hidden layer of width 1 (``MLP(2, [16, 1, 1])``) works.

Initial weights are uniform(-1, 1) as in micrograd, drawn from ``rng`` if given (a ``random.Random``),
else from the ``random`` module, so ``random.seed(s)`` makes a model reproducible. Biases start at 0.
"""
from __future__ import annotations

import random
from collections.abc import Sequence

from autograd.value import Value

from .module import Module

Input = Sequence[Value | float]


def _as_values(x: Input, layer: Layer) -> tuple[Value, ...]:
    """The input as one tuple of Values (numbers become constants), checked against the layer's width.

    One tuple for all of the layer's neurons: ``Value.dot`` keeps it as it is (no copy per neuron), and
    backward's graph walk scans a layer's inputs once instead of once per neuron.
    """
    if len(x) != layer.nin:
        raise ValueError(f"Layer({layer.nin}, {len(layer.neurons)}) expects {layer.nin} inputs, got {len(x)}")
    t = tuple(x)
    if set(map(type, t)) == _VALUES:  # the usual case (a layer's output), checked without a Python loop
        return t
    return tuple([v if isinstance(v, Value) else Value(v) for v in t])


_VALUES = {Value}


class _Packed:
    """A neuron's weights and bias as the one tuple its dot nodes share (``Neuron._unit``). Not a list or
    dict, so module discovery looks past it: ``w`` and ``b`` remain the parameters."""

    __slots__ = ("b", "w", "wb")

    def __init__(self) -> None:
        self.w: tuple[Value, ...] = ()
        self.b: Value | None = None
        self.wb: tuple[Value, ...] = ()


class Neuron(Module):
    """One unit: relu(w·x + b), or w·x + b when ``nonlin=False``."""

    def __init__(self, nin: int, nonlin: bool = True, rng: random.Random | None = None) -> None:
        if nin < 1:
            raise ValueError(f"Neuron needs at least one input, got nin={nin}")
        draw = (rng or random).uniform
        self.w = [Value(draw(-1.0, 1.0)) for _ in range(nin)]
        self.b = Value(0.0)
        self.nonlin = nonlin
        self._packed = _Packed()

    def forward(self, x: Input) -> Value:
        z = Value.dot(self.w, x, self.b)  # checks the width; numbers in x become constants
        return z.relu() if self.nonlin else z

    def _unit(self, x: tuple[Value, ...]) -> Value:
        """``forward`` for a Layer, which has checked ``x``: a tuple of Values of the layer's width.

        The weights and bias go to every point's dot node as one tuple, kept from call to call while ``w``
        and ``b`` hold the same Values (an identity check: cheaper than checking their types again), which
        also lets backward scan it once per step instead of once per point. Anything else -- a number put
        into ``w``, a width that no longer matches -- takes the checked path, ``forward``.
        """
        w, b, packed = self.w, self.b, self._packed
        wt = tuple(w)
        if wt != packed.w or b is not packed.b:
            if len(wt) != len(x) or type(b) is not Value or set(map(type, wt)) != _VALUES:
                return self.forward(x)
            packed.w, packed.b, packed.wb = wt, b, (*wt, b)
        z = Value.packed_dot(packed.wb, x)
        return z.relu() if self.nonlin else z

    def __repr__(self) -> str:
        return f"{'ReLU' if self.nonlin else 'Linear'}Neuron({len(self.w)})"


class Layer(Module):
    """``nout`` neurons reading the same inputs. Always returns a list, even of one Value."""

    def __init__(self, nin: int, nout: int, **kwargs: object) -> None:
        self.nin = nin
        self.neurons = [Neuron(nin, **kwargs) for _ in range(nout)]

    def forward(self, x: Input) -> list[Value]:
        x = _as_values(x, self)  # once, not once per neuron
        # n._unit(x), not n(x): Module.__call__ costs about a microsecond with its *args and hook check, and
        # MLP(2, [16, 16, 1]) calls 3,300 neurons a step on 100 points. A neuron with a forward hook still gets it.
        return [n(x) if n._forward_hooks else n._unit(x) for n in self.neurons]

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
