"""What the scalar and tensor engines share: grad mode, the node-creation hook, and a topological order.

Grad mode is one process-wide switch (as in micrograd; PyTorch keeps one per thread). Every op reads
``grad_mode.state`` (or ``grad_mode.recording``, True for RECORD) once, when it makes its node, because ops run
millions of times:

    RECORD   record the node (its op and inputs), the normal case
    WATCH    record it and hand it to the watchers: ``detect_anomaly`` and ``audit`` register here
    OFF      under ``no_grad``: the result is a constant with no inputs

The watchers are the one hook the checking tools have into the engine (PyTorch's anomaly mode is the model: a
flag the engine reads, never a patch over it). Outside a watching block the hook costs nothing beyond the
``state`` read every op does anyway. A watcher gets every node as it is made, with what replaying the op needs
(``Replay``: the function and its arguments), and every gradient as backward computes it.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from contextlib import ContextDecorator
from typing import Any, NamedTuple, Protocol, TypeVar

Node = TypeVar("Node")

OFF, RECORD, WATCH = 0, 1, 2


class Replay(NamedTuple):
    """How to run an op's forward again: ``fn(*args)``, with the node's inputs among the args (audit replays ops
    this way, on float64 stand-ins for the inputs)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]


class Watcher(Protocol):
    """What a checking tool implements to see the graph being built and differentiated."""

    def created(self, node: Any, replay: Replay | None) -> None:
        """A node was made (forward). ``replay`` is None for Value nodes (op code and inputs say it all)."""

    def gradients(self, node: Any, grad_out: Any, grads: tuple[Any, ...]) -> None:
        """``node``'s backward rule turned ``grad_out`` into ``grads``, one per input of ``node`` (Tensor nodes),
        or, for a Value node, into the new ``.grad`` of each of its inputs."""


class _GradMode:
    __slots__ = ("_enabled", "numbers_refused_by", "recording", "state", "watchers")

    def __init__(self) -> None:
        self._enabled = True
        self.watchers: tuple[Watcher, ...] = ()
        self.state = RECORD
        self.recording = True  # state is RECORD: the one test the hot path makes
        # While a user Function's backward builds a graph (create_graph), the Function's name: float(Value) and
        # Tensor.__array__ then refuse, because what math or NumPy computes would silently be a constant there.
        self.numbers_refused_by: str | None = None

    @property
    def enabled(self) -> bool:
        return self._enabled

    @enabled.setter
    def enabled(self, on: bool) -> None:
        self._enabled = bool(on)
        self._update()

    def _update(self) -> None:
        self.state = OFF if not self._enabled else (WATCH if self.watchers else RECORD)
        self.recording = self.state == RECORD

    def watch(self, watcher: Watcher) -> None:
        self.watchers = (*self.watchers, watcher)
        self._update()

    def unwatch(self, watcher: Watcher) -> None:
        self.watchers = tuple(w for w in self.watchers if w is not watcher)
        self._update()


grad_mode = _GradMode()


def is_grad_enabled() -> bool:
    """True when new ops record the graph that ``backward()`` walks."""
    return grad_mode.enabled


class set_grad_enabled:
    """Turn graph recording on or off, as in PyTorch: called as a function (``set_grad_enabled(False)`` switches it
    off from here on), as a context manager (``with set_grad_enabled(False):`` restores the previous mode at the
    end) or as a decorator (the mode applies inside each call)."""

    def __init__(self, mode: bool) -> None:
        self.mode = bool(mode)
        self.prev = grad_mode.enabled
        grad_mode.enabled = self.mode  # as a function call, this is all it does

    def __enter__(self) -> set_grad_enabled:
        grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc: object) -> None:
        grad_mode.enabled = self.prev

    def __call__(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        grad_mode.enabled = self.prev  # decorating is not switching: undo what __init__ did
        return _Switch(self.mode)(fn)


class _Switch(ContextDecorator):
    """A grad-mode switch for ``with`` blocks and decorators: sets the mode on entry, restores the previous one on
    exit (a stack, so one object can be entered again inside itself, as a recursive decorated function does)."""

    def __init__(self, mode: bool) -> None:
        self.mode = mode
        self._saved: list[bool] = []

    def __enter__(self) -> _Switch:
        self._saved.append(grad_mode.enabled)
        grad_mode.enabled = self.mode
        return self

    def __exit__(self, *exc: object) -> None:
        grad_mode.enabled = self._saved.pop()


class no_grad(_Switch):
    """``with no_grad():`` — ops inside record no graph: results are constants with no parents.

    Use it for evaluation and for updating parameters in place. Works as a decorator too.
    """

    def __init__(self) -> None:
        super().__init__(False)


class enable_grad(_Switch):
    """Turn recording back on inside a ``no_grad`` block (a context manager or a decorator)."""

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
    return topological_order_of((root,), inputs_of)


def topological_order_of(roots: Iterable[Node], inputs_of: Callable[[Node], Iterable[Node]]) -> list[Node]:
    """``topological_order`` for several roots at once (``autograd.grad`` of several outputs): each node once."""
    order: list[Node] = []
    visited: set[int] = set()
    for root in roots:
        if id(root) in visited:
            continue
        visited.add(id(root))
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
