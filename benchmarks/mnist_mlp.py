"""How close does backproplab train an MLP on Fashion-MNIST to the machine's floor, next to NumPy and PyTorch?

Model: Linear-ReLU-...-Linear, float32, Adam(lr=1e-3), cross-entropy, one Fashion-MNIST epoch. Contenders,
in one run:

  floor         the GEMMs of each training step alone, with the same shapes and layouts as the library's
                (forward x·Wᵀ, backward δᵀ·a and δ·W), into preallocated outputs: no bias, ReLU, loss or
                optimizer. Nothing that trains this model can be faster, so it is the yardstick.
  backproplab   nn.Sequential + F.cross_entropy + nn.optim.Adam (the library's own training path)
  bpl+jit-adam  (only when numba is installed; the library does not depend on it) the library's path with
                its optimizer step replaced by a one-pass Adam compiled by numba over the same flat state,
                checked to give the library's numbers: what a compiled kernel would buy over NumPy's ten passes
  numpy         the same model written out by hand: forward, backward and an in-place Adam
  torch         torch.nn + torch.optim.Adam, when torch is installed (threads set to the BLAS count)

Fairness: every contender starts from the same weights and sees the same batches (one permutation per
epoch, shared, gathered once outside the timing). Contenders are interleaved finely: each epoch is cut into
10 slices of batches, and every contender, in rotating order, trains on a slice before anyone starts the
next, so slow phases of a shared machine hit everyone alike. An epoch's time is the sum of its slices. We
report the minimum and median epoch time over the rounds, the ratio of the minima, and the median of the
per-epoch ratios (paired within an epoch: the targets are judged on it); with one thread also ratios of this
thread's CPU time, which other processes on the machine cannot inflate.

Without options it runs the four configurations the performance targets are stated for:

    784-128-10      batch 128, 1 BLAS thread      backproplab <= 1.5x the floor
    784-512-256-10  batch 128, 1 BLAS thread      <= 1.45x
    784-512-256-10  batch 32,  1 BLAS thread      <= 2.2x
    784-128-10      batch 128, 2 BLAS threads     <= 1.7x

    python benchmarks/mnist_mlp.py [--rounds 3] [--sizes 784-128-10 ...] [--batch 128 ...] [--threads 1 ...]
    python benchmarks/mnist_mlp.py --profile [--sizes 784-128-10] [--batch 128] [--threads 1]

Any of --sizes/--batch/--threads replaces the four configurations with every combination of the given values.
"""
from __future__ import annotations

import argparse
import functools
import itertools
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a checkout without installing

from autograd import Tensor, no_grad
from nn import Linear, ReLU, Sequential
from nn import functional as F
from nn.data import load_fashion_mnist
from nn.optim import Adam

LR = 1e-3
BETAS = (0.9, 0.999)
EPS = 1e-8
SEGMENTS = 10  # each epoch is run in this many slices, every contender taking its turn on each slice

# (sizes, batch, BLAS threads, target for backproplab / floor): the targets of issue 9
CONFIGS = [
    ("784-128-10", 128, 1, 1.5),
    ("784-512-256-10", 128, 1, 1.45),
    ("784-512-256-10", 32, 1, 2.2),
    ("784-128-10", 128, 2, 1.7),
]


# -- data ---------------------------------------------------------------------------------------


def load() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fashion-MNIST, standardised with the training set's mean and std (the same for every contender).

    Standardising (x − μ)/σ centres the inputs the first layer sees; with the benchmark's fixed recipe
    (3 epochs of Adam 1e-3) it is worth about one point of test accuracy over raw [0, 1] pixels.
    """
    data = load_fashion_mnist(download=False)
    mean, std = np.float32(data.x_train.mean()), np.float32(data.x_train.std())
    return (data.x_train - mean) / std, data.y_train, (data.x_test - mean) / std, data.y_test


def init_weights(sizes: list[int], seed: int) -> list[tuple[np.ndarray, np.ndarray]]:
    """PyTorch's Linear init, U(−1/√in, 1/√in), shared by every contender."""
    rng = np.random.default_rng(seed)
    out = []
    for n_in, n_out in itertools.pairwise(sizes):
        k = 1.0 / np.sqrt(n_in)
        out.append((rng.uniform(-k, k, (n_out, n_in)).astype(np.float32), rng.uniform(-k, k, n_out).astype(np.float32)))
    return out


