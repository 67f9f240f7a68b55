"""The DOT text of one drawing: value tables, op ovals, edges, module clusters, summary boxes, the key.

``draw_dot`` (autograd/viz/draw.py) is the public entry; this module builds what it returns. ``Drawing`` decides
what each value shows (its gradient now, or after k steps of the backward pass), asks ``budget`` which view to
draw (every value, or a summary that fits), and writes the Graphviz source: HTML-like tables for values, coloured
by ``palette``, local derivatives from ``local_rules`` on the edges, every user-written text through
``text.clean``. ``picture`` wraps the source in a ``render.Picture``, which renders it with a time limit and
falls back to a coarser view of the same drawing.
"""
from __future__ import annotations

import copy
import html
import re
from typing import Any

import numpy as np

from . import budget, chains, local_rules, palette, summary
from .budget import COLUMN_PT
from .summary import INTERMEDIATE, OUTPUT, PARAMETER, ROLE_RULES, Box, Graph
from .text import clean

_TINY = 6  # tensors with at most this many elements show their numbers
_CHAR_PT = 5.8  # average width of a character at the node font size, for layout estimates
_BOLD_CHAR_PT = 6.6  # the same in bold, generously
_NOT_KEPT = object()  # a Tensor that keeps no .grad (not a leaf): drawn as "grad —"
_NAME_CHARS = 32  # a label longer than this is cut with an ellipsis in its box
_CAPTION_CHARS = 120
_GREY = "#666666"


