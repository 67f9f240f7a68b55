"""Colours of a drawn graph: the gradient on a diverging, signed-log scale, and one border per role.

A value's gradient g fills its ``grad`` cell: red for g > 0, blue for g < 0, the shade by log₁₀|g| between
the smallest and largest |g| drawn (so 1e-6 and 1e+2 are both visible), light grey for exactly 0 and white
with ``?`` for "not computed yet". Tensors have no single sign; their cell is shaded purple by ‖g‖, the norm
their box prints. The key shows only numbers some box shows, formatted as the boxes format them. Borders say
what a value *is*: a leaf you made, an input, a parameter, a constant, an intermediate result, the output.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

ZERO = "#e6e6e6"
UNKNOWN = "#ffffff"
HIGHLIGHT = "#e66101"  # the newest contribution in a step-through frame
CULPRIT = "#d62728"  # audit: an op whose own derivative is wrong (its oval and edges)
INHERITS_BORDER, INHERITS_FILL = "#e6550d", "#fff4d6"  # audit: a value a wrong gradient reaches

_POSITIVE = ((0xFD, 0xE4, 0xD6), (0xD6, 0x60, 0x4D))  # pale to strong red (ColorBrewer RdBu ends, softened)
_NEGATIVE = ((0xDE, 0xEB, 0xF7), (0x43, 0x93, 0xC3))  # pale to strong blue
_MAGNITUDE = ((0xEF, 0xE7, 0xF5), (0x9E, 0x7B, 0xC2))  # pale to strong purple, for tensors' RMS

# role -> (border colour, border width, dashed)
ROLE_STYLE = {
    "leaf (trainable)": ("#1b7837", 2, False),
    "input": ("#5aae61", 2, False),
    "parameter": ("#b35806", 2, False),
    "constant": ("#9a9a9a", 1, True),
    "intermediate": ("#555555", 1, False),
    "backward pass": ("#7b3294", 2, False),  # values a create_graph backward computed (autograd.viz.summary)
    "output": ("#1f4e99", 3, False),
}


class Scale:
    """Maps a gradient to a fill colour; built from every gradient that will be drawn (for tensors, every ‖g‖)."""

    def __init__(self, grads: Iterable[float]) -> None:
        self.values = [g for g in grads if math.isfinite(g)]
        logs = [math.log10(abs(g)) for g in self.values if g]
        self.empty = not logs  # no nonzero gradient drawn
        self.lo = min(logs) if logs else 0.0
        self.hi = max(logs) if logs else 0.0

    def colour(self, g: float, signed: bool = True) -> str:
        if g == 0:
            return ZERO
        if not math.isfinite(g):
            return _hex(_POSITIVE[1] if g > 0 else _NEGATIVE[1]) if signed else _hex(_MAGNITUDE[1])
        t = 1.0 if self.hi <= self.lo else (math.log10(abs(g)) - self.lo) / (self.hi - self.lo)
        ends = _MAGNITUDE if not signed else _POSITIVE if g > 0 else _NEGATIVE
        return _mix(ends, min(max(t, 0.0), 1.0))

    def legend_cells(self, signed: bool, zero: bool = False, unknown: bool = False) -> list[tuple[str, str]]:
        """(text, colour) for the key, from the most negative to the most positive gradient drawn: for each sign
        present, its extremes (one cell when they print alike), then 0 and ? when some box shows them."""
        cells = []
        neg = [g for g in self.values if g < 0]
        pos = [g for g in self.values if g > 0]
        if signed and neg:
            cells += self._pair(min(neg), max(neg), signed)
        if zero or any(g == 0 for g in self.values):
            cells.append(("0", ZERO))
        if pos:
            cells += self._pair(min(pos), max(pos), signed)
        if unknown:
            cells.append(("? not computed yet" if not self.values else "?", UNKNOWN))
        return cells

    def _pair(self, a: float, b: float, signed: bool) -> list[tuple[str, str]]:
        """Cells for ``a`` and ``b`` (a ≤ b), printed as the boxes print them; one cell when they print alike."""
        cells = [(number(a), self.colour(a, signed)), (number(b), self.colour(b, signed))]
        return cells[:1] if cells[0][0] == cells[1][0] else cells


def number(x: object) -> str:
    """A number as boxes and the key print it: four significant digits (%.4g)."""
    try:
        return format(x + 0.0 if type(x) is float else x, ".4g")  # + 0.0: -0.0 prints as 0
    except (TypeError, ValueError):
        return str(x)


def _mix(ends: tuple[tuple[int, int, int], tuple[int, int, int]], t: float) -> str:
    (r0, g0, b0), (r1, g1, b1) = ends
    return _hex((round(r0 + (r1 - r0) * t), round(g0 + (g1 - g0) * t), round(b0 + (b1 - b0) * t)))


def _hex(rgb: tuple[int, int, int]) -> str:
    r, g, b = rgb
    return f"#{r:02x}{g:02x}{b:02x}"
