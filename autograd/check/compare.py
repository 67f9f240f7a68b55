"""compare: the table a learner wants after deriving gradients by hand — hand against autograd, name by name.

Each row asks one question: is the hand gradient h the gradient a that autograd computed, up to rounding?

What counts as rounding. Two correct derivations of one gradient add and multiply the same numbers in another
order, so they differ by a few units in the last place (ULPs) of the *terms they summed*, and those may be far
larger than the result: a sum of large terms of both signs is small and carries their rounding. (The bias
before a batch norm is the extreme case: its true gradient is exactly 0, and both h and a are pure rounding.)
So a difference is judged against the rounding of the computation that produced the gradient, measured:

    noise ν    given ``root`` (the loss backward() ran from), compare runs that backward pass again, three
               times, with the seed 1 scaled by 1, 1.3 and 0.7. Every backward rule is linear in its incoming
               gradient, so the three results divided by their scale are the same numbers in exact arithmetic;
               how far apart they land is the rounding of this very computation, in its own dtype. ν is the
               largest such spread over the tensor.
    allowed    C·ν + 4 ULPs of the element, C = 8 (another order of the same sums rounds a little more or
               less). Where the hand and autograd dtypes differ, ν is rescaled to the lower precision
               (rounding grows with eps) and the tensor-scale estimate below may widen it.

Without ``root`` — or when autograd's side is plain numbers (an array, a Tensor that does not require grad, a
constant such as ``autograd.grad``'s or ``hessian``'s result) — nothing can be re-run, and the rounding is
estimated from the tensor: allowed = τ·(|aᵢ| + max|a|) + 4 ULPs, τ = 512·eps (float32 6e-5, float64 1.1e-13),
the scale of its largest entry. That estimate cannot see cancellation in a gradient whose every entry is tiny;
such a WRONG row says so and asks for ``root``.

Verdicts, read off the columns (each row shows the element with the largest diff/allowed, so its verdict is
"diff <= allowed" there):

    exact       h == a, every element
    rounding    |h − a| <= allowed everywhere
    precision: float32 vs float64
                the same, but the hand gradient and autograd's have different dtypes: they agree to the lower
                precision (judged there), which is all one can ask of them; compare like with like to see more
    WRONG       |h − a| > allowed somewhere, or a shape that is not autograd's: a real mistake. Hints say what it
                looks like: a flipped sign, a constant factor, only some elements, a transposed shape, a missing sum.
                (A shape that differs only by a size-1 axis — a keepdim — holds the same numbers: it is judged by
                them, with a keepdim hint.)
    missing     nothing to compare with; the hint says why (no such name, retain_grad(), backward())
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from ..tensor import Tensor, summed_axes, unbroadcast
from ..value import Value
from ..viz.format import html_table, num, text_table

ULP_ROUNDING = 4  # ULPs of the element itself that always count as rounding
NOISE_FACTOR = 8  # C: how much more rounding another derivation may show than the measured spread
SEED_SCALES = (1.0, 1.3, 0.7)  # the re-runs' seeds: scales that are not powers of 2, so roundings change
_TOLERANCE_EPS = 512  # τ = 512·eps of the dtype compared in, for the estimate without a root


@dataclass(frozen=True)
class CompareRow:
    """One name: its verdict and the numbers that decide it, at the element where |h − a| is largest relative to
    what rounding allows (``worst``). ``allowed`` is that allowance; ``noise`` the rounding measured by re-running
    backward (None when it was estimated from the tensor instead)."""

    name: str
    hand_shape: tuple[int, ...] | None
    shape: tuple[int, ...] | None  # autograd's gradient's shape
    verdict: str
    hint: str = ""
    max_abs: float = float("nan")  # max |h − a| over the tensor
    worst: tuple[int, ...] | None = None
    hand_value: float = float("nan")  # h at worst
    other_value: float = float("nan")  # a at worst
    diff: float = float("nan")  # |h − a| at worst
    allowed: float = float("nan")  # what rounding allows at worst
    beyond: int = 0  # how many elements exceed what rounding allows
    size: int = 0
    hand_dtype: str = ""
    dtype: str = ""
    noise: float | None = None
    where: str = ""  # what ``worst`` stands for when it is not an element (check_numpy: "direction 2")

    @property
    def ok(self) -> bool:
        """Exact, rounding, or agreeing to the lower of two precisions."""
        return self.verdict in ("exact", "rounding", "ok", "kink") or self.verdict.startswith("precision")

    @property
    def exact(self) -> bool:
        return self.verdict == "exact"


class CompareReport:
    """Every row ``compare`` made; ``ok`` when each is exact, rounding or precision. ``report["dW1"]`` is one row;
    ``summary()`` one line. ``against`` names the other side's column ("autograd", or "numeric" for
    ``check_numpy``)."""

    def __init__(self, rows: list[CompareRow], against: str = "autograd", legend: str = "") -> None:
        self.rows = rows
        self.against = against
        self.legend = legend

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

    def _headers(self) -> tuple[str, ...]:
        return ("name", "shape", "worst at", "hand", self.against, "diff", "allowed", "verdict")

    _RIGHT = (False, False, False, True, True, True, True, False)

    def _cells(self, r: CompareRow) -> list[str]:
        if r.hand_shape is not None and r.shape is not None and r.hand_shape != r.shape:
            shape = f"{_shape(r.hand_shape)} vs {_shape(r.shape)}"
        else:
            shape = _shape(r.shape if r.shape is not None else r.hand_shape)
        if r.worst is None and not r.where:
            return [r.name, shape, "", "", "", "", "", r.verdict]
        worst = r.where or (str(r.worst) if len(r.worst) != 1 else f"({r.worst[0]})")
        return [r.name, shape, worst, num(r.hand_value, 6), num(r.other_value, 6), num(r.diff, 3),
                num(r.allowed, 3), r.verdict]

    def summary(self) -> str:
        """One line: how many match and how, or which do not."""
        n = len(self.rows)
        bad = [r.name for r in self.rows if not r.ok]
        kinds: dict[str, int] = {}
        for r in self.rows:
            if r.ok:
                key = "to the lower precision" if r.verdict.startswith("precision") else r.verdict
                kinds[key] = kinds.get(key, 0) + 1
        how = ", ".join(f"{count} {kind}" for kind, count in kinds.items())
        if not bad:
            return f"compare: all {n} match ({how})"
        wrong = [r.name for r in self.rows if r.verdict == "WRONG"]
        missing = [r.name for r in self.rows if r.verdict == "missing"]
        parts = []
        if wrong:
            parts.append(f"{len(wrong)} WRONG ({', '.join(wrong)})")
        if missing:
            parts.append(f"{len(missing)} missing ({', '.join(missing)})")
        if n - len(bad):
            parts.append(f"{n - len(bad)} match")
        return f"compare: {len(bad)} of {n} do not match: " + "; ".join(parts)

    def _notes(self) -> list[str]:
        hints = [f"  {r.name}: {r.hint}" for r in self.rows if r.hint]
        return (["hints:", *hints] if hints else []) + ([self.legend] if self.legend else [])

    def __str__(self) -> str:
        table = text_table(self._headers(), [self._cells(r) for r in self.rows], self._RIGHT)
        return "\n".join([table, *self._notes(), self.summary()])

    def __repr__(self) -> str:
        return f"<CompareReport: {self.summary()}>\n{self}"

    def _repr_html_(self) -> str:
        rows = [self._cells(r) for r in self.rows]
        colours = ["rounding" if r.verdict.startswith("precision") else r.verdict for r in self.rows]
        footer = [self.summary()] + [f"{r.name}: {r.hint}" for r in self.rows if r.hint]
        footer += [self.legend] if self.legend else []
        return html_table(self._headers(), rows, colours, self._RIGHT, f"hand vs {self.against}", footer)


def compare(hand: Mapping[str, object], autograd: object, root: Tensor | Value | None = None) -> CompareReport:
    """Compare hand-derived gradients with autograd's, one row per name of ``hand``; see the module docstring.

    ``hand`` maps names to arrays, numbers or Tensors (their numbers). ``autograd`` maps the same names to
    Tensors or Values whose ``.grad`` backward() filled — parameters, inputs, or interior tensors after
    ``retain_grad()`` — or is a Module, whose ``named_parameters()`` supply them. An entry that is plain numbers
    (an array, a Tensor that does not require grad, a result of ``autograd.grad`` or ``hessian``) is compared
    by its numbers. ``root``: the one-element loss backward() ran from; with it, rounding is measured by
    re-running that backward pass, so a true zero gradient (all cancellation) reads as rounding, not WRONG.
    """
    if not isinstance(hand, Mapping):
        raise TypeError(f"compare: hand must be a dict of name -> array, got {type(hand).__name__}")
    if hasattr(autograd, "named_parameters") and not isinstance(autograd, Mapping):
        autograd = dict(autograd.named_parameters())
    if not isinstance(autograd, Mapping):
        raise TypeError(f"compare: autograd must be a dict of name -> Tensor/Value or a Module, "
                        f"got {type(autograd).__name__}")
    sides = {name: _side(autograd[name], name) for name in hand if name in autograd}
    measured: dict[int, tuple[np.ndarray, float]] = {}
    problem = ""
    if root is not None:
        nodes = [s.node for s in sides.values() if s.node is not None and s.grad is not None]
        measured, problem = _measured_noise(root, nodes)
    rows = []
    for name, h in hand.items():
        hand_arr = _as_array(h, f"hand[{name!r}]")
        if name not in autograd:
            have = ", ".join(map(str, autograd)) or "nothing"
            rows.append(_missing(name, hand_arr.shape, None, f"no autograd gradient named {name!r} (have: {have})"))
            continue
        side = sides[name]
        if side.grad is None:
            rows.append(_missing(name, hand_arr.shape, None, side.note))
            continue
        run = measured.get(id(side.node)) if side.node is not None else None
        rows.append(_row(name, hand_arr, side, run, root is not None, problem))
    legend = _legend(rows, root is not None)
    return CompareReport(rows, "autograd", legend)


# -- autograd's side: a gradient, or numbers ---------------------------------------------------------------


@dataclass(frozen=True)
class _Side:
    grad: np.ndarray | None  # what is compared with (None: nothing, ``note`` says why)
    node: Tensor | Value | None  # the node whose gradient ``grad`` is (None when compared by numbers)
    noun: str  # what to call it in hints: parameter, tensor, value, array
    note: str = ""


def _side(x: object, name: str) -> _Side:
    """What ``autograd[name]`` offers: a node's ``.grad``, or its numbers when it holds no gradient to compare."""
    if isinstance(x, Tensor):
        noun = "parameter" if x.role == "parameter" else "tensor"
        if not x.requires_grad or x.role == "constant":
            note = "" if x.role == "constant" else "it does not require grad, so its numbers were compared"
            return _Side(_as_array(x, f"autograd[{name!r}]"), None, noun, note)
        if x.grad is None:
            return _Side(None, x, noun, _why_no_grad(x, name))
        return _Side(_as_array(x.grad, f"autograd[{name!r}].grad"), x, noun)
    if isinstance(x, Value):
        if x.role == "constant":
            return _Side(_as_array(x.data, f"autograd[{name!r}]"), None, "value")
        return _Side(_as_array(x.grad, f"autograd[{name!r}].grad"), x, "value")
    return _Side(_as_array(x, f"autograd[{name!r}]"), None, "array")


