"""autograd.grad and backward(create_graph=True): PyTorch's signature and meaning, edge cases, both engines.

grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False, allow_unused=False) returns
d(Σ ⟨vᵢ, outputᵢ⟩)/d input for each input, touching no ``.grad``. Expected numbers are derived by hand in the
comments; the torch comparisons use the same float64 inputs.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import torch_or_skip

from autograd import Tensor, Value, grad, no_grad

torch = torch_or_skip()


def leaf(*values: float) -> Tensor:
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True)


# -- unused inputs --------------------------------------------------------------------------------------


def test_an_unused_input_is_an_error_naming_it_unless_allow_unused():
    x, y = leaf(1.0, 2.0), leaf(3.0)
    y.label = "y"
    out = (x * x).sum()
    with pytest.raises(RuntimeError, match=r"input 1 \(y\) was not used.*allow_unused=True"):
        grad(out, [x, y])
    gx, gy = grad(out, [x, y], allow_unused=True)
    assert gy is None
    np.testing.assert_array_equal(gx.data, [2.0, 4.0])  # d/dx Σx² = 2x
    tx, ty = torch.tensor([1.0, 2.0], requires_grad=True), torch.tensor([3.0], requires_grad=True)
    assert torch.autograd.grad((tx * tx).sum(), [tx, ty], allow_unused=True)[1] is None  # the same answer


def test_an_unused_value_input_is_none_with_allow_unused():
    a, b = Value(2.0, label="a"), Value(5.0, label="b")
    with pytest.raises(RuntimeError, match=r"input 1 \(b\)"):
        grad(a * a, [a, b])
    assert grad(a * a, [a, b], allow_unused=True)[1] is None


def test_an_input_used_only_through_a_constant_path_counts_as_unused():
    x = leaf(1.0)
    with no_grad():
        c = x * 2.0  # no graph: c does not depend on x as far as backward knows
    y = leaf(3.0)
    assert grad((c * y).sum(), [x, y], allow_unused=True)[0] is None


def test_inputs_that_do_not_require_grad_and_outputs_without_a_graph_are_errors():
    x = leaf(1.0)
    with pytest.raises(RuntimeError, match="input 0 does not require grad"):
        grad((x * 2).sum(), Tensor(np.array([1.0])))
    with pytest.raises(RuntimeError, match="output 0 does not require grad"):
        grad(Tensor(np.array(1.0)), x)


# -- outputs that are not one number ------------------------------------------------------------------


def test_a_non_scalar_output_needs_grad_outputs_and_then_gives_v_transposed_j():
    x = leaf(0.5, -1.0, 2.0)
    y = x.exp() * x  # dy_i/dx_i = eˣ(1 + x)
    with pytest.raises(RuntimeError, match=r"shape \(3,\).*pass grad_outputs"):
        grad(y, x)
    v = np.array([1.0, -2.0, 0.5])
    (g,) = grad(y, x, grad_outputs=v)
    np.testing.assert_allclose(g.data, v * np.exp(x.data) * (1 + x.data), rtol=1e-15)
    (g2,) = grad(y, x, grad_outputs=Tensor(v))  # a Tensor works as well as an array
    np.testing.assert_array_equal(g.data, g2.data)


def test_grad_outputs_of_the_wrong_shape_or_number_are_errors():
    x = leaf(0.5, -1.0)
    y = x * 3.0
    with pytest.raises(ValueError, match=r"shape \(3,\) but the tensor has shape \(2,\)"):
        grad(y, x, grad_outputs=np.ones(3))
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        grad(y, x, grad_outputs=[np.ones(2), np.ones(2)])


def test_several_outputs_add_their_vector_jacobian_products():
    x = leaf(0.5, 2.0)
    y1, y2 = x * x, x.sum() * 3.0
    v1 = np.array([1.0, -1.0])
    (g,) = grad([y1, y2], x, [v1, None])  # v1·2x + 3 (y2 has one element: its v is 1)
    np.testing.assert_allclose(g.data, v1 * 2 * x.data + 3.0)
    (twice,) = grad([y2, y2], x)  # the same output twice counts twice
    np.testing.assert_allclose(twice.data, [6.0, 6.0])
    tx = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
    (tg,) = torch.autograd.grad([tx * tx, tx.sum() * 3.0], tx, [torch.tensor(v1), None])
    np.testing.assert_allclose(g.data, tg.numpy(), rtol=1e-15)


def test_value_outputs_with_grad_outputs():
    a = Value(1.5)
    (g,) = grad([a * a, a.exp()], a, [2.0, -1.0])  # 2·2a − eᵃ
    assert g.data == pytest.approx(2 * 2 * 1.5 - math.exp(1.5), rel=1e-15)


# -- inputs that are interior nodes, outputs as inputs ----------------------------------------------------


def test_gradients_with_respect_to_interior_tensors_match_torch():
    rng = np.random.default_rng(0)
    a, w = rng.standard_normal((2, 3)), rng.standard_normal((3, 4))
    x, W = Tensor(a, requires_grad=True), Tensor(w, requires_grad=True)
    h = x @ W
    z = h.tanh()
    loss = (z * z).sum()
    gh, gz, gx = grad(loss, [h, z, x])
    tx, tW = torch.tensor(a, requires_grad=True), torch.tensor(w, requires_grad=True)
    th = tx @ tW
    tz = th.tanh()
    ref = torch.autograd.grad((tz * tz).sum(), [th, tz, tx])
    for mine, theirs in zip((gh, gz, gx), ref):
        np.testing.assert_allclose(mine.data, theirs.numpy(), rtol=1e-13)
    np.testing.assert_allclose(gz.data, 2 * z.data)  # by hand: d/dz Σz² = 2z


def test_the_output_itself_as_an_input_gets_the_seed():
    x = leaf(1.0, 2.0)
    y = x * 2.0
    v = np.array([0.5, 3.0])
    gy, gx = grad(y, [y, x], v)
    np.testing.assert_array_equal(gy.data, v)
    np.testing.assert_array_equal(gx.data, 2 * v)


def test_an_interior_value_as_an_input():
    a = Value(0.3)
    h = a * 4.0
    out = h.tanh()
    gh, ga = grad(out, [h, a])
    assert gh.data == pytest.approx(1 - math.tanh(1.2) ** 2, rel=1e-15)
    assert ga.data == pytest.approx(4 * gh.data, rel=1e-15)


# -- retain_graph, .grad untouched, the graph of a gradient ---------------------------------------------------


@pytest.mark.parametrize("retain", [None, False, True])
def test_retain_graph_is_accepted_and_the_graph_is_kept_either_way(retain):
    x = leaf(0.5, -0.5)
    y = (x.sigmoid() * x).sum()
    first = grad(y, x, retain_graph=retain)[0].data
    second = grad(y, x, retain_graph=retain)[0].data  # graphs are always kept here (PyTorch would free them)
    np.testing.assert_array_equal(first, second)


def test_grad_touches_no_grad_attribute():
    x = leaf(1.0, 2.0)
    x.grad = np.array([7.0, 7.0])
    h = x * 3.0
    h.retain_grad()
    grad((h * h).sum(), x, create_graph=True)
    np.testing.assert_array_equal(x.grad, [7.0, 7.0])
    assert h.grad is None
    v = Value(2.0)
    grad(v * v, v)
    assert v.grad == 0.0


def test_first_order_results_are_constants_and_create_graph_results_are_graphs():
    x = leaf(0.5)
    (g,) = grad((x**3).sum(), x)
    assert not g.requires_grad and g.is_leaf
    (g,) = grad((x**3).sum(), x, create_graph=True)
    assert g.requires_grad and not g.is_leaf
    a = Value(0.5)
    (ga,) = grad(a**3, a)
    assert ga.is_leaf and ga.role == "constant"
    (ga,) = grad(a**3, a, create_graph=True)
    assert not ga.is_leaf


def test_grad_of_a_grad_of_a_grad_tensor():
    """y = Σ sin-free x⁴/4 + x·eˣ: y' = x³ + (1 + x)eˣ, y'' = 3x² + (2 + x)eˣ, y''' = 6x + (3 + x)eˣ."""
    x = leaf(0.5, -1.0)
    y = (x**4 * 0.25 + x * x.exp()).sum()
    (d1,) = grad(y, x, create_graph=True)
    (d2,) = grad(d1.sum(), x, create_graph=True)
    (d3,) = grad(d2.sum(), x)
    a = x.data
    np.testing.assert_allclose(d1.data, a**3 + (1 + a) * np.exp(a), rtol=1e-14)
    np.testing.assert_allclose(d2.data, 3 * a**2 + (2 + a) * np.exp(a), rtol=1e-14)
    np.testing.assert_allclose(d3.data, 6 * a + (3 + a) * np.exp(a), rtol=1e-14)


def test_grad_of_a_grad_of_a_grad_value():
    """tanh: t' = 1 − t², t'' = −2t(1 − t²), t''' = −2(1 − t²)(1 − 3t²)."""
    x = Value(0.7)
    (d1,) = grad(x.tanh(), x, create_graph=True)
    (d2,) = grad(d1, x, create_graph=True)
    (d3,) = grad(d2, x)
    t = math.tanh(0.7)
    assert d1.data == pytest.approx(1 - t * t, rel=1e-15)
    assert d2.data == pytest.approx(-2 * t * (1 - t * t), rel=1e-14)
    assert d3.data == pytest.approx(-2 * (1 - t * t) * (1 - 3 * t * t), rel=1e-14)


def test_a_grad_output_in_a_graph_is_differentiated_too():
    """grad(y, x, v, create_graph=True) is linear in v: d/dv ⟨w, vᵀJ⟩ = J w."""
    x = leaf(0.5, 2.0)
    v = Tensor(np.array([1.0, 3.0]), requires_grad=True)
    (g,) = grad(x * x, x, v, create_graph=True)  # 2x·v
    gx, gv = grad(g, [x, v], np.array([1.0, -1.0]))
    np.testing.assert_allclose(gx.data, [2.0, -6.0])  # 2v·w
    np.testing.assert_allclose(gv.data, [1.0, -4.0])  # 2x·w


def test_mixing_engines_is_an_error():
    with pytest.raises(TypeError, match="all Tensors or all Values"):
        grad(Value(1.0) * 2, leaf(1.0))


# -- backward(create_graph=True) ----------------------------------------------------------------------


def test_backward_create_graph_leaves_gradients_that_are_graphs_and_accumulate():
    x = leaf(0.5, -1.0)
    y = (x**3).sum()
    y.backward(create_graph=True)
    assert isinstance(x.grad, Tensor) and x.grad.requires_grad
    np.testing.assert_allclose(x.grad.data, 3 * x.data**2)
    first = x.grad
    y.backward(create_graph=True)  # accumulates, as in PyTorch: 6x²
    np.testing.assert_allclose(x.grad.data, 6 * x.data**2)
    (h,) = grad(first.sum(), x)
    np.testing.assert_allclose(h.data, 6 * x.data)  # d/dx Σ3x² = 6x


def test_backward_create_graph_on_values_then_backward_of_the_gradient():
    x = Value(0.5)
    y = x**3 + x.exp()
    y.backward(create_graph=True)
    dx = x.grad
    assert isinstance(dx, Value) and dx.data == pytest.approx(3 * 0.25 + math.exp(0.5))
    x.grad = 0.0
    dx.backward()
    assert x.grad == pytest.approx(6 * 0.5 + math.exp(0.5), rel=1e-15)


def test_backward_inputs_accumulates_only_into_those():
    x, y = leaf(1.0), leaf(2.0)
    (x * y).sum().backward(inputs=[y])
    assert x.grad is None
    np.testing.assert_array_equal(y.grad, [1.0])