class Drawing:
    """One drawing: what is shown for each value, which view of the graph, then the DOT text."""

    def __init__(self, graph: Graph, show_grad: bool | None, show_local: bool, step: int | None,
                 max_nodes: int | None, collapse: bool | str | None, widths: dict[int, float] | None = None,
                 steps: list | None = None, audit: Any = None, names: Any = None, label: str | None = None) -> None:
        self.graph = graph
        self.tensor = graph.is_tensor
        self.show_local = show_local
        self.role = summary.roles(graph)
        self.owner = summary.modules(graph, self.role)
        self.highlight = None
        self.widths = widths or {}
        self.steps = steps
        self.audit = audit
        self.names = names  # autograd.viz.names.Names: shown in unlabelled boxes (the frames of a step-through)
        self.label = label
        self.key: list[tuple[str, str]] | None = None  # the gradient key, when fixed for every frame of an animation
        self.grads = self._grads(show_grad, step)
        self.max_nodes = max_nodes
        if step is not None:
            too_big = max_nodes is not None and len(graph) > max_nodes
            if collapse or (collapse is None and too_big):
                raise ValueError(f"draw_dot: step= draws a graph whole, but it has {len(graph)} values (max_nodes="
                                 f"{max_nodes}); step through a smaller graph, or pass max_nodes=None")
            collapse = False
        self.scale = palette.Scale(())
        self.plan = budget.plan(self, collapse, max_nodes)
        self.auto = collapse is None and max_nodes is not None
        self._use(self.plan)

    def _use(self, plan: budget.Plan) -> None:
        self.plan = plan
        self.view = plan.view
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
            raise ValueError(f"draw_dot: step must be an int from 0 to {len(steps)} (the number of edges), "
                             f"got {step!r}")
        at = {id(self.graph.nodes[0]): seed(self.graph.nodes[0])}
        for s in steps[:step]:
            at[id(s.node)] = s.grad_after
        if step:
            self.highlight = steps[step - 1]
        return [at.get(id(n)) for n in self.graph.nodes]

    def _magnitudes(self) -> list[float]:
        """The numbers the colour scale spans: each drawn Value's gradient, each drawn Tensor's ‖g‖."""
        out = []
        for box in self.view.boxes:
            for i in box.members if box.kind == "value" else ():
                g = self.grads[i]
                if g is None or g is _NOT_KEPT:
                    continue
                out.append(_norm(g) if self.tensor else g)
        return out

    # -- the picture -----------------------------------------------------------------------------------

    def picture(self, format: str = "svg", rankdir: str | None = None, label: str | None = None, legend: bool = True,
                timeout: float | None = None) -> Any:
        """The ``render.Picture`` of this drawing: its DOT source, rendered within ``timeout`` seconds, with a
        coarser view of the same drawing to fall back on."""
        from . import render

        pic = self.digraph(format, rankdir, label, legend)
        pic.drawing = self
        pic.timeout = render.DEFAULT_TIMEOUT if timeout is None else timeout
        pic.auto = self.auto

        def fallback(why: str, detail: float) -> Any:
            plan = budget.coarser(self, self.plan, self.max_nodes)
            if plan is None:
                return None
            smaller = copy.copy(self)
            smaller._use(plan)
            before, after = budget.describe(self, self.plan), budget.describe(self, plan)
            if why == "timeout":
                plan.note = (f"dot did not finish drawing {before} in {detail:g} s, so this is {after}; "
                             f"draw_dot(..., timeout={max(60, round(detail * 12))}) waits longer")
            else:
                plan.note = (f"drawn as {before}, the text would be {detail:.0f} px at notebook width, so this is "
                             f"{after}; draw_dot(..., collapse=False) draws it anyway")
            return smaller.picture(format, rankdir, label, legend, pic.timeout)

        pic.fallback = fallback
        return pic

    def digraph(self, format: str, rankdir: str | None, label: str | None, legend: bool) -> Any:
        from .render import Picture  # here, not at import time: `import autograd` stays fast (graphviz loads here)

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
        for c, (m, lines) in enumerate(clusters.items()):
            title = clean(self._cluster_title(m), 60)
            body.append(f"subgraph cluster_{c} {{")
            body.append(f"label=<{_h(title)}> style=rounded color=\"#999999\" fontsize=10 fontcolor=\"#555555\"")
            body.extend(lines)
            body.append("}")
        body.extend(edges)
        body.extend(self._group_edges())
        if self.view.hidden:
            body.extend(self._cut_note())
        est = self.plan.estimate
        direction = rankdir or (est.rankdir if est is not None else "TB")
        graph_attr = {"rankdir": direction, "fontname": "Helvetica", "nodesep": "0.18", "ranksep": "0.3",
                      "size": f"{(COLUMN_PT - 8) / 72:.2f},1000", "margin": "0.05"}  # 8 pt: both margins
        top = self._legend(label if label is not None else self.label, legend)
        if top:
            graph_attr.update(label=top, labelloc="t", labeljust="l")
        dot = Picture(format=format, graph_attr=graph_attr, node_attr={"fontname": "Helvetica", "fontsize": "11"},
                      edge_attr={"fontname": "Helvetica", "fontsize": "10", "arrowsize": "0.6"})
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
        lines.append(f"{op} [label=<{_h(self._op_label(i))}> shape=ellipse fontsize=10 height=0.25 width=0.3 "
                     f"margin=0.02{oval}]")
        edges.append(f"{op} -> {box.key}" + (f" [{red.strip()}]" if culprit else ""))
        locals_ = self._locals(i) if self.show_local else None
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

    def _op_label(self, i: int) -> str:
        """The op oval's text: the op (with a Tensor op's details), or ``sum of 100`` for a chain."""
        chain = self.graph.chains.get(i)
        if chain is not None:
            return chain.label
        return clean(local_rules.op_label(self.graph.nodes[i]), 40)

    def _locals(self, i: int) -> list[str]:
        """The local derivative ∂out/∂in on each input edge of value ``i``, as edge text."""
        node = self.graph.nodes[i]
        chain = self.graph.chains.get(i)
        ins = [self.graph.nodes[k] for k in self.graph.inputs[i]]
        if chain is not None:
            if self.tensor:
                rule = "g" if chain.op == "+" else "g⊙Π others"
                return [f"{rule} {_shape(x.data.shape)}" if x.requires_grad else "" for x in ins]
            return [_num(v) for v in chains.local_derivatives(node, ins, chain.op)]
        if self.tensor:
            # Inputs that need no gradient (constants, data) get none, so their edges carry no rule.
            return [clean(f"{local_rules.tensor_rule(node, s) or '?'} {_shape(x.data.shape)}", 60)
                    if x.requires_grad else "" for s, x in enumerate(node.inputs)]
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
        elif self.names is not None:  # a frame of a step-through: the name the captions use, in grey
            rows.append((f'<font color="{_GREY}">{_h(self.names(node))}</font>', None))
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
        """The label as drawn: a module parameter under its short name (``w0``, ``bias``), cut to fit a box."""
        label = self.graph.nodes[i].label or ""
        if label and self.role[i] == PARAMETER and "." in label:
            label = summary.split_name(label)[1]
        return clean(label, _NAME_CHARS) if label else ""

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
        norm = _norm(g)
        lines = [f"grad ‖g‖={_num(norm)}"] + (_tensor_numbers(g) if g.size <= _TINY else [])
        return "<br/>".join(_h(x) for x in lines), self.scale.colour(norm, signed=False)

    # -- groups, clusters, the cut -------------------------------------------------------------------

    def _group_table(self, box: Box) -> str:
        nodes = [self.graph.nodes[i] for i in box.members]
        ops = self.graph.ops
        rows = [_title(self._group_title(box))]
        if box.kind == "module":
            counts: dict[str, int] = {}
            for i in box.members:
                if ops[i]:
                    counts[ops[i]] = counts.get(ops[i], 0) + 1
            params = [i for i in box.members if self.role[i] == PARAMETER]
            rows.append(_h(clean(", ".join(f"{c:,} {op}" for op, c in counts.items()), 80) + " ops"))
            rows.append(_h(f"{len(params):,} parameters"))
            stats_of = params
        else:
            if not self.tensor:
                data = [n.data for n in nodes]
                rows.append(_h(f"data ∈ [{_num(min(data))}, {_num(max(data))}]"))
            else:
                shapes = {n.data.shape for n in nodes}
                rows.append(_h(_shape(nodes[0].data.shape) if len(shapes) == 1 else f"{len(shapes)} shapes"))
            stats_of = box.members
        rows.extend(self._grad_stats(stats_of))
        cells = "".join(r if r.startswith("<tr>") else f"<tr><td>{r}</td></tr>" for r in rows)
        role = OUTPUT if 0 in box.members else self.role[box.members[0]]
        colour, width, dashed = palette.ROLE_STYLE[role if box.kind == "group" else INTERMEDIATE]
        style = "dashed" if dashed else "rounded"
        return (f'<table border="{width}" cellborder="0" cellspacing="0" cellpadding="2" color="{colour}" '
                f'bgcolor="#f7f7f7" style="{style}">{cells}</table>')

    def _group_title(self, box: Box) -> str:
        """``layers.0: Layer(2→16), relu`` for a module's box, ``relu ×100`` for a group of like values."""
        nodes = [self.graph.nodes[i] for i in box.members]
        if box.kind == "module":
            return summary.describe_module(box.title, nodes, self.tensor)
        first = box.members[0]
        what = self.graph.ops[first] or self.role[first]
        name = f"{clean(nodes[0].label, _NAME_CHARS)} " if nodes[0].label else ""
        return f"{name}{clean(what, 40)} ×{len(nodes):,}"

    def _grad_stats(self, members: list[int]) -> list[str]:
        grads = [self.grads[i] for i in members]
        if not grads:
            return []
        if any(g is None for g in grads):
            return ["grad ?"]
        if any(g is _NOT_KEPT for g in grads):
            return ["grad — (not kept)"]
        if self.tensor:
            norms = [_norm(np.asarray(g)) for g in grads]
            return [_h(f"grad mean ‖g‖ {_num(sum(norms) / len(norms))}")]
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
        text = (f"… {self.view.hidden:,} more values not shown, to keep the picture readable;"
                f"<br/>draw_dot(root, max_nodes=None) draws every value")
        lines = [f"cut [label=<{text}> shape=note style=dashed fontsize=10]"]
        for head in sorted(self.view.hidden_edges):
            target = f"o{head[1:]}" if head.startswith("n") else head
            lines.append(f"cut -> {target} [style=dashed]")
        return lines

    # -- layout estimates and legend -----------------------------------------------------------------

    def _auto_rankdir(self) -> str:
        """LR or TB, whichever the budget's estimate of this view prefers (see ``budget.estimate``)."""
        return budget.estimate(self, self.view).rankdir

    def _estimate_size(self, box: Box) -> tuple[float, float]:
        """(width, height) in points of a box with the op oval and gaps that come with it."""
        if box.kind != "value":
            title = clean(self._group_title(box), 60)
            head, sep, tail = title.partition(": ")
            longest = max(len(head), len(tail)) if sep and len(title) > 22 else len(title)
            return max(longest * _BOLD_CHAR_PT, 130.0) + 16, 110.0 + 15 * bool(sep and len(title) > 22)
        i = box.members[0]
        node = self.graph.nodes[i]
        g = self.grads[i]
        texts = [self._name(i) or (self.names(node) if self.names is not None else ""),
                 f"grad {_num(g) if isinstance(g, float) else '?'}"]
        texts += _describe_tensor(node.data) if self.tensor else [f"data {_num(node.data)}"]
        op = 1.0 if self.graph.inputs[i] else 0.0
        op_w = max(45.0, len(self._op_label(i)) * 5.5 + 20) * op
        width = max(len(t) for t in texts) * _CHAR_PT + 12 + op_w  # the op oval sits beside it in LR
        width = max(width, self.widths.get(i, 0.0) + 12 + op_w)
        height = 15.0 * len([t for t in texts if t]) + 8 + 35 * op  # and above it in TB
        if self.show_local and self.graph.inputs[i]:  # edge labels into the op take room between the levels
            width += max((len(t) for t in self._locals(i)), default=0) * _CHAR_PT * 0.8
        return width, height

    def _legend_width(self) -> float:
        """About how wide the caption and key are, in points: the layout is at least this wide."""
        widths = [430.0]
        if self.label:
            widths.append(len(clean(self.label, _CAPTION_CHARS)) * 7.8)
        note = self.plan.note if hasattr(self, "plan") else ""
        if note:
            widths.append(len(note) * 5.4)
        return max(widths)

    def key_cells(self, unknown: bool | None = None) -> list[tuple[str, str]]:
        """(text, colour) of the gradient key: the numbers drawn, 0 and ? if some box shows them, "— not kept"."""
        drawn = [i for b in self.view.boxes if b.kind == "value" for i in b.members]
        if self.tensor:  # a tensor that needs no gradient has no grad cell at all
            drawn = [i for i in drawn if self.graph.nodes[i].requires_grad]
        grads = [self.grads[i] for i in drawn]
        if unknown is None:
            unknown = any(g is None for g in grads)
        zero = any(g is not None and g is not _NOT_KEPT and not np.any(g) for g in grads)
        cells = self.scale.legend_cells(signed=not self.tensor, zero=zero, unknown=unknown)
        if self.tensor and any(g is _NOT_KEPT for g in grads):
            cells.append(("— not kept", "#ffffff"))
        return cells

    def _legend(self, caption: str | None, legend: bool) -> str | None:
        rows = []
        if caption:
            rows.append(f'<tr><td align="left"><font point-size="14"><b>{_h(clean(caption, _CAPTION_CHARS))}</b>'
                        "</font></td></tr>")
        if self.plan.note:
            rows.append(f'<tr><td align="left"><font point-size="10" color="#555555">{_h(self.plan.note)}'
                        "</font></td></tr>")
        if legend:
            cells = ['<td>grad ‖g‖</td>' if self.tensor else '<td>grad</td>']
            for text, colour in self.key or self.key_cells():
                cells.append(f'<td bgcolor="{colour}" border="1" color="#cccccc">{_h(text)}</td>')
            present = {self.role[b.members[0]] if b.kind != "module" else INTERMEDIATE for b in self.view.boxes}
            present |= {OUTPUT} if any(0 in b.members for b in self.view.boxes if b.kind == "group") else set()
            roles = []
            for role in summary.ROLES:
                if role in present:
                    colour, width, dashed = palette.ROLE_STYLE[role]
                    style = ' style="dashed"' if dashed else ""
                    roles.append(f'<td border="{width}" color="{colour}"{style}>{role}</td>')
            if self.audit is not None:
                roles.append(f'<td border="2" color="{palette.CULPRIT}">'
                             f'<font color="{palette.CULPRIT}">wrong op</font></td>')
                roles.append(f'<td border="2" color="{palette.INHERITS_BORDER}" bgcolor="{palette.INHERITS_FILL}">'
                             "inherits a wrong grad</td>")
            rules = [ROLE_RULES[r] for r in summary.ROLES if r in present and r in ROLE_RULES]
            if self.show_local:
                rules.append("edge labels: local derivative ∂out/∂in" + (" (rule, shape)" if self.tensor else ""))
            lines = _lines(rules, 120)
            texts = [len(clean(caption, _CAPTION_CHARS)) * 8.0 if caption else 0.0, len(self.plan.note) * 5.6]
            widest = max(texts + [len(line) * 5.6 for line in lines])
            rows.append(_legend_row(cells, widest))
            if roles:
                rows.append(_legend_row(roles, widest))
            for line in lines:
                rows.append(f'<tr><td align="left"><font point-size="10" color="#555555">{_h(line)}</font></td></tr>')
        if not rows:
            return None
        return '<<table border="0" cellspacing="0" cellpadding="1">' + "".join(rows) + "</table>>"


