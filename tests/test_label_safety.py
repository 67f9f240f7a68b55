"""Labels may hold anything a str can; no renderer may fail on one, or pass it on raw.

Graphviz refuses control characters, U+FFFE/U+FFFF and HTML-like labels over 16,384 characters; a lone surrogate
cannot be written as UTF-8 at all; a terminal obeys escape sequences. Each renderer is given such labels: draw_dot's
SVG (through ``dot``), save_animation's and save_html's pages, explain's text and HTML, and the reports' tables.
"""
from __future__ import annotations

import html
import re
import xml.etree.ElementTree as ET

import numpy as np
import pytest

from autograd import Tensor, Value, draw_dot, explain, mark_parameter, save_animation
from autograd.viz.format import html_table, text_table
from autograd.viz.page import save_html
from autograd.viz.text import clean

HOSTILE = {
    "nul": "a\x00b",
    "escape": "red\x1b[31m!",
    "form feed": "page\x0cbreak",
    "bell and DEL": "\x07ding\x7f",
    "noncharacters": "x\ufffe\uffffy",
    "lone surrogate": "bad\udc80name",
    "newline and tab": "two\nlines\tand a tab",
    "20,000 characters": "w" * 20_000,
}
RAW = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")


def graph(label: str) -> Value:
    a = Value(2.0, label=label)
    w = mark_parameter(Value(-1.0, label=label[:50] + ".w.0"))  # a parameter whose module name is hostile too
    out = (a * w + a).tanh()
    out.label = label
    return out


@pytest.mark.parametrize("label", HOSTILE.values(), ids=HOSTILE.keys())
def test_clean_shows_unsafe_characters_as_escapes_and_cuts_long_text(label):
    shown = clean(label, 60)
    assert not RAW.search(shown) and len(shown) <= 60
    shown.encode("utf-8")  # a lone surrogate would raise here
    assert clean("plain text, émoji 😀") == "plain text, émoji 😀"
    assert clean("a\x1bb") == "a\\x1bb" and clean("a\udc80") == "a\\udc80" and clean("x" * 70) == "x" * 59 + "…"


@pytest.mark.parametrize("label", HOSTILE.values(), ids=HOSTILE.keys())
def test_draw_dot_renders_any_label(label):
    out = graph(label)
    out.backward()
    for dot in (draw_dot(out, label=label, show_local=True), draw_dot(out, collapse=True),
                draw_dot(out, step=2)):
        svg = dot._repr_mimebundle_()["image/svg+xml"]
        ET.fromstring(svg.encode("utf-8"))  # well-formed XML
        assert not RAW.search(svg.split("?>", 1)[1]), "a raw unsafe character reached the SVG"
        assert len(svg) < 200_000
    t = Tensor(np.ones((2, 2)), requires_grad=True, label=label)
    svg = draw_dot((t * 2.0).sum(), show_local=True).pipe(format="svg", encoding="utf-8")
    ET.fromstring(svg.encode("utf-8"))


@pytest.mark.parametrize("label", HOSTILE.values(), ids=HOSTILE.keys())
def test_pages_explain_and_tables_take_any_label(label, tmp_path):
    out = graph(label)
    out.backward()
    for path in (save_animation(out, tmp_path / "a.html"), save_html(out, tmp_path / "s.html", label=label)):
        page = path.read_text(encoding="utf-8")
        assert not RAW.search(page), path.name
    e = explain(out.inputs[0].inputs[0].inputs[0], root=out)  # a, hostile name and all
    for shown in (str(e), e._repr_html_()):
        shown.encode("utf-8")
        assert not RAW.search(shown) and len(shown) < 5_000
    t = Tensor(np.ones(2), requires_grad=True, label=label[:8])  # short enough to appear in rule text (g⊙<name>)
    product = (t * t).sum()
    for shown in (str(explain(t, root=product)), explain(t, root=product)._repr_html_(),
                  save_animation(product, tmp_path / "t.html").read_text(encoding="utf-8")):
        shown.encode("utf-8")
        assert not RAW.search(shown)
    table = html_table([label, "value"], [[label, "1"]], ["ok"], caption=label, footer=label)
    text = text_table([label, "value"], [[label, "1"]])
    for shown in (table, text):
        shown.encode("utf-8")
        assert not RAW.search(shown) and len(shown) < 3_000
    assert "w" * 1000 not in html.unescape(table)  # 20,000 characters are cut, not printed
