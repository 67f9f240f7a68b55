"""Convolution and max-pooling on Tensors: ``conv2d`` and ``max_pool2d`` (re-exported as ``F.conv2d``, ``F.max_pool2d``).

Images are NCHW (batch, channels, height, width), weights (out_channels, in_channels, kH, kW), and every argument
means what it means in ``torch.nn.functional``. Each op is one graph node, forward beside backward.

conv2d as one matrix product (im2col). Every output pixel is a dot product of the weights with one kH×kW window
of every input channel. Lay those windows out as the columns of a matrix and the whole layer, for the whole
batch, is one GEMM:

    cols[(c, i, j), (p, q, n)] = x_pad[n, c, p·s + i·d, q·s + j·d]           (C·kH·kW, OH·OW·N)
    y[(o), (p, q, n)]          = Σ_(c,i,j) W[o, (c, i, j)] · cols[(c, i, j), (p, q, n)] + b[o]
                                 i.e.  Y = W₂ · cols + b,   W₂ = W reshaped to (O, C·kH·kW)

The windows are a *view* of the padded input (``numpy.lib.stride_tricks.as_strided``: no copy, just strides);
copying that view into ``cols`` is the one copy (kH·kW times the input's size). The bias rides in the same GEMM:
cols gets one more row, of ones, and W₂ the column b, so Y = [W₂ b]·[cols; 1]. With G = ∂L/∂Y as (O, OH·OW·N):

    ∂L/∂W₂   = G · colsᵀ                    a correlation of the input with the output gradient
    ∂L/∂b    = Σ over (p, q, n) of G        the last column of G·[cols; 1]ᵀ, the row of ones' share
    ∂L/∂cols = W₂ᵀ · G                      then col2im: each column's entries are added back onto the pixels
                                            its window came from, one strided add per kernel offset (i, j)

The input gradient is therefore a *full* convolution of G with the flipped kernel (notebook 05 derives it);
col2im computes exactly that without building a second, larger matrix.

Layout: the batch innermost. ``Y`` comes out of the GEMM as (O, OH, OW, N) and is handed on as its
(N, O, OH, OW) transpose, a view; padded inputs and col2im's sums are (C, H, W, N) in memory too. With the
examples side by side, a window copy, a col2im add or a pooling pass walks contiguous stretches of OW·N values
instead of rows of OW (14 or 7 floats in the default CNN; NumPy pays per row, and those steps take 1.4–2×
as long with the batch outside). NumPy's elementwise ops keep the memory order, so the gradient that comes
back usually has it too and turns into G without a copy, and flattening a pooled map to (N, C·H·W) is a view.
Nothing here loops in Python over pixels or examples; the loops that remain run over the kH·kW kernel
offsets. float32 stays float32 throughout (an input of another dtype than the weight is an error, as in
PyTorch).

max_pool2d takes the largest value of each window; its gradient goes to that one input (the first of equal
maxima in row-major order, as PyTorch picks) and every other input of the window gets 0.
"""
from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided

from autograd.graph import Replay, is_grad_enabled
from autograd.tensor import Tensor, as_tensor, rule_text

Pair = tuple[int, int]


def _pair(v: object, name: str, op: str, minimum: int) -> Pair:
    """An int or a pair of ints (height, width), each at least ``minimum``, as PyTorch's ``_pair``."""
    vals = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(vals) != 2 or not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in vals):
        raise TypeError(f"{op}: {name} must be an int or a pair of ints (height, width), got {v!r}")
    if min(vals) < minimum:
        raise ValueError(f"{op}: {name} must be >= {minimum}, got {v!r}")
    return int(vals[0]), int(vals[1])


def _batched(x: Tensor, op: str, what: str = "input") -> np.ndarray:
    """The data as (N, C, H, W); an unbatched (C, H, W) image gets a batch of one, as PyTorch allows."""
    if x.ndim not in (3, 4):
        raise ValueError(f"{op}: expected a 4-D (N, C, H, W) or 3-D (C, H, W) {what}, got shape {x.shape}")
    if x.data.dtype.kind != "f":
        raise TypeError(f"{op}: {what} must be floating point, got {x.dtype}; use x.float()")
    return x.data if x.ndim == 4 else x.data[None]


