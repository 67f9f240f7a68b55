"""Text a user wrote (a label, a module name), made safe for Graphviz, SVG, HTML and a terminal.

A label can hold anything a Python ``str`` can: a NUL, an escape sequence (``\\x1b[31m``), a form feed, the
noncharacters U+FFFE and U+FFFF, a lone surrogate (from ``os.fsdecode`` of a bad file name, say), or 20,000
characters. Graphviz refuses all of these (its HTML-like labels are XML, and longer than 16,384 characters is a
syntax error), a lone surrogate cannot even be encoded as UTF-8, and a terminal obeys escape sequences. So every
renderer passes user text through ``clean``: each such character is shown as its Python escape (``\\x1b``),
line breaks and tabs become spaces, and the text is cut to ``limit`` characters with an ellipsis.
"""
from __future__ import annotations

import re

# C0 and C1 controls, DEL, surrogates and every Unicode noncharacter (U+FDD0..U+FDEF, U+xxFFFE, U+xxFFFF).
_NONCHARACTERS = "".join(f"{chr(p * 0x10000 + 0xFFFE)}-{chr(p * 0x10000 + 0xFFFF)}" for p in range(17))
_UNSAFE = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufdd0-\ufdef{_NONCHARACTERS}]")
_SPACE = re.compile("[\t\n\r]")


def clean(text: object, limit: int = 60) -> str:
    """``text`` as a str any renderer takes: unsafe characters as escapes, tabs and line breaks as spaces, at
    most ``limit`` characters (the last one ``…`` when it was cut)."""
    s = text if type(text) is str else str(text)
    if len(s) > 4 * limit:  # cut first: escaping 20,000 characters to keep 60 would be wasted work
        s = s[: 4 * limit]
    if not s.isprintable():  # the fast path: plain text has nothing to replace
        s = _SPACE.sub(" ", s)
        s = _UNSAFE.sub(_escape, s)
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return s


def _escape(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"
