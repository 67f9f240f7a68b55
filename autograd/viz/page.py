"""Pictures as one self-contained HTML page: zoom and pan, and click a value to see its chain rule.

``save_html(root, path)`` writes the picture ``draw_dot(root)`` shows, and ``save_animation`` (autograd/viz/
animation.py) the frames of the backward pass, into one file that fetches nothing: the SVG inline, the script
plain JavaScript. ``viewer`` is what both use: buttons and the mouse wheel zoom (about the cursor), dragging pans,
and clicking a value (or the op that made it) shows ``explain(value, root=root)`` as a table under the picture.
Without JavaScript (a notebook on GitHub, say) the picture is simply shown whole.
"""
from __future__ import annotations

import html
import itertools
from pathlib import Path
from typing import Any

from .text import clean

__all__ = ["save_html"]

_ids = itertools.count()
_HINT = "scroll or +/− to zoom, drag to pan, click a value to see how its gradient is made"


def save_html(root: Any, path: str | Path, **options: Any) -> Path:
    """Write the graph behind ``root`` as one self-contained HTML page you can zoom, pan and click, and return
    the path. ``options`` are ``draw_dot``'s (``show_local=True``, ``collapse="neuron"``, ``label=...``); the
    page shows the same picture a notebook would, rendered with the same time limit."""
    from .draw import draw_dot

    path = _writable(path, "save_html")
    if "format" in options:
        raise TypeError("save_html: the page holds an SVG; format= does not apply")
    picture = draw_dot(root, **options)
    svg = picture.pipe(format="svg", encoding="utf-8")
    shown = picture.shown.drawing
    tables = tables_for(root, shown)
    uid = f"bp{next(_ids)}"
    title = clean(options.get("label") or getattr(root, "label", "") or "computation graph", 120)
    body = viewer(inline_svg(svg, f"{uid}s"), tables, uid)
    path.write_text(page(title, body), encoding="utf-8")
    return path


def tables_for(root: Any, drawing: Any, steps: list | None = None) -> dict[str, str]:
    """DOT node name -> the HTML a click shows: ``explain``'s table for a value box and the op oval that made it,
    a few words for a summary box. Empty when the root has no backward pass (a tensor that needs no grad)."""
    from .explain import explanations

    graph, view = drawing.graph, drawing.view
    values = [b.members[0] for b in view.boxes if b.kind == "value"]
    try:
        found = explanations(root, [graph.nodes[i] for i in values], steps)
    except RuntimeError:  # no backward pass from this root
        found = {}
    out: dict[str, str] = {}
    for i in values:
        e = found.get(id(graph.nodes[i]))
        text = e._repr_html_() if e is not None else (
            f"<div>{html.escape(drawing._name(i) or 'this value')} does not feed the output's gradient</div>")
        out[f"n{i}"] = out[f"o{i}"] = text
    for b in view.boxes:
        if b.kind != "value":
            what = "module" if b.kind == "module" else "group"
            out[b.key] = (f"<div>A {what} of {len(b.members):,} values, drawn as one box. To explain one of them, draw "
                          "fewer values at a time (a smaller graph, or draw_dot(..., collapse=False)) or call "
                          "explain(value, root=root).</div>")
    return out


def viewer(pictures: str, tables: dict[str, str], uid: str) -> str:
    """The zoomable stage around ``pictures`` (one SVG, or the frames of an animation), the explain panel, and
    the script. ``tables``: DOT node name -> HTML shown when that node is clicked."""
    hidden = "".join(f'<div class="bp-table" data-node="{html.escape(k)}" hidden>{v}</div>' for k, v in tables.items())
    hint = _HINT if tables else "scroll or +/− to zoom, drag to pan"
    return (
        f'<div id="{uid}" class="bp-view">'
        f'<div class="bp-zoom" style="display:none;font:13px sans-serif;margin:4px 0">'
        f'<button class="bp-in" title="zoom in">+</button> <button class="bp-out" title="zoom out">−</button> '
        f'<button class="bp-fit" title="show all">fit</button> <span style="color:#666">{hint}</span></div>'
        f'<div class="bp-stage">{pictures}</div>'
        f'<div class="bp-explain" style="font:13px sans-serif;margin:8px 0;min-height:1em"></div>'
        f"{hidden}<script>{_SCRIPT.replace('__ID__', uid)}</script></div>")


