"""autograd.functional against torch.autograd.functional: jacobian, hessian, vjp, jvp, hvp, vhp.

The same function (written once, with names both libraries share) runs on our Tensors and on torch's, with the
same float64 inputs and vectors; results must have the same structure (a Tensor, a tuple, a tuple of tuples),
the same shapes and the same numbers. (nn.functional is tested in tests/test_functional.py.)
"""
from __future__ import annotations

import numpy as np
import pytest
from conftest import torch_or_skip

from autograd import Tensor, grad
from autograd import functional as AF

torch = torch_or_skip()
TF = torch.autograd.functional
RNG = np.random.default_rng(17)


def ours(*arrays: np.ndarray) -> tuple[Tensor, ...]:
    return tuple(Tensor(a.copy()) for a in arrays)


def theirs(*arrays: np.ndarray) -> tuple[object, ...]:
    return tuple(torch.tensor(a) for a in arrays)


def same(mine: object, ref: object, rtol: float = 1e-12) -> None:
    """The same structure (Tensor / tuple nesting), shapes and numbers."""
    if isinstance(ref, tuple):
        assert isinstance(mine, tuple) and len(mine) == len(ref), f"{type(mine).__name__} vs a tuple of {len(ref)}"
        for m, r in zip(mine, ref):
            same(m, r, rtol)
        return
    assert isinstance(mine, Tensor), f"expected a Tensor, got {type(mine).__name__}"
    assert mine.shape == tuple(ref.shape)
    np.testing.assert_allclose(mine.data, ref.detach().numpy(), rtol=rtol, atol=1e-14)


# Functions of one or two inputs, with one output or two.
def f_vector(x):  # R³ → R²
    return (x[:2] * x[1:]).tanh() * x.sum()


def f_matrix(a, b):  # (2, 3), (3,) → (2,)
    return (a * b).exp().sum(1) / (1 + (b * b).sum())


def f_scalar(x):  # R³ → R
    return (x.sigmoid() * x * x).sum()


def f_scalar2(a, b):  # (2, 3), (3,) → R
    return ((a @ b).tanh() ** 2).sum() + (b**3).sum()


def f_two_outputs(a, b):  # → ((2,), ())
    return (a * b).sum(1), (b.exp() * b).sum()


X3 = RNG.standard_normal(3)
A, B = RNG.standard_normal((2, 3)), RNG.standard_normal(3)


# -- jacobian ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn, arrays, single", [
    (f_vector, (X3,), True), (f_matrix, (A, B), False), (f_scalar, (X3,), True), (f_two_outputs, (A, B), False),
    (f_scalar2, (A, B), False),
])
def test_jacobian_matches_torch_in_structure_shape_and_value(fn, arrays, single):
    args_ours, args_theirs = ours(*arrays), theirs(*arrays)
    mine = AF.jacobian(fn, args_ours[0] if single else args_ours)
    ref = TF.jacobian(fn, args_theirs[0] if single else args_theirs)
    same(mine, ref)


def test_jacobian_of_a_tuple_of_one_input_is_a_tuple_as_in_torch():
    same(AF.jacobian(f_vector, ours(X3)), TF.jacobian(f_vector, theirs(X3)))


def test_jacobian_strict_and_unused_inputs():
    def uses_a_only(a, b):
        return a * 2.0

    mine = AF.jacobian(uses_a_only, ours(B, B))
    ref = TF.jacobian(uses_a_only, theirs(B, B))
    same(mine, ref)  # zeros for b
    with pytest.raises(RuntimeError, match="does not depend on input 1"):
        AF.jacobian(uses_a_only, ours(B, B), strict=True)
    with pytest.raises(RuntimeError):
        TF.jacobian(uses_a_only, theirs(B, B), strict=True)


def test_jacobian_with_create_graph_is_differentiable():
    x = Tensor(X3.copy(), requires_grad=True)
    j = AF.jacobian(f_vector, x, create_graph=True)
    assert j.requires_grad
    tx = torch.tensor(X3, requires_grad=True)
    tj = TF.jacobian(f_vector, tx, create_graph=True)
    (gx,) = grad((j * j).sum(), x)
    (tgx,) = torch.autograd.grad((tj * tj).sum(), tx)
    np.testing.assert_allclose(gx.data, tgx.numpy(), rtol=1e-12)