# -- contender: the GEMM floor --------------------------------------------------------------------


class GemmFloor:
    """Only the matrix products of each step, as the library's ``linear`` lays them out:

        forward   z_k = a_{k-1} · W_kᵀ            (W_k is (out, in), C order: Wᵀ is a transposed view)
        backward  dW_k = δ_kᵀ · a_{k-1}            for every layer
                  δ_{k-1} = δ_k · W_k              for every layer but the first (no gradient for x)

    2L + (L − 1) GEMMs per step for L layers (5 for 784-128-10), each into a preallocated output. δ_k
    reuses z_k's values (any finite numbers cost the same). The weights never change.
    """

    name = "floor"

    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray]], batch: int) -> None:
        self.batch = batch
        self.w = [w.copy() for w, _ in weights]
        self.z = [np.empty((batch, w.shape[0]), np.float32) for w in self.w]
        self.gw = [np.empty_like(w) for w in self.w]
        self.gx = [np.empty((batch, w.shape[1]), np.float32) for w in self.w]

    def epoch(self, x: np.ndarray, y: np.ndarray) -> float:
        w, z, gw, gx, matmul = self.w, self.z, self.gw, self.gx, np.matmul
        layers = range(len(w))
        for i in range(0, len(x), self.batch):
            a = x[i:i + self.batch]
            n = len(a)
            acts = [a]
            for k in layers:
                acts.append(matmul(acts[-1], w[k].T, out=z[k][:n]))
            delta = acts[-1]
            for k in reversed(layers):
                matmul(delta.T, acts[k], out=gw[k])
                if k:
                    delta = matmul(delta, w[k], out=gx[k][:n])
        return float("nan")

    def predict(self, x: np.ndarray) -> None:
        return None


# -- contender: backproplab ---------------------------------------------------------------------


