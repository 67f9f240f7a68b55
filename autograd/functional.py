"""Derivatives as functions: ``autograd.grad``, and ``jacobian``, ``hessian``, ``vjp``, ``jvp``, ``hvp``, ``vhp``
with ``torch.autograd.functional``'s signatures.

``grad(outputs, inputs)`` is the engine's backward pass returned instead of stored: d(Σ ⟨vᵢ, outputᵢ⟩)/d input
for each input, touching no ``.grad``. With ``create_graph=True`` the gradients are themselves Values/Tensors in a
graph (every backward rule is written once, for numbers and for the engine's own values: see ``autograd.tensor``
and ``autograd.value``), so they can be differentiated again, to any order:

    x = Tensor(np.array(0.5), requires_grad=True)
    (dy,) = grad(x.tanh(), x, create_graph=True)   # 1 − tanh²x, a Tensor in a graph
    (d2y,) = grad(dy, x)                           # −2 tanh x (1 − tanh²x)

The functional forms take a function of Tensors and build everything from ``grad``:

    jacobian(f, x)   ∂f/∂x, shaped f(x).shape + x.shape       one backward pass per output element
    hessian(f, x)    ∂²f/∂x², shaped x.shape + x.shape        ``jacobian`` of ``grad``; symmetric to rounding
    vjp(f, x, v)     vᵀ·∂f/∂x                                  one backward pass
    jvp(f, x, v)     ∂f/∂x·v                                   two passes: the backward of a backward, which is
                                                               linear in its seed u, is differentiated in u
    hvp(f, x, v)     H·v = ∂(∇f·v)/∂x                          two passes, never the whole Hessian
    vhp(f, x, v)     vᵀ·H (the same numbers as hvp: H is symmetric)

As in PyTorch, ``inputs`` is a Tensor or a tuple of Tensors (the function is called with them as arguments), and
the results mirror that structure. The inputs are taken as new leaves, so nothing you hold changes; with
``create_graph=True`` an input that requires grad stays connected (as in PyTorch), so the result can be
differentiated with respect to it.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .graph import enable_grad, no_grad
from .tensor import Tensor, _constant, _seed, stack
from .tensor import gradients as tensor_gradients
from .value import Value, _lift, seed_for
from .value import gradients as value_gradients

Node = Tensor | Value


def grad(outputs: Node | Sequence[Node], inputs: Node | Sequence[Node],
         grad_outputs: object | Sequence[object] | None = None, retain_graph: bool | None = None,
         create_graph: bool = False, allow_unused: bool = False) -> tuple[Node | None, ...]:
    """The gradients of ``outputs`` with respect to ``inputs``, as ``torch.autograd.grad``.

    ``grad_outputs``: the vector v in vᵀ·J for each output (like ``backward(gradient)``); may be left out for
    one-element outputs. Returns one gradient per input, in order, as Tensors (Values for the scalar engine);
    ``None`` for an input the outputs do not depend on when ``allow_unused=True`` (otherwise that is an error).
    ``create_graph=True`` returns gradients that are part of a graph, to differentiate again. No ``.grad`` is
    touched. ``retain_graph`` is accepted for PyTorch's signature: graphs here are always kept.
    """
    outs = _as_tuple(outputs, "outputs")
    ins = _as_tuple(inputs, "inputs")
    vs = (None,) * len(outs) if grad_outputs is None else _as_tuple(grad_outputs, "grad_outputs", allow_none=True)
    if len(vs) != len(outs):
        raise ValueError(f"grad: {len(vs)} grad_outputs for {len(outs)} outputs; give one per output")
    engines = {type(x) for x in outs + ins} - {type(None)}
    if engines == {Value}:
        return _value_grad(outs, ins, vs, create_graph, allow_unused)
    if engines == {Tensor}:
        return _tensor_grad(outs, ins, vs, create_graph, allow_unused)
    raise TypeError("grad: outputs and inputs must be all Tensors or all Values, got "
                    + ", ".join(sorted(t.__name__ for t in engines)))


def _tensor_grad(outs: tuple[Tensor, ...], ins: tuple[Tensor, ...], vs: tuple[object, ...], create_graph: bool,
                 allow_unused: bool) -> tuple[Tensor | None, ...]:
    for i, x in enumerate(ins):
        if not x.requires_grad:
            raise RuntimeError(f"grad: input {i} does not require grad (make it with requires_grad=True)")
    seeds = []
    for i, (y, v) in enumerate(zip(outs, vs)):
        if not y.requires_grad:
            raise RuntimeError(f"grad: output {i} does not require grad: it does not depend on any input that does")
        if v is None and y.data.size != 1:
            raise RuntimeError(f"grad: output {i} has shape {y.shape}; a gradient can be implied only for a "
                               "one-element output: pass grad_outputs (v in vᵀ·J, shaped like the output)")
        seeds.append(_seed(y, v, "grad"))
    found = tensor_gradients(outs, seeds, create_graph)
    # First order gives numbers: returned as constants (compare reads their numbers, not a .grad).
    return _picked(found, ins, allow_unused,
                   lambda g, x: g if isinstance(g, Tensor) else _constant(np.asarray(g, dtype=x.data.dtype)))


def _value_grad(outs: tuple[Value, ...], ins: tuple[Value, ...], vs: tuple[object, ...], create_graph: bool,
                allow_unused: bool) -> tuple[Value | None, ...]:
    seeds = [seed_for(v, create_graph) for v in vs]
    with enable_grad() if create_graph else no_grad():
        found = value_gradients(outs, seeds, create_graph)
    return _picked(found, ins, allow_unused, lambda g, x: g if isinstance(g, Value) else _lift(g))


def _picked(found: dict[int, tuple[Node, Any]], ins: tuple[Node, ...], allow_unused: bool,
            as_node: Callable[[Any, Node], Node]) -> tuple[Node | None, ...]:
    """Each input's gradient from a backward pass's ``found`` (by id), as a node; None (or an error) if unused."""
    return tuple(_unused(i, allow_unused, x) if id(x) not in found else as_node(found[id(x)][1], x)
                 for i, x in enumerate(ins))


def _unused(i: int, allow_unused: bool, x: Node) -> None:
    if not allow_unused:
        raise RuntimeError(f"grad: input {i} ({x.label or 'unlabelled'}) was not used to compute the outputs; pass "
                           "allow_unused=True to get None for it")
    return None


def _as_tuple(x: object, what: str, allow_none: bool = False) -> tuple[Any, ...]:
    if isinstance(x, (Tensor, Value)) or (allow_none and not isinstance(x, (list, tuple))):
        return (x,)
    if isinstance(x, (list, tuple)):
        return tuple(x)
    raise TypeError(f"grad: {what} must be a Tensor/Value or a sequence of them, got {type(x).__name__}")


# -- torch.autograd.functional ---------------------------------------------------------------------------


def vjp(func: Callable[..., Any], inputs: Tensor | Sequence[Tensor], v: object = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), vᵀ·J): the vector-Jacobian product, one backward pass. ``v`` shaped like the output (may be
    left out for a one-element output)."""
    xs, single = _leaves(inputs, create_graph)
    with enable_grad():
        out = func(*xs)
    outs, _ = _outputs(out, "vjp")
    vs = _vectors(v, outs, "v", "vjp")
    grads = _grads_or_zeros(outs, xs, vs, create_graph, strict, "vjp")
    return _result(out, create_graph), _shaped(grads, single)


