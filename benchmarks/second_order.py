"""How fast is a Hessian-vector product here, next to PyTorch's double backward?

Workload: the cross-entropy loss of a 784-128-10 ReLU MLP (nn.Sequential, float32) on one Fashion-MNIST batch of
128, and H·v for a random v over all four parameters (101,770 numbers). Contenders, in one run:

  grad              one first-order gradient (backward() into .grad): the unit the others are measured in
  hvp               autograd.functional.hvp(loss, params, v): the gradient with create_graph, then its backward
  grad of grad      the same spelled out: g = grad(L, θ, create_graph=True); grad(g, θ, v)
  torch grad        torch: loss.backward()
  torch hvp         torch.autograd.functional.hvp (PyTorch computes it with one more backward pass than vhp)
  torch grad/grad   torch.autograd.grad twice, as above (PyTorch's fastest H·v)

The results are checked first: both libraries' H·v agree (float32, relative 1e-4). Rounds are interleaved: in
each round every contender runs ``--reps`` times in rotating order and keeps its best; the table gives the min
and median over rounds, and ratios of ours to torch's (of the minima, and the median of the per-round ratios).
BLAS and torch run on ``--threads`` threads (default 1), stated in the output.

    python benchmarks/second_order.py [--rounds 7] [--reps 5] [--threads 1]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from autograd import Tensor, grad
from autograd.functional import hvp
from nn import Linear, ReLU, Sequential
from nn import functional as F
from nn.data import load_fashion_mnist

BATCH = 128


def batch() -> tuple[np.ndarray, np.ndarray]:
    """The first 128 training images, standardised, and their labels."""
    data = load_fashion_mnist()
    x = data.x_train[:BATCH].astype(np.float32)
    x = (x - x.mean()) / x.std()
    return x, data.y_train[:BATCH].astype(np.int64)


def ours(x: np.ndarray, y: np.ndarray, seed: int) -> tuple[dict[str, Callable[[], object]], list[np.ndarray]]:
    np.random.seed(seed)  # nn.Linear draws its initial weights from NumPy's global generator
    model = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
    params = model.parameters()
    vs = [np.random.default_rng(seed).standard_normal(p.shape).astype(np.float32) for p in params]
    xt = Tensor(x)

    def loss_of(w1: Tensor, b1: Tensor, w2: Tensor, b2: Tensor) -> Tensor:  # the loss as a function of θ
        return F.cross_entropy(F.linear(F.linear_relu(xt, w1, b1), w2, b2), y)

    def first() -> None:
        for p in params:
            p.grad = None
        F.cross_entropy(model(xt), y).backward()

    def functional_hvp() -> list[np.ndarray]:
        _, hv = hvp(loss_of, tuple(params), tuple(Tensor(v) for v in vs))
        return [h.data for h in hv]

    def grad_of_grad() -> list[np.ndarray]:
        gs = grad(F.cross_entropy(model(xt), y), params, create_graph=True)
        return [h.data for h in grad(list(gs), params, vs)]

    return {"grad": first, "hvp": functional_hvp, "grad of grad": grad_of_grad}, [p.data.copy() for p in params] + vs


def theirs(x: np.ndarray, y: np.ndarray, numbers: list[np.ndarray]) -> dict[str, Callable[[], object]]:
    import torch

    model = torch.nn.Sequential(torch.nn.Linear(784, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    params = list(model.parameters())
    with torch.no_grad():
        for p, a in zip(params, numbers[:4]):
            p.copy_(torch.from_numpy(a))
    vs = tuple(torch.from_numpy(v) for v in numbers[4:])
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    tF = torch.nn.functional

    def loss_of(w1, b1, w2, b2):
        return tF.cross_entropy(tF.linear(tF.relu(tF.linear(xt, w1, b1)), w2, b2), yt)

    def first() -> None:
        model.zero_grad(set_to_none=True)
        tF.cross_entropy(model(xt), yt).backward()

    def functional_hvp() -> list[np.ndarray]:
        _, hv = torch.autograd.functional.hvp(loss_of, tuple(p.detach() for p in params), vs)
        return [h.numpy() for h in hv]

    def grad_of_grad() -> list[np.ndarray]:
        gs = torch.autograd.grad(tF.cross_entropy(model(xt), yt), params, create_graph=True)
        return [h.numpy() for h in torch.autograd.grad(gs, params, vs)]

    return {"torch grad": first, "torch hvp": functional_hvp, "torch grad/grad": grad_of_grad}


def check(contenders: dict[str, Callable[[], object]]) -> None:
    """Every H·v agrees with torch's grad of grad (float32: relative 1e-4 of the largest entry)."""
    ref = contenders.get("torch grad/grad")
    if ref is None:
        return
    want = ref()
    for name in ("hvp", "grad of grad", "torch hvp"):
        for got, w in zip(contenders[name](), want):
            scale = float(np.abs(w).max())
            err = float(np.abs(got - w).max())
            if err > 1e-4 * scale:
                raise SystemExit(f"{name}: H·v differs from torch's by {err:.3g} (largest entry {scale:.3g})")
    print("check: hvp and grad of grad agree with torch's H·v (max error < 1e-4 of the largest entry)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    x, y = batch()
    with threadpool_limits(args.threads):
        contenders, numbers = ours(x, y, seed=0)
        try:
            import torch

            torch.set_num_threads(args.threads)
            contenders.update(theirs(x, y, numbers))
        except ImportError:
            print("(torch is not installed: ours only)")
        blas = ", ".join(f"{i['internal_api']} {i['num_threads']} thread(s)" for i in threadpool_info())
        print(f"784-128-10 ReLU MLP, cross-entropy, batch {BATCH}, float32; BLAS: {blas}; "
              f"torch threads: {args.threads if 'torch grad' in contenders else '-'}")
        check(contenders)
        times: dict[str, list[float]] = {name: [] for name in contenders}
        names = list(contenders)
        for r in range(args.rounds):
            order = names[r % len(names):] + names[: r % len(names)]  # rotate who goes first
            for name in order:
                fn = contenders[name]
                best = float("inf")
                for _ in range(args.reps):
                    start = time.perf_counter()
                    fn()
                    best = min(best, time.perf_counter() - start)
                times[name].append(best)
    report(times)


def report(times: dict[str, list[float]]) -> None:
    print(f"\n{'contender':<18}{'min ms':>9}{'median ms':>11}{'/ grad':>9}")
    base = min(times["grad"])
    for name, ts in times.items():
        unit = min(times["torch grad"]) if name.startswith("torch") and "torch grad" in times else base
        print(f"{name:<18}{1e3 * min(ts):>9.2f}{1e3 * statistics.median(ts):>11.2f}{min(ts) / unit:>9.2f}")
    if "torch grad/grad" not in times:
        return
    print(f"\n{'ours / torch':<32}{'ratio of minima':>16}{'median of per-round ratios':>28}")
    for mine, ref in (("grad", "torch grad"), ("hvp", "torch hvp"), ("hvp", "torch grad/grad"),
                      ("grad of grad", "torch grad/grad")):
        per_round = statistics.median(a / b for a, b in zip(times[mine], times[ref]))
        print(f"{mine + ' / ' + ref:<32}{min(times[mine]) / min(times[ref]):>16.2f}{per_round:>28.2f}")


if __name__ == "__main__":
    main()
