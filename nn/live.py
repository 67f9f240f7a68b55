"""A live view of any training loop: loss per step (raw and smoothed), metrics per epoch, learning rate and
gradient norm per layer, redrawn in place in Jupyter, as compact text lines elsewhere.

Two lines in a hand-written loop::

    view = LiveView(model)                      # before the loop
    for xb, yb in batches:
        loss = F.cross_entropy(model(Tensor(xb)), yb)
        optimizer.zero_grad(); loss.backward(); optimizer.step()
        view.update(loss, lr=optimizer.lr)      # every step: cheap, it redraws at most twice a second
    view.end_epoch(test_accuracy=evaluate(...)) # optional: per-epoch metrics
    view.close()                                # optional: the final state (a cell's end does it too)

``nn.train(..., live=True)`` shows the same view for the training command.

How it shows itself. In Jupyter, one output (an IPython display handle), shown where the view is made, is
replaced in place by each redraw: an SVG chart (``nn.svg_chart``) with a text/plain line beside it, so a saved,
executed notebook shows the final state without a kernel, and the output never grows with the number of steps.
At the end of each cell that updated it, the latest state is drawn once more, so the stored picture is the
final one even without ``close()``. Outside Jupyter (a script, a terminal, IPython without a kernel) it prints
one line at most every ``text_interval`` seconds, one line per epoch, and one at ``close()``.

Why display handles and not a library: ipywidgets' state is not kept in a saved notebook (a reader without a
kernel sees no plot); livelossplot clears the output and draws a new one with matplotlib each time; fastprogress
updates in place too but also draws with matplotlib. matplotlib takes ~175 ms per redraw of four panels here,
against a 0.4 s epoch of a 784-128-10 MLP: at a redraw or two a second that alone would be 20-40% of the run.
The SVG costs ~3 ms to write and ~2 ms more to send from a kernel, and the redraw interval stretches so that
drawing stays under 0.5% of the time (``BUDGET``). Measured per step, all in: ``benchmarks/live_view.py``.

Gradient norms come from ``nn.gradflow.GradientFlow``: ``LiveView(model)`` makes one and records it in
``update()`` (call it after ``loss.backward()``, before the next ``zero_grad()``: after ``optimizer.step()`` is
right); ``LiveView(flow=flow)`` draws a flow your loop records itself.
"""
from __future__ import annotations

import itertools
import math
import sys
import time
from typing import Any, TextIO

import numpy as np

from .gradflow import GradientFlow
from .module import Module
from .svg_chart import Line, Panel, render

__all__ = ["BUDGET", "LiveView", "running_in_kernel"]

BUDGET = 0.005  # the largest share of the wall time redrawing may take: the interval stretches to keep under it
BLUE, ORANGE = "#1f77b4", "#ff7f0e"
METRIC_COLOURS = ("#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#7f7f7f")
# viridis from the input layer (dark) to the output (light), as GradientFlow.plot colours them
_VIRIDIS = ((0x44, 0x01, 0x54), (0x3B, 0x52, 0x8B), (0x21, 0x91, 0x8C), (0x5E, 0xC9, 0x62), (0xB5, 0xDE, 0x2B))


