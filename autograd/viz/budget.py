"""How much to draw: an estimate of the layout before Graphviz runs, and the choice of view it leads to.

Node count is the wrong budget. A 150-value MLP over four examples is "small", yet drawn whole it is a
1,000-px hairball of 8-px text; a 100-term ``sum()`` used to be 200 boxes that kept ``dot`` busy for minutes.
What matters is whether ``dot`` finishes quickly and whether the text can be read in a notebook column
(about 1,000 px). Before ``dot`` runs, a view is measured for both:

* **layout cost**: edges drawn, the largest fan-in of one node (many edges into one node from one rank is where
  ``dot``'s crossing minimisation gets slow), and the ranks edges skip (``dot`` adds a virtual node per rank an
  edge crosses; a summary box wired to every rung of a ladder made thousands);
* **readable size**: the width of the layout, from each box's text and the graph's levels (LR puts the levels side
  by side, TB stacks them), hence the scale ``dot`` will shrink it by to fit the column, hence the size of the
  smallest text: at least ``MIN_TEXT_PX`` (9 px), and a height a reader can scroll.

``plan`` tries the views from finest to coarsest: the whole graph, one box per neuron (scalar MLPs), one box per
layer or module with repeated ops grouped; the first within budget is drawn. If none is, the coarsest is cut to
the boxes nearest the root that fit. The chosen view says what it did in one line of the picture's caption.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from . import summary
from .summary import View

COLUMN_PT = 750.0  # a notebook column, about 1,000 px (SVG points are 4/3 px)
MIN_TEXT_PX = 9.0  # the smallest text, at the column's width
SMALLEST_FONT_PT = 10.0  # the smallest font a drawing uses (op ovals, edge labels, the key)
MAX_EDGES = 300  # past this many edges a picture is a hairball, and dot slows down
MAX_FAN_IN = 40  # edges into one node
MAX_SKIPPED_RANKS = 1500  # dot's virtual nodes: the sum over edges of the ranks each one skips
MAX_HEIGHT_PT = 3600.0  # about 5,000 px: a few screens to scroll, not hundreds
MIN_CUT = 8  # a cut keeps at least this many boxes
LEVELS = ("whole", "neuron", "layer")
_RANKSEP_PT = 22.0  # drawing.py asks dot for ranksep=0.3 in


@dataclass
class Estimate:
    """What a view will cost ``dot`` and how big its text will be, before ``dot`` runs."""

    boxes: int
    edges: int
    fan_in: int
    skipped_ranks: int
    width: float  # points, before scaling to the column
    height: float
    rankdir: str

    @property
    def scale(self) -> float:
        return min(1.0, (COLUMN_PT - 8) / self.width) if self.width > 0 else 1.0

    @property
    def text_px(self) -> float:
        return SMALLEST_FONT_PT * self.scale * 4 / 3

    def problems(self, max_nodes: int | None) -> list[str]:
        """What is over budget, in words (empty: the view is drawn as it is)."""
        out = []
        if max_nodes is not None and self.boxes > max_nodes:
            out.append(f"{self.boxes:,} boxes > max_nodes={max_nodes}")
        if self.edges > MAX_EDGES:
            out.append(f"{self.edges:,} edges")
        if self.fan_in > MAX_FAN_IN:
            out.append(f"{self.fan_in:,} edges into one node")
        if self.skipped_ranks > MAX_SKIPPED_RANKS:
            out.append("long edges")
        if self.text_px < MIN_TEXT_PX:
            out.append(f"text {self.text_px:.0f} px")
        if self.height * self.scale > MAX_HEIGHT_PT:
            out.append(f"{self.height * self.scale * 4 / 3:,.0f} px tall")
        return out


@dataclass
class Plan:
    """The view to draw, at which ``level``, cut to ``keep`` boxes (None: not cut), and a one-line ``note`` for the
    caption when the budget chose it (what was summarised, and how to see more)."""

    view: View
    level: str
    keep: int | None
    estimate: Estimate | None
    note: str = ""
    levels: list[str] = field(default_factory=list)  # the levels this drawing may use, finest first


def levels_for(drawing: Any) -> list[str]:
    """The views that differ for this graph, finest first: per neuron only where there are neurons (scalar MLPs)."""
    neurons = not drawing.tensor and summary.has_neurons(drawing.owner)
    return [level for level in LEVELS if level != "neuron" or neurons]


def view_at(drawing: Any, level: str, keep: int | None) -> View:
    """The view of ``drawing``'s graph at ``level``, at most ``keep`` boxes (the ones nearest the root)."""
    if level == "whole":
        return summary.whole(drawing.graph, keep)
    cache = drawing.__dict__.setdefault("_groupings", {})
    if level not in cache:
        cache[level] = summary.groups(drawing.graph, drawing.role, drawing.owner, per=level)
    return summary.summarise(drawing.graph, drawing.role, drawing.owner, keep, per=level, grouping=cache[level])


