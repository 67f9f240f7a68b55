"""gradgradcheck: are the second derivatives right? gradcheck, run on the gradient itself.

As in PyTorch, the function checked is the first derivative as a function of the inputs *and* of the vector v it
is taken against (``grad_outputs``, one per output of f):

    G(x, v) = ∂L/∂x = autograd.grad(f(x), x, v, create_graph=True),      L = ⟨v, f(x)⟩

and ``gradcheck`` compares G's own derivatives with finite differences of G. Each row is a second derivative of
L: ∂²L/∂xᵢ∂xⱼ (the Hessian: the gradient's graph, differentiated) or ∂²L/∂xᵢ∂vⱼ = ∂fⱼ/∂xᵢ (the first derivative
once more, through the seed: a rule that treats its incoming gradient as a constant fails there). For Values
every pair is checked; for Tensors, gradcheck checks G entry by entry while G is small and along a fixed random
projection R of G otherwise (its note says so). Everything gradcheck does carries over unchanged: each
comparison has the finite difference's own error bar (|D(h) − D(2h)| plus rounding), a point where the *first*
derivative has a kink (that of relu(x)²/2 is relu(x)) is reported as a kink rather than failed, and large inputs
are checked along random directions first. (Where the first derivative jumps, |x|' = sign x at 0, there is no
second derivative: that fails, as in PyTorch.)

``v`` defaults to fixed random numbers of each output's shape, checked as inputs ("grad_output 0"); pass your
own to choose it (Tensors that require grad and Values are checked, anything else is a constant).
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from ..functional import grad
from ..graph import enable_grad, no_grad
from ..tensor import Tensor, cat
from ..value import Value
from .finite_diff import GradcheckEntry, GradcheckError, GradcheckReport, gradcheck

Input = Value | Tensor
NOTE = ("L = ⟨v, f(x)⟩, v the grad_outputs: the rows check its second derivatives, ∂²L/∂xᵢ∂xⱼ (the Hessian) and "
        "∂²L/∂xᵢ∂vⱼ = ∂fⱼ/∂xᵢ (the first derivative again, through the seed)")


@dataclass(frozen=True, repr=False)  # repr=False: gradcheck's report prints as its table
class GradgradcheckReport(GradcheckReport):
    """gradcheck's report of the gradient G(x, v) = ∂⟨v, f(x)⟩/∂x: each row a second derivative (see the module
    docstring). ``ok``, ``failures``, ``kinks``, ``worst`` as in ``GradcheckReport``."""

    _HEADERS = ("second derivative", "analytic", "numeric", "± numeric", "error", "verdict", "note")

    def summary(self) -> str:
        return "gradgradcheck" + super().summary().removeprefix("gradcheck")

    def __repr__(self) -> str:
        return f"<GradgradcheckReport: {self.summary()}>\n{self}"


def gradgradcheck(
    f: Callable[..., Any],
    inputs: Input | Sequence[Input],
    grad_outputs: Any = None,
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast: bool | None = None,
    directions: int = 2,
    seed: int = 0,
) -> GradgradcheckReport:
    """Check the second derivatives of ``f(*inputs)`` against finite differences of its gradient; return the report.

    ``f`` returns a Value or Tensor, or a tuple of them; ``grad_outputs`` is one v per output (default: fixed
    random numbers, themselves checked). The gradient G(x, v) = autograd.grad(f(x), x, v, create_graph=True) is
    given to ``gradcheck`` with the same ``eps``, ``atol``, ``rtol``, ``fast``, ``directions`` and ``seed``: each
    second derivative passes when |analytic − numeric| <= atol + rtol·|numeric| + the finite difference's
    uncertainty; kinks of the first derivative are reported, not failed. Raises ``GradcheckError`` naming the
    worst one (or returns the failing report if ``raise_exception`` is False).
    """
    if not callable(f):
        raise TypeError(f"gradgradcheck: f must be a function of the inputs returning a Value or Tensor (or a tuple "
                        f"of them), got {type(f).__name__}; write gradgradcheck(lambda x: ..., [x])")
    ins = _as_list(inputs)
    with enable_grad():
        outs = _outputs(f(*ins))
    seeds, checked = _seeds(grad_outputs, outs, seed)
    n = len(ins)
    names = [x.label or f"input {i}" for i, x in enumerate(ins)]

    def gradient(*args: Input) -> tuple[Input | None, ...]:
        """G(x, v): the gradient of ⟨v, f(x)⟩ in the inputs, one per input (None where f does not use it)."""
        xs, vs = args[:n], iter(args[n:])
        with enable_grad():  # gradcheck evaluates under no_grad; the gradient needs the forward's graph
            ys = _outputs(f(*xs))
            vs_now = [next(vs) if c else v for v, c in zip(seeds, checked)]
            return grad(list(ys), list(xs), vs_now, create_graph=True, allow_unused=True)

    checked_inputs = [*ins, *(v for v, c in zip(seeds, checked) if c)]
    settings = {"eps": eps, "atol": atol, "rtol": rtol, "raise_exception": False, "fast": fast,
                "directions": directions, "seed": seed}
    entries: list[GradcheckEntry] = []
    if all(isinstance(x, Value) for x in ins):  # one gradcheck per component of G: every pair, the full Hessian
        for k in range(n):
            report = gradcheck(lambda *args, k=k: _or_zero(gradient(*args)[k]), checked_inputs, **settings)
            entries += [replace(e, name=f"∂²L/∂{names[k]}∂{e.name}") for e in report.entries]
    else:
        report = gradcheck(lambda *args: _joined(gradient(*args), args[:n]), checked_inputs, **settings)
        of = [f"{name}[{', '.join(map(str, idx))}]" for name, x in zip(names, ins) for idx in np.ndindex(x.shape)]
        entries = [_renamed(e, of) for e in report.entries]
        if len(of) == 1:  # G is one number: each row is a second derivative with it
            entries = [replace(e, name=f"∂²L/∂{of[0]}∂{e.name}") for e in entries]
        elif not any(_JACOBIAN_ENTRY.match(e.name) for e in report.entries):  # G was projected
            entries = [replace(e, name=f"∂⟨R, G⟩/∂{e.name}") for e in entries]
            notes = [m for m in report.notes if not m.startswith("f returns")] + [
                f"G = ∂L/∂x has {len(of)} elements, checked as ⟨R, G⟩ for a fixed random R (seed 0): each row is a "
                "sum of second derivatives weighted by R; small gradients are checked entry by entry"]
            report = replace(report, notes=tuple(notes))
    result = GradgradcheckReport(tuple(entries), atol, rtol, (*report.notes, NOTE), report.max_rows)
    if not result.ok and raise_exception:
        w = result.worst
        assert w is not None
        raise GradcheckError(
            f"gradgradcheck failed: worst is {w.name}: analytic {w.analytic!r} vs numeric {w.numeric!r} "
            f"(error {w.error:.3g} > atol {atol:g} + rtol {rtol:g}·|numeric| + uncertainty {w.uncertainty:.2g})\n"
            f"{result}",
            result,
        )
    return result


_JACOBIAN_ENTRY = re.compile(r"^∂out\[(\d+)\]/∂(.*)$")


def _renamed(e: GradcheckEntry, of: list[str]) -> GradcheckEntry:
    """gradcheck's '∂out[k]/∂x[2]' (entry k of the joined gradient G) as the second derivative it is: '∂²L/∂w[1]∂x[2]'
    when G's entry k is ∂L/∂w[1]. Other rows (a projection of G, a random direction) keep their names."""
    m = _JACOBIAN_ENTRY.match(e.name)
    return replace(e, name=f"∂²L/∂{of[int(m.group(1))]}∂{m.group(2)}") if m else e


