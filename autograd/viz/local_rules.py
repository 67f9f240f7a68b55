"""The local derivative on each edge of a graph, for readers (draw_dot's edge labels, explain, backward_steps).

An edge runs from an input ``a`` to the op that made ``out``; its local derivative is ∂out/∂a. The chain rule
sends ``out.grad × ∂out/∂a`` along it, once per use: in ``b = a + a`` there are two edges from ``a``.

* ``Value``: numbers, from ``autograd.value._LOCAL``, which sits beside ``_BACKWARD`` so the two can be
  tested against each other (tests/test_explain.py). ``value_edges`` also knows the order in which
  ``backward()`` applies them, so stepping through reproduces its sums bit for bit.
* ``Tensor``: the rule as text (``g·Wᵀ``, ``Σ_rows g``), from the table below keyed by op name. It lives here,
  not beside each op in tensor.py, because it is for reading only: passing it to ``Tensor._make`` would cost
  every op of every training step. The numbers come from calling the node's own backward closure.

Ops nobody taught this module (an ``autograd.Function``, say) get ``None``: drawn as ``?``.
"""
from __future__ import annotations

from typing import Any

from .. import value as _value
from ..tensor import summed_axes

# -- Value ------------------------------------------------------------------------------------------


def value_locals(node: Any) -> tuple[float, ...] | None:
    """∂node/∂input for each of ``node.inputs``, in that order; None when the op has no known rule."""
    op = node._op
    if not op:
        return ()
    rule = _value._LOCAL.get(op)
    return None if rule is None else tuple(rule(node))


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

# op -> the rule for each parent, in parents order. g is the consumer's gradient; {0}, {1}, {2} stand for
# the parents' names (their labels, or the letters in _LETTERS).
_TENSOR_RULES: dict[str, tuple[str, ...]] = {
    "+": ("g", "g"),
    "-": ("g", "−g"),
    "*": ("g⊙{1}", "g⊙{0}"),
    "/": ("g/{1}", "−g⊙{0}/{1}²"),
    "**": ("g⊙{1}·{0}^({1}−1)", "g⊙{0}^{1}·ln {0}"),
    "@": ("g·{1}ᵀ", "{0}ᵀ·g"),
    "linear": ("g·{1}", "gᵀ·{0}", "Σ_rows g"),
    "linear_relu": ("(g⊙[a>0])·{1}", "(g⊙[a>0])ᵀ·{0}", "Σ_rows g⊙[a>0]"),
    "neg": ("−g",),
    "exp": ("g⊙e^{0}",),
    "log": ("g/{0}",),
    "tanh": ("g⊙(1−tanh²)",),
    "relu": ("g⊙[{0}>0]",),
    "sigmoid": ("g⊙σ(1−σ)",),
    "abs": ("g⊙sign {0}",),
    "sqrt": ("g/(2√{0})",),
    "clip": ("g⊙[in range]",),
    "sum": ("g copied back",),
    "mean": ("g/n copied back",),
    "max": ("g to the max",),
    "min": ("g to the min",),
    "amax": ("g to the max",),
    "amin": ("g to the min",),
    "reshape": ("g reshaped",),
    "view": ("g reshaped",),
    "flatten": ("g reshaped",),
    "squeeze": ("g reshaped",),
    "unsqueeze": ("g reshaped",),
    "transpose": ("g transposed back",),
    "permute": ("g permuted back",),
    "getitem": ("g scattered back",),
    "to": ("g cast back",),
    "softmax": ("s⊙(g−Σg⊙s)",),
    "log_softmax": ("g−softmax·Σg",),
    "cross_entropy": ("(softmax−onehot)/N",),
    "mse_loss": ("2({0}−{1})/N·g", "−2({0}−{1})/N·g"),
    "binary_cross_entropy_with_logits": ("(σ({0})−{1})/N·g", "−{0}/N·g"),
    "dropout": ("g⊙mask/(1−p)",),
    "conv2d": ("g ⊛ flip({1}) (full conv)", "{0} ⋆ g (correlation)", "Σ g over n, p, q"),
    "max_pool2d": ("g to each window's max",),
}
_LETTERS = {"@": ("A", "B"), "linear": ("x", "W", "b"), "linear_relu": ("x", "W", "b"), "conv2d": ("x", "W", "b"),
            "mse_loss": ("x", "y"), "binary_cross_entropy_with_logits": ("z", "y")}


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
    letters = _LETTERS.get(op, ("a", "b", "c") if len(ins) > 1 else ("x",))
    names = [_short(x.label) or letters[i % len(letters)] for i, x in enumerate(ins)]
    for i, x in enumerate(ins):  # x * x: one operand, one name (g⊙a on both edges, not g⊙b and g⊙a)
        first = next(k for k, y in enumerate(ins) if y is x)
        names[i] = names[first]
    if op.startswith("**") and op != "**":
        rule = f"g⊙{op[2:]}·{names[0]}^{_minus_one(op[2:])}"
    else:
        rules = _TENSOR_RULES.get(op)
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
