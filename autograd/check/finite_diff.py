"""gradcheck: compare backward()'s gradients with finite differences you can trust, input by input.

For an input element xᵢ (or a direction v) the numeric derivative is the central difference

    D(h) = (f(x + h·v) − f(x − h·v)) / 2h        (error c·h², computed in float64)

and it comes with its own error bar. D(2h) has error 4c·h², so |D(h) − D(2h)| (three times D(h)'s
truncation error, Richardson's estimate) plus the rounding in the f values (≈ eps·|f|/h) is the finite
difference's uncertainty. An element passes when

    |analytic − numeric| <= atol + rtol·|numeric| + uncertainty,

so a mismatch is a real one only if it is larger than both your tolerance and what finite differences can
resolve there.

Kinks. At a non-differentiable point (relu or abs at 0, a max with ties) the one-sided derivatives
(f(x+h) − f(x))/h and (f(x) − f(x−h))/h differ by a jump that does not shrink with h (on a smooth function
their gap is f''·h). Such an element is reported as "kink" — non-differentiable here — and passes if the
analytic value lies between the two one-sided derivatives (relu'(0) = 0, |x|'(0) = 0, ties split), instead
of a false failure or a false pass.

A Tensor-valued f. With a small output (at most ``JACOBIAN_ROWS`` elements, and no input in the fast mode
below) every output element is checked on its own: the rows are Jacobian entries ∂fₖ/∂xᵢ ('∂out[1]/∂x[2]'),
one backward pass per output element, each finite difference of x shared by all of them. A larger output is
reduced to a scalar first, ⟨R, f(x)⟩ = Σₖ Rₖ fₖ(x) with a fixed random R (seed 0), so that every output
element's gradient takes part in one backward pass: each row is then a directional derivative of f weighted
by R, not ∂f/∂x itself, and the report says so. (R is all ones for a one-element output.) float32 inputs are
checked through float64 copies (with a warning): in float32 a central difference is accurate to about 1e-3 at
best.

Large inputs (more than ``FAST_ABOVE`` elements) are checked along a few random directions v first: the
analytic side is ⟨∇f, v⟩ from one backward pass, the numeric side one central difference along v. When a
direction fails, the check narrows down by halving: random directions on each half of the elements, into
the halves that fail, down to single elements, which are then reported one by one.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from ..graph import no_grad
from ..tensor import Tensor
from ..value import Value
from ..viz.format import html_table, num, text_table

Input = Value | Tensor
FAST_ABOVE = 100  # Tensor inputs with more elements than this are checked along random directions first
JACOBIAN_ROWS = 16  # a Tensor output with at most this many elements is checked entry by entry (∂fₖ/∂xᵢ)
MAX_NARROWED = 8  # stop narrowing down after this many failing elements of one input
_EPS64 = float(np.finfo(np.float64).eps)


class GradcheckError(AssertionError):
    """The analytic gradient disagrees with finite differences; ``.report`` holds every comparison."""

    def __init__(self, message: str, report: GradcheckReport) -> None:
        super().__init__(message)
        self.report = report


@dataclass(frozen=True)
class Numeric:
    """A finite-difference derivative with its error bar, and the one-sided derivatives for kink detection."""

    value: float  # the central difference D(h)
    uncertainty: float  # |D(h) − D(2h)| + rounding: how far D(h) may be from the true derivative
    left: float  # (f(x) − f(x − h)) / h
    right: float  # (f(x + h) − f(x)) / h
    kink: bool  # left and right differ by a jump that does not shrink with h


def numeric_derivative(phi: Callable[[float], float], h: float, atol: float, rtol: float, phi0: float | None = None,
                       eps: float = _EPS64) -> Numeric:
    """d/dt φ(t) at t = 0 from φ(±h), φ(±2h) and φ(0) (``phi0`` if already known); see the module docstring.
    ``eps`` is the machine epsilon of the arithmetic φ is computed in (float64 unless told otherwise)."""
    f0 = phi(0.0) if phi0 is None else phi0
    fp, fm, fp2, fm2 = phi(h), phi(-h), phi(2 * h), phi(-2 * h)
    d1 = (fp - fm) / (2 * h)
    d2 = (fp2 - fm2) / (4 * h)
    right, left = (fp - f0) / h, (f0 - fm) / h
    jump1 = right - left  # f''·h on a smooth function, the jump at a kink
    jump2 = (fp2 - f0) / (2 * h) - (f0 - fm2) / (2 * h)  # f''·2h, or the same jump
    rounding = 4 * eps * max(abs(f0), abs(fp), abs(fm), abs(fp2), abs(fm2)) / h
    threshold = atol + rtol * max(abs(left), abs(right)) + 4 * rounding
    kink = abs(jump1) > threshold and abs(jump2 - jump1) < 0.5 * abs(jump1)
    return Numeric(d1, abs(d1 - d2) + rounding, left, right, bool(kink))


@dataclass(frozen=True)
class GradcheckEntry:
    """One comparison: an input element ('a', 'input 1', 'input 0[2, 1]') or a random direction
    ('W · direction 1'), both derivatives, the gap, the finite difference's uncertainty and the verdict:
    'ok', 'FAIL' or 'kink' (non-differentiable here; ``left``/``right`` are the one-sided derivatives)."""

    name: str
    analytic: float
    numeric: float
    error: float  # |analytic - numeric| (for a kink: how far analytic lies outside [left, right])
    ok: bool
    uncertainty: float = 0.0
    status: str = "ok"
    left: float = math.nan
    right: float = math.nan


def verdict(name: str, analytic: float, n: Numeric, scale: float, atol: float, rtol: float,
            single: bool = True) -> GradcheckEntry:
    """One comparison judged (gradcheck's and audit's rule): a miss beyond atol + rtol·scale + uncertainty fails.

    At a kink the analytic value passes if it lies between the one-sided derivatives (within the same
    tolerance). Along a direction that moves many elements (``single`` False) a kink may be several kinks at
    once (relu of a tensor with exact zeros), each with its own one-sided slopes: no single interval bounds the
    derivative, so such a check is reported as a kink without a verdict on the analytic value.
    """
    if n.kink and not single:
        return GradcheckEntry(name, analytic, n.value, 0.0, True, n.uncertainty, "kink", n.left, n.right)
    if n.kink:
        lo, hi = min(n.left, n.right), max(n.left, n.right)
        outside = max(lo - analytic, analytic - hi, 0.0)
        ok = outside <= atol + rtol * max(abs(lo), abs(hi)) + n.uncertainty
        return GradcheckEntry(name, analytic, n.value, outside, ok, n.uncertainty, "kink" if ok else "FAIL",
                              n.left, n.right)
    error = abs(analytic - n.value)
    ok = error <= atol + rtol * scale + n.uncertainty  # False for nan, as it should be
    return GradcheckEntry(name, analytic, n.value, error, ok, n.uncertainty, "ok" if ok else "FAIL")


@dataclass(frozen=True)
class GradcheckReport:
    """Every comparison gradcheck made, in input order. ``ok`` if none failed (kinks do not fail);
    ``worst`` is the largest miss relative to its tolerance. Prints failing rows first."""

    entries: tuple[GradcheckEntry, ...]
    atol: float
    rtol: float
    notes: tuple[str, ...] = ()
    max_rows: int = 12  # passing rows shown when printed (failures and kinks are always shown)

    @property
    def ok(self) -> bool:
        return all(e.ok for e in self.entries)

    @property
    def failures(self) -> tuple[GradcheckEntry, ...]:
        return tuple(e for e in self.entries if not e.ok)

    @property
    def kinks(self) -> tuple[GradcheckEntry, ...]:
        return tuple(e for e in self.entries if e.status == "kink")

    @property
    def worst(self) -> GradcheckEntry | None:
        """The entry with the largest error relative to its tolerance (None when there are no inputs)."""
        def badness(e: GradcheckEntry) -> float:
            tol = self.atol + self.rtol * abs(e.numeric) + e.uncertainty
            if math.isnan(e.error) or (tol <= 0 and e.error > 0):
                return math.inf
            return e.error / tol if tol > 0 else 0.0
        candidates = self.failures or self.entries
        return max(candidates, key=badness, default=None)

    def summary(self) -> str:
        bad, kinks = len(self.failures), len(self.kinks)
        passed = len(self.entries) - bad - kinks
        parts = [f"{bad} FAIL"] if bad else []
        parts.append(f"{passed} pass")
        if kinks:
            parts.append(f"{kinks} non-differentiable here (kink)")
        return "gradcheck: " + ", ".join(parts)

    _HEADERS = ("input", "analytic", "numeric", "± numeric", "error", "verdict", "note")
    _RIGHT = (False, True, True, True, True, False, False)

    def _shown(self) -> tuple[list[GradcheckEntry], int]:
        order = {"FAIL": 0, "kink": 1, "ok": 2}
        rows = sorted(self.entries, key=lambda e: order.get(e.status, 0))  # stable: input order within a group
        passing = [e for e in rows if e.status == "ok"]
        hidden = max(0, len(passing) - self.max_rows)
        return rows[: len(rows) - hidden], hidden

    @staticmethod
    def _cells(e: GradcheckEntry) -> list[str]:
        note = ""
        if not math.isnan(e.left):  # only kinks carry one-sided derivatives
            note = f"one-sided {num(e.left, 4)} / {num(e.right, 4)}"
            note = ("non-differentiable here: " if e.status == "kink" else "outside ") + note
        return [e.name, num(e.analytic, 8), num(e.numeric, 8), num(e.uncertainty, 2), num(e.error, 3), e.status, note]

    def __str__(self) -> str:
        rows, hidden = self._shown()
        lines = [self.summary(), text_table(self._HEADERS, [self._cells(e) for e in rows], self._RIGHT)]
        if hidden:
            lines.append(f"… and {hidden} more that pass")
        return "\n".join(lines + list(self.notes))

    def __repr__(self) -> str:
        return f"<GradcheckReport: {self.summary()}>\n{self}"

    def _repr_html_(self) -> str:
        rows, hidden = self._shown()
        footer = ([f"… and {hidden} more that pass"] if hidden else []) + list(self.notes)
        return html_table(self._HEADERS, [self._cells(e) for e in rows], [e.status for e in rows], self._RIGHT,
                          self.summary(), footer)


def gradcheck(
    f: Callable[..., Value | Tensor],
    inputs: Input | Sequence[Input],
    eps: float = 1e-6,
    atol: float = 1e-5,
    rtol: float = 1e-3,
    raise_exception: bool = True,
    fast: bool | None = None,
    directions: int = 2,
    seed: int = 0,
) -> GradcheckReport:
    """Check ``f(*inputs)``'s gradient against central finite differences; return the report.

    ``f`` returns a Value, or a Tensor (reduced to ⟨R, f⟩ with a fixed random R). Each element passes when
    |analytic − numeric| <= atol + rtol·|numeric| + the finite difference's own uncertainty; kinks are
    reported, not failed. ``fast`` (default: for Tensor inputs above ``FAST_ABOVE`` elements) checks
    ``directions`` random directions per input and narrows a failure down to its elements. Raises
    ``GradcheckError`` naming the worst input with its analytic and numeric derivatives (or returns the
    failing report if ``raise_exception`` is False).
    """
    if not callable(f):
        raise TypeError(f"gradcheck: f must be a function of the inputs returning a Value or Tensor, got "
                        f"{type(f).__name__}; write gradcheck(lambda x: ..., [x])")
    if not (isinstance(eps, (int, float)) and eps > 0 and math.isfinite(eps)):
        raise ValueError(f"gradcheck: eps is the finite-difference step and must be a number > 0, got {eps!r}")
    if isinstance(inputs, (Value, Tensor)):
        given: list[Input] = [inputs]
    elif isinstance(inputs, Iterable):
        given = list(inputs)
    else:
        raise TypeError(f"gradcheck: inputs must be a Value, a Tensor or a list of them, got {type(inputs).__name__}")
    ins, notes = _checked_inputs(given)
    fast_for = [isinstance(x, Tensor) and (fast if fast is not None else x.data.size > FAST_ABOVE) for x in ins]
    saved_grads = [x.grad.copy() if isinstance(x, Tensor) and x.grad is not None else x.grad for x in ins]
    try:
        analytic, projection, base = _analytic(f, ins)
        rows = None
        if projection is not None and 1 < projection.size <= JACOBIAN_ROWS and not any(fast_for):
            rows = _jacobian_rows(f, ins, projection.shape)
    finally:
        for x, g in zip(ins, saved_grads):
            x.grad = g

    rng = np.random.default_rng(seed)
    entries: list[GradcheckEntry] = []
    if rows is not None:
        probe = _Probe(f, ins, None, 0.0, eps, atol, rtol)
        for i, x in enumerate(ins):
            name = x.label or f"input {i}"
            for idx in [None] if isinstance(x, Value) else list(np.ndindex(x.data.shape)):
                entries.extend(probe.jacobian_column(name, i, idx, rows))
    else:
        if projection is not None and projection.size > 1:
            notes.append(_projection_note(projection.shape))
        probe = _Probe(f, ins, projection, base, eps, atol, rtol)
        for i, x in enumerate(ins):
            name = x.label or f"input {i}"
            if isinstance(x, Value):
                entries.append(probe.element(name, i, None, float(analytic[i])))
                continue
            if not fast_for[i]:
                for idx in np.ndindex(x.data.shape):
                    entries.append(probe.element(_element_name(name, idx), i, idx, float(analytic[i][idx])))
                continue
            entries.extend(probe.directions(name, i, analytic[i], directions, rng))

    report = GradcheckReport(tuple(entries), atol, rtol, tuple(notes))
    if not report.ok and raise_exception:
        w = report.worst
        assert w is not None
        raise GradcheckError(
            f"gradcheck failed: worst is {w.name}: analytic {w.analytic!r} vs numeric {w.numeric!r} "
            f"(error {w.error:.3g} > atol {atol:g} + rtol {rtol:g}·|numeric| + uncertainty {w.uncertainty:.2g})"
            f"\n{report}",
            report,
        )
    return report


def _element_name(name: str, idx: tuple[int, ...]) -> str:
    return f"{name}[{', '.join(map(str, idx))}]"


def _projection_note(shape: tuple[int, ...]) -> str:
    return (f"f returns a tensor of shape {tuple(shape)}: each row is the derivative of ⟨R, f⟩ = Σₖ Rₖ·fₖ for a fixed "
            f"random R (seed 0), a directional derivative of f weighted by R, not ∂f/∂x itself (outputs of at most "
            f"{JACOBIAN_ROWS} elements are checked entry by entry; autograd.functional.jacobian gives ∂f/∂x)")


def _jacobian_rows(f: Callable[..., Value | Tensor], ins: list[Input], shape: tuple[int, ...]) -> list[list]:
    """∂fₖ/∂(each input) for every output element k: one backward pass each, seeded with the unit vector eₖ."""
    rows = []
    for k in np.ndindex(shape):
        unit = np.zeros(shape)
        unit[k] = 1.0
        for x in ins:
            x.grad = 0.0 if isinstance(x, Value) else None
        out = f(*ins)
        if out.requires_grad:
            out.backward(unit.astype(out.data.dtype))
        rows.append([float(x.grad) if isinstance(x, Value) else
                     (np.zeros(x.shape) if x.grad is None else np.asarray(x.grad, dtype=np.float64)) for x in ins])
    return rows


def _checked_inputs(given: list[Input]) -> tuple[list[Input], list[str]]:
    """The inputs gradcheck will perturb: the caller's own, or float64 copies of low-precision tensors."""
    if not given:
        raise ValueError("gradcheck needs at least one input")
    ins: list[Input] = []
    notes: list[str] = []
    for i, x in enumerate(given):
        if isinstance(x, Value):
            ins.append(x)
            continue
        if not isinstance(x, Tensor):
            raise TypeError(f"gradcheck: input {i} is a {type(x).__name__}; inputs must be Values or Tensors")
        if x.data.dtype.kind != "f":
            raise ValueError(f"gradcheck: input {i} has dtype {x.data.dtype}; only floating-point inputs have "
                             "gradients")
        if not x.requires_grad:
            raise ValueError(f"gradcheck: input {i} (shape {x.shape}) does not have requires_grad=True")
        if x.data.dtype != np.float64:
            message = (
                f"gradcheck: input {i} is {x.data.dtype}; finite differences in {x.data.dtype} are too coarse to "
                "check against (errors near 1e-3), so f is checked on a float64 copy of it instead"
            )
            warnings.warn(message, stacklevel=3)
            notes.append(f"input {i} ({x.data.dtype}) was checked as a float64 copy")
            x = Tensor(x.data.astype(np.float64), requires_grad=True, label=x.label)
        ins.append(x)
    return ins, notes


