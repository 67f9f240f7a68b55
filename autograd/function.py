"""Function: an op you write yourself, forward and hand-derived backward — PyTorch's ``torch.autograd.Function``.

    class Swish(Function):                      # y = x·σ(x)
        @staticmethod
        def forward(ctx, x):                    # x: an ndarray (Tensor engine) or a float (Value engine)
            s = 1 / (1 + np.exp(-x))
            ctx.save_for_backward(x, s)
            return x * s
        @staticmethod
        def backward(ctx, grad_out):            # dL/dy: an ndarray or a float, like forward's output
            x, s = ctx.saved_tensors
            return grad_out * (s + x * s * (1 - s))   # dL/dx = dL/dy · σ(1 + x(1 − σ)), one per input

    y = Swish.apply(x)                          # a Tensor in, a Tensor out; a Value in, a Value out

``forward`` sees the inputs' numbers (``.data``), never the graph, so nothing inside it is recorded; other
arguments (an axis, a constant) are passed through as they are. ``backward`` returns one gradient per
argument of ``forward`` (None where there is none); a wrong count, or a gradient of the wrong shape, is an
error naming the Function. A wrong *value* is what ``gradcheck`` and ``audit`` are for.

In the graph a Function is one node: its ``op`` is the class name (``"Swish"``) and its ``inputs`` are the
Tensor (or Value) arguments. The backward closure of a Tensor node carries the ctx as ``backward.ctx``; a
Value node has ``_op == "function"``, ``_a`` = the input Values and ``_b`` = the ctx.
"""
from __future__ import annotations

import inspect
import numbers
from typing import Any

import numpy as np

from . import value as _value
from .check.compare import shape_hint
from .graph import no_grad
from .check.sites import user_site
from .tensor import Tensor
from .value import Value


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: ``save_for_backward(...)``/``saved_tensors``,
    ``needs_input_grad`` (one bool per argument), and any attribute you set on it (``ctx.axis = 1``)."""

    def __init__(self, function: type[Function], args: tuple[Any, ...]) -> None:
        self.function = function  # the Function subclass
        self.args = args  # forward's arguments as given to apply (Tensors/Values and the rest)
        self.needs_input_grad = tuple(
            isinstance(a, Value) or (isinstance(a, Tensor) and a.requires_grad) for a in args
        )
        self.site = user_site()  # where apply was called: file:line for audit and anomaly reports
        self._saved: tuple[Any, ...] = ()

    def save_for_backward(self, *values: Any) -> None:
        """Keep arrays (or floats) for backward; read them back from ``saved_tensors``."""
        self._saved = values

    @property
    def saved_tensors(self) -> tuple[Any, ...]:
        return self._saved

    @property
    def name(self) -> str:
        return self.function.__name__

    def _value_backward(self, out: Value) -> None:
        """The Value engine's backward for a Function node (``_BACKWARD["function"]`` calls this)."""
        for a, g in zip(self.args, _gradients(self, out.grad)):
            if g is not None:
                a.grad += g


class Function:
    """Subclass it with ``@staticmethod forward(ctx, *inputs)`` and ``backward(ctx, grad_out)``;
    call ``YourFunction.apply(*inputs)``. See the module docstring for an example."""

    @staticmethod
    def forward(ctx: FunctionCtx, *inputs: Any) -> Any:
        raise NotImplementedError("a Function subclass must define @staticmethod forward(ctx, *inputs)")

    @staticmethod
    def backward(ctx: FunctionCtx, grad_output: Any) -> Any:
        raise NotImplementedError("a Function subclass must define @staticmethod backward(ctx, grad_output)")

    @classmethod
    def apply(cls, *args: Any) -> Tensor | Value:
        """Run ``forward`` on the inputs' numbers and return a graph node whose backward is yours."""
        if cls is Function:
            raise TypeError("Function.apply: subclass Function and call YourFunction.apply(...)")
        tensors = any(isinstance(a, Tensor) for a in args)
        values = any(isinstance(a, Value) for a in args)
        if tensors and values:
            raise TypeError(f"{cls.__name__}.apply: got both Tensors and Values; a Function works on one engine at a time")
        if not (tensors or values):
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor or Value input, got {_kinds(args)}")
        ctx = FunctionCtx(cls, args)
        raw = tuple(a.data if isinstance(a, (Tensor, Value)) else a for a in args)
        with no_grad():
            out = cls.forward(ctx, *raw)
        if tensors:
            return _tensor_node(ctx, out)
        return _value_node(ctx, out)


