"""conv2d, unfold/fold and pad (nn/convolution.py), Conv2d / Flatten (nn/conv_layers.py), and the max-pooling
basics the CNN uses (nn/pooling.py; the pooling family in full is in test_pooling.py).

Gradients are checked against float64 central finite differences always, and against PyTorch (forward and
every gradient over a grid of shapes, strides, paddings, dilations, groups and padding modes) when torch is
installed. Second derivatives: test_conv_second_order.py.
"""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from conftest import torch_or_skip

import autograd
import nn
from autograd import Tensor, no_grad
from nn import functional as F

# -- helpers ------------------------------------------------------------------------------------


def numeric_grad(f, arrays: list[np.ndarray], g: np.ndarray, h: float = 1e-6) -> list[np.ndarray]:
    """∂⟨g, f(*arrays)⟩/∂array for each array, by central differences in float64, element by element."""
    grads = []
    for a in arrays:
        grad = np.zeros_like(a)
        for idx in np.ndindex(a.shape):
            old = a[idx]
            a[idx] = old + h
            up = float(np.sum(g * f(*arrays)))
            a[idx] = old - h
            down = float(np.sum(g * f(*arrays)))
            a[idx] = old
            grad[idx] = (up - down) / (2 * h)
        grads.append(grad)
    return grads


def conv_fn(stride=1, padding=0, dilation=1, bias=True):
    def f(x, w, b=None):
        with no_grad():
            return F.conv2d(Tensor(x), Tensor(w), Tensor(b) if bias else None, stride, padding, dilation).data
    return f


def run_conv(x, w, b, g, **kw):
    """Output and the three gradients of conv2d through backward()."""
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    B = None if b is None else Tensor(b, requires_grad=True)
    y = F.conv2d(X, W, B, **kw)
    y.backward(g)
    return y, X.grad, W.grad, (None if B is None else B.grad)


# -- by hand ------------------------------------------------------------------------------------


def test_conv2d_of_a_3x3_image_with_a_2x2_kernel_by_hand():
    # y[p, q] = Σ_ij w[i, j] x[p + i, q + j]: with x = 1..9 row by row and w = [[1, 0], [0, -1]],
    # y = x[p, q] − x[p + 1, q + 1] = −4 everywhere; plus the bias 0.5.
    x = Tensor(np.arange(1.0, 10.0).reshape(1, 1, 3, 3), requires_grad=True)
    w = Tensor(np.array([[[[1.0, 0.0], [0.0, -1.0]]]]), requires_grad=True)
    b = Tensor(np.array([0.5]), requires_grad=True)
    y = F.conv2d(x, w, b)
    assert y.shape == (1, 1, 2, 2)
    np.testing.assert_array_equal(y.data, np.full((1, 1, 2, 2), -3.5))
    y.sum().backward()
    # ∂/∂w[i, j] = Σ_pq x[p + i, q + j]: the 2×2 sums of the shifted image; ∂/∂b = 4 outputs.
    np.testing.assert_array_equal(w.grad[0, 0], [[1 + 2 + 4 + 5, 2 + 3 + 5 + 6], [4 + 5 + 7 + 8, 5 + 6 + 8 + 9]])
    np.testing.assert_array_equal(b.grad, [4.0])
    # ∂/∂x: each pixel collects w[i, j] once per window it sits in at offset (i, j): +1 at the top-left
    # pixels of windows, −1 at their bottom-right pixels.
    np.testing.assert_array_equal(x.grad[0, 0], [[1, 1, 0], [1, 0, -1], [0, -1, -1]])


def test_max_pool2d_by_hand_routes_each_window_gradient_to_its_maximum():
    x = Tensor(np.array([[[[1.0, 5.0, 2.0, 0.0],
                           [3.0, 4.0, 8.0, 1.0],
                           [0.0, 0.0, 7.0, 7.0],
                           [6.0, 0.0, 7.0, 6.0]]]]), requires_grad=True)
    y = F.max_pool2d(x, 2)
    np.testing.assert_array_equal(y.data, [[[[5.0, 8.0], [6.0, 7.0]]]])
    y.backward(np.array([[[[10.0, 20.0], [30.0, 40.0]]]]))
    # The bottom-right window has three 7s: the first in row-major order takes the gradient (as in PyTorch).
    np.testing.assert_array_equal(x.grad[0, 0], [[0, 10, 0, 0], [0, 0, 20, 0], [0, 0, 40, 0], [30, 0, 0, 0]])


def test_overlapping_pool_windows_add_their_gradients_at_a_shared_maximum():
    # 3×3 windows at stride 1 over a 4×4 image whose maximum 9 sits in the middle: all four windows pick it.
    x = np.zeros((1, 1, 4, 4))
    x[0, 0, 1, 2] = 9.0
    t = Tensor(x, requires_grad=True)
    y = F.max_pool2d(t, 3, stride=1)
    np.testing.assert_array_equal(y.data, np.full((1, 1, 2, 2), 9.0))
    y.backward(np.array([[[[1.0, 2.0], [3.0, 4.0]]]]))
    expected = np.zeros((4, 4))
    expected[1, 2] = 10.0
    np.testing.assert_array_equal(t.grad[0, 0], expected)


# -- finite differences (float64, always) -------------------------------------------------------

CONV_CASES = [  # (N, C, H, W), (O, kH, kW), stride, padding, dilation
    ((2, 3, 5, 6), (4, 3, 3), 1, 0, 1),
    ((1, 1, 6, 5), (2, 2, 3), 2, 1, 1),
    ((2, 2, 7, 7), (3, 3, 2), (2, 1), (1, 2), (2, 1)),
    ((1, 3, 5, 5), (2, 2, 2), 1, "same", 1),
    ((2, 1, 4, 5), (1, 3, 3), 3, 1, 1),
]