def _analytic(f: Callable[..., Value | Tensor], ins: list[Input]) -> tuple[list, np.ndarray | None, float]:
    """Gradients from one backward pass, the projection R for a Tensor output (else None), and f's value."""
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
    return grads, projection, _scalar(out, projection)


def _scalar(out: Value | Tensor, projection: np.ndarray | None) -> float:
    if isinstance(out, Value):
        return out.data
    return float(np.sum(projection * np.asarray(out.data, dtype=np.float64)))


class _Probe:
    """Evaluates f with one input moved along a direction, and turns that into verdicts."""

    def __init__(self, f: Callable, ins: list[Input], projection: np.ndarray | None, base: float,
                 eps: float, atol: float, rtol: float) -> None:
        self.f, self.ins, self.projection, self.base = f, ins, projection, base
        self.eps, self.atol, self.rtol = eps, atol, rtol

    def _phi(self, i: int, idx: tuple[int, ...] | None, v: np.ndarray | None) -> Callable[[float], float]:
        """φ(t) = f with input i moved by t at element ``idx`` (or along array ``v``); restores it after."""
        x = self.ins[i]

        def phi(t: float) -> float:
            if isinstance(x, Value):
                orig = x.data
                x.data = orig + t
            elif idx is not None:
                orig = x.data[idx]
                x.data[idx] = orig + t
            else:
                orig = x.data.copy()
                x.data += t * v
            try:
                with no_grad():
                    return _scalar(self.f(*self.ins), self.projection)
            finally:
                if isinstance(x, Value):
                    x.data = orig
                elif idx is not None:
                    x.data[idx] = orig
                else:
                    x.data[...] = orig

        return phi

    def jacobian_column(self, name: str, i: int, idx: tuple[int, ...] | None, rows: list[list]) -> list[GradcheckEntry]:
        """∂fₖ/∂xᵢ for every output element k at one input element: f's whole output at x ± h, x ± 2h computed
        once and shared by the k."""
        x = self.ins[i]
        outputs: dict[float, np.ndarray] = {}

        def output_at(t: float) -> np.ndarray:
            if t not in outputs:
                outputs[t] = self._moved_output(i, idx, t)
            return outputs[t]

        shape = output_at(0.0).shape
        where = name if idx is None else _element_name(name, idx)
        out = []
        for row, k in zip(rows, np.ndindex(shape)):
            n = numeric_derivative(lambda t, k=k: float(output_at(t)[k]), self.eps, self.atol, self.rtol)
            analytic = row[i] if isinstance(x, Value) else row[i][idx]
            out.append(verdict(f"∂out[{', '.join(map(str, k))}]/∂{where}", float(analytic), n, abs(n.value),
                               self.atol, self.rtol))
        return out

    def _moved_output(self, i: int, idx: tuple[int, ...] | None, t: float) -> np.ndarray:
        """f's output (float64) with input i moved by t at element ``idx`` (the whole Value if None)."""
        x = self.ins[i]
        if isinstance(x, Value):
            orig = x.data
            x.data = orig + t
        else:
            orig = x.data[idx]
            x.data[idx] = orig + t
        try:
            with no_grad():  # a copy: the output may be a view of the input (x.reshape(-1), x[0]) moved back below
                return np.array(self.f(*self.ins).data, dtype=np.float64)
        finally:
            if isinstance(x, Value):
                x.data = orig
            else:
                x.data[idx] = orig

    def element(self, name: str, i: int, idx: tuple[int, ...] | None, analytic: float) -> GradcheckEntry:
        n = numeric_derivative(self._phi(i, idx, None), self.eps, self.atol, self.rtol, self.base)
        return verdict(name, analytic, n, abs(n.value), self.atol, self.rtol)

    def along(self, name: str, i: int, grad: np.ndarray, v: np.ndarray) -> GradcheckEntry:
        """One random direction v: analytic ⟨∇f, v⟩ against the central difference along v. Tolerances scale
        with √Σ(gᵢvᵢ)², the size ⟨∇f, v⟩ would have without cancellation."""
        n = numeric_derivative(self._phi(i, None, v), self.eps, self.atol, self.rtol, self.base)
        terms = grad * v
        return verdict(name, float(terms.sum()), n, float(np.sqrt(np.sum(terms * terms))), self.atol, self.rtol,
                       single=np.count_nonzero(v) == 1)

    def directions(self, name: str, i: int, grad: np.ndarray, count: int,
                   rng: np.random.Generator) -> list[GradcheckEntry]:
        shape = self.ins[i].data.shape
        out = []
        for d in range(count):
            out.append(self.along(f"{name} · direction {d + 1}", i, grad, rng.standard_normal(shape)))
        if all(e.status == "ok" for e in out):
            return out
        return out + self._narrow(name, i, grad, rng)

    def _narrow(self, name: str, i: int, grad: np.ndarray, rng: np.random.Generator) -> list[GradcheckEntry]:
        """Halve the set of elements, keep the halves whose random direction does not pass, down to single
        elements (depth first, so the first bad element is found in about 2·log₂(size) checks)."""
        shape = self.ins[i].data.shape
        found: list[GradcheckEntry] = []
        stack = [np.arange(int(np.prod(shape)))]
        while stack and len(found) < MAX_NARROWED:
            subset = stack.pop()
            if subset.size == 1:
                idx = tuple(int(k) for k in np.unravel_index(int(subset[0]), shape))
                entry = self.element(_element_name(name, idx), i, idx, float(grad[idx]))
                if entry.status != "ok":
                    found.append(entry)
                continue
            halves = (subset[: subset.size // 2], subset[subset.size // 2:])
            for half in reversed(halves):  # reversed: the first half is popped first
                v = np.zeros(shape)
                v.flat[half] = rng.standard_normal(half.size)
                if self.along("", i, grad, v).status != "ok":
                    stack.append(half)
        return found
