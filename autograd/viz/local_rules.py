"""The local derivative on each edge of a graph, for readers (draw_dot's edge labels, explain, backward_steps).

An edge runs from an input ``a`` to the op that made ``out``; its local derivative is ∂out/∂a. The chain rule
sends ``out.grad × ∂out/∂a`` along it, once per use: in ``b = a + a`` there are two edges from ``a``.

* ``Value``: numbers, derived from the op's one backward rule (``autograd.value.contributions`` with an incoming
  gradient of 1), so what a drawing shows is what ``backward()`` computes. ``value_edges`` also knows the order
  in which ``backward()`` applies them, so stepping through reproduces its sums bit for bit.
* ``Tensor``: the rule as text (``g·Wᵀ``, ``Σ_rows g``), which each op declares beside its forward
  (``autograd.tensor.rule_text``; ``nn`` declares its own ops' the same way). The numbers come from calling the
  node's own backward rule.

An op without rule text gets ``None``: drawn as ``?``.
"""
from __future__ import annotations

from typing import Any

from ..tensor import RULE_TEXT, summed_axes
from ..value import contributions

# -- Value ------------------------------------------------------------------------------------------


def value_locals(node: Any) -> tuple[float, ...] | None:
    """∂node/∂input for each of ``node.inputs``, in that order; None when the op has no known rule."""
    if not node._op:
        return ()
    try:
        return tuple(contributions(node, 1.0))
    except Exception:
        return None


def value_edges(node: Any) -> list[tuple[int, Any, float]] | None:
    """``(slot, input, local)`` per edge in the order ``Value.backward`` applies them (slot indexes
    ``node.inputs``); None when the op has no known rule."""
    locals_ = value_locals(node)
    if locals_ is None:
        return None
    ins = node.inputs
    if node._op == "dot":  # backward walks w₀, x₀, w₁, x₁, …, then the bias; .inputs is (*ws, *xs, bias)
        n = (len(ins) - 1) // 2
        slots = [s for i in range(n) for s in (i, n + i)] + [2 * n]
    else:
        slots = range(len(ins))
    return [(s, ins[s], locals_[s]) for s in slots]


# -- Tensor -----------------------------------------------------------------------------------------

def op_label(node: Any) -> str:
    """The op as a drawing names it: its name, plus what it was called with when an op says so (a Tensor op's
    backward closure may carry ``details``: conv2d's "3×3, stride 1, pad 1", max_pool2d's "2×2, stride 2")."""
    details = getattr(getattr(node, "_backward", None), "details", "")
    return f"{node.op} {details}" if node.op and details else node.op or "?"


def tensor_rule(consumer: Any, slot: int) -> str | None:
    """The rule for the edge from ``consumer.inputs[slot]`` into ``consumer``, in the parents' names
    (``g·Wᵀ``; ``**3`` reads ``g⊙3·x^2``), with ``, Σ over axes …`` when the input was broadcast and its
    gradient summed back by ``unbroadcast``. None for an op this table does not know."""
    op = consumer.op
    ins = consumer.inputs
    entry = RULE_TEXT.get(op)
    letters = (entry[1] if entry and entry[1] else None) or (("a", "b", "c") if len(ins) > 1 else ("x",))
    names = [_short(x.label) or letters[i % len(letters)] for i, x in enumerate(ins)]
    for i, x in enumerate(ins):  # x * x: one operand, one name (g⊙a on both edges, not g⊙b and g⊙a)
        first = next(k for k, y in enumerate(ins) if y is x)
        names[i] = names[first]
    if op.startswith("**") and op != "**":
        rule = f"g⊙{op[2:]}·{names[0]}^{_minus_one(op[2:])}"
    else:
        rules = entry[0] if entry is not None else None
        rule = rules[slot].format(*names, "", "") if rules is not None and slot < len(rules) else None
    if rule is None:
        return None
    axes = broadcast_axes(consumer, slot)
    return rule + (f", Σ over axes {axes}" if axes else "")


def broadcast_axes(consumer: Any, slot: int) -> tuple[int, ...]:
    """The axes of the output that ``unbroadcast`` summed to give this input its shape ((): none).

    Only elementwise binary ops broadcast; for them, output axes missing from the input or of size 1 in it
    (and not in the output) were summed.
    """
    if consumer.op not in ("+", "-", "*", "/", "**"):
        return ()
    return summed_axes(consumer.data.shape, consumer.inputs[slot].data.shape) or ()


def _minus_one(p: str) -> str:
    try:
        return format(float(p) - 1, "g")
    except ValueError:
        return f"({p}−1)"


def _short(label: str) -> str:
    """A parent's name inside a rule: a module parameter's own name (``0.weight`` -> ``weight``), and
    nothing for long labels (the rule would not fit on an edge)."""
    name = label.rpartition(".")[2] if label and not label.rpartition(".")[2].isdigit() else label
    return name if name and len(name) <= 8 else ""
