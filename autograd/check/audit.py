"""audit: check every op of a graph on its own, to find *which* derivative is wrong.

gradcheck compares a whole function's inputs with its output; when it fails you know *that* something is
wrong, not where. audit goes node by node: for each op it takes the op alone, at the inputs it was given in
the graph, and compares its backward (the local derivatives, a hand-written ``Function``'s included) with
finite differences of that op's forward:

    analytic  ⟨backward(u), v⟩            u a random output cotangent, v a random input direction
    numeric   d/dt ⟨u, op(x + t·v)⟩       central differences in float64, with an error estimate

(for a Value node, u = 1 and v runs over the inputs one by one, so each local derivative is checked exactly).
An op whose own derivative is wrong is a *culprit*. Every node upstream of a culprit (its inputs, their
inputs, ... the parameters) then receives a wrong gradient without being wrong itself: they *inherit*.
The report names the first culprit backward meets (nearest the root), with its op, inputs and the line of
user code that created it.

Replaying an op. A Value node's op code and inputs determine its forward. A Tensor node records only its
backward rule, so its forward is recorded while the graph is built *inside* audit: give audit a function,
``audit(lambda: F.cross_entropy(model(x), y))``, and while it runs audit watches the engine (the hook in
``autograd.graph``): every op hands it the node it made, how to replay it (the op's function and arguments) and
where user code called it. Nothing is recorded, and nothing costs, outside audit. A ``Function`` keeps its own
forward (its ctx) always, so ``audit(root)`` on a graph built anywhere checks every Value op and every Function;
built-in Tensor ops of such a graph are reported as not checked. An op whose replay does not reproduce its
recorded output (a random op such as dropout) is not checked either, and says so.

Second derivatives. A graph built with ``create_graph`` (``audit(lambda: grad(f(x), x, create_graph=True)[0].sum())``)
is made of ops that are each right on their own, yet its gradient can be wrong: an op's backward rule, run on
Tensors/Values to build the gradient's graph, may compute the right numbers but the wrong *dependence* on its
arguments (a number read as a constant, the incoming gradient frozen). So for every op whose rule ran under
``create_graph`` inside the audited function, audit also checks the rule itself, as a function of the incoming
gradient g and the op's inputs x (its output recomputed from x by replaying the op):

    analytic  ⟨∂⟨u, rule(g, x)⟩/∂(g, x), v⟩     backward through the graph the rule builds
    numeric   d/dt ⟨u, rule(g + t·v_g, x + t·v_x)⟩   finite differences of the first-order rule, on numbers

and that the rule gives the same numbers both ways. A rule that fails is the culprit of the wrong second
derivative: its row reads "backward of 'op'", and points at a Function's backward.
"""
from __future__ import annotations

import linecache
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..functional import grad
from ..graph import Replay, enable_grad, grad_mode, no_grad, topological_order
from ..tensor import NUMPY, TENSORS, Tensor, local_backward
from ..value import _ZERO, Value, contributions
from ..viz.format import html_table, num, text_table
from .finite_diff import GradcheckEntry, numeric_derivative, verdict
from .sites import Site, definition_site, user_site

Node = Value | Tensor
_EPS64 = float(np.finfo(np.float64).eps)


@dataclass
class AuditRow:
    """One op node: its own verdict ('ok', 'culprit', 'kink', 'not checked'), one check per input, and where
    user code created it."""

    node: Node
    op: str
    status: str
    checks: tuple[GradcheckEntry, ...] = ()
    inputs: str = ""
    site: Site | None = None
    note: str = ""
    order: int = 1  # 2: the row checks the op's backward rule itself, as differentiated by create_graph

    @property
    def error(self) -> float:
        return max((c.error for c in self.checks if c.status != "kink"), default=0.0)