def page(title: str, body: str) -> str:
    """A whole HTML document around ``body``."""
    return ("<!DOCTYPE html><html><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title></head>"
            "<body style=\"font-family:sans-serif;max-width:1000px\">"
            f"<h3>{html.escape(title)}</h3>{body}</body></html>")


def inline_svg(svg: str, prefix: str) -> str:
    """An SVG document as an element of a page: no XML prolog, ids unique per picture, scaled to the column."""
    start = svg.index("<svg")
    body = svg[start:].replace('id="', f'id="{prefix}_')
    return body.replace("<svg ", '<svg style="max-width:100%;height:auto" ', 1)


def _writable(path: str | Path, who: str) -> Path:
    path = Path(path)
    if not path.parent.is_dir():
        raise FileNotFoundError(f"{who}: the directory {str(path.parent)!r} does not exist")
    return path


# The viewer. Every SVG in the stage shares one view box (the frames of an animation are laid out alike), so the
# zoom stays put while the slider moves. A click that ends a drag is not a click on a node.
_SCRIPT = """
(function () {
  var root = document.getElementById("__ID__");
  var stage = root.querySelector(".bp-stage");
  var panel = root.querySelector(".bp-explain");
  var svgs = stage.querySelectorAll("svg");
  if (!svgs.length) return;
  var b = svgs[0].viewBox.baseVal;
  var full = {x: b.x, y: b.y, w: b.width, h: b.height};
  var box = {x: full.x, y: full.y, w: full.w, h: full.h};
  root.querySelector(".bp-zoom").style.display = "block";
  stage.style.overflow = "hidden";
  stage.style.cursor = "grab";
  stage.style.border = "1px solid #e4e4e4";
  function apply() {
    var v = box.x + " " + box.y + " " + box.w + " " + box.h;
    for (var i = 0; i < svgs.length; i++) svgs[i].setAttribute("viewBox", v);
    root.setAttribute("data-zoom", (full.w / box.w).toFixed(3));
  }
  function shown() {
    for (var i = 0; i < svgs.length; i++) if (svgs[i].getBoundingClientRect().width > 0) return svgs[i];
    return svgs[0];
  }
  function zoom(factor, fx, fy) {
    var w = Math.min(full.w, Math.max(full.w / 50, box.w / factor));
    var h = box.h * w / box.w;
    box.x += (box.w - w) * fx;
    box.y += (box.h - h) * fy;
    box.w = w;
    box.h = h;
    apply();
  }
  root.querySelector(".bp-in").addEventListener("click", function () { zoom(1.25, 0.5, 0.5); });
  root.querySelector(".bp-out").addEventListener("click", function () { zoom(0.8, 0.5, 0.5); });
  root.querySelector(".bp-fit").addEventListener("click", function () {
    box = {x: full.x, y: full.y, w: full.w, h: full.h};
    apply();
  });
  stage.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = shown().getBoundingClientRect();
    zoom(e.deltaY < 0 ? 1.15 : 1 / 1.15, (e.clientX - r.left) / r.width, (e.clientY - r.top) / r.height);
  }, {passive: false});
  var drag = null, moved = false;
  stage.addEventListener("mousedown", function (e) {
    drag = {x: e.clientX, y: e.clientY, bx: box.x, by: box.y};
    moved = false;
    stage.style.cursor = "grabbing";
  });
  window.addEventListener("mousemove", function (e) {
    if (!drag) return;
    var r = shown().getBoundingClientRect();
    var dx = e.clientX - drag.x, dy = e.clientY - drag.y;
    if (Math.abs(dx) + Math.abs(dy) > 3) moved = true;
    box.x = drag.bx - dx * box.w / r.width;
    box.y = drag.by - dy * box.h / r.height;
    apply();
  });
  window.addEventListener("mouseup", function () { drag = null; stage.style.cursor = "grab"; });
  stage.addEventListener("click", function (e) {
    if (moved) return;
    var node = e.target.closest ? e.target.closest("g.node") : null;
    if (!node) return;
    var name = node.querySelector("title").textContent;
    var table = null, all = root.querySelectorAll(".bp-table");
    for (var i = 0; i < all.length; i++) if (all[i].getAttribute("data-node") === name) table = all[i];
    if (!table) return;
    panel.innerHTML = table.innerHTML;
    root.setAttribute("data-selected", name);
  });
})();
"""