class LiveView:
    """A live picture of training, redrawn in place in Jupyter (compact text lines elsewhere).

    Args:
        model: record its per-layer gradient norms in ``update()`` (a ``GradientFlow`` measuring one step in
            ``grad_every``). Leave out to show no gradients, or pass ``flow`` instead.
        flow: a ``GradientFlow`` your loop records (``flow.record()``); the view only draws it.
        title: shown first in the header line.
        smoothing: β of the smoothed loss, an exponential moving average with bias correction,
            s_t = β s_(t-1) + (1 − β) loss_t,  smoothed_t = s_t / (1 − βᵗ)  (about the last 1/(1 − β) steps).
        interval: the shortest time between redraws, in seconds (longer when a redraw is slow: ``BUDGET``).
        grad_every: with ``model``: measure gradient norms every this many steps (default 20: measuring a
            784-128-10 MLP's takes ~35 µs, against ~0.8 ms for a step, so ~0.2% per step; 1 suits a slow
            loop, such as a scalar ``MLP``'s).
        mode: ``"auto"`` (Jupyter if running in a kernel, else text), ``"notebook"`` or ``"text"``.
        text_interval: the shortest time between text lines for steps, in seconds.
        epoch_lines: in text mode, print a line per ``end_epoch`` (off when the loop prints its own).
        file: where text lines go (default: ``sys.stdout`` at the time of printing).
    """

    def __init__(self, model: Module | None = None, *, flow: GradientFlow | None = None, title: str = "",
                 smoothing: float = 0.9, interval: float = 0.5, grad_every: int = 20, mode: str = "auto",
                 text_interval: float = 10.0, epoch_lines: bool = True, file: TextIO | None = None) -> None:
        if model is not None and flow is not None:
            raise ValueError("LiveView: pass model (the view records its gradients) or flow (your loop records "
                             "them), not both")
        if not 0 <= smoothing < 1:
            raise ValueError(f"LiveView: smoothing is the moving average's β, in [0, 1); got {smoothing!r}")
        if mode not in ("auto", "notebook", "text"):
            raise ValueError(f"LiveView: mode must be 'auto', 'notebook' or 'text', got {mode!r}")
        if not interval > 0 or not text_interval > 0:
            raise ValueError(f"LiveView: intervals must be > 0 seconds, got {interval!r} and {text_interval!r}")
        self.flow = GradientFlow(model, every=grad_every, activations=()) if model is not None else flow
        self._records_flow = model is not None
        self.title, self.smoothing = title, smoothing
        self.notebook = running_in_kernel() if mode == "auto" else mode == "notebook"
        if self.notebook and not running_in_kernel():
            raise RuntimeError("LiveView(mode='notebook') needs a running Jupyter kernel; use mode='auto' or 'text'")
        self.interval = interval if self.notebook else text_interval
        self.epoch_lines, self.file = epoch_lines, file
        self.losses: list[float] = []  # one per update(): the raw loss
        self.smoothed: list[float] = []
        self.lrs: list[float] = []  # nan where update() got no lr
        self.epochs: list[tuple[int, dict[str, float]]] = []  # (steps done, metrics) per end_epoch()
        self._ema, self._weight = 0.0, 0.0
        self._flow_note = ""
        self._start = time.perf_counter()
        self._next_draw = -math.inf  # the first update draws at once
        self._wait = self.interval
        self._drawn = (-1, -1)  # (steps, epochs) at the last draw: nothing new means nothing to redraw
        self._handle: Any = None
        self._hooked = False
        self.closed = False
        self.draws, self.draw_seconds = 0, 0.0  # redraws so far and the time they took (benchmarks/live_view.py)
        if self.notebook:  # the output appears where the view is made, and is redrawn there
            self._draw()
            self._next_draw = -math.inf  # the first step is drawn at once too

    # -- feeding it --------------------------------------------------------------------------------------

    @property
    def steps(self) -> int:
        """How many times ``update()`` was called."""
        return len(self.losses)

    def update(self, loss: Any, lr: float | None = None) -> None:
        """One training step: its ``loss`` (a float, ``Value`` or one-element ``Tensor``) and learning rate."""
        value = float(loss)
        self.losses.append(value)
        if math.isfinite(value):  # a nan step shows as a gap in the raw line; the average goes on without it
            b = self.smoothing
            self._ema = b * self._ema + (1 - b) * value
            self._weight = b * self._weight + (1 - b)
        self.smoothed.append(self._ema / self._weight if self._weight else math.nan)
        self.lrs.append(math.nan if lr is None else float(lr))
        if self._records_flow:
            try:
                self.flow.record()
            except RuntimeError:  # no gradients: update() came after zero_grad()
                self._flow_note = "no gradients at update(): call it after loss.backward(), before zero_grad()"
        if time.perf_counter() >= self._next_draw:
            self._draw()
        elif self.notebook and not self._hooked:
            self._hook()

    def end_epoch(self, **metrics: float) -> None:
        """Per-epoch numbers, e.g. ``end_epoch(train_loss=0.41, test_accuracy=0.87)``. Names with "loss" are
        drawn over the step losses (at the epoch's last step), the others in their own panel, by epoch."""
        self.epochs.append((self.steps, {name: float(v) for name, v in metrics.items()}))
        if not self.notebook and self.epoch_lines:
            self._print(self._epoch_line())
        if time.perf_counter() >= self._next_draw:
            self._draw()
        elif self.notebook and not self._hooked:
            self._hook()

    def close(self) -> None:
        """Draw the final state (if it changed since the last redraw). Later updates start drawing again."""
        if self._drawn != (self.steps, len(self.epochs)):
            self._draw()
        self._unhook()
        self.closed = True

    def __enter__(self) -> LiveView:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- what it shows --------------------------------------------------------------------------------

    def header(self) -> str:
        """One line: the title, step, epoch, latest and smoothed loss, lr, the last epoch's metrics, time."""
        parts = [self.title] if self.title else []
        parts.append(f"step {self.steps:,}")
        if self.epochs:
            parts.append(f"epoch {len(self.epochs)}")
        if self.losses:
            parts.append(f"loss {self.losses[-1]:.4g} (smoothed {self.smoothed[-1]:.4g})")
        if self.lrs and math.isfinite(self.lrs[-1]):
            parts.append(f"lr {self.lrs[-1]:.3g}")
        if self.epochs:
            parts += [_metric_text(name, v) for name, v in self.epochs[-1][1].items()]
        parts.append(f"{time.perf_counter() - self._start:.1f} s")
        return " · ".join(parts)

    def to_svg(self) -> str:
        """The chart as an SVG document (what the notebook output shows)."""
        header = self.header() + (f"  ({self._flow_note})" if self._flow_note else "")
        return render(self._panels(), header=header)

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, str]:
        return {"image/svg+xml": self.to_svg(), "text/plain": self.header()}

    def __repr__(self) -> str:
        return f"LiveView({self.header()})"

    def _panels(self) -> list[Panel]:
        steps = np.arange(1, self.steps + 1)
        loss = Panel("loss per step", "step", [
            Line("raw", steps, np.asarray(self.losses), BLUE, width=1.0, opacity=0.35, noisy=True),
            Line(f"smoothed (β={self.smoothing:g})", steps, np.asarray(self.smoothed), BLUE, width=1.8)],
            empty="no step yet: view.update(loss)")
        panels = [loss]
        names = list(dict.fromkeys(name for _, metrics in self.epochs for name in metrics))
        at = np.asarray([s for s, _ in self.epochs], dtype=float)
        by_epoch = np.arange(1, len(self.epochs) + 1)
        others = []
        loss_colours, colours = itertools.cycle((ORANGE, *METRIC_COLOURS)), itertools.cycle(METRIC_COLOURS)
        for name in names:
            values = np.asarray([m.get(name, math.nan) for _, m in self.epochs])
            if "loss" in name:
                loss.lines.append(Line(name, at, values, next(loss_colours), markers=True))
            else:
                scale = 100.0 if "acc" in name and np.nanmax(np.abs(values)) <= 1 else 1.0
                label = f"{name} (%)" if scale == 100 else name
                others.append(Line(label, by_epoch, values * scale, next(colours), markers=True))
        if others:
            panels.append(Panel("metrics per epoch", "epoch", others, log_y=False))
        lrs = np.asarray(self.lrs)
        if np.isfinite(lrs).any():
            panels.append(Panel("learning rate", "step", [Line("", steps, lrs, "#555555", width=1.5)]))
        if self.flow is not None:
            panels.append(self._grad_panel())
        return panels

    def _grad_panel(self) -> Panel:
        flow = self.flow
        x = np.asarray(flow.steps, dtype=float) + 1  # record() k (0-based) follows the (k + 1)-th update
        norms = flow.grad_norms
        colours = _viridis(len(flow.layers))
        lines = [Line(flow.labels[name], x, norms[name], colour) for name, colour in zip(flow.layers, colours)]
        return Panel("gradient norm per layer ‖∂L/∂θ‖ (input → output)", "step", lines, log_y=True,
                     empty=self._flow_note or "no gradient recorded yet")

    def _step_line(self) -> str:
        line = f"step {self.steps:>6}"
        if self.losses:
            line += f"  loss {self.losses[-1]:.4g} (smoothed {self.smoothed[-1]:.4g})"
        if self.lrs and math.isfinite(self.lrs[-1]):
            line += f"  lr {self.lrs[-1]:.3g}"
        if self.flow is not None and self.flow.steps:
            norms = self.flow.grad_norms
            line += "  ‖∂L/∂θ‖ " + " ".join(f"{name}:{norms[name][-1]:.2e}" for name in self.flow.layers)
        return line

    def _epoch_line(self) -> str:
        steps, metrics = self.epochs[-1]
        metric_text = "  ".join(_metric_text(n, v) for n, v in metrics.items())
        return f"epoch {len(self.epochs):>3} (step {steps})  {metric_text}"

    # -- drawing -------------------------------------------------------------------------------------

    def _draw(self) -> None:
        t0 = time.perf_counter()
        if self.notebook:
            self._show({"image/svg+xml": self.to_svg(), "text/plain": self.header()})
        elif self.steps:
            self._print(self._step_line())
        self._drawn = (self.steps, len(self.epochs))
        t1 = time.perf_counter()
        self.draws += 1
        self.draw_seconds += t1 - t0
        # Drawing may take at most BUDGET of the time: a slow redraw pushes the next one further out.
        self._wait = max(self.interval, (t1 - t0) / BUDGET)
        self._next_draw = t1 + self._wait

    def _show(self, bundle: dict[str, str]) -> None:
        from IPython.display import display  # in a kernel, IPython is there

        if self._handle is None:
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._handle.update(bundle, raw=True)
        if not self._hooked:
            self._hook()

    def _hook(self) -> None:
        """Draw the final state once the running cell has finished (IPython's post_run_cell event)."""
        from IPython import get_ipython

        get_ipython().events.register("post_run_cell", self._at_cell_end)
        self._hooked = True

    def _at_cell_end(self, *_: Any) -> None:
        if self._drawn != (self.steps, len(self.epochs)):
            self._draw()
        self._unhook()

    def _unhook(self) -> None:
        if self._hooked:
            from IPython import get_ipython

            ip = get_ipython()
            if ip is not None and self._at_cell_end in ip.events.callbacks["post_run_cell"]:
                ip.events.unregister("post_run_cell", self._at_cell_end)
            self._hooked = False

    def _print(self, line: str) -> None:
        print(line, file=self.file or sys.stdout, flush=True)


def running_in_kernel() -> bool:
    """True inside a Jupyter kernel (a notebook, JupyterLab, VS Code), where rich output can be shown."""
    if "IPython" not in sys.modules:  # never imported: not IPython, and importing it would cost ~0.2 s
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _metric_text(name: str, value: float) -> str:
    if "acc" in name and 0 <= value <= 1:
        return f"{name} {100 * value:.2f}%"
    return f"{name} {value:.4g}"


def _viridis(n: int) -> list[str]:
    """``n`` colours from dark purple (input layer) to yellow-green (output layer)."""
    out = []
    for i in range(n):
        t = (i / max(n - 1, 1)) * (len(_VIRIDIS) - 1)
        k = min(int(t), len(_VIRIDIS) - 2)
        f = t - k
        rgb = [round(a + (b - a) * f) for a, b in zip(_VIRIDIS[k], _VIRIDIS[k + 1])]
        out.append("#{:02x}{:02x}{:02x}".format(*rgb))
    return out