class AuditReport:
    """What ``audit`` found. ``ok`` if no op is a culprit; ``culprit`` is the first culprit row (nearest the root);
    ``culprits`` and ``inheriting`` are sets of node ids; ``node_status(node)`` is what draw_dot colours by."""

    def __init__(self, root: Node, rows: list[AuditRow], inheriting: set[int], leaves: list[Node]) -> None:
        self.root = root
        self.rows = rows  # op nodes, root first (the order backward visits them)
        self.culprits = {id(r.node) for r in rows if r.status == "culprit"}
        self.inheriting = inheriting
        self._leaves = leaves
        self._by_id = {id(r.node): r for r in reversed(rows)}  # an op's own row before its rule's row

    @property
    def ok(self) -> bool:
        return not self.culprits

    @property
    def culprit(self) -> AuditRow | None:
        return next((r for r in self.rows if r.status == "culprit"), None)

    @property
    def unchecked(self) -> list[AuditRow]:
        return [r for r in self.rows if r.status == "not checked"]

    def node_status(self, node: Node) -> str:
        """'culprit' (its own derivative is wrong), 'inherits' (a wrong gradient reaches it from a culprit),
        'ok', 'kink' (non-differentiable here), 'not checked', or 'leaf'."""
        if id(node) in self.culprits:
            return "culprit"
        if id(node) in self.inheriting:
            return "inherits"
        row = self._by_id.get(id(node))
        return row.status if row is not None else "leaf"

    def row_status(self, row: AuditRow) -> str:
        """A row's verdict as the table shows it: its own check's, unless a wrong gradient reaches its node (an op
        whose backward is wrong only when differentiated again keeps 'ok' on its own row, 'culprit' on its rule's)."""
        if row.status == "culprit":
            return "culprit"
        return "inherits" if id(row.node) in self.inheriting else row.status

    # -- reading it ----------------------------------------------------------------------------------------

    def summary(self) -> str:
        n = len(self.rows)
        if not self.culprits:
            text = f"audit: all {n - len(self.unchecked)} checked ops pass"
        else:
            c = self.culprit
            assert c is not None
            text = f"audit: {len(self.culprits)} culprit(s) among {n} ops; first: '{c.op}'"
            if c.site:
                text += f" created at {c.site.place}"
            inherit = len(self.inheriting)
            text += f"; {inherit} node(s) inherit a wrong gradient"
        if self.unchecked:
            text += f"; {len(self.unchecked)} not checked"
        return text

    def details(self) -> list[str]:
        lines = []
        c = self.culprit
        if c is not None and c.order == 2:
            lines.append(f"culprit: the {c.op}" + (f" at {c.site}" if c.site else "") + ": right numbers or not, the "
                         "graph it builds under create_graph has the wrong derivative, so second derivatives through "
                         "it are wrong")
        elif c is not None:
            lines.append(f"culprit '{c.op}'" + (f" at {c.site}" if c.site else " (creation line not recorded)"))
        if c is not None:
            lines.append(f"  inputs: {c.inputs}")
            said = ("its graph's derivative", "finite differences of backward") if c.order == 2 else \
                ("backward gives", "finite differences")
            for e in c.checks:
                if e.status == "FAIL":
                    lines.append(f"  {e.name}: {said[0]} {num(e.analytic, 8)}, {said[1]} "
                                 f"{num(e.numeric, 8)} ± {num(e.uncertainty, 2)} (error {num(e.error, 3)})")
            names = [self._name(n) for n in self._inheriting_nodes()]
            if names:
                shown = ", ".join(names[:8]) + (f", … {len(names) - 8} more" if len(names) > 8 else "")
                lines.append(f"inherit a wrong gradient from it: {shown}")
        if self.unchecked:
            reasons = sorted({r.note for r in self.unchecked})
            lines.append("not checked: " + "; ".join(reasons))
        return lines

    def _inheriting_nodes(self) -> list[Node]:
        ops = [r.node for r in self.rows if id(r.node) in self.inheriting]
        return ops + [n for n in self._leaves if id(n) in self.inheriting]

    @staticmethod
    def _name(node: Node) -> str:
        label = getattr(node, "label", "")
        op = node.op or ("parameter" if isinstance(node, Tensor) else "input")
        shape = f" {tuple(node.data.shape)}" if isinstance(node, Tensor) else f" {num(node.data, 4)}"
        return f"{label or op}{shape}"

    _HEADERS = ("op", "created at", "inputs", "verdict", "error", "note")
    _RIGHT = (False, False, False, False, True, False)
    MAX_OK_ROWS = 12

    def _table_rows(self) -> tuple[list[AuditRow], int]:
        order = {"culprit": 0, "inherits": 1, "not checked": 2, "kink": 3, "ok": 4}
        rows = sorted(self.rows, key=lambda r: order.get(self.row_status(r), 5))
        ok = [r for r in rows if self.row_status(r) == "ok"]
        hidden = max(0, len(ok) - self.MAX_OK_ROWS)
        return rows[: len(rows) - hidden], hidden

    def _cells(self, r: AuditRow) -> list[str]:
        site = ""
        if r.site:
            code = r.site.code if len(r.site.code) <= 40 else r.site.code[:39] + "…"
            site = f"{r.site.place}: {code}"
        error = num(r.error, 3) if r.checks else ""
        return [r.op, site, r.inputs, self.row_status(r), error, r.note]

    def __str__(self) -> str:
        rows, hidden = self._table_rows()
        lines = [self.summary(), *self.details(),
                 text_table(self._HEADERS, [self._cells(r) for r in rows], self._RIGHT)]
        if hidden:
            lines.append(f"… and {hidden} more ops that pass")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"<AuditReport: {self.summary()}>\n{self}"

    def _repr_html_(self) -> str:
        rows, hidden = self._table_rows()
        footer = self.details() + ([f"… and {hidden} more ops that pass"] if hidden else [])
        return html_table(self._HEADERS, [self._cells(r) for r in rows], [self.row_status(r) for r in rows],
                          self._RIGHT, self.summary(), footer)


