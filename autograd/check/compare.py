"""compare: the table a learner wants after deriving gradients by hand — hand against autograd, name by name.

For each name, the hand gradient h and autograd's gradient a (the ``.grad`` backward() filled) are compared
element by element in the lower precision of the two dtypes:

* exact     h == a bit for bit;
* rounding  every element within a few ULPs (units in the last place), or within the dtype's tolerance
            |h − a| <= τ·|a| + τ·max|a| with τ = 512·eps (float32: 6e-5, float64: 1.1e-13): two correct
            derivations that add the same numbers in a different order differ by about that much;
* WRONG     anything else: a real mistake, not rounding.

The second term scales with the largest gradient of the tensor, not the element, because an element that is
small through cancellation (a sum of large terms of both signs) carries the rounding error of its terms.
Shapes that differ get a hint instead of a crash: transposed, a broadcast not summed, a missing keepdim.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from ..viz.format import html_table, num, text_table
from ..tensor import summed_axes, unbroadcast

ULP_ROUNDING = 4  # at most this many ULPs apart everywhere counts as rounding
_TOLERANCE_EPS = 512  # τ = 512·eps of the dtype compared in


@dataclass(frozen=True)
class CompareRow:
    """One name: the shapes, how far apart the two gradients are, and the verdict (exact, rounding, WRONG, missing)."""

    name: str
    hand_shape: tuple[int, ...] | None
    shape: tuple[int, ...] | None  # autograd's gradient's shape
    exact: bool
    close: bool  # numpy.allclose(h, a) with its defaults
    max_abs: float
    max_rel: float
    worst: tuple[int, ...] | None  # index of the element with the largest |h − a|
    ulps: float  # the largest distance in ULPs (inf when a sign or NaN differs hugely)
    verdict: str
    hint: str = ""

    @property
    def ok(self) -> bool:
        return self.verdict in ("exact", "rounding")


class CompareReport:
    """Every row ``compare`` made; ``ok`` when each is exact or rounding. ``report["dW1"]`` is one row."""

    def __init__(self, rows: list[CompareRow]) -> None:
        self.rows = rows

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.rows)

    def __getitem__(self, name: str) -> CompareRow:
        for r in self.rows:
            if r.name == name:
                return r
        raise KeyError(f"compare: no row named {name!r}; rows are {[r.name for r in self.rows]}")

    def __iter__(self):
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    _HEADERS = ("name", "shape", "exact?", "close?", "max abs diff", "max rel diff", "worst at", "ULPs", "verdict")
    _RIGHT = (False, False, False, False, True, True, False, True, False)

    def _cells(self, r: CompareRow) -> list[str]:
        if r.hand_shape is not None and r.shape is not None and r.hand_shape != r.shape:
            shape = f"{_shape(r.hand_shape)} vs {_shape(r.shape)}"
        else:
            shape = _shape(r.shape if r.shape is not None else r.hand_shape)
        same = r.hand_shape == r.shape and r.verdict != "missing"
        ulps = "" if not same else ("huge" if r.ulps > 1e15 else f"{r.ulps:.0f}")
        worst = "" if r.worst is None else str(r.worst) if len(r.worst) != 1 else f"({r.worst[0]})"
        return [r.name, shape, _yes(r.exact) if same else "", _yes(r.close) if same else "",
                num(r.max_abs, 3) if same else "", num(r.max_rel, 3) if same else "", worst, ulps, r.verdict]

    def _summary(self) -> str:
        bad = [r.name for r in self.rows if not r.ok]
        if not bad:
            return f"all {len(self.rows)} gradients match (exact or rounding)"
        return f"{len(bad)} of {len(self.rows)} do not match: {', '.join(bad)}"

    def __str__(self) -> str:
        table = text_table(self._HEADERS, [self._cells(r) for r in self.rows], self._RIGHT)
        hints = [f"  {r.name}: {r.hint}" for r in self.rows if r.hint]
        return "\n".join([table] + (["hints:"] + hints if hints else []) + [self._summary()])

    def __repr__(self) -> str:
        return f"<CompareReport: {self._summary()}>\n{self}"

    def _repr_html_(self) -> str:
        rows = [self._cells(r) for r in self.rows]
        footer = [self._summary()] + [f"{r.name}: {r.hint}" for r in self.rows if r.hint]
        return html_table(self._HEADERS, rows, [r.verdict for r in self.rows], self._RIGHT, "hand vs autograd", footer)


def compare(hand: Mapping[str, object], autograd: object) -> CompareReport:
    """Compare hand-derived gradients with autograd's, one row per name of ``hand``.

    ``hand`` maps names to arrays (or numbers). ``autograd`` maps the same names to the Tensors or Values whose
    ``.grad`` backward() filled (or to plain arrays), or is a Module, whose ``named_parameters()`` supply them.
    """
    if not isinstance(hand, Mapping):
        raise TypeError(f"compare: hand must be a dict of name -> array, got {type(hand).__name__}")
    if hasattr(autograd, "named_parameters") and not isinstance(autograd, Mapping):
        autograd = dict(autograd.named_parameters())
    if not isinstance(autograd, Mapping):
        raise TypeError(f"compare: autograd must be a dict of name -> Tensor/Value or a Module, got {type(autograd).__name__}")
    return CompareReport([_row(name, h, autograd) for name, h in hand.items()])


def _row(name: str, h: object, others: Mapping[str, object]) -> CompareRow:
    hand = _as_array(h, f"hand[{name!r}]")
    if name not in others:
        have = ", ".join(map(str, others)) or "nothing"
        return _missing(name, hand.shape, None, f"no autograd gradient named {name!r} (have: {have})")
    ref = _grad_of(others[name], name)
    if ref is None:
        return _missing(name, hand.shape, None,
                        f"{name!r} has no .grad: has backward() run, and does it require grad?")
    if hand.shape != ref.shape:
        return _missing(name, hand.shape, ref.shape, _fix_hint(hand, ref), verdict="WRONG")
    return _judge(name, hand, ref)


def _missing(name: str, hand_shape: tuple | None, shape: tuple | None, hint: str, verdict: str = "missing") -> CompareRow:
    nan = float("nan")
    return CompareRow(name, hand_shape, shape, False, False, nan, nan, None, float("inf"), verdict, hint)


def _judge(name: str, hand: np.ndarray, ref: np.ndarray) -> CompareRow:
    dtype = _common_dtype(hand, ref)
    shape = hand.shape
    # Flat views: the arithmetic below needs arrays even for 0-d gradients (a Value's).
    h, a = hand.astype(dtype).reshape(-1), ref.astype(dtype).reshape(-1)
    exact = bool(np.array_equal(h, a, equal_nan=True))
    diff = np.abs(h.astype(np.float64) - a.astype(np.float64))
    both_nan = np.isnan(h) & np.isnan(a)
    diff[both_nan] = 0.0
    diff[np.isnan(diff)] = np.inf  # NaN on one side only, or inf − inf of opposite signs
    scale = float(np.max(np.abs(a), initial=0.0, where=np.isfinite(a)))
    rel = diff / np.maximum(np.abs(a.astype(np.float64)), np.finfo(dtype).tiny)
    rel[diff == 0] = 0.0
    worst = None
    if diff.size and diff.max() > 0:
        worst = tuple(int(i) for i in np.unravel_index(int(np.argmax(diff)), shape))
    ulps = _ulps(h, a)
    ulps[both_nan] = 0
    max_ulps = float(ulps.max(initial=0.0))
    tau = _TOLERANCE_EPS * float(np.finfo(dtype).eps)
    within = bool(np.all(diff <= tau * np.abs(a.astype(np.float64)) + tau * scale))
    close = bool(np.allclose(h, a, equal_nan=True))
    verdict = "exact" if exact else "rounding" if (max_ulps <= ULP_ROUNDING or within) else "WRONG"
    hint = ""
    if verdict == "WRONG" and worst is not None:
        k = int(np.argmax(diff))
        hint = f"worst at {worst}: hand {num(float(h[k]), 6)}, autograd {num(float(a[k]), 6)}"
        if np.isnan(h).any() or np.isnan(a).any():
            hint += " (NaN present)"
    return CompareRow(name, shape, ref.shape, exact, close, float(diff.max(initial=0.0)),
                      float(rel.max(initial=0.0)), worst, max_ulps, verdict, hint)


def _ulps(h: np.ndarray, a: np.ndarray) -> np.ndarray:
    """|ordinal(h) − ordinal(a)|: how many representable numbers lie between them (as float64, exact below 2⁵³)."""
    ints = {np.dtype(np.float16): np.int16, np.dtype(np.float32): np.int32, np.dtype(np.float64): np.int64}[h.dtype]

    def ordinal(x: np.ndarray) -> np.ndarray:
        i = x.view(ints).astype(np.float64)
        magnitude = (x.view(ints) & np.iinfo(ints).max).astype(np.float64)
        return np.where(i < 0, -magnitude, magnitude)  # floats are sign-magnitude; make them one number line

    with np.errstate(invalid="ignore"):
        d = np.abs(ordinal(h) - ordinal(a))
    d[np.isnan(h) | np.isnan(a)] = np.inf
    return d


def _common_dtype(*arrays: np.ndarray) -> np.dtype:
    """The lowest floating precision among the arrays (integers count as float64)."""
    floats = [x.dtype for x in arrays if x.dtype.kind == "f" and x.dtype.itemsize <= 8]
    return min(floats, key=lambda d: d.itemsize, default=np.dtype(np.float64)) if floats else np.dtype(np.float64)


def _as_array(x: object, what: str) -> np.ndarray:
    """``x`` (an array, a number, or a Tensor/Value: its data) as a float array; TypeError naming ``what`` if it
    holds no numbers."""
    data = getattr(x, "data", x) if not isinstance(x, np.ndarray) else x
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        shown = repr(x) if len(repr(x)) <= 40 else repr(x)[:37] + "..."
        raise TypeError(f"compare: {what} is {type(x).__name__} {shown}, not a number or an array of numbers")
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


def _grad_of(x: object, name: str) -> np.ndarray | None:
    """autograd's side: a Tensor's or Value's ``.grad`` (None if it has none), or the array itself."""
    if hasattr(x, "grad") and hasattr(x, "data"):
        g = x.grad
        return None if g is None else _as_array(g, f"autograd[{name!r}].grad")
    return _as_array(x, f"autograd[{name!r}]")