@pytest.mark.parametrize("xshape,wshape,stride,padding,dilation", CONV_CASES)
def test_conv2d_gradients_match_central_differences(xshape, wshape, stride, padding, dilation):
    rng = np.random.default_rng(1)
    o, kh, kw = wshape
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((o, xshape[1], kh, kw))
    b = rng.standard_normal(o)
    f = conv_fn(stride, padding, dilation)
    y0 = f(x, w, b)
    g = rng.standard_normal(y0.shape)
    _, gx, gw, gb = run_conv(x, w, b, g, stride=stride, padding=padding, dilation=dilation)
    nx, nw, nb = numeric_grad(f, [x, w, b], g)
    np.testing.assert_allclose(gx, nx, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gw, nw, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(gb, nb, rtol=1e-6, atol=1e-7)


POOL_CASES = [  # (N, C, H, W), kernel, stride, padding, dilation
    ((2, 3, 6, 6), 2, None, 0, 1),
    ((1, 2, 7, 5), 3, 2, 1, 1),
    ((2, 1, 5, 6), (2, 3), (1, 2), (1, 1), 1),
    ((1, 2, 7, 7), 2, 1, 0, 2),
]


@pytest.mark.parametrize("xshape,kernel,stride,padding,dilation", POOL_CASES)
def test_max_pool2d_gradient_matches_central_differences(xshape, kernel, stride, padding, dilation):
    rng = np.random.default_rng(2)
    x = rng.permutation(np.prod(xshape)).reshape(xshape) / 7.0  # distinct values: no ties, no kinks
    t = Tensor(x, requires_grad=True)
    y = F.max_pool2d(t, kernel, stride, padding, dilation)
    g = rng.standard_normal(y.shape)
    y.backward(g)

    def f(a):
        with no_grad():
            return F.max_pool2d(Tensor(a), kernel, stride, padding, dilation).data

    (num,) = numeric_grad(f, [x], g, h=1e-4)  # values are ≥ 1/7 apart: the max never changes within h
    np.testing.assert_allclose(t.grad, num, rtol=1e-7, atol=1e-9)


def test_gradcheck_passes_on_a_conv_pool_graph():
    rng = np.random.default_rng(3)
    x = Tensor(rng.standard_normal((2, 2, 6, 6)), requires_grad=True)
    w = Tensor(rng.standard_normal((3, 2, 3, 3)), requires_grad=True)
    b = Tensor(rng.standard_normal(3), requires_grad=True)
    report = autograd.gradcheck(lambda x, w, b: F.max_pool2d(F.conv2d(x, w, b, padding=1), 2), [x, w, b])
    assert report.ok


# -- against PyTorch ----------------------------------------------------------------------------

TORCH_CONV_GRID = [  # (N, C, H, W), (O, kH, kW), stride, padding, dilation, bias
    ((1, 1, 5, 5), (1, 3, 3), 1, 0, 1, True),
    ((1, 3, 8, 8), (4, 3, 3), 1, 1, 1, True),
    ((3, 3, 7, 9), (5, 2, 4), 1, 0, 1, False),
    ((2, 1, 9, 8), (6, 3, 3), 2, 1, 1, True),
    ((2, 3, 10, 7), (2, 5, 3), (2, 3), (2, 1), 1, True),
    ((2, 2, 11, 11), (3, 3, 3), 1, 2, 2, True),
    ((1, 3, 12, 9), (4, 3, 2), (3, 2), 0, (1, 2), False),
    ((2, 3, 6, 7), (2, 3, 3), 1, "same", 1, True),
    ((2, 3, 6, 7), (2, 2, 4), 1, "same", 1, True),  # even kernel: the extra row/column goes bottom/right
    ((2, 1, 6, 6), (3, 3, 3), 1, "valid", 1, True),
    ((1, 1, 3, 3), (1, 3, 3), 1, 0, 1, True),  # a single output pixel
    ((4, 1, 28, 28), (8, 5, 5), 1, 2, 1, True),  # LeNet's first layer
]


@pytest.mark.parametrize("xshape,wshape,stride,padding,dilation,bias", TORCH_CONV_GRID)
def test_conv2d_forward_and_gradients_match_torch(xshape, wshape, stride, padding, dilation, bias):
    torch = torch_or_skip()
    rng = np.random.default_rng(4)
    o, kh, kw = wshape
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((o, xshape[1], kh, kw))
    b = rng.standard_normal(o) if bias else None
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that an even kernel with padding="same" copies the input
        ty = torch.nn.functional.conv2d(tx, tw, tb, stride, padding, dilation)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    y, gx, gw, gb = run_conv(x, w, b, g, stride=stride, padding=padding, dilation=dilation)
    assert y.shape == tuple(ty.shape)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gx, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(gw, tw.grad.numpy(), rtol=1e-12, atol=1e-11)
    if bias:
        np.testing.assert_allclose(gb, tb.grad.numpy(), rtol=1e-12, atol=1e-11)


TORCH_POOL_GRID = [  # (N, C, H, W), kernel, stride, padding, dilation
    ((1, 1, 4, 4), 2, None, 0, 1),
    ((2, 3, 7, 9), 2, None, 0, 1),  # odd sizes: the last row/column is dropped
    ((2, 3, 7, 9), 3, 2, 1, 1),
    ((1, 2, 8, 8), 3, 1, 1, 1),  # overlapping windows
    ((2, 1, 9, 10), (2, 3), (3, 2), (1, 1), 1),
    ((1, 3, 10, 10), 3, 2, 0, 2),
    ((3, 1, 5, 5), 5, None, 2, 1),
]


@pytest.mark.parametrize("xshape,kernel,stride,padding,dilation", TORCH_POOL_GRID)
def test_max_pool2d_forward_and_gradient_match_torch(xshape, kernel, stride, padding, dilation):
    torch = torch_or_skip()
    rng = np.random.default_rng(5)
    x = rng.standard_normal(xshape)
    x.flat[::3] = np.round(x.flat[::3])  # some ties: equal maxima in a window go to the first, in both
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.max_pool2d(tx, kernel, stride, padding, dilation)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    t = Tensor(x, requires_grad=True)
    y = F.max_pool2d(t, kernel, stride, padding, dilation)
    y.backward(g)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    np.testing.assert_allclose(t.grad, tx.grad.numpy(), rtol=1e-15, atol=0)


def test_float32_stays_float32_and_matches_torch():
    torch = torch_or_skip()
    rng = np.random.default_rng(6)
    x = rng.standard_normal((3, 2, 9, 9)).astype(np.float32)
    w = rng.standard_normal((4, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(4).astype(np.float32)
    X, W, B = (Tensor(a, requires_grad=True) for a in (x, w, b))
    y = F.max_pool2d(F.conv2d(X, W, B, padding=1), 2)
    y.sum().backward()
    assert y.dtype == np.float32
    assert X.grad.dtype == W.grad.dtype == B.grad.dtype == np.float32
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.max_pool2d(torch.nn.functional.conv2d(tx, tw, tb, padding=1), 2)
    ty.sum().backward()
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(W.grad, tw.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-4, atol=1e-5)


# -- API details --------------------------------------------------------------------------------


def test_unbatched_chw_input_gives_unbatched_output_and_gradients():
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 6, 5))
    w = rng.standard_normal((3, 2, 3, 3))
    X = Tensor(x, requires_grad=True)
    y = F.max_pool2d(F.conv2d(X, Tensor(w), padding=1), 2)
    assert y.shape == (3, 3, 2)
    y.sum().backward()
    assert X.grad.shape == (2, 6, 5)
    batched = Tensor(x[None], requires_grad=True)
    F.max_pool2d(F.conv2d(batched, Tensor(w), padding=1), 2).sum().backward()
    np.testing.assert_allclose(y.data, F.max_pool2d(F.conv2d(Tensor(x[None]), Tensor(w), padding=1), 2).data[0])
    np.testing.assert_allclose(X.grad, batched.grad[0])


def test_non_contiguous_inputs_give_the_same_results():
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 2, 7, 7))
    w = rng.standard_normal((4, 2, 3, 3))
    xt = np.ascontiguousarray(x.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3)  # same values, C-major memory
    assert not xt.flags.c_contiguous
    a = F.max_pool2d(F.conv2d(Tensor(x), Tensor(w), stride=2, padding=1), 2, 1)
    b = F.max_pool2d(F.conv2d(Tensor(xt), Tensor(w), stride=2, padding=1), 2, 1)
    np.testing.assert_array_equal(a.data, b.data)


