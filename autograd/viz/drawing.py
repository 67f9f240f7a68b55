"""The DOT text of one drawing: value tables, op ovals, edges, module clusters, summary boxes, the key.

``draw_dot`` (autograd/viz.py) is the public entry; this module builds what it returns. ``Drawing`` decides what
each value shows (its gradient now, or after k steps of the backward pass), asks ``autograd.summary`` what to
draw (every value, or a summary within the budget), and writes the Graphviz source: HTML-like tables for values,
coloured by ``autograd.palette``, local derivatives from ``autograd.local_rules`` on the edges.
"""
from __future__ import annotations

import html
from typing import Any

import numpy as np

from . import local_rules, palette, summary
from .summary import INTERMEDIATE, OUTPUT, PARAMETER, Box, Graph

COLUMN_PT = 750.0  # a notebook column, about 1,000 px (SVG points are 4/3 px)
_TINY = 6  # tensors with at most this many elements show their numbers
_CHAR_PT = 5.8  # average width of a character at the node font size, for layout estimates
_NOT_KEPT = object()  # a Tensor that keeps no .grad (not a leaf): drawn as "grad —"


class Drawing:
    """One drawing: what is shown for each value, then the DOT text."""

    def __init__(self, graph: Graph, show_grad: bool | None, show_local: bool, step: int | None,
                 max_nodes: int | None, collapse: bool | None, widths: dict[int, float] | None = None,
                 steps: list | None = None, audit: Any = None) -> None:
        self.graph = graph
        self.tensor = graph.is_tensor
        self.show_local = show_local
        self.role = summary.roles(graph)
        self.owner = summary.modules(graph, self.role)
        self.highlight = None
        self.widths = widths or {}
        self.steps = steps
        self.audit = audit
        self.grads = self._grads(show_grad, step)
        if collapse is None:
            collapse = max_nodes is not None and len(graph) > max_nodes
        if collapse and step is not None:
            raise ValueError(f"draw_dot: step= draws a graph whole, but it has {len(graph)} values (max_nodes="
                             f"{max_nodes}); step through a smaller graph, or pass max_nodes=None")
        if collapse:
            self.view = summary.summarise(graph, self.role, self.owner, max_nodes)
        else:
            self.view = summary.cut(summary.single_view(graph), graph, max_nodes)
        self.max_nodes = max_nodes
        self.scale = palette.Scale(self._magnitudes())

    # -- gradients as shown --------------------------------------------------------------------------

    def _grads(self, show_grad: bool | None, step: int | None) -> list[Any]:
        """Per value: its gradient as drawn, ``None`` for "not computed" or ``_NOT_KEPT``."""
        nodes = self.graph.nodes
        if step is not None:
            return self._grads_at(step)
        if show_grad is None:
            show_grad = any(_has_grad(n) for n in nodes)
        if not show_grad:
            return [None] * len(nodes)
        grads = [n.grad for n in nodes]
        if set(map(type, grads)) - _NUMBERS:  # after backward(create_graph=True) a .grad is a Value/Tensor: its numbers
            grads = [_numbers(g) for g in grads]
        if not self.tensor:
            return grads
        return [g if g is not None else (_NOT_KEPT if n.op else None) for n, g in zip(nodes, grads)]

    def _grads_at(self, step: int) -> list[Any]:
        from .steps import replay, seed  # steps imports value/tensor machinery only when a step is drawn

        steps = self.steps if self.steps is not None else replay(self.graph.nodes[0])
        if not isinstance(step, int) or isinstance(step, bool) or not 0 <= step <= len(steps):
            raise ValueError(f"draw_dot: step must be an int from 0 to {len(steps)} (the number of edges), got {step!r}")
        at = {id(self.graph.nodes[0]): seed(self.graph.nodes[0])}
        for s in steps[:step]:
            at[id(s.node)] = s.grad_after
        if step:
            self.highlight = steps[step - 1]
        return [at.get(id(n)) for n in self.graph.nodes]

    def _magnitudes(self) -> list[float]:
        out = []
        for box in self.view.boxes:
            for i in box.members if box.kind == "value" else ():
                g = self.grads[i]
                if g is None or g is _NOT_KEPT:
                    continue
                out.append(_rms(g) if self.tensor else g)
        return out

    # -- DOT -----------------------------------------------------------------------------------------

    def digraph(self, format: str, rankdir: str | None, label: str | None, legend: bool) -> Any:
        import graphviz  # here, not at import time: `import autograd` stays fast

        body: list[str] = []
        drawn = {}  # value position -> key of the box it is drawn in
        for box in self.view.boxes:
            for i in box.members:
                drawn[i] = box.key
        clusters: dict[str, list[str]] = {}  # module -> its values' lines, when the graph is drawn whole
        edges: list[str] = []  # outside every cluster: an edge inside one would pull its tail in
        collapsed = self._collapsed
        for box in self.view.boxes:
            lines = self._box(box, drawn, edges)
            if box.kind == "value" and not collapsed:
                m = self.owner[box.members[0]]
                if m is not None:
                    clusters.setdefault(m, []).extend(lines)
                    continue
            body.extend(lines)
        for m, lines in clusters.items():
            title = self._cluster_title(m)
            body.append(f"subgraph \"cluster_{_q(m)}\" {{")
            body.append(f"label=<{_h(title)}> style=rounded color=\"#999999\" fontsize=10 fontcolor=\"#555555\"")
            body.extend(lines)
            body.append("}")
        body.extend(edges)
        body.extend(self._group_edges())
        if self.view.hidden:
            body.extend(self._cut_note())
        direction = rankdir or self._auto_rankdir()
        graph_attr = {"rankdir": direction, "fontname": "Helvetica", "nodesep": "0.18", "ranksep": "0.3",
                      "size": f"{(COLUMN_PT - 8) / 72:.2f},1000", "margin": "0.05"}  # 8 pt: both margins
        top = self._legend(label, legend)
        if top:
            graph_attr.update(label=top, labelloc="t", labeljust="l")
        dot = graphviz.Digraph(format=format, graph_attr=graph_attr,
                               node_attr={"fontname": "Helvetica", "fontsize": "11"},
                               edge_attr={"fontname": "Helvetica", "fontsize": "9", "arrowsize": "0.6"})
        dot.body.extend("\t" + line + "\n" for line in body)
        return dot

    @property
    def _collapsed(self) -> bool:
        return bool(self.view.edges) or any(b.kind != "value" for b in self.view.boxes)

    def _box(self, box: Box, drawn: dict[int, str], edges: list[str]) -> list[str]:
        """The box's node statements (returned) and its input edges (appended to ``edges``)."""
        if box.kind != "value":
            return [f"{box.key} [label=<{self._group_table(box)}> shape=plain]"]
        i = box.members[0]
        node = self.graph.nodes[i]
        lines = [f"{box.key} [label=<{self._value_table(i)}> shape=plain]"]
        ins = self.graph.inputs[i]
        if not ins:
            return lines
        op = f"o{i}"
        culprit = self.audit is not None and self.audit.node_status(node) == "culprit"
        red = f" color=\"{palette.CULPRIT}\" penwidth=2.5" if culprit else ""
        oval = red + f" fontcolor=\"{palette.CULPRIT}\"" if culprit else ""
        lines.append(f"{op} [label=<{_h(local_rules.op_label(node))}> shape=ellipse fontsize=10 height=0.25 width=0.3 "
                     f"margin=0.02{oval}]")
        edges.append(f"{op} -> {box.key}" + (f" [{red.strip()}]" if culprit else ""))
        locals_ = self._locals(node) if self.show_local else None
        hl = self.highlight
        for slot, k in enumerate(ins):
            tail = drawn.get(k)
            if tail is None or not tail.startswith("n"):
                continue  # cut (a dashed edge from the note) or inside a group (one edge per group, below)
            attrs = []
            if locals_ is not None and locals_[slot]:
                attrs.append(f"label=<{_h(locals_[slot])}> fontcolor=\"#1b7837\"")
            if hl is not None and hl.consumer is node and hl.slot == slot:
                attrs.append(f"color=\"{palette.HIGHLIGHT}\" penwidth=3")
            elif culprit:
                attrs.append(red.strip())
            edges.append(f"{tail} -> {op}" + (f" [{' '.join(attrs)}]" if attrs else ""))
        return lines

    def _locals(self, node: Any) -> list[str]:
        if self.tensor:
            # Inputs that need no gradient (constants, data) get none, so their edges carry no rule.
            return [f"{local_rules.tensor_rule(node, s) or '?'} {_shape(x.data.shape)}" if x.requires_grad else ""
                    for s, x in enumerate(node.inputs)]
        values = local_rules.value_locals(node)
        if values is None:
            return ["?"] * len(node.inputs)
        return [_num(v) for v in values]

    def _value_table(self, i: int) -> str:
        node, role = self.graph.nodes[i], self.role[i]
        colour, width, dashed = palette.ROLE_STYLE[role]
        hl = self.highlight
        if hl is not None and hl.node is node:
            colour = palette.HIGHLIGHT  # the colour only: a wider border would shift the layout between frames
        fill = ""
        if self.audit is not None and self.audit.node_status(node) == "inherits":
            colour, fill = palette.INHERITS_BORDER, f' bgcolor="{palette.INHERITS_FILL}"'
        rows = []
        text = self._name(i)
        if text:
            rows.append((f"<b>{_h(text)}</b>", None))
        if self.tensor:
            rows.extend((_h(line), None) for line in _describe_tensor(node.data))
            if node.requires_grad:
                rows.append(self._tensor_grad_row(i))
        else:
            rows.append((_h(f"data {_num(node.data)}"), None))
            rows.append(self._value_grad_row(i))
        style = ' style="dashed"' if dashed else ""
        w = self.widths.get(i)
        cell_w = f' width="{w:.0f}"' if w else ""
        cells = "".join(f"<tr><td{cell_w}{f' bgcolor={_attr(bg)}' if bg else ''}>{t}</td></tr>" for t, bg in rows)
        return (f'<table border="{width}" cellborder="0" cellspacing="0" cellpadding="2" color="{colour}"{style}{fill}>'
                f"{cells}</table>")

    def _name(self, i: int) -> str:
        node = self.graph.nodes[i]
        label = node.label or ""
        if label and self.role[i] == PARAMETER and "." in label:
            return summary.split_name(label)[1]
        return label

    def _value_grad_row(self, i: int) -> tuple[str, str | None]:
        g = self.grads[i]
        if g is None:
            return "grad ?", palette.UNKNOWN
        text = f"grad {_num(g)}"
        hl = self.highlight
        if hl is not None and hl.node is self.graph.nodes[i]:
            text += f" (+{_num(hl.contribution)})" if hl.contribution >= 0 else f" ({_num(hl.contribution)})"
        return _h(text), self.scale.colour(g)

    def _tensor_grad_row(self, i: int) -> tuple[str, str | None]:
        g = self.grads[i]
        if g is None:
            return "grad ?", palette.UNKNOWN
        if g is _NOT_KEPT:
            return "grad —", None
        g = np.asarray(g)
        text = f"grad ‖g‖={_num(float(np.linalg.norm(g.astype(np.float64, copy=False).ravel())))}"
        lines = [text] + (_tensor_numbers(g) if g.size <= _TINY else [])
        return "<br/>".join(_h(x) for x in lines), self.scale.colour(_rms(g), signed=False)

    # -- groups, clusters, the cut -------------------------------------------------------------------

    def _group_table(self, box: Box) -> str:
        nodes = [self.graph.nodes[i] for i in box.members]
        rows = []
        if box.kind == "module":
            rows.append(f"<b>{_h(summary.describe_module(box.title, nodes, self.tensor))}</b>")
            ops = [n for n in nodes if n.op]
            params = [i for i in box.members if self.role[i] == PARAMETER]
            counts: dict[str, int] = {}
            for n in ops:
                counts[n.op] = counts.get(n.op, 0) + 1
            rows.append(_h(", ".join(f"{c:,} {op}" for op, c in counts.items()) + " ops"))
            rows.append(_h(f"{len(params):,} parameters"))
            stats_of = params
        else:
            first = nodes[0]
            what = first.op or self.role[box.members[0]]
            name = f"{first.label} " if first.label else ""
            rows.append(f"<b>{_h(name + what)} ×{len(nodes):,}</b>")
            if not self.tensor:
                data = [n.data for n in nodes]
                rows.append(_h(f"data ∈ [{_num(min(data))}, {_num(max(data))}]"))
            else:
                shapes = {n.data.shape for n in nodes}
                rows.append(_h(_shape(first.data.shape) if len(shapes) == 1 else f"{len(shapes)} shapes"))
            stats_of = box.members
        rows.extend(self._grad_stats(stats_of))
        cells = "".join(f"<tr><td>{r}</td></tr>" for r in rows)
        role = OUTPUT if 0 in box.members else self.role[box.members[0]]
        colour, width, dashed = palette.ROLE_STYLE[role if box.kind == "group" else INTERMEDIATE]
        style = "dashed" if dashed else "rounded"
        return (f'<table border="{width}" cellborder="0" cellspacing="0" cellpadding="2" color="{colour}" '
                f'bgcolor="#f7f7f7" style="{style}">{cells}</table>')

    def _grad_stats(self, members: list[int]) -> list[str]:
        grads = [self.grads[i] for i in members]
        if not grads:
            return []
        if any(g is None for g in grads):
            return ["grad ?"]
        if any(g is _NOT_KEPT for g in grads):
            return ["grad — (not kept)"]
        if self.tensor:
            norms = [_rms(np.asarray(g)) for g in grads]
            return [_h(f"grad RMS mean {_num(sum(norms) / len(norms))}")]
        pos = sum(g > 0 for g in grads)
        neg = sum(g < 0 for g in grads)
        zero = len(grads) - pos - neg
        mean_abs = sum(abs(g) for g in grads) / len(grads)
        return [_h(f"grad mean |g| {_num(mean_abs)}"), *_bar(pos, neg, zero)]

    def _cluster_title(self, module: str) -> str:
        if self.tensor:
            members = [self.graph.nodes[i] for i, m in enumerate(self.owner) if m == module]
            return summary.describe_module(module, members, True)
        layer = summary.layer_of(module)
        if layer != module:
            return f"{layer} · neuron {module.rpartition('.')[2]}"
        return module

    def _group_edges(self) -> list[str]:
        """Edges touching a group or module box: one per pair of boxes, labelled with the uses it stands for."""
        lines = []
        for (tail, head), count in self.view.edges.items():
            if tail.startswith("n") and head.startswith("n"):
                continue  # value to value: drawn per use, with its local derivative
            target = f"o{head[1:]}" if head.startswith("n") else head
            label = f" [label=<×{count:,}> fontcolor=\"#777777\"]" if count > 1 else ""
            lines.append(f"{tail} -> {target}{label}")
        return lines

    def _cut_note(self) -> list[str]:
        text = (f"… {self.view.hidden:,} more values not shown (max_nodes={self.max_nodes});"
                f"<br/>draw_dot(root, max_nodes=None) draws them all")
        lines = [f"cut [label=<{text}> shape=note style=dashed fontsize=10]"]
        for head in sorted(self.view.hidden_edges):
            target = f"o{head[1:]}" if head.startswith("n") else head
            lines.append(f"cut -> {target} [style=dashed]")
        return lines

    # -- layout and legend ---------------------------------------------------------------------------

    def _auto_rankdir(self) -> str:
        """The direction whose estimated layout fits the column and is the shorter: LR puts the levels of the
        graph (longest path from an input) side by side, TB stacks them; too wide both ways gives TB."""
        size = {box.key: self._estimate_size(box) for box in self.view.boxes}
        inputs_of: dict[str, set[str]] = {}
        drawn = {i: b.key for b in self.view.boxes for i in b.members}
        for box in self.view.boxes:
            for i in box.members:
                for k in self.graph.inputs[i]:
                    t = drawn.get(k)
                    if t is not None and t != box.key:
                        inputs_of.setdefault(box.key, set()).add(t)
        level: dict[str, int] = {}
        for box in reversed(self.view.boxes):  # inputs tend to come later: a good order to start from
            _level(box.key, inputs_of, level)
        n = max(level.values(), default=0) + 1
        widest = [0.0] * n  # LR: each level as wide as its widest box, levels side by side
        tallest = [0.0] * n  # TB: each level as tall as its tallest box, stacked
        across = [0.0] * n  # LR: a level's boxes stacked; TB: laid side by side
        along = [0.0] * n
        for key, (w, h) in size.items():
            lv = level[key]
            widest[lv] = max(widest[lv], w)
            tallest[lv] = max(tallest[lv], h)
            across[lv] += h + 12
            along[lv] += w + 18
        lr_width, lr_height = sum(widest), max(across)
        tb_width, tb_height = max(along), sum(tallest)
        fits = 0.9 * COLUMN_PT  # estimates are rough, and a layout scaled down to fit is hard to read
        if lr_width <= fits and (tb_width > fits or lr_height <= tb_height):
            return "LR"
        return "TB"

    def _estimate_size(self, box: Box) -> tuple[float, float]:
        """(width, height) in points of a box with the op oval and gaps that come with it."""
        if box.kind != "value":
            return 200.0, 110.0
        i = box.members[0]
        node = self.graph.nodes[i]
        texts = [self._name(i), f"grad {_num(self.grads[i]) if isinstance(self.grads[i], float) else '?'}"]
        texts += _describe_tensor(node.data) if self.tensor else [f"data {_num(node.data)}"]
        op = 1.0 if node.op else 0.0
        width = max(len(t) for t in texts) * _CHAR_PT + 12 + 45 * op  # the op oval sits beside it in LR
        height = 15.0 * len([t for t in texts if t]) + 8 + 35 * op  # and above it in TB
        if self.show_local and node.op:  # edge labels into the op take room between the levels
            width += max((len(t) for t in self._locals(node)), default=0) * _CHAR_PT * 0.8
        return width, height

    def _legend(self, caption: str | None, legend: bool) -> str | None:
        rows = []
        if caption:
            rows.append(f'<tr><td align="left"><font point-size="14"><b>{_h(caption)}</b></font></td></tr>')
        if legend:
            cells = ['<td>grad</td>']
            for text, colour in self.scale.legend_cells(signed=not self.tensor):
                cells.append(f'<td bgcolor="{colour}" border="1" color="#cccccc">{_h(text)}</td>')
            if self.tensor and any(g is _NOT_KEPT for g in self.grads):
                cells.append('<td border="1" color="#cccccc">— not kept</td>')
            cells.append("<td> </td>")
            present = {self.role[i] for b in self.view.boxes for i in b.members[:1]}
            for role in summary.ROLES:
                if role in present:
                    colour, width, dashed = palette.ROLE_STYLE[role]
                    style = ' style="dashed"' if dashed else ""
                    cells.append(f'<td border="{width}" color="{colour}"{style}>{role}</td>')
            if self.audit is not None:
                cells.append(f'<td border="2" color="{palette.CULPRIT}"><font color="{palette.CULPRIT}">wrong op</font></td>')
                cells.append(f'<td border="2" color="{palette.INHERITS_BORDER}" bgcolor="{palette.INHERITS_FILL}">'
                             "inherits a wrong grad</td>")
            note = ""
            if summary.BACKWARD in present:
                note += "; backward pass: computed by backward(create_graph=True), from its seed (the 1 it starts from)"
            if self.show_local:
                note += "; edge labels: local derivative ∂out/∂in" + (" (rule, shape)" if self.tensor else "")
            rows.append('<tr><td align="left"><font point-size="10"><table border="0" cellspacing="2" cellpadding="1"><tr>'
                        + "".join(cells) + "</tr></table></font></td></tr>")
            if note:
                rows.append(f'<tr><td align="left"><font point-size="9">{_h(note[2:])}</font></td></tr>')
        if not rows:
            return None
        return '<<table border="0" cellspacing="0" cellpadding="1">' + "".join(rows) + "</table>>"


