"""Small line charts written as SVG text: the live training view's picture, cheap enough to redraw while training.

Why not matplotlib here: drawing a four-panel figure takes it ~175 ms on this project's 2-core machine (Agg, PNG
at 72 dpi; SVG is slower), while a whole 784-128-10 Fashion-MNIST epoch takes ~0.4 s, so redrawing even once a
second would cost a third of the training time. Writing the SVG directly costs about a millisecond per redraw
(measured in ``benchmarks/live_view.py``), and an ``image/svg+xml`` output is stored in a saved notebook and
shown without a kernel (GitHub and nbviewer render it).

A chart is a grid of ``Panel``s, each a few ``Line``s over a shared x axis; the y axis is linear, or log when the
values are positive and span more than a decade (loss, gradient norms). Lines longer than the panel is wide are
reduced to each pixel column's minimum and maximum, so a noisy curve looks exactly as it would drawn in full.
Points that cannot be drawn (nan, inf, ≤ 0 on a log axis) break the line rather than drop to an edge.
"""
from __future__ import annotations

import math
from html import escape
from typing import NamedTuple

import numpy as np

__all__ = ["Line", "Panel", "render"]

MARGIN_LEFT, MARGIN_RIGHT, MARGIN_TOP, MARGIN_BOTTOM = 54, 12, 22, 32
HEADER_HEIGHT = 24
GRID, AXIS, TEXT, MUTED = "#e8e8e8", "#888888", "#222222", "#777777"


class Line(NamedTuple):
    """One series: ``y`` over ``x`` (same length), drawn as a line, or as dots with ``markers``. ``noisy``: keep
    each pixel column's minimum and maximum when thinning a long line (a raw loss); otherwise one point per
    column is enough (a smooth line) and half the text to write and send."""

    label: str
    x: np.ndarray
    y: np.ndarray
    colour: str
    width: float = 1.5
    opacity: float = 1.0
    markers: bool = False
    noisy: bool = False


class Panel(NamedTuple):
    """One chart: a title, an x label and its lines. ``log_y``: None picks log for positive data spanning > 10×."""

    title: str
    xlabel: str
    lines: list[Line]
    log_y: bool | None = None
    empty: str = "nothing recorded yet"


