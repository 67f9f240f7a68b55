"""The module-level functions and dtype names (``import autograd as torch``) against PyTorch: the same call on
both, the same dtype, values and gradients; factories' dtype rules; seeded random numbers that repeat."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import torch_or_skip

import autograd as ag
import nn
from autograd import Tensor

torch = torch_or_skip()

RNG = np.random.default_rng(4)


def dtype_name(x) -> str:
    return str(x.dtype).removeprefix("torch.")


def agree(ours, theirs, rtol=1e-12, atol=1e-15):
    assert isinstance(ours, Tensor), type(ours)
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert dtype_name(ours) == dtype_name(theirs)
    np.testing.assert_allclose(ours.data, theirs.detach().numpy(), rtol=rtol, atol=atol)


def leaves(*arrays):
    return ([Tensor(a.copy(), requires_grad=True) for a in arrays],
            [torch.tensor(a.copy(), requires_grad=True) for a in arrays])


def check(name, *arrays, args=(), kwargs=None, grads=True):
    """ag.<name>(*leaves, *args) against torch.<name>: value, dtype, and each leaf's gradient."""
    kwargs = kwargs or {}
    ours_in, theirs_in = leaves(*arrays)
    ours = getattr(ag, name)(*ours_in, *args, **kwargs)
    theirs = getattr(torch, name)(*theirs_in, *args, **kwargs)
    agree(ours, theirs)
    if grads:
        g = RNG.standard_normal(ours.shape)
        ours.backward(g)
        theirs.backward(torch.tensor(g))
        for a, b in zip(ours_in, theirs_in):
            np.testing.assert_allclose(a.grad, b.grad.numpy(), rtol=1e-12, atol=1e-15)


X = RNG.standard_normal((3, 4))
POS = RNG.random((3, 4)) + 0.5


@pytest.mark.parametrize(("name", "data"), [
    ("tanh", X), ("sigmoid", X), ("relu", X), ("exp", X), ("log", POS), ("log2", POS), ("log10", POS),
    ("sqrt", POS), ("square", X), ("abs", X), ("neg", X), ("negative", X),
])
def test_elementwise_functions_are_torchs(name, data):
    check(name, data)


@pytest.mark.parametrize("name", ["tanh", "sigmoid", "exp", "log", "sqrt"])
def test_float_functions_of_integers_are_float32_as_in_torch(name):
    ints = np.array([[1, 2], [3, 4]])
    ours, theirs = getattr(ag, name)(Tensor(ints)), getattr(torch, name)(torch.tensor(ints))
    agree(ours, theirs, rtol=1e-6)


def test_clamp_pow_maximum_minimum_and_two_argument_max():
    check("clamp", X, kwargs={"min": -0.5, "max": 0.7})
    check("clip", X, kwargs={"min": -0.5})
    check("pow", POS, args=(2.5,))
    check("pow", POS, X)
    a = X.copy()
    b = np.where(RNG.random(X.shape) < 0.3, X, RNG.standard_normal(X.shape))  # ties in about 30% of places
    for name in ("maximum", "minimum", "max", "min"):
        check(name, a, b)  # ties split the gradient evenly, as in PyTorch


@pytest.mark.parametrize(("name", "kwargs"), [
    ("sum", {}), ("sum", {"dim": 0}), ("sum", {"dim": (0, 1), "keepdim": True}),
    ("mean", {}), ("mean", {"dim": 1, "keepdim": True}),
    ("var", {}), ("var", {"dim": 0}), ("var", {"dim": 1, "unbiased": False}), ("var", {"dim": 1, "correction": 0}),
    ("std", {"dim": 1}), ("std", {"dim": 0, "keepdim": True}),
    ("amax", {"dim": 1}), ("amin", {"dim": (0, 1)}), ("max", {}), ("min", {}),
    ("softmax", {"dim": 1}), ("log_softmax", {"dim": 0}),
    ("flatten", {}), ("t", {}), ("clone", {}),
])
def test_reductions_and_shape_functions_are_torchs(name, kwargs):
    check(name, X, kwargs=kwargs)


def test_max_along_a_dim_returns_values_and_indices():
    ours_in, theirs_in = leaves(X)
    v, i = ag.max(ours_in[0], 1)
    tv, ti = torch.max(theirs_in[0], 1)
    agree(v, tv)
    agree(i, ti)
    agree(ag.min(ours_in[0], 0, keepdim=True).indices, torch.min(theirs_in[0], 0, keepdim=True).indices)
    agree(ag.argmax(Tensor(X), 1), torch.argmax(torch.tensor(X), 1))
    agree(ag.argmin(Tensor(X)), torch.argmin(torch.tensor(X)))