def jvp(func: Callable[..., Any], inputs: Tensor | Sequence[Tensor], v: object = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), J·v): the Jacobian-vector product. Computed with two reverse passes, as PyTorch does: the
    backward pass g(u) = uᵀ·J is linear in its seed u, and J·v = ∂⟨g(u), v⟩/∂u."""
    xs, _ = _leaves(inputs, create_graph)
    vs_in = _vectors(v, xs, "v", "jvp")
    with enable_grad():
        out = func(*xs)
    outs, single_out = _outputs(out, "jvp")
    us = tuple(Tensor(np.zeros(o.shape, dtype=o.dtype), requires_grad=True) for o in outs)
    gs = _grads_or_zeros(outs, xs, us, True, strict, "jvp")
    pairs = [(g, vi) for g, vi in zip(gs, vs_in) if g.requires_grad]
    if not pairs:
        result = tuple(Tensor(np.zeros(o.shape, dtype=o.dtype)) for o in outs)
    else:
        result = grad([g for g, _ in pairs], us, [vi for _, vi in pairs], create_graph=create_graph,
                      allow_unused=True)
        result = tuple(Tensor(np.zeros(o.shape, dtype=o.dtype)) if r is None else r for r, o in zip(result, outs))
    return _result(out, create_graph), (result[0] if single_out else result)


def jacobian(func: Callable[..., Any], inputs: Tensor | Sequence[Tensor], create_graph: bool = False,
             strict: bool = False, vectorize: bool = False, strategy: str = "reverse-mode") -> Any:
    """∂func/∂inputs, one backward pass per output element: a Tensor shaped output.shape + input.shape for one
    input and one output; tuples (per output, then per input) otherwise, as PyTorch returns them.
    ``vectorize`` and ``strategy`` are accepted for PyTorch's signature (reverse mode, one row at a time)."""
    if strategy != "reverse-mode":
        raise NotImplementedError(f"jacobian: strategy={strategy!r}; only 'reverse-mode' is implemented")
    xs, single = _leaves(inputs, create_graph)
    with enable_grad():
        out = func(*xs)
    outs, single_out = _outputs(out, "jacobian")
    blocks = [_jacobian_rows(o, xs, create_graph, strict) for o in outs]
    per_output = [blk[0] if single else tuple(blk) for blk in blocks]
    return per_output[0] if single_out else tuple(per_output)