def audit(root: Node | Callable[..., Node], *args: Any, seed: int = 0, atol: float = 1e-8,
          rtol: float = 1e-6) -> AuditReport:
    """Check each op of a graph on its own against finite differences; name the culprit op.

    ``root`` is a Value or Tensor, or a function returning one (called as ``root(*args)`` while audit records
    how each op was made: give a function for Tensor graphs). An input's check passes when
    |analytic − numeric| <= atol + rtol·s + the finite difference's uncertainty, s the size of ⟨backward(u), v⟩'s
    terms. Does not touch any ``.grad``.
    """
    book = None
    if callable(root) and not isinstance(root, (Value, Tensor)):
        with _Recording() as book:
            root = root(*args)
    if not isinstance(root, (Value, Tensor)):
        raise TypeError(f"audit needs a Value or Tensor, or a function returning one; got {type(root).__name__}")
    rng = np.random.default_rng(seed)
    order = topological_order(root, _inputs)
    rows: list[AuditRow] = []
    leaves: list[Node] = []
    for node in reversed(order):  # root first: the order backward visits ops
        if isinstance(node, Value):
            if node._op:
                rows.append(_check_value(node, book, atol, rtol))
            else:
                leaves.append(node)
        elif node._backward is not None:
            rows.append(_check_tensor(node, book, rng, atol, rtol))
        elif node.requires_grad:
            leaves.append(node)
    culprits = [r.node for r in rows if r.status == "culprit"]
    inheriting = _upstream(culprits)
    for node, made in book.differentiated if book is not None else ():  # rules run under create_graph
        row = _check_rule(node, book, rng, atol, rtol)
        rows.append(row)
        if row.status == "culprit":  # what the rule made hands wrong gradients to everything it was made from
            inheriting |= _upstream(made)
    return AuditReport(root, rows, inheriting - {id(r.node) for r in rows if r.status == "culprit"}, leaves)


def _inputs(node: Node) -> tuple[Node, ...]:
    return node._parents if isinstance(node, Tensor) else node.inputs


def _upstream(culprits: list[Node]) -> set[int]:
    """Ids of every node a culprit's backward sends gradient to, directly or through other nodes."""
    seen: set[int] = set()
    stack = [x for c in culprits for x in _inputs(c)]
    while stack:
        node = stack.pop()
        if id(node) in seen or (isinstance(node, Tensor) and not node.requires_grad):
            continue
        seen.add(id(node))
        stack.extend(_inputs(node))
    return seen - {id(c) for c in culprits}


# -- one Tensor op --------------------------------------------------------------------------------------


