"""How fast are backproplab's convolutional layers next to PyTorch on the CPU, and where does the time go?

Three workloads, each against PyTorch (oneDNN) with the same number of threads (BLAS for NumPy, intra-op for
torch), from the same initial weights on the same data, float32:

  step       one training step of the default CNN of ``python -m nn.train --model cnn`` (``build_cnn``; NCHW,
             batch 128, Adam lr=1e-3, cross-entropy on Fashion-MNIST batches):
                 conv 1→32 3×3 pad 1, max-pool 2, ReLU   (N, 32, 14, 14)
                 conv 32→64 3×3 pad 1, max-pool 2, ReLU  (N, 64, 7, 7)
                 flatten, linear 3136→128, ReLU, linear 128→10
             target: at most 1.1× PyTorch
  conv       one conv layer, forward and backward: F.conv2d on an NCHW input (64, 32, 14, 14), 64 filters 3×3,
             padding 1, bias; ``y.backward(g)`` with g an NCHW array. Target: at most 1.3× PyTorch
  separable  a depthwise-separable block (MobileNet's), forward and backward on the same input: depthwise
             conv 3×3 (groups 32), ReLU, pointwise conv 1×1 32→64, ReLU. Target: at most 1.5× PyTorch

A round runs each contender for a fixed number of repetitions (default 100 steps, 12,800 images, for ``step``;
40 for the layers); rounds are interleaved, rotating who goes first, so slow phases of a shared machine hit both
alike. We report the min and median round and the ratios of both. Then:

  memory     peak memory of one backproplab repetition of each workload above what the model and the data hold
             (tracemalloc sees every NumPy allocation); PyTorch's allocations are not visible to it
  breakdown  (--breakdown) each op's time inside real backproplab training steps: every layer's forward, every
             node's backward, Adam, and the engine's own share

    python benchmarks/cnn.py [--rounds 5] [--threads 1 2] [--workloads step conv separable] [--breakdown]
    python benchmarks/cnn.py --profile          # cProfile of backproplab training steps instead
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

import nn
from autograd import Tensor
from autograd.graph import topological_order
from nn import Sequential
from nn import functional as F
from nn.data import load_fashion_mnist
from nn.optim import Adam
from nn.train.command import DEFAULT_CNN_CHANNELS, DEFAULT_CNN_HIDDEN
from nn.train.models import build_cnn

LR = 1e-3
TARGETS = {"step": 1.1, "conv": 1.3, "separable": 1.5}  # issue 18: backproplab's time at most this × PyTorch's
LAYER_SHAPE = (64, 32, 14, 14)  # the single-layer workloads' input: batch 64, 32 channels, 14×14 (NCHW)


def load() -> tuple[np.ndarray, np.ndarray]:
    """Fashion-MNIST training images as (N, 1, 28, 28) float32 in [0, 1], and labels."""
    data = load_fashion_mnist(download=False)
    return data.x_train.reshape(-1, 1, 28, 28), data.y_train


def batches(x: np.ndarray, y: np.ndarray, steps: int, batch: int, rng: np.random.Generator) -> list:
    """``steps`` shuffled batches, gathered (copied) once, outside the timing."""
    idx = rng.permutation(len(x))[: steps * batch]
    return [(np.ascontiguousarray(x[idx[i:i + batch]]), y[idx[i:i + batch]]) for i in range(0, len(idx), batch)]


# -- workloads: (ours, torch's), each a function of no arguments that does one repetition ----------------


def step_workload(data: tuple[np.ndarray, np.ndarray], steps: int, batch: int, seed: int) -> tuple[Callable, ...]:
    """A training step of the default CNN on the next of ``steps`` batches (cycling)."""
    rng = np.random.default_rng(seed)
    model = build_cnn(DEFAULT_CNN_CHANNELS, DEFAULT_CNN_HIDDEN, rng)
    work = batches(*data, steps, batch, rng)
    opt = Adam(model.parameters(), lr=LR)
    at = [0, 0]

    def ours() -> None:
        xb, yb = work[at[0] % len(work)]
        at[0] += 1
        loss = F.cross_entropy(model(Tensor(xb)), yb)
        opt.zero_grad()
        loss.backward()
        opt.step()

    theirs = None
    torch = _torch()
    if torch is not None:
        tnn = torch.nn
        tmodel = tnn.Sequential(  # the same layers in the same order as nn.train.models.build_cnn
            tnn.Conv2d(1, 32, 3, padding=1), tnn.MaxPool2d(2), tnn.ReLU(),
            tnn.Conv2d(32, 64, 3, padding=1), tnn.MaxPool2d(2), tnn.ReLU(),
            tnn.Flatten(), tnn.Linear(64 * 7 * 7, 128), tnn.ReLU(), tnn.Linear(128, 10),
        )
        # Same weights: the state_dict keys and shapes are PyTorch's, so it loads unchanged.
        tmodel.load_state_dict({k: torch.from_numpy(v) for k, v in model.state_dict().items()})
        topt = torch.optim.Adam(tmodel.parameters(), lr=LR)

        def theirs() -> None:
            xb, yb = work[at[1] % len(work)]
            at[1] += 1
            loss = torch.nn.functional.cross_entropy(tmodel(torch.from_numpy(xb)), torch.from_numpy(yb))
            topt.zero_grad()
            loss.backward()
            topt.step()

    return ours, theirs


def conv_workload(seed: int) -> tuple[Callable, ...]:
    """F.conv2d forward and backward on an NCHW input: 32→64 channels, 3×3, padding 1, bias."""
    rng = np.random.default_rng(seed)
    conv = nn.Conv2d(32, 64, 3, padding=1, rng=rng)
    x = rng.standard_normal(LAYER_SHAPE, dtype=np.float32)
    g = rng.standard_normal((LAYER_SHAPE[0], 64, *LAYER_SHAPE[2:]), dtype=np.float32)
    xt = Tensor(x, requires_grad=True)

    def ours() -> None:
        xt.grad = None
        conv.zero_grad()
        F.conv2d(xt, conv.weight, conv.bias, 1, 1).backward(g)

    return ours, _torch_layers(conv, [lambda torch: torch.nn.Conv2d(32, 64, 3, padding=1)], x, g)


def separable_workload(seed: int) -> tuple[Callable, ...]:
    """A depthwise-separable block: depthwise 3×3 (groups=32), ReLU, pointwise 1×1 32→64, ReLU."""
    rng = np.random.default_rng(seed)
    block = Sequential(nn.Conv2d(32, 32, 3, padding=1, groups=32, rng=rng), nn.ReLU(),
                       nn.Conv2d(32, 64, 1, rng=rng), nn.ReLU())
    x = rng.standard_normal(LAYER_SHAPE, dtype=np.float32)
    g = rng.standard_normal((LAYER_SHAPE[0], 64, *LAYER_SHAPE[2:]), dtype=np.float32)
    xt = Tensor(x, requires_grad=True)

    def ours() -> None:
        xt.grad = None
        block.zero_grad()
        block(xt).backward(g)

    makers = [lambda torch: torch.nn.Conv2d(32, 32, 3, padding=1, groups=32), lambda torch: torch.nn.ReLU(),
              lambda torch: torch.nn.Conv2d(32, 64, 1), lambda torch: torch.nn.ReLU()]
    return ours, _torch_layers(block, makers, x, g)


def _torch() -> object | None:
    try:
        import torch
    except ImportError:
        return None
    return torch


def _torch_layers(ours: nn.Module, makers: list[Callable], x: np.ndarray, g: np.ndarray) -> Callable | None:
    """PyTorch's forward+backward of the same layers, loaded with our weights (the keys are PyTorch's)."""
    torch = _torch()
    if torch is None:
        return None
    model = torch.nn.Sequential(*(make(torch) for make in makers))
    state = ours.state_dict()
    if len(makers) == 1:
        state = {f"0.{k}": v for k, v in state.items()}
    model.load_state_dict({k: torch.from_numpy(v) for k, v in state.items()})
    tx = torch.from_numpy(x).requires_grad_()
    tg = torch.from_numpy(g)

    def theirs() -> None:
        tx.grad = None
        model.zero_grad()
        model(tx).backward(tg)

    return theirs


# -- the race -----------------------------------------------------------------------------------


def blas_threads() -> int:
    return max((info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"), default=1)


def race(name: str, ours: Callable, theirs: Callable | None, reps: int, rounds: int) -> dict[str, float]:
    """Interleaved rounds of ``reps`` repetitions per contender; prints times and ratios; returns the ratios."""
    contenders = [("backproplab", ours)] + ([("torch", theirs)] if theirs is not None else [])
    for _, fn in contenders:  # warm up: first-call costs (allocator, oneDNN kernel choice) out of the timing
        fn()
        fn()
    times: dict[str, list[float]] = {who: [] for who, _ in contenders}
    for r in range(rounds):
        k = r % len(contenders)
        for who, fn in contenders[k:] + contenders[:k]:
            t0 = time.perf_counter()
            for _ in range(reps):
                fn()
            times[who].append((time.perf_counter() - t0) / reps)
    line = f"  {name:10s}"
    for who, t in times.items():
        line += f"  {who} min {1e3 * min(t):7.2f} ms  median {1e3 * statistics.median(t):7.2f} ms  "
    if "torch" not in times:
        print(line + " (torch is not installed)")
        return {}
    lo = min(times["backproplab"]) / min(times["torch"])
    mid = statistics.median(times["backproplab"]) / statistics.median(times["torch"])
    verdict = "met" if lo <= TARGETS[name] else "NOT met"
    print(line + f"→ {lo:.2f}× (min) {mid:.2f}× (median), target ≤ {TARGETS[name]}×: {verdict}")
    return {"min": lo, "median": mid}


# -- memory -------------------------------------------------------------------------------------


def peak_memory(fn: Callable) -> float:
    """Peak bytes NumPy allocates during one call of ``fn``, above what was allocated before it (after a warm-up
    call, so that optimizer state and caches exist)."""
    fn()
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    fn()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    return peak


# -- where the time goes ------------------------------------------------------------------------


def in_step(data: tuple[np.ndarray, np.ndarray], batch: int, seed: int, steps: int = 12) -> dict[str, float]:
    """Each op's time inside real training steps (median over ``steps``): every layer's forward, every node's
    backward (its rule, wrapped with a timer), Adam; "engine" is the rest of the step (the backward walk,
    gradient accumulation, zero_grad, Python)."""
    rng = np.random.default_rng(seed)
    model = build_cnn(DEFAULT_CNN_CHANNELS, DEFAULT_CNN_HIDDEN, rng)
    opt = Adam(model.parameters(), lr=LR)
    times: dict[str, list[float]] = {}

    def note(name: str, t: float) -> None:
        times.setdefault(name, []).append(t)

    for k, (xb, yb) in enumerate(batches(*data, steps + 2, batch, rng)):
        t_step = time.perf_counter()
        h = Tensor(xb)
        for i, layer in enumerate(model):
            t0 = time.perf_counter()
            h = layer(h)
            note(f"forward  {i} {type(layer).__name__}", time.perf_counter() - t0)
        loss = F.cross_entropy(h, yb)
        for node in topological_order(loss, lambda t: t._parents):
            if node._backward is not None and node.op != "cross_entropy":
                def timed(*args: object, inner: Callable = node._backward, name: str = f"backward {node.op} "
                          f"{tuple(node.shape[1:])}") -> object:
                    t0 = time.perf_counter()
                    out = inner(*args)
                    note(name, time.perf_counter() - t0)
                    return out
                node._backward = timed
        opt.zero_grad()
        loss.backward()
        t0 = time.perf_counter()
        opt.step()
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
    """Where a backproplab training step's time goes, op by op."""
    parts = in_step(data, batch, seed)
    step = parts.pop("step")
    print(f"\n  where the time goes: one backproplab step, batch {batch}, {blas_threads()} BLAS thread(s): "
          f"{1e3 * step:.1f} ms (median of 12); ops over 0.5 ms")
    for name, t in sorted(parts.items(), key=lambda kv: -kv[1]):
        if t >= 5e-4:
            print(f"    {name:42s} {1e3 * t:7.2f} ms  {t / step:6.1%}")


