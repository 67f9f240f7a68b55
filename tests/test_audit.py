"""audit: every built-in op of both engines passes on its own; a wrong Function backward is the culprit, named
with its line, and the nodes upstream of it inherit; kinks are kinks; unreplayable ops say so; it is fast."""
from __future__ import annotations

import inspect
import os
import time

import numpy as np
import pytest
from conftest import Sigmoid

import autograd.value as value_module
from autograd import AuditReport, Tensor, Value, audit
from nn import Dropout, Linear, ReLU, Sequential
from nn import functional as F


def here() -> int:
    return inspect.currentframe().f_back.f_lineno


def rand(shape, seed, requires_grad=True, dtype=np.float64, label=""):
    data = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    return Tensor(data, requires_grad=requires_grad, label=label)


def statuses(report: AuditReport) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for r in report.rows:
        out.setdefault(r.op, set()).add(report.node_status(r.node))
    return out


# -- every built-in op passes -----------------------------------------------------------------------------


def test_every_value_op_passes():
    a, b, c = Value(0.7, label="a"), Value(-1.3, label="b"), Value(2.1, label="c")

    def f():
        terms = [a + b, a * b, a - b, a / b, -a, a**3, 2.0**a, c.log(), b.exp(), a.tanh(), c.relu(), b.sigmoid()]
        return Value.sum(terms) + Value.dot([a, b], [c, a], b)

    report = audit(f)
    assert report.ok and not report.unchecked, str(report)
    assert all(r.status == "ok" for r in report.rows)
    codes = {r.node._op for r in report.rows}
    assert set(value_module._BACKWARD) - {"function"} <= codes  # a new op in value.py needs a line above
    assert all(r.site is not None and os.path.basename(r.site.filename) == "test_audit.py" for r in report.rows)


def test_value_graphs_need_no_function_but_then_have_no_lines():
    a = Value(0.5)
    report = audit((a * a).tanh() + a)
    assert report.ok and len(report.rows) == 3 and not report.unchecked
    assert all(r.site is None for r in report.rows)


TENSOR_GRAPHS = {
    "arithmetic": lambda x, y, m, w: ((x + y) * (x - y) / (y * y + 1.0) - x).sum(),
    "powers": lambda x, y, m, w: ((x * x + 1.0) ** 1.5 + (y * y + 1.0) ** (x * 0.1) + 2.0 ** x).sum(),
    "matmul": lambda x, y, m, w: (x @ m).sum() + (m.T @ x[0]).sum() + (x.reshape(1, 3, 4) @ m).sum(),
    "unary": lambda x, y, m, w: ((x * 0.3).exp() + (x * x + 1).log() + x.tanh() + (x + 5.0).relu() + x.sigmoid()
                                 + (x + 0.01).abs() + (x * x + 1).sqrt() + x.clip(-10.0, 10.0)).sum(),
    "reductions": lambda x, y, m, w: (x.sum(0) * x.mean(1, keepdim=True)).sum() + x.amax() + x.max(1)[0].sum()
                                     + x.amin(0).sum() + x.min(),
    "shapes": lambda x, y, m, w: (x.reshape(4, 3).T.flatten() * x.permute(1, 0).reshape(-1)).sum()
                                 + (x.unsqueeze(0).squeeze(0)[1:, ::2] * 2).sum() + x[[0, 0, 2], [1, 1, 3]].sum()
                                 + x.transpose(0, 1).sum(),
    "softmax": lambda x, y, m, w: (x.softmax(-1) * y).sum() + (x.log_softmax(0) * y).sum() + (x.double() * y).sum(),
    "functional": lambda x, y, m, w: F.linear(x, w, w[0, :3] * 1.0).sum() + F.cross_entropy(x, np.array([0, 3, 1]))
                                     + F.mse_loss(x, y) + F.binary_cross_entropy_with_logits(x, y.sigmoid())
                                     + F.softmax(x).sum() + F.log_softmax(x, 0).sum(),
}


@pytest.mark.parametrize("name", sorted(TENSOR_GRAPHS))
def test_every_tensor_op_passes(name):
    x, y = rand((3, 4), 1, label="x"), rand((3, 4), 2, label="y")
    m, w = rand((4, 5), 3, label="m"), rand((3, 4), 4, label="w")
    report = audit(lambda: TENSOR_GRAPHS[name](x, y, m, w))
    assert report.ok and not report.unchecked, str(report)
    assert all(r.status == "ok" for r in report.rows), str(report)
    assert x.grad is None  # audit leaves gradients alone


def test_float32_graphs_are_replayed_in_float64():
    x = rand((8, 6), 5, dtype=np.float32)
    lin = Linear(6, 3)
    report = audit(lambda: F.cross_entropy(lin(x).relu(), np.arange(8) % 3))
    assert report.ok and not report.unchecked and {r.op for r in report.rows} == {"linear", "relu", "cross_entropy"}


# -- a wrong hand-written backward is the culprit ---------------------------------------------------------------


class WrongSigmoid(Sigmoid):
    @staticmethod
    def backward(ctx, g):
        (s,) = ctx.saved_tensors
        return g * s  # forgot the (1 − s)


