"""Sliding windows: where the windows of a convolution or a pooling op sit, and the two array moves they share.

Every op of the conv family (``conv2d``, ``unfold``/``fold``, the pools) slides a kH×kW window over a padded
image with a stride and a dilation. ``Windows`` holds that geometry once, with PyTorch's output size:

    OH = ⌊(H + top + bottom − dh·(kH − 1) − 1) / sh⌋ + 1          (likewise OW)

and the two moves everything else is built from, on NumPy arrays:

    im2col   every window of the padded input, copied into the columns of a matrix
             cols[(c, i, j), (p, q, n)] = x_pad[n, c, p·sh + i·dh, q·sw + j·dw]        (C·kH·kW, OH·OW·N)
    col2im   its transpose: each entry of a (C·kH·kW, OH·OW·N) matrix added back onto the pixel it came from;
             a pixel that sat in several windows collects one term per window

Layout: the batch innermost. ``padded`` returns an (N, C, Hp, Wp) *view* of a (C, Hp, Wp, N) array, the
columns of ``im2col`` run over (p, q, n) with n fastest, and ``col2im`` sums into (C, H, W, N). With the
examples side by side, a window copy or a col2im add walks contiguous stretches of OW·N values instead of rows
of OW (14 or 7 floats in the default CNN: NumPy pays per row, and those steps took 1.4–2× as long with the
batch outside). NumPy's elementwise ops keep the memory order, so layers downstream inherit it for free.
"""
from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from autograd.tensor import Tensor

Pair = tuple[int, int]
Pads = tuple[Pair, Pair]  # ((top, bottom), (left, right))


def pair(v: object, name: str, op: str, minimum: int) -> Pair:
    """An int or a pair of ints (height, width), each at least ``minimum``, as PyTorch's ``_pair``. A bool or a
    float is refused (PyTorch refuses them too: ``stride=1.0`` is a TypeError there)."""
    vals = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(vals) != 2 or not all(_is_int(n) for n in vals):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints (height, width), got {v!r}")
    if min(vals) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {v!r}")
    return int(vals[0]), int(vals[1])


def _is_int(n: object) -> bool:
    return isinstance(n, (int, np.integer)) and not isinstance(n, (bool, np.bool_))


def count(v: object, name: str, op: str, minimum: int = 1) -> int:
    """One int (a channel count, ``groups``), at least ``minimum``; bools and floats refused, as in PyTorch."""
    if not _is_int(v):
        raise TypeError(f"{op}: {name} must be an int, got {v!r} ({type(v).__name__})")
    if v < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {v}")
    return int(v)


def batched(x: Tensor, op: str, what: str = "input", kinds: str = "f") -> np.ndarray:
    """The data as (N, C, H, W); an unbatched (C, H, W) image gets a batch of one, as PyTorch allows. ``kinds``:
    the NumPy dtype kinds the op accepts ("f" floating point; max pooling also takes integers, "fiu")."""
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-D (N, C, H, W) or 3-D (C, H, W) {what}, got shape {x.shape}")
    if x.data.dtype.kind not in kinds:
        allowed = "floating point" if kinds == "f" else "floating point or integer"
        raise TypeError(f"{op}: {what} must be {allowed}, got {x.dtype}" + ("; use x.float()" if kinds == "f" else ""))
    return x.data if x.ndim == 4 else x.data[None]