def plan(drawing: Any, collapse: bool | str | None, max_nodes: int | None) -> Plan:
    """Choose the view (see the module docstring). ``collapse``: None lets the budget choose; False draws the
    graph whole (cut at ``max_nodes``); True summarises as much as the budget needs; "neuron" or "layer" that level.
    ``max_nodes=None`` with ``collapse=None`` draws every value."""
    levels = levels_for(drawing)
    n = len(drawing.graph)
    if collapse is False or (collapse is None and max_nodes is None):
        view = view_at(drawing, "whole", max_nodes)
        return Plan(view, "whole", max_nodes if view.hidden else None, estimate(drawing, view), levels=levels)
    if isinstance(collapse, str):
        level = "layer" if collapse == "neuron" and "neuron" not in levels else collapse
        view = view_at(drawing, level, max_nodes)
        return Plan(view, level, max_nodes if view.hidden else None, estimate(drawing, view), levels=levels)
    tries = levels if collapse is None else levels[1:]
    for level in tries:
        if level == "whole" and max_nodes is not None and n > max_nodes:
            continue  # too many boxes for certain: no need to lay them out
        view = view_at(drawing, level, max_nodes)
        est = estimate(drawing, view)
        if not view.hidden and not est.problems(max_nodes):
            return Plan(view, level, None, est, note(drawing, level), levels)
    return cut_to_fit(drawing, levels[-1], max_nodes, levels)


