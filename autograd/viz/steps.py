"""The backward pass one edge at a time: ``backward_steps(root)``, and ``replay(root)`` for pictures.

``backward()`` visits the ops in reverse topological order; each op hands every input
``out.grad × ∂out/∂input`` (its *contribution*), added to whatever that input already received. A
``Step`` is one such hand-over, one per edge: in ``b = a + a`` there are two. Stepping through them in
order reproduces ``backward()`` exactly, bit for bit, because each contribution is computed by the op's
own backward rule, the same code ``backward()`` runs:

* ``Value``: the op's rule runs on stand-ins whose inputs start at zero gradient, one per edge
  (``autograd.value.contributions``), so each one's ``grad`` is that edge's contribution alone.
* ``Tensor``: the node's backward rule returns one contribution per parent already (``local_backward``).

``backward_steps`` does what ``backward()`` does (it changes ``.grad``, as a generator: one step per
``next``). ``replay`` computes the same steps into a list without touching any ``.grad``: what
``draw_dot(root, step=k)``, ``explain`` and the animations draw, as a fresh pass from zero.
"""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import value as _value
from ..graph import topological_order
from ..tensor import local_backward
from ..value import contributions
from . import local_rules
from .names import Names, fallback
from .palette import number
from .text import clean


@dataclass(frozen=True)
class Step:
    """One edge of the backward pass: ``node`` receives ``contribution`` from ``consumer``.

    ``contribution = consumer_grad × local`` (∂consumer/∂node: a number for ``Value``, the rule as text for
    ``Tensor``, ``None`` when unknown), and ``grad_after`` is everything ``node`` has received so far in
    this pass (for a leaf with an older gradient, that plus what it had). ``slot`` says which of
    ``consumer.inputs`` the edge comes from (``x * x`` has slots 0 and 1); ``index`` counts from 1.
    ``names`` names the graph's values, labelled or not (``autograd.viz.names``), for ``describe`` and ``repr``.
    """

    index: int
    node: Any
    consumer: Any
    slot: int
    local: Any
    consumer_grad: Any
    contribution: Any
    grad_after: Any
    names: Any = field(default=None, repr=False, compare=False)

    def name(self, node: Any) -> str:
        """What this step calls ``node``: its label, or the short name unlabelled values get (``v3``, ``(tanh)#2``)."""
        return self.names(node) if self.names is not None else fallback(node)

    def describe(self) -> str:
        """The step as a sentence: ``o (tanh) sends n 1 × 0.5 = 0.5; now n.grad = 0.5``."""
        node, consumer = self.name(self.node), self.name(self.consumer)
        op = self.consumer.op or "?"
        who = consumer if consumer == f"({op})" or consumer.startswith(f"({op})#") else f"{consumer} ({op})"
        if isinstance(self.contribution, np.ndarray):
            what = f"‖contribution‖ = {_norm(self.contribution)} by the rule {clean(self.local or '?', 80)}"
            total = f"‖{node}.grad‖ = {_norm(self.grad_after)}"
        else:
            local = "?" if self.local is None else number(self.local)
            what = f"{number(self.consumer_grad)} × {local} = {number(self.contribution)}"
            total = f"{node}.grad = {number(self.grad_after)}"
        return f"{who} sends {node} {what}; now {total}"

    def __repr__(self) -> str:
        return f"Step {self.index}: {self.describe()}"


def backward_steps(root: Any, grad: object = None) -> Iterator[Step]:
    """``root.backward()``, one edge at a time, in exactly the order ``backward()`` applies them.

    Each ``next()`` applies one contribution to ``.grad`` (interior Value grads are reset first, leaf grads
    accumulate, as in ``backward()``) and yields its ``Step``. Running all steps leaves the same gradients
    as ``backward()``. For a Tensor, ``grad`` is the seed (default 1 for a one-element tensor); as in
    ``Tensor.backward``, interior tensors keep no ``.grad``: their running sums are in the steps.
    """
    if isinstance(root.data, np.ndarray):
        return _named(_tensor_steps(root, grad, apply=True), root)
    if grad is not None:
        raise TypeError("backward_steps: a Value's backward takes no seed gradient (it is always 1)")
    return _named(_value_steps(root, apply=True), root)


def replay(root: Any) -> list[Step]:
    """The steps of a fresh backward pass from ``root`` (every gradient starting at 0), leaving every
    ``.grad`` as it was. The same steps ``backward_steps`` yields, when no leaf had a gradient before."""
    if isinstance(root.data, np.ndarray):
        steps = list(_tensor_steps(root, None if root.data.size == 1 else np.ones_like(root.data), apply=False))
    else:
        steps = list(_value_steps(root, apply=False))
    return list(_named(iter(steps), root))


