"""Benchmark: two checkouts of this project on the same workloads, interleaved — is a change slower?

    python benchmarks/revisions.py OLD_DIR NEW_DIR [--rounds 7] [--only scalar_step,tensor_epoch]

Each round runs every workload once from each checkout (alternating which goes first), each in a fresh
subprocess with that checkout first on ``sys.path``, one BLAS thread. A workload reports the best of a few
repetitions (CPU time of the thread for the scalar engine, wall time for NumPy work); the table gives, per
side, the min and median over rounds and NEW/OLD as a ratio of minima and of medians. The guard for an engine
change is "no workload more than 3% slower". Only public names are used, so any two revisions compare.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import textwrap

WORKLOADS: dict[str, str] = {
    # One training step of micrograd's demo: MLP(2, [16, 16, 1]) on 100 points, hinge loss + L2, SGD.
    "scalar_step": """
        import random, time
        from autograd import Value
        from nn.scalar import MLP
        from nn.data import make_moons
        x, y = make_moons(100, noise=0.1, rng=1)
        random.seed(1)
        model = MLP(2, [16, 16, 1])
        params = model.parameters()
        xs = [[Value(float(a)), Value(float(b))] for a, b in x]
        ys = [1.0 if t else -1.0 for t in y]
        def step():
            scores = [model(p) for p in xs]
            losses = [(1 + -yi * si).relu() for yi, si in zip(ys, scores)]
            loss = Value.sum(losses) * (1.0 / len(losses)) + 1e-4 * Value.sum([p * p for p in params])
            for p in params:
                p.grad = 0.0
            loss.backward()
            for p in params:
                p.data -= 0.05 * p.grad
        CLOCK = time.thread_time
        REPS, INNER = 5, 3
    """,
    # A 20,000-op chain of *, +, tanh and x·x (a node used twice): build and backward.
    "scalar_chain": """
        import time
        from autograd import Value
        def step():
            x = Value(0.5)
            y = x
            for i in range(5000):
                y = (y * 0.9 + 0.1).tanh() * 1.0
                y = y * y + 0.01
            y.backward()
        CLOCK = time.thread_time
        REPS, INNER = 5, 2
    """,
    # One pass over 12,800 Fashion-MNIST images, 784-128-10, Adam, batch 128 (the tensor path's training step).
    "tensor_epoch": """
        import time
        import numpy as np
        import nn
        from nn import functional as F
        from autograd import Tensor
        data = nn.data.load_fashion_mnist()
        x, y = data.x_train[:12800], data.y_train[:12800]
        model = nn.Sequential(nn.Linear(784, 128, rng=np.random.default_rng(0)), nn.ReLU(),
                              nn.Linear(128, 10, rng=np.random.default_rng(1)))
        opt = nn.optim.Adam(model.parameters(), lr=1e-3)
        def step():
            for i in range(0, len(x), 128):
                loss = F.cross_entropy(model(Tensor(x[i:i + 128])), y[i:i + 128])
                opt.zero_grad()
                loss.backward()
                opt.step()
        CLOCK = time.perf_counter
        REPS, INNER = 3, 1
    """,
    # The same with a wider network (784-512-256-10), where the GEMMs dominate.
    "tensor_epoch_wide": """
        import time
        import numpy as np
        import nn
        from nn import functional as F
        from autograd import Tensor
        data = nn.data.load_fashion_mnist()
        x, y = data.x_train[:6400], data.y_train[:6400]
        rng = np.random.default_rng(0)
        model = nn.Sequential(nn.Linear(784, 512, rng=rng), nn.ReLU(), nn.Linear(512, 256, rng=rng), nn.ReLU(),
                              nn.Linear(256, 10, rng=rng))
        opt = nn.optim.Adam(model.parameters(), lr=1e-3)
        def step():
            for i in range(0, len(x), 128):
                loss = F.cross_entropy(model(Tensor(x[i:i + 128])), y[i:i + 128])
                opt.zero_grad()
                loss.backward()
                opt.step()
        CLOCK = time.perf_counter
        REPS, INNER = 3, 1
    """,
    # Ten steps of the default CNN (conv 32, conv 64, batch 128).
    "cnn_step": """
        import time
        import numpy as np
        import nn
        from nn import functional as F
        from autograd import Tensor
        try:
            from nn.train.models import build_cnn
        except ImportError:
            from nn.models import build_cnn
        model = build_cnn((32, 64), (128,), np.random.default_rng(0))
        opt = nn.optim.Adam(model.parameters(), lr=1e-3)
        rng = np.random.default_rng(1)
        x = rng.random((128, 1, 28, 28), dtype=np.float32)
        y = rng.integers(0, 10, 128)
        def step():
            for _ in range(3):
                loss = F.cross_entropy(model(Tensor(x)), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        CLOCK = time.perf_counter
        REPS, INNER = 3, 1
    """,
    # Building the drawing of micrograd's demo loss (no Graphviz): the summariser's cost.
    "draw_dot_build": """
        import random, time
        from autograd import Value, draw_dot
        from nn.scalar import MLP
        from nn.data import make_moons
        x, y = make_moons(100, noise=0.1, rng=1)
        random.seed(1)
        model = MLP(2, [16, 16, 1])
        losses = [(1 + -(1.0 if t else -1.0) * model([Value(float(a)), Value(float(b))])).relu()
                  for (a, b), t in zip(x, y)]
        loss = Value.sum(losses) * (1.0 / len(losses))
        loss.backward()
        def step():
            draw_dot(loss).source
        CLOCK = time.perf_counter
        REPS, INNER = 3, 1
    """,
}

RUNNER = """
import sys, json
sys.path.insert(0, {root!r})
{code}
import gc
best = float("inf")
for _ in range(REPS):
    gc.collect()
    t0 = CLOCK()
    for _ in range(INNER):
        step()
    best = min(best, (CLOCK() - t0) / INNER)
print(json.dumps(best))
"""


def run(root: str, name: str) -> float:
    code = RUNNER.format(root=os.path.abspath(root), code=textwrap.dedent(WORKLOADS[name]))
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1", OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONPATH="")
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{name} in {root} failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("old")
    p.add_argument("new")
    p.add_argument("--rounds", type=int, default=7)
    p.add_argument("--only", default="", help="comma-separated workload names")
    args = p.parse_args(argv)
    names = [n for n in args.only.split(",") if n] or list(WORKLOADS)
    times: dict[str, dict[str, list[float]]] = {n: {"old": [], "new": []} for n in names}
    for r in range(args.rounds):
        for n in names:
            order = ("old", "new") if r % 2 == 0 else ("new", "old")
            for side in order:
                times[n][side].append(run(getattr(args, side), n))
        print(f"round {r + 1}/{args.rounds} done (load {os.getloadavg()[0]:.2f})", file=sys.stderr)
    print(f"{args.rounds} interleaved rounds, one BLAS thread; new = {args.new}, old = {args.old}")
    print(f"{'workload':<18} {'old min':>10} {'old med':>10} {'new min':>10} {'new med':>10} {'min ratio':>10} "
          f"{'med ratio':>10}")
    for n in names:
        o, w = times[n]["old"], times[n]["new"]
        o_med, w_med = statistics.median(o), statistics.median(w)
        print(f"{n:<18} {min(o) * 1e3:>8.2f}ms {o_med * 1e3:>8.2f}ms {min(w) * 1e3:>8.2f}ms "
              f"{w_med * 1e3:>8.2f}ms {min(w) / min(o):>9.3f}x {w_med / o_med:>9.3f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