def _check_tensor(node: Tensor, book: _Recording | None, rng: np.random.Generator, atol: float,
                  rtol: float) -> AuditRow:
    ctx = getattr(node._backward, "ctx", None)  # a user Function keeps its forward (ctx) on its rule
    site = book.site_of(node) if book is not None else None
    if site is None and ctx is not None:  # built outside audit: point at the Function's backward instead
        site = definition_site(ctx.function.backward)
    replay = Replay(ctx.function.apply, ctx.args) if ctx is not None else (book.replay_of(node) if book else None)
    parents = node._parents
    row = AuditRow(node, node.op, "not checked", inputs=_describe_inputs(parents), site=site)
    if replay is None:
        row.note = "forward not recorded: build the graph inside audit, audit(lambda: ...)"
        return row

    def run(moved: Tensor | None = None, which: int = 0) -> Tensor:
        subs = dict(leaves)
        if moved is not None:
            subs[which] = moved
        return _replayed(replay, node, subs)

    # Stand-ins for the node's inputs, at the recorded values. First in their own dtype: replayed on them, the
    # op must give back the recorded output exactly, or it is not deterministic (dropout) and cannot be checked.
    own = {id(p): _leaf64(p, p.data, p.requires_grad, widen=False) for p in parents}
    try:
        leaves = own
        with enable_grad():
            same = run()
        # Then in float64, so that finite differences are accurate; unless that makes the op a no-op (a cast
        # to float64 of a float64 input), in which case the own-dtype replay is the one to check.
        widen = True
        leaves = {id(p): _leaf64(p, p.data, p.requires_grad) for p in parents}
        with enable_grad():
            out = run()
    except Exception as e:  # any failure to replay is reported, not raised
        row.note = f"replaying the forward raised {type(e).__name__}: {e}"
        return row
    if not isinstance(same, Tensor) or same.shape != node.shape or not _reproduces(same.data, node.data):
        row.note = "replaying the forward did not reproduce the output (a random op such as dropout?)"
        return row
    if not isinstance(out, Tensor) or out._backward is None:
        widen, leaves, out = False, own, same
    if out._backward is None:
        row.note = "no input of the replayed op requires grad"
        return row
    u = rng.standard_normal(out.shape)
    grads = local_backward(out, u)
    checks = []
    for p in _unique(parents):
        if not p.requires_grad:
            continue
        g = np.zeros(p.shape)
        for q, gq in zip(out._parents, grads):
            if q is leaves[id(p)] and gq is not None:
                g = g + gq
        base = p.data.astype(np.float64)
        rms = float(np.sqrt(np.mean(np.square(base)))) if p.data.size else 1.0
        # Steps are small (float64 replays can afford it) so a direction rarely crosses a kink of some element;
        # if it does, once more with a new direction and a step 100 times smaller.
        # An output in less than float64 (a cast to float32) needs the step that balances its rounding.
        eps = float(np.finfo(out.data.dtype).eps) if out.data.dtype.kind == "f" else _EPS64
        first = 1e-7 if eps <= _EPS64 else eps ** (1 / 3)
        for h in (first * max(1.0, rms), first / 100 * max(1.0, rms)):
            v = rng.standard_normal(p.shape)

            def phi(t: float, p: Tensor = p, v: np.ndarray = v, base: np.ndarray = base) -> float:
                with no_grad():
                    y = run(_leaf64(p, base + t * v, False, widen), id(p))
                return float(np.sum(u * y.data))

            n = numeric_derivative(phi, h, atol, rtol, float(np.sum(u * out.data)), eps * np.sqrt(out.data.size))
            if not n.kink or p.data.size == 1:
                break
        terms = g * v
        name = f"input {_position(parents, p)}" + (f" ({p.label})" if p.label else "")
        if p.data.size > 1:
            name += " along a random direction"
        checks.append(verdict(name, float(terms.sum()), n, float(np.sqrt(np.sum(terms * terms))), atol, rtol,
                               single=p.data.size == 1))
    return _judged(row, checks)


def _replayed(replay: Replay, node: Tensor, subs: dict[int, Tensor]) -> Tensor:
    """The op run again with its inputs replaced (by identity) as ``subs`` says: the node it makes."""
    out = replay.fn(*_substitute(replay.args, subs))
    if isinstance(out, tuple):  # max(dim) returns (values, indices): the node is the one made by this op
        out = next((o for o in out if isinstance(o, Tensor) and o.op == node.op), None)
    return out


