"""Second derivatives through the conv family: conv2d, unfold/fold, pad, max_pool2d, max_unpool2d, avg_pool2d,
adaptive_avg_pool2d and dropout2d under ``autograd.grad(..., create_graph=True)`` and
``backward(create_graph=True)``.

Each op's rule, run on Tensors, builds its gradient from ops with known rules, so the gradient can be
differentiated again. Checked two ways, in float64: against PyTorch's double backward (the gradient of the sum
of squares of the first gradient), and against central finite differences of the first gradient (a Hessian-
vector product, H·v = d/dt ∇L(x + t·v)).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import torch_or_skip

import autograd
from autograd import Tensor
from nn import functional as F

RNG = np.random.default_rng(0)
DROP_MASK_SEED = 7


def distinct(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Values at least 1/10 apart (no ties, no kinks within a finite-difference step), in random order."""
    rng = np.random.default_rng(seed)
    return (rng.permutation(int(np.prod(shape))).reshape(shape) - np.prod(shape) / 2) / 10.0


# Each case: name, our op, torch's op (on torch tensors), the inputs' shapes (or arrays). The loss is
# Σ op(*inputs)³, whose first gradient still depends on the inputs for every op here (even the linear ones).
def _torch_conv(torch):
    return lambda x, w, b: torch.nn.functional.conv2d(x, w, b, (2, 1), 1, (1, 2), 2)


CASES = {
    "conv2d": (lambda x, w, b: F.conv2d(x, w, b, (2, 1), 1, (1, 2), 2), _torch_conv,
               [(2, 4, 6, 7), (6, 2, 3, 2), (6,)]),
    "conv2d same, depthwise": (lambda x, w: F.conv2d(x, w, None, 1, "same", 1, 3),
                               lambda torch: lambda x, w: torch.nn.functional.conv2d(x, w, None, 1, "same", 1, 3),
                               [(1, 3, 5, 6), (3, 1, 2, 3)]),
    "unfold": (lambda x: F.unfold(x, (2, 3), 1, 1, (2, 1)),
               lambda torch: lambda x: torch.nn.functional.unfold(x, (2, 3), 1, 1, (2, 1)), [(2, 2, 5, 4)]),
    "fold": (lambda c: F.fold(c, (5, 4), (2, 3), 1, 1, (2, 1)),
             lambda torch: lambda c: torch.nn.functional.fold(c, (5, 4), (2, 3), 1, 1, (2, 1)), [(2, 12, 12)]),
    "pad reflect": (lambda x: F.pad(x, (2, 1, 1, 2), "reflect"),
                    lambda torch: lambda x: torch.nn.functional.pad(x, (2, 1, 1, 2), "reflect"), [(2, 2, 4, 5)]),
    "pad circular": (lambda x: F.pad(x, (1, 2, 0, 1), "circular"),
                     lambda torch: lambda x: torch.nn.functional.pad(x, (1, 2, 0, 1), "circular"), [(2, 2, 4, 5)]),
    "max_pool2d": (lambda x: F.max_pool2d(x, 3, 2, 1, 1, True),
                   lambda torch: lambda x: torch.nn.functional.max_pool2d(x, 3, 2, 1, 1, True), [(2, 2, 7, 6)]),
    "max_pool2d 2×2": (lambda x: F.max_pool2d(x, 2), lambda torch: lambda x: torch.nn.functional.max_pool2d(x, 2),
                       [(2, 3, 6, 6)]),
    "avg_pool2d": (lambda x: F.avg_pool2d(x, 3, 2, 1, True, False),
                   lambda torch: lambda x: torch.nn.functional.avg_pool2d(x, 3, 2, 1, True, False), [(2, 2, 7, 6)]),
    "adaptive_avg_pool2d": (lambda x: F.adaptive_avg_pool2d(x, (3, 2)),
                            lambda torch: lambda x: torch.nn.functional.adaptive_avg_pool2d(x, (3, 2)),
                            [(2, 2, 7, 6)]),
    "adaptive_avg_pool2d global": (lambda x: F.adaptive_avg_pool2d(x, 1),
                                   lambda torch: lambda x: torch.nn.functional.adaptive_avg_pool2d(x, 1),
                                   [(2, 2, 4, 4)]),
}


def _unpool_case():
    x = distinct((2, 2, 6, 6), 3)
    _, idx = F.max_pool2d(Tensor(x), 2, return_indices=True)

    def ours(v):
        return F.max_unpool2d(v, idx, 2)

    def theirs(torch):
        return lambda v: torch.nn.functional.max_unpool2d(v, torch.tensor(idx.data), 2)

    return ours, theirs, [(2, 2, 3, 3)]


def _dropout_case():
    def ours(x):
        return F.dropout2d(x, 0.5, rng=np.random.default_rng(DROP_MASK_SEED))

    def theirs(torch):
        def f(x):  # the same mask as ours: dropout2d is x times a constant mask, so apply that mask
            mask = F.dropout2d(Tensor(np.ones(tuple(x.shape))), 0.5, rng=np.random.default_rng(DROP_MASK_SEED)).data
            return x * torch.tensor(mask)
        return f

    return ours, theirs, [(3, 4, 2, 2)]


CASES["max_unpool2d"] = _unpool_case()
CASES["dropout2d"] = _dropout_case()


