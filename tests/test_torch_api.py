"""The PyTorch-named API against PyTorch itself: shapes, dtypes, values and gradients (issue 8).

Each test runs the same call on our Tensor/Value and on torch, with the same inputs and the same random
upstream gradient, and compares everything observable. Skipped as a whole when torch is not installed;
tests/test_tensor.py and tests/test_value.py check the same rules against hand-written expectations.
"""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from conftest import torch_or_skip

from autograd import Tensor, Value, no_grad
from autograd.tensor import result_type
from nn import Linear
from nn import functional as F

torch = torch_or_skip()

RNG = np.random.default_rng(8)


def both(a: np.ndarray, requires_grad: bool = True) -> tuple[Tensor, object]:
    """The same float64 array as our leaf and as torch's."""
    return Tensor(a.copy(), requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad)


def agree(ours: Tensor, theirs: object, leaves: tuple[Tensor, object] | None = None) -> None:
    """Same shape, dtype and values; then, if ``leaves`` is given, the same gradient for one random upstream."""
    assert ours.shape == tuple(theirs.shape)
    assert ours.dtype == np.dtype(str(theirs.dtype).removeprefix("torch."))
    rtol = 1e-12 if ours.dtype == np.float64 else 1e-6  # float32 libms may differ in the last bit
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=1e-15)
    if leaves is not None:
        g = RNG.standard_normal(ours.shape)
        ours.backward(g)
        theirs.backward(torch.tensor(g))
        mine, ref = leaves
        np.testing.assert_allclose(mine.grad, ref.grad.numpy(), rtol=1e-12, atol=1e-15)


# -- shape ops ------------------------------------------------------------------------------------------

SHAPE_CALLS = [
    ((2, 3), lambda t: t.transpose(0, 1)),
    ((2, 3), lambda t: t.transpose(-1, -2)),
    ((2, 3, 4), lambda t: t.transpose(0, 2)),
    ((2, 3, 4), lambda t: t.transpose(2, 1)),
    ((2, 3, 4), lambda t: t.permute(2, 0, 1)),
    ((2, 3, 4), lambda t: t.permute((1, 2, 0))),
    ((2, 3, 4), lambda t: t.permute(-1, 0, 1)),
    ((2, 3), lambda t: t.T),
    ((2, 3), lambda t: t.t()),
    ((3,), lambda t: t.t()),
    ((2, 3, 4, 5), lambda t: t.flatten()),
    ((2, 3, 4, 5), lambda t: t.flatten(1)),
    ((2, 3, 4, 5), lambda t: t.flatten(1, 2)),
    ((2, 3, 4, 5), lambda t: t.flatten(-3, -2)),
    ((), lambda t: t.flatten()),
    ((2, 3), lambda t: t.unsqueeze(0)),
    ((2, 3), lambda t: t.unsqueeze(-1)),
    ((2, 3), lambda t: t.unsqueeze(1)),
    ((), lambda t: t.unsqueeze(0)),
    ((1, 3, 1), lambda t: t.squeeze()),
    ((1, 3, 1), lambda t: t.squeeze(0)),
    ((1, 3, 1), lambda t: t.squeeze(1)),
    ((1, 3, 1), lambda t: t.squeeze((0, 2))),
    ((), lambda t: t.squeeze()),
    ((2, 3), lambda t: t.reshape(3, 2)),
    ((2, 3), lambda t: t.view(-1)),
]


@pytest.mark.parametrize("shape, call", SHAPE_CALLS)
def test_shape_ops_match_torch(shape, call):
    x, tx = both(RNG.standard_normal(shape))
    agree(call(x), call(tx), (x, tx))


# -- reductions -----------------------------------------------------------------------------------------

REDUCTIONS = [
    ((2, 3), {}),
    ((2, 3), {"dim": 0}),
    ((2, 3), {"dim": -1, "keepdim": True}),
    ((2, 3, 4), {"dim": (0, 2)}),
    ((2, 3, 4), {"dim": (-1, 0), "keepdim": True}),
    ((2, 3), {"dim": ()}),
    ((), {"dim": 0}),
    ((), {"dim": -1, "keepdim": True}),
    ((2, 3), {"axis": 1, "keepdims": True}),  # PyTorch accepts NumPy's names too
]