def test_sum_of_bools_and_small_ints_is_int64_as_in_torch():
    for data in (X > 0, np.arange(6, dtype=np.int32).reshape(2, 3)):
        agree(ag.sum(Tensor(data)), torch.sum(torch.tensor(data)))
        agree(ag.sum(Tensor(data), 0), torch.sum(torch.tensor(data), 0))
    agree(ag.mean(Tensor(X > 0), dtype=ag.float32), torch.mean(torch.tensor(X > 0), dtype=torch.float32))


def test_matmul_shapes_and_joins_are_torchs():
    A, B = RNG.standard_normal((2, 3)), RNG.standard_normal((3, 4))
    check("matmul", A, B)
    check("mm", A, B)
    check("matmul", RNG.standard_normal((2, 2, 3)), B)
    check("reshape", X, args=((4, 3),))
    check("transpose", X, args=(0, 1))
    check("permute", RNG.standard_normal((2, 3, 4)), args=((2, 0, 1),))
    check("unsqueeze", X, args=(1,))
    check("squeeze", X[:, :1], args=(1,))
    check("broadcast_to", X[:1], args=((3, 4),))
    for name in ("stack", "cat", "concat", "concatenate"):
        ours_in, theirs_in = leaves(X, X * 2)
        agree(getattr(ag, name)(ours_in, dim=1), getattr(torch, name)(theirs_in, dim=1))
    cond = X > 0
    ours_in, theirs_in = leaves(X, POS)
    agree(ag.where(Tensor(cond), *ours_in), torch.where(torch.tensor(cond), *theirs_in))


def test_comparisons_and_tests_are_torchs():
    a, b = Tensor(X), torch.tensor(X)
    near = X + 1e-9
    assert ag.allclose(a, Tensor(near)) is torch.allclose(b, torch.tensor(near)) is True
    assert ag.allclose(a, near + 1) is False  # arrays and .grad (an ndarray here) are accepted too
    agree(ag.isclose(a, Tensor(near), atol=0, rtol=1e-12), torch.isclose(b, torch.tensor(near), atol=0, rtol=1e-12))
    assert ag.equal(a, Tensor(X.copy())) and not ag.equal(a, Tensor(X[:2]))
    agree(ag.all(a > -10), torch.all(b > -10))
    agree(ag.any(a > 10), torch.any(b > 10))
    assert ag.all(a == a).item() is True and ag.numel(a) == torch.numel(b) == 12
    assert ag.is_tensor(a) and not ag.is_tensor(X)


# -- factories ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("call", "args", "kwargs"), [
    ("zeros", (2, 3), {}), ("zeros", ((2, 3),), {}), ("zeros", ([4],), {"dtype": "long"}),
    ("ones", (3,), {}), ("ones", (2, 2), {"dtype": "float64"}), ("empty", (2,), {}),
    ("full", ((2, 2), 3), {}), ("full", ((2,), 2.5), {}), ("full", ((2,), True), {}),
    ("full", ((2,), 7), {"dtype": "float64"}),
    ("eye", (3,), {}), ("eye", (2, 4), {"dtype": "int64"}),
    ("arange", (5,), {}), ("arange", (1, 10, 3), {}), ("arange", (0.0, 1.0, 0.1), {}), ("arange", (2, 5.5), {}),
    ("arange", (10, 0, -3), {}), ("arange", (5,), {"dtype": "float64"}),
    ("linspace", (0, 1, 7), {}), ("linspace", (-2.5, 4, 10), {"dtype": "float64"}),
    ("tensor", ([1, 2, 3],), {}), ("tensor", ([1.0, 2],), {}), ("tensor", ([True, False],), {}),
    ("tensor", (3.5,), {}), ("tensor", (7,), {}), ("tensor", (np.arange(3.0),), {}),
    ("tensor", ([[1, 2]],), {"dtype": "float64"}),
])
def test_factories_give_torchs_values_and_dtypes(call, args, kwargs):
    ours_kwargs = {k: getattr(ag, v) if k == "dtype" else v for k, v in kwargs.items()}
    theirs_kwargs = {k: getattr(torch, v) if k == "dtype" else v for k, v in kwargs.items()}
    ours, theirs = getattr(ag, call)(*args, **ours_kwargs), getattr(torch, call)(*args, **theirs_kwargs)
    if call == "empty":
        assert ours.shape == tuple(theirs.shape) and dtype_name(ours) == dtype_name(theirs)
        return
    agree(ours, theirs, rtol=1e-7 if call == "linspace" else 0, atol=1e-7 if call == "linspace" else 0)


