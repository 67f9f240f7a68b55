"""draw_dot: a picture of the graph behind a ``Value`` or a ``Tensor``, as a ``graphviz.Digraph``.

Each value is a small table (name, data, grad); each op a small oval between its inputs and its output, so
``o = tanh(n)`` reads ``n -> (tanh) -> o``. What it adds to micrograd's picture:

* **It never hangs, and stays readable.** Before Graphviz runs, the layout is estimated (``budget``): edges,
  fan-in, long edges, and the size of the text once the picture is shrunk to a notebook column (about 1,000 px,
  at least 9 px text). A graph over that budget is summarised (``summary``): one box per neuron, or per layer of
  a scalar MLP (per module of a tensor model), every other repeated op one box ``relu ×100``; what is still over
  is cut to the boxes nearest the root. The caption says how it was drawn and how to see more. ``dot`` itself
  runs with a time limit (``render``): when it runs out, a coarser view is shown, saying so.
* **Chains as one node.** Python's ``sum(xs)`` builds a ladder of binary ``+``; it is drawn as one node
  ``sum of 100`` (``chains``), as is a run of ``*``.
* **Names and roles from facts.** ``nn`` modules name their parameters (``w.0``, ``0.weight``); a module's
  values are drawn in a box titled by it (``0: Linear(784→128)``). The border says the role, read from
  ``.role``, never from a label's spelling: parameter, leaf you made, input, constant, intermediate, output.
* **Gradients, honestly.** The grad cell is coloured by sign and size (``palette``), reads ``?`` until
  ``backward()`` has run and ``0`` only when the gradient is zero.
* **Local derivatives** on the edges with ``show_local=True``: ∂out/∂in as a number (Value) or as the rule
  and shape (Tensor), and ``step=k`` draws the state after k steps of the backward pass.

Only ``.data``, ``.grad``, ``.op``, ``.inputs``, ``.label`` and ``.role`` are read. The drawing itself is built by
``drawing``; it and Graphviz are imported when a graph is drawn, not when ``autograd`` is.
"""
from __future__ import annotations

from typing import Any

__all__ = ["DEFAULT_MAX_NODES", "draw_dot"]

DEFAULT_MAX_NODES = 200
_RANKDIRS = ("LR", "RL", "TB", "BT")
_COLLAPSE = (None, True, False, "neuron", "layer")


def draw_dot(
    root: Any,
    format: str = "svg",
    rankdir: str | None = None,
    show_grad: bool | None = None,
    label: str | None = None,
    max_nodes: int | None = DEFAULT_MAX_NODES,
    show_local: bool = False,
    step: int | None = None,
    collapse: bool | str | None = None,
    legend: bool = True,
    audit: Any = None,
    chains: bool = True,
    timeout: float = 5.0,
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
        max_nodes: the most boxes drawn. ``None`` draws every value (unless ``collapse`` says otherwise).
        show_local: label each edge ``a -> (op)`` with its local derivative ∂out/∂a: a number for Values,
            the rule and shape for Tensors (``g·W (64, 784)``).
        step: draw the state after this many steps of the backward pass (``backward_steps``), from 0 (only
            the root's seed) to the number of edges: gradients not reached yet read ``?``, and the newest
            contribution is highlighted on its edge. Computed afresh; no ``.grad`` is changed.
        collapse: ``None`` (auto) draws the graph whole when that is readable and cheap to lay out, else the
            finest summary that is (``budget``); ``True`` always summarises; ``"neuron"`` or ``"layer"``
            summarises at that level (one box per neuron, or per layer of a scalar MLP); ``False`` never
            summarises (only cuts at ``max_nodes``).
        legend: draw the colour and border key.
        audit: an ``AuditReport`` (``autograd.audit``): ops whose own derivative is wrong are drawn red
            (oval and edges), values a wrong gradient reaches orange.
        chains: draw a run of one associative op (Python's ``sum()``) as one node ``sum of n``.
        timeout: seconds Graphviz's ``dot`` may take to render the picture; past it, a coarser view is shown.

    Each input edge is drawn once per use, so ``x * x`` shows two arrows from ``x`` into ``*``.
    """
    if not all(hasattr(root, a) for a in ("data", "grad", "op", "inputs")):
        raise TypeError(f"draw_dot needs a Value or Tensor (with .data, .grad, .op, .inputs), "
                        f"got {type(root).__name__}")
    if rankdir is not None and rankdir not in _RANKDIRS:
        raise ValueError(f"draw_dot: rankdir must be one of {_RANKDIRS} or None, got {rankdir!r}")
    if max_nodes is not None and (not isinstance(max_nodes, int) or isinstance(max_nodes, bool) or max_nodes < 1):
        raise ValueError(f"draw_dot: max_nodes must be a positive int or None, got {max_nodes!r}")
    if collapse not in _COLLAPSE:
        raise ValueError(f"draw_dot: collapse must be None, True, False, 'neuron' or 'layer', got {collapse!r}")
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not timeout > 0:
        raise ValueError(f"draw_dot: timeout must be a number of seconds > 0, got {timeout!r}")
    if audit is not None and not hasattr(audit, "node_status"):
        raise TypeError(f"draw_dot: audit must be the report audit(...) returns, got {type(audit).__name__}")
    from . import chains as chain_runs  # the machinery loads on the first drawing: `import autograd` stays fast
    from . import drawing, summary
    from .names import Names

    graph = summary.walk(root)
    names = None
    if step is not None:
        names = Names(root)  # a frame of the backward pass: unlabelled values show the names steps print
    elif chains:
        graph = chain_runs.collapse(graph)  # not in a step: every edge of the pass must be drawn
    d = drawing.Drawing(graph, show_grad, show_local, step, max_nodes, collapse, audit=audit, names=names,
                        label=label)
    return d.picture(format, rankdir, label, legend, float(timeout))