@pytest.mark.parametrize("name", ["sum", "mean", "amax", "amin"])
@pytest.mark.parametrize("shape, kwargs", REDUCTIONS)
def test_reductions_with_dim_and_keepdim_match_torch(name, shape, kwargs):
    x, tx = both(RNG.standard_normal(shape))
    agree(getattr(x, name)(**kwargs), getattr(tx, name)(**kwargs), (x, tx))


@pytest.mark.parametrize("name", ["sum", "mean"])
def test_positional_dims_match_torch(name):
    x, tx = both(RNG.standard_normal((2, 3)))
    agree(getattr(x, name)(1, True), getattr(tx, name)(1, True), (x, tx))


@pytest.mark.parametrize("name", ["max", "min", "amax", "amin"])
def test_ties_share_or_pick_the_gradient_as_torch_does(name):
    a = np.array([[1.0, 3.0, 3.0, -1.0], [-1.0, 2.0, -1.0, 2.0]])
    x, tx = both(a)
    agree(getattr(x, name)(), getattr(tx, name)(), (x, tx))  # no dim: ties share evenly
    x, tx = both(a)
    if name in ("max", "min"):
        ours, theirs = getattr(x, name)(1, keepdim=True), getattr(tx, name)(1, keepdim=True)
        np.testing.assert_array_equal(ours.indices.data, theirs.indices.numpy())
        assert ours.indices.dtype == np.int64
        agree(ours.values, theirs.values, (x, tx))  # along a dim: the gradient goes to the index
    else:
        agree(getattr(x, name)(1), getattr(tx, name)(1), (x, tx))


def test_max_of_a_0d_tensor_along_dim_zero_matches_torch():
    x, tx = both(np.array(2.5))
    ours, theirs = x.max(0), tx.max(0)
    assert ours.indices.item() == theirs.indices.item() == 0
    agree(ours.values, theirs.values, (x, tx))


@pytest.mark.parametrize("name", ["argmax", "argmin"])
@pytest.mark.parametrize("kwargs", [{}, {"dim": 0}, {"dim": 1, "keepdim": True}, {"dim": -1}])
def test_argmax_argmin_match_torch(name, kwargs):
    a = np.array([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]])
    agree(getattr(Tensor(a), name)(**kwargs), getattr(torch.tensor(a), name)(**kwargs))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("shape, dim", [((2, 3), 0), ((2, 3), -1), ((2, 3, 4), 1), ((), 0), ((3,), -1)])
def test_softmax_dims_match_torch(name, shape, dim):
    x, tx = both(RNG.standard_normal(shape))
    agree(getattr(x, name)(dim=dim), getattr(tx, name)(dim=dim), (x, tx))
    x, tx = both(RNG.standard_normal(shape))
    agree(getattr(F, name)(x, dim=dim), getattr(torch.nn.functional, name)(tx, dim=dim), (x, tx))


@pytest.mark.parametrize(
    "call",
    [lambda t: t.sum(2), lambda t: t.sum((0, 3)), lambda t: t.amax(-3), lambda t: t.max(2), lambda t: t.softmax(2),
     lambda t: t.transpose(0, 2), lambda t: t.flatten(0, 2), lambda t: t.unsqueeze(3), lambda t: t.squeeze(2)],
)
def test_out_of_range_dims_are_index_errors_in_both(call):
    with pytest.raises(IndexError, match="out of range"):
        call(torch.ones(2, 3))
    with pytest.raises(IndexError, match="out of range"):
        call(Tensor(np.ones((2, 3))))


def test_out_of_range_dims_on_0d_tensors_are_index_errors_in_both():
    for x in (torch.tensor(1.0), Tensor(1.0)):
        with pytest.raises(IndexError, match=r"\[-1, 0\], but got 1"):
            x.sum(1)


# -- method forms -----------------------------------------------------------------------------------------