def test_like_factories_copy_shape_and_dtype():
    for data in (X, np.arange(4), X.astype(np.float32)):
        for name in ("zeros_like", "ones_like"):
            agree(getattr(ag, name)(Tensor(data)), getattr(torch, name)(torch.tensor(data)))
        agree(ag.full_like(Tensor(data), 2), torch.full_like(torch.tensor(data), 2))
    assert ag.zeros_like(X).dtype == np.float64  # an array (a .grad, say) works too
    assert ag.randn_like(Tensor(X)).dtype == np.float64 and ag.rand_like(Tensor(X.astype(np.float32))).shape == (3, 4)


def test_tensor_copies_and_from_numpy_shares():
    data = np.arange(3.0)
    copied, shared = ag.tensor(data), ag.from_numpy(data)
    data[0] = 9.0
    assert copied.data[0] == 0.0 and shared.data[0] == 9.0
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    assert w.requires_grad and w.is_leaf and w.dtype == ag.float32


def test_dtype_names_are_torchs():
    for name in ("float32", "float64", "float16", "int64", "int32", "int16", "int8", "uint8", "bool", "float",
                 "double", "half", "long", "int", "short"):
        assert str(getattr(ag, name)) == str(getattr(torch, name)).removeprefix("torch.")
    assert Tensor(np.ones(2)).to(ag.float32).dtype == ag.float and ag.zeros(2, dtype=ag.long).dtype == np.int64


# -- random numbers ---------------------------------------------------------------------------------------------


def test_random_factories_have_torchs_shapes_dtypes_and_ranges():
    g = ag.Generator().manual_seed(2147483647)
    for ours, theirs in ((ag.randn(2, 3, generator=g), torch.randn(2, 3)),
                         (ag.randn((4,), generator=g, dtype=ag.float64), torch.randn((4,), dtype=torch.float64)),
                         (ag.rand(5, generator=g), torch.rand(5)),
                         (ag.randint(0, 27, (32,), generator=g), torch.randint(0, 27, (32,))),
                         (ag.randint(5, (3, 2), generator=g), torch.randint(5, (3, 2)))):
        assert ours.shape == tuple(theirs.shape) and dtype_name(ours) == dtype_name(theirs)
    ints = ag.randint(3, 7, (1000,), generator=g).data
    assert ints.min() == 3 and ints.max() == 6
    u = ag.rand(1000, generator=g).data
    assert u.min() >= 0 and u.max() < 1
    probs = Tensor(np.array([[0.0, 1.0, 0.0], [0.5, 0.0, 0.5]]))
    draws = ag.multinomial(probs, 4, replacement=True, generator=g)
    assert draws.shape == (2, 4) and draws.dtype == np.int64
    assert np.all(draws.data[0] == 1) and set(draws.data[1]) <= {0, 2}
    assert sorted(ag.multinomial(Tensor(np.ones(5)), 5, generator=g).data.tolist()) == [0, 1, 2, 3, 4]
    w = ag.randn(3, requires_grad=True)
    assert w.requires_grad and w.is_leaf


def test_the_same_seed_gives_the_same_numbers_and_seeds_layers_too():
    g1, g2 = ag.Generator().manual_seed(42), ag.Generator().manual_seed(42)
    assert np.array_equal(ag.randn(5, generator=g1).data, ag.randn(5, generator=g2).data)
    assert g1.initial_seed() == 42
    ag.manual_seed(7)
    first = (ag.randn(3).data, ag.randint(10, (3,)).data, nn.Linear(3, 2).weight.data.copy())
    ag.manual_seed(7)
    again = (ag.randn(3).data, ag.randint(10, (3,)).data, nn.Linear(3, 2).weight.data.copy())
    for a, b in zip(first, again):
        assert np.array_equal(a, b)
    assert ag.initial_seed() == 7


def test_only_the_cpu_and_clear_errors():
    assert ag.zeros(2, device="cpu").shape == (2,)
    with pytest.raises(ValueError, match="CPU only"):
        ag.zeros(2, device="cuda")
    with pytest.raises(TypeError, match="non-negative integers"):
        ag.zeros(2.5)
    with pytest.raises(TypeError, match="floating-point"):
        ag.randn(2, dtype=ag.int64)
    with pytest.raises(ValueError, match="matrices"):
        ag.mm(Tensor(np.ones(3)), Tensor(np.ones((3, 2))))
