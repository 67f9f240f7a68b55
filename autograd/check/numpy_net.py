"""check_numpy: check a network written in plain NumPy — its own forward, its own backward — as it is.

Most first networks are NumPy: a forward that computes a cost from arrays the network holds, and a backward
that returns gradient arrays (``dW1``, or Nielsen's ``nabla_b, nabla_w``). ``check_numpy`` needs nothing
rewritten in Tensors: it moves each parameter array *in place*, element by element, calls your loss, and
compares your gradient with the central finite difference, exactly as ``gradcheck`` does for Tensors:

    numeric   D(h) = (L(θ + h·eᵢ) − L(θ − h·eᵢ)) / 2h, with its error bar |D(h) − D(2h)| + rounding
    ok        |hand − numeric| <= atol + rtol·|numeric| + that error bar
    kink      the loss has a corner here (relu at 0, a max with ties): ok if the hand value lies between the
              one-sided derivatives
    WRONG     anything else; hints say what it looks like (a flipped sign, a constant factor, which elements,
              a transposed or unsummed shape)

One row per parameter, in ``compare``'s format: the worst element (largest miss relative to what is allowed
there), both values, and how many elements miss. Arrays above ``FAST_ABOVE`` elements are checked along a few
random directions v first (hand ⟨g, v⟩ against one central difference along v); a failing direction is
narrowed down by halving to the elements that miss. The arrays are restored exactly afterwards.

Intermediates. To check a gradient with respect to something the forward computes (δ = ∂C/∂z, ∂C/∂a), let the
loss take ``tap`` and pass the value through it: ``z2 = tap("z2", w2 @ a1 + b2)``. ``tap`` returns the value
itself, or the value moved by a finite-difference step when ``check_numpy`` probes that name; give the hand
gradient under the same name. (A default ``tap=lambda name, value: value`` keeps your forward working alone.)
"""
from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np

from ..viz.format import num
from .compare import CompareReport, CompareRow, _shape, shape_fix, value_hint
from .finite_diff import FAST_ABOVE, MAX_NARROWED, GradcheckEntry, numeric_derivative, verdict

Tap = Callable[[str, np.ndarray], np.ndarray]
_FLOAT32_STEP = 2.0 ** -10  # a float32 step: a power of two, so x ± h is exact for |x| < 2¹²


class NumpyCheckReport(CompareReport):
    """``compare``'s table against finite differences; ``numeric[name]`` is the numeric gradient (None for an
    array checked along random directions), ``entries[name]`` every comparison made for it."""

    def __init__(self, rows: list[CompareRow], numeric: dict[str, np.ndarray | None],
                 entries: dict[str, list[GradcheckEntry]], legend: str) -> None:
        super().__init__(rows, "numeric", legend)
        self.numeric = numeric
        self.entries = entries

    def __repr__(self) -> str:
        return f"<NumpyCheckReport: {self.summary()}>\n{self}"

    def summary(self) -> str:
        return "check_numpy" + super().summary().removeprefix("compare")


