"""The scalar Value engine: every op's derivative against central finite differences, the edges of each
op's domain, backward()'s semantics, deep graphs, no_grad, and random expression graphs."""
from __future__ import annotations

import gc
import math
import sys
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from autograd import Value, no_grad

EPS = 1e-6


def finite_diff(f, xs: list[float], eps: float = EPS) -> list[float]:
    """Central differences (f(x + ε) - f(x - ε)) / 2ε of f: list[float] -> float, computed on plain floats."""
    grads = []
    for i in range(len(xs)):
        plus, minus = list(xs), list(xs)
        plus[i] += eps
        minus[i] -= eps
        grads.append((f(plus) - f(minus)) / (2 * eps))
    return grads


def autograd_grads(build, xs: list[float]) -> tuple[float, list[float]]:
    """Output value and d out / d x for each x, from backward() on the graph ``build`` makes."""
    leaves = [Value(x) for x in xs]
    out = build(leaves)
    out.backward()
    return out.data, [v.grad for v in leaves]


def value_fn(build):
    """The same expression as a function of floats, evaluated through Values under no_grad."""

    def f(xs):
        with no_grad():
            return build([Value(x) for x in xs]).data

    return f


def assert_close(got: float, want: float, rtol: float = 1e-6, atol: float = 1e-7) -> None:
    assert math.isclose(got, want, rel_tol=rtol, abs_tol=atol), f"got {got!r}, want {want!r}"


# -- each op against finite differences, at ordinary points and near the edges ----------------------

UNARY = {
    "neg": (lambda v: -v, [-2.0, 0.0, 3.5]),
    "exp": (lambda v: v.exp(), [-30.0, -1.0, 0.0, 2.0, 20.0]),
    "log": (lambda v: v.log(), [1e-4, 0.01, 1.0, 50.0]),  # log near 0+
    "tanh": (lambda v: v.tanh(), [-30.0, -3.0, -0.5, 0.0, 0.7, 30.0]),
    "sigmoid": (lambda v: v.sigmoid(), [-30.0, -4.0, 0.0, 0.3, 30.0]),
    "relu": (lambda v: v.relu(), [-3.0, -1e-3, 1e-3, 2.0]),  # near 0 on both sides, not at it
    "square": (lambda v: v**2, [-3.0, -0.1, 0.0, 2.5]),
    "cube of negative": (lambda v: v**3, [-2.0, -0.5]),  # negative base, integer k
    "pow -2 of negative": (lambda v: v**-2, [-1.5, -0.2]),
    "sqrt": (lambda v: v**0.5, [0.01, 1.0, 9.0]),
    "reciprocal of small": (lambda v: 1 / v, [1e-3, -1e-3, 0.5]),  # division by small numbers
    "rsub": (lambda v: 2.5 - v, [1.0]),
    "radd, rmul": (lambda v: 3 * v + 1, [-1.0, 2.0]),
    "2 ** x": (lambda v: 2 ** v, [-3.0, 0.0, 0.5, 4.0]),
    "0.3 ** x": (lambda v: 0.3**v, [-2.0, 1.5]),
}


@pytest.mark.parametrize("name", list(UNARY))
def test_unary_op_derivative_matches_finite_differences(name):
    build, points = UNARY[name]
    for x in points:
        _, (grad,) = autograd_grads(lambda vs, b=build: b(vs[0]), [x])
        # Step scaled to the point so log/reciprocal near 0 are not stepped across their pole.
        eps = min(EPS, abs(x) * 1e-4) if x != 0 else EPS
        (numeric,) = finite_diff(value_fn(lambda vs, b=build: b(vs[0])), [x], eps)
        assert_close(grad, numeric, rtol=1e-5, atol=1e-8)


BINARY = {
    "add": (lambda a, b: a + b, [(1.0, 2.0), (-3.0, 0.5)]),
    "sub": (lambda a, b: a - b, [(1.0, 2.0), (-3.0, 0.5)]),
    "mul": (lambda a, b: a * b, [(1.5, -2.0), (0.0, 4.0)]),
    "div": (lambda a, b: a / b, [(1.0, 2.0), (3.0, -0.25), (2.0, 1e-3), (-1.0, -1e-3)]),
    "mixed": (lambda a, b: (a * b + a.tanh()) / (b * b + 1) - (a - b).exp() * 0.1, [(0.3, -0.7), (2.0, 1.0)]),
}


