"""Local derivatives, backward_steps and explain: the chain rule as a reader sees it, checked against the engine.

* every Value op's local derivatives, derived from its one backward rule (``value.contributions`` with g = 1),
  add up to what backward() accumulates and agree with finite differences;
* ``backward_steps`` reproduces ``backward()``'s gradients bit for bit on random graphs of both engines, in a
  valid reverse topological order, one step per edge;
* ``explain``'s terms add up to the gradient, one per edge, fan-out included.
"""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

from autograd import Tensor, Value, backward_steps, explain
from autograd import value as value_module
from autograd.viz.steps import replay

# -- the local derivative of every Value op ---------------------------------------------------------

# op code -> (build out from a list of floats, the floats). Inputs are distinct leaves, so each edge is
# one input and ∂out/∂input can be checked by nudging that input alone.
SAMPLES = {
    "+": (lambda v: v[0] + v[1], [0.7, -1.3]),
    "-": (lambda v: v[0] - v[1], [0.7, -1.3]),
    "*": (lambda v: v[0] * v[1], [0.7, -1.3]),
    "/": (lambda v: v[0] / v[1], [0.7, -1.3]),
    "**": (lambda v: v[0] ** 3, [0.7]),
    "rpow": (lambda v: 2.0 ** v[0], [0.7]),
    "neg": (lambda v: -v[0], [0.7]),
    "exp": (lambda v: v[0].exp(), [0.7]),
    "log": (lambda v: v[0].log(), [0.7]),
    "tanh": (lambda v: v[0].tanh(), [0.7]),
    "relu": (lambda v: v[0].relu(), [0.7]),
    "sigmoid": (lambda v: v[0].sigmoid(), [0.7]),
    "sum": (lambda v: Value.sum(v), [0.7, -1.3, 2.1]),
    "dot": (lambda v: Value.dot(v[0:2], v[2:4], v[4]), [0.7, -1.3, 2.1, 0.4, -0.6]),
}
NO_SAMPLE = {"function"}  # user-defined Functions: tested below with one


def test_every_op_with_a_backward_rule_has_a_sample_here():
    ops = set(value_module._BACKWARD) - NO_SAMPLE
    assert ops <= set(SAMPLES), f"add a sample to SAMPLES for: {sorted(ops - set(SAMPLES))}"


@pytest.mark.parametrize("op", sorted(SAMPLES))
def test_sum_of_grad_times_local_is_what_backward_accumulates(op: str):
    build, numbers = SAMPLES[op]
    ins = [Value(x) for x in numbers]
    out = build(ins)
    assert out._op == op
    out.grad = 0.7  # any upstream gradient
    value_module._BACKWARD[op](out)
    locals_ = value_module.contributions(out, 1.0)
    assert len(locals_) == len(out.inputs)
    for inp in ins:
        expected = sum(out.grad * loc for x, loc in zip(out.inputs, locals_) if x is inp)
        assert math.isclose(inp.grad, expected, rel_tol=1e-12, abs_tol=1e-15), (op, inp, expected)


@pytest.mark.parametrize("op", sorted(SAMPLES))
def test_local_derivatives_match_finite_differences(op: str):
    build, numbers = SAMPLES[op]
    out = build([Value(x) for x in numbers])
    locals_ = value_module.contributions(out, 1.0)
    h = 1e-6
    for i in range(len(numbers)):
        up, down = list(numbers), list(numbers)
        up[i] += h
        down[i] -= h
        numeric = (build([Value(x) for x in up]).data - build([Value(x) for x in down]).data) / (2 * h)
        slot = next(k for k, x in enumerate(out.inputs) if x.data == numbers[i])
        assert math.isclose(locals_[slot], numeric, rel_tol=1e-6, abs_tol=1e-8), (op, i, locals_[slot], numeric)


def test_relu_local_is_zero_left_of_zero_and_pow_local_is_exact():
    assert value_module.contributions(Value(-0.5).relu(), 1.0) == [0.0]
    assert value_module.contributions(Value(3.0) ** 2, 1.0) == [6.0]


# -- backward_steps reproduces backward() -------------------------------------------------------------


