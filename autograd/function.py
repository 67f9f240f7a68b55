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
Tensor (or Value) arguments. The backward rule of a Tensor node carries the ctx as ``backward.ctx``; a
Value node has ``_op == "function"``, ``_a`` = the input Values and ``_b`` = the ctx.

Differentiating twice (``backward(create_graph=True)``, ``autograd.grad``). Your backward then receives
``grad_out`` as a Tensor (or Value), and ``saved_tensors`` hands back the *inputs and output themselves* in place
of their numbers; written with library operations (``grad_out * s * (1 - s)``, ``x.exp()``), it builds a graph
that can be differentiated again. Something only NumPy or ``math`` knows cannot be: a backward that converts a
Tensor to an array, returns an array, or relies on an intermediate array saved in forward raises an error that
says so. Mark such a backward ``@once_differentiable`` to say it is first-order only (as in PyTorch).
"""
from __future__ import annotations

import inspect
import numbers
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .graph import Replay, grad_mode, no_grad
from .tensor import Tensor, summed_axes
from .value import Value
from .value import _make as make_value


class FunctionCtx:
    """What ``forward`` leaves for ``backward``: ``save_for_backward(...)``/``saved_tensors``,
    ``needs_input_grad`` (one bool per argument), and any attribute you set on it (``ctx.axis = 1``)."""

    def __init__(self, function: type[Function], args: tuple[Any, ...]) -> None:
        self.function = function  # the Function subclass
        self.args = args  # forward's arguments as given to apply (Tensors/Values and the rest)
        self.needs_input_grad = tuple(
            isinstance(a, Value) or (isinstance(a, Tensor) and a.requires_grad) for a in args
        )
        self._saved: tuple[Any, ...] = ()
        self._output: Any = None  # what forward returned, as it returned it: saved_tensors may hold it

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
        """The Value engine's backward rule for a Function node (``_BACKWARD["function"]`` calls it): each input in
        ``out._a`` (the node's own inputs, or the stand-ins a create_graph pass runs the rule on) gets its share."""
        lifted = type(out.data) is Value  # a create_graph pass: the stand-ins carry the Values themselves
        if lifted:
            grads = _lifted_gradients(self, out.grad, out.data, [x.data for x in out._a])
        else:
            grads = _gradients(self, out.grad)
        shares = [g for a, g in zip(self.args, grads) if isinstance(a, Value)]
        for x, g in zip(out._a, shares):
            if g is not None:
                x.grad += g


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
            raise TypeError(f"{cls.__name__}.apply: got both Tensors and Values; "
                            "a Function works on one engine at a time")
        if not (tensors or values):
            raise TypeError(f"{cls.__name__}.apply needs at least one Tensor or Value input, got {_kinds(args)}")
        ctx = FunctionCtx(cls, args)
        raw = tuple(a.data if isinstance(a, (Tensor, Value)) else a for a in args)
        with no_grad():
            out = cls.forward(ctx, *raw)
        ctx._output = out  # a float forward returned becomes a new float in the Value: matched by this identity
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

    def backward(xp: Any, g: Any, out: Any, *inputs: Any) -> tuple[Any, ...]:
        grads = _lifted_gradients(ctx, g, out, inputs) if xp.graph else _gradients(ctx, g)
        return tuple(grads[i] for i in slots)

    backward.ctx = ctx  # audit replays the forward from it; draw_dot and reports name the Function from it
    return Tensor.from_op(data, tuple(args[i] for i in slots), backward, name, Replay(ctx.function.apply, args))


def _value_node(ctx: FunctionCtx, out: Any) -> Value:
    if isinstance(out, Value):
        out = out.data
    if not _is_real(out):
        raise TypeError(
            f"{ctx.name}.forward returned a {type(out).__name__}; with Value inputs forward returns one number"
        )
    inputs = tuple(a for a in ctx.args if isinstance(a, Value))
    return make_value(float(out), "function", inputs, ctx)


def _gradients(ctx: FunctionCtx, grad_out: Any) -> list[Any]:
    """Call the user's backward and check what it returns: one gradient per forward argument, each shaped
    like its input (cast to its dtype), None for arguments that are not Tensors/Values."""
    fn, args = ctx.function, ctx.args
    got = fn.backward(ctx, grad_out)
    if not isinstance(got, (tuple, list)):
        got = (got,)
    _check_count(fn, got, args)
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
            hint = _shape_hint(arr.shape, a.shape)
            raise ValueError(
                f"{fn.__name__}.backward returned a gradient of shape {arr.shape} for "
                f"{_input_name(fn, i, len(args))} of shape {a.shape}; it must have the input's shape ({hint})"
            )
        grads.append(arr if arr.dtype == a.data.dtype else arr.astype(a.data.dtype))
    return grads


def _lifted_gradients(ctx: FunctionCtx, grad_out: Any, out: Any, inputs: Sequence[Any]) -> list[Any]:
    """The user's backward run to build a graph (create_graph): ``grad_out``, and in ``saved_tensors`` the node's
    inputs and output themselves in place of their numbers. Refuses, naming the Function, whatever would make
    the result silently constant in its inputs: an intermediate array saved in forward, a conversion to NumPy,
    a gradient returned as an array or a plain number."""
    fn = ctx.function
    name = fn.__name__
    if getattr(fn.backward, "once_differentiable", False):
        raise RuntimeError(f"{name}.backward is marked @once_differentiable: it cannot be differentiated again "
                           "(create_graph=True, autograd.grad(..., create_graph=True), gradgradcheck)")
    numbers = {id(out_number(out)): out}
    if ctx._output is not None:
        numbers[id(ctx._output)] = out
    graph_inputs = iter(inputs)
    passed = set()  # numbers the caller passed to apply as constants (a scale k): constants in backward too
    for a in ctx.args:
        if isinstance(a, (Tensor, Value)):
            node = next(graph_inputs)
            numbers[id(out_number(node))] = node
        else:
            passed.add(id(a))
    lifted = []
    for i, item in enumerate(ctx._saved):
        if id(item) in numbers:
            lifted.append(numbers[id(item)])
        elif _is_float_data(item) and id(item) not in passed:
            raise RuntimeError(
                f"{name}.backward cannot be differentiated again: saved_tensors[{i}] is a number computed in forward "
                f"({_describe(item)}), not an input or the output, so under create_graph=True it would be a "
                f"constant and the second derivative silently wrong. Save the inputs or the output and compute the "
                f"rest in backward with Tensor/Value operations, or mark backward @once_differentiable"
            )
        else:
            lifted.append(item)
    for attr, item in vars(ctx).items():
        if not attr.startswith("_") and attr not in ("function", "args", "needs_input_grad") and \
                _is_float_data(item) and id(item) not in numbers and id(item) not in passed:
            raise RuntimeError(
                f"{name}.backward cannot be differentiated again: ctx.{attr} holds a number computed in forward "
                f"({_describe(item)}), which under create_graph=True would be a constant. Compute it in backward "
                f"from saved_tensors with Tensor/Value operations, or mark backward @once_differentiable"
            )
    saved, ctx._saved = ctx._saved, tuple(lifted)
    grad_mode.numbers_refused_by = name  # Tensor.__array__ and float(Value) refuse meanwhile
    try:
        got = fn.backward(ctx, grad_out)
    finally:
        ctx._saved = saved
        grad_mode.numbers_refused_by = None
    got = got if isinstance(got, (tuple, list)) else (got,)
    grads = _check_count(fn, got, ctx.args)
    for i, (a, g) in enumerate(zip(ctx.args, grads)):
        if g is None:
            continue
        kind = Tensor if isinstance(a, Tensor) else Value
        if not isinstance(g, kind):
            raise RuntimeError(
                f"{name}.backward returned a {type(g).__name__} for {_input_name(fn, i, len(ctx.args))} under "
                f"create_graph=True: computed outside the graph (with NumPy or math?), it cannot be differentiated "
                f"again. Compute it with {kind.__name__} operations on grad_out and saved_tensors, or mark backward "
                f"@once_differentiable"
            )
        if kind is Tensor and g.shape != a.shape:
            raise ValueError(f"{name}.backward returned a gradient of shape {g.shape} for "
                             f"{_input_name(fn, i, len(ctx.args))} of shape {a.shape}; it must have the input's shape")
    return grads


def out_number(node: Any) -> Any:
    """The number(s) a graph node holds (``.data``)."""
    return node.data


def _is_float_data(item: Any) -> bool:
    """A float array or number (NumPy's float64 scalars too: np.exp of a Value's float gives one)."""
    return (isinstance(item, np.ndarray) and item.dtype.kind == "f") or isinstance(item, (float, np.floating))


def _describe(item: Any) -> str:
    return f"an array of shape {item.shape}" if isinstance(item, np.ndarray) else f"the float {item!r}"


def _check_count(fn: type[Function], got: Sequence[Any], args: tuple[Any, ...]) -> list[Any]:
    if len(got) != len(args):
        raise TypeError(
            f"{fn.__name__}.backward returned {len(got)} gradient(s), but {fn.__name__}.forward takes "
            f"{len(args)} input(s) ({', '.join(_arg_names(fn, len(args)))}); return one gradient per input "
            "of forward, in order, with None for those that have none"
        )
    return list(got)


def once_differentiable(backward: Callable[..., Any]) -> Callable[..., Any]:
    """Mark a Function's ``backward`` as first-order only (PyTorch's ``once_differentiable``): differentiating it
    again (create_graph) raises an error naming the Function instead of computing something wrong."""
    backward.once_differentiable = True
    return backward


def _shape_hint(got: tuple[int, ...], want: tuple[int, ...]) -> str:
    """Why a returned gradient's shape may be wrong: transposed, or an unsummed broadcast."""
    if len(got) == len(want) == 2 and got == want[::-1]:
        return "transposed?"
    axes = summed_axes(got, want)
    if axes:
        return f"sum over axis {axes[0]}?" if len(axes) == 1 else f"sum over axes {axes}?"
    return "the shapes do not match"


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
