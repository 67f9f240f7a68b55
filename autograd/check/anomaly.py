"""detect_anomaly: stop at the first op whose forward output or backward gradient is NaN or ±inf.

    with detect_anomaly():
        loss = model_loss(x, y)      # an op making NaN/inf here raises AnomalyError at once
        loss.backward()              # and so does a backward producing a NaN/inf gradient

The error names the op, summarises its inputs, gives the line of user code that created the op, and says
whether the op *produced* the non-finite number from finite inputs (the culprit) or only passed one along
(its input was already NaN/inf: look further back, at the data or at an op made outside the block).

Free outside the block: nothing on the engines' hot paths tests a flag. Entering swaps in checking versions
of the node constructors both engines call by name (``autograd.value._make``, ``Tensor._make``) and of the
Value engine's backward table (``autograd.value._BACKWARD``); leaving puts the originals back. A Tensor
node made inside the block gets a checking wrapper around its backward closure, so its backward is checked
even if ``backward()`` runs after the block.
"""
from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from contextlib import ContextDecorator
from typing import Any, Self

import numpy as np

from .. import value as _value
from .sites import Site, user_site
from ..tensor import Tensor


class AnomalyError(RuntimeError):
    """A NaN or ±inf appeared. ``op`` (its name), ``phase`` ('forward' or 'backward'), ``culprit`` (True if
    the op made it from finite numbers), ``site`` (where user code created the op, or None)."""

    def __init__(self, message: str, op: str, phase: str, culprit: bool, site: Site | None) -> None:
        super().__init__(message)
        self.op, self.phase, self.culprit, self.site = op, phase, culprit, site