def out_size(size: int, pads: Pair, kernel: int, stride: int, dilation: int, ceil_mode: bool = False) -> int:
    """PyTorch's output size along one axis with ``pads`` = (before, after): ⌊(size + pads − d·(k − 1) − 1)/s⌋ + 1.

    With ``ceil_mode`` (pooling) the division rounds up, so a last, partial window is kept, but only if it starts
    inside the input or its leading padding (PyTorch's rule: a window of trailing padding alone is dropped).
    """
    span = size + pads[0] + pads[1] - dilation * (kernel - 1) - 1
    if not ceil_mode:
        return span // stride + 1
    out = -(-span // stride) + 1
    if (out - 1) * stride >= size + pads[0]:
        out -= 1
    return out


class Windows(NamedTuple):
    """Where the windows of one op sit: kernel, stride, dilation, pads ((top, bottom), (left, right)), the input's
    (H, W) and the output's (OH, OW). Pads may be uneven ('same' with an even kernel; ``ceil_mode``'s extra
    bottom/right strip)."""

    kernel: Pair
    stride: Pair
    dilation: Pair
    pads: Pads
    in_hw: Pair
    out_hw: Pair

    @property
    def padded_hw(self) -> Pair:
        (top, bottom), (left, right) = self.pads
        return self.in_hw[0] + top + bottom, self.in_hw[1] + left + right

    @property
    def size(self) -> int:
        """kH·kW, the number of kernel offsets."""
        return self.kernel[0] * self.kernel[1]

    def offsets(self) -> Iterator[tuple[int, int]]:
        """The kernel offsets (i, j), row-major: the order PyTorch scans a window in (first maximum wins)."""
        for i in range(self.kernel[0]):
            for j in range(self.kernel[1]):
                yield i, j

    def slices(self, i: int, j: int) -> tuple[slice, slice]:
        """The rows and columns of the padded input that kernel offset (i, j) touches, one per output pixel."""
        (sh, sw), (dh, dw), (oh, ow) = self.stride, self.dilation, self.out_hw
        return (slice(i * dh, i * dh + sh * (oh - 1) + 1, sh), slice(j * dw, j * dw + sw * (ow - 1) + 1, sw))

    def disjoint(self) -> bool:
        """True if no two windows share a pixel (stride ≥ the dilated kernel along both axes): gradients can
        then be written instead of added."""
        return all(s >= d * (k - 1) + 1 for s, d, k in zip(self.stride, self.dilation, self.kernel))

    def crop(self, a: np.ndarray) -> np.ndarray:
        """The input-sized middle of a padded (…, Hp, Wp) array (a view)."""
        (top, _), (left, _) = self.pads
        h, w = self.in_hw
        return a[..., top:top + h, left:left + w]

    def details(self) -> str:
        """What the op was called with, as drawings print it beside the op's name: "3×3, stride 1, pad 1"."""
        def one(*values: int) -> str:
            return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"

        (top, bottom), (left, right) = self.pads
        text = f"{self.kernel[0]}×{self.kernel[1]}, stride {one(*self.stride)}"
        if top or bottom or left or right:
            text += f", pad {one(top, left) if (top, left) == (bottom, right) else one(top, bottom, left, right)}"
        if self.dilation != (1, 1):
            text += f", dilation {one(*self.dilation)}"
        return text


def padded(x: np.ndarray, pads: Pads, fill: float) -> np.ndarray:
    """x (N, C, H, W) with ``pads`` rows and columns of ``fill`` around each image: an (N, C, Hp, Wp) view of a
    new (C, Hp, Wp, N) array, the batch innermost (see "Layout"). x itself if there are no pads."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = np.empty((c, h + top + bottom, w + left + right, n), dtype=x.dtype)
    out[:, :top] = out[:, top + h:] = out[:, :, :left] = out[:, :, left + w:] = fill  # the border strips only
    out[:, top:top + h, left:left + w] = x.transpose(1, 2, 3, 0)
    return out.transpose(3, 0, 1, 2)


def window_view(xp: np.ndarray, win: Windows) -> np.ndarray:
    """Every window of the padded batch ``xp`` (N, C, Hp, Wp) as a read-only view of shape
    (C, kH, kW, OH, OW, N): element [c, i, j, p, q, n] is xp[n, c, p·sh + i·dh, q·sw + j·dw]. No copy."""
    sn, sc, sh, sw = xp.strides
    n, c = xp.shape[:2]
    return as_strided(
        xp,
        shape=(c, *win.kernel, *win.out_hw, n),
        strides=(sc, sh * win.dilation[0], sw * win.dilation[1], sh * win.stride[0], sw * win.stride[1], sn),
        writeable=False,
    )


def im2col(x: np.ndarray, win: Windows) -> np.ndarray:
    """cols (C·kH·kW, OH·OW·N): every window of x (N, C, H, W), zero-padded by ``win.pads``, as a column."""
    n, c = x.shape[:2]
    cols = np.empty((c * win.size, win.out_hw[0] * win.out_hw[1] * n), dtype=x.dtype)
    np.copyto(cols.reshape(c, *win.kernel, *win.out_hw, n), window_view(padded(x, win.pads, 0), win))
    return cols


def col2im(dcols: np.ndarray, win: Windows) -> np.ndarray:
    """The transpose of ``im2col``: dcols (C, kH, kW, OH, OW, N) (or the same numbers as a (C·kH·kW, OH·OW·N)
    matrix, or a stack of such row blocks), each entry added onto the input pixel it was copied from; (N, C, H, W),
    cropped of the padding.

    One strided add per kernel offset (i, j), each over every channel, example and output pixel at once; within
    one offset no pixel repeats, so a plain ``+=`` is exact (no ``np.add.at`` needed). ``dcols`` may be a
    broadcast view (average pooling spreads one number over a whole window that way, without a copy).
    """
    n = dcols.shape[-1] if dcols.ndim == 6 else dcols.shape[-1] // (win.out_hw[0] * win.out_hw[1])
    d6 = dcols if dcols.ndim == 6 else dcols.reshape(-1, *win.kernel, *win.out_hw, n)
    # Accumulate as d6 is laid out, (C, Hp, Wp, N): each add streams through stretches of OW·N values.
    dxp = np.zeros((d6.shape[0], *win.padded_hw, n), dtype=d6.dtype)
    add_windows(dxp, d6, win)
    return win.crop(dxp.transpose(3, 0, 1, 2))


def add_windows(dxp: np.ndarray, d6: np.ndarray, win: Windows) -> None:
    """col2im's sums, in place: each window's entries of d6 (C, kH, kW, OH, OW, N) added onto the pixels of the
    padded (C, Hp, Wp, N) array ``dxp`` that the window covers, one strided add per kernel offset (i, j). ``dxp``
    may start at a band's first row (``win.out_hw`` then counts the band's output rows)."""
    for i, j in win.offsets():
        dxp[(slice(None), *win.slices(i, j))] += d6[:, i, j]


def copy_like(like: np.ndarray, a: np.ndarray) -> np.ndarray:
    """A copy of ``a`` in the memory order of ``like`` (same shape)."""
    out = np.empty_like(like, dtype=a.dtype)
    out[...] = a
    return out


__all__ = [
    "Pads",
    "Pair",
    "Windows",
    "add_windows",
    "batched",
    "col2im",
    "copy_like",
    "count",
    "im2col",
    "out_size",
    "padded",
    "pair",
    "window_view",
]