def network(act):
    x = rand((5, 4), 6, requires_grad=False, dtype=np.float32)
    lin1, lin2 = Linear(4, 3), Linear(3, 2)
    lines = {}

    def loss():
        z1 = lin1(x)
        lines["act"] = here() + 1
        a1 = act.apply(z1)
        return F.cross_entropy(lin2(a1), np.array([0, 1, 1, 0, 1]))

    return loss, lines, (lin1, lin2)


def test_a_wrong_function_is_the_culprit_and_upstream_nodes_inherit():
    loss, lines, (lin1, lin2) = network(WrongSigmoid)
    report = audit(loss)
    assert not report.ok
    culprit = report.culprit
    assert culprit.op == "WrongSigmoid" and culprit.inputs == "(5, 3) float32"
    assert culprit.site.lineno == lines["act"] and os.path.basename(culprit.site.filename) == "test_audit.py"
    assert "a1 = act.apply(z1)" in culprit.site.code
    assert statuses(report) == {"WrongSigmoid": {"culprit"}, "linear": {"ok", "inherits"}, "cross_entropy": {"ok"}}
    # the first linear and its parameters are upstream: they inherit; the second and the loss do not
    first = next(r.node for r in report.rows if r.op == "linear" and report.node_status(r.node) == "inherits")
    assert first.inputs[1] is lin1.weight
    assert {report.node_status(p) for p in (lin1.weight, lin1.bias)} == {"inherits"}
    assert {report.node_status(p) for p in (lin2.weight, lin2.bias)} == {"leaf"}
    assert id(culprit.node) in report.culprits and id(lin1.weight) in report.inheriting
    failed = [c for c in culprit.checks if c.status == "FAIL"]
    assert len(failed) == 1 and abs(failed[0].analytic - failed[0].numeric) > 1e-3


def test_the_fixed_function_passes():
    loss, _, _ = network(Sigmoid)
    report = audit(loss)
    assert report.ok and not report.culprits and not report.inheriting


def test_a_function_is_checked_even_in_a_graph_built_outside_audit():
    loss, _, _ = network(WrongSigmoid)
    report = audit(loss())  # a root, not a function: built-in ops are not replayable, no creation lines
    assert report.culprit.op == "WrongSigmoid"
    assert report.culprit.site.lineno == WrongSigmoid.backward.__code__.co_firstlineno  # its backward, to fix
    assert {r.op for r in report.unchecked} == {"linear", "cross_entropy"}
    assert all("audit(lambda" in r.note for r in report.unchecked)


def test_a_wrong_value_function_is_named_too():
    a = Value(0.3, label="a")
    report = audit(lambda: (WrongSigmoid.apply(a * 2.0) + 1.0).tanh())
    assert report.culprit.op == "WrongSigmoid"
    assert [report.node_status(r.node) for r in report.rows] == ["ok", "ok", "culprit", "inherits"]
    assert report.node_status(a) == "inherits"


# -- kinks, random ops, and the report ----------------------------------------------------------------------------


def test_relu_at_exactly_zero_is_a_kink_not_a_culprit():
    x = Tensor(np.array([0.0, 1.0, -2.0]), requires_grad=True)
    report = audit(lambda: (x.relu() * 2.0).sum())
    assert report.ok
    assert statuses(report)["relu"] == {"kink"}
    v = Value(0.0)
    assert audit(v.relu() + v).rows[1].status == "kink"


def test_dropout_is_not_checked_and_says_why():
    x = rand((4, 5), 7)
    model = Sequential(Linear(5, 5), Dropout(0.5), ReLU())
    report = audit(lambda: model(x.to(np.float32)).sum())
    [row] = report.unchecked
    assert row.op == "dropout" and "random" in row.note and report.ok


def test_report_prints_culprit_first_and_has_html():
    loss, _, _ = network(WrongSigmoid)
    report = audit(loss)
    text = str(report)
    assert text.splitlines()[0].startswith(
        "audit: 1 culprit(s) among 4 ops; first: 'WrongSigmoid' created at test_audit.py:")
    assert "inherit a wrong gradient from it" in text and "backward gives" in text
    table = text[text.index("op  "):].splitlines()
    assert table[2].startswith("WrongSigmoid") and "culprit" in table[2]
    html = report._repr_html_()
    assert html.startswith("<table") and "WrongSigmoid" in html and "#fde2e1" in html and "#fff4d6" in html


def test_a_784_128_10_mlp_batch_is_audited_in_seconds():
    model = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
    x = rand((128, 784), 8, requires_grad=False, dtype=np.float32)
    y = np.random.default_rng(9).integers(0, 10, 128)
    start = time.perf_counter()
    report = audit(lambda: F.cross_entropy(model(x), y))
    elapsed = time.perf_counter() - start
    # three ops: Sequential runs the first Linear and its ReLU as one node, linear_relu
    assert report.ok and len(report.rows) == 3 and not report.unchecked
    assert elapsed < 10, f"audit took {elapsed:.1f} s"


def test_audit_needs_a_graph():
    with pytest.raises(TypeError, match="Value or Tensor"):
        audit(lambda: 3.0)
