"""Benchmark: this scalar engine against the classic closure-per-node design, measured in one run.

Prints the time of one training step of MLP(2, [16, 16, 1]) on 100 two-moons points (forward, hinge
loss + 1e-4·Σp², zero_grad, backward; no update) and the bytes per node of a 50,000-node graph, for
both engines, and the ratios. The classic baseline is timed with the garbage collector on (its normal
state) and off, since its per-node reference cycles make the collector's full passes its main cost.

    python benchmarks/scalar_engine.py [--steps 5]
"""
from __future__ import annotations

import argparse
import gc
import math
import random
import statistics
import sys
import time
import tracemalloc
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd.value import Value
from nn.moons import hinge_loss, make_moons
from nn.scalar import MLP

# -- the classic design: a closure per node, a set of children, recursive topological sort -----------


class ClassicValue:
    def __init__(self, data, _children=(), _op=""):
        self.data = data
        self.grad = 0
        self._backward = lambda: None
        self._prev = set(_children)
        self._op = _op

    def __add__(self, other):
        other = other if isinstance(other, ClassicValue) else ClassicValue(other)
        out = ClassicValue(self.data + other.data, (self, other), "+")

        def _backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = _backward
        return out

    def __mul__(self, other):
        other = other if isinstance(other, ClassicValue) else ClassicValue(other)
        out = ClassicValue(self.data * other.data, (self, other), "*")

        def _backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = _backward
        return out

    def relu(self):
        out = ClassicValue(max(self.data, 0), (self,), "ReLU")

        def _backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = _backward
        return out

    def backward(self):
        topo, visited = [], set()

        def build_topo(v):
            if v not in visited:
                visited.add(v)
                for child in v._prev:
                    build_topo(child)
                topo.append(v)

        build_topo(self)
        self.grad = 1
        for v in reversed(topo):
            v._backward()

    def __neg__(self):
        return self * -1

    def __radd__(self, other):
        return self + other

    def __rmul__(self, other):
        return self * other


class ClassicNeuron:
    def __init__(self, nin, nonlin=True):
        self.w = [ClassicValue(random.uniform(-1, 1)) for _ in range(nin)]
        self.b = ClassicValue(0)
        self.nonlin = nonlin

    def __call__(self, x):
        act = sum((wi * xi for wi, xi in zip(self.w, x)), self.b)
        return act.relu() if self.nonlin else act

    def parameters(self):
        return self.w + [self.b]


class ClassicMLP:
    def __init__(self, nin, nouts):
        sz = [nin, *nouts]
        self.layers = [
            [ClassicNeuron(sz[i], nonlin=i != len(nouts) - 1) for _ in range(sz[i + 1])] for i in range(len(nouts))
        ]

    def __call__(self, x):
        for layer in self.layers:
            x = [n(x) for n in layer]
        return x[0] if len(x) == 1 else x

    def parameters(self):
        return [p for layer in self.layers for n in layer for p in n.parameters()]

    def zero_grad(self):
        for p in self.parameters():
            p.grad = 0


def classic_step(model, X, y):
    inputs = [[ClassicValue(v) for v in row] for row in X]
    scores = [model(x) for x in inputs]
    losses = [(1 + -yi * si).relu() for yi, si in zip(y, scores)]
    data_loss = sum(losses) * (1.0 / len(losses))
    reg_loss = 1e-4 * sum(p * p for p in model.parameters())
    loss = data_loss + reg_loss
    model.zero_grad()
    loss.backward()
    return loss.data


def engine_step(model, X, y):
    loss, _ = hinge_loss(model, X, y, alpha=1e-4)
    model.zero_grad()
    loss.backward()
    return loss.data


# -- measurements -------------------------------------------------------------------------------------


def time_steps(step, model, X, y, steps: int, gc_on: bool) -> float:
    """Mean seconds per step over ``steps`` steps after one warm-up step.

    The mean, not the minimum: the classic design's cost comes in periodic full collections, which a
    minimum would hide.
    """
    was_enabled = gc.isenabled()
    gc.collect()
    (gc.enable if gc_on else gc.disable)()
    try:
        step(model, X, y)
        times = []
        for _ in range(steps):
            t0 = time.perf_counter()
            step(model, X, y)
            times.append(time.perf_counter() - t0)
    finally:
        (gc.enable if was_enabled else gc.disable)()
    return statistics.fmean(times)


def bytes_per_node(make_leaf, n_nodes: int = 50_000) -> float:
    """Memory held by a chain x ← x·a, x ← x + b (alternating) of ``n_nodes`` op nodes, per node."""
    gc.collect()
    tracemalloc.start()
    try:
        a, b = make_leaf(1.0000001), make_leaf(1e-9)
        before = tracemalloc.get_traced_memory()[0]
        x = a
        for i in range(n_nodes):
            x = x * a if i % 2 == 0 else x + b
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    assert math.isfinite(x.data)
    return (after - before) / n_nodes


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="scalar engine vs the classic closure-based design")
    parser.add_argument("--steps", type=int, default=5, help="timed steps per configuration (default 5)")
    args = parser.parse_args(argv)

    X, y = make_moons(100, noise=0.1, rng=0)
    random.seed(0)
    classic = ClassicMLP(2, [16, 16, 1])
    ours = MLP(2, [16, 16, 1], rng=random.Random(0))

    ours_s = time_steps(engine_step, ours, X, y, args.steps, gc_on=True)
    classic_off = time_steps(classic_step, classic, X, y, args.steps, gc_on=False)
    classic_on = time_steps(classic_step, classic, X, y, args.steps, gc_on=True)
    ours_b = bytes_per_node(Value)
    classic_b = bytes_per_node(ClassicValue)

    print("one training step, MLP(2, [16, 16, 1]) on 100 points (forward + loss + zero_grad + backward)")
    print(f"  this engine (GC on)      {ours_s * 1e3:9.1f} ms")
    print(f"  classic     (GC on)      {classic_on * 1e3:9.1f} ms   speed-up {classic_on / ours_s:6.1f}x")
    print(f"  classic     (GC off)     {classic_off * 1e3:9.1f} ms   speed-up {classic_off / ours_s:6.1f}x")
    print("memory of a 50,000-node graph (chain mixing * and +), tracemalloc")
    print(f"  this engine              {ours_b:9.1f} bytes/node")
    print(f"  classic                  {classic_b:9.1f} bytes/node   ratio {ours_b / classic_b:5.3f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
