"""Module: the base of every network here, scalar or tensor, with PyTorch's names.

A module finds its parameters and sub-modules by looking at its own attributes, in the order they were
set: a ``Value``, or a ``Tensor`` with ``requires_grad``, is a parameter; a ``Module`` is a child; a list
or tuple of either is numbered (``w.0``, ``layers.1``). Names join with dots, so ``Sequential``'s first
``Linear`` owns ``0.weight`` and ``0.bias``, exactly as in ``torch.nn.Sequential``.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from autograd.tensor import Tensor
from autograd.value import Value

Parameter = Value | Tensor


def is_parameter(obj: object) -> bool:
    """A trainable leaf: any ``Value``, or a ``Tensor`` that requires grad."""
    return isinstance(obj, Value) or (isinstance(obj, Tensor) and obj.requires_grad)


def zero_grads(params: Iterable[Parameter]) -> None:
    """Forget accumulated gradients: a Value's grad becomes 0.0, a Tensor's becomes None (as in PyTorch)."""
    for p in params:
        if isinstance(p, Value):
            p.grad = 0.0
        else:
            p.grad = None


class Module:
    """Base class: ``parameters()``, ``zero_grad()``, ``state_dict()``, ``train()``/``eval()``.

    Subclasses define ``forward``; calling the module calls it. No ``super().__init__()`` is needed.
    """

    training: bool = True  # class default; train()/eval() set it on each instance

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.forward(*args, **kwargs)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # -- discovery --------------------------------------------------------------------------------

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their attribute names (list items are numbered)."""
        for name, attr in vars(self).items():
            if isinstance(attr, Module):
                yield name, attr
            elif isinstance(attr, (list, tuple)):
                for i, item in enumerate(attr):
                    if isinstance(item, Module):
                        yield f"{name}.{i}", item

    def named_own_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Parameters held directly by this module, not by its children."""
        for name, attr in vars(self).items():
            if is_parameter(attr):
                yield name, attr
            elif isinstance(attr, (list, tuple)):
                for i, item in enumerate(attr):
                    if is_parameter(item):
                        yield f"{name}.{i}", item

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name, each object once."""
        seen: set[int] = set()
        for name, p in self._walk_parameters(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _walk_parameters(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name, p in self.named_own_parameters():
            yield prefix + name, p
        for name, child in self.named_children():
            yield from child._walk_parameters(prefix + name + ".")

    def parameters(self) -> list[Parameter]:
        """All trainable leaves, in a stable order (the order attributes were set)."""
        return [p for _, p in self.named_parameters()]

    def modules(self) -> Iterator[Module]:
        """This module and every module below it."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    # -- training helpers -------------------------------------------------------------------------

    def zero_grad(self) -> None:
        """Reset every parameter's gradient before the next ``backward()``."""
        zero_grads(self.parameters())

    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops); returns self so calls chain."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout passes through); same as ``train(False)``."""
        return self.train(False)

    # -- state ------------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """Name → a copy of the parameter's data (Tensor: its array; Value: a 0-d float64 array)."""
        return {name: np.array(p.data, copy=True) for name, p in self.named_parameters()}

    def load_state_dict(self, state: dict[str, Any], strict: bool = True) -> None:
        """Copy ``state`` into the parameters in place, keeping each parameter's dtype.

        Raises KeyError naming missing or unexpected keys (when ``strict``) and ValueError naming both
        shapes when one does not match. Nothing is changed unless every entry fits.
        """
        params = dict(self.named_parameters())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        arrays = {}
        for name, p in params.items():
            if name not in state:
                continue
            arr = np.asarray(state[name])
            if arr.shape != np.shape(p.data):
                raise ValueError(
                    f"load_state_dict: '{name}' has shape {arr.shape} in the state dict "
                    f"but {np.shape(p.data)} in the model"
                )
            arrays[name] = arr
        for name, arr in arrays.items():  # every check passed: now write
            p = params[name]
            if isinstance(p, Value):
                p.data = float(arr)
            else:
                p.data[...] = arr

    # -- display ----------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The part inside the parentheses of this module's own line (e.g. sizes)."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)