def _out_size(size: int, pad: int, kernel: int, stride: int, dilation: int) -> int:
    """floor((size + pads − d·(k − 1) − 1) / s) + 1, PyTorch's output size (``pad`` is both sides together)."""
    return (size + pad - dilation * (kernel - 1) - 1) // stride + 1


def _padded(x: np.ndarray, pads: tuple[Pair, Pair], fill: float) -> np.ndarray:
    """x with ``pads`` = ((top, bottom), (left, right)) rows and columns of ``fill`` around each image: an
    (N, C, Hp, Wp) view of a new (C, Hp, Wp, N) array, the batch innermost (see "Layout"). x itself if no pads."""
    (top, bottom), (left, right) = pads
    if not (top or bottom or left or right):
        return x
    n, c, h, w = x.shape
    out = np.full((c, h + top + bottom, w + left + right, n), fill, dtype=x.dtype)
    out[:, top:top + h, left:left + w] = x.transpose(1, 2, 3, 0)
    return out.transpose(3, 0, 1, 2)


def _window_view(xp: np.ndarray, kernel: Pair, stride: Pair, dilation: Pair, out_hw: Pair) -> np.ndarray:
    """Every window of the padded batch ``xp`` (N, C, Hp, Wp) as a read-only view of shape
    (C, kH, kW, OH, OW, N): element [c, i, j, p, q, n] is xp[n, c, p·sh + i·dh, q·sw + j·dw]. No copy."""
    sn, sc, sh, sw = xp.strides
    n, c = xp.shape[:2]
    return as_strided(
        xp,
        shape=(c, *kernel, *out_hw, n),
        strides=(sc, sh * dilation[0], sw * dilation[1], sh * stride[0], sw * stride[1], sn),
        writeable=False,
    )


def _offset_slices(i: int, j: int, stride: Pair, dilation: Pair, out_hw: Pair) -> tuple[slice, slice]:
    """The rows and columns of the padded input that kernel offset (i, j) touches, one per output pixel."""
    top, left = i * dilation[0], j * dilation[1]
    return (slice(top, top + stride[0] * (out_hw[0] - 1) + 1, stride[0]),
            slice(left, left + stride[1] * (out_hw[1] - 1) + 1, stride[1]))


def _copy_like(like: np.ndarray, a: np.ndarray) -> np.ndarray:
    """A copy of ``a`` in the memory order of ``like`` (same shape)."""
    out = np.empty_like(like, dtype=a.dtype)
    out[...] = a
    return out


def _details(kernel: Pair, stride: Pair, pads: tuple[Pair, Pair], dilation: Pair) -> str:
    """What an op was called with, as draw_dot prints it beside the op's name: "3×3, stride 1, pad 1"."""
    def one(*values: int) -> str:
        return str(values[0]) if len(set(values)) == 1 else "(" + ", ".join(map(str, values)) + ")"

    (top, bottom), (left, right) = pads
    text = f"{kernel[0]}×{kernel[1]}, stride {one(*stride)}"
    if top or bottom or left or right:
        text += f", pad {one(top, left) if (top, left) == (bottom, right) else one(top, bottom, left, right)}"
    if dilation != (1, 1):
        text += f", dilation {one(*dilation)}"
    return text


def _no_backward(xp: object, g: np.ndarray, *args: object) -> tuple[None]:
    """The backward of an op made where no gradient can flow (Tensor.from_op drops it there)."""
    raise RuntimeError("internal error: backward of a node made without grad")


def _first_order_only(op: str) -> NotImplementedError:
    return NotImplementedError(f"{op} is differentiable once only: its backward cannot be differentiated again "
                               "(create_graph=True) yet")


# -- conv2d ---------------------------------------------------------------------------------------------


