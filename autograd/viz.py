"""draw_dot: a picture of the graph behind a ``Value`` or a ``Tensor``, as a ``graphviz.Digraph``.

Each value is a record node ``label | data | grad``; each op is a small oval between its inputs and its
output, so ``o = tanh(n)`` reads left to right as ``n -> (tanh) -> o``. Unlike micrograd's picture:

* the graph is walked with an explicit queue, so a 10,000-op chain draws without ``RecursionError``;
* gradients are not shown before ``backward()`` has been run (they would all read 0 and mislead):
  see ``show_grad`` below;
* tensors show shape and dtype (and their numbers when tiny), gradients their shape and norm ‖g‖.

Only ``.data``, ``.grad``, ``.op``, ``.inputs`` and ``.label`` are read, so anything with those
attributes can be drawn. Nodes are identified by ``id()``, never by ``==`` (which ops overload).
"""
from __future__ import annotations

from collections import deque
from typing import Any

import graphviz
import numpy as np

__all__ = ["draw_dot"]

_RANKDIRS = ("LR", "RL", "TB", "BT")
_TINY = 6  # tensors with at most this many elements show their numbers
_ROOT_STYLE = {"penwidth": "2.5", "color": "#1f4e99", "style": "filled", "fillcolor": "#dce8fa"}


def draw_dot(
    root: Any,
    format: str = "svg",
    rankdir: str = "LR",
    show_grad: bool | None = None,
    label: str | None = None,
    max_nodes: int | None = None,
) -> graphviz.Digraph:
    """The computation graph that produced ``root``, as a ``graphviz.Digraph`` (not yet rendered).

    Args:
        root: a ``Value`` or ``Tensor``; drawn with a thick blue border.
        format: output format used when the digraph is rendered (``"svg"``, ``"png"``, ...).
        rankdir: layout direction, one of ``"LR"`` (inputs on the left), ``"RL"``, ``"TB"``, ``"BT"``.
        show_grad: ``True`` always shows ``.grad``; ``False`` never does (the cell reads ``grad ?``).
            ``None`` (auto) shows gradients only if some node in the graph has one — a nonzero
            ``Value.grad`` or a ``Tensor.grad`` that is not ``None`` — i.e. once ``backward()`` has run.
            A tensor that is not a leaf keeps no gradient (as in PyTorch); its cell then reads ``grad —``.
            Gradients zeroed by ``zero_grad()`` count as not computed, so they are hidden again. The rule
            cannot tell *which* root backward ran from: pass ``True``/``False`` when graphs share leaves.
        label: a caption printed above the graph.
        max_nodes: draw at most this many values, those nearest the root (breadth-first). Inputs cut
            off are replaced by one note saying how many values are not shown.

    Each input edge is drawn once per use, so ``x * x`` shows two arrows from ``x`` into ``*``.
    """
    if not all(hasattr(root, a) for a in ("data", "grad", "op", "inputs")):
        raise TypeError(f"draw_dot needs a Value or Tensor (with .data, .grad, .op, .inputs), got {type(root).__name__}")
    if rankdir not in _RANKDIRS:
        raise ValueError(f"draw_dot: rankdir must be one of {_RANKDIRS}, got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1):
        raise ValueError(f"draw_dot: max_nodes must be a positive int or None, got {max_nodes!r}")

    nodes = _breadth_first(root)
    if show_grad is None:
        show_grad = any(_has_grad(n) for n in nodes)
    drawn = nodes if max_nodes is None else nodes[:max_nodes]
    drawn_ids = {id(n) for n in drawn}

    graph_attr = {"rankdir": rankdir, "fontname": "Helvetica"}
    if label:
        graph_attr.update(label=label, labelloc="t", fontsize="16")
    dot = graphviz.Digraph(format=format, graph_attr=graph_attr, node_attr={"fontname": "Helvetica"})

    cut_note = None
    if len(drawn) < len(nodes):
        cut_note = "cut"
        dot.node(cut_note, f"… {len(nodes) - len(drawn)} more values not shown (max_nodes={max_nodes})",
                 shape="note", style="dashed")

    for node in drawn:
        name = str(id(node))
        style = _ROOT_STYLE if node is root else {}
        dot.node(name, _record(node, show_grad), shape="record", **style)
        op, inputs = node.op, node.inputs
        if not inputs:
            continue
        op_name = name + "op"
        dot.node(op_name, _escape(op or "?"), shape="ellipse", fontsize="11", height="0.3", margin="0.02")
        dot.edge(op_name, name)
        missing = False
        for child in inputs:
            if id(child) in drawn_ids:
                dot.edge(str(id(child)), op_name)
            else:
                missing = True
        if missing and cut_note is not None:
            dot.edge(cut_note, op_name, style="dashed")
    return dot


def _breadth_first(root: Any) -> list[Any]:
    """Every node reachable from ``root`` once, nearest first (iterative: deep graphs are fine)."""
    seen = {id(root)}
    order = [root]
    queue = deque([root])
    while queue:
        for child in queue.popleft().inputs:
            if id(child) not in seen:
                seen.add(id(child))
                order.append(child)
                queue.append(child)
    return order


def _has_grad(node: Any) -> bool:
    g = node.grad
    if g is None:
        return False
    if isinstance(g, np.ndarray):
        return True  # a tensor's grad exists only after backward() (zeros are real gradients then)
    return g != 0


def _record(node: Any, show_grad: bool) -> str:
    """``label | data … | grad …`` for a record node (escaped for graphviz)."""
    cells = []
    label = getattr(node, "label", "")
    if label:
        cells.append(_escape(str(label)))
    if isinstance(node.data, np.ndarray):
        cells.append(_escape(_describe_tensor(node.data)))
        if getattr(node, "requires_grad", True):  # constants have no gradient to show
            cells.append(_escape(_tensor_grad(node, show_grad)))
    else:
        cells.append(_escape(f"data {_num(node.data)}"))
        cells.append(_escape(f"grad {_num(node.grad)}" if show_grad and node.grad is not None else "grad ?"))
    return "{ " + " | ".join(cells) + " }"


def _describe_tensor(a: np.ndarray) -> str:
    text = f"{_shape(a.shape)} {a.dtype}"
    if a.size <= _TINY:
        text += " " + _numbers(a)
    return text


def _tensor_grad(node: Any, show_grad: bool) -> str:
    g = node.grad
    if not show_grad:
        return "grad ?"
    if g is None:
        return "grad —"
    g = np.asarray(g)
    norm = float(np.linalg.norm(g.astype(np.float64, copy=False).ravel()))
    text = f"grad {_shape(g.shape)} ‖g‖={_num(norm)}"
    if g.size <= _TINY:
        text += " " + _numbers(g)
    return text


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(int(n) for n in shape))  # Python's spelling: (), (2,), (2, 3)


def _numbers(a: np.ndarray) -> str:
    if a.ndim == 0:
        return _num(a.item())
    return "[" + ", ".join(_num(x) for x in a.ravel().tolist()) + "]"


def _num(x: Any) -> str:
    """Compact: four significant digits (%.4g)."""
    try:
        return format(x, ".4g")
    except (TypeError, ValueError):
        return str(x)


def _escape(text: str) -> str:
    """Record labels treat ``{ } | < >`` and quotes as structure; backslash-escape them."""
    for ch in "\\{}|<>\"":
        text = text.replace(ch, "\\" + ch)
    return text
