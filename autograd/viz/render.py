"""Running Graphviz with a time limit, and the picture ``draw_dot`` returns, which never hangs a notebook.

``run_dot`` is the only place this package starts ``dot``: a subprocess that is killed when its time is up
(``DotTimeout``). ``Picture`` is a ``graphviz.Digraph`` (``.source``, ``.pipe()``, ``.render()`` work as there)
whose every rendering goes through ``run_dot``. In Jupyter it shows itself by ``_repr_mimebundle_``; when ``dot``
does not finish in ``timeout`` seconds it asks its drawing for a coarser view and shows that instead, with one
line saying what was cut and how to see it. A view whose text came out too small to read at notebook width
is replaced the same way, when the budget chose it.
"""
from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import graphviz

from .budget import COLUMN_PT, MIN_TEXT_PX

DEFAULT_TIMEOUT = 5.0  # seconds per run of dot; the summaries a fallback draws take well under one
DOT = "dot"  # the program; tests point it at a stand-in


class DotTimeout(TimeoutError):
    """``dot`` did not finish in time (it was killed)."""


def run_dot(source: str, format: str = "svg", timeout: float = DEFAULT_TIMEOUT, engine: str | None = None,
            renderer: str | None = None, formatter: str | None = None) -> bytes:
    """``dot -T<format>`` on ``source``: its output, or ``DotTimeout`` after ``timeout`` seconds (the process is
    killed), or a RuntimeError naming what went wrong."""
    fmt = ":".join(x for x in (format, renderer, formatter) if x)
    cmd = [engine if engine and engine != "dot" else DOT, f"-T{fmt}"]
    try:
        done = subprocess.run(cmd, input=source.encode("utf-8"), capture_output=True, timeout=timeout, check=False)
    except FileNotFoundError:
        raise RuntimeError("drawing needs Graphviz's `dot` program: install Graphviz "
                           "(e.g. `apt-get install graphviz` or `brew install graphviz`)") from None
    except subprocess.TimeoutExpired:  # subprocess.run has killed it already
        raise DotTimeout(f"dot did not finish in {timeout:g} s") from None
    if done.returncode:
        raise RuntimeError(f"dot failed (exit {done.returncode}): {done.stderr.decode(errors='replace')[:500]}")
    return done.stdout


def text_px(svg: str, column_px: float = COLUMN_PT * 4 / 3) -> float:
    """The smallest text of an SVG ``dot`` made, in pixels, as shown in a column ``column_px`` wide: its font
    size times the scale ``dot`` applied times the browser's shrinking of a wider image (inf: no text)."""
    sizes = [float(x) for x in re.findall(r'font-size="([\d.]+)"', svg)]
    if not sizes:
        return float("inf")
    m = re.search(r'transform="scale\(([\d.]+)', svg)
    scale = float(m.group(1)) if m else 1.0
    w = re.search(r'<svg width="([\d.]+)pt"', svg)
    width_px = float(w.group(1)) * 4 / 3 if w else 0.0
    shrink = min(1.0, column_px / width_px) if width_px else 1.0
    return min(sizes) * scale * 4 / 3 * shrink


