"""Benchmark: the scalar Value engine against a minimal tape engine (its floor) and the classic design.

Contenders, interleaved round by round in one run:

  engine    autograd.Value: node objects with __slots__, a backward table by op code
  tape      the floor for a scalar engine, written below: every value in one flat list of floats, the graph
            as a list of op tuples appended in creation order, so backward is one reversed loop -- no node
            objects, no topological sort. It builds the same graph as the engine (same fused ``dot`` and
            ``sum``, same constants), so the ratio measures the engine's representation, not its maths.
  classic   the closure-per-node design (a closure and a set of children per node, recursive sort)

Workloads:

  step      one training step of MLP(2, [16, 16, 1]) on 100 two-moons points: forward, hinge loss +
            1e-4·Σp², zero_grad, backward, SGD update; the garbage collector in its default state (on).
  chain     a 20,000-op chain mixing *, +, tanh and x·x (a node used twice): build + backward, and
            backward alone (where the engine's graph walk shows).
  memory    bytes per node of a 50,000-node chain of * and +, by tracemalloc.

Targets (issue 9): step <= 1.5x the tape, chain <= 3x the tape, memory <= 0.25x the classic design.

    python benchmarks/scalar_engine.py [--rounds 7] [--reps 3]
"""
from __future__ import annotations

import argparse
import gc
import math
import os
import random
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from operator import mul
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd.value import Value
from nn.moons import make_moons
from nn.optim import SGD
from nn.scalar import MLP

LR = 0.05
CHAIN_OPS = 20_000
# Everything here runs in one thread, so that thread's CPU time is the work done (garbage collection included),
# and other processes competing for the core cannot inflate it. (Wall time would, on a shared machine.)
CLOCK = time.thread_time

# -- the floor: a minimal tape engine ------------------------------------------------------------------

ADD, SUB, MUL, NEG, RELU, TANH, SUM, DOT = range(8)


class Tape:
    """Values in one list, ops in another. A value is its index; ``val[i]`` its number, and after
    ``backward`` ``grad[i]`` its gradient. Ops are tuples ``(kind, out, a, b)`` in creation order, which
    is already a topological order, so backward walks the list in reverse. Parameters are the first
    ``n_params`` values; ``reset`` drops everything after them."""

    def __init__(self) -> None:
        self.val: list[float] = []
        self.ops: list[tuple] = []
        self.grad: list[float] = []
        self.n_params = 0

    def leaf(self, x: float) -> int:
        self.val.append(float(x))
        return len(self.val) - 1

    def reset(self) -> None:
        del self.val[self.n_params:]
        self.ops.clear()

    def _out(self, x: float, op: tuple) -> int:
        val = self.val
        val.append(x)
        self.ops.append((*op, len(val) - 1))
        return len(val) - 1

    def add(self, a: int, b: int) -> int:
        return self._out(self.val[a] + self.val[b], (ADD, a, b))

    def sub(self, a: int, b: int) -> int:
        return self._out(self.val[a] - self.val[b], (SUB, a, b))

    def mul(self, a: int, b: int) -> int:
        return self._out(self.val[a] * self.val[b], (MUL, a, b))

    def neg(self, a: int) -> int:
        return self._out(-self.val[a], (NEG, a, None))

    def relu(self, a: int) -> int:
        x = self.val[a]
        return self._out(max(0.0, x), (RELU, a, None))

    def tanh(self, a: int) -> int:
        return self._out(math.tanh(self.val[a]), (TANH, a, None))

    def sum(self, xs: tuple[int, ...]) -> int:
        get = self.val.__getitem__
        return self._out(sum(map(get, xs)), (SUM, xs, None))

    def dot(self, ws: tuple[int, ...], xs: tuple[int, ...], b: int) -> int:
        get = self.val.__getitem__
        return self._out(self.val[b] + sum(map(mul, map(get, ws), map(get, xs))), (DOT, (*ws, b), xs))

    def backward(self, root: int) -> None:
        val = self.val
        grad = self.grad = [0.0] * len(val)
        grad[root] = 1.0
        for kind, a, b, out in reversed(self.ops):
            g = grad[out]
            if kind == DOT:
                for w, x in zip(a, b):
                    grad[w] += g * val[x]
                    grad[x] += g * val[w]
                grad[a[-1]] += g
            elif kind == RELU:
                if val[out] > 0.0:
                    grad[a] += g
            elif kind == MUL:
                va = val[a]
                grad[a] += g * val[b]
                grad[b] += g * va
            elif kind == ADD:
                grad[a] += g
                grad[b] += g
            elif kind == SUB:
                grad[a] += g
                grad[b] -= g
            elif kind == NEG:
                grad[a] -= g
            elif kind == TANH:
                t = val[out]
                grad[a] += g * (1.0 - t * t)
            else:  # SUM
                for x in a:
                    grad[x] += g