def _named(steps: Iterator[Step], root: Any) -> Iterator[Step]:
    """The same steps, each knowing the names of the graph's values (one ``Names`` shared by all of them)."""
    names = Names(root)
    for s in steps:
        object.__setattr__(s, "names", names)  # a frozen dataclass: set once, here, before anyone sees the step
        yield s


def seed(root: Any) -> Any:
    """The gradient a backward pass starts from at the root: 1 (ones of the root's shape for a Tensor)."""
    return np.ones_like(root.data) if isinstance(root.data, np.ndarray) else 1.0


# -- Value ----------------------------------------------------------------------------------------


def _value_steps(root: Any, apply: bool) -> Iterator[Step]:
    if root._a is _value._NO_GRAD:
        raise RuntimeError("backward_steps: this Value was computed under no_grad() and records no graph")
    if apply:
        order = _value._interior_order(root)  # also zeroes each interior grad, as backward() does
        if root._op:
            root.grad = 1.0
        else:
            root.grad += 1.0
        return _value_edges(order, None)
    saved = _interior_grads(root)
    try:
        order = _value._interior_order(root)
    finally:
        for node, g in saved:
            node.grad = g
    return _value_edges(order, {id(root): (root, 1.0)})


def _value_edges(order: list[Any], shadow: dict[int, tuple[Any, float]] | None) -> Iterator[Step]:
    """Steps over ``order`` in reverse; into ``.grad`` when ``shadow`` is None, else into ``shadow``."""
    index = 0
    for node in reversed(order):
        g = node.grad if shadow is None else shadow.get(id(node), (node, 0.0))[1]
        contributions = _contributions(node, g)
        edges = local_rules.value_edges(node)
        if edges is None:  # an op with no known local rule: still stepped, local unknown
            edges = [(s, x, None) for s, x in enumerate(node.inputs)]
        for slot, inp, local in edges:
            c = contributions[slot]
            if shadow is None:
                inp.grad += c
                after = inp.grad
            else:
                after = shadow.get(id(inp), (inp, 0.0))[1] + c
                shadow[id(inp)] = (inp, after)
            index += 1
            yield Step(index, inp, node, slot, local, g, c, after)


def _contributions(node: Any, g: float) -> list[float]:
    """What the op's own backward rule hands each input slot (see ``autograd.value.contributions``)."""
    return contributions(node, g)


def _interior_grads(root: Any) -> list[tuple[Any, float]]:
    """(node, grad) for every interior node under ``root``: what ``_interior_order`` will zero."""
    saved, seen, stack = [], {id(root)}, [root]
    while stack:
        node = stack.pop()
        if node._op:
            saved.append((node, node.grad))
            for child in node.inputs:
                if id(child) not in seen:
                    seen.add(id(child))
                    stack.append(child)
    return saved


# -- Tensor ---------------------------------------------------------------------------------------


def _tensor_steps(root: Any, grad: object, apply: bool) -> Iterator[Step]:
    """Tensor.backward's loop, yielding a step per parent edge."""
    if not root.requires_grad:
        raise RuntimeError("backward_steps: the tensor does not require grad (no leaf in its graph requires it)")
    if grad is None:
        if root.data.size != 1:
            raise RuntimeError(f"backward_steps: a tensor of shape {root.data.shape} needs a seed: pass grad=")
        first = np.ones_like(root.data)
    else:
        first = np.array(grad, dtype=root.data.dtype, copy=True)
        if first.shape != root.data.shape:
            raise ValueError(f"backward_steps: grad has shape {first.shape} but the tensor has shape {root.data.shape}")
    return _tensor_edges(root, first, apply)


def _tensor_edges(root: Any, first: np.ndarray, apply: bool) -> Iterator[Step]:
    pending: dict[int, np.ndarray] = {id(root): first}
    handed_out: set[int] = set()
    index = 0
    for node in reversed(topological_order(root, lambda t: t._parents)):
        g = pending.pop(id(node), None)
        if g is None:
            continue
        if node._backward is None:
            if apply:
                node._accumulate(g, handed_out)
            continue
        for slot, (parent, pg) in enumerate(zip(node._parents, local_backward(node, g))):
            if pg is None or not parent.requires_grad:
                continue
            key = id(parent)
            prev = pending.get(key)
            total = pg if prev is None else prev + pg
            pending[key] = total
            after = total
            if parent._backward is None and apply and parent.grad is not None:
                after = parent.grad + total  # what the leaf will hold once it is reached
            index += 1
            yield Step(index, parent, node, slot, local_rules.tensor_rule(node, slot), g, pg, after)


def _norm(x: np.ndarray) -> str:
    return number(float(np.linalg.norm(np.asarray(x, dtype=np.float64))))