# -- hessian -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn, arrays, single", [(f_scalar, (X3,), True), (f_scalar2, (A, B), False)])
def test_hessian_matches_torch_and_is_symmetric(fn, arrays, single):
    args_ours, args_theirs = ours(*arrays), theirs(*arrays)
    mine = AF.hessian(fn, args_ours[0] if single else args_ours)
    ref = TF.hessian(fn, args_theirs[0] if single else args_theirs)
    same(mine, ref)
    if single:
        h = mine.data
        np.testing.assert_allclose(h, h.T, rtol=0, atol=1e-15)
    else:
        np.testing.assert_allclose(mine[0][1].data, np.moveaxis(mine[1][0].data, 0, -1), rtol=0, atol=1e-15)


def test_hessian_of_a_quadratic_is_its_matrix():
    """f(x) = ½ xᵀ Q x + cᵀx has Hessian (Q + Qᵀ)/2, exactly."""
    q = RNG.standard_normal((4, 4))
    c = RNG.standard_normal(4)
    h = AF.hessian(lambda x: (x * (Tensor(q) @ x)).sum() * 0.5 + (Tensor(c) * x).sum(), Tensor(RNG.standard_normal(4)))
    np.testing.assert_allclose(h.data, (q + q.T) / 2, rtol=1e-14)


def test_hessian_needs_one_number_out():
    with pytest.raises(RuntimeError, match="one one-element Tensor"):
        AF.hessian(f_vector, Tensor(X3))


def test_hessian_with_create_graph_gives_third_derivatives():
    """f = Σ x⁴: H = diag(12x²), and d/dx Σ H = 24x."""
    x = Tensor(X3.copy(), requires_grad=True)
    h = AF.hessian(lambda x: (x**4).sum(), x, create_graph=True)
    np.testing.assert_allclose(h.data, np.diag(12 * X3**2), rtol=1e-14)
    (g,) = grad(h.sum(), x)
    np.testing.assert_allclose(g.data, 24 * X3, rtol=1e-14)


def test_hessian_strict_refuses_an_input_the_function_ignores():
    def ignores_b(a, b):
        return (a**3).sum()

    mine = AF.hessian(ignores_b, ours(B, B))
    same(mine, TF.hessian(ignores_b, theirs(B, B)))
    with pytest.raises(RuntimeError, match="strict"):
        AF.hessian(ignores_b, ours(B, B), strict=True)


# -- vjp, jvp ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("fn, arrays, single", [(f_vector, (X3,), True), (f_matrix, (A, B), False),
                                                (f_two_outputs, (A, B), False)])
def test_vjp_and_jvp_match_torch(fn, arrays, single):
    args_ours, args_theirs = ours(*arrays), theirs(*arrays)
    x_ours = args_ours[0] if single else args_ours
    x_theirs = args_theirs[0] if single else args_theirs
    out = fn(*args_ours)
    outs = out if isinstance(out, tuple) else (out,)
    v_out = [RNG.standard_normal(o.shape) for o in outs]
    v_in = [RNG.standard_normal(a.shape) for a in arrays]

    def pack(vs, one, lib):
        wrap = Tensor if lib == "ours" else torch.tensor
        return wrap(vs[0]) if one else tuple(wrap(v) for v in vs)

    one_out = not isinstance(out, tuple)
    mine = AF.vjp(fn, x_ours, pack(v_out, one_out, "ours"))
    ref = TF.vjp(fn, x_theirs, pack(v_out, one_out, "torch"))
    same(mine, ref)
    mine = AF.jvp(fn, x_ours, pack(v_in, single, "ours"))
    ref = TF.jvp(fn, x_theirs, pack(v_in, single, "torch"))
    same(mine, ref)


def test_vjp_of_a_scalar_function_needs_no_v():
    same(AF.vjp(f_scalar, Tensor(X3)), TF.vjp(f_scalar, torch.tensor(X3)))


def test_jvp_of_a_function_of_one_number_needs_no_v():
    def f(x):
        return x.exp() * x

    same(AF.jvp(f, Tensor(np.array(0.3))), TF.jvp(f, torch.tensor(0.3, dtype=torch.float64)))


