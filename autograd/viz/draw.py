"""draw_dot: a picture of the graph behind a ``Value`` or a ``Tensor``, as a ``graphviz.Digraph``.

Each value is a small table (name, data, grad); each op a small oval between its inputs and its output, so
``o = tanh(n)`` reads ``n -> (tanh) -> o``. What it adds to micrograd's picture:

* **It always fits.** Past ``max_nodes`` values (default 200) the graph is summarised (``autograd.summary``):
  the neurons of one layer become one box, every other repeated op one box ``relu ×100``, and whatever is
  still over budget is cut with a note naming ``max_nodes``. A layout too wide for a notebook column
  (about 1,000 px) goes top to bottom, and anything still wider is scaled to fit.
* **Names.** ``nn`` modules name their parameters (``w.0``, ``0.weight``); a module's values are drawn in
  a box titled by it (``0: Linear(784→128)``), its parameters under their short names (``w0``, ``bias``).
* **Gradients, honestly.** The grad cell is coloured by sign and size (``autograd.palette``), reads ``?``
  until ``backward()`` has run and ``0`` only when the gradient is zero. The border says the role.
* **Local derivatives** on the edges with ``show_local=True``: ∂out/∂in as a number (Value) or as the rule
  and shape (Tensor), and ``step=k`` draws the state after k steps of the backward pass.

Only ``.data``, ``.grad``, ``.op``, ``.inputs`` and ``.label`` are read. The drawing itself is built by
``autograd.drawing``; it and Graphviz are imported when a graph is drawn, not when ``autograd`` is.
"""
from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_MAX_NODES", "draw_dot"]

DEFAULT_MAX_NODES = 200
_RANKDIRS = ("LR", "RL", "TB", "BT")


def draw_dot(
    root: Any,
    format: str = "svg",
    rankdir: str | None = None,
    show_grad: bool | None = None,
    label: str | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    show_local: bool = False,
    step: int | None = None,
    collapse: bool | None = None,
    legend: bool = True,
    audit: Any = None,
) -> Any:
    """The computation graph that produced ``root``, as a ``graphviz.Digraph`` (rendered when displayed).

    Args:
        root: a ``Value`` or ``Tensor``; drawn with a thick blue border.
        format: output format used when the digraph is rendered (``"svg"``, ``"png"``, ...).
        rankdir: ``"LR"`` (inputs on the left), ``"TB"``, ``"RL"``, ``"BT"``; ``None`` picks LR when that
            fits a notebook column and TB otherwise.
        show_grad: ``True`` always shows ``.grad``; ``False`` never does (the cell reads ``grad ?``).
            ``None`` (auto) shows gradients only if some node has one (a nonzero ``Value.grad`` or a
            ``Tensor.grad`` that is not ``None``), i.e. once ``backward()`` has run. A tensor that is not a
            leaf keeps no gradient (as in PyTorch): ``grad —``. Zeroed gradients count as not computed.
        label: a caption above the graph.
        max_nodes: the budget of drawn boxes. A bigger graph is summarised, then cut to the boxes nearest
            the root with a note. ``None`` draws every value.
        show_local: label each edge ``a -> (op)`` with its local derivative ∂out/∂a: a number for Values,
            the rule and shape for Tensors (``g·W (64, 784)``).
        step: draw the state after this many steps of the backward pass (``backward_steps``), from 0 (only
            the root's seed) to the number of edges: gradients not reached yet read ``?``, and the newest
            contribution is highlighted on its edge. Computed afresh; no ``.grad`` is changed.
        collapse: ``True`` always summarises repeated structure, ``False`` never does (only cuts), ``None``
            summarises when the graph has more than ``max_nodes`` values.
        legend: draw the colour and border key.
        audit: an ``AuditReport`` (``autograd.audit``): ops whose own derivative is wrong are drawn red
            (oval and edges), values a wrong gradient reaches orange.

    Each input edge is drawn once per use, so ``x * x`` shows two arrows from ``x`` into ``*``.
    """
    if not all(hasattr(root, a) for a in ("data", "grad", "op", "inputs")):
        raise TypeError(f"draw_dot needs a Value or Tensor (with .data, .grad, .op, .inputs), got {type(root).__name__}")
    if rankdir is not None and rankdir not in _RANKDIRS:
        raise ValueError(f"draw_dot: rankdir must be one of {_RANKDIRS} or None, got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1):
        raise ValueError(f"draw_dot: max_nodes must be a positive int or None, got {max_nodes!r}")
    if audit is not None and not hasattr(audit, "node_status"):
        raise TypeError(f"draw_dot: audit must be the report audit(...) returns, got {type(audit).__name__}")
    from . import drawing, summary  # the machinery loads on the first drawing: `import autograd` stays fast

    graph = summary.walk(root)
    return drawing.Drawing(graph, show_grad, show_local, step, max_nodes, collapse, audit=audit).digraph(
        format, rankdir, label, legend)
