"""How long does draw_dot take on big graphs: building its Digraph, and rendering it with Graphviz's ``dot``?

Two graphs, the ones issue 6 names:

  moons MLP    the hinge loss of MLP(2, [16, 16, 1]) over 100 two-moons points, after backward():
               about 7,600 values and 75,000 edges. Drawn whole, ``dot`` ran for over 15 minutes (25 points:
               206 s); the default view summarises it (one box per layer, one per repeated op).
  100k chain   tanh applied 100,000 times: nothing repeats, so the default view cuts it at max_nodes.

For each: the default view's build and render time (targets: build <= 2 s for 100,000 values, render a few
seconds at most), the number of boxes drawn, and the build time of the whole graph (``max_nodes=None``) as the
baseline. Rendering a whole graph is not timed unless ``--render-whole N`` asks for it on N moons points.

    python benchmarks/draw_dot.py [--repeat 3] [--render-whole 10]
"""
from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import Value, draw_dot
from nn.data import make_moons
from nn.moons import hinge_loss
from nn.scalar import MLP


def moons_loss(points: int) -> Value:
    random.seed(0)
    X, y = make_moons(points, noise=0.1, rng=0)
    loss, _ = hinge_loss(MLP(2, [16, 16, 1]), X, y)
    loss.backward()
    return loss


def chain(n: int) -> Value:
    x = Value(0.5, label="x0")
    for _ in range(n):
        x = x.tanh()
    x.backward()
    return x


def timed(fn, repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def count_values(root: Value) -> tuple[int, int]:
    seen, stack, edges = {id(root)}, [root], 0
    while stack:
        for c in stack.pop().inputs:
            edges += 1
            if id(c) not in seen:
                seen.add(id(c))
                stack.append(c)
    return len(seen), edges


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the median is shown")
    parser.add_argument("--render-whole", type=int, default=0, metavar="N",
                        help="also render the whole graph of the MLP over N points (slow: minutes past ~25)")
    args = parser.parse_args(argv)

    print(f"{'graph':<14}{'values':>9}{'edges':>9}{'boxes':>7}{'build':>9}{'render':>9}{'whole build':>13}{'ratio':>7}")
    for name, root in (("moons MLP", moons_loss(100)), ("100k chain", chain(100_000))):
        values, edges = count_values(root)
        build, dot = timed(lambda: draw_dot(root), args.repeat)  # noqa: B023  (called right here)
        render, _ = timed(lambda: dot.pipe(format="svg"), args.repeat)  # noqa: B023
        boxes = dot.source.count("shape=plain")
        whole, _ = timed(lambda: draw_dot(root, max_nodes=None), 1)  # noqa: B023
        print(f"{name:<14}{values:>9,}{edges:>9,}{boxes:>7}{build:>8.2f}s{render:>8.2f}s{whole:>12.2f}s"
              f"{whole / build:>6.1f}x")
    print("targets: build <= 2 s (100,000 values), render a few seconds at most")
    if args.render_whole:
        root = moons_loss(args.render_whole)
        whole = draw_dot(root, max_nodes=None)
        seconds, _ = timed(lambda: whole.pipe(format="svg"), 1)
        print(f"whole graph of the MLP over {args.render_whole} points: {count_values(root)[0]:,} values, "
              f"dot renders it in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