class TapeMLP:
    """MLP(2, [16, 16, 1]) on a Tape: the same layers, initial weights and ops as nn.scalar.MLP."""

    def __init__(self, tape: Tape, model: MLP) -> None:
        self.tape = tape
        self.layers = []  # per layer, per neuron: (weight indices, bias index, relu?)
        for layer in model.layers:
            self.layers.append([(tuple(tape.leaf(w.data) for w in n.w), tape.leaf(n.b.data), n.nonlin)
                                for n in layer.neurons])
        tape.n_params = len(tape.val)
        self.params = range(tape.n_params)

    def __call__(self, x: tuple[int, ...]) -> int:
        t = self.tape
        for layer in self.layers:
            x = tuple(t.relu(t.dot(w, x, b)) if nonlin else t.dot(w, x, b) for w, b, nonlin in layer)
        return x[0]


def engine_loss(model: MLP, params: list[Value], X: list, y: list) -> Value:
    """micrograd's demo loss: mean(relu(1 − yᵢ·sᵢ)) + 1e-4·(p·p), written with the engine's fused ops.

    ``params`` is fetched once by the caller (as the tape has its parameters' indices), so a step times the
    engine, not ``Module.parameters()``.
    """
    scores = [model(x) for x in X]
    margins = [(1 - yi * si).relu() for yi, si in zip(y, scores)]
    return Value.sum(margins) * (1.0 / len(margins)) + 1e-4 * Value.dot(params, params)


def engine_step(model: MLP, opt: SGD, X: list, y: list) -> float:
    loss = engine_loss(model, opt.params, X, y)
    opt.zero_grad()
    loss.backward()
    opt.step()
    return loss.data


def tape_step(model: TapeMLP, X: list, y: list) -> float:
    """``engine_loss`` op for op on the tape (constants are leaves, as the engine lifts them), backward, SGD."""
    t = model.tape
    t.reset()
    margins = []
    for xi, yi in zip(X, y):
        s = model(tuple(t.leaf(v) for v in xi))
        margins.append(t.relu(t.sub(t.leaf(1.0), t.mul(s, t.leaf(yi)))))
    params = tuple(model.params)
    data_loss = t.mul(t.sum(tuple(margins)), t.leaf(1.0 / len(margins)))
    reg_loss = t.mul(t.dot(params, params, t.leaf(0.0)), t.leaf(1e-4))
    loss = t.add(data_loss, reg_loss)
    t.backward(loss)
    val, grad = t.val, t.grad
    for i in model.params:
        val[i] -= LR * grad[i]
    return val[loss]


def same_graph(model: MLP, tape: TapeMLP, X: list, y: list) -> bool:
    """True if the engine's loss graph has as many op nodes as the tape has ops (after a tape step)."""
    loss = engine_loss(model, model.parameters(), X, y)
    n_ops, seen, stack = 0, set(), [loss]
    while stack:
        v = stack.pop()
        if id(v) in seen or v.is_leaf:
            continue
        seen.add(id(v))
        n_ops += 1
        stack.extend(v.inputs)
    return n_ops == len(tape.tape.ops)


# -- the chain ---------------------------------------------------------------------------------------