class detect_anomaly(ContextDecorator):
    """``with detect_anomaly():`` — raise ``AnomalyError`` at the first non-finite forward value or gradient.

    Works for Value and Tensor graphs and as a decorator. ``check_nan=False`` turns it into a no-op
    (PyTorch's signature).
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._saved: list[tuple[Any, Any, Any]] = []

    def __enter__(self) -> Self:
        if not self.check_nan:
            return self
        tensor_make = Tensor.__dict__["_make"]  # the staticmethod object itself, restored as it was
        self._saved.append((_value._make, tensor_make, _value._BACKWARD))
        sites: dict[int, tuple[Any, Site | None]] = {}  # Value nodes have no room for a site: keep it here
        _value._make = _checked_value_make(_value._make, sites)
        _value._BACKWARD = _checked_value_table(_value._BACKWARD, sites)
        Tensor._make = staticmethod(_checked_tensor_make(Tensor._make))
        return self

    def __exit__(self, *exc: object) -> None:
        if not self.check_nan:
            return
        _value._make, tensor_make, _value._BACKWARD = self._saved.pop()
        Tensor._make = tensor_make


# -- Tensor engine ------------------------------------------------------------------------------------


def _checked_tensor_make(inner: Callable[..., Tensor]) -> Callable[..., Tensor]:
    def _make(data: np.ndarray, parents: tuple[Tensor, ...], backward: Callable, op: str) -> Tensor:
        site = user_site(2)
        arr = np.asarray(data)
        if arr.dtype.kind == "f" and not np.isfinite(arr).all():
            inputs = [p.data for p in parents]
            culprit = all(_finite(x) for x in inputs)
            raise AnomalyError(_message("forward", op, _bad(arr), culprit, site, inputs), op, "forward", culprit, site)
        return inner(data, parents, _checked_backward(backward, op, site, parents), op)

    return _make


def _checked_backward(backward: Callable, op: str, site: Site | None, parents: tuple[Tensor, ...]) -> Callable:
    def checked(g: np.ndarray) -> Sequence[np.ndarray | None]:
        grads = backward(g)
        for i, pg in enumerate(grads):
            if pg is not None and not _finite(pg):
                culprit = _finite(g)
                what = f"{_bad(np.asarray(pg))} in the gradient for input {i}"
                inputs = [p.data for p in parents] + [g]
                raise AnomalyError(_message("backward", op, what, culprit, site, inputs, incoming=True),
                                   op, "backward", culprit, site)
        return grads

    return functools.update_wrapper(checked, backward)  # keeps attributes such as a Function's .ctx


# -- Value engine ---------------------------------------------------------------------------------------


def _checked_value_make(inner: Callable[..., Any], sites: dict[int, tuple[Any, Site | None]]) -> Callable[..., Any]:
    def _make(data: float, op: str, a: Any, b: Any = None) -> Any:
        site = user_site(2)
        if not math.isfinite(data):
            name = _value._op_name(op, b)
            inputs = [v.data for v in _value._operands(a, b)]
            culprit = all(map(math.isfinite, inputs))
            raise AnomalyError(_message("forward", name, repr(data), culprit, site, inputs), name, "forward", culprit, site)
        out = inner(data, op, a, b)
        if out._op:
            sites[id(out)] = (out, site)  # the node itself too: its id is not reused while it is kept here
        return out

    return _make


def _checked_value_table(table: dict[str, Callable], sites: dict[int, tuple[Any, Site | None]]) -> dict[str, Callable]:
    def checking(backward: Callable) -> Callable:
        def checked(node: Any) -> None:
            ins = _value._operands(node._a, node._b)
            before = [v.grad for v in ins]
            backward(node)
            for i, (v, g0) in enumerate(zip(ins, before)):
                if not math.isfinite(v.grad) and math.isfinite(g0):
                    culprit = math.isfinite(node.grad)
                    name = node.op
                    entry = sites.get(id(node))
                    site = entry[1] if entry is not None and entry[0] is node else None
                    what = f"{v.grad!r} in the gradient for input {i}"
                    inputs = [x.data for x in ins] + [node.grad]
                    raise AnomalyError(_message("backward", name, what, culprit, site, inputs, incoming=True),
                                       name, "backward", culprit, site)

        return checked

    return {op: checking(fn) for op, fn in table.items()}


# -- messages -------------------------------------------------------------------------------------------


def _finite(x: Any) -> bool:
    if isinstance(x, np.ndarray):
        return x.dtype.kind != "f" or bool(np.isfinite(x).all())
    return math.isfinite(x) if isinstance(x, (int, float)) else bool(np.isfinite(np.asarray(x)).all())


def _bad(arr: np.ndarray) -> str:
    """'-inf (3 of 640 elements)' or 'nan'."""
    if arr.size == 1:
        return repr(float(arr.reshape(-1)[0]))
    kinds = [k for k, n in (("nan", np.isnan(arr).sum()), ("inf", np.isposinf(arr).sum()), ("-inf", np.isneginf(arr).sum())) if n]
    count = int((~np.isfinite(arr)).sum())
    return f"{'/'.join(kinds)} ({count} of {arr.size} elements)"


def _describe(x: Any) -> str:
    """A short summary of one input: the number, or shape, dtype, range and the zeros/NaN/inf in it."""
    if not isinstance(x, np.ndarray) or x.size == 1:
        return repr(float(np.asarray(x).reshape(-1)[0])) if np.size(x) == 1 else repr(x)
    text = f"array {tuple(x.shape)} {x.dtype}"
    if x.dtype.kind != "f" or x.size == 0:
        return text
    finite = x[np.isfinite(x)]
    if finite.size:
        text += f", min {finite.min():.4g}, max {finite.max():.4g}"
    extras = [f"{n} {k}" for k, n in (("zeros", int((x == 0).sum())), ("nan", int(np.isnan(x).sum())),
                                      ("inf", int(np.isinf(x).sum()))) if n]
    return text + (", " + ", ".join(extras) if extras else "")


def _message(phase: str, op: str, what: str, culprit: bool, site: Site | None, inputs: list[Any],
             incoming: bool = False) -> str:
    source = "a finite incoming gradient" if incoming else "finite inputs"
    if culprit:
        verdict = f"from {source}: this op is the culprit"
    else:
        verdict = "but an input was already NaN/inf: this op only passed it along (look further back)"
    lines = [f"{phase} of '{op}' produced {what} {verdict}"]
    lines.append(f"  created at {site}" if site else "  created at: unknown (outside user code)")
    names = [f"input {i}" for i in range(len(inputs) - incoming)] + (["incoming gradient"] if incoming else [])
    lines += [f"  {name}: {_describe(x)}" for name, x in zip(names, inputs)]
    return "\n".join(lines)
