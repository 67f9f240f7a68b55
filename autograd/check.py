"""gradcheck: compare backward()'s gradients with central finite differences, input by input.

For each input element xᵢ the numeric derivative is

    ∂f/∂xᵢ ≈ (f(x + ε·eᵢ) - f(x - ε·eᵢ)) / 2ε        (error O(ε²), in float64)

and it must agree with the analytic one: |analytic - numeric| <= atol + rtol·|numeric|, the test of
``numpy.allclose``. A Tensor-valued f is reduced to a scalar first, ⟨R, f(x)⟩ with a fixed random R, so
that every output element's gradient takes part (R is all ones for a one-element output).

Inputs may be ``Value``s or float64 ``Tensor``s with ``requires_grad``; the caller's ``.grad`` and
``.data`` are restored afterwards.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from .graph import no_grad
from .tensor import Tensor
from .value import Value

Input = Value | Tensor


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with finite differences; ``.report`` holds every comparison."""

    def __init__(self, message: str, report: GradcheckReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class GradcheckEntry:
    """One input element: its name ('a', 'input 1', 'input 0[2, 1]'), both derivatives, and the gap."""

    name: str
    analytic: float
    numeric: float
    error: float  # |analytic - numeric|
    ok: bool


@dataclass(frozen=True)
class GradcheckReport:
    """Every comparison gradcheck made. ``ok`` if all passed; ``worst`` is the largest relative miss."""

    entries: tuple[GradcheckEntry, ...]
    atol: float
    rtol: float

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.entries)

    @property
    def worst(self) -> GradcheckEntry | None:
        """The entry with the largest error relative to its tolerance (None when there are no inputs)."""
        return max(self.entries, key=lambda e: e.error / (self.atol + self.rtol * abs(e.numeric)), default=None)

    def __str__(self) -> str:
        width = max([len(e.name) for e in self.entries] + [5])
        lines = [f"{'input':<{width}}  {'analytic':>14}  {'numeric':>14}  {'error':>10}"]
        for e in self.entries:
            flag = "" if e.ok else "  <-- FAIL"
            lines.append(f"{e.name:<{width}}  {e.analytic:>14.8g}  {e.numeric:>14.8g}  {e.error:>10.3g}{flag}")
        return "\n".join(lines)


def gradcheck(
    f: Callable[..., Value | Tensor],
    inputs: Input | Sequence[Input],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
) -> GradcheckReport:
    """Check ``f(*inputs)``'s gradient against central finite differences; return the report.

    ``f`` returns a Value, or a Tensor (reduced to ⟨R, f⟩ with a fixed random R). Raises
    ``GradcheckError`` naming the worst input with its analytic and numeric derivatives when any
    element misses ``atol + rtol·|numeric|`` (or returns the failing report if ``raise_exception`` is False).
    """
    ins: list[Input] = [inputs] if isinstance(inputs, (Value, Tensor)) else list(inputs)
    _check_inputs(ins)
    saved_grads = [x.grad.copy() if isinstance(x, Tensor) and x.grad is not None else x.grad for x in ins]
    try:
        analytic, projection = _analytic(f, ins)
    finally:
        for x, g in zip(ins, saved_grads):
            x.grad = g

    entries: list[GradcheckEntry] = []
    for i, x in enumerate(ins):
        if isinstance(x, Value):
            name = x.label or f"input {i}"
            numeric = _numeric_value(f, ins, x, projection, eps)
            entries.append(_entry(name, analytic[i], numeric, atol, rtol))
            continue
        base = f"{x.label or 'input ' + str(i)}"
        for idx in np.ndindex(x.data.shape):
            numeric = _numeric_element(f, ins, x, idx, projection, eps)
            where = ", ".join(map(str, idx))
            entries.append(_entry(f"{base}[{where}]", float(analytic[i][idx]), numeric, atol, rtol))

    report = GradcheckReport(tuple(entries), atol, rtol)
    if not report.ok and raise_exception:
        w = report.worst
        assert w is not None
        raise GradcheckError(
            f"gradcheck failed: worst is {w.name}: analytic {w.analytic!r} vs numeric {w.numeric!r} "
            f"(error {w.error:.3g} > atol {atol:g} + rtol {rtol:g}·|numeric|)\n{report}",
            report,
        )
    return report


def _check_inputs(ins: list[Input]) -> None:
    if not ins:
        raise ValueError("gradcheck needs at least one input")
    for i, x in enumerate(ins):
        if isinstance(x, Value):
            continue
        if not isinstance(x, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(x).__name__}; inputs must be Values or Tensors")
        if x.data.dtype != np.float64:
            raise ValueError(
                f"gradcheck: input {i} has dtype {x.data.dtype}; use float64 (finite differences in "
                "lower precision are too coarse to check against)"
            )
        if not x.requires_grad:
            raise ValueError(f"gradcheck: input {i} (shape {x.shape}) does not have requires_grad=True")


def _analytic(f: Callable[..., Value | Tensor], ins: list[Input]) -> tuple[list, np.ndarray | None]:
    """Gradients from one backward pass, and the projection R used for a Tensor output (else None)."""
    for x in ins:
        x.grad = 0.0 if isinstance(x, Value) else None
    out = f(*ins)
    projection = None
    if isinstance(out, Value):
        out.backward()
    elif isinstance(out, Tensor):
        if out.data.size == 1:
            projection = np.ones(out.shape, dtype=np.float64)
        else:  # fixed seed: the same R for the analytic pass and every finite difference
            projection = np.random.default_rng(0).standard_normal(out.shape)
        if out.requires_grad:
            out.backward(projection.astype(out.data.dtype))
    else:
        raise TypeError(f"gradcheck: f must return a Value or a Tensor, got {type(out).__name__}")
    grads = []
    for x in ins:
        if isinstance(x, Value):
            grads.append(float(x.grad))
        else:  # a tensor f did not use has grad None: its gradient is zero
            grads.append(np.zeros(x.shape) if x.grad is None else np.asarray(x.grad, dtype=np.float64))
    return grads, projection


def _scalar(out: Value | Tensor, projection: np.ndarray | None) -> float:
    if isinstance(out, Value):
        return out.data
    return float(np.sum(projection * np.asarray(out.data, dtype=np.float64)))


def _numeric_value(f: Callable, ins: list[Input], x: Value, projection: np.ndarray | None, eps: float) -> float:
    orig = x.data
    try:
        with no_grad():
            x.data = orig + eps
            plus = _scalar(f(*ins), projection)
            x.data = orig - eps
            minus = _scalar(f(*ins), projection)
    finally:
        x.data = orig
    return (plus - minus) / (2.0 * eps)


def _numeric_element(
    f: Callable, ins: list[Input], x: Tensor, idx: tuple[int, ...], projection: np.ndarray | None, eps: float
) -> float:
    orig = x.data[idx]
    try:
        with no_grad():
            x.data[idx] = orig + eps
            plus = _scalar(f(*ins), projection)
            x.data[idx] = orig - eps
            minus = _scalar(f(*ins), projection)
    finally:
        x.data[idx] = orig
    return (plus - minus) / (2.0 * eps)


def _entry(name: str, analytic: float, numeric: float, atol: float, rtol: float) -> GradcheckEntry:
    error = abs(analytic - numeric)
    ok = error <= atol + rtol * abs(numeric)  # False for nan, as it should be
    return GradcheckEntry(name, analytic, numeric, error, ok)
