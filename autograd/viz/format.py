"""Tables for the checking tools' reports: one text form for a terminal, one HTML form for Jupyter.

gradcheck, compare and audit all answer with a table of rows and a verdict per row. This module only
lays out cells someone else has already formatted as strings; it knows nothing of gradients. Cells may hold
user text (a label, a parameter's name): each passes through ``text.clean`` (no control characters, which a
terminal would obey; no lone surrogates, which no page can encode; at most ``CELL_CHARS`` characters).
"""
from __future__ import annotations

import html
from collections.abc import Sequence

from .text import clean

CELL_CHARS = 200  # a longer cell is cut with an ellipsis

# Row colours in HTML, by the verdict a report gives the row (anything else is left white).
_BACKGROUND = {
    "FAIL": "#fde2e1", "WRONG": "#fde2e1", "culprit": "#fde2e1", "missing": "#fde2e1",
    "kink": "#fff4d6", "inherits": "#fff4d6", "not checked": "#eeeeee",
    "rounding": "#eef6ee", "exact": "#e4f4e4", "ok": "#ffffff",
}


def text_table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool] | None = None) -> str:
    """Columns padded to their widest cell; ``right[i]`` right-aligns column i (numbers)."""
    right = right or [False] * len(headers)
    headers = [clean(h, CELL_CHARS) for h in headers]
    rows = [[clean(c, CELL_CHARS) for c in r] for r in rows]
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right)).rstrip()

    return "\n".join([line(headers), line(["-" * w for w in widths])] + [line(r) for r in rows])


def html_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[str]],
    verdicts: Sequence[str],
    right: Sequence[bool] | None = None,
    caption: str = "",
    footer: str | Sequence[str] = "",
) -> str:
    """An HTML table, each row tinted by its verdict; monospace numbers, narrow enough for a notebook column."""
    right = right or [False] * len(headers)
    cell = "padding:2px 8px;border-bottom:1px solid #ddd;"

    def td(text: str, i: int, tag: str = "td") -> str:
        align = "right" if right[i] else "left"
        font = "font-family:monospace;white-space:nowrap;" if right[i] and tag == "td" else ""
        return f'<{tag} style="{cell}text-align:{align};{font}">{html.escape(clean(text, CELL_CHARS))}</{tag}>'

    parts = ['<table style="border-collapse:collapse;font-size:13px;max-width:980px">']
    if caption:
        parts.append(f'<caption style="text-align:left;font-weight:bold;padding:4px 0">'
                     f'{html.escape(clean(caption, CELL_CHARS))}</caption>')
    parts.append("<tr>" + "".join(td(h, i, "th") for i, h in enumerate(headers)) + "</tr>")
    for r, verdict in zip(rows, verdicts):
        colour = _BACKGROUND.get(verdict, "#ffffff")
        parts.append(f'<tr style="background:{colour}">' + "".join(td(c, i) for i, c in enumerate(r)) + "</tr>")
    parts.append("</table>")
    for line in [footer] if isinstance(footer, str) else footer:
        if line:
            parts.append('<div style="font-size:13px;padding:2px 0;max-width:980px">'
                         f"{html.escape(clean(line, 1000))}</div>")
    return "".join(parts)


def num(x: float, digits: int = 4) -> str:
    """A number in a table cell: %g with ``digits`` significant digits ('nan', 'inf' as they are)."""
    return format(x + 0.0, f".{digits}g")  # + 0.0 turns -0.0 into 0.0
