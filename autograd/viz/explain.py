"""explain: the chain rule at one node, with the numbers.

A value's gradient is the sum, over every edge that leaves it, of what travelled back along that edge:

    ∂L/∂a = Σ over edges a → c  of  ∂L/∂c · ∂c/∂a        (c.grad × the local derivative)

``explain(a, root=L)`` lists those terms, one line per edge (``b = a + a`` gives a two edges into ``b``,
so two terms), adds them up and checks the sum against ``a.grad``. For a Tensor each term also shows the
shapes, the rule (``g·Wᵀ``) and, where the input was broadcast, the axes ``unbroadcast`` summed over.
``explain(b)`` without a root reads the other way: what ``b``, as the output, hands each of its inputs.

The derivative is written with the root's own name (∂out/∂x for a root labelled ``out``); unlabelled values
get the short names steps and animations use (``v3``, ``(tanh)#2``: ``autograd.viz.names``). The terms come
from ``autograd.steps.replay``: a fresh backward pass computed aside, which changes no ``.grad``. The result
prints as plain text and shows as a table in Jupyter; ``explanations(root, nodes)`` makes many from one pass.
"""
from __future__ import annotations

import html
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .names import Names, fallback
from .text import clean


@dataclass
class Explanation:
    """The terms that make up one gradient. ``total`` is their sum; ``ok`` whether it equals ``grad``."""

    node: Any
    terms: list[Any]  # autograd.steps.Step, one per edge
    total: Any
    grad: Any  # what the node holds (None: not kept, or backward() has not run)
    outgoing: bool  # True: the node's own hand-over to its inputs (explain(node) without a root)
    note: str = ""
    names: Any = None  # autograd.viz.names.Names of the root's graph: what to call each value
    root: Any = None

    def _name(self, node: Any) -> str:
        return self.names(node) if self.names is not None else fallback(node)

    @property
    def _of(self) -> str:
        """∂<root>/∂: the root's own name (or the node's, when it is the output)."""
        return self._name(self.root if self.root is not None else self.node)

    def _stored_text(self) -> str:
        """What the node's .grad holds, for the sum line: the number, or why there is none to check against."""
        if self.grad is not None:
            return _grad(self.grad)
        if isinstance(self.node.data, np.ndarray) and self.node.op:
            return "not kept (not a leaf)"
        return "? (not from this pass)"

    def _formula(self, node: Any) -> str:
        op = clean(node.op, 24) or "leaf"
        names = [self._name(x) for x in node.inputs]
        if op in ("+", "-", "*", "/", "@") and len(names) == 2:
            return f"{names[0]} {op} {names[1]}"
        shown = names if len(names) <= 6 else [*names[:5], f"… {len(names) - 5} more"]
        return f"{op}({', '.join(shown)})"

    @property
    def ok(self) -> bool:
        if self.grad is None:
            return True  # nothing stored to disagree with; the note says why
        return _close(self.total, self.grad)

    # -- plain text ------------------------------------------------------------------------------------

    def __str__(self) -> str:
        tensor = isinstance(self.node.data, np.ndarray)
        _name, _formula = self._name, self._formula
        name = _name(self.node)
        if self.outgoing:
            lines = [f"{name} = {_formula(self.node)} is the output: {name}.grad = 1. "
                     "It hands each input, one line per edge:"]
            for s in self.terms:
                lines.append(f"  {_name(s.node):>8} ← {_grad(s.consumer_grad)} × ∂{name}/∂{_name(s.node)} "
                             f"{_local(s.local)} = {_grad(s.contribution)}")
            for inp, total in _per_input(self.terms):
                lines.append(f"  so {_name(inp)} receives {_grad(total)} in all from {name}")
            return "\n".join(lines + ([self.note] if self.note else []))
        n = len(self.terms)
        edges = f"{n} edge{'s' if n != 1 else ''}"
        lines = [f"∂{self._of}/∂{name}: the sum over the {edges} from {name} into its consumers"]
        for s in self.terms:
            consumer = f"{_name(s.consumer)} = {_formula(s.consumer)}"
            if tensor:
                lines.append(f"  {consumer:<24} g {_grad(s.consumer_grad)} → rule {_local(s.local)} "
                             f"→ {_grad(s.contribution)}")
            else:
                lines.append(f"  {consumer:<24} {_name(s.consumer)}.grad {_grad(s.consumer_grad)} × "
                             f"∂/∂{name} {_local(s.local)} = {_grad(s.contribution)}")
        verdict = "✓" if self.ok else "✗"
        stored = self._stored_text()
        shown_verdict = verdict if self.grad is not None else ""
        lines.append(f"  sum {_grad(self.total)}   {name}.grad {stored}   {shown_verdict}".rstrip())
        if self.note:
            lines.append(self.note)
        return "\n".join(lines)

    __repr__ = __str__

    # -- Jupyter ---------------------------------------------------------------------------------------

    def _repr_html_(self) -> str:
        _name, _formula = self._name, self._formula
        name = _h(_name(self.node))
        rows = []
        if self.outgoing:
            title = f"<b>{name} = {_h(_formula(self.node))}</b>, the output (grad 1), hands each input:"
            header = ("<tr><th>input</th><th>grad of " + name + "</th><th>× local ∂" + name + "/∂input</th>"
                      "<th>= contribution</th></tr>")
            for s in self.terms:
                rows.append(_row([_name(s.node), _grad(s.consumer_grad), _local(s.local), _grad(s.contribution)]))
            for inp, total in _per_input(self.terms):
                rows.append(_row([f"→ {_name(inp)} in all", "", "", _grad(total)], bold=True))
        else:
            title = (f"<b>∂{_h(self._of)}/∂{name}</b> = Σ over the edges from {name} into its consumers: "
                     "consumer grad × local derivative")
            header = ("<tr><th>consumer</th><th>its grad</th><th>× local ∂consumer/∂" + name + "</th>"
                      "<th>= contribution</th></tr>")
            for s in self.terms:
                rows.append(_row([f"{_name(s.consumer)} = {_formula(s.consumer)}", _grad(s.consumer_grad),
                                  _local(s.local), _grad(s.contribution)]))
            stored = self._stored_text()
            verdict = "" if self.grad is None else (" ✓" if self.ok else " ✗")
            rows.append(_row(["sum", "", f"{_name(self.node)}.grad = {stored}", _grad(self.total) + verdict],
                             bold=True))
        note = f"<div style='color:#555'>{_h(self.note)}</div>" if self.note else ""
        return (f"<div>{title}<table style='border-collapse:collapse;font-family:monospace;font-size:12px'>"
                f"{header}{''.join(rows)}</table>{note}</div>")


