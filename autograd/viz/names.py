"""Names for the values of one graph, labelled or not, as steps, captions and ``explain`` print them.

A value's name is its label. An unlabelled value gets a short name that stays the same for as long as the graph
does, so ``print(step)``, an animation's caption and ``explain`` all call it the same thing:

* the root: ``out``;
* a result: its op in brackets, ``(tanh)``, numbered in the order the forward pass made them when the op
  occurs more than once: ``(**2)#1``, ``(**2)#2``;
* a number an op lifted (a constant): the number itself, ``2`` (a tensor constant: ``2`` or ``const(3, 2)``);
* any other leaf: ``v1``, ``v2``, ... (``t1``, ... for tensors), in the same forward order.

A generated name never repeats a label of the graph. Every name is safe to print or draw (``text.clean``).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from ..graph import topological_order
from .text import clean

NAME_LIMIT = 40  # characters; a longer label is cut with an ellipsis


class Names:
    """``names(node)``: the name of a value of the graph under ``root`` (see the module docstring)."""

    def __init__(self, root: Any) -> None:
        order = topological_order(root, _inputs)  # inputs first: the order the forward pass made them
        taken = {clean(n.label, NAME_LIMIT) for n in order if n.label}
        tensor = isinstance(root.data, np.ndarray)
        ops: dict[str, int] = {}
        for n in order:
            if not n.label and n.op and n is not root:
                ops[n.op] = ops.get(n.op, 0) + 1
        self._names: dict[int, str] = {}
        seen: dict[str, int] = {}
        leaves = 0
        for n in order:
            if n.label:
                continue
            if n is root:
                name = _fresh("out", taken)
            elif n.op:
                op = clean(n.op, 16)
                if ops[n.op] == 1:
                    name = _fresh(f"({op})", taken)
                else:
                    seen[op] = seen.get(op, 0) + 1
                    name = _fresh(f"({op})#{seen[op]}", taken)
            elif _role(n) == "constant":
                name = _number(n.data)
            else:
                leaves += 1
                name = _fresh(f"{'t' if tensor else 'v'}{leaves}", taken)
            self._names[id(n)] = name

    def __call__(self, node: Any) -> str:
        if node.label:
            return clean(node.label, NAME_LIMIT)
        name = self._names.get(id(node))
        return name if name is not None else fallback(node)


def fallback(node: Any) -> str:
    """A name for a value seen without its graph: its label, ``(op)``, or a leaf's number or shape."""
    if node.label:
        return clean(node.label, NAME_LIMIT)
    if node.op:
        return f"({clean(node.op, 16)})"
    if isinstance(node.data, np.ndarray) and node.data.size != 1:
        return f"tensor{tuple(int(n) for n in node.data.shape)}"
    return _number(node.data)


def _inputs(node: Any) -> Any:
    return node.inputs


def _role(node: Any) -> str:
    return getattr(node, "role", "input")


def _number(data: Any) -> str:
    if isinstance(data, np.ndarray):
        if data.size == 1:
            return format(data.item(), ".4g")
        return f"const{tuple(int(n) for n in data.shape)}"
    return format(data, ".4g")


def _fresh(name: str, taken: set[str]) -> str:
    """``name``, or ``name′``, ``name″``, ... when a label of the graph already reads ``name``."""
    while name in taken:
        name += "′"
    taken.add(name)
    return name