def _inputs(shapes: list[tuple[int, ...]], seed: int) -> list[np.ndarray]:
    return [distinct(s, seed + k) for k, s in enumerate(shapes)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_double_backward_matches_torch(name):
    torch = torch_or_skip()
    ours, theirs, shapes = CASES[name]
    arrays = _inputs(shapes, 10)
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    first = autograd.grad((ours(*xs) ** 3).sum(), xs, create_graph=True)
    second = autograd.grad(sum((g * g).sum() for g in first), xs)
    txs = [torch.tensor(a, requires_grad=True) for a in arrays]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns that an even kernel with padding="same" copies the input
        tfirst = torch.autograd.grad((theirs(torch)(*txs) ** 3).sum(), txs, create_graph=True)
    tsecond = torch.autograd.grad(sum((g * g).sum() for g in tfirst), txs)
    for got, want in zip(first, tfirst):
        np.testing.assert_allclose(got.data, want.detach().numpy(), rtol=1e-10, atol=1e-10)
    for got, want in zip(second, tsecond):
        np.testing.assert_allclose(got.data, want.numpy(), rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("name", sorted(CASES))
def test_hessian_vector_products_match_finite_differences_of_the_gradient(name):
    ours, _, shapes = CASES[name]
    arrays = _inputs(shapes, 20)
    rng = np.random.default_rng(21)
    vs = [rng.standard_normal(a.shape) for a in arrays]
    xs = [Tensor(a, requires_grad=True) for a in arrays]
    first = autograd.grad((ours(*xs) ** 3).sum(), xs, create_graph=True)
    hv = autograd.grad(sum((g * Tensor(v)).sum() for g, v in zip(first, vs)), xs, allow_unused=True)

    def gradient_at(t: float) -> list[np.ndarray]:
        moved = [Tensor(a + t * v, requires_grad=True) for a, v in zip(arrays, vs)]
        return [g.data for g in autograd.grad((ours(*moved) ** 3).sum(), moved)]

    h = 1e-4  # inputs are ≥ 0.1 apart, so no maximum changes hands within the step
    up, down = gradient_at(h), gradient_at(-h)
    for got, a, b in zip(hv, up, down):
        numeric = (a - b) / (2 * h)  # error ~ h²·(third derivative) and rounding ~ eps·|∇L|/h: relative to the scale
        np.testing.assert_allclose(got.data, numeric, rtol=1e-6, atol=1e-7 * np.abs(numeric).max())


def test_backward_with_create_graph_gives_differentiable_grads_through_a_small_cnn():
    torch = torch_or_skip()
    rng = np.random.default_rng(30)
    x, w1, w2 = rng.standard_normal((2, 1, 8, 8)), rng.standard_normal((4, 1, 3, 3)), rng.standard_normal((3, 4, 3, 3))
    X, W1, W2 = (Tensor(a, requires_grad=True) for a in (x, w1, w2))
    tx, tw1, tw2 = (torch.tensor(a, requires_grad=True) for a in (x, w1, w2))

    def net(f, x, w1, w2, relu):
        h = relu(f.avg_pool2d(f.max_pool2d(f.conv2d(x, w1, None, 1, 1), 2), 2, 1, 1, True))
        return f.adaptive_avg_pool2d(f.conv2d(h, w2, None, 1, 1), 1).sum() ** 2

    net(F, X, W1, W2, F.relu).backward(create_graph=True)
    tn = net(torch.nn.functional, tx, tw1, tw2, torch.relu)
    tg = torch.autograd.grad(tn, [tw1, tw2], create_graph=True)
    assert isinstance(W1.grad, Tensor) and W1.grad.requires_grad  # a gradient in a graph of its own
    penalty = (W1.grad ** 2).sum() + (W2.grad ** 2).sum()  # a gradient penalty, as in WGAN-GP
    got = autograd.grad(penalty, [X, W1, W2])
    want = torch.autograd.grad((tg[0] ** 2).sum() + (tg[1] ** 2).sum(), [tx, tw1, tw2])
    for a, b in zip(got, want):
        np.testing.assert_allclose(a.data, b.numpy(), rtol=1e-8, atol=1e-10)


def test_the_second_order_graph_is_built_from_ops_with_readable_rules():
    # conv2d's rule under create_graph is made of unfold, fold and @: each drawn with its own rule text.
    x = Tensor(RNG.standard_normal((1, 2, 5, 5)), requires_grad=True)
    w = Tensor(RNG.standard_normal((3, 2, 3, 3)), requires_grad=True)
    gx, gw = autograd.grad((F.conv2d(x, w, None, 1, 1) ** 2).sum(), [x, w], create_graph=True)
    ops = set()
    stack = [gx, gw]
    while stack:
        t = stack.pop()
        ops.add(t.op)
        stack.extend(t.inputs)
    assert {"fold", "unfold", "@", "conv2d"} <= ops
    source = autograd.draw_dot((gx ** 2).sum() + (gw ** 2).sum(), show_local=True).source
    assert "fold(g)" in source and "unfold(g)" in source


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradgradcheck_passes_on_every_op(name):
    ours, _, shapes = CASES[name]
    xs = [Tensor(a, requires_grad=True) for a in _inputs(shapes, 40)]
    report = autograd.gradgradcheck(lambda *ts: (ours(*ts) ** 3).sum(), xs)
    assert report.ok, report


@pytest.mark.parametrize("name", sorted(CASES))
def test_gradcheck_passes_on_every_op(name):
    # First derivatives of every op against central finite differences (the same cases, float64).
    ours, _, shapes = CASES[name]
    xs = [Tensor(a, requires_grad=True) for a in _inputs(shapes, 50)]
    report = autograd.gradcheck(lambda *ts: (ours(*ts) ** 3).sum(), xs)
    assert report.ok, report