def test_gradients_do_not_depend_on_the_memory_order_of_the_incoming_gradient():
    rng = np.random.default_rng(17)
    x = rng.standard_normal((3, 2, 6, 6))
    w = rng.standard_normal((4, 2, 3, 3))
    b = rng.standard_normal(4)
    g = rng.standard_normal((3, 4, 3, 3))
    orders = {"batch-major": g, "channel-major": np.ascontiguousarray(g.transpose(1, 0, 2, 3)).transpose(1, 0, 2, 3),
              "batch-innermost": np.ascontiguousarray(g.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)}
    grads = {}
    for name, gi in orders.items():
        X, W, B = (Tensor(a, requires_grad=True) for a in (x, w, b))
        F.max_pool2d(F.conv2d(X, W, B, padding=1), 2).backward(gi)
        grads[name] = (X.grad, W.grad, B.grad)
    for name in orders:
        for got, want in zip(grads[name], grads["batch-major"]):
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12, err_msg=name)


@pytest.mark.parametrize("needs", [(True, False, False), (False, True, False), (False, False, True),
                                   (False, True, True)])
def test_conv2d_computes_just_the_gradients_asked_for_and_gets_them_right(needs):
    # The weight and bias gradients come out of one GEMM; asking for one of them must still give it right.
    rng = np.random.default_rng(18)
    x, w, b = rng.standard_normal((2, 2, 5, 4)), rng.standard_normal((3, 2, 2, 3)), rng.standard_normal(3)
    X, W, B = (Tensor(a, requires_grad=r) for a, r in zip((x, w, b), needs))
    y = F.conv2d(X, W, B, stride=(1, 2), padding=1)
    g = rng.standard_normal(y.shape)
    y.backward(g)
    expected = numeric_grad(conv_fn((1, 2), 1), [x, w, b], g)
    for t, r, num in zip((X, W, B), needs, expected):
        if r:
            np.testing.assert_allclose(t.grad, num, rtol=1e-6, atol=1e-7)
        else:
            assert t.grad is None


def test_pool_without_grad_gives_the_same_values():
    rng = np.random.default_rng(9)
    x = Tensor(rng.standard_normal((2, 3, 9, 8)), requires_grad=True)
    y = F.max_pool2d(x, 3, 2, 1)
    with no_grad():
        z = F.max_pool2d(x, 3, 2, 1)
    assert y.requires_grad and not z.requires_grad
    np.testing.assert_array_equal(y.data, z.data)


def test_a_nan_in_a_window_makes_its_maximum_nan():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    x[0, 0, 0, 1] = np.nan
    y = F.max_pool2d(Tensor(x, requires_grad=True), 2)
    assert np.isnan(y.data[0, 0, 0, 0])
    np.testing.assert_array_equal(y.data[0, 0].ravel()[1:], [7.0, 13.0, 15.0])


def test_output_sizes_follow_torch_formula():
    x = Tensor(np.zeros((1, 1, 28, 28), np.float32))
    w = Tensor(np.zeros((6, 1, 5, 5), np.float32))
    assert F.conv2d(x, w).shape == (1, 6, 24, 24)
    assert F.conv2d(x, w, padding=2).shape == (1, 6, 28, 28)
    assert F.conv2d(x, w, stride=2).shape == (1, 6, 12, 12)  # ⌊(28 − 5)/2⌋ + 1
    assert F.conv2d(x, w, padding="same").shape == (1, 6, 28, 28)
    assert F.max_pool2d(x, 2).shape == (1, 1, 14, 14)
    assert F.max_pool2d(x, 3).shape == (1, 1, 9, 9)
    assert F.max_pool2d(x, 3, stride=2, padding=1).shape == (1, 1, 14, 14)


