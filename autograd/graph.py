"""What the scalar and tensor engines share: the grad mode and an iterative topological order.

Grad mode is one process-wide switch (as in micrograd; PyTorch keeps one per thread). Ops read
``grad_mode.enabled`` directly, a single attribute lookup, because they run millions of times.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ContextDecorator
from typing import TypeVar

Node = TypeVar("Node")


class _GradMode:
    __slots__ = ("enabled",)

    def __init__(self) -> None:
        self.enabled = True


grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when new ops record the graph that ``backward()`` walks."""
    return grad_mode.enabled


class set_grad_enabled(ContextDecorator):
    """Turn graph recording on or off inside a ``with`` block (or a decorated function)."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self._saved: list[bool] = []

    def __enter__(self):  # returns self: a no_grad or enable_grad
        self._saved.append(grad_mode.enabled)
        grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc: object) -> None:
        grad_mode.enabled = self._saved.pop()


class no_grad(set_grad_enabled):
    """``with no_grad():`` — ops inside record no graph: results are constants with no parents.

    Use it for evaluation and for updating parameters in place. Works as a decorator too.
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(set_grad_enabled):
    """Turn recording back on inside a ``no_grad`` block."""

    def __init__(self) -> None:
        super().__init__(True)


def mark_parameter(node: Node) -> Node:
    """Mark a leaf Value or Tensor as a parameter (something an optimizer trains), and return it.

    ``nn`` modules mark the parameters they own; drawings and reports read the mark (``node.role``), never the
    label. Refuses a node made by an op: only leaves are trained.
    """
    if not node.is_leaf:
        raise ValueError(f"mark_parameter: {node!r} was made by an op ({node.op!r}); only a leaf can be a parameter")
    node._mark_parameter()
    return node


def topological_order(root: Node, inputs_of: Callable[[Node], Iterable[Node]]) -> list[Node]:
    """Every node reachable from ``root``, each after all of its inputs (root last).

    Iterative depth-first search with an explicit stack, so a graph a million ops deep needs no
    recursion. Nodes are compared by identity (``id``), never by ``==``, which ops may overload.
    """
    order: list[Node] = []
    visited: set[int] = {id(root)}
    # Each stack entry is (node, iterator over its inputs); a node is emitted once its iterator is spent.
    stack = [(root, iter(inputs_of(root)))]
    while stack:
        node, pending = stack[-1]
        for child in pending:
            if id(child) not in visited:
                visited.add(id(child))
                stack.append((child, iter(inputs_of(child))))
                break
        else:
            stack.pop()
            order.append(node)
    return order