def random_value_graph(rng: random.Random) -> tuple[Value, list[Value]]:
    """A random graph over four leaves using every op, with fan-out, x * x and shared dot inputs."""
    leaves = [Value(rng.uniform(-1.5, 1.5), label=f"x{i}") for i in range(4)]
    pool = list(leaves)

    def pick() -> Value:
        return rng.choice(pool)

    for _ in range(30):
        kind = rng.randrange(13)
        a, b = pick(), pick()
        if kind == 0:
            v = a + b
        elif kind == 1:
            v = a - b
        elif kind == 2:
            v = a * b
        elif kind == 3:
            v = a / (b * b + 1.0)
        elif kind == 4:
            v = a ** 2
        elif kind == 5:
            v = (-a).tanh()
        elif kind == 6:
            v = a.tanh().exp()
        elif kind == 7:
            v = (a * a + 0.5).log()
        elif kind == 8:
            v = a.relu() + b.sigmoid()
        elif kind == 9:
            v = Value.sum([a, b, a, 2.0])
        elif kind == 10:
            v = Value.dot([a, b, a], [b, pick(), a], pick())  # a object in several slots of one node
        elif kind == 11:
            v = 2.0 ** a.tanh()
        else:
            v = a * a  # the same node twice
        pool.append(v)
    return Value.sum(pool[-8:]) * pool[-1], leaves


def value_grads(root: Value) -> dict[int, float]:
    seen, stack, out = {id(root)}, [root], {}
    while stack:
        n = stack.pop()
        out[id(n)] = n.grad
        for c in n.inputs:
            if id(c) not in seen:
                seen.add(id(c))
                stack.append(c)
    return out


@pytest.mark.parametrize("seed", range(8))
def test_value_steps_reproduce_backward_exactly(seed: int):
    root, _leaves = random_value_graph(random.Random(seed))
    root.backward()
    expected = value_grads(root)
    zero_leaves(root)  # the leaves, and the constants that numbers in the graph became
    steps = list(backward_steps(root))
    assert value_grads(root) == expected  # bit for bit, every node
    assert [s.index for s in steps] == list(range(1, len(steps) + 1))
    assert_reverse_topological(steps, root)
    # one step per edge of every op reachable from the root
    edges = sum(len(n.inputs) for n in _all_nodes(root))
    assert len(steps) == edges


def zero_leaves(root: Value) -> None:
    for n in _all_nodes(root):
        if not n.inputs:
            n.grad = 0.0


def assert_reverse_topological(steps, root) -> None:
    """A consumer hands on gradient only after everything it receives has arrived."""
    sent_from: set[int] = set()
    for s in steps:
        assert id(s.node) not in sent_from, f"step {s.index}: {s.node} receives after it already sent"
        sent_from.add(id(s.consumer))
        assert s.node is not root


def _all_nodes(root):
    seen, stack, out = {id(root)}, [root], [root]
    while stack:
        for c in stack.pop().inputs:
            if id(c) not in seen:
                seen.add(id(c))
                stack.append(c)
                out.append(c)
    return out


def test_steps_report_the_local_the_contribution_and_the_running_sum():
    a = Value(3.0, label="a")
    b = a + a
    c = b * a  # c = 2a², dc/da = 4a = 12: 3 (from b·a, via the + twice) ... in backward()'s order
    steps = list(backward_steps(c))
    assert [(s.consumer.op, s.slot, s.local, s.contribution) for s in steps] == [
        ("*", 0, 3.0, 3.0),  # c → b: ∂c/∂b = a = 3
        ("*", 1, 6.0, 6.0),  # c → a: ∂c/∂a = b = 6
        ("+", 0, 1.0, 3.0),  # b → a, first use: b.grad 3 × 1
        ("+", 1, 1.0, 3.0),  # b → a, second use
    ]
    assert [s.grad_after for s in steps] == [3.0, 6.0, 9.0, 12.0]
    assert a.grad == 12.0


def test_replay_changes_no_gradient_and_matches_backward_steps():
    root, _leaves = random_value_graph(random.Random(11))
    root.backward()
    before = value_grads(root)
    replayed = replay(root)
    assert value_grads(root) == before
    zero_leaves(root)
    stepped = list(backward_steps(root))
    assert [(id(s.node), id(s.consumer), s.slot, s.contribution, s.grad_after) for s in replayed] == \
           [(id(s.node), id(s.consumer), s.slot, s.contribution, s.grad_after) for s in stepped]


def test_leaf_root_and_leaf_grads_accumulate_like_backward():
    x = Value(2.0)
    assert list(backward_steps(x)) == [] and x.grad == 1.0
    w = Value(1.5)
    y = w * 2.0
    y.backward()
    list(backward_steps(y))
    assert w.grad == 4.0  # two passes accumulate, as backward() does