def _or_zero(g: Value | None) -> Value:
    return Value(0.0) if g is None else g


def _as_list(inputs: Input | Sequence[Input]) -> list[Input]:
    if isinstance(inputs, (Value, Tensor)):
        return [inputs]
    if isinstance(inputs, Iterable):
        return list(inputs)
    raise TypeError(f"gradgradcheck: inputs must be a Value, a Tensor or a list of them, got {type(inputs).__name__}")


def _outputs(out: Any) -> tuple[Input, ...]:
    outs = tuple(out) if isinstance(out, (tuple, list)) else (out,)
    if not outs or not all(isinstance(o, (Value, Tensor)) for o in outs):
        raise TypeError(f"gradgradcheck: f must return a Value or a Tensor, or a tuple of them, got {out!r:.80}")
    return outs


def _seeds(grad_outputs: Any, outs: tuple[Input, ...], seed: int) -> tuple[list[Any], list[bool]]:
    """One v per output, and whether it is checked (a leaf Value, or a Tensor that requires grad)."""
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        seeds: list[Any] = []
        for i, o in enumerate(outs):
            label = f"grad_output {i}"
            if isinstance(o, Value):
                seeds.append(Value(float(rng.standard_normal()), label=label))
            else:
                v = rng.standard_normal(o.shape)
                seeds.append(Tensor(v, requires_grad=True, label=label))
        return seeds, [True] * len(seeds)
    given = list(grad_outputs) if isinstance(grad_outputs, (tuple, list)) else [grad_outputs]
    if len(given) != len(outs):
        raise ValueError(f"gradgradcheck: {len(given)} grad_outputs for {len(outs)} outputs; give one per output")
    checked = [isinstance(v, Value) or (isinstance(v, Tensor) and v.requires_grad) for v in given]
    return given, checked


def _joined(gs: Sequence[Tensor | None], xs: Sequence[Tensor]) -> Tensor:
    """The gradients as one flat Tensor gradcheck can check, in input order (None, an unused input, counts as 0)."""
    parts = []
    for g, x in zip(gs, xs):
        if g is None:
            with no_grad():
                g = Tensor(np.zeros(x.shape, dtype=x.data.dtype))
        parts.append(g.reshape(-1))
    return cat(parts) if len(parts) > 1 else parts[0].clone()  # a copy: gradcheck keeps the numbers it reads
