"""The pooling family (nn/pooling.py, nn/pool_layers.py) and channel dropout (nn/spatial_dropout.py).

max_pool2d with ceil_mode / return_indices / integer images, max_unpool2d, avg_pool2d (count_include_pad,
ceil_mode, divisor_override), adaptive_avg_pool2d and dropout2d: forward values and gradients against PyTorch
(float64) over a grid, against central finite differences, by hand where a hand can, and through audit.
Second derivatives are in test_conv_second_order.py.
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import torch_or_skip

import autograd
import nn
from autograd import Tensor, no_grad
from nn import functional as F


def numeric_grad(f, x: np.ndarray, g: np.ndarray, h: float = 1e-6) -> np.ndarray:
    """∂⟨g, f(x)⟩/∂x by central differences, element by element (float64)."""
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        old = x[idx]
        x[idx] = old + h
        up = float(np.sum(g * f(x)))
        x[idx] = old - h
        down = float(np.sum(g * f(x)))
        x[idx] = old
        grad[idx] = (up - down) / (2 * h)
    return grad


def against_torch(ours, theirs, x: np.ndarray, seed: int = 0):
    """Run ``ours`` on a Tensor and ``theirs`` on a torch tensor of ``x`` (float64), backward the same random g;
    return (our output, our grad, their output, their grad) as arrays."""
    torch = torch_or_skip()
    tx = torch.tensor(x, requires_grad=True)
    ty = theirs(tx)
    g = np.random.default_rng(seed).standard_normal(tuple(ty.shape))
    ty.backward(torch.tensor(g))
    X = Tensor(x, requires_grad=True)
    y = ours(X)
    y.backward(g)
    return y.data, X.grad, ty.detach().numpy(), tx.grad.numpy()


# -- max_pool2d: ceil_mode, return_indices, integers --------------------------------------------------

MAX_GRID = [  # (N, C, H, W), kernel, stride, padding, dilation, ceil_mode
    ((2, 2, 5, 5), 2, None, 0, 1, True),  # odd size: ceil keeps a last, half-empty window
    ((1, 3, 7, 8), 3, 2, 1, 1, True),
    ((2, 1, 6, 9), (2, 3), (3, 2), (1, 1), 1, True),
    ((1, 2, 9, 9), 3, 2, 1, 2, True),
    ((1, 1, 6, 6), 2, 2, 0, 1, True),  # ceil changes nothing when the windows fit
    ((2, 2, 8, 7), 3, 3, 1, 1, False),
    ((1, 2, 5, 5), 2, 3, 0, 1, True),  # stride > kernel: a last window that would start past the input is dropped
]


@pytest.mark.parametrize("xshape,kernel,stride,padding,dilation,ceil_mode", MAX_GRID)
def test_max_pool2d_ceil_mode_and_indices_match_torch(xshape, kernel, stride, padding, dilation, ceil_mode):
    torch = torch_or_skip()
    x = np.random.default_rng(1).standard_normal(xshape)
    x.flat[::4] = np.round(x.flat[::4])  # ties: the first maximum wins in both
    args = (kernel, stride, padding, dilation, ceil_mode)
    y, gx, ty, tgx = against_torch(lambda t: F.max_pool2d(t, *args),
                                   lambda t: torch.nn.functional.max_pool2d(t, *args), x)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_allclose(gx, tgx, rtol=1e-15, atol=1e-15)  # overlapping windows: sums in another order
    values, indices = F.max_pool2d(Tensor(x), *args, return_indices=True)
    _, tindices = torch.nn.functional.max_pool2d(torch.tensor(x), *args, return_indices=True)
    assert indices.dtype == np.int64
    np.testing.assert_array_equal(indices.data, tindices.numpy())
    np.testing.assert_array_equal(values.data, ty)


def test_ceil_mode_by_hand():
    # 5×5 into 2×2 windows: floor gives 2×2 outputs; ceil adds the partial windows over the last row/column.
    x = Tensor(np.arange(25.0).reshape(1, 1, 5, 5), requires_grad=True)
    assert F.max_pool2d(x, 2).shape == (1, 1, 2, 2)
    y = F.max_pool2d(x, 2, ceil_mode=True)
    np.testing.assert_array_equal(y.data[0, 0], [[6, 8, 9], [16, 18, 19], [21, 23, 24]])
    y.sum().backward()
    expected = np.zeros((5, 5))
    expected[[1, 1, 1, 3, 3, 3, 4, 4, 4], [1, 3, 4, 1, 3, 4, 1, 3, 4]] = 1
    np.testing.assert_array_equal(x.grad[0, 0], expected)


@pytest.mark.parametrize("dtype", [np.int32, np.int64, np.uint8, np.int8])
def test_integer_max_pooling_matches_torch(dtype):
    torch = torch_or_skip()
    x = np.random.default_rng(2).integers(0 if dtype == np.uint8 else -100, 100, (2, 3, 7, 6)).astype(dtype)
    y, i = F.max_pool2d(Tensor(x), 3, 2, 1, 1, True, True)
    ty, ti = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 2, 1, 1, True, True)
    assert y.dtype == dtype and not y.requires_grad
    np.testing.assert_array_equal(y.data, ty.numpy())
    np.testing.assert_array_equal(i.data, ti.numpy())


def test_a_window_of_minus_infinity_points_at_its_first_pixel_inside_as_torch():
    torch = torch_or_skip()
    x = np.full((1, 1, 3, 3), -np.inf)
    x[0, 0, 2, 2] = 1.0
    _, i = F.max_pool2d(Tensor(x), 3, 1, 1, return_indices=True)
    _, ti = torch.nn.functional.max_pool2d(torch.tensor(x), 3, 1, 1, return_indices=True)
    np.testing.assert_array_equal(i.data, ti.numpy())
    xi = np.full((1, 1, 4, 4), np.iinfo(np.int32).min, np.int32)  # the integer minimum, same rule
    _, i = F.max_pool2d(Tensor(xi), 3, 2, 1, return_indices=True)
    _, ti = torch.nn.functional.max_pool2d(torch.tensor(xi), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(i.data, ti.numpy())


def test_max_pool2d_positional_order_is_torch_s_for_function_and_module():
    x = Tensor(np.random.default_rng(3).standard_normal((1, 1, 5, 5)))
    # F.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)
    assert F.max_pool2d(x, 2, 2, 0, 1, True).shape == (1, 1, 3, 3)
    values, indices = F.max_pool2d(x, 2, 2, 0, 1, False, True)
    assert values.shape == indices.shape == (1, 1, 2, 2)
    # nn.MaxPool2d(kernel_size, stride, padding, dilation, return_indices, ceil_mode): the other order
    values, indices = nn.MaxPool2d(2, 2, 0, 1, True, True)(x)
    assert values.shape == indices.shape == (1, 1, 3, 3)
    # PyTorch's defaults spelled out are accepted
    assert F.max_pool2d(x, 2, ceil_mode=False, return_indices=False).shape == (1, 1, 2, 2)


# -- max_unpool2d -------------------------------------------------------------------------------------


@pytest.mark.parametrize("xshape,kernel,stride,padding,output_size", [
    ((2, 2, 6, 6), 2, None, 0, None),
    ((1, 3, 7, 5), 2, None, 0, (7, 5)),  # the odd row and column pooling dropped, restored by output_size
    ((1, 2, 7, 7), 3, 2, 1, (1, 2, 7, 7)),  # a full shape: its last two entries count
])
def test_max_unpool2d_matches_torch_and_inverts_the_pool_on_its_maxima(xshape, kernel, stride, padding, output_size):
    torch = torch_or_skip()
    x = np.random.default_rng(4).standard_normal(xshape)
    pooled, idx = F.max_pool2d(Tensor(x), kernel, stride, padding, return_indices=True)
    _, tidx = torch.nn.functional.max_pool2d(torch.tensor(x), kernel, stride, padding, return_indices=True)
    y, gx, ty, tgx = against_torch(
        lambda t: F.max_unpool2d(t, idx, kernel, stride, padding, output_size),
        lambda t: torch.nn.functional.max_unpool2d(t, tidx, kernel, stride, padding, output_size),
        pooled.data)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(gx, tgx)
    # Every maximum is back where it was, and nothing else is there.
    n, c = xshape[:2]
    flat = y.reshape(n, c, -1)
    picked = np.take_along_axis(flat, idx.data.reshape(n, c, -1), axis=2)
    np.testing.assert_array_equal(picked, pooled.data.reshape(n, c, -1))
    np.testing.assert_array_equal(picked, np.take_along_axis(x.reshape(n, c, -1), idx.data.reshape(n, c, -1), axis=2))
    assert np.count_nonzero(y) <= pooled.data.size


def test_max_unpool2d_with_a_repeated_index_keeps_one_value_and_reads_g_back_for_each_as_torch():
    torch = torch_or_skip()
    x = np.array([[[[1.0, 2.0], [3.0, 4.0]]]])
    idx = np.zeros((1, 1, 2, 2), np.int64)  # all four values aimed at output pixel 0
    y, gx, ty, tgx = against_torch(lambda t: F.max_unpool2d(t, idx, 2),
                                   lambda t: torch.nn.functional.max_unpool2d(t, torch.tensor(idx), 2), x)
    assert y[0, 0, 0, 0] == 4.0 and ty[0, 0, 0, 0] in x  # which value stays PyTorch leaves undefined
    assert np.count_nonzero(y) == np.count_nonzero(ty) == 1
    np.testing.assert_array_equal(gx, tgx)  # each input reads g at its index (a gather), as PyTorch defines it


def test_max_unpool2d_module_round_trip_and_errors():
    x = Tensor(np.random.default_rng(5).standard_normal((1, 1, 4, 4)))
    values, indices = nn.MaxPool2d(2, return_indices=True)(x)
    up = nn.MaxUnpool2d(2)(values, indices)
    assert up.shape == (1, 1, 4, 4) and np.count_nonzero(up.data) == 4
    with pytest.raises(TypeError, match="int64"):
        F.max_unpool2d(values, indices.data.astype(np.int32), 2)
    with pytest.raises(ValueError, match=r"index 99 is outside the 4×4 output"):
        F.max_unpool2d(values, np.full((1, 1, 2, 2), 99), 2)
    with pytest.raises(ValueError, match=r"output_size \(7, 7\) is not within a stride of the default \(4, 4\)"):
        F.max_unpool2d(values, indices, 2, output_size=(7, 7))


# -- avg_pool2d ---------------------------------------------------------------------------------------

AVG_GRID = [  # (N, C, H, W), kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    ((2, 2, 6, 6), 2, None, 0, False, True, None),
    ((1, 3, 7, 8), 3, 2, 1, False, True, None),
    ((1, 3, 7, 8), 3, 2, 1, False, False, None),
    ((2, 1, 5, 5), 3, 2, 1, True, True, None),  # a ceil window past the padding: only the part inside counts
    ((2, 1, 4, 4), 3, 2, 1, True, False, None),
    ((1, 2, 9, 7), (2, 3), (3, 1), (1, 1), True, True, None),
    ((1, 2, 6, 6), 3, 1, 1, False, True, 4),
    ((1, 1, 5, 6), 2, 1, 0, False, True, None),  # overlapping windows
]


@pytest.mark.parametrize("xshape,kernel,stride,padding,ceil_mode,count_include_pad,divisor", AVG_GRID)
def test_avg_pool2d_matches_torch(xshape, kernel, stride, padding, ceil_mode, count_include_pad, divisor):
    torch = torch_or_skip()
    args = (kernel, stride, padding, ceil_mode, count_include_pad, divisor)
    x = np.random.default_rng(6).standard_normal(xshape)
    y, gx, ty, tgx = against_torch(lambda t: F.avg_pool2d(t, *args),
                                   lambda t: torch.nn.functional.avg_pool2d(t, *args), x)
    np.testing.assert_allclose(y, ty, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(gx, tgx, rtol=1e-13, atol=1e-14)


@pytest.mark.parametrize("args", [(2,), (3, 2, 1, True, False), (3, 1, 1, False, True, 5)])
def test_avg_pool2d_gradient_matches_central_differences(args):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((1, 2, 5, 5))
    X = Tensor(x, requires_grad=True)
    y = F.avg_pool2d(X, *args)
    g = rng.standard_normal(y.shape)
    y.backward(g)

    def f(a):
        with no_grad():
            return F.avg_pool2d(Tensor(a), *args).data

    np.testing.assert_allclose(X.grad, numeric_grad(f, x, g), rtol=1e-7, atol=1e-9)


def test_avg_pool2d_by_hand_with_and_without_the_padding_counted():
    x = Tensor(np.ones((1, 1, 2, 2)), requires_grad=True)
    # 3×3 windows at stride 1, padding 1: each window holds 4 ones and 5 zeros of padding.
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 1, 1).data, np.full((1, 1, 2, 2), 4 / 9))
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 1, 1, count_include_pad=False).data, np.ones((1, 1, 2, 2)))
    np.testing.assert_allclose(F.avg_pool2d(x, 3, 1, 1, divisor_override=2).data, np.full((1, 1, 2, 2), 2.0))
    # Each pixel sits in all four windows, each dividing by 9: ∂/∂x = 4/9 everywhere.
    F.avg_pool2d(x, 3, 1, 1).sum().backward()
    np.testing.assert_allclose(x.grad, np.full((1, 1, 2, 2), 4 / 9))


# -- adaptive_avg_pool2d ------------------------------------------------------------------------------


@pytest.mark.parametrize("xshape,output_size", [
    ((2, 3, 6, 6), 1),  # global average pooling
    ((2, 3, 6, 8), (3, 4)),  # equal blocks
    ((1, 2, 7, 5), 3),  # uneven windows that overlap by a row
    ((1, 2, 5, 7), (None, 3)),
    ((1, 1, 3, 4), (5, 6)),  # larger than the input: windows repeat pixels
])
def test_adaptive_avg_pool2d_matches_torch(xshape, output_size):
    torch = torch_or_skip()
    x = np.random.default_rng(8).standard_normal(xshape)
    y, gx, ty, tgx = against_torch(lambda t: F.adaptive_avg_pool2d(t, output_size),
                                   lambda t: torch.nn.functional.adaptive_avg_pool2d(t, output_size), x)
    np.testing.assert_allclose(y, ty, rtol=1e-13, atol=1e-14)
    np.testing.assert_allclose(gx, tgx, rtol=1e-13, atol=1e-14)


def test_adaptive_avg_pool2d_by_hand_and_unbatched():
    x = Tensor(np.arange(12.0).reshape(1, 3, 4), requires_grad=True)  # (C, H, W), no batch
    y = F.adaptive_avg_pool2d(x, 1)
    assert y.shape == (1, 1, 1) and y.item() == 5.5
    y.backward(np.ones((1, 1, 1)))
    np.testing.assert_allclose(x.grad, np.full((1, 3, 4), 1 / 12))
    # 5 columns into 3: windows [0, 2), [1, 4), [3, 5), the middle one three wide
    row = F.adaptive_avg_pool2d(Tensor(np.arange(5.0).reshape(1, 1, 1, 5)), (1, 3)).data
    np.testing.assert_allclose(row.ravel(), [0.5, 2.0, 3.5])


# -- dropout2d ----------------------------------------------------------------------------------------


def test_dropout2d_drops_whole_channels_and_scales_the_rest():
    x = Tensor(np.ones((8, 16, 3, 3)), requires_grad=True)
    y = F.dropout2d(x, 0.25, rng=np.random.default_rng(9))
    maps = y.data.reshape(8, 16, 9)
    assert np.all((maps == 0).all(axis=2) | (maps == 1 / 0.75).all(axis=2))  # each map all dropped or all kept
    dropped = (maps == 0).all(axis=2).mean()
    assert 0.1 < dropped < 0.4
    y.backward(np.ones(y.shape))
    np.testing.assert_array_equal(x.grad, y.data)  # ∂y/∂x is the same scaled mask


def test_dropout2d_in_evaluation_p0_p1_and_reproducible():
    x = Tensor(np.random.default_rng(10).standard_normal((2, 3, 4, 4)))
    assert F.dropout2d(x, 0.5, training=False) is x
    assert F.dropout2d(x, 0.0) is x
    assert np.all(F.dropout2d(x, 1.0).data == 0)
    a = F.dropout2d(x, 0.5, rng=np.random.default_rng(11)).data
    b = F.dropout2d(x, 0.5, rng=np.random.default_rng(11)).data
    np.testing.assert_array_equal(a, b)
    layer = nn.Dropout2d(0.5, rng=np.random.default_rng(12))
    assert layer.eval()(x) is x
    with pytest.raises(ValueError, match=r"probability p must be in \[0, 1\], got 2"):
        F.dropout2d(x, 2)
    with pytest.raises(ValueError, match="use dropout"):
        F.dropout2d(Tensor(np.ones((3, 4))), 0.5)


def test_dropout2d_on_a_3d_input_warns_as_torch_and_drops_rows():
    x = Tensor(np.ones((4, 6, 5)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = F.dropout2d(x, 0.5, rng=np.random.default_rng(13))
    assert any("3-D" in str(w.message) for w in caught)
    rows = y.data
    assert np.all((rows == 0).all(axis=2) | (rows == 2).all(axis=2))


def test_dropout2d_inplace_changes_its_input_and_stays_differentiable():
    x = Tensor(np.ones((2, 3, 2, 2)), requires_grad=True)
    h = x * 1.0
    y = F.dropout2d(h, 0.5, inplace=True, rng=np.random.default_rng(14))
    assert y is h
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, h.data)
    with pytest.raises(RuntimeError):
        F.dropout2d(Tensor(np.ones((1, 1, 2, 2)), requires_grad=True), 0.5, inplace=True)


# -- modules, reprs, errors, checking tools -----------------------------------------------------------


def test_pooling_module_reprs_read_like_torch():
    assert repr(nn.MaxPool2d(3, 2, 1, ceil_mode=True)) == (
        "MaxPool2d(kernel_size=3, stride=2, padding=1, dilation=1, ceil_mode=True)")
    assert repr(nn.AvgPool2d(2)) == "AvgPool2d(kernel_size=2, stride=2, padding=0)"
    assert repr(nn.AvgPool2d(3, 1, 1, True, False, 2)) == "AvgPool2d(kernel_size=3, stride=1, padding=1)"
    assert repr(nn.AdaptiveAvgPool2d((None, 3))) == "AdaptiveAvgPool2d(output_size=(None, 3))"
    assert repr(nn.MaxUnpool2d((2, 3), 1, 1)) == "MaxUnpool2d(kernel_size=(2, 3), stride=(1, 1), padding=(1, 1))"
    assert repr(nn.Dropout2d(0.3)) == "Dropout2d(p=0.3, inplace=False)"


@pytest.mark.parametrize("call, error, words", [
    (lambda: F.avg_pool2d(np.zeros((1, 1, 5, 5)), 2, padding=2), ValueError, ["padding", "half"]),
    (lambda: F.avg_pool2d(np.zeros((1, 1, 5, 5)), 2, divisor_override=0), ValueError, ["divisor_override", "zero"]),
    (lambda: F.avg_pool2d(np.zeros((1, 1, 5, 5)), 2, divisor_override=2.0), TypeError, ["divisor_override", "2.0"]),
    (lambda: F.avg_pool2d(np.zeros((1, 1, 4, 4), np.int64), 2), TypeError, ["floating point", "int64"]),
    (lambda: F.max_pool2d(np.zeros((1, 1, 5, 5)), True), TypeError, ["kernel_size", "True"]),
    (lambda: F.max_pool2d(np.zeros((1, 1, 5, 5)), 2, ceil_mode="yes"), TypeError, ["ceil_mode", "'yes'"]),
    (lambda: F.max_pool2d(np.zeros((1, 1, 5, 5)), (2, 2, 2)), TypeError, ["kernel_size", "(2, 2, 2)"]),
    (lambda: F.adaptive_avg_pool2d(np.zeros((1, 1, 5, 5)), 0), ValueError, ["output_size", ">= 1"]),
    (lambda: F.adaptive_avg_pool2d(np.zeros((1, 1, 5, 5)), 2.5), TypeError, ["output_size", "2.5"]),
    (lambda: nn.AvgPool2d(2, padding=2), ValueError, ["AvgPool2d", "half"]),
    (lambda: nn.MaxPool2d(2, ceil_mode=1), TypeError, ["MaxPool2d", "ceil_mode"]),
    (lambda: nn.AdaptiveAvgPool2d(0), ValueError, ["AdaptiveAvgPool2d", "output_size"]),
    (lambda: nn.Dropout2d(1.5), ValueError, ["Dropout2d", "[0, 1]"]),
])
def test_pooling_errors_name_the_problem(call, error, words):
    with pytest.raises(error) as info:
        call()
    for word in words:
        assert word in str(info.value), (word, str(info.value))


def test_audit_checks_every_pooling_op():
    rng = np.random.default_rng(15)
    x = Tensor(rng.permutation(2 * 3 * 7 * 7).reshape(2, 3, 7, 7) / 10.0, requires_grad=True)  # no ties

    def f():
        y, i = F.max_pool2d(x, 2, 2, 1, 1, True, True)  # windows that do not overlap: every index once
        up = F.max_unpool2d(y, i, 2, 2, 1, output_size=(7, 7))
        a = F.avg_pool2d(F.max_pool2d(up, 3, 2, 1, 1, True), 3, 1, 1, True, False)
        return (F.adaptive_avg_pool2d(a, (3, 2)) ** 2).sum() + (F.adaptive_avg_pool2d(a, 1) ** 2).sum()

    report = autograd.audit(f)
    statuses = {r.op: r.status for r in report.rows}
    for op in ("max_pool2d", "max_unpool2d", "avg_pool2d", "adaptive_avg_pool2d"):
        assert statuses[op] == "ok", str(report)


def test_drawings_label_every_pooling_op_and_its_rule():
    rng = np.random.default_rng(16)
    x = Tensor(rng.standard_normal((1, 2, 6, 6)), requires_grad=True)
    y, i = F.max_pool2d(x, 2, return_indices=True)
    z = F.adaptive_avg_pool2d(F.avg_pool2d(F.max_unpool2d(y, i, 2), 3, 1, 1, True), 1)
    source = autograd.draw_dot(F.dropout2d(z, 0.5, rng=rng).sum(), show_local=True).source
    for text in ("max_pool2d 2×2, stride 2", "max_unpool2d 2×2 → 6×6", "avg_pool2d 3×3, stride 1, pad 1, ceil",
                 "adaptive_avg_pool2d → 1×1", "dropout2d p=0.5", "g read back at the indices",
                 "g/n spread over each window", "Aₕᵀ·g·A_w"):
        assert text in source, text


@pytest.mark.parametrize("where", [(0, 0), (0, 1), (1, 0), (1, 1)])
def test_a_nan_in_a_window_takes_its_gradient_as_in_pytorch(where):
    # The NaN is the window's maximum: its gradient goes there, not to a number after it that compared "better".
    x = np.array([[[[1.0, 5.0, 0.5, 0.25], [3.0, 2.0, 4.0, 0.0]]]])
    x[(0, 0, *where)] = np.nan
    torch = torch_or_skip()
    y, gx, ty, tgx = against_torch(lambda t: F.max_pool2d(t, 2), lambda t: torch.nn.functional.max_pool2d(t, 2), x)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ty))
    np.testing.assert_array_equal(gx, tgx)
    assert gx[(0, 0, *where)] != 0