def _why_no_grad(t: Tensor, name: str) -> str:
    if t.is_leaf:
        return f"{name!r} has no .grad: has loss.backward() run since it was made (or since its grad was zeroed)?"
    if t.retains_grad:
        return f"{name!r} retains its grad, but no backward() has reached it since retain_grad()"
    return (f"{name!r} is an interior tensor (made by '{t.op}'): backward() keeps only leaves' gradients unless "
            f"asked: call {name}.retain_grad() before loss.backward()")


def _measured_noise(root: object, nodes: list) -> tuple[dict[int, tuple[np.ndarray, float]], str]:
    """For each node, autograd's gradient from backward re-run from ``root`` (float64), and ν: how far re-runs with
    scaled seeds spread (see the module docstring). ({}, why) when backward cannot be re-run."""
    from ..functional import grad  # here: autograd.functional imports the engine, not the checking tools

    if not isinstance(root, (Tensor, Value)):
        raise TypeError(f"compare: root must be the Tensor or Value backward() ran from (the loss), "
                        f"got {type(root).__name__}")
    if isinstance(root, Tensor) and root.data.size != 1:
        raise ValueError(f"compare: root must be the one-element loss backward() ran from, got shape {root.shape}")
    same = [n for n in nodes if type(n) is type(root) and (isinstance(n, Value) or n.requires_grad)]
    if not same:
        return {}, ""
    runs: list[list[np.ndarray | None]] = []
    try:
        for scale in SEED_SCALES:
            if isinstance(root, Tensor):
                seed: object = np.full(root.shape, scale, dtype=root.dtype)
                exact = float(seed.flat[0])
            else:
                seed = exact = scale
            got = grad(root, same, grad_outputs=seed, allow_unused=True)
            runs.append([None if g is None else np.asarray(g.data, dtype=np.float64) / exact for g in got])
    except (RuntimeError, ValueError, TypeError) as err:
        return {}, f"backward from root could not be run again ({err})"
    out: dict[int, tuple[np.ndarray, float]] = {}
    for i, node in enumerate(same):
        first = runs[0][i]
        if first is None:
            continue
        spread = 0.0
        for run in runs[1:]:
            d = np.abs(run[i] - first)
            d = d[np.isfinite(d)]
            spread = max(spread, float(d.max(initial=0.0)))
        out[id(node)] = (first, spread)
    return out, ""


