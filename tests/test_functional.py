"""nn.functional: losses against hand-computed values, gradients against central finite differences."""
from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import pytest

from autograd import Tensor
from nn import functional as F


def numeric_grad(f: Callable[[], float], x: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """Central differences (f(x + h) − f(x − h)) / 2h, one element of float64 ``x`` at a time (in place)."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        up = f()
        x[i] = old - h
        down = f()
        x[i] = old
        grad[i] = (up - down) / (2 * h)
    return grad


def leaf(a: object) -> Tensor:
    return Tensor(np.array(a, dtype=np.float64), requires_grad=True)


# -- cross_entropy ------------------------------------------------------------------------------


def test_cross_entropy_matches_hand_computed_mean_nll():
    logits = leaf([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]])
    loss = F.cross_entropy(logits, np.array([2, 0]))
    row0 = -math.log(math.exp(3) / (math.exp(1) + math.exp(2) + math.exp(3)))
    row1 = math.log(3.0)  # uniform over 3 classes
    assert loss.item() == pytest.approx((row0 + row1) / 2, rel=1e-12)


def test_cross_entropy_gradient_is_softmax_minus_onehot_over_n():
    logits = leaf(np.zeros((2, 4)))
    F.cross_entropy(logits, [1, 3]).backward()
    # softmax of equal logits is 1/4 everywhere; subtract 1 at the label; divide by N = 2
    expected = np.full((2, 4), 0.25 / 2)
    expected[0, 1] = (0.25 - 1) / 2
    expected[1, 3] = (0.25 - 1) / 2
    np.testing.assert_allclose(logits.grad, expected, rtol=1e-12)


def test_cross_entropy_gradient_matches_finite_differences():
    rng = np.random.default_rng(0)
    z = rng.normal(size=(5, 4)) * 3
    y = np.array([0, 3, 1, 1, 2])
    logits = Tensor(z, requires_grad=True)
    F.cross_entropy(logits, y).backward()
    numeric = numeric_grad(lambda: F.cross_entropy(Tensor(z), y).item(), z)
    np.testing.assert_allclose(logits.grad, numeric, rtol=1e-6, atol=1e-9)


def test_cross_entropy_scales_with_upstream_gradient():
    z = np.array([[0.3, -1.2, 2.0]])
    a, b = leaf(z), leaf(z)
    F.cross_entropy(a, [1]).backward()
    (F.cross_entropy(b, [1]) * 3.0).backward()
    np.testing.assert_allclose(b.grad, 3.0 * a.grad, rtol=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_cross_entropy_is_stable_at_extreme_logits(dtype):
    logits = Tensor(np.array([[1000.0, -1000.0], [-1000.0, 1000.0]], dtype=dtype), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([0, 0]))
    # row 0 predicts its label with certainty (loss 0); row 1 misses by 2000 (loss 2000); mean 1000
    assert loss.item() == pytest.approx(1000.0)
    loss.backward()
    assert loss.dtype == dtype and logits.grad.dtype == dtype
    np.testing.assert_allclose(logits.grad, [[0.0, 0.0], [-0.5, 0.5]], atol=1e-7)


def test_cross_entropy_keeps_float32():
    logits = Tensor(np.ones((3, 4), dtype=np.float32), requires_grad=True)
    loss = F.cross_entropy(logits, np.array([0, 1, 2], dtype=np.int64))
    loss.backward()
    assert loss.dtype == np.float32 and logits.grad.dtype == np.float32


def test_cross_entropy_accepts_integer_tensor_targets():
    z = np.array([[0.5, 1.5], [2.0, -1.0]])
    a = F.cross_entropy(leaf(z), Tensor(np.array([1, 0])))
    b = F.cross_entropy(leaf(z), np.array([1, 0]))
    assert a.item() == pytest.approx(b.item(), rel=1e-15)


@pytest.mark.parametrize("label", [5, 7, -1])
def test_cross_entropy_rejects_label_outside_range_naming_it(label):
    logits = leaf(np.zeros((3, 5)))
    with pytest.raises(ValueError, match=rf"label {label} .*\[0, 5\).*5 classes"):
        F.cross_entropy(logits, np.array([0, label, 1]))


def test_cross_entropy_rejects_float_targets():
    with pytest.raises(TypeError, match="integer"):
        F.cross_entropy(leaf(np.zeros((2, 3))), np.array([0.0, 1.0]))


def test_cross_entropy_rejects_non_2d_logits_naming_the_shape():
    with pytest.raises(ValueError, match=r"2-D.*\(3,\)"):
        F.cross_entropy(leaf(np.zeros(3)), np.array([0]))


def test_cross_entropy_rejects_target_length_mismatch_naming_shapes():
    with pytest.raises(ValueError, match=r"\(2,\).*batch of 3"):
        F.cross_entropy(leaf(np.zeros((3, 4))), np.array([0, 1]))


# -- mse_loss -----------------------------------------------------------------------------------


def test_mse_loss_value_and_gradient_by_hand():
    x = leaf([1.0, 2.0, 3.0])
    loss = F.mse_loss(x, np.array([1.0, 0.0, 0.0]))
    assert loss.item() == pytest.approx((0 + 4 + 9) / 3)
    loss.backward()
    np.testing.assert_allclose(x.grad, [0.0, 2 * 2 / 3, 2 * 3 / 3], rtol=1e-12)


def test_mse_loss_gradients_match_finite_differences_for_both_inputs():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    F.mse_loss(x, y).backward()
    def f() -> float:
        return F.mse_loss(Tensor(a), Tensor(b)).item()
    np.testing.assert_allclose(x.grad, numeric_grad(f, a), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(y.grad, numeric_grad(f, b), rtol=1e-6, atol=1e-9)


def test_mse_loss_rejects_shape_mismatch():
    with pytest.raises(ValueError, match=r"\(3,\).*\(3, 1\)"):
        F.mse_loss(leaf([1.0, 2.0, 3.0]), np.zeros((3, 1)))


# -- binary_cross_entropy_with_logits -----------------------------------------------------------


def test_bce_with_logits_matches_definition():
    x = [0.0, 2.0, -1.5]
    y = [1.0, 0.0, 0.25]

    def bce(xi: float, yi: float) -> float:
        p = 1 / (1 + math.exp(-xi))
        return -(yi * math.log(p) + (1 - yi) * math.log(1 - p))

    loss = F.binary_cross_entropy_with_logits(leaf(x), np.array(y))
    assert loss.item() == pytest.approx(sum(map(bce, x, y)) / 3, rel=1e-12)


def test_bce_with_logits_gradient_is_sigmoid_minus_target_and_matches_finite_differences():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(4, 3)) * 4, rng.uniform(size=(4, 3))
    x, y = Tensor(a, requires_grad=True), Tensor(b, requires_grad=True)
    F.binary_cross_entropy_with_logits(x, y).backward()
    def f() -> float:
        return F.binary_cross_entropy_with_logits(Tensor(a), Tensor(b)).item()
    np.testing.assert_allclose(x.grad, (1 / (1 + np.exp(-a)) - b) / a.size, rtol=1e-10)
    np.testing.assert_allclose(x.grad, numeric_grad(f, a), rtol=1e-6, atol=1e-9)
    np.testing.assert_allclose(y.grad, numeric_grad(f, b), rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bce_with_logits_is_stable_at_extreme_logits(dtype):
    x = Tensor(np.array([1000.0, -1000.0, 1000.0], dtype=dtype), requires_grad=True)
    loss = F.binary_cross_entropy_with_logits(x, np.array([1.0, 1.0, 0.0]))
    # certain and right: 0; certain and wrong: 1000 each
    assert loss.item() == pytest.approx(2000.0 / 3)
    loss.backward()
    assert x.grad.dtype == dtype
    np.testing.assert_allclose(x.grad, [0.0, -1 / 3, 1 / 3], atol=1e-7)


# -- activations ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fn", "ref"),
    [
        (F.relu, lambda a: np.maximum(a, 0)),
        (F.tanh, np.tanh),
        (F.sigmoid, lambda a: 1 / (1 + np.exp(-a))),
        (F.softmax, lambda a: np.exp(a) / np.exp(a).sum(axis=-1, keepdims=True)),
        (F.log_softmax, lambda a: a - np.log(np.exp(a).sum(axis=-1, keepdims=True))),
    ],
)
def test_activation_values_and_gradients(fn, ref):
    rng = np.random.default_rng(3)
    a = rng.normal(size=(3, 4))
    w = rng.normal(size=(3, 4))  # a random upstream gradient, so softmax's is not trivially zero
    x = Tensor(a, requires_grad=True)
    out = fn(x)
    np.testing.assert_allclose(out.data, ref(a), rtol=1e-12)
    (out * Tensor(w)).sum().backward()
    numeric = numeric_grad(lambda: float((fn(Tensor(a)).data * w).sum()), a)
    np.testing.assert_allclose(x.grad, numeric, rtol=1e-6, atol=1e-9)


# -- linear -------------------------------------------------------------------------------------


def test_linear_computes_x_w_transpose_plus_b_in_one_node():
    x = leaf([[1.0, 2.0]])
    w = leaf([[1.0, 0.0], [0.5, -1.0], [2.0, 3.0]])  # (out=3, in=2)
    b = leaf([0.1, 0.2, 0.3])
    y = F.linear(x, w, b)
    np.testing.assert_allclose(y.data, [[1.1, 0.5 - 2.0 + 0.2, 2 + 6 + 0.3]], rtol=1e-12)
    assert y.op == "linear" and y.inputs == (x, w, b)


@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("x_shape", [(4, 3), (2, 3, 3), (3,)])
def test_linear_gradients_match_finite_differences(bias, x_shape):
    rng = np.random.default_rng(4)
    a, wa, ba = rng.normal(size=x_shape), rng.normal(size=(2, 3)), rng.normal(size=2)
    up = rng.normal(size=(*x_shape[:-1], 2))
    x, w, b = Tensor(a, requires_grad=True), Tensor(wa, requires_grad=True), Tensor(ba, requires_grad=True)
    (F.linear(x, w, b if bias else None) * Tensor(up)).sum().backward()

    def f() -> float:
        return float((F.linear(Tensor(a), Tensor(wa), Tensor(ba) if bias else None).data * up).sum())

    np.testing.assert_allclose(x.grad, numeric_grad(f, a), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(w.grad, numeric_grad(f, wa), rtol=1e-6, atol=1e-8)
    if bias:
        np.testing.assert_allclose(b.grad, numeric_grad(f, ba), rtol=1e-6, atol=1e-8)
    else:
        assert b.grad is None


def test_linear_rejects_mismatched_shapes():
    w = leaf(np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"\(4, 5\).*in_features=3"):
        F.linear(leaf(np.zeros((4, 5))), w)
    with pytest.raises(ValueError, match=r"bias must have shape \(2,\), got \(3,\)"):
        F.linear(leaf(np.zeros((4, 3))), w, leaf(np.zeros(3)))


# -- dropout ------------------------------------------------------------------------------------


def test_dropout_is_identity_when_not_training_or_p_zero():
    x = leaf(np.arange(6.0))
    assert F.dropout(x, 0.5, training=False) is x
    assert F.dropout(x, 0.0, training=True) is x


def test_dropout_zeroes_about_p_and_scales_kept_units():
    x = Tensor(np.ones((200, 50), dtype=np.float32), requires_grad=True)
    y = F.dropout(x, 0.3, training=True, rng=np.random.default_rng(5))
    dropped = (y.data == 0).mean()
    assert abs(dropped - 0.3) < 0.02  # 10 000 Bernoulli draws: std of the fraction ≈ 0.005
    np.testing.assert_allclose(y.data[y.data != 0], 1 / 0.7, rtol=1e-6)
    assert y.dtype == np.float32


def test_dropout_gradient_is_the_same_mask():
    rng = np.random.default_rng(6)
    a = rng.uniform(1.0, 2.0, size=(8, 8))  # nonzero, so out / x recovers the mask
    up = rng.normal(size=(8, 8))
    x = Tensor(a, requires_grad=True)
    y = F.dropout(x, 0.5, training=True, rng=rng)
    (y * Tensor(up)).sum().backward()
    mask = y.data / a
    assert set(np.unique(np.round(mask, 12))) <= {0.0, 2.0}
    np.testing.assert_allclose(x.grad, up * mask, rtol=1e-12)


def test_dropout_with_p_one_drops_everything():
    x = leaf(np.ones(5))
    y = F.dropout(x, 1.0, training=True)
    y.sum().backward()
    assert not y.data.any() and not x.grad.any()


def test_dropout_reproducible_with_global_seed():
    x = Tensor(np.ones(100))
    np.random.seed(7)
    a = F.dropout(x, 0.5).data
    np.random.seed(7)
    b = F.dropout(x, 0.5).data
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_dropout_rejects_invalid_probability(p):
    with pytest.raises(ValueError, match="dropout probability"):
        F.dropout(leaf([1.0]), p)


# -- one input rule for every function: Tensors, or anything Tensor(...) accepts, as constants ------------

W = np.array([[1.0, 0.0], [0.5, -1.0], [2.0, 3.0]], dtype=np.float32)

CALLS = {
    "relu": lambda x: F.relu(x),
    "tanh": lambda x: F.tanh(x),
    "sigmoid": lambda x: F.sigmoid(x),
    "softmax": lambda x: F.softmax(x, dim=0),
    "log_softmax": lambda x: F.log_softmax(x, dim=-1),
    "linear": lambda x: F.linear(x, Tensor(W)),
    "linear, all arrays": lambda x: F.linear(x, W, W[:, 0]),
    "dropout": lambda x: F.dropout(x, 0.5, training=False),
    "cross_entropy": lambda x: F.cross_entropy(x, [0, 1]),
    "mse_loss": lambda x: F.mse_loss(x, [[0.0, 1.0], [2.0, 3.0]]),
    "binary_cross_entropy_with_logits": lambda x: F.binary_cross_entropy_with_logits(x, [[0.0, 1.0], [0.5, 1.0]]),
}


@pytest.mark.parametrize("name", list(CALLS))
def test_every_function_takes_lists_and_arrays_as_constant_inputs(name):
    rows = [[0.5, -1.0], [2.0, 0.25]]
    from_tensor = CALLS[name](Tensor(rows))
    for given in (rows, np.array(rows, dtype=np.float32)):
        out = CALLS[name](given)
        assert isinstance(out, Tensor) and not out.requires_grad
        assert out.dtype == np.float32  # a list becomes float32, as Tensor(list) does
        np.testing.assert_array_equal(out.data, from_tensor.data)


def test_a_value_is_not_a_tensor_input():
    from autograd import Value

    with pytest.raises(TypeError, match="Value"):
        F.relu(Value(1.0))


def test_linear_refuses_an_input_of_another_dtype_and_says_how_to_convert():
    w = Tensor(W, requires_grad=True)
    want = "expected float32 input for linear (weight (3, 2) float32), got float64; convert with x.float()"
    with pytest.raises(TypeError, match=re.escape(want)):
        F.linear(np.ones((4, 2)), w)  # a float64 ndarray: as in PyTorch, no silent float64 layer
    with pytest.raises(TypeError, match="got int64"):
        F.linear(Tensor(np.ones((4, 2), dtype=np.int64)), w)
    with pytest.raises(TypeError, match=r"x\.double\(\)"):
        F.linear(Tensor(np.ones((4, 2), dtype=np.float32)), Tensor(W.astype(np.float64)))
    with pytest.raises(TypeError, match="bias is float64 but weight is float32"):
        F.linear(Tensor(np.ones((4, 2), dtype=np.float32)), w, Tensor(np.zeros(3)))


def test_two_input_losses_promote_like_pytorch_and_return_each_gradient_in_its_dtype():
    x = Tensor(np.array([0.5, -1.0], dtype=np.float32), requires_grad=True)
    for loss in (F.mse_loss(x, np.array([1.0, 0.0])), F.binary_cross_entropy_with_logits(x, np.array([1.0, 0.0]))):
        assert loss.dtype == np.float64  # float32 with a float64 array: float64, as torch.result_type says
        x.grad = None
        loss.backward()
        assert x.grad.dtype == np.float32
    assert F.mse_loss(x, [1.0, 0.0]).dtype == np.float32  # a list is float32


@pytest.mark.parametrize("bad, at", [(1.5, "(1,)"), (-0.25, "(1,)"), (float("nan"), "(1,)")])
def test_bce_with_logits_rejects_targets_outside_zero_one_naming_the_value(bad, at):
    with pytest.raises(ValueError, match=re.escape(f"in [0, 1], got {bad} at index {at}")):
        F.binary_cross_entropy_with_logits(Tensor([0.0, 1.0, 2.0]), [0.0, bad, 1.0])
    F.binary_cross_entropy_with_logits(Tensor([0.0, 1.0]), [0.0, 1.0])  # the bounds themselves are fine


def test_cross_entropy_wants_floating_point_logits():
    with pytest.raises(TypeError, match="logits must be floating point, got int64"):
        F.cross_entropy(Tensor([[1, 2]]), [0])