@pytest.mark.parametrize(
    "call, error, words",
    [
        (lambda: F.conv2d(np.zeros((1, 3, 5, 5)), np.zeros((2, 1, 3, 3))), ValueError,
         ["(1, 3, 5, 5)", "3 channels", "(2, 1, 3, 3)", "expects 1"]),
        (lambda: F.conv2d(np.zeros((5, 5)), np.zeros((2, 1, 3, 3))), ValueError, ["4-D", "(5, 5)"]),
        (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 3, 3))), ValueError, ["weight", "4-D", "(2, 3, 3)"]),
        (lambda: F.conv2d(np.zeros((1, 1, 2, 2)), np.zeros((1, 1, 3, 3))), ValueError, ["3×3", "larger", "2×2"]),
        (lambda: F.conv2d(np.zeros((1, 1, 5, 5), np.float32), np.zeros((1, 1, 3, 3))), TypeError,
         ["float32", "float64"]),
        (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), np.zeros(3)), ValueError,
         ["bias", "(2,)", "(3,)"]),
        (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), stride=0), ValueError, ["stride", ">= 1"]),
        (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), padding="full"), ValueError,
         ["'valid'", "'same'", "'full'"]),
        (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), stride=2, padding="same"), ValueError,
         ["same", "stride 1"]),
        (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((2, 1, 3, 3)), groups=2), ValueError,
         ["4 channels", "groups=2", "expects 2"]),
        (lambda: F.conv2d(np.zeros((1, 4, 5, 5)), np.zeros((3, 2, 3, 3)), groups=2), ValueError,
         ["groups=2", "divide", "3 output channels"]),
        (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), groups=True), TypeError, ["groups", "True"]),
        (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), groups=1.0), TypeError, ["groups", "1.0"]),
        (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), groups=0), ValueError, ["groups", ">= 1"]),
        (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), stride=1.0), TypeError, ["stride", "1.0"]),
        (lambda: F.conv2d(np.zeros((1, 1, 5, 5)), np.zeros((2, 1, 3, 3)), padding=(1, 1, 1)), TypeError,
         ["padding", "(1, 1, 1)"]),
        (lambda: F.max_pool2d(np.zeros((1, 1, 5, 5)), 2, padding=2), ValueError, ["padding", "half"]),
        (lambda: F.max_pool2d(np.zeros((1, 1, 2, 2)), 3), ValueError, ["larger", "(1, 1, 2, 2)"]),
        (lambda: F.max_pool2d(np.zeros((1, 1, 4, 4), bool), 2), TypeError, ["floating point or integer", "bool"]),
        (lambda: F.max_pool2d(np.zeros((1, 1, 4, 4)), 2.5), TypeError, ["kernel_size", "2.5"]),
        # The modules check at construction, not at the first forward.
        (lambda: nn.Conv2d("1", 2, 3), TypeError, ["Conv2d", "ints", "in_channels='1'"]),
        (lambda: nn.Conv2d(1, 2.0, 3), TypeError, ["Conv2d", "ints", "out_channels=2.0"]),
        (lambda: nn.Conv2d(1, 2, 3, padding="full"), ValueError, ["'valid'", "'same'", "'full'"]),
        (lambda: nn.Conv2d(1, 2, 3, stride=2, padding="same"), ValueError, ["same", "stride 1"]),
        (lambda: nn.MaxPool2d(2, padding=-1), ValueError, ["MaxPool2d", "padding", ">= 0"]),
        (lambda: nn.MaxPool2d(2, dilation=0), ValueError, ["MaxPool2d", "dilation", ">= 1"]),
        (lambda: nn.Conv2d(4, 4, 3, groups=True), TypeError, ["Conv2d", "groups", "True"]),
        (lambda: nn.Conv2d(4, 4, 3, groups=1.0), TypeError, ["Conv2d", "groups", "1.0"]),
        (lambda: nn.Conv2d(4, 4, 3, groups=0), ValueError, ["Conv2d", "groups", ">= 1"]),
        (lambda: nn.Conv2d(4, 6, 3, groups=4), ValueError, ["groups=4", "in_channels=4", "out_channels=6"]),
        (lambda: nn.Conv2d(4, 4, 3, padding_mode="mirror"), ValueError, ["padding_mode", "'reflect'", "'mirror'"]),
        (lambda: nn.Conv2d(4, 4, 3, device="cuda"), ValueError, ["CPU"]),
        (lambda: nn.Conv2d(4, 4, 3, dtype=np.int64), TypeError, ["dtype", "floating", "int64"]),
    ],
)
def test_errors_name_the_problem(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# -- modules ------------------------------------------------------------------------------------


def test_conv2d_module_shapes_keys_and_pytorch_init_bounds():
    rng = np.random.default_rng(10)
    conv = nn.Conv2d(3, 16, 5, padding=2, rng=rng)
    assert conv.weight.shape == (16, 3, 5, 5) and conv.bias.shape == (16,)
    assert conv.weight.dtype == np.float32 and conv.bias.dtype == np.float32
    assert list(conv.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(3 * 5 * 5)  # kaiming_uniform(a=√5) gives U(−1/√fan_in, 1/√fan_in)
    for p in (conv.weight, conv.bias):
        assert np.abs(p.data).max() <= bound
        assert np.abs(p.data).max() > 0.9 * bound  # uses the whole range
    assert abs(conv.weight.data.std() - bound / math.sqrt(3)) < 0.1 * bound  # U(−a, a) has std a/√3
    assert nn.Conv2d(3, 16, 5, bias=False).bias is None
    assert nn.Conv2d(3, 16, 5, bias=False).parameters()[0].shape == (16, 3, 5, 5)


def test_conv2d_module_weights_load_into_torch_unchanged_and_back():
    torch = torch_or_skip()
    ours = nn.Conv2d(3, 8, (3, 2), stride=(2, 1), padding=1, rng=np.random.default_rng(11))
    theirs = torch.nn.Conv2d(3, 8, (3, 2), stride=(2, 1), padding=1)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(12).standard_normal((2, 3, 9, 8)).astype(np.float32)
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)
    fresh = torch.nn.Conv2d(3, 8, (3, 2), stride=(2, 1), padding=1)
    back = nn.Conv2d(3, 8, (3, 2), stride=(2, 1), padding=1)
    back.load_state_dict({k: v.detach().numpy() for k, v in fresh.state_dict().items()})
    np.testing.assert_allclose(back(Tensor(x)).data, fresh(torch.from_numpy(x)).detach().numpy(), rtol=1e-5, atol=1e-6)


def test_torch_init_has_the_same_bounds_as_ours():
    torch = torch_or_skip()
    torch.manual_seed(0)
    theirs = torch.nn.Conv2d(4, 64, 3)
    bound = 1 / math.sqrt(4 * 3 * 3)
    assert theirs.weight.abs().max().item() <= bound and theirs.bias.abs().max().item() <= bound
    assert theirs.weight.abs().max().item() > 0.9 * bound


def test_module_reprs_read_like_torch():
    assert repr(nn.Conv2d(1, 32, 3, padding=1)) == "Conv2d(1, 32, kernel_size=(3, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(nn.Conv2d(3, 8, 5, stride=2, bias=False)) == (
        "Conv2d(3, 8, kernel_size=(5, 5), stride=(2, 2), bias=False)")
    assert repr(nn.Conv2d(4, 8, 3, groups=2, padding="same", padding_mode="circular")) == (
        "Conv2d(4, 8, kernel_size=(3, 3), stride=(1, 1), padding=same, groups=2, padding_mode=circular)")
    assert repr(nn.MaxPool2d(2)) == "MaxPool2d(kernel_size=2, stride=2, padding=0, dilation=1, ceil_mode=False)"
    assert repr(nn.Flatten()) == "Flatten(start_dim=1, end_dim=-1)"


