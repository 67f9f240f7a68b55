"""Where user code made a graph node: the first stack frame outside this library (``autograd/`` and ``nn/``).

Reports name this line ("train.py:42  loss = -(y * p.log()).sum()"), not the library line that ran the
op. Finding it walks the stack, a few microseconds, so only the checking tools do it: ``Function.apply``
(always; a hand-written op is worth it), ``detect_anomaly`` and ``audit`` (while they are active).
"""
from __future__ import annotations

import linecache
import os
import sys
from dataclasses import dataclass

_AUTOGRAD = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_LIBRARY = (_AUTOGRAD + os.sep, os.path.join(os.path.dirname(_AUTOGRAD), "nn") + os.sep)


@dataclass(frozen=True)
class Site:
    """A line of user code: ``filename``, ``lineno``, the enclosing ``function`` and the source ``code``."""

    filename: str
    lineno: int
    function: str
    code: str

    @property
    def place(self) -> str:
        """'train.py:42', or 'cell In[3], line 5' in Jupyter."""
        cell = _jupyter_cell(self.filename)
        if cell:
            return f"{cell}, line {self.lineno}"
        return f"{os.path.basename(self.filename)}:{self.lineno}"

    def __str__(self) -> str:
        return f"{self.place}: {self.code}" if self.code else self.place


def user_site(skip: int = 1) -> Site | None:
    """The innermost caller outside autograd/ and nn/ (None if there is none), starting ``skip`` frames up."""
    try:
        frame = sys._getframe(skip)
    except ValueError:
        return None
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(_LIBRARY):
            lineno = frame.f_lineno
            code = linecache.getline(filename, lineno, frame.f_globals).strip()
            return Site(filename, lineno, frame.f_code.co_name, code)
        frame = frame.f_back
    return None


def definition_site(fn: object) -> Site | None:
    """Where a function is defined (its ``def`` line): for a user Function's backward, the code to look at."""
    code = getattr(getattr(fn, "__func__", fn), "__code__", None)
    if code is None:
        return None
    line = linecache.getline(code.co_filename, code.co_firstlineno).strip()
    return Site(code.co_filename, code.co_firstlineno, code.co_name, line)


def _jupyter_cell(filename: str) -> str:
    """'cell In[3]' when ``filename`` is an IPython cell (IPython names cells after temporary files)."""
    ipython = sys.modules.get("IPython")
    if ipython is None:
        return ""
    try:
        shell = ipython.get_ipython()
        name = shell.compile.format_code_name(filename) if shell is not None else None
    except (AttributeError, TypeError):  # an IPython without format_code_name: use the file name
        return ""
    if not name:
        return ""
    return f"{name[0].lower()} {name[1]}" if isinstance(name, tuple) else str(name)
