"""How long does draw_dot take on the graphs learners write, and how readable is what comes back?

The gallery (tests/gallery.py): micrograd's demo loss with Python's ``sum()`` and the L2 term over 100 moons points,
the lecture's MLP(3, [4, 4, 1]) on 4 examples, one neuron, ``sum(relu)`` over 1,000 values, a 100,000-op chain,
one value used 10,000 times, random DAGs, a tensor MLP and the CNN. For each, in rounds interleaved over the
graphs (these machines are noisy), min and median of:

  build    draw_dot(root): walking the graph, collapsing chains, choosing a view within the budget, the DOT text
  render   what a notebook does to show it (_repr_mimebundle_ on a fresh picture): dot, with its time limit,
           and any coarser view it falls back to
  whole    the baseline: building the whole graph's DOT text (max_nodes=None, chains=False), what used to be
           handed to dot; rendering it is not timed (minutes to hours past a few thousand values) unless
           --render-whole N asks for the moons MLP over N points

and the view drawn: its level (whole / neuron / layer, + cut), boxes, and the smallest text in px once the SVG is
shrunk to a 1,000-px notebook column (the budget asks for at least 9).

    python benchmarks/draw_dot.py [--rounds 3] [--render-whole 10]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autograd import draw_dot
from autograd.viz.render import text_px
from tests.gallery import GALLERY, micrograd_demo_loss


def count(root: object) -> tuple[int, int]:
    """(values, edges) of the graph under ``root``."""
    seen, stack, edges = {id(root)}, [root], 0
    while stack:
        for c in stack.pop().inputs:
            edges += 1
            if id(c) not in seen:
                seen.add(id(c))
                stack.append(c)
    return len(seen), edges


def seconds(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="rounds over the gallery; min and median are shown")
    parser.add_argument("--render-whole", type=int, default=0, metavar="N",
                        help="also render the whole graph of micrograd's demo over N points (slow past ~25)")
    args = parser.parse_args(argv)

    roots = {name: build() for name, build in GALLERY.items()}
    times: dict[str, dict[str, list[float]]] = {name: {"build": [], "render": [], "whole": []} for name in roots}
    shown: dict[str, tuple[str, int, float]] = {}
    for _ in range(args.rounds):
        for name, root in roots.items():
            t, picture = seconds(lambda: draw_dot(root))  # noqa: B023  (called right here)
            times[name]["build"].append(t)
            t, bundle = seconds(picture._repr_mimebundle_)
            times[name]["render"].append(t)
            drawing = picture.shown.drawing
            level = drawing.plan.level + (" + cut" if drawing.view.hidden else "")
            shown[name] = (level, len(drawing.view.boxes), text_px(bundle["image/svg+xml"]))
            t, _ = seconds(lambda: draw_dot(root, max_nodes=None, chains=False))  # noqa: B023
            times[name]["whole"].append(t)

    def cell(xs: list[float]) -> str:
        return f"{min(xs):6.3f} {statistics.median(xs):6.3f}"

    print(f"{'graph':<42}{'values':>8}{'edges':>8}  {'view':<13}{'boxes':>6}{'text':>7}"
          f"  {'build min/med s':>15}  {'render min/med s':>16}  {'whole build':>11}{'ratio':>7}")
    for name, root in roots.items():
        values, edges = count(root)
        level, boxes, px = shown[name]
        t = times[name]
        ratio = statistics.median(t["whole"]) / statistics.median(t["build"])
        print(f"{name:<42}{values:>8,}{edges:>8,}  {level:<13}{boxes:>6}{px:>5.1f}px  {cell(t['build']):>15}  "
              f"{cell(t['render']):>16}  {statistics.median(t['whole']):>10.3f}s{ratio:>6.1f}x")
    print("budget: text >= 9 px at 1,000 px; render is dot under a 5 s limit, with its fallback if it runs out")
    if args.render_whole:
        root = micrograd_demo_loss(args.render_whole)
        whole = draw_dot(root, max_nodes=None, chains=False, timeout=3600)
        t, _ = seconds(lambda: whole.pipe(format="svg"))
        print(f"the whole graph of micrograd's demo over {args.render_whole} points: {count(root)[0]:,} values, "
              f"dot renders it in {t:.1f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