def test_a_small_cnn_runs_end_to_end_and_flatten_keeps_the_batch():
    rng = np.random.default_rng(13)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=rng), nn.MaxPool2d(2), nn.ReLU(),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 3, rng=rng))
    x = Tensor(rng.standard_normal((5, 1, 8, 8)).astype(np.float32))
    logits = model(x)
    assert logits.shape == (5, 3)
    F.cross_entropy(logits, np.array([0, 1, 2, 0, 1])).backward()
    assert [n for n, _ in model.named_parameters()] == ["0.weight", "0.bias", "4.weight", "4.bias"]
    assert all(p.grad is not None and p.grad.shape == p.shape for p in model.parameters())
    assert nn.Flatten(0)(Tensor(np.zeros((2, 3, 4)))).shape == (24,)


def test_conv2d_module_refuses_float64_input_and_says_how_to_convert():
    with pytest.raises(TypeError, match=r"expected float32 input for Conv2d\(1→4\), got float64; convert with x.float"):
        nn.Conv2d(1, 4, 3)(Tensor(np.zeros((1, 1, 5, 5))))


# -- checking tools -----------------------------------------------------------------------------


def test_audit_checks_conv_and_pool_nodes_and_finds_them_right():
    rng = np.random.default_rng(14)
    x = Tensor(rng.standard_normal((2, 2, 6, 6)).astype(np.float32))
    w = Tensor(rng.standard_normal((3, 2, 3, 3)).astype(np.float32), requires_grad=True)
    b = Tensor(rng.standard_normal(3).astype(np.float32), requires_grad=True)
    report = autograd.audit(lambda: F.max_pool2d(F.conv2d(x, w, b, stride=1, padding=1), 2, 2).sum())
    statuses = {r.op: r.status for r in report.rows}
    assert statuses["conv2d"] == "ok" and statuses["max_pool2d"] == "ok", str(report)
    assert report.ok


def test_audit_also_checks_the_input_gradient_of_a_strided_padded_conv():
    rng = np.random.default_rng(15)
    x = Tensor(rng.standard_normal((1, 2, 7, 6)), requires_grad=True)
    w = Tensor(rng.standard_normal((2, 2, 3, 2)), requires_grad=True)
    report = autograd.audit(lambda: (F.conv2d(x, w, None, (2, 1), (1, 0)) ** 2).sum())
    row = next(r for r in report.rows if r.op == "conv2d")
    assert row.status == "ok" and len(row.checks) == 2, str(report)


def test_draw_dot_names_the_conv_module_and_shows_kernel_stride_padding_and_local_rules():
    rng = np.random.default_rng(16)
    model = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1, rng=rng), nn.MaxPool2d(2), nn.ReLU(),
                          nn.Flatten(), nn.Linear(4 * 4 * 4, 3, rng=rng))
    loss = F.cross_entropy(model(Tensor(rng.standard_normal((2, 1, 8, 8)).astype(np.float32))), np.array([0, 2]))
    loss.backward()
    source = autograd.draw_dot(loss, show_local=True).source
    assert "0: Conv2d(1→4, 3×3)" in source
    assert "conv2d 3×3, stride 1, pad 1" in source
    assert "max_pool2d 2×2, stride 2" in source
    assert "g to each window&#x27;s max (2, 4, 8, 8)" in source or "g to each window's max (2, 4, 8, 8)" in source
    assert "(correlation) (4, 1, 3, 3)" in source
    assert "?" not in source.split("edge labels")[-1].replace("?xml", "")  # every edge has a rule


