"""The backward pass as frames: a slider in Jupyter (``step_through``) and one HTML page (``save_animation``).

Frame k is ``draw_dot(root, step=k)``: the graph after k steps of ``backward_steps``, gradients not reached
yet reading ``?`` and the newest contribution highlighted on its edge. Every frame is laid out alike (each
value's cells are as wide in every frame, and the colour scale is that of the last frame), so nothing
jumps as the slider moves, and all frames are rendered by one ``dot`` process, with a time limit. Captions
and unlabelled boxes use the names ``print(step)`` uses (``v3``, ``(tanh)#2``).

The page is self-contained: SVG frames inline, a slider and buttons in plain JavaScript, nothing fetched; it
zooms and pans, and clicking a value shows how its gradient is made (``page.viewer``). Without JavaScript (a
notebook viewed on GitHub, say) the frames are shown side by side as a film strip.
"""
from __future__ import annotations

import html
import itertools
from pathlib import Path
from typing import Any

import numpy as np

from . import page, summary
from .drawing import _CHAR_PT, Drawing, _num
from .names import Names
from .render import DEFAULT_TIMEOUT, DotTimeout, run_dot
from .steps import Step, replay

__all__ = ["BackwardAnimation", "save_animation", "step_through"]

MAX_STEPS = 200
_ids = itertools.count()
_NEED_WIDGETS = ("step_through needs ipywidgets for its slider (pip install ipywidgets, or the project's "
                 "'notebook' extra). Meanwhile here are the same frames as a page that needs no widgets; "
                 "save_animation(root, 'backprop.html') writes it to a file.")


class BackwardAnimation:
    """Frames of one backward pass: ``.steps``, ``.captions`` and ``.frames`` (SVG text), frame k after k steps.

    Shows itself in Jupyter as the same player ``save_animation`` writes (``_repr_html_``).
    """

    def __init__(self, root: Any, show_local: bool = True, rankdir: str | None = None,
                 max_steps: int = MAX_STEPS, timeout: float | None = None) -> None:
        if not all(hasattr(root, a) for a in ("data", "grad", "op", "inputs")):
            raise TypeError(f"step-through needs a Value or Tensor (the output backward() starts from), "
                            f"got {type(root).__name__}")
        graph = summary.walk(root)
        self.root = root
        self.steps: list[Step] = replay(root)
        if len(self.steps) > max_steps:
            raise ValueError(
                f"step-through: the backward pass of this graph has {len(self.steps)} steps (one per edge), "
                f"more than max_steps={max_steps}; step through a smaller graph (one data point, a small layer) "
                "or raise max_steps")
        self.names = self.steps[0].names if self.steps else Names(root)
        widths = _widths(graph, self.steps)
        last = Drawing(graph, None, show_local, len(self.steps), None, False, widths, self.steps, names=self.names)
        self._last = last
        rankdir = rankdir or last._auto_rankdir()
        key = last.key_cells(unknown=True)  # one key for every frame, so that no frame is wider than another
        sources, self.captions = [], []
        for k in range(len(self.steps) + 1):
            drawing = Drawing(graph, None, show_local, k, None, False, widths, self.steps, names=self.names)
            drawing.scale = last.scale  # one colour scale for every frame: colours compare across frames
            drawing.key = key
            sources.append(drawing.digraph("svg", rankdir, None, True).source)
            self.captions.append(self._caption(k))
        seconds = timeout if timeout is not None else DEFAULT_TIMEOUT + 0.25 * len(sources)
        self.frames = _render_all(sources, seconds)

    def _caption(self, k: int) -> str:
        n = len(self.steps)
        if k == 0:
            return f"step 0 of {n}: backward() starts at {self.names(self.root)} with gradient 1"
        return f"step {k} of {n}: {self.steps[k - 1].describe()}"

    def html(self, standalone: bool = False) -> str:
        """The player: slider, buttons, zoom and the frames; clicking a value explains it. ``standalone`` wraps it
        in a whole HTML page."""
        uid = f"bp{next(_ids)}"
        figures = []
        for k, (svg, caption) in enumerate(zip(self.frames, self.captions)):
            figures.append(
                f'<figure class="bp-frame" data-step="{k}" style="margin:0 0 12px 0">'
                f'<figcaption style="font:13px sans-serif;margin:4px 0">{html.escape(caption)}</figcaption>'
                f"{page.inline_svg(svg, f'{uid}f{k}')}</figure>")
        n = len(self.frames) - 1
        controls = (
            f'<div class="bp-controls" style="display:none;font:13px sans-serif;margin:6px 0">'
            f'<button class="bp-first">« first</button> <button class="bp-prev">◀</button> '
            f'<button class="bp-play">▶ play</button> <button class="bp-next">▶</button> '
            f'<input class="bp-slider" type="range" min="0" max="{n}" value="0" step="1" '
            'style="width:320px;vertical-align:middle"> '
            f'<span class="bp-counter">0 / {n}</span></div>')
        strip = ("display:grid;grid-template-columns:repeat(auto-fill,minmax(330px,1fr));gap:8px")
        frames = f'<div class="bp-frames" style="{strip}">{"".join(figures)}</div>'
        tables = page.tables_for(self.root, self._last, self.steps)
        body = (f'<div id="{uid}" class="bp-animation">{controls}{page.viewer(frames, tables, uid + "v")}'
                f"<script>{_SCRIPT.replace('__ID__', uid)}</script></div>")
        if not standalone:
            return body
        return page.page("The backward pass, one edge at a time", body)

    def _repr_html_(self) -> str:
        return self.html()

    def save(self, path: str | Path) -> Path:
        """Write the self-contained page to ``path`` (UTF-8) and return the path."""
        path = page._writable(path, "save_animation")
        path.write_text(self.html(standalone=True), encoding="utf-8")
        return path