# -- shape hints ----------------------------------------------------------------------------------------


def shape_hint(got: tuple[int, ...], want: tuple[int, ...], what: str = "hand gradient", against: str = "parameter") -> str:
    """Why a gradient of shape ``got`` may not fit ``want``: transposed, a broadcast not summed, keepdim, ...

    Returns a sentence such as "hand gradient is (10, 128), parameter is (128, 10): transposed?".
    """
    head = f"{what} is {_shape(got)}, {against} is {_shape(want)}"
    fix = _fix(got, want)
    if fix is None:
        return f"{head}: the shapes do not match"
    return f"{head}: {fix[0]}"


def _fix(got: tuple[int, ...], want: tuple[int, ...]):
    """(hint, function turning a ``got`` array into a ``want`` one) for the usual slips, or None."""
    if len(got) == len(want) >= 2 and got == want[::-1]:
        return "transposed?", lambda x: x.T
    if len(got) == len(want) > 2 and sorted(got) == sorted(want):
        return "axes in another order (transpose/permute)?", None
    axes = summed_axes(got, want)
    if axes:
        lead = len(got) - len(want)
        keep = [a for a in axes if a >= lead]
        text = f"sum over axis {axes[0]}?" if len(axes) == 1 else f"sum over axes {axes}?"
        if keep:
            text = text[:-1] + " with keepdims?"
        return text, lambda x: unbroadcast(x, want)
    for i in range(len(got)) if len(got) == len(want) + 1 else ():  # per-example gradients along another axis
        if got[:i] + got[i + 1:] == want:
            return f"sum over axis {i}?", lambda x, i=i: x.sum(axis=i)
    if [n for n in got if n != 1] == [n for n in want if n != 1]:
        if len(got) < len(want):
            return f"missing keepdim? reshape to {_shape(want)}", lambda x: x.reshape(want)
        return f"an extra axis of size 1: squeeze to {_shape(want)}?", lambda x: x.reshape(want)
    return None


def _fix_hint(hand: np.ndarray, ref: np.ndarray) -> str:
    """The shape hint, and whether the hand gradient matches once the slip is undone."""
    text = shape_hint(hand.shape, ref.shape)
    fix = _fix(hand.shape, ref.shape)
    if fix is None or fix[1] is None:
        return text
    fixed = _judge("", fix[1](hand), ref)
    if fixed.ok:
        return f"{text} (then it matches: {fixed.verdict})"
    return f"{text} (even then it is WRONG: max abs diff {num(fixed.max_abs, 3)})"


def _shape(shape: tuple[int, ...] | None) -> str:
    return "?" if shape is None else str(tuple(int(n) for n in shape))


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
