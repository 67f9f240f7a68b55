"""The executable spec of autograd.Tensor.

Every op's gradient is checked against central finite differences in float64, over shapes (and
broadcasting shape pairs) drawn by hypothesis. Other expected numbers are derived by hand in comments.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pytest
from conftest import torch_or_skip
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from autograd import Tensor, no_grad, unbroadcast

# -- a finite-difference oracle, independent of the engine ----------------------------------------------

EPS = 1e-6


def numeric_grads(fn, arrays, weight):
    """d/dx of L = Σ weight ⊙ fn(x...) for each input, by central differences (f(x+ε) - f(x-ε)) / 2ε.

    fn runs on constant Tensors under no_grad; only its forward values are used.
    """
    def loss(xs):
        with no_grad():
            return float(np.sum(fn(*[Tensor(x) for x in xs]).data * weight))

    grads = []
    for i, a in enumerate(arrays):
        g = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            xs = [x.copy() for x in arrays]
            xs[i][idx] = a[idx] + EPS
            up = loss(xs)
            xs[i][idx] = a[idx] - EPS
            down = loss(xs)
            g[idx] = (up - down) / (2 * EPS)
        grads.append(g)
    return grads


def check_grads(fn, *arrays, atol=1e-6, rtol=1e-5, seed=0):
    """Run fn on float64 leaves, backpropagate a random upstream gradient, compare with differences."""
    arrays = [np.asarray(a, dtype=np.float64) for a in arrays]
    leaves = [Tensor(a.copy(), requires_grad=True) for a in arrays]
    out = fn(*leaves)
    weight = np.random.default_rng(seed).standard_normal(out.shape)
    out.backward(weight)
    expected = numeric_grads(fn, arrays, weight)
    for i, (leaf, want) in enumerate(zip(leaves, expected)):
        assert leaf.grad is not None, f"input {i} got no gradient"
        assert leaf.grad.shape == leaf.shape, f"input {i}: grad shape {leaf.grad.shape} != {leaf.shape}"
        np.testing.assert_allclose(leaf.grad, want, atol=atol, rtol=rtol, err_msg=f"input {i}")


def floats(lo=-2.0, hi=2.0):
    return st.floats(lo, hi, allow_nan=False, allow_infinity=False)


def away_from_zero(lo=0.2, hi=2.0):
    """Values with |x| in [lo, hi]: keeps kinks (relu, abs) and poles (1/x) out of the ε-window."""
    return st.one_of(floats(lo, hi), floats(-hi, -lo))


def pair(elements_a, elements_b, **shape_kw):
    """Two float64 arrays of mutually broadcastable shapes, e.g. (3, 1) & (4,), () & (2, 3)."""
    shapes = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=3, **shape_kw)
    return shapes.flatmap(
        lambda s: st.tuples(
            hnp.arrays(np.float64, s.input_shapes[0], elements=elements_a),
            hnp.arrays(np.float64, s.input_shapes[1], elements=elements_b),
        )
    )


def array(elements=None, min_dims=0, max_dims=3):
    shape = hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=1, max_side=3)
    return hnp.arrays(np.float64, shape, elements=elements if elements is not None else floats())


def distinct_array(min_dims=1):
    """Arrays whose entries differ by at least 0.2 (no ties: max is differentiable there)."""
    shape = hnp.array_shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=3)
    return st.tuples(shape, st.integers(0, 2**32 - 1)).map(
        lambda s: np.random.default_rng(s[1]).permutation(math.prod(s[0])).reshape(s[0]) * 0.3 - 1.0
    )


def axes_for(ndim):
    """None, an int (possibly negative), or a tuple of distinct axes."""
    if ndim == 0:
        return st.none()
    return st.one_of(st.none(), st.integers(-ndim, ndim - 1), hnp.valid_tuple_axes(ndim, min_size=1))


FEW = settings(max_examples=25)

# -- binary ops, broadcast -------------------------------------------------------------------------------

BINARY = {
    "add": (lambda a, b: a + b, floats(), floats()),
    "sub": (lambda a, b: a - b, floats(), floats()),
    "mul": (lambda a, b: a * b, floats(), floats()),
    "div": (lambda a, b: a / b, floats(), away_from_zero(0.5)),
    "pow": (lambda a, b: a**b, floats(0.3, 2.0), floats()),
}


@pytest.mark.parametrize("name", list(BINARY))
@FEW
@given(data=st.data())
def test_binary_op_gradients_match_finite_differences_under_broadcasting(name, data):
    fn, ea, eb = BINARY[name]
    a, b = data.draw(pair(ea, eb))
    check_grads(fn, a, b)


@pytest.mark.parametrize(
    "fn, domain",
    [
        (lambda x: 2.0 + x, floats()),
        (lambda x: 2.0 - x, floats()),
        (lambda x: 3.0 * x, floats()),
        (lambda x: 3.0 / x, away_from_zero(0.5)),
        (lambda x: 2.0**x, floats()),
        (lambda x: x**3, floats()),
        (lambda x: x**2, floats()),
        (lambda x: x**-1.5, floats(0.3, 2.0)),
        (lambda x: x**0.5, floats(0.3, 2.0)),
        (lambda x: np.full((3, 1, 1), 0.5) - x, floats()),  # ndarray on the left defers to Tensor
    ],
    ids=["radd", "rsub", "rmul", "rtruediv", "rpow", "pow3", "pow2", "pow-1.5", "pow0.5", "ndarray-rsub"],
)
@settings(max_examples=10)
@given(data=st.data())
def test_scalar_and_reflected_operand_gradients(fn, domain, data):
    check_grads(fn, data.draw(array(domain)))


@pytest.mark.parametrize("name", ["add", "mul", "div"])
def test_same_tensor_on_both_sides(name):
    fn = BINARY[name][0]
    check_grads(lambda x: fn(x, x), np.array([[0.7, -1.3], [1.1, 2.0]]))


# -- unary ops -------------------------------------------------------------------------------------------

UNARY = {
    "neg": (lambda x: -x, floats()),
    "exp": (lambda x: x.exp(), floats()),
    "log": (lambda x: x.log(), floats(0.2, 3.0)),
    "tanh": (lambda x: x.tanh(), floats()),
    "relu": (lambda x: x.relu(), away_from_zero(0.01)),
    "sigmoid": (lambda x: x.sigmoid(), floats(-6, 6)),
    "abs": (lambda x: x.abs(), away_from_zero(0.01)),
    "sqrt": (lambda x: x.sqrt(), floats(0.2, 3.0)),
    "clip": (lambda x: x.clip(-0.5, 1.0), st.one_of(floats(-2, -0.6), floats(-0.4, 0.9), floats(1.1, 2))),
}


@pytest.mark.parametrize("name", list(UNARY))
@FEW
@given(data=st.data())
def test_unary_op_gradients_match_finite_differences(name, data):
    fn, domain = UNARY[name]
    check_grads(fn, data.draw(array(domain)))


def test_relu_and_abs_have_zero_derivative_at_zero():
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    x.relu().sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0, 1.0])
    y = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    y.abs().sum().backward()
    np.testing.assert_array_equal(y.grad, [-1.0, 0.0, 1.0])


def test_clip_passes_gradient_inside_the_closed_interval_only():
    x = Tensor(np.array([-2.0, -1.0, 0.0, 1.0, 3.0]), requires_grad=True)
    out = x.clip(min=-1.0, max=1.0)
    np.testing.assert_array_equal(out.data, [-1.0, -1.0, 0.0, 1.0, 1.0])
    out.sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 1.0, 1.0, 1.0, 0.0])  # bounds included, as in PyTorch
    with pytest.raises(ValueError, match="min and max"):
        x.clip()


def test_tanh_derivative_is_one_minus_t_squared():
    x = Tensor(np.array([0.0, 0.5, -2.0]), requires_grad=True)
    x.tanh().sum().backward()
    np.testing.assert_allclose(x.grad, 1 - np.tanh([0.0, 0.5, -2.0]) ** 2, rtol=1e-12)


@pytest.mark.filterwarnings("error")
def test_sigmoid_is_stable_and_accurate_for_large_inputs():
    x = Tensor(np.array([-1000.0, -100.0, 0.0, 100.0, 1000.0]), requires_grad=True)
    s = x.sigmoid()
    # σ(-100) = e^-100 / (1 + e^-100): tiny but representable; the naive 1/(1+e^100) route also works,
    # but 1 - σ(100) would round to 0, so check relative precision there.
    want = [0.0, math.exp(-100) / (1 + math.exp(-100)), 0.5, 1.0, 1.0]
    np.testing.assert_allclose(s.data, want, rtol=1e-12, atol=0)
    s.sum().backward()
    assert np.all(np.isfinite(x.grad))
    np.testing.assert_allclose(x.grad[2], 0.25)  # σ'(0) = σ(0)(1 - σ(0)) = 1/4


def test_log_of_non_positive_follows_numpy():
    with np.errstate(divide="ignore", invalid="ignore"):
        out = Tensor(np.array([0.0, -1.0, 1.0])).log().data
    assert out[0] == -np.inf and np.isnan(out[1]) and out[2] == 0.0


# -- powers at their edges ---------------------------------------------------------------------------------


@pytest.mark.filterwarnings("error")
def test_pow_edges_give_pytorch_gradients_without_warnings():
    # x**0 = 1 everywhere, so its derivative is 0 even at x = 0 (not 0 * 0**-1 = nan).
    x = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    (x**0).sum().backward()
    np.testing.assert_array_equal(x.grad, [0.0, 0.0])
    # d/db a**b = a**b ln a; at a = 0 with b > 0 the limit is 0.
    a = Tensor(np.array([0.0, 2.0]), requires_grad=True)
    b = Tensor(np.array([2.0, 3.0]), requires_grad=True)
    (a**b).sum().backward()
    np.testing.assert_allclose(b.grad, [0.0, 8.0 * math.log(2.0)])
    np.testing.assert_allclose(a.grad, [0.0, 3.0 * 4.0])  # b a**(b-1)


def test_number_to_the_tensor_power():
    # d/dx 2**x = 2**x ln 2
    x = Tensor(np.array([0.0, 1.0, 3.0]), requires_grad=True)
    y = 2.0**x
    np.testing.assert_allclose(y.data, [1.0, 2.0, 8.0])
    y.sum().backward()
    np.testing.assert_allclose(x.grad, np.array([1.0, 2.0, 8.0]) * math.log(2.0))


# -- reductions --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
@FEW
@given(data=st.data())
def test_reduction_gradients_match_finite_differences(name, data):
    x = data.draw(distinct_array(min_dims=0) if name in ("amax", "amin") else array())
    axis = data.draw(axes_for(x.ndim))
    keepdims = data.draw(st.booleans())
    check_grads(lambda t: getattr(t, name)(axis=axis, keepdims=keepdims), x)


@FEW
@given(data=st.data())
def test_reductions_match_numpy_values_and_shapes(data):
    x = data.draw(array())
    axis = data.draw(axes_for(x.ndim))
    keepdims = data.draw(st.booleans())
    for name in ("sum", "mean", "amax", "amin"):
        out = getattr(Tensor(x), name)(axis=axis, keepdims=keepdims)
        want = getattr(np, name)(x, axis=axis, keepdims=keepdims)
        assert isinstance(out.data, np.ndarray)
        assert out.shape == np.shape(want)
        np.testing.assert_allclose(out.data, want, rtol=1e-12)


def test_max_splits_the_gradient_evenly_among_ties():
    x = Tensor(np.array([[1.0, 3.0, 3.0, 2.0], [5.0, 5.0, 5.0, 5.0]]), requires_grad=True)
    x.amax(axis=1).backward(np.array([1.0, 2.0]))  # amax: x.max(dim) gives (values, indices) now
    np.testing.assert_allclose(x.grad, [[0.0, 0.5, 0.5, 0.0], [0.5, 0.5, 0.5, 0.5]])
    y = Tensor(np.array([4.0, 1.0, 4.0]), requires_grad=True)
    y.max().backward()
    np.testing.assert_allclose(y.grad, [0.5, 0.0, 0.5])


# -- shape ops and indexing --------------------------------------------------------------------------------


@FEW
@given(data=st.data())
def test_reshape_and_transpose_gradients(data):
    x = data.draw(array(min_dims=1))
    perm = data.draw(st.permutations(range(x.ndim)))
    check_grads(lambda t: t.permute(*perm) * np.arange(x.size).reshape([x.shape[p] for p in perm]), x)
    check_grads(lambda t: t.reshape(-1) * np.arange(x.size), x)
    check_grads(lambda t: t.T.reshape((x.size, 1)), x)


def test_permute_and_T_follow_numpy_transpose():
    # Was test_transpose_and_T_follow_numpy: NumPy's transpose(*axes) meaning is now permute's.
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.T.shape == (4, 3, 2)
    assert x.permute(1, 0, 2).shape == (3, 2, 4)
    assert x.permute((2, 0, 1)).shape == (4, 2, 3)
    np.testing.assert_array_equal(x.permute(2, 0, 1).data, np.transpose(x.data, (2, 0, 1)))
    with pytest.raises(ValueError, match=r"\(2, 3, 4\)"):
        x.permute(0, 1)


def test_reshape_error_names_both_shapes():
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        Tensor(np.ones((2, 3))).reshape(4)


@pytest.mark.parametrize(
    "index",
    [
        1,
        -1,
        slice(None, None, 2),
        (slice(None), 0),
        (Ellipsis, None, slice(1, 3)),
        np.array([0, 0, 2, 0]),  # repeats accumulate
        (np.array([0, 1, 1]), np.array([2, 2, 2])),
        (slice(None), [3, 1, 3]),
        np.array([True, False, True]),
    ],
    ids=["int", "neg-int", "step-slice", "slice-int", "ellipsis-newaxis", "int-array", "pairs", "list", "bool"],
)
def test_indexing_gradients(index):
    x = np.arange(12.0).reshape(3, 4) / 7 - 0.5
    check_grads(lambda t: t[index], x)


def test_repeated_integer_indices_accumulate():
    x = Tensor(np.array([10.0, 20.0, 30.0]), requires_grad=True)
    y = x[np.array([0, 0, 2, 0])]
    np.testing.assert_array_equal(y.data, [10.0, 10.0, 30.0, 10.0])
    y.backward(np.array([1.0, 2.0, 3.0, 4.0]))
    # element 0 was picked three times: 1 + 2 + 4; element 2 once: 3; element 1 never.
    np.testing.assert_array_equal(x.grad, [7.0, 0.0, 3.0])


def test_rows_picked_by_label_as_in_cross_entropy():
    logits = Tensor(np.zeros((3, 4)), requires_grad=True)
    labels = Tensor(np.array([2, 0, 2]))  # an integer Tensor works as an index too
    logits[np.arange(3), labels].sum().backward()
    want = np.zeros((3, 4))
    want[[0, 1, 2], [2, 0, 2]] = 1.0
    np.testing.assert_array_equal(logits.grad, want)


# -- softmax family ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@FEW
@given(data=st.data())
def test_softmax_gradients_match_finite_differences(name, data):
    x = data.draw(array(min_dims=1))
    axis = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check_grads(lambda t: getattr(t, name)(axis=axis), x)


@pytest.mark.filterwarnings("error")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_softmax_and_log_softmax_are_stable_at_1000(dtype):
    x = Tensor(np.array([[1000.0, 999.0, -1000.0], [-1000.0, -1000.0, -999.0]], dtype=dtype), requires_grad=True)
    # By hand, shifting each row by its max: row 0 → [0, -1, -2000], row 1 → [-1, -1, 0].
    z0 = 1 + math.exp(-1)  # Σ e^shifted for row 0 (e^-2000 is 0)
    z1 = 1 + 2 * math.exp(-1)
    want_log = np.array([[-math.log(z0), -1 - math.log(z0), -2000 - math.log(z0)],
                         [-1 - math.log(z1), -1 - math.log(z1), -math.log(z1)]])
    p = x.softmax(axis=-1)
    lp = x.log_softmax(axis=-1)
    assert p.dtype == dtype and lp.dtype == dtype
    assert np.all(np.isfinite(p.data)) and np.all(np.isfinite(lp.data))
    np.testing.assert_allclose(p.data.sum(axis=-1), 1.0, rtol=1e-6)
    np.testing.assert_allclose(lp.data, want_log, rtol=1e-6)
    np.testing.assert_allclose(p.data, np.exp(want_log), rtol=1e-6, atol=1e-30)
    (p[:, 0].sum() + lp[:, 1].sum()).backward()
    assert np.all(np.isfinite(x.grad))


# -- matmul ------------------------------------------------------------------------------------------------


@settings(max_examples=40)
@given(
    shapes=hnp.mutually_broadcastable_shapes(signature="(m?,n),(n,p?)->(m?,p?)", max_dims=2, max_side=3),
    seed=st.integers(0, 2**32 - 1),
)
def test_matmul_gradients_for_1d_2d_and_batched_operands(shapes, seed):
    rng = np.random.default_rng(seed)
    a, b = (rng.standard_normal(s) for s in shapes.input_shapes)
    np.testing.assert_allclose((Tensor(a) @ Tensor(b)).data, np.matmul(a, b), rtol=1e-12)
    check_grads(lambda x, y: x @ y, a, b)


@pytest.mark.parametrize(
    "sa, sb",
    [((3,), (3,)), ((3,), (3, 2)), ((2, 3), (3,)), ((4, 1, 2, 3), (5, 3, 2)), ((2, 3), (5, 3, 4))],
)
def test_matmul_fixed_cases(sa, sb):
    rng = np.random.default_rng(1)
    check_grads(lambda x, y: x @ y, rng.standard_normal(sa), rng.standard_normal(sb))


def test_reflected_matmul_with_an_array_on_the_left():
    w = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    x = np.array([[1.0, -1.0]])
    out = x @ w
    assert isinstance(out, Tensor)
    np.testing.assert_array_equal(out.data, [[-2.0, -2.0]])
    out.sum().backward()
    np.testing.assert_array_equal(w.grad, [[1.0, 1.0], [-1.0, -1.0]])  # xᵀ · ones(1, 2)


# -- shape errors name both shapes ---------------------------------------------------------------------------


@pytest.mark.parametrize("op", [lambda a, b: a + b, lambda a, b: a - b, lambda a, b: a * b,
                                lambda a, b: a / b, lambda a, b: a**b])
def test_broadcast_errors_name_both_shapes(op):
    with pytest.raises(ValueError, match=r"\(2, 3\).*\(4,\)"):
        op(Tensor(np.ones((2, 3))), Tensor(np.ones(4)))


@pytest.mark.parametrize(
    "sa, sb", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3, 4), (5, 4, 2)), ((), (3,))]
)
def test_matmul_errors_name_both_shapes(sa, sb):
    with pytest.raises(ValueError, match=f"{re.escape(str(sa))}.*{re.escape(str(sb))}"):
        Tensor(np.ones(sa)) @ Tensor(np.ones(sb))


# -- dtypes --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "fn",
    [lambda x: x * 2.0, lambda x: 2.0 - x, lambda x: x**2, lambda x: x / 3, lambda x: 2.0**x,
     lambda x: x + 1, lambda x: 1.5 / x, lambda x: x**0.5, lambda x: x * np.float64(2.0),
     lambda x: x ** np.float64(2.0), lambda x: x.sum(), lambda x: x.mean(axis=0), lambda x: x.max(),
     lambda x: x.sigmoid(), lambda x: x.softmax(), lambda x: x.log_softmax(), lambda x: x.exp().log(),
     lambda x: x.tanh(), lambda x: x.relu(), lambda x: x @ x.T, lambda x: x[[0, 0]], lambda x: x.abs().sqrt(),
     lambda x: x.clip(0.2, 0.8)],
)
def test_float32_stays_float32_end_to_end(fn):
    x = Tensor(np.array([[0.5, 1.5], [2.0, 0.25]], dtype=np.float32), requires_grad=True)
    y = fn(x)
    assert y.dtype == np.float32
    y.backward(np.ones(y.shape, dtype=np.float32))
    assert x.grad.dtype == np.float32


def test_python_numbers_and_lists_become_float32_and_arrays_keep_their_dtype():
    assert Tensor(1.5).dtype == np.float32
    assert Tensor([[1.0, 2.0]]).dtype == np.float32
    assert Tensor(np.ones(2)).dtype == np.float64
    with pytest.raises(ValueError, match="int64"):
        Tensor(np.arange(3), requires_grad=True)


# -- grad mode -----------------------------------------------------------------------------------------------


def test_no_grad_results_are_constants_without_parents():
    x = Tensor(np.ones((2, 2)), requires_grad=True)
    with no_grad():
        ys = [x + 1, x * x, x @ x, x.exp(), x.sum(), x[0], x.softmax(), -x]
    for y in ys:
        assert not y.requires_grad
        assert y.inputs == () and y.is_leaf
    with pytest.raises(RuntimeError, match="does not require grad"):
        ys[4].backward()
    assert (x * 2).requires_grad  # recording is back on after the block


def test_ops_on_constants_record_nothing():
    y = Tensor(np.ones(3)) * 2.0
    assert not y.requires_grad and y.inputs == ()


# -- backward semantics --------------------------------------------------------------------------------------


def test_leaf_gradients_accumulate_across_backward_calls():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    y = (x * x).sum()  # dy/dx = 2x
    y.backward()
    np.testing.assert_array_equal(x.grad, [2.0, 4.0])
    y.backward()  # the graph is kept; the second call adds
    np.testing.assert_array_equal(x.grad, [4.0, 8.0])


def test_backward_of_a_non_scalar_needs_a_gradient():
    x = Tensor(np.ones(3), requires_grad=True)
    with pytest.raises(RuntimeError, match=r"one-element.*\(3,\)"):
        (x * 2).backward()


def test_backward_gradient_must_match_the_output_shape():
    x = Tensor(np.ones((2, 3)), requires_grad=True)
    with pytest.raises(ValueError, match=r"\(3,\).*\(2, 3\)"):
        (x * 2).backward(np.ones(3))


def test_a_node_used_many_times_sums_its_gradients():
    x = Tensor(np.array([0.5, -2.0]), requires_grad=True)
    h = x * x  # used three times below
    y = (h * x + h + h.exp()).sum()
    y.backward()
    # y = x³ + x² + e^(x²): dy/dx = 3x² + 2x + 2x e^(x²)
    xv = np.array([0.5, -2.0])
    np.testing.assert_allclose(x.grad, 3 * xv**2 + 2 * xv + 2 * xv * np.exp(xv**2), rtol=1e-12)


def test_a_very_deep_graph_needs_no_recursion():
    x = Tensor(np.array(1.0), requires_grad=True)
    y = x
    for _ in range(20_000):
        y = y * 1.0 + 0.0
    y.backward()
    assert x.grad == 1.0


def test_leaf_gradients_are_writable_and_not_shared():
    a = Tensor(np.ones(3), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True)
    (a + b).backward(np.array([1.0, 2.0, 3.0]))
    a.grad += 1  # an optimizer may do this in place
    np.testing.assert_array_equal(b.grad, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(a.grad, [2.0, 3.0, 4.0])

    c = Tensor(np.ones((2, 3)), requires_grad=True)
    d = Tensor(np.ones((2, 3)), requires_grad=True)
    (c.sum() + d.sum() + c.reshape(6).sum()).backward()  # broadcast views and reshapes of one array
    for leaf in (c, d):
        assert leaf.grad.flags.writeable and leaf.grad.base is None
    c.grad *= 10
    np.testing.assert_array_equal(d.grad, np.ones((2, 3)))
    np.testing.assert_array_equal(c.grad, np.full((2, 3), 20.0))


def test_backward_grad_argument_is_copied():
    x = Tensor(np.ones(2), requires_grad=True)
    seed = np.array([1.0, 2.0])
    (x + 0.0).backward(seed)
    x.grad[0] = 99.0
    np.testing.assert_array_equal(seed, [1.0, 2.0])


def test_backward_closures_never_capture_their_output():
    # A closure holding its own output would make a reference cycle, freed only by the cyclic GC.
    x = Tensor(np.array([[0.5, 1.5], [2.0, 0.25]]), requires_grad=True)
    w = Tensor(np.ones(2), requires_grad=True)
    outs = [x + w, x - w, x * w, x / w, x**w, x**2, 2.0**x, x @ w, -x, x.exp(), x.log(), x.tanh(), x.relu(),
            x.sigmoid(), x.abs(), x.sqrt(), x.clip(0, 1), x.sum(0), x.mean(), x.max(1).values, x.max(), x.amin(0),
            x.reshape(4), x.T, x.transpose(0, 1), x.flatten(), x.unsqueeze(0), x.squeeze(), x.to(np.float32),
            x[0], x[[0, 0]], x.softmax(), x.log_softmax()]
    for out in outs:
        cells = out._backward.__closure__ or ()
        assert not any(c.cell_contents is out for c in cells), out.op


def test_detach_numpy_item():
    x = Tensor(np.array([[3.0]]), requires_grad=True)
    d = x.detach()
    assert not d.requires_grad and d.data is x.data
    assert x.numpy() is x.data
    assert x.item() == 3.0 and isinstance(x.item(), float)
    with pytest.raises(ValueError, match=r"\(2,\)"):
        Tensor(np.ones(2)).item()


def test_comparisons_return_bool_tensors_without_grad_and_tensors_hash_by_identity():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True)
    np.testing.assert_array_equal(x > 1.5, [False, True, True])
    np.testing.assert_array_equal(x <= Tensor(np.array([1.0, 1.0, 4.0])), [True, False, True])
    lt = x < 2
    assert isinstance(lt, Tensor) and lt.dtype == np.bool_ and not lt.requires_grad
    y = Tensor(np.array([1.0, 2.0, 3.0]))
    assert len({x, y}) == 2 and {x: 1, y: 2}[y] == 2  # identity, as in PyTorch
    eq = x == y
    assert isinstance(eq, Tensor) and eq.data.tolist() == [True, True, True] and not (x != y).any()
    assert (x == None) is False  # noqa: E711 - anything that is not numbers compares by identity


def test_factories():
    z = Tensor.zeros(2, 3)
    assert z.shape == (2, 3) and z.dtype == np.float32 and not z.data.any()
    o = Tensor.ones((4,), requires_grad=True)
    assert o.requires_grad and o.data.sum() == 4
    r1 = Tensor.randn(3, 2, rng=np.random.default_rng(0))
    r2 = Tensor.randn(3, 2, rng=np.random.default_rng(0))
    assert r1.dtype == np.float32 and np.array_equal(r1.data, r2.data)


def test_unbroadcast_sums_prepended_and_stretched_axes():
    g = np.ones((2, 3, 4))
    np.testing.assert_array_equal(unbroadcast(g, (3, 1)), np.full((3, 1), 8.0))  # 2 copies × 4 copies
    np.testing.assert_array_equal(unbroadcast(g, ()), np.array(24.0))
    np.testing.assert_array_equal(unbroadcast(g, (1, 3, 4)), np.full((1, 3, 4), 2.0))
    assert unbroadcast(g, (2, 3, 4)) is g


# -- against PyTorch, when it is installed -------------------------------------------------------------------


def test_composite_expression_matches_torch():
    torch = torch_or_skip()
    rng = np.random.default_rng(7)
    xs = rng.standard_normal((4, 5))
    ws = rng.standard_normal((5, 3))
    bs = rng.standard_normal(3)
    labels = np.array([0, 2, 1, 2])

    def expression(x, w, b, lib_labels, rows):
        h = (x @ w + b).tanh() * 2.0 - (x[:, :3] / (1.0 + x[:, 1:4] ** 2)).sigmoid()
        z = h.relu() + h.abs().sqrt() * 0.5 + 2.0 ** (-h)
        lp = z.log_softmax(-1)
        picked = lp[rows, lib_labels]
        return -picked.mean() + z.softmax(-1).max() * 0.1 + h.exp().sum() / 100

    ours = [Tensor(a.copy(), requires_grad=True) for a in (xs, ws, bs)]
    loss = expression(*ours, labels, np.arange(4))
    loss.backward()

    theirs = [torch.tensor(a, requires_grad=True) for a in (xs, ws, bs)]
    tloss = expression(*theirs, torch.tensor(labels), torch.arange(4))
    tloss.backward()

    np.testing.assert_allclose(loss.item(), tloss.item(), rtol=1e-12)
    for mine, ref in zip(ours, theirs):
        np.testing.assert_allclose(mine.grad, ref.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_warnings_are_not_raised_in_backward_for_valid_inputs():
    x = Tensor(np.array([[0.5, 1.5], [2.0, 0.25]]), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = (x.log() + x.sqrt() + x**x + x.sigmoid() + x.softmax() + x.log_softmax() + x / x).sum()
        y.backward()


# -- PyTorch's names and rules, with hand-written expectations (tests/test_torch_api.py checks them against
#    PyTorch itself when it is installed) -------------------------------------------------------------------


def test_transpose_swaps_two_dims_as_in_pytorch():
    m = Tensor(np.arange(6.0).reshape(2, 3))
    np.testing.assert_array_equal(m.transpose(0, 1).data, [[0.0, 3.0], [1.0, 4.0], [2.0, 5.0]])
    np.testing.assert_array_equal(m.transpose(-1, 0).data, m.data.T)
    np.testing.assert_array_equal(m.t().data, m.data.T)
    x = Tensor(np.arange(24.0).reshape(2, 3, 4))
    assert x.transpose(0, 2).shape == (4, 3, 2) and x.transpose(1, 2).shape == (2, 4, 3)
    assert x.transpose(1, 1).shape == (2, 3, 4)
    np.testing.assert_array_equal(x.transpose(0, 2).data, np.swapaxes(x.data, 0, 2))


@FEW
@given(data=st.data())
def test_transpose_flatten_squeeze_unsqueeze_gradients(data):
    x = data.draw(array(min_dims=1))
    d0, d1 = data.draw(st.integers(-x.ndim, x.ndim - 1)), data.draw(st.integers(-x.ndim, x.ndim - 1))
    check_grads(lambda t: t.transpose(d0, d1), x)
    start, new = data.draw(st.integers(0, x.ndim - 1)), data.draw(st.integers(-x.ndim - 1, x.ndim))
    check_grads(lambda t: t.flatten(start) * np.arange(x.size).reshape(t.flatten(start).shape), x)
    check_grads(lambda t: t.unsqueeze(new).squeeze(), x)


def test_transpose_with_other_than_two_dims_points_to_permute():
    x = Tensor(np.ones((2, 3, 4)))
    with pytest.raises(TypeError, match=r"permute\(2, 0, 1\)"):
        x.transpose(2, 0, 1)
    with pytest.raises(TypeError, match="swaps two dims"):
        x.transpose()
    with pytest.raises(ValueError, match="<= 2 dims"):
        x.t()


def test_flatten_unsqueeze_squeeze_shapes():
    x = Tensor(np.ones((2, 3, 4, 5)))
    assert x.flatten().shape == (120,)
    assert x.flatten(1).shape == (2, 60)  # a CNN's (N, C, H, W) -> (N, C·H·W)
    assert x.flatten(1, 2).shape == (2, 12, 5) and x.flatten(-2).shape == (2, 3, 20)
    assert x.flatten(2, 2).shape == (2, 3, 4, 5)
    assert Tensor(7.0).flatten().shape == (1,)
    with pytest.raises(ValueError, match="start_dim 2 comes after end_dim 1"):
        x.flatten(2, 1)
    assert x.unsqueeze(0).shape == (1, 2, 3, 4, 5) and x.unsqueeze(-1).shape == (2, 3, 4, 5, 1)
    assert x.unsqueeze(4).shape == (2, 3, 4, 5, 1) and x.unsqueeze(-5).shape == (1, 2, 3, 4, 5)
    assert Tensor(7.0).unsqueeze(0).shape == (1,)
    y = Tensor(np.ones((1, 3, 1)))
    assert y.squeeze().shape == (3,)
    assert y.squeeze(0).shape == (3, 1) and y.squeeze(-1).shape == (1, 3)
    assert y.squeeze(1).shape == (1, 3, 1)  # not of size 1: left alone, as in PyTorch
    assert y.squeeze((0, 2)).shape == (3,)
    assert Tensor(7.0).squeeze(0).shape == ()


@pytest.mark.parametrize(
    "call, low, high, got",
    [
        (lambda x: x.sum(2), -2, 1, 2),
        (lambda x: x.mean(dim=-3), -2, 1, -3),
        (lambda x: x.amax((0, 5)), -2, 1, 5),
        (lambda x: x.max(2), -2, 1, 2),
        (lambda x: x.softmax(2), -2, 1, 2),
        (lambda x: x.transpose(0, 2), -2, 1, 2),
        (lambda x: x.permute(0, 2), -2, 1, 2),
        (lambda x: x.flatten(0, 2), -2, 1, 2),
        (lambda x: x.unsqueeze(3), -3, 2, 3),
        (lambda x: x.squeeze(-3), -2, 1, -3),
    ],
)
def test_out_of_range_dims_raise_index_error_like_pytorch(call, low, high, got):
    x = Tensor(np.ones((2, 3)))
    want = re.escape(f"dimension out of range (expected to be in range of [{low}, {high}], but got {got})")
    with pytest.raises(IndexError, match=want):
        call(x)


def test_reductions_take_dim_keepdim_positionally_and_axis_keepdims_as_aliases():
    x = Tensor(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]))
    np.testing.assert_array_equal(x.sum(0).data, [5.0, 7.0, 9.0])
    np.testing.assert_array_equal(x.sum(dim=1, keepdim=True).data, [[6.0], [15.0]])
    np.testing.assert_array_equal(x.sum(1, True).data, [[6.0], [15.0]])
    np.testing.assert_array_equal(x.sum(axis=1, keepdims=True).data, [[6.0], [15.0]])
    np.testing.assert_array_equal(x.mean(-1).data, [2.0, 5.0])
    np.testing.assert_array_equal(x.mean((0, 1), keepdim=True).data, [[3.5]])
    assert x.sum(dim=()).item() == 21.0  # an empty dim list reduces every dim, as in PyTorch
    np.testing.assert_array_equal(x.amax(0).data, [4.0, 5.0, 6.0])
    np.testing.assert_array_equal(x.amin(1, keepdim=True).data, [[1.0], [4.0]])
    with pytest.raises(TypeError, match="both dim=0 and axis=1"):
        x.sum(0, axis=1)
    with pytest.raises(ValueError, match="more than once"):
        x.sum((0, -2))


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin", "softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, -1])
def test_dim_zero_or_minus_one_on_a_0d_tensor_is_allowed(name, dim):
    x = Tensor(np.array(2.5), requires_grad=True)
    out = getattr(x, name)(dim)
    assert out.shape == ()
    assert out.item() == {"softmax": 1.0, "log_softmax": 0.0}.get(name, 2.5)
    out.backward()
    assert x.grad == (0.0 if "softmax" in name else 1.0)  # softmax of one element is constant
    assert getattr(x, name)(dim, keepdim=True).shape == () if name not in ("softmax", "log_softmax") else True
    with pytest.raises(IndexError, match=r"\[-1, 0\], but got 1"):
        getattr(x, name)(1)


def test_max_and_min_along_a_dim_give_values_and_indices_with_the_gradient_at_the_index():
    x = Tensor(np.array([[1.0, 3.0, 3.0], [7.0, 2.0, 7.0]]), requires_grad=True)
    values, indices = x.max(1)
    np.testing.assert_array_equal(values.data, [3.0, 7.0])
    np.testing.assert_array_equal(indices.data, [1, 0])  # the first maximum, as PyTorch
    assert indices.dtype == np.int64 and not indices.requires_grad
    values.backward(np.array([1.0, 2.0]))
    np.testing.assert_array_equal(x.grad, [[0.0, 1.0, 0.0], [2.0, 0.0, 0.0]])  # ties: all to the index
    low = x.min(dim=0, keepdim=True)
    np.testing.assert_array_equal(low.values.data, [[1.0, 2.0, 3.0]])
    np.testing.assert_array_equal(low.indices.data, [[0, 1, 0]])
    assert x.max().item() == 7.0 and x.min().item() == 1.0  # no dim: one Tensor
    with pytest.raises(TypeError, match="amax"):
        x.max((0, 1))
    assert x.argmax().item() == 3 and x.argmin().item() == 0  # into the flattened tensor
    np.testing.assert_array_equal(x.argmax(1).data, [1, 0])
    np.testing.assert_array_equal(x.argmin(0, keepdim=True).data, [[0, 1, 0]])


def test_mean_of_an_integer_tensor_says_to_convert():
    with pytest.raises(TypeError, match=r"int64.*x\.float\(\)\.mean\(\)"):
        Tensor([1, 2]).mean()
    assert Tensor([1, 2]).float().mean().item() == 1.5


def test_method_forms_are_the_operators():
    a = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    b = Tensor(np.array([[0.5, -1.0], [2.0, 0.25]]))
    for got, want in [(a.add(b), a.data + b.data), (a.add(b, alpha=2), a.data + 2 * b.data),
                      (a.sub(b), a.data - b.data), (a.sub(2.0, alpha=3), a.data - 6.0),
                      (a.mul(b), a.data * b.data), (a.div(b), a.data / b.data), (a.pow(2), a.data**2),
                      (a.pow(b), a.data**b.data), (a.matmul(b), a.data @ b.data), (a.neg(), -a.data),
                      (a.subtract(b), a.data - b.data), (a.multiply(3), a.data * 3), (a.divide(b), a.data / b.data),
                      (a.true_divide(2), a.data / 2), (a.negative(), -a.data), (a.exp(), np.exp(a.data)),
                      (a.log(), np.log(a.data)), (a.sqrt(), np.sqrt(a.data)), (a.abs(), a.data)]:
        np.testing.assert_allclose(got.data, want, rtol=1e-12)
        assert got.requires_grad
    assert a.add(b).op == "+" and a.sub(b).op == "-" and a.div(b).op == "/" and a.matmul(b).op == "@"


# The promotion table, derived by hand from PyTorch's rules (categories bool < integer < float; dimensioned
# tensors outrank 0-d tensors, which outrank Python numbers; a lower-ranked operand decides only when its
# category is higher; a Python float's dtype is the default float32, a Python int's int64).
PROMOTION = [
    ("int64 [2]", lambda: Tensor([1, 2]), 0.5, np.float32),
    ("int64 0-d", lambda: Tensor(3), 0.5, np.float32),  # the Tensor(3) + 0.5
    ("float32 [2]", lambda: Tensor([1.0, 2.0]), 0.5, np.float32),
    ("float32 [2] with a NumPy float64", lambda: Tensor([1.0, 2.0]), np.float64(0.5), np.float32),
    ("float64 [2]", lambda: Tensor(np.ones(2)), 2, np.float64),
    ("int32 [2] with int", lambda: Tensor(np.ones(2, np.int32)), 7, np.int32),
    ("bool [2] with int", lambda: Tensor([True, False]), 2, np.int64),
    ("bool [2] with bool", lambda: Tensor([True, False]), True, np.bool_),
    ("bool [2] with float", lambda: Tensor([True, False]), 2.0, np.float32),
    ("float32 [2] with float64 [2]", lambda: Tensor([1.0, 2.0]), Tensor(np.ones(2)), np.float64),
    ("float32 [2] with float64 0-d", lambda: Tensor([1.0, 2.0]), Tensor(np.float64(2.0)), np.float32),
    ("float32 0-d with float64 0-d", lambda: Tensor(1.0), Tensor(np.float64(2.0)), np.float64),
    ("int64 [2] with float64 0-d", lambda: Tensor([1, 2]), Tensor(np.float64(2.0)), np.float64),
    ("int64 [2] with float32 [2]", lambda: Tensor([1, 2]), Tensor([1.0, 2.0]), np.float32),  # NumPy: float64
    ("int32 [2] with int64 0-d", lambda: Tensor(np.ones(2, np.int32)), Tensor(5), np.int32),
    ("uint8 [2] with int8 [2]", lambda: Tensor(np.ones(2, np.uint8)), Tensor(np.ones(2, np.int8)), np.int16),
    ("float32 [2] with float64 ndarray", lambda: Tensor([1.0, 2.0]), np.ones(2), np.float64),
    ("float32 [2] with a list", lambda: Tensor([1.0, 2.0]), [1, 2], np.float32),
]


@pytest.mark.parametrize("case, make, other, want", PROMOTION, ids=[p[0] for p in PROMOTION])
def test_binary_ops_promote_dtypes_as_pytorch_does(case, make, other, want):
    from autograd.tensor import result_type

    a = make()
    assert result_type(a, other) == want and result_type(other, a) == want
    assert (a + other).dtype == want and (other + a).dtype == want
    assert (a * other).dtype == want
    if np.dtype(want).kind != "b":
        assert (a - other).dtype == want and (other - a).dtype == want


def test_true_division_and_float_ops_turn_integers_into_float32():
    i = Tensor([1, 2])
    assert (i / 2).dtype == np.float32 and (i / i).dtype == np.float32 and (2 / i).dtype == np.float32
    np.testing.assert_array_equal((i / 2).data, [0.5, 1.0])
    for out in (i.exp(), i.log(), i.sqrt(), i.tanh(), i.sigmoid(), i.softmax(), i.log_softmax(), i**0.5, 2.0**i):
        assert out.dtype == np.float32
    assert (i**2).dtype == np.int64 and (2**i).dtype == np.int64 and i.sum().dtype == np.int64


def test_mixed_precision_gradients_come_back_in_each_leafs_dtype():
    a = Tensor(np.array([1.0, 2.0], dtype=np.float32), requires_grad=True)
    b = Tensor(np.array([3.0, 4.0]), requires_grad=True)  # float64
    out = (a * b).sum()
    assert out.dtype == np.float64
    out.backward()
    assert a.grad.dtype == np.float32 and b.grad.dtype == np.float64
    np.testing.assert_array_equal(a.grad, [3.0, 4.0])
    np.testing.assert_array_equal(b.grad, [1.0, 2.0])


def test_matmul_does_not_mix_dtypes():
    with pytest.raises(TypeError, match=r"same dtype.*float32.*float64.*\.float\(\)"):
        Tensor(np.ones((2, 2), np.float32)) @ Tensor(np.ones((2, 2)))


def test_to_float_double_long_convert_and_pass_gradients_back():
    x = Tensor(np.array([1.5, -2.5], dtype=np.float32), requires_grad=True)
    d = x.double()
    assert d.dtype == np.float64 and d.op == "to" and d.requires_grad
    (d * d).sum().backward()
    assert x.grad.dtype == np.float32
    np.testing.assert_array_equal(x.grad, [3.0, -5.0])
    assert x.float() is x and x.to(np.float32) is x and x.to("cpu") is x and x.to("float32") is x
    assert x.to(d).dtype == np.float64
    n = x.long()
    assert n.dtype == np.int64 and not n.requires_grad
    np.testing.assert_array_equal(n.data, [1, -2])  # truncates toward zero
    with pytest.raises(TypeError, match="not a dtype"):
        x.to("fast")
    with pytest.raises(ValueError, match="CPU only"):
        x.to("cuda")
    with pytest.raises(TypeError, match="bool, integer or floating"):
        x.to(np.complex64)


def test_float_int_bool_of_one_element_tensors():
    assert float(Tensor([[2.5]])) == 2.5 and isinstance(float(Tensor(3)), float)
    assert int(Tensor(2.7)) == 2 and int(Tensor([-2.7])) == -2
    assert bool(Tensor(0.0)) is False and bool(Tensor([3])) is True
    with pytest.raises(ValueError, match=r"only one element tensors.*\(2,\)"):
        float(Tensor([1.0, 2.0]))
    with pytest.raises(ValueError, match="only one element"):
        int(Tensor(np.ones((2, 2))))
    with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
        bool(Tensor([1.0, 2.0]))
    with pytest.raises(RuntimeError, match="no values is ambiguous"):
        bool(Tensor(np.ones(0)))


def test_len_and_iteration_of_a_0d_tensor_raise_and_rows_stay_in_the_graph():
    with pytest.raises(TypeError, match="0-d"):
        len(Tensor(1.0))
    with pytest.raises(TypeError, match="0-d"):
        iter(Tensor(1.0))
    x = Tensor(np.array([[1.0, 2.0], [3.0, 4.0]]), requires_grad=True)
    rows = list(x)
    assert len(rows) == 2 and rows[1].op == "getitem"
    (rows[0] * 2 + rows[1]).sum().backward()
    np.testing.assert_array_equal(x.grad, [[2.0, 2.0], [1.0, 1.0]])


@pytest.mark.parametrize(
    "data, named",
    [("abc", "str: 'abc'"), (None, "NoneType"), (b"12", "bytes"), ([1.0, "x"], "dtype <U"),
     (np.array([1, None], dtype=object), "holding NoneType None"), ([1 + 2j], "complex"),
     ({"a": 1}, "dict"), ([object()], "object")],
)
def test_non_numeric_data_is_rejected_at_construction(data, named):
    with pytest.raises(TypeError, match=re.escape(named)):
        Tensor(data)


def test_construction_rejects_ragged_lists_and_non_numeric_dtypes():
    with pytest.raises(ValueError, match="rectangular"):
        Tensor([[1.0], [1.0, 2.0]])
    with pytest.raises(TypeError, match="dtype must be"):
        Tensor([1.0], dtype=np.str_)
    with pytest.raises(TypeError, match="<U3"):
        Tensor(["1.5"], dtype=np.float32)  # NumPy would parse the string; we refuse it


def test_tensors_and_values_do_not_mix():
    from autograd import Value

    x = Tensor(np.ones(2))
    for op in (lambda: x + Value(1.0), lambda: Value(1.0) + x, lambda: x * Value(2.0), lambda: Value(2.0) * x,
               lambda: x ** Value(2.0), lambda: Value(2.0) ** x, lambda: x - Value(1.0), lambda: Value(1.0) / x):
        with pytest.raises(TypeError, match="cannot combine a Tensor with a Value"):
            op()
    with pytest.raises(TypeError, match=r"Tensor\(v\.data\)"):
        Tensor(Value(1.0))
    with pytest.raises(TypeError, match=r"v\.data for v in values"):
        Tensor([Value(1.0), Value(2.0)])


def test_summed_axes_names_what_unbroadcast_sums():
    from autograd.tensor import summed_axes

    assert summed_axes((4, 3), (4, 3)) == ()
    assert summed_axes((4, 3), (3,)) == (0,)          # prepended
    assert summed_axes((2, 4, 3), (4, 1)) == (0, 2)   # prepended, then stretched from size 1
    assert summed_axes((4, 3), (2, 3)) is None        # 2 does not broadcast to 4
    assert summed_axes((3,), (2, 3)) is None          # more dims than the result


def test_as_tensor_keeps_a_tensor_and_wraps_anything_else_as_a_constant():
    from autograd import as_tensor

    t = Tensor([1.0], requires_grad=True)
    assert as_tensor(t) is t
    a = np.arange(3.0)
    wrapped = as_tensor(a)
    assert wrapped.data is a and not wrapped.requires_grad     # shares memory, as torch.as_tensor does
    assert as_tensor([1.0, 2.0]).dtype == np.float32


def test_numpy_meets_a_tensor_as_pytorch_code_expects():
    p = Tensor(np.ones(3), requires_grad=True)
    data = p.data
    p.data += -0.1 * Tensor(np.array([1.0, 2.0, 3.0]))  # a course's manual update: the array is updated in place
    assert p.data is data and np.allclose(data, [0.9, 0.8, 0.7])
    y = np.array([1.0, 2.0, 3.0]) * p  # array ⊕ tensor is the tensor's op, in the graph
    assert isinstance(y, Tensor) and y.op == "*" and y.requires_grad
    y.sum().backward()
    np.testing.assert_allclose(p.grad, [1.0, 2.0, 3.0])
    lt = np.array([1.0, 5.0, 0.0]) < p
    assert isinstance(lt, Tensor) and lt.data.tolist() == [False, False, True]
    assert isinstance(np.exp(p), np.ndarray)  # other NumPy functions see the numbers


def test_a_tiny_divisor_gives_a_finite_gradient_as_pytorch():
    a = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    b = Tensor(np.array([1e-320, 2.0]), requires_grad=True)
    with np.errstate(over="ignore", divide="ignore"):
        (a / b).sum().backward()
    np.testing.assert_array_equal(b.grad, [-0.0, -0.25])
    assert np.signbit(b.grad[0])