def render(panels: list[Panel], *, header: str = "", columns: int = 2, width: int = 940,
           panel_height: int = 200) -> str:
    """The panels as one SVG document, ``columns`` per row, ``width`` pixels wide, with ``header`` above."""
    columns = max(1, min(columns, len(panels) or 1))
    rows = -(-len(panels) // columns)
    cell_w = width / columns
    top = HEADER_HEIGHT if header else 0
    height = top + rows * panel_height
    parts = [(f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
              f'viewBox="0 0 {width} {height}" '
              'font-family="DejaVu Sans, Helvetica, Arial, sans-serif" font-size="11">'),
             f'<rect width="{width}" height="{height}" fill="#ffffff"/>']
    if header:
        parts.append(f'<text x="6" y="16" font-size="13" fill="{TEXT}">{_text(header)}</text>')
    for i, panel in enumerate(panels):
        row, col = divmod(i, columns)
        parts.append(_panel(panel, col * cell_w, top + row * panel_height, cell_w, panel_height))
    parts.append("</svg>")
    return "\n".join(parts)


# -- one panel ----------------------------------------------------------------------------------------


def _panel(panel: Panel, left: float, top: float, w: float, h: float) -> str:
    x0, y0 = left + MARGIN_LEFT, top + MARGIN_TOP  # the plot area's top-left corner
    pw, ph = w - MARGIN_LEFT - MARGIN_RIGHT, h - MARGIN_TOP - MARGIN_BOTTOM
    out = [(f'<text x="{x0 + pw / 2:.1f}" y="{top + 15:.1f}" text-anchor="middle" font-size="12" '
            f'fill="{TEXT}">{_text(panel.title)}</text>'),
           (f'<text x="{x0 + pw / 2:.1f}" y="{top + h - 4:.1f}" text-anchor="middle" fill="{MUTED}">'
            f'{_text(panel.xlabel)}</text>')]
    xs = [np.asarray(line.x, dtype=float) for line in panel.lines]
    ys = [np.asarray(line.y, dtype=float) for line in panel.lines]
    finite_x = np.concatenate([x[np.isfinite(x)] for x in xs]) if xs else np.empty(0)
    all_y = np.concatenate([y[np.isfinite(y)] for y in ys]) if ys else np.empty(0)
    log = panel.log_y
    if log is None:
        log = all_y.size > 0 and all_y.min() > 0 and all_y.max() > 10 * all_y.min()
    shown_y = all_y[all_y > 0] if log else all_y
    out.append(f'<rect x="{x0:.1f}" y="{y0:.1f}" width="{pw:.1f}" height="{ph:.1f}" fill="none" stroke="{AXIS}" '
               'stroke-width="0.8"/>')
    if finite_x.size == 0 or shown_y.size == 0:
        out.append(f'<text x="{x0 + pw / 2:.1f}" y="{y0 + ph / 2:.1f}" text-anchor="middle" fill="{MUTED}">'
                   f'{_text(panel.empty)}</text>')
        return "\n".join(out)

    xlo, xhi = _span(finite_x.min(), finite_x.max(), log=False)
    ylo, yhi = _span(shown_y.min(), shown_y.max(), log=log)

    def px(x: np.ndarray) -> np.ndarray:
        return x0 + (x - xlo) / (xhi - xlo) * pw

    def py(y: np.ndarray) -> np.ndarray:
        if log:
            with np.errstate(divide="ignore", invalid="ignore"):
                y = np.where(y > 0, np.log10(np.where(y > 0, y, 1.0)), np.nan)
            lo, hi = math.log10(ylo), math.log10(yhi)
        else:
            lo, hi = ylo, yhi
        return y0 + ph - (y - lo) / (hi - lo) * ph

    for tick, text in _labels(_ticks(xlo, xhi, log=False, count=max(2, int(pw // 90)))):
        t = float(px(np.asarray(tick)))
        out.append(f'<line x1="{t:.1f}" y1="{y0:.1f}" x2="{t:.1f}" y2="{y0 + ph:.1f}" stroke="{GRID}"/>'
                   f'<text x="{t:.1f}" y="{y0 + ph + 13:.1f}" text-anchor="middle" fill="{MUTED}">{text}</text>')
    for tick, text in _labels(_ticks(ylo, yhi, log=log, count=max(2, int(ph // 40)))):
        t = float(py(np.asarray(tick)))
        out.append(f'<line x1="{x0:.1f}" y1="{t:.1f}" x2="{x0 + pw:.1f}" y2="{t:.1f}" stroke="{GRID}"/>'
                   f'<text x="{x0 - 4:.1f}" y="{t + 3.5:.1f}" text-anchor="end" fill="{MUTED}">{text}</text>')
    if log:
        out.append(f'<text x="{x0 + 3:.1f}" y="{y0 + 11:.1f}" fill="{MUTED}" font-size="9">log scale</text>')

    out.append(f'<svg x="{x0:.1f}" y="{y0:.1f}" width="{pw:.1f}" height="{ph:.1f}" '
               f'viewBox="{x0:.1f} {y0:.1f} {pw:.1f} {ph:.1f}" overflow="hidden">')  # clip to the plot area
    drawn = []  # every drawn point's pixel coordinates: the legend goes in the emptiest corner
    for line, x, y in zip(panel.lines, xs, ys):
        if line.markers:
            lx, ly = px(x), py(y)
            ok = np.isfinite(lx) & np.isfinite(ly)
            dots = "".join(f'<circle cx="{a:.1f}" cy="{b:.1f}" r="2.8"/>' for a, b in zip(lx[ok], ly[ok]))
            out.append(f'<g fill="{line.colour}" fill-opacity="{line.opacity}">{dots}</g>')
            if ok.sum() > 1:
                out.append(_path(lx, ly, line.colour, line.width * 0.7, line.opacity))
        else:
            dx, dy = _decimate(x, y, int(pw), line.noisy)
            lx, ly = px(dx), py(dy)
            out.append(_path(lx, ly, line.colour, line.width, line.opacity))
        drawn.append((lx, ly))
    out.append("</svg>")
    out.append(_legend(panel.lines, (x0, y0, pw, ph), drawn))
    return "\n".join(out)


def _path(px: np.ndarray, py: np.ndarray, colour: str, width: float, opacity: float) -> str:
    """An SVG path through the points, broken wherever a coordinate is not finite (runs of one point are left out:
    a line needs two)."""
    ok = np.isfinite(px) & np.isfinite(py)
    edges = np.flatnonzero(np.diff(np.concatenate([[False], ok, [False]]).astype(np.int8)))  # run starts, ends
    point = "{:.1f},{:.1f}".format
    xs, ys = px.tolist(), py.tolist()
    d = " ".join("M" + " ".join(map(point, xs[a:b], ys[a:b])) for a, b in zip(edges[::2], edges[1::2]) if b - a > 1)
    if not d:
        return ""
    return (f'<path d="{d}" fill="none" stroke="{colour}" stroke-width="{width}" stroke-opacity="{opacity}" '
            'stroke-linejoin="round"/>')


def _legend(lines: list[Line], area: tuple[float, float, float, float],
            drawn: list[tuple[np.ndarray, np.ndarray]]) -> str:
    """The labelled lines' key, in whichever corner of the plot area covers the fewest drawn points."""
    labelled = [line for line in lines if line.label]
    if not labelled:
        return ""
    shown = labelled[:8]
    widest = max(len(line.label) for line in shown)
    w, h = 24 + 6.2 * widest, 13 * len(shown) + 4
    x0, y0, pw, ph = area
    xs = np.concatenate([a for a, _ in drawn]) if drawn else np.empty(0)
    ys = np.concatenate([b for _, b in drawn]) if drawn else np.empty(0)

    def covered(corner: tuple[float, float]) -> int:
        cx, cy = corner
        return int(np.count_nonzero((xs >= cx) & (xs <= cx + w) & (ys >= cy) & (ys <= cy + h)))

    corners = [(x0 + pw - w - 4, y0 + 4), (x0 + pw - w - 4, y0 + ph - h - 4), (x0 + 4, y0 + 14),
               (x0 + 4, y0 + ph - h - 4)]  # top right first; top left leaves room for "log scale"
    x, y = min(corners, key=covered)  # the first of the emptiest
    out = [(f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" fill="#ffffff" fill-opacity="0.85" '
            'stroke="#dddddd"/>')]
    for i, line in enumerate(shown):
        ly = y + 11 + 13 * i
        out.append(f'<line x1="{x + 4:.1f}" y1="{ly - 3.5:.1f}" x2="{x + 18:.1f}" y2="{ly - 3.5:.1f}" '
                   f'stroke="{line.colour}" stroke-width="2.2" stroke-opacity="{max(line.opacity, 0.5)}"/>'
                   f'<text x="{x + 22:.1f}" y="{ly:.1f}" font-size="10" fill="{TEXT}">{_text(line.label)}</text>')
    if len(labelled) > len(shown):
        out.append(f'<text x="{x + 22:.1f}" y="{y + h + 9:.1f}" font-size="9" fill="{MUTED}">'
                   f'+{len(labelled) - len(shown)} more</text>')
    return "\n".join(out)


def _text(s: str) -> str:
    """``s`` safe inside an SVG text element or attribute."""
    return escape(s, quote=True)


# -- numbers: ranges, ticks, labels, and thinning long lines -----------------------------------------


def _span(lo: float, hi: float, log: bool) -> tuple[float, float]:
    """A range a little wider than [lo, hi] (never empty), so the extreme points are not on the frame."""
    if log:
        a, b = math.log10(lo), math.log10(hi)
        pad = max(0.04 * (b - a), 0.05)
        return 10 ** (a - pad), 10 ** (b + pad)
    if hi == lo:
        pad = abs(lo) * 0.1 or 0.5
        return lo - pad, hi + pad
    pad = 0.04 * (hi - lo)
    return lo - pad, hi + pad


def _ticks(lo: float, hi: float, log: bool, count: int) -> list[float]:
    """Round numbers inside [lo, hi]: steps of 1, 2 or 5 × 10ᵏ; on a log axis powers of ten (and 2×, 5× when
    the range is under two decades, or the values themselves when it holds no power of ten)."""
    if log:
        a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
        subs = (1, 2, 5) if math.log10(hi / lo) <= 2 else (1,)
        stride = max(1, (b - a) // count)
        ticks = [m * 10.0**k for k in range(a, b + 1, stride) for m in subs if lo <= m * 10.0**k <= hi]
        if ticks:  # two or more powers of ten; a lone one is still the roundest tick there is
            return ticks
        return [float(f"{v:.2g}") for v in np.geomspace(lo, hi, 3)[[0, 2]]]  # no power of ten: the ends, rounded
    raw = (hi - lo) / max(count, 1)
    magnitude = 10.0 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.ceil(lo / step) * step
    return [round(first + i * step, 12) for i in range(int((hi - first) / step) + 1)]


def _labels(ticks: list[float]) -> list[tuple[float, str]]:
    """Each tick with its label: plain numbers (``0.25``, ``120``), or all in ``5e-4`` style when any tick is
    very small or very large, so one axis never mixes the two."""
    scientific = any(v != 0 and (abs(v) >= 1e5 or abs(v) < 1e-3) for v in ticks)
    return [(v, _scientific(v) if scientific and v != 0 else f"{v:.4g}") for v in ticks]


def _scientific(v: float) -> str:
    mantissa, exponent = f"{v:.1e}".split("e")
    return f"{mantissa.rstrip('0').rstrip('.')}e{int(exponent)}"


def _decimate(x: np.ndarray, y: np.ndarray, pixels: int, noisy: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """At most two points per pixel column (``x`` is sorted): each column's minimum and maximum of ``y`` when
    ``noisy``, which drawn as a line looks the same as every point drawn; else each column's first point and
    the last point. NaNs are ignored within a column, and a column of NaNs stays NaN so the line breaks there.
    """
    n = len(x)
    if n <= 2 * max(pixels, 1):
        return x, y
    starts = np.unique(np.linspace(0, n, pixels + 1).astype(int)[:-1])
    if not noisy:
        keep = np.append(starts, n - 1)
        return x[keep], y[keep]
    with np.errstate(invalid="ignore"):
        lo = np.fmin.reduceat(y, starts)
        hi = np.fmax.reduceat(y, starts)
    return np.repeat(x[starts], 2), np.column_stack([lo, hi]).ravel()
