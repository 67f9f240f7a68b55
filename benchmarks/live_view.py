"""What does the live training view cost per step? ``nn.LiveView`` on a 784-128-10 Fashion-MNIST epoch.

Contenders, each training its own copy of the same model (same initial weights, same batches):

  plain   the loop of the README: loss = cross_entropy(model(x)), zero_grad, backward, Adam step
  live    the same loop plus ``view.update(loss, lr=opt.lr)`` every step and ``view.end_epoch(...)`` every epoch,
          ``view = LiveView(model)``: it also records the gradient norms (GradientFlow, one step in 10) and
          redraws its SVG at most twice a second (further apart when drawing would pass 1% of the time)

Where: inside a Jupyter kernel (run here through nbclient, which receives the display updates as a notebook
front end does), so redraws go out as real ``update_display_data`` messages; and in a plain process, where the
view prints a text line at most every 10 s. One BLAS thread, batch 128, Adam 1e-3. Each round trains one epoch
per contender, cut into 10 slices of batches that the two take turns on (alternating which goes first), so a busy
moment of a shared machine hits both alike; the first round warms up and is not counted. Reported, for wall time
and for the training thread's CPU time (which other processes cannot inflate; a kernel sends display messages
from another thread): min and median epoch time per contender, the ratio live / plain of the minima and the
median of per-round ratios (target: <= 1.02), and the cost per step (live − plain medians) / steps.

    python benchmarks/live_view.py [--rounds 7] [--where kernel plain]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 1.02
SLICES = 10
BATCH, LR, SIZES, SEED = 128, 1e-3, (784, 128, 10), 0


def measure(rounds: int) -> dict:
    """Epoch times of both contenders over ``rounds`` counted rounds (plus one warm-up), in this process."""
    import numpy as np
    from threadpoolctl import threadpool_limits

    import nn
    from autograd import Tensor
    from nn import functional as F
    from nn.data import load_fashion_mnist

    ds = load_fashion_mnist(download=False)
    x, y = ds.x_train, ds.y_train
    steps = -(-len(x) // BATCH)

    def make() -> tuple[nn.Sequential, nn.optim.Adam]:
        rng = np.random.default_rng(SEED)
        model = nn.Sequential(nn.Linear(SIZES[0], SIZES[1], rng=rng), nn.ReLU(), nn.Linear(SIZES[1], SIZES[2], rng=rng))
        return model, nn.optim.Adam(model.parameters(), lr=LR)

    contenders = {"plain": make(), "live": make()}
    view = nn.LiveView(contenders["live"][0], title="benchmark")

    def train_slice(name: str, idx_slice: np.ndarray, clock: dict[str, list[float]]) -> None:
        model, opt = contenders[name]
        watch = view if name == "live" else None
        t0, c0 = time.perf_counter(), time.thread_time()
        for start in range(0, len(idx_slice), BATCH):
            idx = idx_slice[start:start + BATCH]
            loss = F.cross_entropy(model(Tensor(x[idx])), y[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            if watch is not None:
                watch.update(loss, lr=opt.lr)
        seconds = time.perf_counter() - t0
        clock["wall"][-1] += seconds
        clock["cpu"][-1] += time.thread_time() - c0
        if watch is None:
            # The view's redraw clock runs on wall time: move its next redraw past the plain slice, so it redraws
            # as often per second of its own training as it would in a run of its own (not twice as often).
            view._next_draw += seconds

    # Each epoch is cut into SLICES runs of batches; the contenders take turns on each (the first alternating),
    # so a slow moment of a shared machine hits both alike. An epoch's time is the sum of its slices.
    times = {name: {"wall": [], "cpu": []} for name in contenders}
    rng = np.random.default_rng(1)
    with threadpool_limits(limits=1, user_api="blas"):
        for r in range(rounds + 1):
            order = rng.permutation(len(x))
            cuts = np.linspace(0, steps, SLICES + 1).astype(int) * BATCH
            for clock in times.values():
                clock["wall"].append(0.0)
                clock["cpu"].append(0.0)
            for k in range(SLICES):
                names = ["plain", "live"] if (r + k) % 2 else ["live", "plain"]
                for name in names:
                    train_slice(name, order[cuts[k]:cuts[k + 1]], times[name])
            view.end_epoch(epoch=r)
            if r == 0:  # the first round warms up
                for clock in times.values():
                    clock["wall"].pop()
                    clock["cpu"].pop()
    view.close()
    return {"times": times, "steps": steps, "mode": "notebook" if view.notebook else "text", "draws": view.draws,
            "draw_seconds": view.draw_seconds}


def in_kernel(rounds: int) -> dict:
    """``measure`` run inside a Jupyter kernel through nbclient: the view shows itself as in a notebook."""
    import nbclient
    import nbformat

    code = (f"import json, runpy\n"
            f"bench = runpy.run_path({str(Path(__file__).resolve())!r}, run_name='bench')\n"
            f"print('RESULT', json.dumps(bench['measure']({rounds})))\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(code)])
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    nbclient.NotebookClient(nb, timeout=1800, kernel_name="python3").execute()
    outputs = nb.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    line = next(line for line in text.splitlines() if line.startswith("RESULT "))
    result = json.loads(line[len("RESULT "):])
    result["outputs"] = [o.output_type for o in outputs]  # one display_data, however many redraws
    return result


def report(where: str, result: dict) -> None:
    print(f"{where} ({result['mode']} view, {len(result['times']['plain']['wall'])} rounds, {result['steps']} steps "
          "per epoch)")
    for kind, what in (("wall", "wall time"), ("cpu", "this thread's CPU time")):
        plain, live = result["times"]["plain"][kind], result["times"]["live"][kind]
        ratios = [b / a for a, b in zip(plain, live)]
        per_step_us = (statistics.median(live) - statistics.median(plain)) / result["steps"] * 1e6
        verdict = "ok" if statistics.median(ratios) <= TARGET else "OVER TARGET"
        print(f"  {what}: plain epoch min {min(plain):.3f} s median {statistics.median(plain):.3f} s; live min "
              f"{min(live):.3f} s median {statistics.median(live):.3f} s")
        print(f"    live / plain: ratio of minima {min(live) / min(plain):.4f}, median of per-round ratios "
              f"{statistics.median(ratios):.4f} (target <= {TARGET}: {verdict}); per step {per_step_us:+.1f} µs")
    print(f"  redraws {result['draws']}, {1e3 * result['draw_seconds'] / max(result['draws'], 1):.2f} ms each")
    if "outputs" in result:
        print(f"  the cell's outputs: {result['outputs']} (one display, updated in place)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--where", nargs="+", choices=["kernel", "plain"], default=["kernel", "plain"])
    args = parser.parse_args(argv)
    for where in args.where:
        report(where, in_kernel(args.rounds) if where == "kernel" else measure(args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