def test_v_of_the_wrong_shape_or_missing_is_an_error():
    with pytest.raises(ValueError, match="shape"):
        AF.vjp(f_vector, Tensor(X3), Tensor(np.ones(3)))
    with pytest.raises(RuntimeError, match="v is needed"):
        AF.vjp(f_vector, Tensor(X3))
    with pytest.raises(ValueError, match="2 tensors in v for 1"):
        AF.jvp(f_vector, Tensor(X3), (Tensor(X3), Tensor(X3)))


# -- hvp, vhp ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["hvp", "vhp"])
@pytest.mark.parametrize("fn, arrays, single", [(f_scalar, (X3,), True), (f_scalar2, (A, B), False)])
def test_hvp_and_vhp_match_torch(name, fn, arrays, single):
    args_ours, args_theirs = ours(*arrays), theirs(*arrays)
    vs = [RNG.standard_normal(a.shape) for a in arrays]
    v_ours = Tensor(vs[0]) if single else tuple(Tensor(v) for v in vs)
    v_theirs = torch.tensor(vs[0]) if single else tuple(torch.tensor(v) for v in vs)
    mine = getattr(AF, name)(fn, args_ours[0] if single else args_ours, v_ours)
    ref = getattr(TF, name)(fn, args_theirs[0] if single else args_theirs, v_theirs)
    same(mine, ref)


def test_hvp_equals_the_hessian_times_v():
    v = RNG.standard_normal(3)
    _, hv = AF.hvp(f_scalar, Tensor(X3), Tensor(v))
    h = AF.hessian(f_scalar, Tensor(X3))
    np.testing.assert_allclose(hv.data, h.data @ v, rtol=1e-13)


def test_hvp_with_create_graph_is_differentiable_and_matches_torch():
    x, v = Tensor(X3.copy(), requires_grad=True), RNG.standard_normal(3)
    out, hv = AF.hvp(f_scalar, x, Tensor(v), create_graph=True)
    assert out.requires_grad and hv.requires_grad
    tx = torch.tensor(X3, requires_grad=True)
    _, thv = TF.hvp(f_scalar, tx, torch.tensor(v), create_graph=True)
    (g,) = grad(hv.sum(), x)
    (tg,) = torch.autograd.grad(thv.sum(), tx)
    np.testing.assert_allclose(g.data, tg.numpy(), rtol=1e-12)


def test_hvp_strict_with_a_linear_function():
    """A linear function has a zero Hessian; strict=True refuses it in both libraries."""
    def linear(x):
        return (x * 3.0).sum()

    same(AF.hvp(linear, Tensor(X3), Tensor(X3)), TF.hvp(linear, torch.tensor(X3), torch.tensor(X3)))
    with pytest.raises(RuntimeError):
        TF.hvp(linear, torch.tensor(X3), torch.tensor(X3), strict=True)
    with pytest.raises(RuntimeError, match="strict"):
        AF.hvp(linear, Tensor(X3), Tensor(X3), strict=True)


# -- what every function shares -----------------------------------------------------------------------


@pytest.mark.parametrize("call", [
    lambda x: AF.jacobian(f_vector, x), lambda x: AF.hessian(f_scalar, x), lambda x: AF.vjp(f_scalar, x),
    lambda x: AF.jvp(f_vector, x, Tensor(X3)), lambda x: AF.hvp(f_scalar, x, Tensor(X3)),
])
def test_the_callers_inputs_are_left_alone_and_outputs_detached(call):
    x = Tensor(X3.copy(), requires_grad=True)
    result = call(x)
    assert x.grad is None and np.array_equal(x.data, X3)
    first = result[0] if isinstance(result, tuple) else result
    assert not first.requires_grad  # without create_graph, nothing returned is in a graph


def test_inputs_must_be_floating_tensors():
    with pytest.raises(TypeError, match="Tensor or a tuple of Tensors"):
        AF.jacobian(f_vector, X3)
    with pytest.raises(TypeError, match="floating point"):
        AF.hessian(f_scalar, Tensor(np.array([1, 2, 3])))
