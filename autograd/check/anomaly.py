"""detect_anomaly: stop at the first op whose forward output or backward gradient is NaN or ±inf.

    with detect_anomaly():
        loss = model_loss(x, y)      # an op making NaN/inf here raises AnomalyError at once
        loss.backward()              # and so does a backward producing a NaN/inf gradient

The error names the op, summarises its inputs, gives the line of user code that created the op, and says
whether the op *produced* the non-finite number from finite inputs (the culprit) or only passed one along
(its input was already NaN/inf: look further back, at the data or at an op made outside the block).

How it sees the graph: while the block is active it is a *watcher* of the engine (``autograd.graph``): every op
hands it each node it makes and each gradient backward computes. Nothing is patched, and outside the block the
engine runs exactly as before. As in PyTorch, a backward is checked when it runs inside the block.
"""
from __future__ import annotations

import math
from contextlib import ContextDecorator
from typing import Any

import numpy as np

from ..graph import Replay, grad_mode
from ..tensor import Tensor
from ..value import Value
from .sites import Site, user_site


class AnomalyError(RuntimeError):
    """A NaN or ±inf appeared. ``op`` (its name), ``phase`` ('forward' or 'backward'), ``culprit`` (True if
    the op made it from finite numbers), ``site`` (where user code created the op, or None)."""

    def __init__(self, message: str, op: str, phase: str, culprit: bool, site: Site | None) -> None:
        super().__init__(message)
        self.op, self.phase, self.culprit, self.site = op, phase, culprit, site


class detect_anomaly(ContextDecorator):
    """``with detect_anomaly():`` — raise ``AnomalyError`` at the first non-finite forward value or gradient.

    Works for Value and Tensor graphs and as a decorator. ``check_nan=False`` turns it into a no-op
    (PyTorch's signature).
    """

    def __init__(self, check_nan: bool = True) -> None:
        self.check_nan = check_nan
        self._watchers: list[_Watcher] = []

    def __enter__(self) -> detect_anomaly:
        if self.check_nan:
            watcher = _Watcher()
            self._watchers.append(watcher)
            grad_mode.watch(watcher)
        return self

    def __exit__(self, *exc: object) -> None:
        if self.check_nan:
            grad_mode.unwatch(self._watchers.pop())


class _Watcher:
    """Checks each node as it is made and each gradient as backward computes it (see ``autograd.graph``)."""

    def __init__(self) -> None:
        self._sites: dict[int, tuple[Any, Site | None]] = {}  # nodes have no room for a site: kept here

    def site_of(self, node: Any) -> Site | None:
        entry = self._sites.get(id(node))
        return entry[1] if entry is not None and entry[0] is node else None

    def created(self, node: Any, replay: Replay | None) -> None:
        site = user_site(2)
        if isinstance(node, Value):
            if not math.isfinite(node.data):
                inputs = [v.data for v in node.inputs]
                culprit = all(map(math.isfinite, inputs))
                raise AnomalyError(_message("forward", node.op, repr(node.data), culprit, site, inputs), node.op,
                                   "forward", culprit, site)
        else:
            arr = node.data
            if arr.dtype.kind == "f" and not np.isfinite(arr).all():
                parents = node._parents or (tuple(a for a in replay.args if isinstance(a, Tensor)) if replay else ())
                inputs = [p.data for p in parents]
                culprit = all(_finite(x) for x in inputs)
                raise AnomalyError(_message("forward", node.op, _bad(arr), culprit, site, inputs), node.op,
                                   "forward", culprit, site)
        self._sites[id(node)] = (node, site)  # the node itself too: its id is not reused while it is kept here

    def gradients(self, node: Any, grad_out: Any, grads: tuple[Any, ...]) -> None:
        for i, pg in enumerate(grads):
            if pg is None or _finite(pg):
                continue
            culprit = _finite(grad_out)
            ins = node._parents if isinstance(node, Tensor) else node.inputs
            shown = np.asarray(pg.data if isinstance(pg, (Tensor, Value)) else pg)
            what = f"{_bad(shown)} in the gradient for input {i}"
            inputs = [x.data for x in ins] + [grad_out.data if isinstance(grad_out, (Tensor, Value)) else grad_out]
            site = self.site_of(node)
            raise AnomalyError(_message("backward", node.op, what, culprit, site, inputs, incoming=True),
                               node.op, "backward", culprit, site)


# -- messages -------------------------------------------------------------------------------------------


def _finite(x: Any) -> bool:
    if isinstance(x, (Tensor, Value)):
        x = x.data
    if isinstance(x, np.ndarray):
        return x.dtype.kind != "f" or bool(np.isfinite(x).all())
    return math.isfinite(x) if isinstance(x, (int, float)) else bool(np.isfinite(np.asarray(x)).all())


def _bad(arr: np.ndarray) -> str:
    """'-inf (3 of 640 elements)' or 'nan'."""
    if arr.size == 1:
        return repr(float(arr.reshape(-1)[0]))
    kinds = [k for k, n in (("nan", np.isnan(arr).sum()),
                            ("inf", np.isposinf(arr).sum()),
                            ("-inf", np.isneginf(arr).sum())) if n]
    count = int((~np.isfinite(arr)).sum())
    return f"{'/'.join(kinds)} ({count} of {arr.size} elements)"


def _describe(x: Any) -> str:
    """A short summary of one input: the number, or shape, dtype, range and the zeros/NaN/inf in it."""
    if not isinstance(x, np.ndarray) or x.size == 1:
        return repr(float(np.asarray(x).reshape(-1)[0])) if np.size(x) == 1 else repr(x)
    text = f"array {tuple(x.shape)} {x.dtype}"
    if x.dtype.kind != "f" or x.size == 0:
        return text
    finite = x[np.isfinite(x)]
    if finite.size:
        text += f", min {finite.min():.4g}, max {finite.max():.4g}"
    extras = [f"{n} {k}" for k, n in (("zeros", int((x == 0).sum())), ("nan", int(np.isnan(x).sum())),
                                      ("inf", int(np.isinf(x).sum()))) if n]
    return text + (", " + ", ".join(extras) if extras else "")


def _message(phase: str, op: str, what: str, culprit: bool, site: Site | None, inputs: list[Any],
             incoming: bool = False) -> str:
    source = "a finite incoming gradient" if incoming else "finite inputs"
    if culprit:
        verdict = f"from {source}: this op is the culprit"
    else:
        verdict = "but an input was already NaN/inf: this op only passed it along (look further back)"
    lines = [f"{phase} of '{op}' produced {what} {verdict}"]
    lines.append(f"  created at {site}" if site else "  created at: unknown (outside user code)")
    names = [f"input {i}" for i in range(len(inputs) - incoming)] + (["incoming gradient"] if incoming else [])
    lines += [f"  {name}: {_describe(x)}" for name, x in zip(names, inputs)]
    return "\n".join(lines)