def cut_to_fit(drawing: Any, level: str, max_nodes: int | None, levels: list[str], start: int | None = None) -> Plan:
    """``level`` cut to the most boxes nearest the root that fit the budget (at least ``MIN_CUT``)."""
    keep = start if start is not None else max_nodes if max_nodes is not None else 200
    while True:
        view = view_at(drawing, level, keep)
        est = estimate(drawing, view)
        if not est.problems(max_nodes) or keep <= MIN_CUT:
            cut_note = note(drawing, level) if level != "whole" else ""
            return Plan(view, level, keep if view.hidden else None, est, cut_note, levels)
        keep = max(MIN_CUT, min(keep, len(view.boxes)) * 2 // 3)


def coarser(drawing: Any, current: Plan, max_nodes: int | None) -> Plan | None:
    """A cheaper view than ``current``, for when ``dot`` did not finish it in time: the first coarser level that
    is within budget, else the coarsest cut to a third of ``current``'s boxes; None when nothing is left to cut."""
    boxes = len(current.view.boxes)
    later = current.levels[current.levels.index(current.level) + 1:] if current.level in current.levels else []
    for level in later:
        view = view_at(drawing, level, max_nodes)
        est = estimate(drawing, view)
        if len(view.boxes) < boxes and not view.hidden and not est.problems(max_nodes):
            return Plan(view, level, None, est, note(drawing, level), current.levels)
    if boxes <= MIN_CUT:
        return None
    level = current.levels[-1] if later else current.level
    return cut_to_fit(drawing, level, max_nodes, current.levels, start=max(MIN_CUT, boxes // 3))


def describe(drawing: Any, plan: Plan) -> str:
    """How a plan draws the graph, in a few words: "the whole graph", "one box per neuron", ..."""
    if plan.level == "whole":
        return f"the {len(plan.view.boxes):,} values nearest the output" if plan.view.hidden else "the whole graph"
    what = "one box per neuron" if plan.level == "neuron" else \
        "one box per layer" if not drawing.tensor and summary.has_neurons(drawing.owner) else \
        "one box per module" if any(m is not None for m in drawing.owner) else "repeated ops grouped"
    return what + (f", cut to {len(plan.view.boxes):,} boxes" if plan.view.hidden else "")


def note(drawing: Any, level: str) -> str:
    """One line for the caption: how the graph was drawn to fit, and how to see more."""
    n = len(drawing.graph) + drawing.graph.folded  # every value the root depends on, chains' inner ops included
    if level == "whole":
        return ""
    if level == "neuron":
        how = "one box per neuron"
        more = "collapse=False draws every value"
    elif drawing.tensor or not summary.has_neurons(drawing.owner):
        how = "one box per module, repeated ops grouped" if any(m is not None for m in drawing.owner) \
            else "repeated ops grouped"
        more = "collapse=False draws every value"
    else:
        how = "one box per layer, repeated ops grouped"
        more = "collapse='neuron' draws one box per neuron, collapse=False every value"
    return f"{n:,} values, drawn as {how} to fit a notebook column; {more}"


# -- the estimate ----------------------------------------------------------------------------------------


def estimate(drawing: Any, view: View) -> Estimate:
    """Edges, fan-in, skipped ranks and the layout's size for ``view`` (sizes from ``drawing._estimate_size``)."""
    inputs = drawing.graph.inputs
    drawn = {}
    for b in view.boxes:
        for i in b.members:
            drawn[i] = b.key
    inputs_of: dict[str, set[str]] = {}
    fan: dict[str, int] = {}
    edges = 0
    for box in view.boxes:
        if box.kind == "value":
            i = box.members[0]
            if inputs[i]:
                edges += 1  # op oval -> value box
            for k in inputs[i]:
                t = drawn.get(k)
                if t is None:
                    continue
                inputs_of.setdefault(box.key, set()).add(t)
                if t.startswith("n"):  # value -> op: drawn once per use
                    edges += 1
                    fan[box.key] = fan.get(box.key, 0) + 1
        else:
            for i in box.members:
                for k in inputs[i]:
                    t = drawn.get(k)
                    if t is not None and t != box.key:
                        inputs_of.setdefault(box.key, set()).add(t)
    for (tail, head) in view.edges:
        if tail.startswith("n") and head.startswith("n"):
            continue  # counted above, per use
        edges += 1
        fan[head] = fan.get(head, 0) + 1
    edges += len(view.hidden_edges)
    level: dict[str, int] = {}
    for box in reversed(view.boxes):  # inputs tend to come later: a good order to start from
        _level(box.key, inputs_of, level)
    # dot keeps edges short: a leaf sits just above the first op that reads it, not at the top (a layer's weight
    # beside its layer).
    first_use: dict[str, int] = {}
    for head, tails in inputs_of.items():
        for t in tails:
            first_use[t] = min(first_use.get(t, level[head]), level[head])
    for box in view.boxes:
        if box.key not in inputs_of and box.key in first_use:
            level[box.key] = max(0, first_use[box.key] - 1)
    skipped = sum(max(0, level[h] - level[t] - 1) for h, ts in inputs_of.items() for t in ts)
    width, height, rankdir = _layout_size(drawing, view, level)
    return Estimate(len(view.boxes), edges, max(fan.values(), default=0), skipped, width, height, rankdir)


def _layout_size(drawing: Any, view: View, level: dict[str, int]) -> tuple[float, float, str]:
    """(width, height, rankdir) of the layout: LR puts the levels side by side, TB stacks them; LR when it fits the
    column and is the shorter, or when TB does not fit either but LR is narrower."""
    n = max(level.values(), default=0) + 1
    widest = [0.0] * n  # LR: each level as wide as its widest box, levels side by side
    tallest = [0.0] * n  # TB: each level as tall as its tallest box, stacked
    across = [0.0] * n  # LR: a level's boxes stacked; TB: laid side by side
    along = [0.0] * n
    for box in view.boxes:
        w, h = drawing._estimate_size(box)
        lv = level[box.key]
        widest[lv] = max(widest[lv], w)
        tallest[lv] = max(tallest[lv], h)
        across[lv] += h + 12
        along[lv] += w + 18
    if view.hidden:  # the note about what was cut sits among the inputs
        along[0] += 260
        across[0] += 40
        widest[0] = max(widest[0], 260)
    gaps = 2 * _RANKSEP_PT * n  # a level is two ranks (the op oval, then the value), with ranksep after each
    lr_width, lr_height = sum(widest) + gaps, max(across)
    tb_width, tb_height = max(along), sum(tallest) + gaps
    legend = drawing._legend_width()
    lr_width, tb_width = max(lr_width, legend), max(tb_width, legend)
    fits = 0.9 * COLUMN_PT  # estimates are rough, and a layout scaled down to fit is hard to read
    if lr_width <= fits and (tb_width > fits or lr_height <= tb_height):
        return lr_width, lr_height, "LR"
    if tb_width > fits and lr_width < tb_width and lr_height <= MAX_HEIGHT_PT:
        return lr_width, lr_height, "LR"
    return tb_width, tb_height, "TB"


def _level(key: str, inputs_of: dict[str, set[str]], memo: dict[str, int]) -> int:
    """The longest path from an input to ``key``, in boxes (iterative: deep graphs are fine)."""
    if key in memo:
        return memo[key]
    stack = [key]
    while stack:
        k = stack[-1]
        todo = [t for t in inputs_of.get(k, ()) if t not in memo]
        if todo:
            stack.extend(todo)
            continue
        stack.pop()
        memo[k] = 1 + max((memo[t] for t in inputs_of.get(k, ())), default=-1)
    return memo[key]