# -- one row ------------------------------------------------------------------------------------------------


def _row(name: str, hand: np.ndarray, side: _Side, run: tuple[np.ndarray, float] | None, rooted: bool,
         problem: str) -> CompareRow:
    ref = side.grad
    assert ref is not None
    if hand.shape != ref.shape:
        if [n for n in hand.shape if n != 1] != [n for n in ref.shape if n != 1]:
            return _missing(name, hand.shape, ref.shape, _fix_hint(hand, ref, side.noun), verdict="WRONG")
        # The same numbers with a size-1 axis more or less (a keepdim): judge the numbers, and say so.
        keepdim = shape_hint(hand.shape, ref.shape, against=f"the {side.noun}'s")
        row = _row(name, hand.reshape(ref.shape), side, run, rooted, problem)
        return replace(row, hand_shape=hand.shape, hint="; ".join(filter(None, [keepdim, row.hint])))
    noise = None
    notes = []
    if run is not None:
        again, noise = run
        if again.shape == ref.shape:
            off = np.abs(again - ref.astype(np.float64)) > _allowed(again, ref, ref.dtype, ref.dtype, noise)
            if off.any():
                c = _factor(again, ref.astype(np.float64))
                if c is not None and abs(c - 1) > 1e-3:
                    how = f"it is {num(c, 4)}× that: backward() ran more than once without zeroing .grad?"
                else:
                    how = "backward ran from another loss, or tensors changed since?"
                notes.append(f"its .grad is not what backward from root gives ({how})")
    elif rooted and side.node is not None:
        notes.append(problem or "not in root's graph: rounding estimated from the tensor")
    row = judge(name, hand, ref, noise)
    hints = [row.hint] if row.hint else []
    if not row.ok and side.note:
        hints.append(side.note)
    if row.verdict == "WRONG" and noise is None and not rooted and _all_tiny(hand, ref):
        eps = float(np.finfo(_common_dtype(hand, ref)).eps)
        hints.append(f"every value is below {num(1000 * eps, 2)}: if the true gradient is 0 (a bias before a batch "
                     f"norm, say), both sides are rounding noise; give compare root=loss to measure the rounding")
    return replace(row, hint="; ".join(hints + notes))