def test_local_rules_name_the_full_convolution_and_the_correlation():
    from autograd.viz.local_rules import tensor_rule

    x = Tensor(np.ones((1, 2, 5, 5)), requires_grad=True)
    w = Tensor(np.ones((3, 2, 3, 3)), requires_grad=True, label="weight")
    b = Tensor(np.ones(3), requires_grad=True)
    y = F.conv2d(x, w, b, stride=2)
    assert [tensor_rule(y, k) for k in range(3)] == [
        "g ⊛ flip(weight) (full conv)", "x ⋆ g (correlation)", "Σ g over n, p, q"]


# -- groups (grouped and depthwise convolutions) ------------------------------------------------------

GROUP_CASES = [  # (N, C, H, W), (O, kH, kW), stride, padding, dilation, groups, bias
    ((2, 4, 6, 5), (6, 3, 3), 1, 1, 1, 2, True),
    ((1, 6, 7, 7), (6, 3, 3), 1, 1, 1, 6, True),  # depthwise
    ((2, 3, 6, 6), (6, 3, 2), (2, 1), (1, 0), 1, 3, False),  # depthwise, two filters per channel
    ((2, 6, 9, 8), (4, 2, 3), 2, "same" if False else 2, (2, 1), 2, True),
    ((1, 4, 6, 7), (8, 2, 4), 1, "same", 1, 4, True),  # an even kernel's 'same': the extra row goes bottom/right
]