class Backproplab:
    name = "backproplab"

    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray]], batch: int) -> None:
        self.batch = batch
        layers = []
        for w, b in weights:
            lin = Linear(w.shape[1], w.shape[0])
            lin.weight.data[...] = w
            lin.bias.data[...] = b
            layers += [lin, ReLU()]
        self.model = Sequential(*layers[:-1])
        self.opt = Adam(self.model.parameters(), lr=LR, betas=BETAS, eps=EPS)

    def epoch(self, x: np.ndarray, y: np.ndarray) -> float:
        model, opt, batch = self.model, self.opt, self.batch
        loss = None
        for i in range(0, len(x), batch):
            loss = F.cross_entropy(model(Tensor(x[i:i + batch])), y[i:i + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return float(loss.item())

    def predict(self, x: np.ndarray) -> np.ndarray:
        with no_grad():
            return self.model(Tensor(x)).data.argmax(axis=1)


# -- contender: backproplab with a compiled Adam (numba, optional) --------------------------------


@functools.cache
def _adam_kernel() -> Callable | None:
    """A one-pass Adam over the optimizer's flat state, compiled by numba (None without numba).

    Per element, in float32 and in the library's order of operations (nn.optim.Adam._update), then its
    subnormal guard (threshold 0 on steps without a flush):

        M ← β₁·M + g    V ← β₂·V + g²    p ← p − s · M / (√V + ε̂)    M, V ← 0 where |M|, |V| < threshold

    One read of p, g, M, V and one write of p, M, V per element, where NumPy makes ten passes.
    """
    try:
        import numba
    except ImportError:
        return None

    # error_model="numpy": x/0 gives inf as in NumPy instead of a check that raises ZeroDivisionError; the
    # check would stop LLVM from vectorising the loop (170 µs instead of 40 µs for 101k parameters).
    @numba.njit(error_model="numpy")
    def adam_1d(p, g, m, v, b1, b2, step_size, eps_hat, tiny1, tiny2):
        for i in range(p.size):
            gi = g[i]
            mi = b1 * m[i] + gi
            vi = b2 * v[i] + gi * gi
            p[i] -= (mi / (np.sqrt(vi) + eps_hat)) * step_size
            m[i] = np.float32(0.0) if abs(mi) < tiny1 else mi
            v[i] = np.float32(0.0) if abs(vi) < tiny2 else vi

    @numba.njit(error_model="numpy")
    def adam_flat(data, grads, m, v, offsets, b1, b2, step_size, eps_hat, tiny1, tiny2):
        for k in range(len(data)):  # parameter k's state is m[lo:hi], v[lo:hi] of the flat arrays
            lo, hi = offsets[k], offsets[k + 1]
            adam_1d(data[k], grads[k], m[lo:hi], v[lo:hi], b1, b2, step_size, eps_hat, tiny1, tiny2)

    return adam_flat


class CompiledAdam(Adam):
    """nn.optim.Adam with its block loop replaced by ``_adam_kernel`` (plain float32 Adam, no weight decay).

    Everything else is the library's: the flat state (``slab.buffers``), the step counts, the constants of
    step t (``_constants``), the subnormal guard's period and threshold, the per-parameter fallback.
    """

    def __init__(self, params: list, kernel: Callable) -> None:
        super().__init__(params, lr=LR, betas=BETAS, eps=EPS)
        self.kernel = kernel
        self.offsets = [np.array(slab.offsets, np.int64) for slab in self._slabs]

    def _step_blocks(self, slab) -> None:
        assert not self.weight_decay and slab.dtype == np.float32, "the benchmark's kernel covers plain float32 Adam"
        for k in range(len(slab.index)):
            self._state_of(slab, k)["step"] += 1
        t = self.state[slab.index[0]]["step"]
        step_size, eps_hat = self._constants(t)
        f32 = np.float32
        tiny = [np.finfo(f32).tiny / beta ** k if k and t % k == 0 else 0.0  # as nn.optim._flush_subnormals
                for beta, k in zip(self.betas, self._flush_k)]
        params = [self.params[i] for i in slab.index]
        self.kernel(tuple(p.data.reshape(-1) for p in params), tuple(p.grad.reshape(-1) for p in params),
                    *slab.buffers, self.offsets[self._slabs.index(slab)], f32(self.betas[0]), f32(self.betas[1]),
                    f32(step_size), f32(eps_hat), f32(tiny[0]), f32(tiny[1]))


class BackproplabJitAdam(Backproplab):
    """The library's training path (model, loss, backward, optimizer bookkeeping) with a compiled Adam step:
    what a one-pass kernel would buy over NumPy's ten passes. Compiled, and checked against the library's
    Adam (70 steps side by side, past the first subnormal flush at step 64), before any timing."""

    name = "bpl+jit-adam"

    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray]], batch: int) -> None:
        super().__init__(weights, batch)
        self.opt = CompiledAdam(self.model.parameters(), _adam_kernel())
        self.check_ulps = self._check(weights, batch)

    @staticmethod
    def _check(weights: list[tuple[np.ndarray, np.ndarray]], batch: int, steps: int = 70) -> float:
        """Train a library copy and a compiled copy side by side on random batches; their parameters must agree
        to float32 rounding at every step, and so must Adam's moments at the end. Returns the largest
        difference seen, in units in the last place of the library's parameter."""
        rng = np.random.default_rng(0)
        lib, jit = Backproplab(weights, batch), Backproplab(weights, batch)
        jit.opt = CompiledAdam(jit.model.parameters(), _adam_kernel())
        n_in, n_out = weights[0][0].shape[1], weights[-1][0].shape[0]
        worst = 0.0
        for _ in range(steps):
            x, y = rng.standard_normal((batch, n_in), np.float32), rng.integers(0, n_out, batch)
            lib.epoch(x, y)
            jit.epoch(x, y)
            for a, b in zip(lib.model.parameters(), jit.model.parameters()):
                np.testing.assert_allclose(b.data, a.data, rtol=1e-5, atol=1e-7)
                worst = max(worst, float(np.max(np.abs(b.data - a.data) / np.spacing(np.abs(a.data)))))
        for a, b in zip(lib.opt._slabs[0].buffers, jit.opt._slabs[0].buffers):
            np.testing.assert_allclose(b, a, rtol=1e-5, atol=1e-30)
        return worst