@pytest.mark.parametrize("name", list(BINARY))
def test_binary_op_derivatives_match_finite_differences(name):
    build, points = BINARY[name]
    for a, b in points:
        _, grads = autograd_grads(lambda vs, f=build: f(vs[0], vs[1]), [a, b])
        eps = min(EPS, abs(b) * 1e-4)
        numeric = finite_diff(value_fn(lambda vs, f=build: f(vs[0], vs[1])), [a, b], eps)
        for g, n in zip(grads, numeric):
            assert_close(g, n, rtol=1e-5, atol=1e-8)


def test_derivatives_by_hand():
    a, b = Value(2.0), Value(-3.0)
    out = a * b + a**3 / b  # d/da = b + 3a²/b = -3 - 4 = -7;  d/db = a - a³/b² = 2 - 8/9
    out.backward()
    assert out.data == pytest.approx(-6.0 - 8.0 / 3.0)
    assert a.grad == pytest.approx(-7.0)
    assert b.grad == pytest.approx(2.0 - 8.0 / 9.0)


def test_fused_dot_and_sum_match_finite_differences():
    xs = [0.5, -1.2, 2.0, 0.3, -0.7, 1.1, 0.9]  # 3 weights, 3 inputs, 1 bias

    def build(vs):
        return Value.dot(vs[0:3], vs[3:6], vs[6]).tanh() + Value.sum([vs[0], vs[3] * vs[3], vs[6]])

    _, grads = autograd_grads(build, xs)
    for g, n in zip(grads, finite_diff(value_fn(build), xs)):
        assert_close(g, n, rtol=1e-6, atol=1e-8)


def test_dot_with_the_same_value_as_weight_and_input():
    w = Value(3.0)
    out = Value.dot([w, w], [w, Value(2.0)], 1.0)  # w² + 2w + 1: d/dw = 2w + 2 = 8
    out.backward()
    assert out.data == 16.0
    assert w.grad == 8.0


def test_division_and_subtraction_are_one_node_each_with_their_own_derivative():
    a, b = Value(3.0), Value(-2.0)
    q = a / b
    assert (q.op, q.inputs, q.data) == ("/", (a, b), -1.5)
    q.backward()
    assert a.grad == -0.5  # 1/b
    assert b.grad == -0.75  # -a/b² = -3/4
    c, d = Value(5.0), Value(7.0)
    r = c - d
    assert (r.op, r.inputs, r.data) == ("-", (c, d), -2.0)
    r.backward()
    assert (c.grad, d.grad) == (1.0, -1.0)
    e = Value(2.0)
    (e / e).backward()  # the same node on both sides: 1/e - e/e² = 0
    assert e.grad == 0.0
    (e - e).backward()
    assert e.grad == 0.0
    f = Value(4.0)
    g = 1.0 / f
    assert g.op == "/" and g.inputs[1] is f and g.inputs[0].data == 1.0
    h = 10.0 - f
    assert h.op == "-" and h.inputs[1] is f and h.data == 6.0


def test_a_number_to_a_value_power():
    x = Value(3.0)
    y = 2 ** x
    assert (y.data, y.op, y.inputs) == (8.0, "2**", (x,))
    y.backward()
    assert x.grad == pytest.approx(8.0 * math.log(2.0))  # d/dx 2ˣ = 2ˣ ln 2
    z = Value(2.0)
    (0.0**z).backward()  # 0ˣ = 0 for x > 0: slope 0, as in PyTorch
    assert z.grad == 0.0
    n = Value(3.0)
    out = (-2.0) ** n
    assert out.data == -8.0
    out.backward()
    assert math.isnan(n.grad)  # ln of a negative base is not real: nan, as PyTorch gives
    assert (10.0 ** Value(400.0)).data == math.inf
    with pytest.raises(TypeError, match="exponent must be a number"):
        Value(2.0) ** Value(2.0)


def test_float_int_bool_item_and_method_forms():
    v = Value(-2.5)
    assert float(v) == -2.5 and int(v) == -2 and bool(v) is True and bool(Value(0.0)) is False
    assert v.item() == -2.5 and isinstance(v.item(), float)
    w = Value(4.0)
    for got, op, want in [(v.add(w), "+", 1.5), (v.sub(w), "-", -6.5), (v.mul(w), "*", -10.0),
                          (v.div(w), "/", -0.625), (w.pow(0.5), "**0.5", 2.0), (v.neg(), "neg", 2.5),
                          (v.add(1), "+", -1.5)]:
        assert (got.op, got.data) == (op, want)
    assert math.exp(Value(0.0)) == 1.0  # anything that takes a float takes a Value (its number)


def test_values_and_tensors_do_not_mix():
    import numpy as np

    from autograd import Tensor

    for op in (lambda: Value(1.0) + Tensor(np.ones(2)), lambda: Tensor(np.ones(2)) + Value(1.0),
               lambda: Value(1.0) * Tensor(1.0), lambda: Value(1.0) - Tensor(1.0), lambda: Value(1.0) / Tensor(1.0)):
        with pytest.raises(TypeError, match="cannot combine a Tensor with a Value"):
            op()