def random_tensor_graph(rng: np.random.Generator) -> tuple[Tensor, list[Tensor]]:
    x = Tensor(rng.normal(size=(3, 4)), requires_grad=True, label="x")
    b = Tensor(rng.normal(size=(4,)), requires_grad=True, label="b")
    c = Tensor(rng.normal(size=(3, 1)), requires_grad=True, label="c")
    w = Tensor(rng.normal(size=(4, 2)), requires_grad=True, label="w")
    h = (x + b) * c  # two broadcasts
    h2 = h.tanh() - x.sigmoid() / (c * c + 1.0)
    z = h2 @ w + (x * x).sum(axis=1, keepdims=True)  # x used four times
    z = z.relu() + z.exp().mean() + (b**2).sum()
    return (z * z).sum() + z[0].sum(), [x, b, c, w]


@pytest.mark.parametrize("seed", range(4))
def test_tensor_steps_reproduce_backward_exactly(seed: int):
    root, leaves = random_tensor_graph(np.random.default_rng(seed))
    root.backward()
    expected = [leaf.grad.copy() for leaf in leaves]
    for leaf in leaves:
        leaf.grad = None
    steps = list(backward_steps(root))
    for leaf, g in zip(leaves, expected):
        assert np.array_equal(leaf.grad, g), leaf.label
    assert_reverse_topological(steps, root)
    for s in steps:
        assert s.contribution.shape == s.node.data.shape  # already summed back to the input's shape
    into_b = [s for s in steps if s.node is leaves[1]]
    assert np.array_equal(into_b[-1].grad_after, expected[1])


def test_tensor_steps_need_a_seed_for_a_non_scalar_root():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match="grad="):
        list(backward_steps(x * 2.0))
    steps = list(backward_steps(x * 2.0, grad=np.array([1.0, 2.0, 3.0])))
    assert np.array_equal(steps[0].contribution, [2.0, 4.0, 6.0])


# -- explain ----------------------------------------------------------------------------------------------


def test_explain_fan_out_shows_one_term_per_edge_and_checks_the_sum():
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    b.backward()
    e = explain(a, root=b)
    assert [(t.consumer_grad, t.local, t.contribution) for t in e.terms] == [(1.0, 1.0, 1.0), (1.0, 1.0, 1.0)]
    assert e.total == 2.0 == a.grad and e.ok
    text = str(e)
    assert "2 edges" in text and text.count("b = a + a") == 2 and "✓" in text


def test_explain_without_root_shows_what_the_output_hands_its_inputs():
    a = Value(3.0, label="a")
    b = a + a
    b.label = "b"
    e = explain(b)
    assert len(e.terms) == 2 and all(t.node is a and t.contribution == 1.0 for t in e.terms)
    assert "a receives 2 in all from b" in str(e)
    with pytest.raises(ValueError, match="root=loss"):
        explain(a)
    with pytest.raises(TypeError, match="root needs a Value or Tensor, got float"):
        explain(a, root=b.data)


def test_explain_terms_sum_to_the_gradient_on_a_neuron():
    x = Value(2.0, label="x")
    w = Value(-3.0, label="w")
    n = x * w + x  # x feeds two consumers
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    e = explain(x, root=o)
    assert len(e.terms) == 2
    assert math.isclose(sum(t.contribution for t in e.terms), x.grad, rel_tol=1e-15) and e.ok
    # ∂o/∂x = (1 − o²)(w + 1), by hand
    assert math.isclose(x.grad, (1 - math.tanh(-4.0) ** 2) * (-3.0 + 1.0), rel_tol=1e-12)
    assert "<table" in e._repr_html_() and "✓" in e._repr_html_()


def test_explain_says_when_backward_has_not_run_or_grads_accumulated():
    a = Value(3.0, label="a")
    b = a * 2.0
    assert "has backward() run" in explain(a, b).note
    b.backward()
    b.backward()
    e = explain(a, b)
    assert e.total == 2.0 and a.grad == 4.0 and not e.ok and "zero_grad" in e.note
    with pytest.raises(ValueError, match="does not feed"):
        explain(Value(1.0, label="elsewhere"), b)


def test_explain_tensor_shows_rule_shapes_and_the_broadcast_sum():
    x = Tensor(np.arange(6.0).reshape(3, 2), requires_grad=True, label="x")
    b = Tensor(np.array([1.0, -1.0]), requires_grad=True, label="b")
    z = x + b
    L = (z * z).sum()
    L.backward()
    e = explain(b, root=L)
    (term,) = e.terms
    assert term.local == "g, Σ over axes (0,)"
    assert term.consumer_grad.shape == (3, 2) and term.contribution.shape == (2,)
    assert np.array_equal(e.total, b.grad) and e.ok
    # dL/db_j = Σ_i 2(x_ij + b_j): columns of x are [0, 2, 4] and [1, 3, 5]
    assert np.array_equal(b.grad, [2 * (6 + 3), 2 * (9 - 3)])
    assert "Σ over axes (0,)" in str(e)
    inner = explain(z, root=L)
    assert len(inner.terms) == 2 and "keep no .grad" in inner.note