def explain(node: Any, root: Any = None) -> Explanation:
    """How ``node``'s gradient is made, one term per edge.

    With ``root`` (the value ``backward()`` ran from): ``node.grad`` as the sum over the edges leaving
    ``node`` of consumer grad × local derivative, checked against ``node.grad``. Without: ``node`` taken
    as the output, and what it hands each of its inputs (``b = a + a``: two terms, 1 + 1 into ``a``).
    """
    from .steps import replay  # loaded on first use: `import autograd` stays fast

    for what, x in (("explain", node), ("explain: root", root)):
        if x is not None and not all(hasattr(x, a) for a in ("data", "grad", "op", "inputs")):
            raise TypeError(f"{what} needs a Value or Tensor, got {type(x).__name__}")
    if root is None:
        if not node.inputs:
            raise ValueError(f"explain: {fallback(node)} is a leaf, so it hands nothing on; to see where its gradient "
                             "came from, pass the output: explain(node, root=loss)")
        steps = replay(node)
        names = steps[0].names if steps else Names(node)
        terms = [s for s in steps if s.consumer is node]
        return Explanation(node, terms, None, None, outgoing=True, names=names)
    if isinstance(root.data, np.ndarray) != isinstance(node.data, np.ndarray):
        raise TypeError("explain: node and root must both be Values or both be Tensors")
    if node is root:
        return _explanation(node, root, [], Names(root))
    steps = replay(root)
    names = steps[0].names if steps else Names(root)
    terms = [s for s in steps if s.node is node]
    if not terms:
        raise ValueError(f"explain: {names(node)} does not feed {names(root)} (or needs no gradient): "
                         "no edge from it reaches the root")
    return _explanation(node, root, terms, names)