# -- numerical safety at the extremes ----------------------------------------------------------------


def test_saturating_ops_do_not_overflow():
    assert Value(-1000.0).sigmoid().data == 0.0
    assert Value(1000.0).sigmoid().data == 1.0
    assert Value(1000.0).tanh().data == 1.0
    assert Value(-1000.0).tanh().data == -1.0
    assert Value(1000.0).exp().data == math.inf
    assert Value(-1000.0).exp().data == 0.0
    assert (Value(10.0) ** 400).data == math.inf
    assert (Value(-10.0) ** 401).data == -math.inf


def test_saturated_gradients_are_zero_not_nan():
    for build in (lambda v: v.sigmoid(), lambda v: v.tanh()):
        for x in (-1000.0, 1000.0):
            v = Value(x)
            build(v).backward()
            assert v.grad == 0.0


@pytest.mark.parametrize(
    "build, op, shown",
    [
        (lambda: Value(0.0).log(), "log", "0.0"),
        (lambda: Value(-2.0).log(), "log", "-2.0"),
        (lambda: Value(0.0) ** -1, "**", "0.0"),
        (lambda: Value(0.0) ** -2.5, "**", "0.0"),
        (lambda: Value(-8.0) ** 0.5, "**", "-8.0"),
        (lambda: (-8.0) ** Value(0.5), "**", "-8.0"),
        (lambda: 0.0 ** Value(-1.0), "**", "0.0"),
    ],
)
def test_domain_errors_name_the_op_and_the_value(build, op, shown):
    with pytest.raises(ValueError) as info:
        build()
    assert op in str(info.value) and shown in str(info.value)


@pytest.mark.parametrize("build", [lambda: Value(1.0) / Value(0.0), lambda: 3.0 / Value(0.0), lambda: Value(2.0) / 0])
def test_division_by_a_zero_value_says_division_by_zero(build):
    # Was "'**': 0.0 ** -1 is undefined" when a / b was built as a * b**-1.
    with pytest.raises(ZeroDivisionError, match=r"'/': division by zero \(.*/ 0\.0\)"):
        build()


def test_bad_operands_are_rejected_clearly():
    with pytest.raises(TypeError, match="str"):
        Value("1.5")
    with pytest.raises(TypeError):
        Value(1.0) + "x"
    with pytest.raises(TypeError, match="exponent must be a number"):
        Value(2.0) ** Value(2.0)
    with pytest.raises(ValueError, match="2 weights but 3 inputs"):
        Value.dot([Value(1.0)] * 2, [1.0, 2.0, 3.0])


# -- backward semantics ------------------------------------------------------------------------------


def test_leaf_grads_accumulate_across_backward_calls():
    a, b = Value(3.0), Value(4.0)
    out = a * b
    out.backward()
    out.backward()
    assert (a.grad, b.grad) == (8.0, 6.0)  # 2 × (b, a)
    a.grad = 0.0
    out.backward()
    assert a.grad == 4.0


def test_interior_grads_show_the_latest_pass_only():
    a = Value(2.0)
    c = a * a  # interior
    out = c + c  # d out / dc = 2
    out.backward()
    out.backward()
    assert c.grad == 2.0
    assert out.grad == 1.0
    assert a.grad == 2 * (2 * 2 * 2.0)  # leaf: d out / da = 4a, accumulated twice


def test_node_used_many_times():
    a = Value(1.5)
    (a * a * a).backward()
    assert a.grad == pytest.approx(3 * 1.5**2)
    x = Value(7.0)
    (x + x).backward()
    assert x.grad == 2.0
    y = Value(0.5)
    Value.sum([y] * 1000).backward()
    assert y.grad == 1000.0


def test_backward_on_a_leaf_accumulates_one():
    a = Value(5.0)
    a.backward()
    a.backward()
    assert a.grad == 2.0


def test_builtin_sum_works_and_value_sum_is_one_node():
    vs = [Value(float(i)) for i in range(10)]
    total = sum(vs)
    assert total.data == 45.0
    fused = Value.sum(vs)
    assert fused.data == 45.0 and fused.op == "sum" and len(fused.inputs) == 10
    fused.backward()
    assert all(v.grad == 1.0 for v in vs)