METHODS = [
    lambda a, b: a.add(b), lambda a, b: a.add(b, alpha=2.5), lambda a, b: a.sub(b), lambda a, b: a.sub(b, alpha=-2),
    lambda a, b: a.mul(b), lambda a, b: a.div(b), lambda a, b: b.pow(a), lambda a, b: a.pow(2),
    lambda a, b: a.matmul(b.T), lambda a, b: a.neg() + b, lambda a, b: a.exp() * b.log(), lambda a, b: a.tanh() + b,
    lambda a, b: a.relu() + b.sigmoid(), lambda a, b: a.abs().sqrt() * b, lambda a, b: a.subtract(b),
    lambda a, b: a.multiply(b), lambda a, b: a.divide(b), lambda a, b: a.true_divide(b), lambda a, b: a.negative(),
    lambda a, b: a.clamp(-0.5, 0.5) + b, lambda a, b: a.float().double() * b,
]


@pytest.mark.parametrize("call", METHODS)
def test_method_forms_match_torch(call):
    a, b = RNG.standard_normal((2, 3)), RNG.uniform(0.5, 2.0, (2, 3))
    (x, tx), (y, ty) = both(a), both(b)
    ours, theirs = call(x, y), call(tx, ty)
    agree(ours, theirs)
    g = RNG.standard_normal(ours.shape)
    ours.backward(g)
    theirs.backward(torch.tensor(g))
    for mine, ref in ((x, tx), (y, ty)):
        if ref.grad is None:
            assert mine.grad is None
        else:
            np.testing.assert_allclose(mine.grad, ref.grad.numpy(), rtol=1e-12, atol=1e-15)


# -- dtype promotion ------------------------------------------------------------------------------------------

DTYPES = ["bool", "uint8", "int8", "int32", "int64", "float32", "float64"]


def operand(kind: str, dtype: str) -> tuple[object, object]:
    """(ours, torch's) for a dimensioned tensor, a 0-d tensor, or a Python number."""
    if kind == "python":
        value = {"bool": True, "int": 3, "float": 0.5}[dtype]
        return value, value
    shape = (2,) if kind == "dim" else ()
    arr = np.ones(shape, dtype=dtype)
    return Tensor(arr), torch.from_numpy(arr.copy())


OPERANDS = ([("dim", d) for d in DTYPES] + [("0-d", d) for d in DTYPES]
            + [("python", p) for p in ("bool", "int", "float")])


@pytest.mark.parametrize("left, right", [(a, b) for a, b in itertools.product(OPERANDS, OPERANDS)
                                         if "python" not in (a[0], b[0]) or a[0] != b[0]])
def test_result_dtypes_match_torch_result_type(left, right):
    (a, ta), (b, tb) = operand(*left), operand(*right)
    want = np.dtype(str(torch.result_type(ta, tb)).removeprefix("torch."))
    assert result_type(a, b) == want
    assert (a + b).dtype == want and (a * b).dtype == want
    assert (a / b).dtype == np.dtype(str((ta / tb).dtype).removeprefix("torch."))


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int32", "int64"])
@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "sigmoid"])
def test_float_ops_on_integer_tensors_give_torchs_dtype(name, dtype):
    arr = np.array([1, 2, 3]).astype(dtype)
    agree(getattr(Tensor(arr), name)(), getattr(torch.from_numpy(arr.copy()), name)())


def test_integer_powers_and_sums_keep_torchs_dtypes():
    arr = np.array([1, 2, 3])
    ti = torch.from_numpy(arr.copy())
    for call in (lambda t: t**2, lambda t: 2**t, lambda t: t**0.5, lambda t: 2.0**t,
                 lambda t: t.sum(), lambda t: t.sum(0)):
        agree(call(Tensor(arr)), call(ti))


def test_mixed_precision_gradients_match_torch():
    a32 = np.array([1.0, 2.0], dtype=np.float32)
    x, tx = Tensor(a32.copy(), requires_grad=True), torch.tensor(a32, requires_grad=True)
    y, ty = both(np.array([3.0, -4.0]))
    ours, theirs = (x * y + x).sum(), (tx * ty + tx).sum()
    agree(ours, theirs)
    ours.backward()
    theirs.backward()
    assert x.grad.dtype == np.float32 and str(tx.grad.dtype) == "torch.float32"
    np.testing.assert_array_equal(x.grad, tx.grad.numpy())
    np.testing.assert_array_equal(y.grad, ty.grad.numpy())