def explanations(root: Any, nodes: list[Any], steps: list[Any] | None = None) -> dict[int, Explanation]:
    """``explain(node, root=root)`` for each of ``nodes`` that the root's gradient reaches (by ``id``), from one
    backward pass computed aside (or ``steps``, that pass's ``replay(root)`` if already at hand): what an HTML
    page shows when a node is clicked."""
    from .steps import replay

    if steps is None:
        steps = replay(root)
    names = steps[0].names if steps else Names(root)
    by_node: dict[int, list[Any]] = {}
    for s in steps:
        by_node.setdefault(id(s.node), []).append(s)
    out = {}
    for node in nodes:
        terms = by_node.get(id(node))
        if node is root or terms:
            out[id(node)] = _explanation(node, root, terms or [], names)
    return out


def _explanation(node: Any, root: Any, terms: list[Any], names: Any) -> Explanation:
    """The explanation of ``node``'s gradient from its ``terms`` (the steps into it, in backward()'s order)."""
    from .steps import seed

    name = names(node)
    if node is root:
        return Explanation(node, [], seed(root), _stored(node), outgoing=False, names=names, root=root,
                           note=f"{name} is the output: backward() starts from ∂{name}/∂{name} = 1, no terms to add")
    total = terms[-1].grad_after  # the running sum, added in backward()'s own order
    stored = _stored(node)
    note = ""
    if stored is None and isinstance(node.data, np.ndarray) and node.op:
        note = "Interior tensors keep no .grad (as in PyTorch): the sum is what backward() passes on."
    elif stored is None or (not isinstance(stored, np.ndarray) and stored == 0 and not _close(total, 0.0)):
        note = f"{name}.grad is {_grad(stored) if stored is not None else 'None'}: has backward() run from this root?"
        stored = None
    elif not _close(total, stored):
        note = (f"{name}.grad holds {_grad(stored)}, not the sum of this pass: gradients of leaves accumulate "
                "over backward() calls until zero_grad()")
    return Explanation(node, terms, total, stored, outgoing=False, note=note, names=names, root=root)


# -- helpers ---------------------------------------------------------------------------------------


def _stored(node: Any) -> Any:
    g = node.grad
    if hasattr(g, "inputs"):  # after backward(create_graph=True) a .grad is a Value or Tensor: its numbers
        g = g.data
    if isinstance(node.data, np.ndarray):
        return None if g is None else np.asarray(g)
    return g


def _per_input(terms: list[Any]) -> list[tuple[Any, Any]]:
    totals: dict[int, tuple[Any, Any]] = {}
    for s in terms:
        _, t = totals.get(id(s.node), (s.node, None))
        totals[id(s.node)] = (s.node, s.contribution if t is None else t + s.contribution)
    return list(totals.values())


def _close(a: Any, b: Any) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return bool(np.allclose(a, b, rtol=1e-6, atol=1e-12))
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-15) or (math.isnan(a) and math.isnan(b))


def _grad(x: Any) -> str:
    if x is None:
        return "?"
    if isinstance(x, np.ndarray):
        if x.size <= 6:
            return np.array2string(x, precision=4, separator=", ", suppress_small=True).replace("\n", "")
        return f"{_shape(x.shape)} ‖·‖={float(np.linalg.norm(x.astype(np.float64))):.4g}"
    return f"{x:.4g}"


def _local(x: Any) -> str:
    return "?" if x is None else clean(x, 80) if isinstance(x, str) else f"{x:.4g}"  # a rule names inputs by label


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(int(n) for n in shape))


def _row(cells: list[str], bold: bool = False) -> str:
    style = "padding:2px 8px;border-top:1px solid #ddd" + (";font-weight:bold" if bold else "")
    return "<tr>" + "".join(f"<td style='{style}'>{_h(c)}</td>" for c in cells) + "</tr>"


def _h(text: str) -> str:
    return html.escape(str(text), quote=False)
