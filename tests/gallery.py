"""A gallery of graphs learners write, for tests/test_gallery.py and benchmarks/draw_dot.py.

Each builder returns the root of a graph after ``backward()``, written the way course material writes it (Python's
``sum()``, generators, a value reused thousands of times), not the way this library would write it best.
"""
from __future__ import annotations

import random

import numpy as np

from autograd import Tensor, Value
from nn import Linear, ReLU, Sequential
from nn import functional as F
from nn.data import make_moons
from nn.scalar import MLP
from nn.train.models import build_cnn


def micrograd_demo_loss(points: int = 100) -> Value:
    """micrograd's demo: MLP(2, [16, 16, 1]) on two moons, the SVM hinge loss and L2, with Python's sum()."""
    random.seed(1337)
    X, y = make_moons(points, noise=0.1, rng=0)
    model = MLP(2, [16, 16, 1])
    inputs = [list(map(Value, xrow)) for xrow in X]
    scores = list(map(model, inputs))
    losses = [(1 + -yi * scorei).relu() for yi, scorei in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    alpha = 1e-4
    reg_loss = alpha * sum(p * p for p in model.parameters())
    total = data_loss + reg_loss
    total.backward()
    return total


def lecture_mlp_loss() -> Value:
    """The lecture's MLP(3, [4, 4, 1]) on its four examples, loss = sum((yout - ygt)**2)."""
    random.seed(0)
    n = MLP(3, [4, 4, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    ys = [1.0, -1.0, -1.0, 1.0]
    ypred = [n(x) for x in xs]
    loss = sum((yout - ygt) ** 2 for ygt, yout in zip(ys, ypred))
    loss.backward()
    return loss


def one_neuron() -> Value:
    """The lecture's neuron, written out: o = tanh(x1·w1 + x2·w2 + b)."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.8813735870195432, label="b")
    x1w1 = x1 * w1
    x1w1.label = "x1*w1"
    x2w2 = x2 * w2
    x2w2.label = "x2*w2"
    x1w1x2w2 = x1w1 + x2w2
    x1w1x2w2.label = "x1*w1 + x2*w2"
    n = x1w1x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    o.backward()
    return o


def sum_of_relus(n: int = 1000) -> Value:
    """sum(v.relu() for v in vs) over n values."""
    rng = random.Random(0)
    vs = [Value(rng.uniform(-1, 1)) for _ in range(n)]
    out = sum(v.relu() for v in vs)
    out.backward()
    return out


def long_chain(n: int = 100_000) -> Value:
    """tanh applied n times: nothing repeats, nothing to summarise."""
    x = Value(0.5, label="x0")
    for _ in range(n):
        x = x.tanh()
    x.backward()
    return x


def used_many_times(n: int = 10_000) -> Value:
    """One value used n times: x · k for k = 0 … n-1, added up in one sum node."""
    x = Value(0.5, label="x")
    out = Value.sum(x * (k / n) for k in range(n))
    out.backward()
    return out


def random_dag(size: int, seed: int = 0) -> Value:
    """``size`` random ops over a growing pool of values (each op reads one or two earlier values), summed."""
    rng = random.Random(seed)
    pool = [Value(rng.uniform(-1, 1), label=f"x{i}") for i in range(4)]
    for _ in range(size):
        a, b = rng.choice(pool[-20:]), rng.choice(pool)
        op = rng.choice(["+", "*", "tanh", "relu", "-"])
        v = a + b if op == "+" else a * b if op == "*" else a - b if op == "-" else getattr(a, op)()
        pool.append(v)
    out = Value.sum(pool[-5:])
    out.backward()
    return out


def tensor_mlp() -> Tensor:
    """A 784-128-10 MLP on a batch of 64, cross-entropy."""
    np.random.seed(0)
    net = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
    images = Tensor(np.random.rand(64, 784).astype(np.float32), label="x")
    loss = F.cross_entropy(net(images), np.random.randint(0, 10, 64))
    loss.label = "loss"
    loss.backward()
    return loss


def cnn() -> Tensor:
    """The training command's CNN (Conv2d, MaxPool2d, ReLU, Flatten, Linear) on a batch of 8 images."""
    rng = np.random.default_rng(0)
    model = build_cnn((8, 16), (32,), rng)
    images = Tensor(rng.random((8, 1, 28, 28), dtype=np.float32), label="images")
    loss = F.cross_entropy(model(images), rng.integers(0, 10, 8))
    loss.label = "loss"
    loss.backward()
    return loss


GALLERY = {
    "micrograd demo loss (sum, L2), 100 points": micrograd_demo_loss,
    "lecture MLP(3, [4, 4, 1]), 4 examples": lecture_mlp_loss,
    "one neuron": one_neuron,
    "sum(relu) over 1,000 values": sum_of_relus,
    "100,000-op chain": long_chain,
    "one value used 10,000 times": used_many_times,
    "random DAG, 30 ops": lambda: random_dag(30, seed=1),
    "random DAG, 300 ops": lambda: random_dag(300, seed=2),
    "random DAG, 3,000 ops": lambda: random_dag(3000, seed=3),
    "tensor MLP 784-128-10": tensor_mlp,
    "CNN (conv 8, conv 16, 32)": cnn,
}