class Picture(graphviz.Digraph):
    """What ``draw_dot`` returns: a ``graphviz.Digraph`` whose rendering is time-limited and never hangs.

    ``timeout``: seconds ``dot`` may take for one rendering. ``fallback(why, detail)`` returns a coarser Picture of
    the same graph (or None), used when ``dot`` runs out of time (``"timeout"``, the seconds) or, if ``auto``, when
    the text came out too small (``"small"``, its size in px).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.timeout: float = DEFAULT_TIMEOUT
        self.fallback: Callable[[str, float], Picture | None] | None = None
        self.auto = False  # the budget chose this view: a coarser one may replace it if the text is too small
        self.drawing: Any = None  # the drawing.Drawing this picture is of (which view, which values)
        self.shown: Picture = self  # the picture actually rendered last (self, or the fallback that replaced it)
        self._cache: dict[tuple, bytes] = {}

    # -- rendering ---------------------------------------------------------------------------------------

    def pipe(self, format: str | None = None, renderer: str | None = None, formatter: str | None = None,
             neato_no_op: Any = None, quiet: bool = False, *, engine: str | None = None,
             encoding: str | None = None) -> bytes | str:
        """The rendered graph (bytes, or str with ``encoding``), by ``dot`` within ``timeout`` seconds; a coarser
        drawing, saying so, when ``dot`` runs out of time."""
        data = self._rendered(format or self.format, renderer, formatter, engine)
        return data.decode(encoding) if encoding else data

    def _rendered(self, format: str, renderer: str | None, formatter: str | None, engine: str | None) -> bytes:
        key = (self.source, format, renderer, formatter, engine)
        if key in self._cache:
            return self._cache[key]
        try:
            out = run_dot(self.source, format, self.timeout, engine or self.engine, renderer, formatter)
            self.shown = self
            if self.auto and format == "svg" and self.fallback is not None:
                px = text_px(out.decode("utf-8", errors="replace"))
                if px < MIN_TEXT_PX:
                    smaller = self.fallback("small", px)
                    if smaller is not None:
                        out = smaller._rendered(format, renderer, formatter, engine)
                        self.shown = smaller.shown
        except DotTimeout:
            smaller = self.fallback("timeout", self.timeout) if self.fallback is not None else None
            if smaller is None:
                if format != "svg":
                    raise
                out = message_svg(f"Graphviz's dot did not finish this drawing in {self.timeout:g} s. "
                                  "Pass a larger timeout= to draw_dot to wait longer.").encode()
                self.shown = self
            else:
                out = smaller._rendered(format, renderer, formatter, engine)
                self.shown = smaller.shown
        self._cache = {key: out}  # the latest only: a Digraph can be edited, and its source with it
        return out

    def _repr_image_svg_xml(self) -> str:
        return self.pipe(format="svg", encoding="utf-8")

    def _repr_image_png(self) -> bytes:
        return self.pipe(format="png")

    def _repr_image_jpeg(self) -> bytes:
        return self.pipe(format="jpeg")

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None, **_: Any) -> dict[str, Any]:
        """What Jupyter shows: the SVG, rendered within the time limit (see ``pipe``)."""
        wanted = set(include) if include is not None else {"image/svg+xml"}
        wanted -= set(exclude or ())
        methods = {"image/svg+xml": self._repr_image_svg_xml, "image/png": self._repr_image_png,
                   "image/jpeg": self._repr_image_jpeg}
        return {mime: method() for mime, method in methods.items() if mime in wanted}

    def render(self, filename: str | os.PathLike | None = None, directory: str | os.PathLike | None = None,
               view: bool = False, cleanup: bool = False, format: str | None = None, renderer: str | None = None,
               formatter: str | None = None, neato_no_op: Any = None, quiet: bool = False, quiet_view: bool = False,
               *, outfile: str | os.PathLike | None = None, engine: str | None = None,
               raise_if_result_exists: bool = False, overwrite_source: bool = False) -> str:
        """Save the source and write the rendered graph beside it (``<filename>.<format>``, or ``outfile``), as
        ``graphviz.Digraph.render`` does, but through the time-limited ``pipe``. Returns the rendered file's path."""
        if outfile is not None:
            out = Path(outfile)
            if not out.is_absolute():
                out = Path(directory if directory is not None else self.directory or "", out)
            format = format or out.suffix.lstrip(".") or self.format
            source_path = Path(self.save(filename or out.with_suffix(".gv").name, directory=out.parent))
        else:
            format = format or self.format
            source_path = Path(self.save(filename, directory=directory))
            out = Path(f"{source_path}.{format}")
        if raise_if_result_exists and out.exists():
            raise graphviz.FileExistsError(f"output file exists: {os.fspath(out)!r}")
        out.write_bytes(self.pipe(format, renderer, formatter, engine=engine))
        if cleanup:
            source_path.unlink()
        if view or quiet_view:
            self._view(out, format=format, quiet=quiet_view)
        return os.fspath(out)


def message_svg(text: str) -> str:
    """A small SVG holding one line of text: what a picture shows when nothing could be drawn in time."""
    import html

    return ('<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n'
            '<svg width="740pt" height="30pt" viewBox="0 0 740 30" xmlns="http://www.w3.org/2000/svg">'
            f'<text x="4" y="19" font-family="Helvetica,sans-Serif" font-size="11.00">{html.escape(text)}</text></svg>')