def judge(name: str, hand: np.ndarray, ref: np.ndarray, noise: float | None = None) -> CompareRow:
    """The row for two arrays of one shape: ``noise`` is the rounding measured for ``ref`` (in its own dtype), or
    None to estimate it from the tensor (see the module docstring)."""
    hand_dtype, ref_dtype = _float_dtype(hand), _float_dtype(ref)
    low = _common_dtype(hand, ref)
    h = hand.astype(np.float64).reshape(-1)
    a = ref.astype(np.float64).reshape(-1)
    diff = _differences(h, a)
    allowed = _allowed(h, a, low, ref_dtype, noise).reshape(-1)
    if hand_dtype != ref_dtype and noise is not None:  # the forward ran at another precision too
        allowed = np.maximum(allowed, _allowed(h, a, low, ref_dtype, None).reshape(-1))
    size = int(h.size)
    exact = bool(np.array_equal(h, a, equal_nan=True))
    shape = hand.shape
    common = {"max_abs": float(diff.max(initial=0.0)), "size": size, "hand_dtype": str(hand_dtype),
                  "dtype": str(ref_dtype), "noise": noise}
    if exact:
        return CompareRow(name, shape, ref.shape, "exact", **common)
    ratio = diff / allowed
    k = int(np.argmax(ratio))
    worst = tuple(int(i) for i in np.unravel_index(k, shape))
    beyond = int(np.count_nonzero(diff > allowed))
    if beyond == 0:
        verdict = "rounding" if hand_dtype == ref_dtype else f"precision: {hand_dtype} vs {ref_dtype}"
    else:
        verdict = "WRONG"
    hint = value_hint(h, a, allowed, beyond, worst) if verdict == "WRONG" else ""
    return CompareRow(name, shape, ref.shape, verdict, hint, worst=worst, hand_value=float(h[k]),
                      other_value=float(a[k]), diff=float(diff[k]), allowed=float(allowed[k]), beyond=beyond,
                      **common)