def jit_available() -> bool:
    """True when numba imports (the compiled-Adam contender runs only then)."""
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


# -- contender: hand-written NumPy --------------------------------------------------------------


class HandNumpy:
    """The same MLP by hand: activations kept for backward, ReLU and softmax in place, Adam in place."""

    name = "numpy"

    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray]], batch: int) -> None:
        self.batch = batch
        self.params = [a.copy() for wb in weights for a in wb]  # W1, b1, W2, b2, ...
        self.m = [np.zeros_like(p) for p in self.params]
        self.v = [np.zeros_like(p) for p in self.params]
        self.tmp = [np.empty_like(p) for p in self.params]
        self.t = 0

    def forward(self, x: np.ndarray) -> list[np.ndarray]:
        acts = [x]
        n_layers = len(self.params) // 2
        for k in range(n_layers):
            z = acts[-1] @ self.params[2 * k].T
            z += self.params[2 * k + 1]
            if k < n_layers - 1:
                np.maximum(z, 0, out=z)
            acts.append(z)
        return acts

    def epoch(self, x: np.ndarray, y: np.ndarray) -> float:
        loss = 0.0
        for i in range(0, len(x), self.batch):
            xb, yb = x[i:i + self.batch], y[i:i + self.batch]
            n = len(xb)
            rows = np.arange(n)
            acts = self.forward(xb)
            z = acts.pop()
            z -= z.max(axis=1, keepdims=True)
            np.exp(z, out=z)
            sums = z.sum(axis=1, keepdims=True)
            loss = float(np.log(sums).sum() - np.log(z[rows, yb]).sum()) / n
            z /= sums
            z[rows, yb] -= 1.0
            z *= np.float32(1.0 / n)
            delta = z
            grads = [None] * len(self.params)
            for k in range(len(self.params) // 2 - 1, -1, -1):
                a = acts[k]
                grads[2 * k] = delta.T @ a
                grads[2 * k + 1] = delta.sum(axis=0)
                if k:
                    delta = delta @ self.params[2 * k]
                    delta *= a > 0  # ReLU'(z) = 1 where the activation is positive
            self.adam(grads)
        return loss

    def adam(self, grads: list[np.ndarray]) -> None:
        self.t += 1
        b1, b2 = BETAS
        bc1, bc2 = 1.0 - b1 ** self.t, 1.0 - b2 ** self.t
        for p, g, m, v, tmp in zip(self.params, grads, self.m, self.v, self.tmp):
            m *= b1
            np.multiply(g, 1.0 - b1, out=tmp)
            m += tmp
            v *= b2
            np.multiply(g, g, out=tmp)
            tmp *= 1.0 - b2
            v += tmp
            np.sqrt(v, out=tmp)
            tmp *= 1.0 / np.sqrt(bc2)
            tmp += EPS
            np.divide(m, tmp, out=tmp)
            tmp *= LR / bc1
            p -= tmp

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.forward(x)[-1].argmax(axis=1)


# -- contender: PyTorch -------------------------------------------------------------------------


class Torch:
    name = "torch"

    def __init__(self, weights: list[tuple[np.ndarray, np.ndarray]], batch: int) -> None:
        import torch

        self.torch, self.batch = torch, batch
        layers = []
        for w, b in weights:
            lin = torch.nn.Linear(w.shape[1], w.shape[0])
            with torch.no_grad():
                lin.weight.copy_(torch.from_numpy(w))
                lin.bias.copy_(torch.from_numpy(b))
            layers += [lin, torch.nn.ReLU()]
        self.model = torch.nn.Sequential(*layers[:-1])
        self.opt = torch.optim.Adam(self.model.parameters(), lr=LR, betas=BETAS, eps=EPS)

    def epoch(self, x: np.ndarray, y: np.ndarray) -> float:
        torch, model, opt, batch = self.torch, self.model, self.opt, self.batch
        xt, yt = torch.from_numpy(x), torch.from_numpy(y)  # zero-copy views
        loss = None
        for i in range(0, len(x), batch):
            loss = torch.nn.functional.cross_entropy(model(xt[i:i + batch]), yt[i:i + batch])
            opt.zero_grad()
            loss.backward()
            opt.step()
        return float(loss.item())

    def predict(self, x: np.ndarray) -> np.ndarray:
        with self.torch.no_grad():
            return self.model(self.torch.from_numpy(x)).argmax(dim=1).numpy()


# -- the race -----------------------------------------------------------------------------------


def blas_threads() -> int:
    """The BLAS thread count in force now (threadpoolctl's view of NumPy's BLAS)."""
    return max((info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"), default=1)


def contender_makers() -> list[Callable]:
    makers: list[Callable] = [GemmFloor, Backproplab, HandNumpy]
    if jit_available():
        makers.insert(2, BackproplabJitAdam)
    else:
        print("  (numba not installed: no compiled-Adam contender)")
    try:
        import torch  # noqa: F401

        makers.append(Torch)
    except ImportError:
        print("  (torch not installed: comparing against the floor and NumPy only)")
    return makers


def race(sizes: list[int], batch: int, threads: int, data: tuple, rounds: int, seed: int,
         target: float | None) -> dict[str, float]:
    """Interleaved epochs of every contender; prints times and ratios, returns backproplab's (median per epoch)."""
    x_train, y_train, x_test, y_test = data
    weights = init_weights(sizes, seed)
    makers = contender_makers()
    if any(m is Torch for m in makers):
        import torch

        torch.set_num_threads(threads)
    contenders = [make(weights, batch) for make in makers]
    wall: dict[str, list[float]] = {c.name: [] for c in contenders}
    cpu: dict[str, list[float]] = {c.name: [] for c in contenders}
    rng = np.random.default_rng(seed + 1)
    n_batches = -(-len(x_train) // batch)
    cuts = [batch * (n_batches * j // SEGMENTS) for j in range(SEGMENTS)] + [len(x_train)]
    print(f"\n{'-'.join(map(str, sizes))}, batch {batch}, {blas_threads()} BLAS thread(s), Adam lr={LR}, "
          f"{rounds} epochs each, interleaved in {SEGMENTS} segments per epoch")
    for e in range(rounds):
        perm = rng.permutation(len(x_train))
        xe, ye = np.ascontiguousarray(x_train[perm]), y_train[perm]  # this epoch's order, for everyone
        for times in (wall, cpu):
            for t in times.values():
                t.append(0.0)
        for s, (lo, hi) in enumerate(itertools.pairwise(cuts)):
            k = (e * SEGMENTS + s) % len(contenders)
            for c in contenders[k:] + contenders[:k]:  # rotate who goes first
                t0, c0 = time.perf_counter(), time.thread_time()
                c.epoch(xe[lo:hi], ye[lo:hi])
                wall[c.name][-1] += time.perf_counter() - t0
                cpu[c.name][-1] += time.thread_time() - c0
        print(f"  epoch {e + 1}: " + ", ".join(f"{n} {t[-1]:.3f}" for n, t in wall.items()) + " s")

    def ratio(times: dict[str, list[float]], a: str, b: str) -> tuple[float, float]:
        """a / b as the ratio of the minima, and as the median of the per-epoch ratios (paired: the slices of an
        epoch ran side by side, so a burst of load elsewhere on the machine divides out)."""
        return min(times[a]) / min(times[b]), statistics.median(x / y for x, y in zip(times[a], times[b]))

    print(f"  {'':12s} {'min s':>7s} {'median s':>9s}   / floor: of minima, median per epoch   test acc")
    for c in contenders:
        acc = c.predict(x_test)
        acc_s = f"{float((acc == y_test).mean()):.2%}" if acc is not None else ""
        r = ratio(wall, c.name, "floor")
        print(f"  {c.name:12s} {min(wall[c.name]):7.3f} {statistics.median(wall[c.name]):9.3f}   "
              f"{r[0]:8.2f}x {r[1]:8.2f}x               {acc_s}")
    result = {"floor": ratio(wall, "backproplab", "floor")}
    for other in ("numpy", "torch"):
        if other in wall:
            r = result[other] = ratio(wall, "backproplab", other)
            print(f"  backproplab / {other:6s} {r[0]:.3f}x (of minima)  {r[1]:.3f}x (median per epoch)")
    jit = BackproplabJitAdam.name
    if jit in wall:
        ulps = next(c for c in contenders if c.name == jit).check_ulps
        print(f"  ({jit}: parameters within {ulps:.0f} ulp of the library's Adam over 70 checked steps)")
        for other in ("floor", "numpy", "torch"):
            if other in wall:
                r = result[f"{jit} / {other}"] = ratio(wall, jit, other)
                print(f"  {jit} / {other:6s} {r[0]:.3f}x (of minima)  {r[1]:.3f}x (median per epoch)")
    if threads == 1:  # with one thread, this thread's CPU time is all the work, and is blind to other processes
        for name in [n for n in ("backproplab", jit) if n in wall]:
            parts = [f"/ {o} {ratio(cpu, name, o)[1]:.3f}x" for o in wall if o not in ("backproplab", jit)]
            print(f"  CPU time (median per epoch): {name} " + "  ".join(parts))
    spread = max(wall["floor"]) / min(wall["floor"])
    if spread > 1.3:
        print(f"  (noisy run: the floor's epochs vary {spread:.1f}x; other processes compete for the cores)")
    if target is not None:
        ok = result["floor"][1] <= target and result.get("torch", (0.0, 0.0))[1] <= 1.0
        print(f"  target: <= {target}x the floor and never slower than torch (median per epoch) -> "
              f"{'met' if ok else 'NOT met'}")
    return {k: v[1] for k, v in result.items()}


def profile(sizes: list[int], batch: int, data: tuple, seed: int) -> None:
    """cProfile one epoch of the library, to show where the time goes."""
    import cProfile
    import pstats

    c = Backproplab(init_weights(sizes, seed), batch)
    c.epoch(data[0][:12800], data[1][:12800])  # warm up
    prof = cProfile.Profile()
    prof.enable()
    c.epoch(data[0], data[1])
    prof.disable()
    pstats.Stats(prof).sort_stats("tottime").print_stats(18)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", "--epochs", type=int, default=3, help="interleaved epochs per contender")
    parser.add_argument("--sizes", nargs="+", help="layer sizes, e.g. 784-128-10")
    parser.add_argument("--batch", nargs="+", type=int, help="batch sizes")
    parser.add_argument("--threads", nargs="+", type=int, help="BLAS (and torch) thread counts")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--profile", action="store_true", help="cProfile one epoch of backproplab instead")
    args = parser.parse_args()
    if args.sizes or args.batch or args.threads:
        configs = [(s, b, t, None) for s in args.sizes or ["784-128-10"] for b in args.batch or [128]
                   for t in args.threads or [1]]
    else:
        configs = CONFIGS
    data = load()
    print(f"numpy {np.__version__}, cores {len(os.sched_getaffinity(0))}, load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    results = []
    for spec, batch, threads, target in configs:
        sizes = [int(s) for s in spec.split("-")]
        with threadpool_limits(limits=threads, user_api="blas"):
            if args.profile:
                profile(sizes, batch, data, args.seed)
            else:
                results.append((spec, batch, threads, target, race(sizes, batch, threads, data, args.rounds,
                                                                   args.seed, target)))
    if results:
        print("\nsummary: backproplab epoch time as a ratio (median of the per-epoch ratios)")
        for spec, batch, threads, target, r in results:
            others = "  ".join(f"/ {k} {v:.2f}x" for k, v in r.items() if "/" not in k)
            goal = f"   (target floor <= {target}x)" if target else ""
            print(f"  {spec:15s} b{batch:<4d} {threads} thr  {others}{goal}")
            jit = "  ".join(f"/ {k.split(' / ')[1]} {v:.2f}x" for k, v in r.items() if "/" in k)
            if jit:
                print(f"  {'  with ' + BackproplabJitAdam.name:28s}  {jit}")


if __name__ == "__main__":
    main()
