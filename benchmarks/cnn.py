"""How fast does backproplab train the default CNN on Fashion-MNIST, next to PyTorch on the CPU, and where does the time go?

Model: the default CNN of ``python -m nn.train --model cnn`` (``nn.train.models.build_cnn``; float32, NCHW, batch 128,
Adam lr=1e-3):

    conv 1→32 3×3 pad 1, max-pool 2, ReLU   (N, 32, 14, 14)
    conv 32→64 3×3 pad 1, max-pool 2, ReLU  (N, 64, 7, 7)
    flatten, linear 3136→128, ReLU, linear 128→10, cross-entropy

Contenders, in one run: backproplab (nn.Conv2d / MaxPool2d / Flatten / Linear, F.cross_entropy, nn.optim.Adam)
and torch (torch.nn, torch.optim.Adam; oneDNN convolutions), from the same initial weights, on the same batches,
with the same number of threads (BLAS for NumPy, intra-op for torch). A round is a fixed number of training
steps (default 100 batches, 12,800 images: a fifth of an epoch); rounds are interleaved, rotating who goes
first, so slow phases of a shared machine hit both alike. We report the min and median round and the ratios of
both. Then:

  memory     peak memory of one backproplab training step above what the model and batch hold (tracemalloc
             sees every NumPy allocation), beside the activations and im2col matrices it keeps for backward.
  breakdown  each op's time inside real backproplab steps (every layer's forward, every node's backward, Adam,
             and the engine's own share), then the second convolution's parts timed alone with the library's
             own code: the im2col copy, its three GEMMs, col2im.

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
from autograd.graph import topological_order
from nn import Sequential
from nn import functional as F
from nn.convolution import _col2im, _padded, _window_view
from nn.data import load_fashion_mnist
from nn.train.models import build_cnn
from nn.optim import Adam
from nn.train.command import DEFAULT_CNN_CHANNELS, DEFAULT_CNN_HIDDEN

LR = 1e-3
TARGET = 2.0  # issue 10: backproplab's time at most 2x PyTorch's


def make_model(rng: np.random.Generator) -> Sequential:
    """The default CNN of nn.train (see the module docstring), initialised as PyTorch does."""
    return build_cnn(DEFAULT_CNN_CHANNELS, DEFAULT_CNN_HIDDEN, rng)


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
        self.model = nn.Sequential(  # the same layers in the same order as nn.train.models.build_cnn
            nn.Conv2d(1, 32, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
            nn.Conv2d(32, 64, 3, padding=1), nn.MaxPool2d(2), nn.ReLU(),
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
    # What the graph keeps for backward, by its size: im2col matrices (each with its row of ones for the bias)
    # and the activations.
    n = batch
    cols = 4 * n * ((1 * 9 + 1) * 28 * 28 + (32 * 9 + 1) * 14 * 14)
    acts = 4 * n * (32 * 28 * 28 + 2 * 32 * 14 * 14 + 64 * 14 * 14 + 2 * 64 * 7 * 7)
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


def in_step(data: tuple[np.ndarray, np.ndarray], batch: int, seed: int, steps: int = 12) -> dict[str, float]:
    """Each op's time inside real training steps (median over ``steps``): every layer's forward, every node's
    backward (its closure, wrapped with a timer), Adam; "engine" is the rest of the step (the backward walk,
    gradient accumulation, zero_grad, Python)."""
    rng = np.random.default_rng(seed)
    ours = Backproplab(make_model(rng))
    times: dict[str, list[float]] = {}

    def note(name: str, t: float) -> None:
        times.setdefault(name, []).append(t)

    for k, (xb, yb) in enumerate(batches(*data, steps + 2, batch, rng)):
        t_step = time.perf_counter()
        h = Tensor(xb)
        for i, layer in enumerate(ours.model):
            t0 = time.perf_counter()
            h = layer(h)
            note(f"forward  {i} {type(layer).__name__}", time.perf_counter() - t0)
        loss = F.cross_entropy(h, yb)
        for node in topological_order(loss, lambda t: t._parents):
            if node._backward is not None and node.op != "cross_entropy":
                def timed(g: np.ndarray, inner: Callable = node._backward, name: str = f"backward {node.op} "
                          f"{tuple(node.shape[1:])}") -> object:
                    t0 = time.perf_counter()
                    out = inner(g)
                    note(name, time.perf_counter() - t0)
                    return out
                node._backward = timed
        ours.opt.zero_grad()
        loss.backward()
        t0 = time.perf_counter()
        ours.opt.step()
        note("Adam step", time.perf_counter() - t0)
        note("step", time.perf_counter() - t_step)
        if k < 2:  # warm-up steps
            times.clear()
    med = {name: statistics.median(ts) for name, ts in times.items()}
    step = med.pop("step")
    med["engine (backward walk, zero_grad, Python)"] = step - sum(med.values())
    med["step"] = step
    return med


def breakdown(data: tuple[np.ndarray, np.ndarray], batch: int, seed: int) -> None:
    """Where a backproplab step's time goes: each op inside real steps, then conv2's parts alone."""
    parts = in_step(data, batch, seed)
    step = parts.pop("step")
    print(f"\nwhere the time goes: one backproplab step, batch {batch}, {blas_threads()} BLAS thread(s): "
          f"{1e3 * step:.1f} ms (median of 12); ops over 0.5 ms")
    for name, t in sorted(parts.items(), key=lambda kv: -kv[1]):
        if t >= 5e-4:
            print(f"  {name:42s} {1e3 * t:7.2f} ms  {t / step:6.1%}")

    # conv2 (32→64, 14×14) alone, its parts as nn.convolution runs them, in its memory layout (the batch
    # innermost) but without the bias row (warm caches: a lower bound)
    rng = np.random.default_rng(seed)
    n, c, o, size = batch, 32, 64, 14
    x = rng.random((c, size, size, n), dtype=np.float32).transpose(3, 0, 1, 2)  # as conv2d's outputs are laid out
    xp = _padded(x, ((1, 1), (1, 1)), 0.0)

    def im2col() -> np.ndarray:
        return _window_view(xp, (3, 3), (1, 1), (1, 1), (size, size)).reshape(c * 9, size * size * n)

    cols = im2col()
    w2 = rng.standard_normal((o, c * 9)).astype(np.float32)
    g2 = rng.standard_normal((o, size * size * n)).astype(np.float32)
    dcols = w2.T @ g2
    alone = {
        "im2col copy": _best(im2col),
        "GEMM forward W₂·cols": _best(lambda: w2 @ cols),
        "GEMM ∂W₂ = (cols·Gᵀ)ᵀ": _best(lambda: (cols @ g2.T).T),
        "GEMM ∂cols = W₂ᵀ·G": _best(lambda: w2.T @ g2),
        "col2im": _best(lambda: _col2im(dcols, (n, c, size, size), (3, 3), (1, 1), (1, 1), ((1, 1), (1, 1)),
                                        (size, size))),
    }
    gemm = sum(t for name, t in alone.items() if name.startswith("GEMM"))
    print("  conv2's parts alone (best of 7): " + ", ".join(f"{k} {1e3 * t:.1f}" for k, t in alone.items())
          + f" ms; its three GEMMs are {gemm / step:.0%} of the step")


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