def profile(data: tuple[np.ndarray, np.ndarray], batch: int, seed: int, steps: int) -> None:
    import cProfile
    import pstats

    ours, _ = step_workload(data, steps, batch, seed)
    ours()
    prof = cProfile.Profile()
    prof.enable()
    for _ in range(steps):
        ours()
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(15)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds per contender")
    parser.add_argument("--steps", type=int, default=100, help="training steps per round (step workload)")
    parser.add_argument("--reps", type=int, default=40, help="repetitions per round (layer workloads)")
    parser.add_argument("--batch", type=int, default=128, help="batch of the training step")
    parser.add_argument("--threads", nargs="+", type=int, default=[1, 2], help="BLAS and torch thread counts")
    parser.add_argument("--workloads", nargs="+", default=list(TARGETS), choices=list(TARGETS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--breakdown", action="store_true", help="also time each op inside training steps")
    parser.add_argument("--profile", action="store_true", help="cProfile backproplab steps instead")
    args = parser.parse_args()
    data = load()
    print(f"numpy {np.__version__}, cores {len(os.sched_getaffinity(0))}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    if args.profile:
        with threadpool_limits(limits=args.threads[0], user_api="blas"):
            profile(data, args.batch, args.seed, min(args.steps, 20))
        return

    def make(name: str) -> tuple[Callable, ...]:
        if name == "step":
            return step_workload(data, args.steps, args.batch, args.seed)
        return conv_workload(args.seed) if name == "conv" else separable_workload(args.seed)

    torch = _torch()
    for threads in args.threads:
        if torch is not None:
            torch.set_num_threads(threads)
        with threadpool_limits(limits=threads, user_api="blas"):
            who = f", torch {torch.get_num_threads()} thread(s)" if torch else ""
            print(f"\n{blas_threads()} BLAS thread(s){who}; {args.rounds} interleaved rounds (step: {args.steps} steps "
                  f"of batch {args.batch}; layers: {args.reps} forward+backward each)")
            for name in args.workloads:
                race(name, *make(name), args.steps if name == "step" else args.reps, args.rounds)
            if args.breakdown and "step" in args.workloads:
                breakdown(data, args.batch, args.seed)
    print("\npeak memory of one backproplab repetition, above the model and data (tracemalloc):")
    for name in args.workloads:
        print(f"  {name:10s} {peak_memory(make(name)[0]) / 2**20:6.1f} MiB")


if __name__ == "__main__":
    main()
