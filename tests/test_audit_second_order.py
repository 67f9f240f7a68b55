"""audit of a create_graph graph: the op whose backward rule has the wrong derivative is named.

Every op of such a graph is right on its own (the ops a backward rule builds are ordinary ops), so checking them
one by one finds nothing. What can be wrong is a rule: the right numbers, the wrong dependence on its arguments.
audit checks each rule that ran under create_graph as a function of the incoming gradient g and the op's inputs.
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import DetachedSigmoid, FrozenSeed

from autograd import Tensor, Value, audit, draw_dot, grad
from autograd.graph import Replay
from nn import functional as F

X = np.array([0.3, -1.0, 2.0])


def second_derivative_of(fn, x):
    """What a learner audits: the sum of the gradient of Σ fn(x), built with create_graph."""
    return lambda: grad(fn(x).sum(), x, create_graph=True)[0].sum()


def test_the_culprit_of_a_wrong_second_derivative_is_the_functions_backward():
    x = Tensor(X.copy(), requires_grad=True, label="x")
    report = audit(second_derivative_of(lambda x: DetachedSigmoid.apply(x * 2.0) * x, x))
    c = report.culprit
    assert c is not None and c.op == "backward of DetachedSigmoid" and c.order == 2
    assert c.site.code == "def backward(ctx, g):"  # where to fix it: the def line, below @staticmethod
    assert c.site.lineno == DetachedSigmoid.backward.__code__.co_firstlineno + 1
    assert [e.name for e in c.checks if e.status == "FAIL"] == ["input 0 along a random direction"]
    first_order = [r for r in report.rows if r.op == "DetachedSigmoid"]
    assert [report.row_status(r) for r in first_order] == ["ok"]  # its first derivative is right
    assert not any(report.row_status(r) == "culprit" for r in report.rows if r is not c)
    assert "culprit: the backward of DetachedSigmoid" in str(report)
    assert report.node_status(x) == "inherits"  # the second derivative reaching x is wrong


def test_first_order_checks_alone_find_nothing_wrong_there():
    x = Tensor(X.copy(), requires_grad=True)
    root = second_derivative_of(lambda x: DetachedSigmoid.apply(x * 2.0) * x, x)()
    report = audit(root)  # a root, not a function: no rule ran inside audit, so only ops are checked
    assert report.ok and all(r.order == 1 for r in report.rows)


def test_a_rule_that_freezes_the_incoming_gradient_is_named_for_g():
    x = Tensor(X.copy(), requires_grad=True)
    report = audit(second_derivative_of(lambda x: FrozenSeed.apply(x.tanh()), x))
    assert report.culprit.op == "backward of FrozenSeed"
    assert [e.name for e in report.culprit.checks if e.status == "FAIL"] == [
        "the incoming gradient g along a random direction"]


def test_value_functions_are_audited_the_same_way():
    a = Value(0.4, label="a")
    report = audit(lambda: grad(DetachedSigmoid.apply(a * 3.0) * a, a, create_graph=True)[0])
    assert report.culprit.op == "backward of DetachedSigmoid"
    assert [e.name for e in report.culprit.checks if e.status == "FAIL"] == ["input 0"]
    report = audit(lambda: grad(FrozenSeed.apply(a.exp()), a, create_graph=True)[0])
    assert report.culprit.op == "backward of FrozenSeed"
    assert [e.name for e in report.culprit.checks if e.status == "FAIL"] == ["the incoming gradient g"]


def cube(x: Tensor, wrong: str = "") -> Tensor:
    """x³ as an op made with Tensor.from_op, its rule 3x²·g; ``wrong`` breaks it under create_graph only."""
    def backward(xp, g, out, x):
        if xp.graph and wrong == "frozen":
            return (g * 3 * x * Tensor(x.data),)  # the right numbers, half the dependence on x
        if xp.graph and wrong == "numbers":
            return (g * 3.03 * x * x,)  # another number than the first-order rule gives
        return (g * 3 * x * x,)

    return Tensor.from_op(x.data**3, (x,), backward, "cube", Replay(cube, (x, wrong)))


@pytest.mark.parametrize("wrong, failing", [("frozen", "input 0 along a random direction"),
                                            ("numbers", "its numbers under create_graph")])
def test_an_op_made_with_from_op_is_checked_and_named_at_its_line(wrong, failing):
    x = Tensor(X.copy(), requires_grad=True)
    report = audit(second_derivative_of(lambda x: cube(x * 1.5, wrong), x))
    c = report.culprit
    assert c.op == "backward of cube"
    assert failing in [e.name for e in c.checks if e.status == "FAIL"]
    assert c.site.function == "cube" and "from_op" in c.site.code  # the line outside the library that made it


def test_a_right_network_passes_with_every_rule_checked():
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((4, 3)))
    w1 = Tensor(rng.standard_normal((5, 3)), requires_grad=True, label="w1")
    w2 = Tensor(rng.standard_normal((2, 5)), requires_grad=True, label="w2")
    labels = np.array([0, 1, 1, 0])

    def gradient_norm():  # a gradient penalty: ‖∂L/∂w1‖²
        loss = F.cross_entropy(F.linear(F.linear(x, w1).tanh(), w2), labels)
        (g,) = grad(loss, w1, create_graph=True)
        return (g * g).sum()

    report = audit(gradient_norm)
    assert report.ok, str(report)
    rules = {r.op for r in report.rows if r.order == 2}
    assert {"backward of linear", "backward of tanh", "backward of cross_entropy"} <= rules
    assert all(r.status == "ok" for r in report.rows if r.order == 2)


def test_third_derivatives_check_the_rules_of_the_gradients_graph_too():
    x = Tensor(X.copy(), requires_grad=True)

    def third():
        (d1,) = grad((x.sigmoid() * x).sum(), x, create_graph=True)
        (d2,) = grad(d1.sum(), x, create_graph=True)
        return d2.sum()

    report = audit(third)
    assert report.ok
    rules = [r for r in report.rows if r.order == 2]
    assert len(rules) > 3  # sigmoid, *, sum, and the ops the first backward built (its -, *, ...)
    assert "backward of -" in {r.op for r in rules}


def test_draw_dot_colours_the_op_whose_rule_is_wrong():
    from autograd.viz import palette

    x = Tensor(X.copy(), requires_grad=True)
    fn = second_derivative_of(lambda x: DetachedSigmoid.apply(x * 2.0) * x, x)
    report = audit(fn)
    source = draw_dot(report.root, audit=report).source
    assert palette.CULPRIT in source and "DetachedSigmoid" in source