def hessian(func: Callable[..., Any], inputs: Tensor | Sequence[Tensor], create_graph: bool = False,
            strict: bool = False, vectorize: bool = False, outer_jacobian_strategy: str = "reverse-mode") -> Any:
    """∂²func/∂inputs² for a function with one-element output: shaped input.shape + input.shape (a tuple of tuples
    for several inputs, block [i][j] = ∂²f/∂xᵢ∂xⱼ). The Jacobian of the gradient; symmetric to rounding."""
    xs, single = _leaves(inputs, create_graph)

    def gradient(*args: Tensor) -> tuple[Tensor, ...]:
        out = func(*args)
        outs, _ = _outputs(out, "hessian")
        if len(outs) != 1 or outs[0].data.size != 1:
            raise RuntimeError(f"hessian: the function must return one one-element Tensor, got shape "
                               f"{outs[0].shape if len(outs) == 1 else [o.shape for o in outs]}")
        return _grads_or_zeros(outs, args, (None,), True, strict, "hessian")

    with enable_grad():
        gs = gradient(*xs)
    blocks = [_jacobian_rows(g, xs, create_graph, strict) for g in gs]
    if single:
        return blocks[0][0]
    return tuple(tuple(row) for row in blocks)


def hvp(func: Callable[..., Any], inputs: Tensor | Sequence[Tensor], v: object = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), H·v) for a function with one-element output: two backward passes, never the whole Hessian
    (∂(∇f · v)/∂x). ``v`` shaped like the inputs."""
    return _second_order(func, inputs, v, create_graph, strict, "hvp")


def vhp(func: Callable[..., Any], inputs: Tensor | Sequence[Tensor], v: object = None, create_graph: bool = False,
        strict: bool = False) -> tuple[Any, Any]:
    """(func(inputs), vᵀ·H): the same numbers as ``hvp`` (a Hessian is symmetric), PyTorch's other name."""
    return _second_order(func, inputs, v, create_graph, strict, "vhp")


def _second_order(func: Callable[..., Any], inputs: Any, v: object, create_graph: bool, strict: bool,
                  name: str) -> tuple[Any, Any]:
    xs, single = _leaves(inputs, create_graph)
    vs = _vectors(v, xs, "v", name)
    with enable_grad():
        out = func(*xs)
    outs, _ = _outputs(out, name)
    if len(outs) != 1 or outs[0].data.size != 1:
        raise RuntimeError(f"{name}: the function must return one one-element Tensor, got shape {outs[0].shape}")
    gs = _grads_or_zeros(outs, xs, (None,), True, strict, name)
    if strict:
        for i, g in enumerate(gs):
            if not g.requires_grad:
                raise RuntimeError(f"{name}: the gradient does not depend on input {i} (the function is at most linear "
                                   "in it, so its second derivatives are 0), which strict=True refuses")
    pairs = [(g, vi) for g, vi in zip(gs, vs) if g.requires_grad]
    if not pairs:
        result = tuple(Tensor(np.zeros(x.shape, dtype=x.dtype)) for x in xs)
    else:
        got = grad([g for g, _ in pairs], xs, [vi for _, vi in pairs], create_graph=create_graph, allow_unused=True)
        result = tuple(Tensor(np.zeros(x.shape, dtype=x.dtype)) if r is None else r for r, x in zip(got, xs))
    return _result(out, create_graph), (result[0] if single else result)


# -- helpers ------------------------------------------------------------------------------------------------