def _differences(h: np.ndarray, a: np.ndarray) -> np.ndarray:
    """|h − a| in float64; 0 where both are NaN or the same infinity, inf where only one side is finite."""
    with np.errstate(invalid="ignore"):
        diff = np.abs(h - a)
    same = (np.isnan(h) & np.isnan(a)) | (h == a)
    diff[same] = 0.0
    diff[np.isnan(diff)] = np.inf
    return diff


def _allowed(h: np.ndarray, a: np.ndarray, low: np.dtype, ref_dtype: np.dtype, noise: float | None) -> np.ndarray:
    """What rounding allows per element, in dtype ``low`` (see the module docstring)."""
    eps = float(np.finfo(low).eps)
    with np.errstate(invalid="ignore", over="ignore"):
        m = np.maximum(np.abs(h), np.abs(a))
        m = np.where(np.isfinite(m), m, 0.0)
        ulps = ULP_ROUNDING * np.spacing(m.astype(low)).astype(np.float64)
    if noise is not None:
        return NOISE_FACTOR * noise * eps / float(np.finfo(ref_dtype).eps) + ulps
    finite = np.abs(a[np.isfinite(a)])
    scale = float(finite.max(initial=0.0))
    tau = _TOLERANCE_EPS * eps
    return tau * (np.where(np.isfinite(a), np.abs(a), 0.0) + scale) + ulps


def value_hint(h: np.ndarray, a: np.ndarray, allowed: np.ndarray, beyond: int, worst: tuple[int, ...],
                other: str = "autograd", limit: str = "rounding") -> str:
    """What a wrong gradient looks like: a flipped sign, a constant factor, or some elements only (``compare``'s and
    ``check_numpy``'s hint). ``other`` names the reference (autograd, numeric), ``limit`` what it allows."""
    finite = np.isfinite(h) & np.isfinite(a)
    if finite.all() and np.any(a != 0):
        if np.all(np.abs(h + a) <= allowed):
            return f"hand = −{other} everywhere: a flipped sign (y − ŷ where ŷ − y belongs, or a gradient ascent step?)"
        c = _factor(a, h)
        if c is not None and np.all(np.abs(h - c * a) <= allowed + 1e-6 * np.abs(c * a)):
            return f"hand = {num(c, 4)} × {other} everywhere: a constant factor (a 1/n of a mean, a 2 of a square?)"
    where = f"at {worst}" if len(worst) != 1 else f"at ({worst[0]})"
    if beyond < h.size:
        return f"{beyond} of {h.size} elements beyond {limit}; worst {where}"
    return f"every element beyond {limit}; worst {where}"


def _factor(a: np.ndarray, b: np.ndarray) -> float | None:
    """c with b ≈ c·a in the least-squares sense (None if a is all zeros or not finite)."""
    aa = float(np.dot(a.reshape(-1), a.reshape(-1)))
    if not np.isfinite(aa) or aa == 0:
        return None
    c = float(np.dot(a.reshape(-1), b.reshape(-1))) / aa
    return c if np.isfinite(c) else None


def _all_tiny(hand: np.ndarray, ref: np.ndarray) -> bool:
    eps = float(np.finfo(_common_dtype(hand, ref)).eps)
    both = np.concatenate([np.abs(hand.astype(np.float64)).reshape(-1), np.abs(ref.astype(np.float64)).reshape(-1)])
    both = both[np.isfinite(both)]
    return bool(both.size) and float(both.max()) < 1000 * eps


def _legend(rows: list[CompareRow], rooted: bool) -> str:
    measured = any(r.noise is not None for r in rows)
    estimated = any(r.noise is None and r.worst is not None for r in rows)
    parts = []
    if measured:
        parts.append(f"allowed = {NOISE_FACTOR} × the rounding measured by re-running backward from root, "
                     f"+ {ULP_ROUNDING} ULPs")
    if estimated:
        ask = "" if rooted else " (compare(..., root=loss) measures it)"
        parts.append(f"{'where not measured, ' if measured else ''}allowed = {_TOLERANCE_EPS} ULPs of the tensor's "
                     f"largest entry, + {ULP_ROUNDING} ULPs{ask}")
    return "; ".join(parts)


