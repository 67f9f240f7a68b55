"""Tensor layers: Linear, activations, Dropout and Sequential, with PyTorch's names, shapes and keys.

Each layer is a thin ``Module`` around one function of ``nn.functional``, so the math lives in one place.
Parameter names and shapes follow ``torch.nn`` (``Linear.weight`` is (out, in); ``Sequential``'s children
are named "0", "1", ...), so a ``state_dict`` moves between the two libraries unchanged.

Inputs may be Tensors, ndarrays or lists (the rule of ``nn.functional``: a non-Tensor becomes a constant
``Tensor(x)``). A ``Linear`` checks its input's dtype against its weight's and names itself in the error:
"expected float32 input for Linear(784→128), got float64; convert with x.float() / ...".
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Mapping
from typing import overload

import numpy as np

from autograd.tensor import Tensor, as_tensor

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
        return F.linear(self._checked(x), self.weight, self.bias)

    def _checked(self, x: object) -> Tensor:
        """x as a Tensor in the weight's dtype, or the TypeError that names this layer (built only then)."""
        x = as_tensor(x)
        if x.data.dtype != self.weight.data.dtype:
            F._check_input_dtype(x, self.weight, f"Linear({self.in_features}→{self.out_features})")
        return x

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
        layers, i = self.layers, 0
        while i < len(layers):
            m = layers[i]
            after = layers[i + 1] if i + 1 < len(layers) else None
            # A Linear straight into a ReLU runs as one fused node, F.linear_relu: the same numbers, one array
            # and one graph node fewer (4% of a 784-512-256-10 training step). Not when a forward hook wants
            # to see either module's own output: then each module is called as usual.
            if type(m) is Linear and type(after) is ReLU and not m._forward_hooks and not after._forward_hooks:
                x = F.linear_relu(m._checked(x), m.weight, m.bias)
                i += 2
            else:
                x = m(x)
                i += 1
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
            # A view, not a new owner: built without __setattr__, so the modules keep their labels in self.
            view = Sequential.__new__(Sequential)
            object.__setattr__(view, "layers", self.layers[index])
            return view
        return self.layers[index]


def _check_module(m: object, who: str) -> Module:
    if not isinstance(m, Module):
        raise TypeError(f"{who}: got a {type(m).__name__}, not a Module")
    return m


class ModuleList(Module):
    """A list of modules, as ``torch.nn.ModuleList``: children named "0", "1", ... (``blocks.0.weight``).

    Unlike a plain list attribute, modules appended after it was assigned are named and labelled too.
    It has no forward of its own: iterate over it in the owner's forward.
    """

    def __init__(self, modules: Iterable[Module] = ()) -> None:
        object.__setattr__(self, "_list", [])
        self.extend(modules)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        for i, m in enumerate(self._list):
            yield str(i), m

    def append(self, module: Module) -> ModuleList:
        self._list.append(_check_module(module, "ModuleList.append"))
        self._adopt(module)
        return self

    def extend(self, modules: Iterable[Module]) -> ModuleList:
        new = [_check_module(m, f"ModuleList: item {i}") for i, m in enumerate(modules)]
        self._list.extend(new)
        self._adopt(new)
        return self

    def insert(self, index: int, module: Module) -> None:
        self._list.insert(index, _check_module(module, "ModuleList.insert"))
        self._adopt(module)

    def __setitem__(self, index: int, module: Module) -> None:
        self._list[index] = _check_module(module, "ModuleList")
        self._adopt(module)

    def __len__(self) -> int:
        return len(self._list)

    def __iter__(self) -> Iterator[Module]:
        return iter(self._list)

    def __getitem__(self, index: int | slice) -> Module | ModuleList:
        if isinstance(index, slice):
            view = ModuleList.__new__(ModuleList)  # a view, not a new owner (see Sequential)
            object.__setattr__(view, "_list", self._list[index])
            return view
        return self._list[index]


class ModuleDict(Module):
    """A dict of modules, as ``torch.nn.ModuleDict``: children named by their keys (``heads.left.weight``)."""

    def __init__(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]] = ()) -> None:
        object.__setattr__(self, "_dict", {})
        self.update(modules)

    def named_children(self) -> Iterator[tuple[str, Module]]:
        yield from self._dict.items()

    def update(self, modules: Mapping[str, Module] | Iterable[tuple[str, Module]]) -> None:
        pairs = list(modules.items() if isinstance(modules, Mapping) else modules)
        for key, m in pairs:
            self._dict[_check_key(key)] = _check_module(m, f"ModuleDict[{key!r}]")
        self._adopt([m for _, m in pairs])

    def __setitem__(self, key: str, module: Module) -> None:
        self._dict[_check_key(key)] = _check_module(module, f"ModuleDict[{key!r}]")
        self._adopt(module)

    def __getitem__(self, key: str) -> Module:
        return self._dict[key]

    def __delitem__(self, key: str) -> None:
        del self._dict[key]

    def __contains__(self, key: object) -> bool:
        return key in self._dict

    def __len__(self) -> int:
        return len(self._dict)

    def __iter__(self) -> Iterator[str]:
        return iter(self._dict)

    def keys(self) -> Iterable[str]:
        return self._dict.keys()

    def values(self) -> Iterable[Module]:
        return self._dict.values()

    def items(self) -> Iterable[tuple[str, Module]]:
        return self._dict.items()


def _check_key(key: object) -> str:
    if not isinstance(key, str) or not key or "." in key:
        raise KeyError(f"ModuleDict keys must be non-empty strings without '.', got {key!r}")
    return key


__all__ = ["Dropout", "Linear", "ModuleDict", "ModuleList", "ReLU", "Sequential", "Sigmoid", "Tanh"]