def check_numpy(loss: Callable[..., object], params: Mapping[str, object], grads: Mapping[str, object], *,
                eps: float | None = None, atol: float = 1e-5, rtol: float = 1e-3, fast: bool | None = None,
                directions: int = 2, seed: int = 0) -> NumpyCheckReport:
    """Check hand-derived gradients of a NumPy loss against central finite differences; see the module docstring.

    ``loss()`` computes the cost (a number) from the arrays your network holds; ``params`` names those very
    arrays (``{"W1": net.W1, ...}``; a list such as Nielsen's ``net.weights`` becomes ``weights[0]``, ...), which
    are moved in place and restored. ``grads`` maps the same names to your gradients (lists likewise), and may
    name intermediates the loss passes through ``tap`` (then it is called as ``loss(tap=...)``). ``eps``: the
    step (1e-6 for float64 arrays, 2⁻¹⁰ for float32). ``fast`` (default: arrays above ``FAST_ABOVE``
    elements) checks ``directions`` random directions and narrows a failure down to its elements.
    """
    if not callable(loss):
        raise TypeError(f"check_numpy: loss must be a function computing the cost from your arrays, got "
                        f"{type(loss).__name__}; write check_numpy(lambda: cost(net, x, y), params, grads)")
    arrays = _named(params, "params")
    hands = _named(grads, "grads")
    for name, a in arrays.items():
        if not isinstance(a, np.ndarray) or a.dtype.kind != "f":
            what = f"dtype {a.dtype}" if isinstance(a, np.ndarray) else type(a).__name__
            raise TypeError(f"check_numpy: params[{name!r}] must be a floating-point NumPy array (the one your loss "
                            f"reads, moved in place), got {what}")
    taps = [n for n in hands if n not in arrays]
    probe = _LossProbe(loss, taps)
    base = probe.value()
    rows: list[CompareRow] = []
    numeric: dict[str, np.ndarray | None] = {}
    entries: dict[str, list[GradcheckEntry]] = {}
    rng = np.random.default_rng(seed)
    for name, h in hands.items():
        target = arrays.get(name)
        if target is None:
            if name not in probe.seen:
                have = ", ".join(arrays) or "none"
                rows.append(CompareRow(name, _shape_of(h), None, "missing",
                                       f"{name!r} is neither a parameter ({have}) nor a value the loss passed "
                                       f"through tap({name!r}, ...)"))
                continue
            target = probe.seen[name]
        hand = np.asarray(getattr(h, "data", h))
        if hand.dtype.kind not in "biuf":
            raise TypeError(f"check_numpy: grads[{name!r}] is {type(h).__name__}, not an array of numbers")
        step = eps if eps is not None else (_FLOAT32_STEP if target.dtype == np.float32 else 1e-6)
        checker = _Checker(probe, name, name in arrays, target, base, step, atol, rtol)
        use_fast = fast if fast is not None else target.size > FAST_ABOVE
        if use_fast and hand.shape == target.shape:
            row, found = checker.along_directions(hand, directions, rng)
            numeric[name], entries[name] = None, found
        else:
            row, numeric[name], entries[name] = checker.elementwise(hand)
        rows.append(row)
    legend = ("allowed = atol + rtol·|numeric| + the finite difference's error bar (D(h) against D(2h), "
              f"and rounding); atol {atol:g}, rtol {rtol:g}")
    return NumpyCheckReport(rows, numeric, entries, legend)


def _named(given: Mapping[str, object], what: str) -> dict[str, object]:
    """{name: array}, lists and tuples of arrays spread out as name[0], name[1], ..."""
    if not isinstance(given, Mapping):
        raise TypeError(f"check_numpy: {what} must be a dict of name -> array, got {type(given).__name__}")
    out: dict[str, object] = {}
    for name, v in given.items():
        if isinstance(v, (list, tuple)) and v and not np.isscalar(v[0]) and np.ndim(v[0]) > 0:
            for i, item in enumerate(v):
                out[f"{name}[{i}]"] = item
        else:
            out[name] = v
    return out


def _shape_of(x: object) -> tuple[int, ...]:
    return tuple(np.shape(x))


class _LossProbe:
    """Calls the loss, with at most one array or tapped value moved; records the tapped values' shapes."""

    def __init__(self, loss: Callable[..., object], taps: Sequence[str]) -> None:
        self.loss = loss
        self.use_tap = bool(taps)
        self.seen: dict[str, np.ndarray] = {}
        self.moving: tuple[str, tuple[int, ...] | None, np.ndarray | None, float] | None = None
        if taps and not _accepts_tap(loss):
            raise TypeError(f"check_numpy: grads names {list(taps)}, which are not params: to check an intermediate, "
                            f"let the loss take tap= and pass the value through it, e.g. z2 = tap('z2', w2 @ a1 + b2)")

    def _tap(self, name: str, value: object) -> np.ndarray:
        arr = np.asarray(value)
        if name not in self.seen:
            self.seen[name] = np.array(arr, dtype=np.float64 if arr.dtype.kind != "f" else arr.dtype)
        if self.moving is None or self.moving[0] != name:
            return value  # untouched: the forward runs exactly as written
        _, idx, v, t = self.moving
        moved = np.array(arr, dtype=np.float64 if arr.dtype.kind != "f" else arr.dtype)
        if idx is not None:
            moved[idx] += t
        else:
            moved += t * v
        return moved

    def value(self) -> float:
        out = self.loss(tap=self._tap) if self.use_tap else self.loss()
        arr = np.asarray(out)
        if arr.dtype.kind not in "biuf" or arr.size != 1:
            raise TypeError(f"check_numpy: loss() must return one number (the cost), got {type(out).__name__}"
                            + (f" of shape {arr.shape}" if arr.dtype.kind in "biuf" else ""))
        return float(arr.reshape(()))

    def moved(self, name: str, array: np.ndarray | None, idx: tuple[int, ...] | None, v: np.ndarray | None,
              t: float) -> float:
        """The loss with ``array`` (a parameter, moved in place and restored) or the tapped value ``name`` moved
        by t at ``idx`` (or by t·v)."""
        if array is None:
            self.moving = (name, idx, v, t)
            try:
                return self.value()
            finally:
                self.moving = None
        saved = array[idx] if idx is not None else array.copy()
        try:
            if idx is not None:
                array[idx] = saved + t
            else:
                array += t * v
            return self.value()
        finally:
            if idx is not None:
                array[idx] = saved
            else:
                array[...] = saved