def _leaf64(like: Tensor, data: np.ndarray, requires_grad: bool, widen: bool = True) -> Tensor:
    arr = np.asarray(data)
    if arr.dtype.kind == "f":
        arr = arr.astype(np.float64 if widen else like.data.dtype)
    return Tensor(arr, requires_grad=requires_grad and arr.dtype.kind == "f", label=like.label)


def _substitute(obj: Any, subs: dict[int, Tensor]) -> Any:
    """Replace the node's inputs (by identity) inside args, kwargs, and lists or tuples among them."""
    if isinstance(obj, Tensor):
        return subs.get(id(obj), obj)
    if isinstance(obj, dict):
        return {k: _substitute(v, subs) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and any(isinstance(x, Tensor) for x in obj):
        return type(obj)(_substitute(x, subs) for x in obj)
    return obj


def _reproduces(replayed: np.ndarray, recorded: np.ndarray) -> bool:
    """The replay (same code, same dtype) matches the recorded output, up to a BLAS summing in another order."""
    rec = np.asarray(recorded)
    if rec.dtype.kind != "f":
        return bool(np.array_equal(replayed, rec))
    eps = float(np.finfo(rec.dtype).eps)
    scale = float(np.max(np.abs(rec), initial=0.0, where=np.isfinite(rec)))
    return bool(np.allclose(replayed, rec, rtol=16 * eps, atol=16 * eps * scale, equal_nan=True))


def _unique(nodes: tuple[Node, ...]) -> list[Node]:
    seen: set[int] = set()
    return [n for n in nodes if not (id(n) in seen or seen.add(id(n)))]


def _describe_inputs(parents: tuple[Node, ...]) -> str:
    parts = []
    for p in parents:
        if isinstance(p, Tensor):
            parts.append(f"{tuple(p.shape)} {p.dtype}" if p.data.size > 1 else num(float(p.data.reshape(-1)[0]), 4))
        else:
            parts.append(num(p.data, 4))
    return ", ".join(parts)


def _judged(row: AuditRow, checks: list[GradcheckEntry]) -> AuditRow:
    row.checks = tuple(checks)
    if any(c.status == "FAIL" for c in checks):
        row.status = "culprit"
        bad = [c.name.split(" along")[0] for c in checks if c.status == "FAIL"]
        row.note = "backward wrong for " + ", ".join(bad)
    elif any(c.status == "kink" for c in checks):
        row.status = "kink"
        kinks = [c.name.split(" along")[0] for c in checks if c.status == "kink"]
        row.note = "non-differentiable here: " + ", ".join(kinks)
    else:
        row.status = "ok"
    return row


# -- one Value op ---------------------------------------------------------------------------------------

_BINARY = {"+": lambda a, b: a + b, "*": lambda a, b: a * b, "-": lambda a, b: a - b, "/": lambda a, b: a / b}


def _value_replay(node: Value) -> tuple[tuple[Value, ...], Callable[..., Value]] | None:
    """(the node's inputs, a function making the same op from stand-ins for them), or None if unknown."""
    op, a, b = node._op, node._a, node._b
    if op == "function":
        ctx = b
        slots = [i for i, x in enumerate(ctx.args) if isinstance(x, Value)]

        def apply(*ins: Value) -> Value:
            args = list(ctx.args)
            for i, x in zip(slots, ins):
                args[i] = x
            return ctx.function.apply(*args)

        return tuple(ctx.args[i] for i in slots), apply
    if op == "sum":
        return a, lambda *xs: Value.sum(xs)
    if op == "dot":
        n = len(b)
        return a + b, lambda *xs: Value.dot(xs[:n], xs[n + 1:], xs[n])
    if op == "**":
        return (a,), lambda x: x**b
    if op == "rpow":
        return (a,), lambda x: b**x
    if op in _BINARY and isinstance(b, Value):
        return (a, b), _BINARY[op]
    if op == "neg":
        return (a,), lambda x: -x
    if b is None and isinstance(a, Value) and callable(getattr(Value, op, None)):
        return (a,), lambda x: getattr(x, op)()
    return None


def _check_value(node: Value, book: _Recording | None, atol: float, rtol: float) -> AuditRow:
    site = book.site_of(node) if book is not None else None
    if site is None and node._op == "function":  # built outside audit: point at the Function's backward
        site = definition_site(node._b.function.backward)
    inputs = _inputs(node)
    row = AuditRow(node, node.op, "not checked", inputs=_describe_inputs(inputs), site=site)
    replay = _value_replay(node)
    if replay is None:
        row.note = f"audit has no replay for Value op {node._op!r}"
        return row
    ins, fn = replay
    uniq = _unique(ins)
    stand_ins = {id(x): Value(x.data) for x in uniq}
    try:
        out = fn(*[stand_ins[id(x)] for x in ins])
        out.backward()
    except Exception as e:  # reported, not raised
        row.note = f"replaying the op raised {type(e).__name__}: {e}"
        return row
    if not (out.data == node.data or math.isclose(out.data, node.data, rel_tol=1e-12, abs_tol=1e-300)):
        row.note = "replaying the op did not reproduce its value"
        return row
    checks = []
    for x in uniq:
        def phi(t: float, x: Value = x) -> float:
            moved = {**stand_ins, id(x): Value(x.data + t)}
            with no_grad():
                try:
                    return fn(*[moved[id(y)] for y in ins]).data
                except (ValueError, ZeroDivisionError, OverflowError):
                    return math.nan  # outside the op's domain: no finite difference here

        h = 1e-6 * max(1.0, abs(x.data))
        n = numeric_derivative(phi, h, atol, rtol, out.data)
        a = stand_ins[id(x)].grad
        name = f"input {_position(ins, x)}" + (f" ({x.label})" if x.label else "")
        checks.append(verdict(name, a, n, max(abs(a), abs(n.value)), atol, rtol))
    return _judged(row, checks)


# -- one op's backward rule, as create_graph differentiates it ----------------------------------------------


def _check_rule(node: Node, book: _Recording, rng: np.random.Generator, atol: float, rtol: float) -> AuditRow:
    """Check ``node``'s backward rule as a function of (g, the op's inputs): see the module docstring."""
    if isinstance(node, Value):
        ctx = node._b if node._op == "function" else None
        site = _def_line(ctx.function.backward) if ctx is not None else book.site_of(node)
        row = AuditRow(node, f"backward of {node.op}", "not checked", inputs=_describe_inputs(_inputs(node)),
                       site=site, order=2)
        replay = _value_replay(node)
        if replay is None:
            row.note = f"audit has no replay for Value op {node._op!r}"
            return row
        ins, fn = replay
        return _check_rule_on(row, _ValueRule(node, ins, fn), rng, atol, rtol)
    ctx = getattr(node._backward, "ctx", None)
    site = _def_line(ctx.function.backward) if ctx is not None else book.site_of(node)
    row = AuditRow(node, f"backward of {node.op}", "not checked", inputs=_describe_inputs(node._parents),
                   site=site, order=2)
    replay = Replay(ctx.function.apply, ctx.args) if ctx is not None else book.replay_of(node)
    if replay is None:
        row.note = "forward not recorded"
        return row
    return _check_rule_on(row, _TensorRule(node, replay), rng, atol, rtol)


def _def_line(fn: Callable[..., Any]) -> Site | None:
    """Where a Function's backward is defined: its ``def`` line, below any decorators (@staticmethod)."""
    site = definition_site(fn)
    while site is not None and site.code.startswith("@"):
        code = linecache.getline(site.filename, site.lineno + 1).strip()
        site = Site(site.filename, site.lineno + 1, site.function, code)
    return site


class _TensorRule:
    """A Tensor op's rule on float64 stand-ins for its inputs: run on Tensors (building a graph) or on arrays."""

    def __init__(self, node: Tensor, replay: Replay) -> None:
        self.node, self.replay = node, replay
        self.inputs = [p for p in _unique(node._parents) if p.requires_grad]
        self.base = [p.data.astype(np.float64) for p in self.inputs]
        self.out_shape = node.shape

    def _made(self, data: list[np.ndarray]) -> tuple[Tensor, dict[int, Tensor]]:
        leaves = {id(p): _leaf64(p, p.data, False) for p in self.node._parents}
        for p, d in zip(self.inputs, data):
            leaves[id(p)] = Tensor(d, requires_grad=True, label=p.label)
        with enable_grad():
            out = _replayed(self.replay, self.node, leaves)
        if not isinstance(out, Tensor) or out._backward is None:
            raise ValueError("the replayed op made no node")
        return out, leaves

    def on_tensors(self, g: np.ndarray) -> tuple[list[Any], list[Any]]:
        """(what the rule makes, per input, as Tensors in a graph; the leaves: g first, then the inputs)."""
        out, leaves = self._made(self.base)
        seed = Tensor(g, requires_grad=True, label="g")
        with enable_grad():
            grads = out._backward(TENSORS, seed, out, *out._parents)
        return self._per_input(out, leaves, grads), [seed, *(leaves[id(p)] for p in self.inputs)]

    def on_numbers(self, g: np.ndarray, data: list[np.ndarray]) -> list[Any]:
        out, leaves = self._made(data)
        grads = out._backward(NUMPY, g, out.data, *[q.data for q in out._parents])
        return self._per_input(out, leaves, grads)

    def _per_input(self, out: Tensor, leaves: dict[int, Tensor], grads: Any) -> list[Any]:
        """The rule's result for each checked input (summed where an input is used twice, as in x * x)."""
        per = []
        for p in self.inputs:
            total = None
            for q, gq in zip(out._parents, grads):
                if q is leaves[id(p)] and gq is not None:
                    total = gq if total is None else total + gq
            per.append(total)
        return per

    def numbers(self) -> tuple[list[np.ndarray], tuple[int, ...]]:
        return self.base, self.out_shape


class _ValueRule:
    """A Value op's rule (``autograd.value.contributions``) on stand-ins for its inputs, lifted or on numbers."""

    def __init__(self, node: Value, ins: tuple[Value, ...], fn: Callable[..., Value]) -> None:
        self.node, self.ins, self.fn = node, ins, fn
        self.inputs = _unique(ins)
        self.base = [np.array(x.data) for x in self.inputs]

    def _made(self, data: list[np.ndarray]) -> tuple[Value, dict[int, Value]]:
        stand = {id(x): Value(float(d), label=x.label) for x, d in zip(self.inputs, data)}
        with enable_grad():
            return self.fn(*[stand[id(x)] for x in self.ins]), stand

    def _per_input(self, out: Value, stand: dict[int, Value], shares: list[Any]) -> list[Any]:
        per = []
        for x in self.inputs:
            total = None
            for y, share in zip(out.inputs, shares):
                if y is stand[id(x)] and share is not _ZERO:
                    total = share if total is None else total + share
            per.append(total)
        return per

    def on_tensors(self, g: np.ndarray) -> tuple[list[Any], list[Any]]:
        out, stand = self._made(self.base)
        seed = Value(float(g), label="g")
        with enable_grad():
            shares = contributions(out, seed, lifted=True)
        return self._per_input(out, stand, shares), [seed, *(stand[id(x)] for x in self.inputs)]

    def on_numbers(self, g: np.ndarray, data: list[np.ndarray]) -> list[Any]:
        out, stand = self._made(data)
        return self._per_input(out, stand, contributions(out, float(g)))

    def numbers(self) -> tuple[list[np.ndarray], tuple[int, ...]]:
        return self.base, ()


def _check_rule_on(row: AuditRow, rule: _TensorRule | _ValueRule, rng: np.random.Generator, atol: float,
                   rtol: float) -> AuditRow:
    """Compare the derivative of the graph the rule builds with finite differences of the rule on numbers, along a
    random direction for g and for each input; and the numbers the rule gives both ways."""
    base, out_shape = rule.numbers()
    g0 = rng.standard_normal(out_shape)
    try:
        made, wrt = rule.on_tensors(g0)
        plain = rule.on_numbers(g0, base)
    except Exception as e:  # reported, not raised
        row.note = f"running its rule raised {type(e).__name__}: {e}"
        return row
    us = [None if m is None else rng.standard_normal(np.shape(m.data)) for m in made]

    def dot(results: list[Any]) -> float:
        total = 0.0
        for r, u in zip(results, us):
            if r is not None and u is not None:
                total += float(np.sum(u * np.asarray(r.data if isinstance(r, (Tensor, Value)) else r)))
        return total

    checks = []
    graph_value, number_value = dot(made), dot(plain)
    scale = max(abs(graph_value), abs(number_value))
    gap = abs(graph_value - number_value)
    checks.append(GradcheckEntry("its numbers under create_graph", graph_value, number_value, gap,
                                 gap <= atol + rtol * scale, 0.0, "ok" if gap <= atol + rtol * scale else "FAIL"))
    live = [(m, u) for m, u in zip(made, us) if isinstance(m, Value) or (isinstance(m, Tensor) and m.requires_grad)]
    if live:
        with enable_grad():
            derivs = grad([m for m, _ in live], wrt, [u if np.ndim(u) else float(u) for _, u in live],
                          allow_unused=True)
    else:
        derivs = [None] * len(wrt)
    names = ["the incoming gradient g"] + [f"input {_position(_inputs(row.node), x)}" +
                                           (f" ({x.label})" if x.label else "") for x in rule.inputs]
    for k, (name, d) in enumerate(zip(names, derivs)):
        shape = np.shape(g0) if k == 0 else np.shape(base[k - 1])
        analytic_grad = np.zeros(shape) if d is None else np.asarray(d.data, dtype=np.float64)
        v = rng.standard_normal(shape)

        def phi(t: float, k: int = k, v: np.ndarray = v) -> float:
            if k == 0:
                return dot(rule.on_numbers(g0 + t * v, base))
            moved = list(base)
            moved[k - 1] = base[k - 1] + t * v
            return dot(rule.on_numbers(g0, moved))

        h = 1e-6 * max(1.0, float(np.sqrt(np.mean(np.square(base[k - 1]))) if k else 1.0))
        n = numeric_derivative(phi, h, atol, rtol, number_value)
        terms = analytic_grad * v
        size = int(np.prod(shape)) if shape else 1
        checks.append(verdict(name + (" along a random direction" if size > 1 else ""), float(terms.sum()), n,
                              float(np.sqrt(np.sum(terms * terms))), atol, rtol, single=size == 1))
    judged = _judged(row, checks)
    if judged.status == "culprit":
        bad = [c.name.split(" along")[0] for c in checks[1:] if c.status == "FAIL"]
        notes = ["it gives other numbers than at first order"] if checks[0].status == "FAIL" else []
        judged.note = "; ".join(notes + (["its derivative is wrong in " + ", ".join(bad)] if bad else []))
    return judged


# -- recording while the graph is built -----------------------------------------------------------------


class _Recording:
    """A watcher of the engine (``autograd.graph``) while audit's function runs: for every node made, the line of
    user code that made it and, for Tensor nodes, how to replay its op."""

    def __init__(self) -> None:
        self._sites: dict[int, tuple[Any, Site | None]] = {}
        self._replays: dict[int, tuple[Any, Replay]] = {}
        self._differentiated: dict[int, tuple[Any, list[Any]]] = {}  # rules run under create_graph, in order

    def __enter__(self) -> _Recording:
        grad_mode.watch(self)
        return self

    def __exit__(self, *exc: object) -> None:
        grad_mode.unwatch(self)

    def created(self, node: Any, replay: Replay | None) -> None:
        self._sites[id(node)] = (node, user_site(2))  # the node too: its id is not reused while it is kept here
        if replay is not None:
            self._replays[id(node)] = (node, replay)

    def gradients(self, node: Any, grad_out: Any, grads: tuple[Any, ...]) -> None:
        if isinstance(grad_out, (Tensor, Value)):  # a create_graph pass: the rule built part of a graph
            made = [g for g in grads if isinstance(g, (Tensor, Value))]
            entry = self._differentiated.setdefault(id(node), (node, []))
            entry[1].extend(made)

    @property
    def differentiated(self) -> list[tuple[Any, list[Any]]]:
        """(node, what its rule made) for every node whose backward rule ran under create_graph."""
        return list(self._differentiated.values())

    def site_of(self, node: Any) -> Site | None:
        entry = self._sites.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else None

    def replay_of(self, node: Any) -> Replay | None:
        entry = self._replays.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else None


def _position(nodes: tuple[Any, ...], node: Any) -> int:
    """Where ``node`` is among ``nodes``, by identity (Tensors compare elementwise with ==)."""
    return next(i for i, x in enumerate(nodes) if x is node)
