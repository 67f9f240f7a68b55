"""How fast does backproplab train the default CNN on Fashion-MNIST, next to PyTorch on the CPU, and where does the time go?

Model: the default CNN of ``python -m nn.train --model cnn`` (float32, NCHW, batch 128, Adam lr=1e-3):

    conv 1→32 3×3 pad 1, ReLU, max-pool 2   (N, 32, 14, 14)
    conv 32→64 3×3 pad 1, ReLU, max-pool 2  (N, 64, 7, 7)
    flatten, linear 3136→128, ReLU, linear 128→10, cross-entropy

Contenders, in one run: backproplab (nn.Conv2d / MaxPool2d / Flatten / Linear, F.cross_entropy, nn.optim.Adam)
and torch (torch.nn, torch.optim.Adam; oneDNN convolutions), from the same initial weights, on the same batches,
with the same number of threads (BLAS for NumPy, intra-op for torch). A round is a fixed number of training
steps (default 100 batches, 12,800 images: a fifth of an epoch); rounds are interleaved, rotating who goes
first, so slow phases of a shared machine hit both alike. We report the min and median round and the ratios of
both. Then:

  memory     peak memory of one backproplab training step above what the model and batch hold (tracemalloc
             sees every NumPy allocation), beside the activations and im2col matrices it keeps for backward.
  breakdown  the parts of our step timed alone at the model's shapes with the library's own code (im2col copy,
             the three GEMMs of each convolution, col2im, pooling forward and backward); "rest" is the step
             minus those parts (ReLU, the linear layers, the loss, Adam, Python).

    python benchmarks/cnn.py [--rounds 5] [--steps 100] [--threads 1 ...] [--batch 128]
    python benchmarks/cnn.py --profile          # cProfile of backproplab steps instead
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from autograd import Tensor
from nn import Conv2d, Flatten, Linear, MaxPool2d, ReLU, Sequential
from nn import functional as F
from nn.convolution import _col2im, _window_view
from nn.data import load_fashion_mnist
from nn.optim import Adam

LR = 1e-3
TARGET = 2.0  # issue 10: backproplab's time at most 2x PyTorch's


def make_model(rng: np.random.Generator) -> Sequential:
    """The default CNN (see the module docstring), initialised as PyTorch does."""
    return Sequential(
        Conv2d(1, 32, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
        Conv2d(32, 64, 3, padding=1, rng=rng), ReLU(), MaxPool2d(2),
        Flatten(), Linear(64 * 7 * 7, 128, rng=rng), ReLU(), Linear(128, 10, rng=rng),
    )


def load() -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST training images as (N, 1, 28, 28) float32 in [0, 1], and labels."""
    data = load_fashion_mnist(download=False)
    return data.x_train.reshape(-1, 1, 28, 28), data.y_train


# -- contenders ---------------------------------------------------------------------------------


class Backproplab:
    name = "backproplab"

    def __init__(self, model: Sequential) -> None:
        self.model = model
        self.opt = Adam(model.parameters(), lr=LR)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        loss = F.cross_entropy(self.model(Tensor(x)), y)
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return float(loss.item())


class Torch:
    name = "torch"

    def __init__(self, model: Sequential) -> None:
        import torch

        self.torch = torch
        nn = torch.nn
        self.model = nn.Sequential(
            nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(), nn.Linear(128, 10),
        )
        # Same weights: the state_dict keys and shapes are PyTorch's, so it loads unchanged.
        self.model.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR)

    def step(self, x: np.ndarray, y: np.ndarray) -> float:
        torch = self.torch
        loss = torch.nn.functional.cross_entropy(self.model(torch.from_numpy(x)), torch.from_numpy(y))
        self.opt.zero_grad()
        loss.backward()
        self.opt.step()
        return float(loss.item())


# -- the race -----------------------------------------------------------------------------------