@rule_text("g ⊛ flip({1}) (full conv)", "{0} ⋆ g (correlation)", "Σ g over n, p, q", inputs=("x", "W", "b"))
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | Pair = 1,
           padding: int | Pair | str = 0, dilation: int | Pair = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d`` (``groups`` must be 1):

        y[n, o, p, q] = b[o] + Σ_c Σ_i Σ_j W[o, c, i, j] · x_pad[n, c, p·s + i·d, q·s + j·d]

    ``input`` (N, C, H, W) or (C, H, W); ``weight`` (O, C, kH, kW); ``bias`` (O,) or None. ``stride``,
    ``padding`` (zeros on every side) and ``dilation`` are an int or an (h, w) pair; ``padding`` may also be
    "valid" (0) or "same" (output as large as the input; stride 1 only; an odd total goes to the bottom/right,
    as PyTorch does). Output (N, O, OH, OW) with OH = ⌊(H + 2·ph − dh·(kH − 1) − 1)/sh⌋ + 1, likewise OW.

    Backward (see the module docstring): ∂W = G·colsᵀ and ∂b = Σ G in one GEMM, ∂x = col2im(W₂ᵀ·G).
    """
    input, weight = as_tensor(input), as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    xd = _batched(input, "conv2d")
    if groups != 1:
        raise ValueError(f"conv2d: groups={groups} is not supported (only groups=1)")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (out_channels, in_channels, kH, kW), got shape {weight.shape}")
    out_ch, in_ch, kh, kw = weight.shape
    n, c, h, w = xd.shape
    if c != in_ch:
        raise ValueError(f"conv2d: input {input.shape} has {c} channels but weight {weight.shape} expects {in_ch}")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        got = f"input {input.dtype}, weight {weight.dtype}" + ("" if bias is None else f", bias {bias.dtype}")
        raise TypeError(f"conv2d: input, weight and bias must have one dtype, got {got}; convert with .float()")
    if bias is not None and bias.shape != (out_ch,):
        raise ValueError(f"conv2d: bias must have shape ({out_ch},) for weight {weight.shape}, got {bias.shape}")
    st = _pair(stride, "stride", "conv2d", 1)
    dil = _pair(dilation, "dilation", "conv2d", 1)
    pads = _conv_pads(padding, (kh, kw), st, dil)
    oh = _out_size(h, sum(pads[0]), kh, st[0], dil[0])
    ow = _out_size(w, sum(pads[1]), kw, st[1], dil[1])
    if oh < 1 or ow < 1:
        raise ValueError(
            f"conv2d: kernel {kh}×{kw} (dilation {dil}) is larger than the padded input "
            f"{h + sum(pads[0])}×{w + sum(pads[1])} (input {input.shape}, padding {padding!r})"
        )

    xp = _padded(xd, pads, 0.0)
    k = in_ch * kh * kw
    m = n * oh * ow
    # im2col, the one copy. With a bias, one more row of ones, so that the bias rides in the GEMMs:
    # Y = [W₂ b]·[cols; 1], and ∂[W₂ b] = G·[cols; 1]ᵀ ends in the column ∂b = Σ G. No passes of their own
    # over Y and G (each as large as the layer's output), and the GEMMs use every BLAS thread.
    ones = int(bias is not None)
    cols = np.empty((k + ones, m), dtype=xd.dtype)
    np.copyto(cols[:k].reshape(in_ch, kh, kw, oh, ow, n), _window_view(xp, (kh, kw), st, dil, (oh, ow)))
    w2 = weight.data.reshape(out_ch, k)
    wb = w2
    if bias is not None:
        cols[k] = 1
        wb = np.concatenate([w2, bias.data[:, None]], axis=1)
    y = wb @ cols  # (O, OH·OW·N): one GEMM for the whole batch
    out = y.reshape(out_ch, oh, ow, n).transpose(3, 0, 1, 2)  # (N, O, OH, OW), a view (see "Layout")
    if input.ndim == 3:
        out = out[0]

    def backward(xp, g, out, *inputs):
        if xp.graph:
            raise _first_order_only("conv2d")
        g4 = g if g.ndim == 4 else g[None]
        g2 = g4.transpose(1, 2, 3, 0).reshape(out_ch, m)  # G: free when g has out's memory order
        # ∂[W₂ b] = G·[cols; 1]ᵀ, computed as the transpose of [cols; 1]·Gᵀ: the same sums, but OpenBLAS runs
        # this product (its inner dimension OH·OW·N is long, the result small) 13–29% faster that way round.
        need_wb = weight.requires_grad or (bias is not None and bias.requires_grad)
        gwb = (cols @ g2.T).T if need_wb else None
        gw = gwb[:, :k].reshape(weight.shape) if weight.requires_grad else None
        gx = None
        if input.requires_grad:
            gx = _col2im(w2.T @ g2, xd.shape, (kh, kw), st, dil, pads, (oh, ow))
            if input.ndim == 3:
                gx = gx[0]
        if bias is None:
            return gx, gw
        return gx, gw, (gwb[:, k] if bias.requires_grad else None)

    backward.details = _details((kh, kw), st, pads, dil)  # for drawings: "3×3, stride 1, pad 1"
    parents = (input, weight) if bias is None else (input, weight, bias)
    replay = Replay(conv2d, (input, weight, bias, stride, padding, dilation, groups))
    return Tensor.from_op(out, parents, backward, "conv2d", replay, reads="none")


def _conv_pads(padding: object, kernel: Pair, stride: Pair, dilation: Pair) -> tuple[Pair, Pair]:
    """((top, bottom), (left, right)) from conv2d's ``padding``: an int, an (h, w) pair, "valid" or "same"."""
    if isinstance(padding, str):
        if padding == "valid":
            return (0, 0), (0, 0)
        if padding != "same":
            raise ValueError(f"conv2d: padding must be an int, a pair, 'valid' or 'same', got {padding!r}")
        if stride != (1, 1):
            raise ValueError(f"conv2d: padding='same' needs stride 1 (as in PyTorch), got stride {stride}")
        totals = (dilation[0] * (kernel[0] - 1), dilation[1] * (kernel[1] - 1))
        return (totals[0] // 2, totals[0] - totals[0] // 2), (totals[1] // 2, totals[1] - totals[1] // 2)
    ph, pw = _pair(padding, "padding", "conv2d", 0)
    return (ph, ph), (pw, pw)


def _col2im(dcols: np.ndarray, x_shape: tuple[int, ...], kernel: Pair, stride: Pair, dilation: Pair,
            pads: tuple[Pair, Pair], out_hw: Pair) -> np.ndarray:
    """The transpose of im2col: add each entry of ∂L/∂cols (C·kH·kW, OH·OW·N) onto the input pixel it was
    copied from. A pixel that sat in several windows collects one term per window (the chain rule's sum).

    One strided add per kernel offset (i, j), each over every channel, example and output pixel at once; within
    one offset no pixel repeats, so a plain ``+=`` is exact (no ``np.add.at`` needed).
    """
    n, c, h, w = x_shape
    (top, bottom), (left, right) = pads
    d6 = dcols.reshape(c, *kernel, *out_hw, n)
    # Accumulate as d6 is laid out, (C, H, W, N): each add streams through stretches of OW·N values.
    dxp = np.zeros((c, h + top + bottom, w + left + right, n), dtype=dcols.dtype)
    for i in range(kernel[0]):
        for j in range(kernel[1]):
            rows, cols = _offset_slices(i, j, stride, dilation, out_hw)
            dxp[:, rows, cols] += d6[:, i, j]
    return dxp[:, top:top + h, left:left + w].transpose(3, 0, 1, 2)


# -- max_pool2d -----------------------------------------------------------------------------------------


@rule_text("g to each window's max")
def max_pool2d(input: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None,
               padding: int | Pair = 0, dilation: int | Pair = 1) -> Tensor:
    """The largest value in each window, as ``torch.nn.functional.max_pool2d``:

        y[n, c, p, q] = max_(i, j) x_pad[n, c, p·s + i·d, q·s + j·d]      (x_pad padded with −∞)

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows); ``padding`` may be at most half the
    kernel. Output (N, C, OH, OW) with OH = ⌊(H + 2·ph − dh·(kH − 1) − 1)/sh⌋ + 1, likewise OW. A NaN in a
    window makes its maximum NaN, as in PyTorch.

    Backward: ∂y/∂x is 1 for the input that was the maximum of its window (the first, in row-major order,
    among equal ones) and 0 for the rest, so each window's gradient goes to its argmax; an input that is the
    maximum of several overlapping windows collects all their gradients.
    """
    input = as_tensor(input)
    xd = _batched(input, "max_pool2d")
    kernel = _pair(kernel_size, "kernel_size", "max_pool2d", 1)
    st = kernel if stride is None else _pair(stride, "stride", "max_pool2d", 1)
    pad = _pair(padding, "padding", "max_pool2d", 0)
    dil = _pair(dilation, "dilation", "max_pool2d", 1)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(f"max_pool2d: padding {padding!r} must be at most half the kernel {kernel} (as in PyTorch)")
    h, w = xd.shape[2:]
    oh = _out_size(h, 2 * pad[0], kernel[0], st[0], dil[0])
    ow = _out_size(w, 2 * pad[1], kernel[1], st[1], dil[1])
    if oh < 1 or ow < 1:
        raise ValueError(f"max_pool2d: kernel {kernel} (dilation {dil}) is larger than the padded input "
                         f"{h + 2 * pad[0]}×{w + 2 * pad[1]} (input {input.shape})")
    pads = ((pad[0], pad[0]), (pad[1], pad[1]))
    xp = _padded(xd, pads, -np.inf)

    # A scan over the kernel offsets, each step over every window at once: the best value so far, and the
    # offset it came from (the argmax, one small integer per output). Arithmetic only: masked NumPy writes
    # (np.where, copyto(where=)) cost ten times more here, since the masks are random.
    offsets = [(i, j) for i in range(kernel[0]) for j in range(kernel[1])]
    windows = [xp[(slice(None), slice(None), *_offset_slices(i, j, st, dil, (oh, ow)))] for i, j in offsets]
    # The first np.maximum allocates the output (in the input's memory order); later ones update it in place.
    best = windows[0] if len(windows) > 1 else windows[0].copy(order="K")
    replay = Replay(max_pool2d, (input, kernel_size, stride, padding, dilation))
    if not (is_grad_enabled() and input.requires_grad):  # no backward will run (evaluation): values only
        for k, v in enumerate(windows[1:], start=1):
            best = np.maximum(best, v, out=None if k == 1 else best)
        return Tensor.from_op(best if input.ndim == 4 else best[0], (input,), _no_backward, "max_pool2d", replay)
    # In the memory order of best, like everything the passes below and the backward's touch: a pass that mixes
    # memory orders cannot stream through any of its arrays, and ran up to 15× slower here.
    arg = np.zeros_like(best, dtype=np.uint8 if len(offsets) < 256 else np.int32)
    for k, v in enumerate(windows[1:], start=1):
        # Strictly greater, so an equal later value does not take over (PyTorch's first argmax); written as
        # not(v <= best) so that a NaN takes over (np.maximum makes it the window's max, as in PyTorch).
        better = np.less_equal(v, best)
        np.logical_not(better, out=better)
        np.maximum(arg, better * arg.dtype.type(k), out=arg)  # k grows, so the last "better" wins
        best = np.maximum(best, v, out=None if k == 1 else best)
    out = best if input.ndim == 4 else best[0]
    # Windows that do not overlap touch each pixel at most once: their gradients can be written, not added.
    # Windows that tile the input (stride = kernel, the usual 2×2 pool) write every pixel but a remainder strip.
    disjoint = all(st[a] >= dil[a] * (kernel[a] - 1) + 1 for a in (0, 1))
    tiles = st == kernel and dil == (1, 1)
    xp_shape = xp.shape

    def backward(xp, g, out, x):
        if xp.graph:
            raise _first_order_only("max_pool2d")
        g4 = g if g.ndim == 4 else g[None]
        if g4.strides != best.strides:  # e.g. batch-major after a flatten: one copy of this small array
            g4 = _copy_like(best, g4)     # beats kH·kW passes that each mix memory orders (~4× slower)
        # In the input's memory order (best's), which the next backward, usually conv2d's, reads without a copy;
        # zeroed only where needed.
        dxp = (np.empty_like if tiles else np.zeros_like)(best, shape=xp_shape)
        if tiles:
            dxp[:, :, oh * st[0]:, :] = 0
            dxp[:, :, :, ow * st[1]:] = 0
        for k, (i, j) in enumerate(offsets):
            view = dxp[(slice(None), slice(None), *_offset_slices(i, j, st, dil, (oh, ow)))]
            # Within one offset the windows touch distinct pixels, so each window's gradient lands once.
            if disjoint:
                np.multiply(g4, arg == k, out=view)
            else:
                view += g4 * (arg == k)
        dx = dxp[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + w]
        return (dx if input.ndim == 4 else dx[0],)

    backward.details = _details(kernel, st, pads, dil)
    return Tensor.from_op(out, (input,), backward, "max_pool2d", replay, reads="none")


__all__ = ["conv2d", "max_pool2d"]