def save_animation(root: Any, path: str | Path, show_local: bool = True, max_steps: int = MAX_STEPS,
                   timeout: float | None = None) -> Path:
    """Write the backward pass from ``root`` as one self-contained HTML page: inline SVG frames, a slider and
    buttons, zoom and pan, and a click on a value shows how its gradient is made; plain JavaScript, nothing
    fetched. Opens from a file in any browser. ``timeout``: seconds ``dot`` may take for all the frames (default
    5 s plus a quarter second per frame). Returns the path."""
    page._writable(path, "save_animation")  # a missing directory is an error before the frames are drawn
    return BackwardAnimation(root, show_local=show_local, max_steps=max_steps, timeout=timeout).save(path)


def step_through(root: Any, show_local: bool = True, max_steps: int = MAX_STEPS) -> Any:
    """In Jupyter: a slider (ipywidgets) over the frames of the backward pass from ``root``.

    Without ipywidgets, prints what to install and returns a ``BackwardAnimation``, whose page-style player
    (plain JavaScript) shows in the notebook instead.
    """
    anim = BackwardAnimation(root, show_local=show_local, max_steps=max_steps)
    try:
        import ipywidgets as widgets
    except ImportError:
        print(_NEED_WIDGETS)
        return anim
    n = len(anim.frames) - 1
    slider = widgets.IntSlider(value=0, min=0, max=n, step=1, description="step", continuous_update=True,
                               layout=widgets.Layout(width="420px"))
    play = widgets.Play(value=0, min=0, max=n, step=1, interval=900)
    widgets.jslink((play, "value"), (slider, "value"))
    view = widgets.HTML(_frame_html(anim, 0))

    def show(change: dict) -> None:
        view.value = _frame_html(anim, change["new"])

    slider.observe(show, names="value")
    return widgets.VBox([widgets.HBox([play, slider]), view])


# -- helpers -------------------------------------------------------------------------------------------


def _frame_html(anim: BackwardAnimation, k: int) -> str:
    return (f"<div style='font:13px sans-serif;margin:4px 0'>{html.escape(anim.captions[k])}</div>"
            + page.inline_svg(anim.frames[k], f"w{k}"))


def _widths(graph: summary.Graph, steps: list[Step]) -> dict[int, float]:
    """Each value's widest grad text over all frames, in points, so every frame has the same layout."""
    index = {id(n): i for i, n in enumerate(graph.nodes)}
    longest = dict.fromkeys(range(len(graph)), len("grad ?"))
    for s in steps:
        if isinstance(s.grad_after, np.ndarray):
            return {}  # tensor cells already have fixed text lengths per node; widths vary little
        i = index[id(s.node)]
        text = f"grad {_num(s.grad_after)} (+{_num(s.contribution)})"
        longest[i] = max(longest[i], len(text))
    return {i: n * _CHAR_PT + 6 for i, n in longest.items()}


def _render_all(sources: list[str], timeout: float) -> list[str]:
    """Every frame through one ``dot`` process (it reads graph after graph), split at each SVG's start."""
    try:
        out = run_dot("\n".join(sources), "svg", timeout)
    except DotTimeout:
        raise RuntimeError(f"step-through: dot did not finish the {len(sources)} frames in {timeout:g} s; step through "
                           "a smaller graph, or pass a larger timeout=") from None
    except RuntimeError as e:
        raise RuntimeError(f"step-through: {e}") from None
    parts = out.decode().split("<?xml")[1:]
    if len(parts) != len(sources):
        raise RuntimeError(f"dot returned {len(parts)} SVG frames for {len(sources)} graphs")
    return ["<?xml" + p for p in parts]


_SCRIPT = """
(function () {
  var root = document.getElementById("__ID__");
  var frames = root.querySelectorAll(".bp-frame");
  var controls = root.querySelector(".bp-controls");
  var slider = root.querySelector(".bp-slider");
  var counter = root.querySelector(".bp-counter");
  var playButton = root.querySelector(".bp-play");
  var last = frames.length - 1, timer = null;
  root.querySelector(".bp-frames").style.display = "block";
  controls.style.display = "block";
  function show(k) {
    k = Math.max(0, Math.min(last, k));
    for (var i = 0; i < frames.length; i++) frames[i].style.display = (i === k) ? "block" : "none";
    slider.value = k;
    counter.textContent = k + " / " + last;
    root.setAttribute("data-current", k);
  }
  function stop() { if (timer) { clearInterval(timer); timer = null; playButton.textContent = "▶ play"; } }
  slider.addEventListener("input", function () { stop(); show(parseInt(slider.value, 10)); });
  root.querySelector(".bp-first").addEventListener("click", function () { stop(); show(0); });
  root.querySelector(".bp-prev").addEventListener("click", function () {
    stop(); show(parseInt(slider.value, 10) - 1);
  });
  root.querySelector(".bp-next").addEventListener("click", function () {
    stop(); show(parseInt(slider.value, 10) + 1);
  });
  playButton.addEventListener("click", function () {
    if (timer) { stop(); return; }
    if (parseInt(slider.value, 10) >= last) show(0);
    playButton.textContent = "⏸ pause";
    timer = setInterval(function () {
      var k = parseInt(slider.value, 10) + 1;
      show(k);
      if (k >= last) stop();
    }, 900);
  });
  show(0);
})();
"""