def _tensor_node(ctx: FunctionCtx, out: Any) -> Tensor:
    name = ctx.name
    if isinstance(out, Tensor):
        out = out.data
    if isinstance(out, (tuple, list)):
        raise TypeError(f"{name}.forward returned a {type(out).__name__}; return one array (one output only)")
    data = np.asarray(out)
    if data.dtype.kind != "f":
        raise TypeError(f"{name}.forward returned dtype {data.dtype}; return floating-point data")
    args = ctx.args
    slots = [i for i, a in enumerate(args) if isinstance(a, Tensor)]

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        grads = _gradients(ctx, g)
        return tuple(grads[i] for i in slots)

    backward.ctx = ctx  # audit replays the forward from it; draw_dot and reports name the Function from it
    return Tensor._make(data, tuple(args[i] for i in slots), backward, name)


def _value_node(ctx: FunctionCtx, out: Any) -> Value:
    if isinstance(out, Value):
        out = out.data
    if not _is_real(out):
        raise TypeError(
            f"{ctx.name}.forward returned a {type(out).__name__}; with Value inputs forward returns one number"
        )
    inputs = tuple(a for a in ctx.args if isinstance(a, Value))
    # Looked up on the module at call time: anomaly mode and audit swap in a recording _make.
    return _value._make(float(out), "function", inputs, ctx)


def _gradients(ctx: FunctionCtx, grad_out: Any) -> list[Any]:
    """Call the user's backward and check what it returns: one gradient per forward argument, each shaped
    like its input (cast to its dtype), None for arguments that are not Tensors/Values."""
    fn, args = ctx.function, ctx.args
    got = fn.backward(ctx, grad_out)
    if not isinstance(got, (tuple, list)):
        got = (got,)
    if len(got) != len(args):
        raise TypeError(
            f"{fn.__name__}.backward returned {len(got)} gradient(s), but {fn.__name__}.forward takes "
            f"{len(args)} input(s) ({', '.join(_arg_names(fn, len(args)))}); return one gradient per input "
            "of forward, in order, with None for those that have none"
        )
    grads: list[Any] = []
    for i, (a, g) in enumerate(zip(args, got)):
        if g is None:
            grads.append(None)
            continue
        if not isinstance(a, (Tensor, Value)):
            raise TypeError(
                f"{fn.__name__}.backward returned a gradient for {_input_name(fn, i, len(args))}, which is a "
                f"{type(a).__name__}, not a Tensor or Value; return None there"
            )
        if isinstance(g, (Tensor, Value)):
            g = g.data
        if isinstance(a, Value):
            if np.ndim(g) != 0 or not _is_real(np.asarray(g).item()):
                raise TypeError(f"{fn.__name__}.backward returned {type(g).__name__} for "
                                f"{_input_name(fn, i, len(args))}; a Value's gradient is one number")
            grads.append(float(g))
            continue
        arr = np.asarray(g)
        if arr.shape != a.shape:
            hint = shape_hint(arr.shape, a.shape, what="gradient", against="input")
            raise ValueError(
                f"{fn.__name__}.backward returned a gradient of shape {arr.shape} for "
                f"{_input_name(fn, i, len(args))} of shape {a.shape}; it must have the input's shape ({hint})"
            )
        grads.append(arr if arr.dtype == a.data.dtype else arr.astype(a.data.dtype))
    return grads


def _arg_names(fn: type[Function], n: int) -> list[str]:
    """forward's parameter names after ctx (x, weight, ...), padded with 'arg i' for *args."""
    try:
        params = list(inspect.signature(fn.forward).parameters.values())[1:]
    except (TypeError, ValueError):
        params = []
    names = [p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    return (names + [f"arg {i}" for i in range(len(names), n)])[:n]


def _input_name(fn: type[Function], i: int, n: int) -> str:
    """'input 1 (weight)', for an error message only: reading forward's signature costs more than a backward."""
    return f"input {i} ({_arg_names(fn, n)[i]})"


def _kinds(args: tuple[Any, ...]) -> str:
    return "(" + ", ".join(type(a).__name__ for a in args) + ")"


def _is_real(x: object) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)