def _leaves(inputs: Tensor | Sequence[Tensor], create_graph: bool) -> tuple[tuple[Tensor, ...], bool]:
    """The inputs as new leaves that require grad (copies: what the caller holds is left alone). Under create_graph
    an input that requires grad stays connected, as in PyTorch: a copy in its graph (``clone``), so the result can
    be differentiated with respect to what the caller holds."""
    single = isinstance(inputs, Tensor)
    xs = (inputs,) if single else tuple(inputs)
    if not xs or not all(isinstance(x, Tensor) for x in xs):
        raise TypeError("inputs must be a Tensor or a tuple of Tensors (the function's arguments)")
    for x in xs:
        if x.data.dtype.kind != "f":
            raise TypeError(f"inputs must be floating point to be differentiated, got {x.dtype}")
    with enable_grad():
        return tuple(x.clone() if create_graph and x.requires_grad else
                     Tensor(x.data.copy(), requires_grad=True, label=x.label) for x in xs), single


def _outputs(out: object, name: str) -> tuple[tuple[Tensor, ...], bool]:
    if isinstance(out, Tensor):
        return (out,), True
    if isinstance(out, (tuple, list)) and out and all(isinstance(o, Tensor) for o in out):
        return tuple(out), False
    raise TypeError(f"{name}: the function must return a Tensor or a tuple of Tensors, got {type(out).__name__}")


def _vectors(v: object, like: tuple[Tensor, ...], what: str, name: str) -> tuple[Any, ...]:
    if v is None:
        if all(t.data.size == 1 for t in like):
            return tuple(np.ones(t.shape, dtype=t.dtype) for t in like)
        raise RuntimeError(f"{name}: {what} is needed unless everything it multiplies has one element")
    vs = (v,) if not isinstance(v, (tuple, list)) else tuple(v)
    if len(vs) != len(like):
        raise ValueError(f"{name}: {len(vs)} tensors in {what} for {len(like)} to multiply")
    out = []
    for vi, t in zip(vs, like):
        arr = np.asarray(vi.data if isinstance(vi, Tensor) else vi, dtype=t.dtype)
        if arr.shape != t.shape:
            raise ValueError(f"{name}: {what} has shape {arr.shape} where {t.shape} is needed")
        out.append(vi if isinstance(vi, Tensor) and vi.requires_grad else arr)
    return tuple(out)


def _grads_or_zeros(outs: tuple[Tensor, ...], xs: tuple[Tensor, ...], vs: tuple[Any, ...], create_graph: bool,
                    strict: bool, name: str) -> tuple[Tensor, ...]:
    """``grad`` of the outputs that depend on the inputs; zeros for an input nothing depends on (an error with
    ``strict=True``, as in PyTorch)."""
    live = [(o, v) for o, v in zip(outs, vs) if o.requires_grad]
    got: tuple[Tensor | None, ...] = (None,) * len(xs)
    if live:
        got = grad([o for o, _ in live], xs, [v for _, v in live], create_graph=create_graph, allow_unused=True)
    result = []
    for i, (g, x) in enumerate(zip(got, xs)):
        if g is None:
            if strict:
                raise RuntimeError(f"{name}: the output does not depend on input {i} (strict=True)")
            g = Tensor(np.zeros(x.shape, dtype=x.dtype))
        result.append(g)
    return tuple(result)


def _jacobian_rows(out: Tensor, xs: tuple[Tensor, ...], create_graph: bool, strict: bool) -> list[Tensor]:
    """∂out/∂x for each x, shaped out.shape + x.shape: one backward pass per element of ``out``."""
    n = out.data.size
    rows: list[list[Tensor]] = [[] for _ in xs]
    flat = out.reshape(-1) if out.requires_grad else None
    for k in range(n):
        if flat is None:
            grads = tuple(Tensor(np.zeros(x.shape, dtype=x.dtype)) for x in xs)
            if strict:
                raise RuntimeError("jacobian: the output does not depend on the inputs (strict=True)")
        else:
            grads = _grads_or_zeros((flat[k],), xs, (None,), create_graph, strict, "jacobian")
        for i, g in enumerate(grads):
            rows[i].append(g)
    blocks = []
    for x, r in zip(xs, rows):
        if create_graph:
            blocks.append(stack(r).reshape(out.shape + x.shape))
        else:
            blocks.append(Tensor(np.stack([g.data for g in r]).reshape(out.shape + x.shape)))
    return blocks


def _result(out: Any, create_graph: bool) -> Any:
    """The function's output as PyTorch returns it: detached unless create_graph."""
    if create_graph:
        return out
    if isinstance(out, Tensor):
        return out.detach()
    return tuple(o.detach() for o in out)


def _shaped(grads: tuple[Tensor, ...], single: bool) -> Any:
    return grads[0] if single else grads