def test_an_op_known_only_by_its_backward_rule_shows_the_local_derivative_that_rule_gives():
    a = Value(2.0, label="a")
    out = a * 3.0
    out._op = "MyOp"  # a new op: nothing but a backward rule in the table
    table = dict(value_module._BACKWARD, MyOp=value_module._BACKWARD["*"])
    saved, value_module._BACKWARD = value_module._BACKWARD, table
    try:
        steps = replay(out)
        text = str(explain(a, root=out))
    finally:
        value_module._BACKWARD = saved
    assert [(s.local, s.contribution) for s in steps] == [(3.0, 3.0), (2.0, 2.0)]
    assert "∂/∂a 3 = 3" in text


def test_a_user_function_is_stepped_with_its_own_backward_and_the_local_derivative_it_gives():
    from autograd import Function

    class Cube(Function):  # y = x³, dy/dx = 3x²
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * 3 * x * x

    a = Value(2.0, label="a")
    y = Cube.apply(a) * a  # y = a⁴: dy/da = 4a³ = 32, from 8 (the product) and a · 3a² = 24 (the cube)
    y.backward()
    assert a.grad == 32.0
    replayed = replay(y)
    assert a.grad == 32.0  # replay touched nothing, even though the Function's backward writes to its own inputs
    assert [(s.consumer.op, s.local, s.contribution) for s in replayed if s.node is a] == [
        ("*", 2.0 ** 3, 8.0), ("Cube", 12.0, 24.0)]
    a.grad = 0.0
    list(backward_steps(y))
    assert a.grad == 32.0
    e = explain(a, root=y)
    assert e.ok and "∂/∂a 12 = 24" in str(e), str(e)


# -- names: what steps, captions and explain call each value ------------------------------------------------


def test_explain_writes_the_derivative_with_the_roots_own_name():
    x = Value(2.0, label="x")
    out = (x * x + 3.0).tanh()
    out.label = "out"
    out.backward()
    e = explain(x, root=out)
    assert str(e).startswith("∂out/∂x: the sum over the 2 edges from x") and "∂out/∂x" in e._repr_html_()
    assert "(*) = x * x" in str(e) and "∂L" not in str(e)
    assert "out is the output: backward() starts from ∂out/∂out = 1" in explain(out, root=out).note


def test_unlabelled_values_get_short_stable_names_everywhere():
    y = Value(1.0)
    s = (y * 2.0).tanh() + (y * 3.0).tanh()  # nothing labelled: the root is "out", y is "v1"
    s.backward()
    text = str(explain(y, root=s))
    assert text.startswith("∂out/∂v1: the sum over the 2 edges")
    assert "(*)#1 = v1 * 2" in text and "(*)#2 = v1 * 3" in text  # numbered in the order they were made
    steps = replay(s)
    assert [(s.name(s.consumer), s.name(s.node)) for s in steps[:3]] == [
        ("out", "(tanh)#1"), ("out", "(tanh)#2"), ("(tanh)#2", "(*)#2")]
    again = replay(s)  # the same graph gets the same names
    assert [x.name(x.node) for x in again] == [x.name(x.node) for x in steps]
    w = Value(0.5, label="v1")  # a generated name never repeats a label
    t = w * Value(2.0)
    assert [x.name(x.node) for x in replay(t)] == ["v1", "v1′"]


def test_print_step_reads_as_a_sentence():
    a, b = Value(2.0, label="a"), Value(-3.0, label="b")
    c = a * b
    c.label = "c"
    d = c + a
    d.label = "d"
    L = d ** 2
    L.label = "L"
    steps = list(backward_steps(L))
    assert repr(steps[0]) == "Step 1: L (**2) sends d 1 × -8 = -8; now d.grad = -8"
    assert str(steps[3]) == "Step 4: c (*) sends a -8 × -3 = 24; now a.grad = 16"
    x = Tensor(np.ones((2, 2)), requires_grad=True, label="x")
    (step,) = list(backward_steps((x * x).sum()))[:1]
    assert repr(step) == "Step 1: out (sum) sends (*) ‖contribution‖ = 2 by the rule g copied back; now ‖(*).grad‖ = 2"