def blas_threads() -> int:
    return max((info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"), default=1)


def batches(x: np.ndarray, y: np.ndarray, steps: int, batch: int, rng: np.random.Generator) -> list:
    """``steps`` shuffled batches, gathered (copied) once, outside the timing."""
    idx = rng.permutation(len(x))[: steps * batch]
    return [(np.ascontiguousarray(x[idx[i:i + batch]]), y[idx[i:i + batch]]) for i in range(0, len(idx), batch)]


def race(data: tuple[np.ndarray, np.ndarray], threads: int, rounds: int, steps: int, batch: int,
         seed: int) -> float | None:
    """Interleaved rounds of ``steps`` training steps per contender; prints times and ratios."""
    rng = np.random.default_rng(seed)
    ours = Backproplab(make_model(rng))
    contenders: list = [ours]
    try:
        import torch

        torch.set_num_threads(threads)
        contenders.append(Torch(ours.model))
    except ImportError:
        print("  (torch is not installed: timing backproplab alone)")
    work = batches(*data, steps, batch, rng)
    for c in contenders:  # warm up: first-call costs (allocator, oneDNN kernel choice) out of the timing
        c.step(*work[0])
    times: dict[str, list[float]] = {c.name: [] for c in contenders}
    print(f"\ndefault CNN, batch {batch}, {blas_threads()} BLAS thread(s)"
          + (f", torch {torch.get_num_threads()} thread(s)" if len(contenders) > 1 else "")
          + f", {rounds} interleaved rounds of {steps} steps")
    for r in range(rounds):
        k = r % len(contenders)
        line = []
        for c in contenders[k:] + contenders[:k]:
            t0 = time.perf_counter()
            for xb, yb in work:
                loss = c.step(xb, yb)
            times[c.name].append(time.perf_counter() - t0)
            line.append(f"{c.name} {times[c.name][-1]:.2f} s (loss {loss:.3f})")
        print(f"  round {r + 1}: " + ", ".join(line))
    for c in contenders:
        t = times[c.name]
        print(f"  {c.name:12s} min {min(t):6.2f} s  median {statistics.median(t):6.2f} s   "
              f"{1e3 * min(t) / steps:6.1f} ms/step  ({len(data[0]) / batch * min(t) / steps:5.1f} s/epoch)")
    if "torch" not in times:
        return None
    lo = min(times["backproplab"]) / min(times["torch"])
    mid = statistics.median(times["backproplab"]) / statistics.median(times["torch"])
    verdict = "met" if lo <= TARGET else "NOT met"
    print(f"  backproplab / torch: {lo:.2f}x (min)  {mid:.2f}x (median)   target <= {TARGET}x: {verdict}")
    return lo


# -- memory -------------------------------------------------------------------------------------


def memory(data: tuple[np.ndarray, np.ndarray], batch: int, seed: int) -> None:
    """Peak NumPy memory of one training step, above the model, the optimizer state and the batch."""
    rng = np.random.default_rng(seed)
    ours = Backproplab(make_model(rng))
    xb, yb = batches(*data, 1, batch, rng)[0]
    ours.step(xb, yb)  # the optimizer's state exists after the first step
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    ours.step(xb, yb)
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    # What the graph keeps for backward, by its size: im2col matrices and the activations.
    n = batch
    cols = 4 * n * (1 * 9 * 28 * 28 + 32 * 9 * 14 * 14)
    acts = 4 * n * (2 * 32 * 28 * 28 + 32 * 14 * 14 + 2 * 64 * 14 * 14 + 64 * 7 * 7)
    print(f"\npeak memory of one training step (batch {batch}): {peak / 2**20:.1f} MiB above the model and batch "
          f"(tracemalloc); of which the graph holds im2col matrices {cols / 2**20:.1f} MiB and conv/ReLU/pool "
          f"outputs {acts / 2**20:.1f} MiB until backward")


# -- where the time goes ------------------------------------------------------------------------


def _best(fn: Callable[[], object], repeat: int = 7) -> float:
    fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


def breakdown(data: tuple[np.ndarray, np.ndarray], batch: int, seed: int) -> None:
    """Each part of a backproplab step timed alone (min of 7), at the default CNN's shapes."""
    rng = np.random.default_rng(seed)
    ours = Backproplab(make_model(rng))
    xb, yb = batches(*data, 1, batch, rng)[0]
    step = _best(lambda: ours.step(xb, yb))
    parts: dict[str, float] = {}
    x = xb
    n = batch
    for layer, (c, o, size) in enumerate([(1, 32, 28), (32, 64, 14)], start=1):
        xp = np.zeros((n, c, size + 2, size + 2), np.float32)
        xp[:, :, 1:-1, 1:-1] = x

        def im2col(xp: np.ndarray = xp, c: int = c, size: int = size) -> np.ndarray:
            return _window_view(xp, (3, 3), (1, 1), (1, 1), (size, size)).reshape(c * 9, n * size * size)

        cols = im2col()
        w2 = rng.standard_normal((o, c * 9)).astype(np.float32)
        g2 = rng.standard_normal((o, n * size * size)).astype(np.float32)
        parts[f"conv{layer} im2col copy"] = _best(im2col)
        parts[f"conv{layer} GEMM forward W·cols"] = _best(lambda w2=w2, cols=cols: w2 @ cols)
        parts[f"conv{layer} GEMM ∂W = G·colsᵀ"] = _best(lambda g2=g2, cols=cols: g2 @ cols.T)
        if layer > 1:  # the first layer's input (the images) needs no gradient
            parts[f"conv{layer} GEMM ∂cols = Wᵀ·G"] = _best(lambda w2=w2, g2=g2: w2.T @ g2)
            dcols = w2.T @ g2
            parts[f"conv{layer} col2im"] = _best(lambda dcols=dcols, c=c, size=size: _col2im(
                dcols, (n, c, size, size), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)), (size, size)))
        y = Tensor((w2 @ cols).reshape(o, n, size, size).transpose(1, 0, 2, 3), requires_grad=True)
        pooled = F.max_pool2d(y, 2)
        g = np.ones(pooled.shape, np.float32)
        parts[f"pool{layer} forward"] = _best(lambda y=y: F.max_pool2d(y, 2))
        parts[f"pool{layer} backward"] = _best(lambda pooled=pooled, g=g: pooled._backward(g))
        x = pooled.data
    total = sum(parts.values())
    print(f"\nwhere the time goes: one backproplab step, batch {batch}, {blas_threads()} BLAS thread(s): "
          f"{1e3 * step:.1f} ms (best of 7)")
    for name, t in parts.items():
        print(f"  {name:28s} {1e3 * t:7.2f} ms  {t / step:6.1%}")
    print(f"  {'rest (ReLU, linear, loss, Adam)':28s} {1e3 * (step - total):7.2f} ms  {(step - total) / step:6.1%}")


def profile(data: tuple[np.ndarray, np.ndarray], batch: int, seed: int, steps: int) -> None:
    import cProfile
    import pstats

    rng = np.random.default_rng(seed)
    ours = Backproplab(make_model(rng))
    work = batches(*data, steps, batch, rng)
    ours.step(*work[0])
    prof = cProfile.Profile()
    prof.enable()
    for xb, yb in work:
        ours.step(xb, yb)
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per contender")
    parser.add_argument("--steps", type=int, default=100, help="training steps (batches) per round")
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", nargs="+", type=int, default=[1], help="BLAS and torch thread counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="cProfile backproplab steps instead")
    args = parser.parse_args()
    data = load()
    print(f"numpy {np.__version__}, cores {len(os.sched_getaffinity(0))}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for threads in args.threads:
        with threadpool_limits(limits=threads, user_api="blas"):
            if args.profile:
                profile(data, args.batch, args.seed, min(args.steps, 20))
                continue
            race(data, threads, args.rounds, args.steps, args.batch, args.seed)
            breakdown(data, args.batch, args.seed)
    if not args.profile:
        memory(data, args.batch, args.seed)


if __name__ == "__main__":
    main()