def test_graph_properties_for_readers():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    c = a * b
    assert (c.op, c.inputs) == ("*", (a, b))
    assert c.inputs[0] is a and c.inputs[1] is b
    assert (a.op, a.inputs, a.is_leaf) == ("", (), True)
    assert (a**2).op == "**2"
    assert (-a).op == "neg" and (-a).inputs[0] is a
    w, x = [Value(1.0), Value(2.0)], [Value(3.0), Value(4.0)]
    bias = Value(0.5)
    d = Value.dot(w, x, bias)
    assert d.inputs == (*w, *x, bias)
    assert d.data == 1 * 3 + 2 * 4 + 0.5
    with pytest.raises(AttributeError):
        c.op = "+"


def test_a_chain_of_a_million_ops_at_the_default_recursion_limit():
    assert sys.getrecursionlimit() <= 10_000  # nobody raised it for us
    a = Value(1.0)
    y = a
    start = time.perf_counter()
    for _ in range(1_000_000):
        y = y + a
    y.backward()
    assert a.grad == 1_000_001.0
    assert y.data == 1_000_001.0
    del y  # freeing the million-deep chain must not overflow the C stack
    gc.collect()
    assert time.perf_counter() - start < 20.0  # about 2-3 s here; generous for shared machines


def test_graphs_have_no_reference_cycles():
    # Reference counting alone must free a graph: after deleting it the cyclic GC finds nothing.
    gc.collect()
    gc.disable()
    try:
        a, b = Value(0.5), Value(-1.5)
        out = a
        for _ in range(200):
            out = (out * b + a).tanh() - Value.dot([a, b], [out, out], 0.1).sigmoid()
        out.backward()
        del out
        assert gc.collect() == 0
    finally:
        gc.enable()


# -- no_grad -----------------------------------------------------------------------------------------


def test_no_grad_records_no_graph():
    a, b = Value(2.0), Value(3.0)
    with no_grad():
        c = (a * b).tanh() + Value.dot([a], [b], 1.0)
    assert c.op == "" and c.inputs == () and c.is_leaf
    assert not any(isinstance(r, Value) for r in gc.get_referents(c))  # holds nothing alive
    assert c.data == pytest.approx(math.tanh(6.0) + 7.0)
    with pytest.raises(RuntimeError, match="no_grad"):  # as a Tensor (and PyTorch) refuse it
        c.backward()
    assert (a.grad, b.grad, c.grad) == (0.0, 0.0, 0.0)
    d = a * b  # recording is back on after the block
    assert d.inputs == (a, b)


# -- random expression graphs with node reuse --------------------------------------------------------

OPS = {
    "add": lambda u, v: u + v,
    "sub": lambda u, v: u - v,
    "mul": lambda u, v: u * v,
    "div": lambda u, v: u / (v * v + 1.0),
    "tanh": lambda u, v: u.tanh(),
    "sigmoid": lambda u, v: u.sigmoid(),
    "log": lambda u, v: (u * u + 0.5).log(),
    "exp": lambda u, v: (u.tanh() * v.tanh()).exp(),
    "square": lambda u, v: u**2,
    "rpow": lambda u, v: 1.5 ** u.tanh(),
    "dot": lambda u, v: Value.dot([u, v], [v, u], u),
    "sum": lambda u, v: Value.sum([u, v, u]),
}

instructions = st.lists(
    st.tuples(st.sampled_from(sorted(OPS)), st.integers(0, 1000), st.integers(0, 1000)), min_size=1, max_size=14
)


def build_dag(program, leaves):
    """Apply each (op, i, j) to two earlier nodes (any earlier node, so nodes get reused); sum the last three."""
    nodes = list(leaves)
    for op, i, j in program:
        nodes.append(OPS[op](nodes[i % len(nodes)], nodes[j % len(nodes)]))
    return Value.sum(nodes[-3:])


@given(program=instructions, xs=st.lists(st.floats(-2.0, 2.0), min_size=3, max_size=3))
def test_random_graphs_match_finite_differences(program, xs):
    value, grads = autograd_grads(lambda vs: build_dag(program, vs), xs)
    assume(math.isfinite(value) and abs(value) < 1e6)
    numeric = finite_diff(value_fn(lambda vs: build_dag(program, vs)), xs)
    for g, n in zip(grads, numeric):
        assert math.isclose(g, n, rel_tol=1e-4, abs_tol=1e-6 * max(1.0, abs(value))), (program, xs, grads, numeric)


def test_a_tiny_divisor_gives_a_finite_gradient_not_nan():
    # 0 / 1e-320: d/db = -(a/b)/b = -0; computed as (g/b)·out it would be inf·0 = nan (PyTorch gives -0.0)
    a, b = Value(0.0), Value(1e-320)
    (a / b).backward()
    assert a.grad == math.inf and b.grad == 0.0
