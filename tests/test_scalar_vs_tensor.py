"""The two engines agree: the same MLP, weights and data give the same loss and gradients.

The scalar MLP (``nn.MLP`` on ``Value``) and the tensor one (``Sequential`` of ``Linear``/``ReLU`` on
``Tensor``) compute z = Wa + b, a = relu(z) in different ways — one fused node per neuron versus one
matrix product per layer — so agreement to float64 round-off is a strong check of both.
"""
import math
import random

import numpy as np
import pytest

import nn
from autograd import Tensor, Value
from nn import functional as F

SIZES = [3, 5, 4, 3]  # 3 inputs, two hidden ReLU layers, 3 linear outputs


def twin_models(seed: int) -> tuple[nn.MLP, nn.Sequential]:
    """A scalar MLP and a float64 tensor MLP holding exactly the same weights."""
    scalar = nn.MLP(SIZES[0], SIZES[1:], rng=random.Random(seed))
    rng = np.random.default_rng(seed)
    for layer in scalar.layers:  # nn.MLP starts biases at 0; give them values so they are tested too
        for neuron in layer.neurons:
            neuron.b.data = float(rng.uniform(-0.5, 0.5))
    mods: list[nn.Module] = []
    for i, layer in enumerate(scalar.layers):
        linear = nn.Linear(SIZES[i], SIZES[i + 1])
        linear.weight = Tensor(np.array([[w.data for w in n.w] for n in layer.neurons]), requires_grad=True)
        linear.bias = Tensor(np.array([n.b.data for n in layer.neurons]), requires_grad=True)
        mods.append(linear)
        if i < len(scalar.layers) - 1:
            mods.append(nn.ReLU())
    return scalar, nn.Sequential(*mods)


def scalar_grads(scalar: nn.MLP) -> list[np.ndarray]:
    """Per layer: the weight gradient matrix (out, in) and the bias gradient vector, from Values."""
    grads = []
    for layer in scalar.layers:
        grads.append(np.array([[w.grad for w in n.w] for n in layer.neurons]))
        grads.append(np.array([n.b.grad for n in layer.neurons]))
    return grads


def data(seed: int, n: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed + 100)
    return rng.normal(size=(n, SIZES[0])), rng.integers(0, SIZES[-1], size=n)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_cross_entropy_loss_and_gradients_agree(seed):
    scalar, tensor = twin_models(seed)
    x, y = data(seed)

    # Scalar: mean over samples of  log Σₖ exp(zₖ) − z_y, written out with Values.
    total = Value(0.0)
    for xi, yi in zip(x.tolist(), y.tolist()):
        z = scalar(xi)
        total = total + Value.sum([zk.exp() for zk in z]).log() - z[yi]
    loss_s = total / len(x)
    loss_s.backward()

    loss_t = F.cross_entropy(tensor(Tensor(x)), y)
    loss_t.backward()

    assert math.isclose(loss_s.data, loss_t.item(), rel_tol=1e-12)
    tensor_grads = [p.grad for p in tensor.parameters()]
    for gs, gt in zip(scalar_grads(scalar), tensor_grads, strict=True):
        np.testing.assert_allclose(gs, gt, rtol=1e-10, atol=1e-12)


def test_squared_error_gradients_agree():
    scalar, tensor = twin_models(7)
    x, _ = data(7)
    target = np.random.default_rng(3).normal(size=(len(x), SIZES[-1]))

    total = Value(0.0)
    for xi, ti in zip(x.tolist(), target.tolist()):
        total = total + Value.sum([(zk - tk) ** 2 for zk, tk in zip(scalar(xi), ti)])
    (total / target.size).backward()

    F.mse_loss(tensor(Tensor(x)), Tensor(target)).backward()

    for gs, gt in zip(scalar_grads(scalar), [p.grad for p in tensor.parameters()], strict=True):
        np.testing.assert_allclose(gs, gt, rtol=1e-10, atol=1e-12)


def test_state_dicts_use_the_same_numbers():
    scalar, tensor = twin_models(5)
    sd = tensor.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias", "4.weight", "4.bias"]
    first = scalar.layers[0].neurons
    assert sd["0.weight"][1, 2] == first[1].w[2].data
    assert sd["0.bias"][3] == first[3].b.data
