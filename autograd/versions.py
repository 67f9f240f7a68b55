"""In-place changes, and the check that lets backward refuse a value changed after its op ran.

``t += 1``, ``t[i] = v`` and friends change a tensor's numbers in place (``autograd.tensor``). A rule that reads an
input or output at backward time would then read the new numbers and return a silently wrong gradient; PyTorch
refuses with a version counter, and so does this: a clock counts in-place changes, each NumPy buffer changed in
place remembers the clock when it last was (views share their base's buffer), every node remembers the clock
when it was made, and backward refuses a node whose rule reads a buffer changed since. Until the first in-place
change nothing here runs at all.
"""
from __future__ import annotations

import weakref
from typing import Any

import numpy as np

Tensor = Any  # autograd.tensor.Tensor: only its attributes are read here


class Edits:
    """A clock that counts in-place changes, and for each NumPy buffer changed in place (views share their
    base's buffer) the clock when it last was. Every node remembers the clock when it was made (``_born``);
    backward refuses a node whose rule would read a buffer changed since."""

    __slots__ = ("changed", "clock")

    def __init__(self) -> None:
        self.clock = 0
        self.changed: dict[int, tuple[weakref.ref, int]] = {}


edits = Edits()


def buffer_of(arr: np.ndarray) -> np.ndarray:
    """The array that owns ``arr``'s memory (itself, or the base its view came from)."""
    while isinstance(arr.base, np.ndarray):
        arr = arr.base
    return arr


def record_edit(t: Tensor) -> None:
    edits.clock += 1
    buf = buffer_of(t.data)
    edits.changed[id(buf)] = (weakref.ref(buf), edits.clock)


def version_used_by(t: Tensor, node: Tensor) -> Tensor:
    """The version of ``t`` that ``node`` was made from: ``t`` itself, or, if ``t`` was changed in place since, the
    stand-in its in-place ops left for what it was before (``_take_result``), so that the gradient of an op made
    before ``t += y`` does not flow through ``+=``."""
    while t._born > node._born:
        previous = getattr(t, "_previous", None)
        if previous is None:
            break
        t = previous
    return t


def check_unchanged(node: Tensor) -> None:
    """Raise if ``node``'s rule would read a tensor changed in place after ``node`` was made (PyTorch's version
    counter check). ``node._reads`` says what the rule reads: "all", "inputs", "out", "none", or a tuple of
    input positions."""
    reads = node._reads
    if reads == "none":
        return
    parents = node._parents
    if reads == "inputs":
        read = list(enumerate(parents))
    elif reads == "out":
        read = [(-1, node)]
    elif reads == "all":
        read = [(-1, node), *enumerate(parents)]
    else:
        read = [(i, parents[i]) for i in reads]
    for i, t in read:
        buf = buffer_of(t.data)
        changed = edits.changed.get(id(buf))
        if changed is not None and changed[0]() is buf and changed[1] > node._born:
            what = "its output" if i < 0 else f"its input {i}"
            raise RuntimeError(
                f"one of the tensors needed for gradient computation has been modified by an inplace operation: "
                f"{what} (shape {t.data.shape}, {t.data.dtype}) was changed in place after '{node.op}' used it, so "
                f"the backward of '{node.op}' would read the new numbers. Change a copy instead (t = t.clone()), "
                f"or make the in-place change before the op"
            )