def test_conversions_match_torch():
    a = np.array([1.7, -2.5])
    for call in (lambda t: t.float(), lambda t: t.double(), lambda t: t.long(), lambda t: t.float().double()):
        agree(call(Tensor(a)), call(torch.tensor(a)))
    x, tx = both(a)
    agree(x.float() * 3, tx.float() * 3, (x, tx))


def test_python_number_conversions_and_their_errors_match_torch():
    for arr in (np.array([2.7]), np.array(-2.7), np.array([[0.0]])):
        t, tt = Tensor(arr), torch.tensor(arr)
        assert float(t) == float(tt) and int(t) == int(tt) and bool(t) == bool(tt)
    for t in (Tensor(np.ones(2)), torch.ones(2)):
        with pytest.raises(ValueError, match="only one element tensors"):
            float(t)
        with pytest.raises(RuntimeError, match="more than one value is ambiguous"):
            bool(t)


# -- layers and losses ---------------------------------------------------------------------------------------


def test_float64_input_into_a_float32_linear_is_refused_by_both():
    with pytest.raises(RuntimeError, match="dtype"):
        torch.nn.Linear(4, 2)(torch.ones(3, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match="expected float32 input for Linear"):
        Linear(4, 2)(Tensor(np.ones((3, 4))))


def test_losses_with_mixed_dtypes_promote_as_torch_does():
    a32 = np.array([0.5, -1.0, 2.0], dtype=np.float32)
    target = np.array([1.0, 0.0, 0.25])
    tf = torch.nn.functional
    for ours_fn, torch_fn in ((F.mse_loss, tf.mse_loss),
                              (F.binary_cross_entropy_with_logits, tf.binary_cross_entropy_with_logits)):
        x, tx = Tensor(a32.copy(), requires_grad=True), torch.tensor(a32, requires_grad=True)
        ours, theirs = ours_fn(x, target), torch_fn(tx, torch.tensor(target))
        assert ours.dtype == np.float64 and theirs.dtype == torch.float64
        # torch computes part of BCE-with-logits in the float32 input's precision; we cast first: ~1e-8 apart.
        assert ours.item() == pytest.approx(theirs.item(), rel=1e-6)
        ours.backward()
        theirs.backward()
        assert x.grad.dtype == np.float32
        np.testing.assert_allclose(x.grad, tx.grad.numpy(), rtol=1e-6)


# -- the scalar engine against torch's 0-d tensors --------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [lambda a, b: a / b, lambda a, b: b / a, lambda a, b: a - b, lambda a, b: 2.0 - a / b, lambda a, b: 2**a * b,
     lambda a, b: 0.5**a - 3.0 / b, lambda a, b: a.div(b).sub(b).mul(a).add(1.0).pow(2)],
)
def test_value_division_subtraction_and_number_powers_match_torch(build):
    a, b = Value(1.3), Value(-0.7)
    ta = torch.tensor(1.3, dtype=torch.float64, requires_grad=True)
    tb = torch.tensor(-0.7, dtype=torch.float64, requires_grad=True)
    out, tout = build(a, b), build(ta, tb)
    out.backward()
    tout.backward()
    assert out.data == pytest.approx(tout.item(), rel=1e-12)
    assert a.grad == pytest.approx(ta.grad.item(), rel=1e-12)
    assert b.grad == pytest.approx(tb.grad.item(), rel=1e-12)
    assert float(out) == pytest.approx(float(tout.detach()), rel=1e-12)


def test_backward_under_no_grad_is_refused_by_all_three():
    t = torch.tensor(2.0, requires_grad=True)
    with torch.no_grad():
        tout = t * 3
    with pytest.raises(RuntimeError, match="does not require grad"):
        tout.backward()
    v, x = Value(2.0), Tensor(2.0, requires_grad=True)
    with no_grad():
        vout, xout = v * 3, x * 3
    with pytest.raises(RuntimeError, match="no_grad"):
        vout.backward()
    with pytest.raises(RuntimeError, match="does not require grad"):
        xout.backward()