def _accepts_tap(loss: Callable[..., object]) -> bool:
    try:
        params = inspect.signature(loss).parameters
    except (TypeError, ValueError):
        return True
    return "tap" in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class _Checker:
    """Finite differences for one parameter or tapped value, judged as gradcheck judges them."""

    def __init__(self, probe: _LossProbe, name: str, is_param: bool, target: np.ndarray, base: float, step: float,
                 atol: float, rtol: float) -> None:
        self.probe, self.name, self.target, self.base = probe, name, target, base
        self.array = target if is_param else None
        self.step, self.atol, self.rtol = step, atol, rtol
        self.eps = float(np.finfo(target.dtype).eps)

    def _numeric(self, idx: tuple[int, ...] | None, v: np.ndarray | None = None):
        def phi(t: float) -> float:
            return self.probe.moved(self.name, self.array, idx, v, t)

        return numeric_derivative(phi, self.step, self.atol, self.rtol, self.base, eps=self.eps)

    def elementwise(self, hand: np.ndarray) -> tuple[CompareRow, np.ndarray, list[GradcheckEntry]]:
        shape = self.target.shape
        found: list[GradcheckEntry] = []
        numeric = np.empty(shape)
        for idx in np.ndindex(shape):
            n = self._numeric(idx)
            numeric[idx] = n.value
            analytic = float(hand[idx]) if hand.shape == shape else float("nan")
            found.append(verdict(_element(self.name, idx), analytic, n, abs(n.value), self.atol, self.rtol))
        if hand.shape != shape:
            return self._shape_row(hand, numeric, found), numeric, found
        return self._row(hand, numeric, found, list(np.ndindex(shape))), numeric, found

    def _shape_row(self, hand: np.ndarray, numeric: np.ndarray, found: list[GradcheckEntry]) -> CompareRow:
        head = f"hand gradient is {_shape(hand.shape)}, {self.name} is {_shape(numeric.shape)}"
        fix = shape_fix(hand.shape, numeric.shape)
        if fix is None:
            hint = f"{head}: the shapes do not match"
        else:
            hint = f"{head}: {fix[0]}"
            if fix[1] is not None:
                fixed = np.asarray(fix[1](hand))
                tol = np.array([self.atol + self.rtol * abs(e.numeric) + e.uncertainty for e in found])
                tol = tol.reshape(numeric.shape)
                hint += " (then it matches)" if np.all(np.abs(fixed - numeric) <= tol) else " (even then it is WRONG)"
        return CompareRow(self.name, hand.shape, numeric.shape, "WRONG", hint, size=int(numeric.size),
                          hand_dtype=str(hand.dtype), dtype=str(self.target.dtype))

    def _row(self, hand: np.ndarray, numeric: np.ndarray, found: list[GradcheckEntry],
             where: list[tuple[int, ...]]) -> CompareRow:
        """The row for per-element entries (all of them, or those a narrowing found)."""
        allowed = np.array([self.atol + self.rtol * max(abs(e.numeric), abs(e.left) if e.status == "kink" else 0.0,
                                                        abs(e.right) if e.status == "kink" else 0.0) + e.uncertainty
                            for e in found])
        errors = np.array([e.error for e in found])
        bad = [not e.ok for e in found]
        beyond = int(sum(bad))
        ratio = np.where(np.isfinite(errors), errors / np.maximum(allowed, 1e-300), np.inf)
        k = int(np.argmax(ratio)) if beyond else int(np.argmax(np.where(errors > 0, ratio, -1.0)))
        e = found[k]
        kinks = sum(x.status == "kink" for x in found)
        verdict_ = "WRONG" if beyond else ("kink" if kinks else "ok")
        hint = ""
        if beyond and numeric.shape == hand.shape:
            hint = value_hint(hand.reshape(-1), numeric.reshape(-1), allowed, beyond, where[k], "numeric",
                                "the error bar")
            if not np.any(numeric) and np.any(hand):
                hint = (f"the loss did not change when {self.name} moved: is it the array your loss reads (not a "
                        f"copy), and does the loss use it?")
        elif beyond:
            hint = f"{beyond} element(s) beyond the error bar; worst at {where[k]}"
        if kinks:
            hint = "; ".join(filter(None, [hint, f"{kinks} element(s) at a kink (non-differentiable here)"]))
        return CompareRow(self.name, hand.shape, self.target.shape, verdict_, hint,
                          max_abs=float(np.max(errors, initial=0.0)), worst=where[k], hand_value=e.analytic,
                          other_value=e.numeric, diff=e.error, allowed=float(allowed[k]), beyond=beyond,
                          size=int(self.target.size), hand_dtype=str(hand.dtype), dtype=str(self.target.dtype))

    def along_directions(self, hand: np.ndarray, count: int,
                         rng: np.random.Generator) -> tuple[CompareRow, list[GradcheckEntry]]:
        shape = self.target.shape
        checks = [self._along(f"{self.name} · direction {d + 1}", hand, rng.standard_normal(shape))
                  for d in range(count)]
        if all(c.status == "ok" for c in checks):
            k = max(range(count), key=lambda d: checks[d].error / (self.atol + self.rtol * abs(checks[d].numeric)
                                                                      + checks[d].uncertainty))
            e = checks[k]
            allowed = self.atol + self.rtol * abs(e.numeric) + e.uncertainty
            row = CompareRow(self.name, hand.shape, shape, "ok", f"checked along {count} random directions v: "
                             f"hand ⟨g, v⟩ against the numeric derivative along v", max_abs=e.error,
                             size=int(self.target.size), hand_dtype=str(hand.dtype), dtype=str(self.target.dtype),
                             hand_value=e.analytic, other_value=e.numeric, diff=e.error, allowed=allowed,
                             where=f"direction {k + 1}")
            return row, checks
        found = self._narrow(hand, rng)
        if not found:  # the directions fail but no single element does: report the worst direction
            e = max(checks, key=lambda c: c.error)
            return CompareRow(self.name, hand.shape, shape, "WRONG" if not e.ok else "kink",
                              f"{e.name} misses ({num(e.analytic, 6)} vs {num(e.numeric, 6)}), no single element does",
                              max_abs=e.error, size=int(self.target.size)), checks
        where = [_index(e.name) for e in found]
        row = self._row(hand, np.array([e.numeric for e in found]), found, where)
        hint = (f"checked along {count} random directions and narrowed down: {len(found)} element(s) miss"
                f"{' (stopped looking after ' + str(MAX_NARROWED) + ')' if len(found) >= MAX_NARROWED else ''}")
        seen = checks + found
        tol = np.array([self.atol + self.rtol * abs(e.numeric) + e.uncertainty for e in seen])
        if all(not e.ok for e in checks) and np.all(np.abs([e.analytic + e.numeric for e in seen]) <= tol):
            hint = f"hand = −numeric along every direction and element checked: a flipped sign?; {hint}"
        return replace(row, hint=hint, beyond=len(found)), seen

    def _along(self, name: str, hand: np.ndarray, v: np.ndarray) -> GradcheckEntry:
        n = self._numeric(None, v)
        terms = hand * v
        return verdict(name, float(terms.sum()), n, float(np.sqrt(np.sum(terms * terms))), self.atol, self.rtol,
                       single=np.count_nonzero(v) == 1)

    def _narrow(self, hand: np.ndarray, rng: np.random.Generator) -> list[GradcheckEntry]:
        """Halve the elements, keep halves whose random direction misses, down to single elements (as gradcheck)."""
        shape = self.target.shape
        found: list[GradcheckEntry] = []
        stack = [np.arange(self.target.size)]
        while stack and len(found) < MAX_NARROWED:
            subset = stack.pop()
            if subset.size == 1:
                idx = tuple(int(k) for k in np.unravel_index(int(subset[0]), shape))
                n = self._numeric(idx)
                entry = verdict(_element(self.name, idx), float(hand[idx]), n, abs(n.value), self.atol, self.rtol)
                if entry.status != "ok":
                    found.append(entry)
                continue
            halves = (subset[: subset.size // 2], subset[subset.size // 2:])
            for half in reversed(halves):
                v = np.zeros(shape)
                v.flat[half] = rng.standard_normal(half.size)
                if self._along("", hand, v).status != "ok":
                    stack.append(half)
        return found


def _element(name: str, idx: tuple[int, ...]) -> str:
    return f"{name}[{', '.join(map(str, idx))}]"


def _index(entry_name: str) -> tuple[int, ...]:
    inside = entry_name[entry_name.rindex("[") + 1:-1]
    return tuple(int(i) for i in inside.split(", ")) if inside else ()