def _missing(name: str, hand_shape: tuple | None, shape: tuple | None, hint: str,
             verdict: str = "missing") -> CompareRow:
    return CompareRow(name, hand_shape, shape, verdict, hint)


def _float_dtype(x: np.ndarray) -> np.dtype:
    return x.dtype if x.dtype.kind == "f" else np.dtype(np.float64)


def _common_dtype(*arrays: np.ndarray) -> np.dtype:
    """The lowest floating precision among the arrays (integers count as float64)."""
    return min((_float_dtype(x) for x in arrays), key=lambda d: d.itemsize)


def _as_array(x: object, what: str) -> np.ndarray:
    """``x`` (an array, a number, or a Tensor/Value: its data) as a float array; TypeError naming ``what`` if it
    holds no numbers."""
    data = getattr(x, "data", x) if not isinstance(x, np.ndarray) else x
    arr = np.asarray(data)
    if arr.dtype.kind not in "biuf":
        shown = repr(x) if len(repr(x)) <= 40 else repr(x)[:37] + "..."
        raise TypeError(f"compare: {what} is {type(x).__name__} {shown}, not a number or an array of numbers")
    return arr if arr.dtype.kind == "f" else arr.astype(np.float64)


# -- shape hints ----------------------------------------------------------------------------------------


def shape_hint(got: tuple[int, ...], want: tuple[int, ...], what: str = "hand gradient",
               against: str = "parameter") -> str:
    """Why a gradient of shape ``got`` may not fit ``want``: transposed, a missing sum, keepdim, ...

    Returns a sentence such as "hand gradient is (10, 128), parameter is (128, 10): transposed?".
    """
    head = f"{what} is {_shape(got)}, {against} is {_shape(want)}"
    fix = shape_fix(got, want)
    if fix is None:
        return f"{head}: the shapes do not match"
    return f"{head}: {fix[0]}"


def shape_fix(got: tuple[int, ...], want: tuple[int, ...]):
    """(hint, function turning a ``got`` array into a ``want`` one) for the usual slips, or None (also read by
    ``check_numpy``).

    A forgotten sum (the hand gradient still has the batch axis) and a keepdim (the same numbers, a size-1
    axis more or less) are different slips and get different hints."""
    if len(got) == len(want) >= 2 and got == want[::-1]:
        return "transposed?", lambda x: x.T
    if len(got) == len(want) > 2 and sorted(got) == sorted(want):
        return "axes in another order (transpose/permute)?", None
    axes = summed_axes(got, want)
    if axes and any(got[a] != 1 for a in axes):  # (summing size-1 axes only is a reshape: below)
        lead = len(got) - len(want)
        kept = [a for a in axes if a >= lead]
        which = f"axis {axes[0]}" if len(axes) == 1 else f"axes {axes}"
        spelled = axes[0] if len(axes) == 1 else axes
        how = f".sum({spelled}, keepdims=True)" if kept and not axes[:lead] else f".sum({spelled})"
        return f"a sum over {which} is missing ({how})?", lambda x: unbroadcast(x, want)
    for i in range(len(got)) if len(got) == len(want) + 1 else ():  # per-example gradients along another axis
        if got[i] != 1 and got[:i] + got[i + 1:] == want:
            return f"a sum over axis {i} is missing (.sum({i}))?", lambda x, i=i: x.sum(axis=i)
    if [n for n in got if n != 1] == [n for n in want if n != 1]:
        if len(got) < len(want):
            return (f"keepdim: the same numbers without a size-1 axis; reshape to {_shape(want)} (or keepdims=True "
                    f"where you summed)?"), lambda x: x.reshape(want)
        return f"an extra size-1 axis: squeeze to {_shape(want)}?", lambda x: x.reshape(want)
    return None


def _fix_hint(hand: np.ndarray, ref: np.ndarray, noun: str = "parameter") -> str:
    """The shape hint, and whether the hand gradient matches once the slip is undone."""
    text = shape_hint(hand.shape, ref.shape, against=f"the {noun}'s")
    fix = shape_fix(hand.shape, ref.shape)
    if fix is None or fix[1] is None:
        return text
    fixed = judge("", np.asarray(fix[1](hand)), ref)
    if fixed.ok:
        return f"{text} (then it matches: {fixed.verdict})"
    return f"{text} (even then it is WRONG: max abs diff {num(fixed.max_abs, 3)})"


def _shape(shape: tuple[int, ...] | None) -> str:
    return "?" if shape is None else str(tuple(int(n) for n in shape))
