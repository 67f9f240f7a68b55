"""Runs of one associative op, drawn as one n-ary node: ``sum of 100``, ``product of 4``.

Python's ``sum(xs)`` computes ``((0 + x₀) + x₁) + x₂ ...``: a left-leaning chain of binary ``+`` nodes, each
intermediate used once, by the next ``+``. Drawn as it is, a sum over 100 values is a ladder of 100 ops, and a
summary cannot group its rungs (no two have the same inputs), so every rung stays a box wired to whatever the
terms are. Addition is associative, so the chain is one sum: drawn as one node with an edge from every term.

A chain is a maximal tree of nodes with the same op (``+`` or ``*``) in which every node but the top one is
unlabelled, used exactly once, and used by a node of the tree. That covers ``sum()``, a ``*`` chain, nested
``sum()`` of sums (a generator of sums), and any bracketing. Runs of fewer than ``MIN_OPS`` ops are left as they
are (``x1*w1 + x2*w2 + b`` keeps its two ``+``: each is worth seeing). The ``0`` that ``sum()`` starts from (a
lifted constant 0 in a sum, 1 in a product) is left out of the drawing: it adds nothing.

The result is a new ``summary.Graph`` over the same values, with the top node of each chain (its *head*) holding
the chain's terms as inputs, and ``chains[head]`` saying which op and how many terms.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .summary import Graph

MIN_OPS = 3  # a run of at least this many binary ops (four terms) becomes one node
_ASSOCIATIVE = {"+": ("sum", 0.0), "*": ("product", 1.0)}  # op -> (what the n-ary node is called, identity)


@dataclass(frozen=True)
class Chain:
    """The head of a collapsed run: its ``op`` ('+' or '*'), how many binary ``ops`` it replaces, and its terms."""

    op: str
    ops: int
    terms: int

    @property
    def label(self) -> str:
        return f"{_ASSOCIATIVE[self.op][0]} of {self.terms:,}"


def collapse(graph: Graph, min_ops: int = MIN_OPS) -> Graph:
    """``graph`` with every run of ``min_ops`` or more associative ops drawn as one node (see the module docstring).
    Returns ``graph`` itself when there is no such run."""
    nodes, inputs, ops, consumers = graph.nodes, graph.inputs, graph.ops, graph.consumers
    n = len(nodes)
    # The one consumer of each value used exactly once (values used more often never join a chain).
    user = [-1] * n
    for i, ins in enumerate(inputs):
        for k in ins:
            if consumers[k] == 1:
                user[k] = i
    inner = [False] * n  # absorbed into the node that uses it
    for k in range(1, n):
        u = user[k]
        if u >= 0 and ops[k] in _ASSOCIATIVE and ops[u] == ops[k] and not nodes[k].label:
            inner[k] = True
    heads: dict[int, tuple[list[int], int]] = {}
    for i in range(n):
        if inner[i] or ops[i] not in _ASSOCIATIVE or not any(inner[k] for k in inputs[i]):
            continue
        op = ops[i]
        terms, count = _flatten(i, inputs, inner, lambda k, op=op: _identity(nodes[k], op, consumers[k]))
        if count < min_ops:
            continue
        heads[i] = (terms, count)
    if not heads:
        return graph
    # Rebuild breadth-first from the root over the new inputs, as summary.walk does: positions nearest the root first.
    new_index = {0: 0}
    order = [0]
    new_inputs: list[list[int]] = []
    chains: dict[int, Chain] = {}
    for old in order:
        head = heads.get(old)
        if head is not None:
            terms, count = head
            chains[len(new_inputs)] = Chain(ops[old], count, len(terms))
        else:
            terms = inputs[old]
        row = []
        for k in terms:
            j = new_index.get(k)
            if j is None:
                j = new_index[k] = len(order)
                order.append(k)
            row.append(j)
        new_inputs.append(row)
    new_nodes = [nodes[k] for k in order]
    new_ops = [ops[k] for k in order]
    for head, chain in chains.items():
        new_ops[head] = chain.label
    new_consumers = [0] * len(order)
    for row in new_inputs:
        for j in row:
            new_consumers[j] += 1
    return Graph(new_nodes, new_inputs, graph.is_tensor, new_consumers, new_ops, chains, graph.folded + n - len(order))


def _flatten(head: int, inputs: list[list[int]], inner: list[bool], start: Any) -> tuple[list[int], int]:
    """The terms of the chain under ``head``, left to right, and how many binary ops it holds (iterative).
    Terms for which ``start(k)`` is true (the 0 each ``sum()`` starts from) are left out, unless that would leave
    fewer than two."""
    terms: list[int] = []
    count = 0
    stack = [(True, head)]
    while stack:
        is_op, k = stack.pop()
        if is_op:
            count += 1
            stack.extend((inner[j], j) for j in reversed(inputs[k]))
        else:
            terms.append(k)
    kept = [k for k in terms if not start(k)]
    return (kept if len(kept) >= 2 else terms), count


def _identity(node: Any, op: str, uses: int) -> bool:
    """A lifted constant that is the op's identity, used only here."""
    if uses != 1 or node.op or getattr(node, "role", "") != "constant":
        return False
    data = node.data
    if isinstance(data, np.ndarray):
        return data.size == 1 and data.item() == _ASSOCIATIVE[op][1]
    return data == _ASSOCIATIVE[op][1]


def local_derivatives(head: Any, terms: list[Any], op: str) -> list[Any]:
    """∂head/∂term for each term of a Value chain: 1 for a sum, the product of the other terms for a product."""
    if op == "+":
        return [1.0] * len(terms)
    data = [t.data for t in terms]
    left = [1.0] * (len(data) + 1)  # prefix and suffix products: no division, so a zero term is fine
    for i, d in enumerate(data):
        left[i + 1] = left[i] * d
    out = [0.0] * len(data)
    right = 1.0
    for i in range(len(data) - 1, -1, -1):
        out[i] = left[i] * right
        right *= data[i]
    return out