# -- helpers --------------------------------------------------------------------------------------------


def _legend_row(cells: list[str], widest: float) -> str:
    """One row of the key. Graphviz stretches a nested table to the widest row of the caption, spreading the
    extra over its cells; a last, empty cell about as wide as that extra keeps the key's cells snug."""
    own = sum(len(re.sub(r"<[^>]+>", "", c)) * 5.6 + 8 for c in cells)
    spacer = f'<td width="{widest - own:.0f}"></td>' if widest > own + 1 else ""
    return ('<tr><td align="left"><font point-size="10"><table border="0" cellspacing="2" cellpadding="1"><tr>'
            + "".join(cells) + spacer + "</tr></table></font></td></tr>")


def _lines(parts: list[str], width: int) -> list[str]:
    """``parts`` joined by " · " into lines of at most about ``width`` characters."""
    lines: list[str] = []
    for p in parts:
        if lines and len(lines[-1]) + 3 + len(p) <= width:
            lines[-1] += " · " + p
        else:
            lines.append(p)
    return lines


def _title(text: str) -> str:
    """A box's bold first row, on two lines when long (``layers.0 · neuron 3`` / ``Neuron(3), relu``: a narrow box
    keeps a row of them within the column). Graphviz measures bold text in an HTML label as if it were regular
    (about 8% narrower), so the cell is given about the bold width: the title stays inside its box."""
    text = clean(text, 60)
    head, sep, tail = text.partition(": ")
    lines = [head, tail] if sep and len(text) > 22 else [text]
    width = max(len(line) for line in lines) * _BOLD_CHAR_PT
    return f'<tr><td width="{width:.0f}"><b>' + "<br/>".join(_h(line) for line in lines) + "</b></td></tr>"


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


def _norm(g: Any) -> float:
    """‖g‖, the Euclidean norm of all of a tensor's gradient (what its box shows and its shade encodes)."""
    g = np.asarray(g, dtype=np.float64)
    return float(np.sqrt(np.sum(g * g))) if g.size else 0.0


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
            f'<font point-size="10">{_h(legend)}</font>']


def _shape(shape: tuple[int, ...]) -> str:
    return str(tuple(int(n) for n in shape))  # Python's spelling: (), (2,), (2, 3)


def _num(x: Any) -> str:
    """Compact: four significant digits (%.4g)."""
    return palette.number(x)


def _h(text: str) -> str:
    """Text inside an HTML-like graphviz label."""
    return html.escape(str(text), quote=False)


def _attr(text: str) -> str:
    return '"' + html.escape(text) + '"'