# -- helpers --------------------------------------------------------------------------------------------


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


_NUMBERS = frozenset({float, int, np.ndarray, type(None)})


def _numbers(g: Any) -> Any:
    """A gradient's numbers: after backward(create_graph=True) ``.grad`` is itself a Value or Tensor in a graph."""
    return g if isinstance(g, (float, int, np.ndarray)) or g is None else g.data


def _has_grad(node: Any) -> bool:
    g = _numbers(node.grad)
    if g is None:
        return False
    if isinstance(g, np.ndarray):
        return True  # a tensor's grad exists only after backward() (zeros are real gradients then)
    return g != 0


def _rms(g: Any) -> float:
    g = np.asarray(g, dtype=np.float64)
    return float(np.sqrt(np.mean(g * g))) if g.size else 0.0


def _describe_tensor(a: np.ndarray) -> list[str]:
    """Shape and dtype, then the numbers (tiny tensors, one line per row) or a range."""
    lines = [f"{_shape(a.shape)} {a.dtype}"]
    if a.size <= _TINY:
        lines.extend(_tensor_numbers(a))
    elif a.size and a.dtype.kind in "fiu":
        lines.append(f"∈ [{_num(a.min().item())}, {_num(a.max().item())}]")
    return lines


def _tensor_numbers(a: np.ndarray) -> list[str]:
    if a.ndim == 0:
        return [_num(a.item())]
    if a.ndim == 2 and a.shape[0] > 1 and a.shape[1] > 1:  # a matrix: one line per row
        return ["[" + ", ".join(_num(x) for x in row) + "]" for row in a.tolist()]
    return ["[" + ", ".join(_num(x) for x in a.ravel().tolist()) + "]"]


def _bar(pos: int, neg: int, zero: int, width: int = 120) -> list[str]:
    """Two rows: a bar of how many gradients are positive, negative and zero, and those counts."""
    total = pos + neg + zero
    cells = []
    for count, colour in ((pos, "#d6604d"), (neg, "#4393c3"), (zero, palette.ZERO)):
        if count:
            cells.append(f'<td bgcolor="{colour}" width="{max(1, round(width * count / total))}" height="6"></td>')
    legend = f"+{pos:,} −{neg:,} 0:{zero:,}"
    return [f'<table border="0" cellspacing="0" cellpadding="0"><tr>{"".join(cells)}</tr></table>',
            f'<font point-size="9">{_h(legend)}</font>']


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(int(n) for n in shape))  # Python's spelling: (), (2,), (2, 3)


def _num(x: Any) -> str:
    """Compact: four significant digits (%.4g)."""
    try:
        return format(x, ".4g")
    except (TypeError, ValueError):
        return str(x)


def _h(text: str) -> str:
    """Text inside an HTML-like graphviz label."""
    return html.escape(str(text), quote=False)


def _attr(text: str) -> str:
    return '"' + html.escape(text) + '"'


def _q(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"')