@pytest.mark.parametrize("xshape,wshape,stride,padding,dilation,groups,bias", GROUP_CASES)
def test_grouped_conv2d_gradients_match_central_differences(xshape, wshape, stride, padding, dilation, groups, bias):
    rng = np.random.default_rng(30)
    o, kh, kw = wshape
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((o, xshape[1] // groups, kh, kw))
    b = rng.standard_normal(o) if bias else None

    def f(*arrays):
        with no_grad():
            return F.conv2d(*map(Tensor, arrays[:2]), None if b is None else Tensor(arrays[2]), stride, padding,
                            dilation, groups).data

    g = rng.standard_normal(f(x, w, b).shape)
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    B = None if b is None else Tensor(b, requires_grad=True)
    F.conv2d(X, W, B, stride, padding, dilation, groups).backward(g)
    expected = numeric_grad(f, [x, w] + ([b] if bias else []), g)
    for got, want in zip([X.grad, W.grad] + ([B.grad] if bias else []), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("xshape,wshape,stride,padding,dilation,groups,bias", [
    *GROUP_CASES,
    ((2, 8, 10, 10), (16, 3, 3), 1, 1, 1, 8, True),  # a MobileNet-style depthwise layer, channel multiplier 2
    ((3, 6, 5, 5), (6, 1, 1), 1, 0, 1, 3, True),  # grouped 1×1 (ShuffleNet's pointwise)
])
def test_grouped_conv2d_forward_and_gradients_match_torch(xshape, wshape, stride, padding, dilation, groups, bias):
    torch = torch_or_skip()
    rng = np.random.default_rng(31)
    o, kh, kw = wshape
    x = rng.standard_normal(xshape)
    w = rng.standard_normal((o, xshape[1] // groups, kh, kw))
    b = rng.standard_normal(o) if bias else None
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True) if bias else None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ty = torch.nn.functional.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    X, W = Tensor(x, requires_grad=True), Tensor(w, requires_grad=True)
    B = None if b is None else Tensor(b, requires_grad=True)
    y = F.conv2d(X, W, B, stride, padding, dilation, groups)
    y.backward(g)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(W.grad, tw.grad.numpy(), rtol=1e-12, atol=1e-11)
    if bias:
        np.testing.assert_allclose(B.grad, tb.grad.numpy(), rtol=1e-12, atol=1e-11)


def test_a_depthwise_conv_keeps_channels_apart():
    # groups = C: output channel c sees input channel c alone. Zero every channel but one: only its output moves.
    rng = np.random.default_rng(32)
    w = Tensor(rng.standard_normal((3, 1, 3, 3)))
    x = np.zeros((1, 3, 5, 5))
    x[0, 1] = rng.standard_normal((5, 5))
    y = F.conv2d(Tensor(x), w, None, padding=1, groups=3).data
    assert np.all(y[0, [0, 2]] == 0) and np.any(y[0, 1] != 0)
    alone = F.conv2d(Tensor(x[:, 1:2]), Tensor(w.data[1:2]), None, padding=1).data
    np.testing.assert_allclose(y[0, 1], alone[0, 0], rtol=1e-12)


def test_grouped_conv2d_module_keys_shapes_and_init_as_torch():
    torch = torch_or_skip()
    ours = nn.Conv2d(6, 4, 3, 2, 1, 1, 2, rng=np.random.default_rng(33))
    assert ours.weight.shape == (4, 3, 3, 3) and list(ours.state_dict()) == ["weight", "bias"]
    bound = 1 / math.sqrt(3 * 3 * 3)  # fan_in counts one group's input channels
    assert bound * 0.9 < np.abs(ours.weight.data).max() <= bound
    theirs = torch.nn.Conv2d(6, 4, 3, 2, 1, 1, 2)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(34).standard_normal((2, 6, 7, 7)).astype(np.float32)
    np.testing.assert_allclose(ours(Tensor(x)).data, theirs(torch.from_numpy(x)).detach().numpy(), rtol=1e-5,
                               atol=1e-6)


# -- padding modes and F.pad --------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("widths", [(1, 1, 1, 1), (2, 0, 1, 3), (0, 3, 2, 2), (2, 1)])
def test_pad_matches_torch_forward_and_gradient(mode, widths):
    torch = torch_or_skip()
    rng = np.random.default_rng(35)
    x = rng.standard_normal((2, 3, 4, 5) if len(widths) == 4 else (3, 4, 5))  # PyTorch's shapes for each
    tx = torch.tensor(x, requires_grad=True)
    ty = torch.nn.functional.pad(tx, widths, mode)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    X = Tensor(x, requires_grad=True)
    y = F.pad(X, widths, mode)
    y.backward(g)
    np.testing.assert_array_equal(y.data, ty.detach().numpy())
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-14, atol=1e-14)


def test_pad_by_hand_on_one_row():
    row = Tensor(np.array([[[1.0, 2.0, 3.0]]]))
    assert F.pad(row, (1, 1)).data.tolist() == [[[0, 1, 2, 3, 0]]]
    assert F.pad(row, (1, 1), value=7.0).data.tolist() == [[[7, 1, 2, 3, 7]]]
    assert F.pad(row, (2, 2), "reflect").data.tolist() == [[[3, 2, 1, 2, 3, 2, 1]]]
    assert F.pad(row, (2, 1), "replicate").data.tolist() == [[[1, 1, 1, 2, 3, 3]]]
    assert F.pad(row, (3, 2), "circular").data.tolist() == [[[1, 2, 3, 1, 2, 3, 1, 2]]]
    # replicate: the edge pixel was copied three times, so it collects three gradients
    x = Tensor(np.array([[[1.0, 2.0, 3.0]]]), requires_grad=True)
    F.pad(x, (2, 0), "replicate").sum().backward()
    assert x.grad.tolist() == [[[3, 1, 1]]]


@pytest.mark.parametrize("padding_mode", ["zeros", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("padding,stride,groups", [(1, 1, 1), ((2, 1), (1, 2), 2), ("same", 1, 4)])
def test_conv2d_padding_modes_match_torch_in_positional_order(padding_mode, padding, stride, groups):
    torch = torch_or_skip()
    rng = np.random.default_rng(36)
    # PyTorch's positional order: in, out, kernel, stride, padding, dilation, groups, bias, padding_mode
    ours = nn.Conv2d(4, 4, 3, stride, padding, 1, groups, True, padding_mode, rng=rng)
    theirs = torch.nn.Conv2d(4, 4, 3, stride, padding, 1, groups, True, padding_mode).double()
    ours.load_state_dict({k: v.astype(np.float32) for k, v in
                          {k: v.detach().numpy() for k, v in theirs.state_dict().items()}.items()})
    ours.weight.data, ours.bias.data = ours.weight.data.astype(np.float64), ours.bias.data.astype(np.float64)
    x = rng.standard_normal((2, 4, 6, 7))
    tx = torch.tensor(x, requires_grad=True)
    X = Tensor(x, requires_grad=True)
    ty, y = theirs(tx), ours(X)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    y.backward(g)
    np.testing.assert_allclose(y.data, ty.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X.grad, tx.grad.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(ours.weight.grad, theirs.weight.grad.numpy(), rtol=1e-12, atol=1e-11)


def test_the_issue_s_positional_conv2d_runs_and_reflects():
    conv = nn.Conv2d(4, 4, 3, 1, 1, 1, 1, True, "reflect")  # was: AttributeError, 'str' object has no 'uniform'
    assert conv.padding_mode == "reflect" and conv.bias is not None
    x = Tensor(np.ones((1, 4, 5, 5), np.float32))
    # A constant image reflected is still constant, so every output pixel sees the same window (zeros would not).
    y = conv(x).data
    np.testing.assert_allclose(y, np.broadcast_to(y[:, :, :1, :1], y.shape), rtol=1e-6)


@pytest.mark.parametrize("call, words", [
    (lambda: F.pad(np.zeros((1, 1, 3, 3)), (3, 0, 0, 0), "reflect"), ["reflect", "smaller", "width 3", "(3, 0)"]),
    (lambda: F.pad(np.zeros((1, 1, 3, 3)), (0, 0, 4, 0), "circular"), ["circular", "once", "height is 3"]),
    (lambda: F.pad(np.zeros((1, 1, 3, 3)), (1, 1, 1), "constant"), ["(left, right)", "(1, 1, 1)"]),
    (lambda: F.pad(np.zeros((1, 1, 3, 3)), (1, 1), "wrap"), ["mode", "'circular'", "'wrap'"]),
    (lambda: F.pad(np.zeros((1, 1, 3, 3)), (-1, 1)), ["negative", "(-1, 1)"]),
    (lambda: F.pad(np.zeros((3, 3)), (1, 1, 1, 1), "reflect"), ["reflect", "3-D or 4-D", "(3, 3)"]),
    (lambda: F.pad(np.zeros((1, 1, 3, 3)), (1, 1), "reflect"), ["reflect", "2-D or 3-D", "(1, 1, 3, 3)"]),
])
def test_pad_errors_name_the_problem(call, words):
    with pytest.raises(ValueError) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


# -- unfold / fold ------------------------------------------------------------------------------------

UNFOLD_CASES = [  # (N, C, H, W), kernel, dilation, padding, stride
    ((2, 3, 5, 6), 2, 1, 0, 1),
    ((1, 2, 7, 6), (3, 2), (1, 2), (1, 0), (2, 1)),
    ((2, 1, 6, 6), 3, 2, 2, 3),
]


@pytest.mark.parametrize("xshape,kernel,dilation,padding,stride", UNFOLD_CASES)
def test_unfold_and_fold_match_torch_and_are_each_others_transpose(xshape, kernel, dilation, padding, stride):
    torch = torch_or_skip()
    rng = np.random.default_rng(37)
    x = rng.standard_normal(xshape)
    X = Tensor(x, requires_grad=True)
    cols = F.unfold(X, kernel, dilation, padding, stride)
    tcols = torch.nn.functional.unfold(torch.tensor(x), kernel, dilation, padding, stride)
    np.testing.assert_array_equal(cols.data, tcols.numpy())
    c = rng.standard_normal(cols.shape)
    C = Tensor(c, requires_grad=True)
    img = F.fold(C, xshape[2:], kernel, dilation, padding, stride)
    timg = torch.nn.functional.fold(torch.tensor(c), xshape[2:], kernel, dilation, padding, stride)
    np.testing.assert_allclose(img.data, timg.numpy(), rtol=1e-14, atol=1e-14)
    # Transposes: ⟨unfold(x), c⟩ = ⟨x, fold(c)⟩; and each one's gradient is the other applied to g.
    assert np.isclose(np.vdot(cols.data, c), np.vdot(x, img.data), rtol=1e-12)
    cols.backward(c)
    np.testing.assert_allclose(X.grad, img.data, rtol=1e-14)
    img.backward(x)
    np.testing.assert_allclose(C.grad, cols.data, rtol=1e-14)


def test_unfold_gradient_matches_central_differences():
    rng = np.random.default_rng(38)
    x = rng.standard_normal((1, 2, 4, 5))
    X = Tensor(x, requires_grad=True)
    y = F.unfold(X, (2, 3), 1, 1, (2, 1))
    g = rng.standard_normal(y.shape)
    y.backward(g)

    def f(a):
        with no_grad():
            return F.unfold(Tensor(a), (2, 3), 1, 1, (2, 1)).data

    np.testing.assert_allclose(X.grad, numeric_grad(f, [x], g)[0], rtol=1e-7, atol=1e-8)


def test_unfold_matmul_fold_is_conv2d():
    # The identity the double-backward rule rests on: conv2d(x, W) = W₂ · unfold(x), reshaped.
    rng = np.random.default_rng(39)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 3, 2))
    cols = F.unfold(Tensor(x), (3, 2), 1, 1, 1)  # (N, C·kH·kW, L)
    y = (Tensor(w.reshape(4, -1)) @ cols).reshape(2, 4, 6, 6)
    np.testing.assert_allclose(y.data, F.conv2d(Tensor(x), Tensor(w), None, 1, 1).data, rtol=1e-12, atol=1e-12)


def test_fold_refuses_columns_that_do_not_fit():
    with pytest.raises(ValueError, match=r"fold: input \(1, 7, 4\) does not fit 2×2 windows over \(3, 3\)"):
        F.fold(np.zeros((1, 7, 4)), (3, 3), 2)


def test_audit_checks_unfold_fold_pad_and_grouped_conv():
    rng = np.random.default_rng(40)
    x = Tensor(rng.standard_normal((2, 4, 5, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 2, 3, 3)), requires_grad=True)

    def f():
        y = F.conv2d(F.pad(x, (1, 1, 2, 0), "reflect"), w, None, 1, 0, 1, 2)
        return (F.fold(F.unfold(y, 2), y.shape[2:], 2) ** 2).sum()

    report = autograd.audit(f)
    statuses = {r.op: r.status for r in report.rows}
    assert all(statuses[op] == "ok" for op in ("conv2d", "pad", "unfold", "fold")), str(report)


# Each strategy of conv2d (banded GEMMs, a 1×1 conv's single GEMM, a depthwise conv's einsum) on inputs and
# gradients in either memory order (batch-major as given, or this library's batch-innermost), batched or not.
STRATEGY_CASES = {
    "1×1 pointwise": ((2, 5, 4, 6), (3, 5, 1, 1), 1, 0, 1, 1),
    "1×1 strided (banded)": ((2, 5, 5, 6), (3, 5, 1, 1), 2, 0, 1, 1),
    "depthwise, full correlation": ((2, 4, 6, 5), (8, 1, 3, 3), 1, 1, 2, 4),
    "depthwise, padding beyond the kernel": ((1, 3, 5, 6), (3, 1, 3, 2), 1, (5, 1), (2, 1), 3),
    "depthwise, strided": ((2, 3, 7, 6), (3, 1, 3, 3), (2, 3), 1, 1, 3),
}


@pytest.mark.parametrize("case", sorted(STRATEGY_CASES))
@pytest.mark.parametrize("layout", ["batch-major", "batch-innermost", "unbatched"])
def test_every_conv_strategy_matches_torch_in_every_layout(case, layout):
    torch = torch_or_skip()
    xshape, wshape, stride, padding, dilation, groups = STRATEGY_CASES[case]
    rng = np.random.default_rng(41)
    x, w, b = rng.standard_normal(xshape), rng.standard_normal(wshape), rng.standard_normal(wshape[0])
    if layout == "unbatched":
        x = x[:1]
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ty = torch.nn.functional.conv2d(tx, tw, tb, stride, padding, dilation, groups)
    g = rng.standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))

    def laid_out(a):
        if layout == "unbatched":
            return a[0]
        return a if layout == "batch-major" else np.ascontiguousarray(a.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)

    X, W, B = Tensor(laid_out(x), requires_grad=True), Tensor(w, requires_grad=True), Tensor(b, requires_grad=True)
    y = F.conv2d(X, W, B, stride, padding, dilation, groups)
    y.backward(laid_out(g))
    want = (ty.detach().numpy(), tx.grad.numpy())
    if layout == "unbatched":
        want = tuple(a[0] for a in want)
    np.testing.assert_allclose(y.data, want[0], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(X.grad, want[1], rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(W.grad, tw.grad.numpy(), rtol=1e-12, atol=1e-11)
    np.testing.assert_allclose(B.grad, tb.grad.numpy(), rtol=1e-12, atol=1e-11)


def test_drawings_label_pad_unfold_fold_and_a_grouped_conv():
    rng = np.random.default_rng(42)
    x = Tensor(rng.standard_normal((1, 4, 5, 5)), requires_grad=True)
    w = Tensor(rng.standard_normal((4, 2, 3, 3)), requires_grad=True)
    y = F.conv2d(F.pad(x, (1, 1, 1, 1), "circular"), w, None, 1, 0, 1, 2)
    z = F.fold(F.unfold(y, 2, 1, 0, 1), (5, 5), 2)
    source = autograd.draw_dot((z ** 2).sum(), show_local=True).source
    for text in ("pad circular, (1, 1, 1, 1)", "conv2d 3×3, stride 1, groups 2", "unfold 2×2, stride 1",
                 "fold 2×2, stride 1", "g, its border folded back", "fold(g)", "unfold(g)"):
        assert text in source, text
