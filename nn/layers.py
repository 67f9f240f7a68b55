"""Tensor layers: Linear, activations, Dropout and Sequential, with PyTorch's names, shapes and keys.

Each layer is a thin ``Module`` around one function of ``nn.functional``, so the math lives in one place.
Parameter names and shapes follow ``torch.nn`` (``Linear.weight`` is (out, in); ``Sequential``'s children
are named "0", "1", ...), so a ``state_dict`` moves between the two libraries unchanged.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from typing import overload

import numpy as np

from autograd.tensor import Tensor

from . import functional as F
from .module import Module


class Linear(Module):
    """y = x Wᵀ + b, with W of shape (out_features, in_features) and b of shape (out_features,).

    Initialised as PyTorch does: W, b ~ U(−1/√in, 1/√in), float32. Draws come from ``rng`` if given,
    else NumPy's global generator, so ``np.random.seed(s)`` makes a model reproducible.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        if in_features <= 0 or out_features <= 0:
            raise ValueError(f"Linear needs positive sizes, got in_features={in_features}, out_features={out_features}")
        self.in_features = in_features
        self.out_features = out_features
        bound = 1.0 / math.sqrt(in_features)
        uniform = rng.uniform if rng is not None else np.random.uniform
        self.weight = Tensor(uniform(-bound, bound, (out_features, in_features)).astype(np.float32), requires_grad=True)
        self.bias = (Tensor(uniform(-bound, bound, (out_features,)).astype(np.float32), requires_grad=True)
                     if bias else None)

    def forward(self, x: Tensor) -> Tensor:
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class ReLU(Module):
    """max(x, 0), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.relu(x)


class Tanh(Module):
    """tanh(x), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.tanh(x)


class Sigmoid(Module):
    """σ(x) = 1/(1 + e⁻ˣ), elementwise."""

    def forward(self, x: Tensor) -> Tensor:
        return F.sigmoid(x)


class Dropout(Module):
    """Inverted dropout: in training, zero each element with probability p and scale the rest by
    1/(1 − p); in evaluation (after ``eval()``), pass the input through unchanged."""

    def __init__(self, p: float = 0.5, rng: np.random.Generator | None = None) -> None:
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"dropout probability must be in [0, 1], got {p}")
        self.p = p
        self.rng = rng

    def forward(self, x: Tensor) -> Tensor:
        return F.dropout(x, self.p, self.training, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}"


class Sequential(Module):
    """Modules applied one after another: ``Sequential(Linear(784, 128), ReLU(), Linear(128, 10))``.

    Children are named "0", "1", ... so parameters are ``0.weight``, ``0.bias``, ``2.weight``, ...
    Supports ``len``, iteration, ``seq[i]`` and ``seq[i:j]`` (a new Sequential sharing the modules).
    """

    def __init__(self, *modules: Module) -> None:
        for i, m in enumerate(modules):
            if not isinstance(m, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(m).__name__}, not a Module")
        self.layers = list(modules)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for i, m in enumerate(self.layers):
            yield str(i), m

    def forward(self, x: Tensor) -> Tensor:
        for m in self.layers:
            x = m(x)
        return x

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Module]:
        return iter(self.layers)

    @overload
    def __getitem__(self, index: int) -> Module: ...
    @overload
    def __getitem__(self, index: slice) -> Sequential: ...

    def __getitem__(self, index: int | slice) -> Module | Sequential:
        if isinstance(index, slice):
            return Sequential(*self.layers[index])
        return self.layers[index]


__all__ = ["Dropout", "Linear", "ReLU", "Sequential", "Sigmoid", "Tanh"]