def engine_chain(n: int = CHAIN_OPS) -> tuple[float, float]:
    """Seconds to build the chain, and to run backward through it."""
    t0 = CLOCK()
    a, b = Value(1.0001), Value(0.01)
    x = Value(0.5)
    for _ in range(n // 4):
        x = (x * a + b).tanh()
        x = x * x
    t1 = CLOCK()
    x.backward()
    return t1 - t0, CLOCK() - t1


def tape_chain(n: int = CHAIN_OPS) -> tuple[float, float]:
    t0 = CLOCK()
    t = Tape()
    a, b, x = t.leaf(1.0001), t.leaf(0.01), t.leaf(0.5)
    for _ in range(n // 4):
        x = t.tanh(t.add(t.mul(x, a), b))
        x = t.mul(x, x)
    t1 = CLOCK()
    t.backward(x)
    return t1 - t0, CLOCK() - t1


def chain_grads() -> tuple[float, float]:
    """d chain / d a from both engines (they must agree)."""
    a, b = Value(1.0001), Value(0.01)
    x = Value(0.5)
    t = Tape()
    ta, tb, tx = t.leaf(1.0001), t.leaf(0.01), t.leaf(0.5)
    for _ in range(CHAIN_OPS // 4):
        x = (x * a + b).tanh()
        x = x * x
        tx = t.tanh(t.add(t.mul(tx, ta), tb))
        tx = t.mul(tx, tx)
    x.backward()
    t.backward(tx)
    return a.grad, t.grad[ta]


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
        return [*self.w, self.b]


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
    for p in model.parameters():
        p.data -= LR * p.grad
    return loss.data


# -- measurements -------------------------------------------------------------------------------------


def mean_time(fn: Callable[[], object], reps: int) -> float:
    """Mean CPU seconds per call over ``reps`` calls, GC in its default (enabled) state.

    The mean within a round, not the minimum: a design's garbage-collection cost comes in periodic
    collections, which a minimum would hide. Rounds then give min and median of these means.
    """
    t0 = CLOCK()
    for _ in range(reps):
        fn()
    return (CLOCK() - t0) / reps


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


def interleave(contenders: dict[str, Callable[[], float]], rounds: int) -> dict[str, list[float]]:
    """Each round times every contender once, in rotating order; returns the times per contender."""
    names = list(contenders)
    times: dict[str, list[float]] = {n: [] for n in names}
    for r in range(rounds):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            times[n].append(contenders[n]())
    return times


def show(times: dict[str, list[float]], unit: float = 1e3) -> None:
    base = times["tape"]
    for name, ts in times.items():
        ratio = "" if name == "tape" else (f"   / tape {min(ts) / min(base):5.2f}x (min) "
                                           f"{statistics.median(ts) / statistics.median(base):5.2f}x (median)")
        print(f"  {name:8s} min {min(ts) * unit:8.2f} ms  median {statistics.median(ts) * unit:8.2f} ms{ratio}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="scalar engine vs a minimal tape engine and the classic design")
    parser.add_argument("--rounds", type=int, default=7, help="interleaved rounds (default 7)")
    parser.add_argument("--reps", type=int, default=3, help="calls per contender per round, averaged (default 3)")
    parser.add_argument("--no-classic", action="store_true", help="skip the (slow) classic design")
    args = parser.parse_args(argv)
    assert gc.isenabled()
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")

    X, y = make_moons(100, noise=0.1, rng=0)
    ours = MLP(2, [16, 16, 1], rng=random.Random(0))
    tape = TapeMLP(Tape(), ours)  # the same initial weights
    opt = SGD(ours.parameters(), lr=LR)
    random.seed(0)
    classic = ClassicMLP(2, [16, 16, 1])
    # Same graph, same numbers: the tape and the engine must agree before they are timed.
    assert math.isclose(tape_step(tape, X, y), engine_step(ours, opt, X, y), rel_tol=1e-12)
    assert same_graph(ours, tape, X, y), "the tape and the engine build different graphs"
    assert math.isclose(*chain_grads(), rel_tol=1e-12)

    step = {"engine": lambda: mean_time(lambda: engine_step(ours, opt, X, y), args.reps),
            "tape": lambda: mean_time(lambda: tape_step(tape, X, y), args.reps)}
    if not args.no_classic:
        step["classic"] = lambda: mean_time(lambda: classic_step(classic, X, y), 1)
    print(f"one training step, MLP(2, [16, 16, 1]) on 100 points (forward, loss, zero_grad, backward, SGD), "
          f"GC on, {args.rounds} rounds")
    step_times = interleave(step, args.rounds)
    show(step_times)

    print(f"a {CHAIN_OPS:,}-op chain of *, +, tanh, x·x: build, and backward alone, GC on, {args.rounds} rounds")
    build: dict[str, list[float]] = {"engine": [], "tape": []}
    back: dict[str, list[float]] = {"engine": [], "tape": []}
    chains = {"engine": engine_chain, "tape": tape_chain}
    for r in range(args.rounds):
        for name in (("engine", "tape") if r % 2 == 0 else ("tape", "engine")):
            runs = [chains[name]() for _ in range(args.reps)]
            build[name].append(statistics.fmean(f for f, _ in runs))
            back[name].append(statistics.fmean(b for _, b in runs))
    chain_times = {n: [f + b for f, b in zip(build[n], back[n])] for n in build}
    print(" build + backward")
    show(chain_times)
    print(" backward alone")
    show(back)

    ours_b, classic_b = bytes_per_node(Value), bytes_per_node(ClassicValue)
    print("memory of a 50,000-node graph (chain mixing * and +), tracemalloc")
    print(f"  engine   {ours_b:9.1f} bytes/node")
    print(f"  classic  {classic_b:9.1f} bytes/node   ratio {ours_b / classic_b:5.3f}x")

    s = min(step_times["engine"]) / min(step_times["tape"])
    c = min(chain_times["engine"]) / min(chain_times["tape"])
    cb = min(back["engine"]) / min(back["tape"])
    m = ours_b / classic_b
    print("targets (ratios of minima):")
    print(f"  step   {s:5.2f}x the tape   (<= 1.5)   {'met' if s <= 1.5 else 'NOT met'}")
    print(f"  chain  {c:5.2f}x the tape   (<= 3)     {'met' if c <= 3 else 'NOT met'}   (build + backward)")
    print(f"  chain  {cb:5.2f}x the tape   (<= 3)     {'met' if cb <= 3 else 'NOT met'}   (backward alone)")
    print(f"  memory {m:5.3f}x classic    (<= 0.25)  {'met' if m <= 0.25 else 'NOT met'}")
    if "classic" in step_times:
        print(f"  (classic / engine step: {min(step_times['classic']) / min(step_times['engine']):.1f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
