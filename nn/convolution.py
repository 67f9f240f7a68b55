"""Convolution on Tensors: ``conv2d``, its two halves ``unfold``/``fold``, and ``pad`` (re-exported as ``F.*``).

Images are NCHW (batch, channels, height, width), weights (out_channels, in_channels/groups, kH, kW), and every
argument means what it means in ``torch.nn.functional``. Each op is one graph node, forward beside backward.

conv2d as one matrix product (im2col). Every output pixel is a dot product of the weights with one kH×kW window
of every input channel. Lay those windows out as the columns of a matrix (``nn.windows.im2col``) and the whole
layer, for the whole batch, is one GEMM:

    cols[(c, i, j), (p, q, n)] = x_pad[n, c, p·s + i·d, q·s + j·d]           (C·kH·kW, OH·OW·N)
    y[(o), (p, q, n)]          = Σ_(c,i,j) W[o, (c, i, j)] · cols[(c, i, j), (p, q, n)] + b[o]
                                 i.e.  Y = W₂ · cols + b,   W₂ = W reshaped to (O, C·kH·kW)

The bias rides in the same GEMM: cols gets one more row, of ones, and W₂ the column b, so Y = [W₂ b]·[cols; 1].
With G = ∂L/∂Y as (O, OH·OW·N):

    ∂L/∂W₂   = G · colsᵀ                    a correlation of the input with the output gradient
    ∂L/∂b    = Σ over (p, q, n) of G        the last column of G·[cols; 1]ᵀ, the row of ones' share
    ∂L/∂cols = W₂ᵀ · G                      then col2im: each column's entries are added back onto the pixels
                                            its window came from, one strided add per kernel offset (i, j)

The input gradient is therefore a *full* convolution of G with the flipped kernel (notebook 05 derives it);
col2im computes exactly that without building a second, larger matrix.

Groups. With ``groups`` = g the channels split into g independent convolutions: input channels
[k·C/g, (k+1)·C/g) meet only the output channels [k·O/g, (k+1)·O/g). In im2col's rows the channels are
outermost, so each group's rows are one block and the GEMM becomes g GEMMs, one per block (a batched
``matmul``). ``groups = C`` is a depthwise convolution: one kH×kW filter per channel.

Three ways to the same numbers (``_banded_gemm``, ``_pointwise``, ``_depthwise``), each with its first-order
gradients beside it:

    banded GEMM   the GEMMs above, one band of output rows at a time: a band's columns are copied, then multiplied
                  while they are still in the cache, in one reused buffer; the backward makes each band again
                  rather than keep a matrix kH·kW times the input (and a fresh array that large costs its page
                  faults on every call: a third of a layer's time, measured)
    pointwise     a 1×1 conv with stride 1 and no padding: its input *is* the cols matrix, so no im2col, no col2im
    depthwise     one input channel per group: only kH·kW multiply-adds per output, which ``np.einsum`` does over
                  the window view without copying the input kH·kW times

Twice differentiable. im2col and col2im are transposes of each other, so as Tensor ops they are each other's
derivative: ``unfold`` (im2col, PyTorch's layout (N, C·kH·kW, L)) has the rule ``fold`` and ``fold`` has the
rule ``unfold``. Under ``create_graph`` conv2d's rule is written with them and ``@``, every step a recorded op,
so the gradient it returns can be differentiated again. The first-order rule, which every training step runs,
stays the NumPy one above.

Layout: the batch innermost (see ``nn.windows``). ``Y`` comes out of the GEMM as (O, OH, OW, N) and is handed
on as its (N, O, OH, OW) transpose, a view. Nothing loops in Python over pixels or examples; the loops that
remain run over the kH·kW kernel offsets. float32 stays float32 (an input of another dtype than the weight is
an error, as in PyTorch).

``pad`` pads the last two dims with a constant, or by reflecting, replicating or wrapping the image
(``Conv2d(padding_mode=...)`` uses it). Each padded pixel is a copy of one input pixel (or a constant), so its
gradient folds back: every border entry of g is added onto the pixel it copied.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence

import numpy as np

from autograd.graph import Replay
from autograd.tensor import Tensor, as_tensor, rule_text

from .windows import (
    Pads,
    Pair,
    Windows,
    add_windows,
    batched,
    col2im,
    count,
    im2col,
    out_size,
    padded,
    pair,
    window_view,
)

# -- unfold / fold: im2col and col2im as Tensor ops, each the other's derivative -------------------------


@rule_text("fold(g)")
def unfold(input: Tensor, kernel_size: int | Pair, dilation: int | Pair = 1, padding: int | Pair = 0,
           stride: int | Pair = 1) -> Tensor:
    """Every kH×kW window of the zero-padded input as a column, as ``torch.nn.functional.unfold``:

        out[n, (c, i, j), (p, q)] = x_pad[n, c, p·sh + i·dh, q·sw + j·dw]        (N, C·kH·kW, L = OH·OW)

    ``input`` (N, C, H, W) or (C, H, W). Each input pixel is copied into every window it sits in, so the
    gradient adds those copies' gradients back up: the rule is ``fold``, with the same geometry.
    """
    x = as_tensor(input)
    xd = batched(x, "unfold")
    win = _windows_of("unfold", xd.shape[2:], kernel_size, dilation, padding, stride)
    return _unfold(x, win)


def _unfold(x: Tensor, win: Windows) -> Tensor:
    out = _unfold_array(x.data if x.ndim == 4 else x.data[None], win)
    unbatched = x.ndim == 3

    def backward(xp, g, out, x):
        if xp.graph:
            return (_fold(g, win),)
        gx = _fold_array(g if not unbatched else g[None], win)
        return (gx[0] if unbatched else gx,)

    backward.details = win.details()
    return Tensor.from_op(out[0] if unbatched else out, (x,), backward, "unfold", Replay(_unfold, (x, win)),
                          reads="none")


@rule_text("unfold(g)")
def fold(input: Tensor, output_size: int | Pair, kernel_size: int | Pair, dilation: int | Pair = 1,
         padding: int | Pair = 0, stride: int | Pair = 1) -> Tensor:
    """The transpose of ``unfold``, as ``torch.nn.functional.fold``: each column's entries added back onto the
    pixels of its window, then the padding cropped.

        out[n, c, h, w] = Σ over the windows (p, q) and offsets (i, j) that land on (h, w) of cols[n, (c, i, j), (p, q)]

    ``input`` (N, C·kH·kW, L) or (C·kH·kW, L); ``output_size`` the image's (H, W). Linear, and its own
    transpose's transpose: the rule is ``unfold``. ``fold(unfold(x))`` is x times the number of windows each
    pixel sits in.
    """
    cols = as_tensor(input)
    if cols.ndim not in (2, 3):
        raise ValueError(f"fold: expected a 3-D (N, C·kH·kW, L) or 2-D (C·kH·kW, L) input, got shape {cols.shape}")
    if cols.data.dtype.kind != "f":
        raise TypeError(f"fold: input must be floating point, got {cols.dtype}")
    hw = pair(output_size, "output_size", "fold", 1)
    win = _windows_of("fold", hw, kernel_size, dilation, padding, stride)
    rows, length = cols.shape[-2:]
    if rows % win.size or length != win.out_hw[0] * win.out_hw[1]:
        raise ValueError(
            f"fold: input {cols.shape} does not fit {win.kernel[0]}×{win.kernel[1]} windows over {hw}: expected "
            f"C·{win.size} rows and L = {win.out_hw[0]}·{win.out_hw[1]} = {win.out_hw[0] * win.out_hw[1]} columns"
        )
    return _fold(cols, win)


def _fold(cols: Tensor, win: Windows) -> Tensor:
    unbatched = cols.ndim == 2
    out = _fold_array(cols.data[None] if unbatched else cols.data, win)

    def backward(xp, g, out, cols):
        if xp.graph:
            return (_unfold(g, win),)
        gc = _unfold_array(g[None] if unbatched else g, win)
        return (gc[0] if unbatched else gc,)

    backward.details = win.details()
    return Tensor.from_op(out[0] if unbatched else out, (cols,), backward, "fold", Replay(_fold, (cols, win)),
                          reads="none")


def _unfold_array(x: np.ndarray, win: Windows) -> np.ndarray:
    """im2col in PyTorch's unfold layout: (N, C·kH·kW, L), a view of the (C·kH·kW, L·N) matrix."""
    n = x.shape[0]
    cols = im2col(x, win)
    return cols.reshape(cols.shape[0], -1, n).transpose(2, 0, 1)


def _fold_array(cols: np.ndarray, win: Windows) -> np.ndarray:
    """col2im of cols in PyTorch's layout (N, C·kH·kW, L): (N, C, H, W)."""
    n = cols.shape[0]
    return col2im(cols.transpose(1, 2, 0).reshape(-1, *win.kernel, *win.out_hw, n), win)


def _windows_of(op: str, hw: Sequence[int], kernel_size: object, dilation: object, padding: object,
                stride: object) -> Windows:
    """The geometry of unfold/fold's windows over an (H, W) image, checked (PyTorch's argument order)."""
    kernel = pair(kernel_size, "kernel_size", op, 1)
    dil = pair(dilation, "dilation", op, 1)
    pad = pair(padding, "padding", op, 0)
    st = pair(stride, "stride", op, 1)
    pads = ((pad[0], pad[0]), (pad[1], pad[1]))
    win = Windows(kernel, st, dil, pads, (int(hw[0]), int(hw[1])), (0, 0))
    out_hw = tuple(out_size(hw[a], pads[a], kernel[a], st[a], dil[a]) for a in (0, 1))
    if min(out_hw) < 1:
        raise ValueError(f"{op}: kernel {kernel} (dilation {dil}) is larger than the padded image "
                         f"{win.padded_hw[0]}×{win.padded_hw[1]}")
    return win._replace(out_hw=out_hw)


# -- conv2d ---------------------------------------------------------------------------------------------


@rule_text("g ⊛ flip({1}) (full conv)", "{0} ⋆ g (correlation)", "Σ g over n, p, q", inputs=("x", "W", "b"))
def conv2d(input: Tensor, weight: Tensor, bias: Tensor | None = None, stride: int | Pair = 1,
           padding: int | Pair | str = 0, dilation: int | Pair = 1, groups: int = 1) -> Tensor:
    """2-D cross-correlation, as ``torch.nn.functional.conv2d``:

        y[n, o, p, q] = b[o] + Σ_c Σ_i Σ_j W[o, c, i, j] · x_pad[n, g(o)·C/groups + c, p·s + i·d, q·s + j·d]

    where g(o) = ⌊o / (O/groups)⌋ is the group of output channel o (with ``groups=1`` every output channel sees
    every input channel). ``input`` (N, C, H, W) or (C, H, W); ``weight`` (O, C/groups, kH, kW); ``bias`` (O,)
    or None. ``stride``, ``padding`` (zeros on every side) and ``dilation`` are an int or an (h, w) pair;
    ``padding`` may also be "valid" (0) or "same" (output as large as the input; stride 1 only; an odd total
    goes to the bottom/right, as PyTorch does). Output (N, O, OH, OW) with
    OH = ⌊(H + 2·ph − dh·(kH − 1) − 1)/sh⌋ + 1, likewise OW.

    Backward (see the module docstring): ∂W = G·colsᵀ and ∂b = Σ G in one GEMM per group, ∂x = col2im(W₂ᵀ·G).
    """
    input, weight = as_tensor(input), as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    xd = batched(input, "conv2d")
    groups = count(groups, "groups", "conv2d")
    if weight.ndim != 4:
        raise ValueError(f"conv2d: weight must be 4-D (out_channels, in_channels/groups, kH, kW), got shape "
                         f"{weight.shape}")
    out_ch, in_per_group, kh, kw = weight.shape
    c, h, w = xd.shape[1:]
    if c != in_per_group * groups:
        raise ValueError(f"conv2d: input {input.shape} has {c} channels but weight {weight.shape} with groups={groups} "
                         f"expects {in_per_group * groups}")
    if out_ch % groups:
        raise ValueError(f"conv2d: groups={groups} must divide the weight's {out_ch} output channels "
                         f"(weight {weight.shape})")
    if input.dtype != weight.dtype or (bias is not None and bias.dtype != weight.dtype):
        got = f"input {input.dtype}, weight {weight.dtype}" + ("" if bias is None else f", bias {bias.dtype}")
        raise TypeError(f"conv2d: input, weight and bias must have one dtype, got {got}; convert with .float()")
    if bias is not None and bias.shape != (out_ch,):
        raise ValueError(f"conv2d: bias must have shape ({out_ch},) for weight {weight.shape}, got {bias.shape}")
    st = pair(stride, "stride", "conv2d", 1)
    dil = pair(dilation, "dilation", "conv2d", 1)
    pads = conv_pads(padding, (kh, kw), st, dil)
    out_hw = tuple(out_size((h, w)[a], pads[a], (kh, kw)[a], st[a], dil[a]) for a in (0, 1))
    if min(out_hw) < 1:
        raise ValueError(
            f"conv2d: kernel {kh}×{kw} (dilation {dil}) is larger than the padded input "
            f"{h + sum(pads[0])}×{w + sum(pads[1])} (input {input.shape}, padding {padding!r})"
        )
    win = Windows((kh, kw), st, dil, pads, (h, w), out_hw)
    b = None if bias is None else bias.data
    need = (input.requires_grad, weight.requires_grad, bias is not None and bias.requires_grad)
    # Three ways to the same numbers, each with its first-order gradients beside it (see "Three ways"):
    if in_per_group == 1 and groups > 1:
        y, grads = _depthwise(xd, weight.data, b, win, need)
    elif (kh, kw) == (1, 1) and win.stride == (1, 1) and win.pads == ((0, 0), (0, 0)) and groups == 1:
        y, grads = _pointwise(xd, weight.data, b, need)
    else:
        y, grads = _banded_gemm(xd, weight.data, b, win, groups, need)
    out = y.transpose(3, 0, 1, 2)  # (N, O, OH, OW), a view of (O, OH, OW, N) memory (see "Layout")
    if input.ndim == 3:
        out = out[0]

    def backward(xp, g, out, *inputs):
        if xp.graph:  # differentiating twice: the same sums as Tensor ops, from the Tensors themselves
            grads_ = _conv2d_grads_as_graph(g, *inputs, win=win, groups=groups, need=need)
            return grads_ if bias is not None else grads_[:2]
        gx, gw, gb = grads((g if g.ndim == 4 else g[None]).transpose(1, 2, 3, 0))  # G as (O, OH, OW, N)
        if gx is not None and input.ndim == 3:
            gx = gx[0]
        return (gx, gw) if bias is None else (gx, gw, gb)

    backward.details = win.details() + (f", groups {groups}" if groups > 1 else "")  # drawn beside "conv2d"
    parents = (input, weight) if bias is None else (input, weight, bias)
    replay = Replay(conv2d, (input, weight, bias, stride, padding, dilation, groups))
    return Tensor.from_op(out, parents, backward, "conv2d", replay, reads=(0, 1))  # reads the input and weights


Grads = Callable[[np.ndarray], tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]]


def _banded_gemm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, win: Windows, groups: int,
                 need: tuple[bool, bool, bool]) -> tuple[np.ndarray, Grads]:
    """conv2d as GEMMs on im2col's columns, one band of output rows at a time (see ``_im2col_bands``): y as
    (O, OH, OW, N), and the rule that turns G (the same layout) into (∂x, ∂W, ∂b)."""
    out_ch, in_per_group, kh, kw = weight.shape
    n, c = x.shape[:2]
    (oh, ow), og, k = win.out_hw, out_ch // groups, in_per_group * kh * kw  # k: one group's rows of cols
    windows = window_view(padded(x, win.pads, 0.0), win)  # (C, kH, kW, OH, OW, N): every window, a view
    w3 = weight.reshape(groups, og, k)
    # With a bias, cols gets one more row, of ones, and W₂ the column b, so the bias rides in the GEMMs:
    # Y = [W₂ b]·[cols; 1], and ∂[W₂ b] = G·[cols; 1]ᵀ ends in the column ∂b = Σ G. No passes of their own
    # over Y and G (each as large as the layer's output).
    wb = w3 if bias is None else np.concatenate([w3, bias.reshape(groups, og, 1)], axis=2)
    y = np.empty((out_ch, oh, ow, n), dtype=x.dtype)
    y_rows = y.reshape(groups, og, oh, ow * n)
    for rows, cols in _im2col_bands(windows, groups, bias is not None):
        np.matmul(wb, cols, out=y_rows[:, :, rows].reshape(groups, og, -1))  # one GEMM per group and band

    def grads(g_rows: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        gwb = np.zeros_like(wb) if need[1] or need[2] else None
        dxp = np.zeros((c, *win.padded_hw, n), dtype=g_rows.dtype) if need[0] else None
        # Band by band, as the forward, with the columns made again (cheaper than keeping them: see _im2col_bands)
        for rows, cols in _im2col_bands(windows, groups, bias is not None):
            g_band = g_rows[:, rows].reshape(groups, og, -1)  # a view, or a small copy if g came in another order
            if gwb is not None:
                # ∂[W₂ b] += G·[cols; 1]ᵀ, computed as the transpose of [cols; 1]·Gᵀ: the same sums, but OpenBLAS
                # runs this product (its inner dimension long, the result small) 13–29% faster that way round.
                gwb += (cols @ g_band.transpose(0, 2, 1)).transpose(0, 2, 1)
            if dxp is not None:  # ∂cols = W₂ᵀ·G, added back onto the pixels each column came from (col2im)
                dcols = w3.transpose(0, 2, 1) @ g_band  # (groups, K, band) stacks into (C·kH·kW, band)
                band = win._replace(out_hw=(rows.stop - rows.start, ow))
                add_windows(dxp[:, rows.start * win.stride[0]:], dcols.reshape(c, kh, kw, *band.out_hw, n), band)
        gx = None if dxp is None else win.crop(dxp.transpose(3, 0, 1, 2))
        gw = gwb[:, :, :k].reshape(weight.shape) if need[1] else None
        return gx, gw, (gwb[:, :, k].reshape(out_ch) if need[2] else None)

    return y, grads


def _pointwise(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None,
               need: tuple[bool, bool, bool]) -> tuple[np.ndarray, Grads]:
    """A 1×1 convolution with stride 1 and no padding: each pixel's channels times W₂ (O × C). The input, as
    (C, H·W·N), *is* the cols matrix (a view in this module's layout), so there is no im2col and no col2im:

        Y = W₂·X + b        ∂W₂ = G·Xᵀ        ∂b = Σ G        ∂X = W₂ᵀ·G
    """
    out_ch, c = weight.shape[:2]
    n, _, h, w = x.shape
    x2 = x.transpose(1, 2, 3, 0).reshape(c, h * w * n)  # free when x has this module's layout, else one copy
    w2 = weight.reshape(out_ch, c)
    y2 = w2 @ x2
    if bias is not None:
        y2 += bias[:, None]

    def grads(g_rows: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        g2 = g_rows.reshape(out_ch, -1)
        gx = (w2.T @ g2).reshape(c, h, w, n).transpose(3, 0, 1, 2) if need[0] else None
        gw = (x2 @ g2.T).T.reshape(weight.shape) if need[1] else None  # (X·Gᵀ)ᵀ: OpenBLAS's faster way round
        return gx, gw, (g2.sum(axis=1) if need[2] else None)

    return y2.reshape(out_ch, h, w, n), grads


def _depthwise(x: np.ndarray, weight: np.ndarray, bias: np.ndarray | None, win: Windows,
               need: tuple[bool, bool, bool]) -> tuple[np.ndarray, Grads]:
    """A depthwise convolution (one input channel per group; m = O/C output channels per input channel):

        y[c·m + j, p, q] = b[c·m + j] + Σ_(i1, i2) W[c·m + j, 0, i1, i2] · x_pad[c, p·s + i1·d, q·s + i2·d]

    only kH·kW multiply-adds per output: a GEMM per channel would be a sliver, and im2col would copy the input
    kH·kW times to feed it. ``np.einsum`` over the window view does the sums in place instead, and the same
    contraction the other way gives ∂W. ∂x is a *full* correlation of g with the flipped kernel (stride 1:
    the windows of g padded by d·(k − 1) − p, see the module docstring), or else g·W added back offset by offset.
    """
    out_ch, _, kh, kw = weight.shape
    n, c = x.shape[:2]
    m = out_ch // c
    (oh, ow), (dh, dw) = win.out_hw, win.dilation
    windows = window_view(padded(x, win.pads, 0.0), win)  # (C, kH, kW, OH, OW, N)
    w4 = weight.reshape(c, m, kh, kw)
    y = np.einsum("cijpqn,cmij->cmpqn", windows, w4)
    if bias is not None:
        y += bias.reshape(c, m, 1, 1, 1)
    (top, bottom), (left, right) = win.pads
    full = (dh * (kh - 1) - top, dh * (kh - 1) - bottom), (dw * (kw - 1) - left, dw * (kw - 1) - right)
    as_full_correlation = win.stride == (1, 1) and min(min(full[0]), min(full[1])) >= 0

    def grads(g_rows: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None, np.ndarray | None]:
        g5 = np.ascontiguousarray(g_rows).reshape(c, m, oh, ow, n)  # the windows' memory order: einsum streams
        gx = gw = None
        if need[0] and as_full_correlation:
            g_windows = window_view(padded(g5.transpose(4, 0, 1, 2, 3).reshape(n, out_ch, oh, ow), full, 0.0),
                                    win._replace(pads=full, in_hw=(oh, ow), out_hw=win.in_hw))
            gx = np.einsum("cmijpqn,cmij->cpqn", g_windows.reshape(c, m, kh, kw, *win.in_hw, n),
                           w4[:, :, ::-1, ::-1]).transpose(3, 0, 1, 2)
        elif need[0]:
            dxp = np.zeros((c, *win.padded_hw, n), dtype=g_rows.dtype)
            for i, j in win.offsets():
                dxp[(slice(None), *win.slices(i, j))] += np.einsum("cm,cmpqn->cpqn", w4[:, :, i, j], g5)
            gx = win.crop(dxp.transpose(3, 0, 1, 2))
        if need[1]:
            gw = np.einsum("cijpqn,cmpqn->cmij", windows, g5).reshape(weight.shape)
        return gx, gw, (g5.sum(axis=(2, 3, 4)).reshape(out_ch) if need[2] else None)

    return y.reshape(out_ch, oh, ow, n), grads


# A band of columns: at most 4 MB of float32, copied and multiplied while it is still in the cache. Measured on a
# conv of 32 → 64 channels at 14×14, batch 64: 1 MB to 4 MB bands all ran alike on one BLAS thread, and 4 MB ones 10%
# faster on two (fewer, larger GEMMs to split); 8 MB or the whole matrix at once, 40–60% slower.
BAND_FLOATS = 1 << 20


def _im2col_bands(windows: np.ndarray, groups: int, ones: bool) -> Iterator[tuple[slice, np.ndarray]]:
    """im2col one band of output rows at a time: (rows, cols) with cols (groups, K [+ 1], rows·OW·N) holding the
    band's windows as columns (one block of K = C/groups·kH·kW rows per group, then a row of ones if ``ones``),
    every band in the same reused buffer.

    Why bands: the whole cols matrix is kH·kW times the input (14 MB for 32 channels of 14×14 at batch 64);
    made in one piece it leaves the cache before the GEMM reads it, and a fresh array that size costs its page
    faults on every call (measured: a third of a conv layer's forward and backward). A band is copied, then
    multiplied while still in cache, and its memory is reused.
    """
    c, kh, kw, oh, ow, n = windows.shape
    k = c // groups * kh * kw
    per_row = ow * n
    rows = max(1, min(oh, BAND_FLOATS // (groups * (k + ones) * per_row)))
    buf = np.empty((groups, k + ones, rows * per_row), dtype=windows.dtype)
    if ones:
        buf[:, k] = 1
    for p0 in range(0, oh, rows):
        r = min(rows, oh - p0)
        cols = buf[:, :, :r * per_row]
        np.copyto(cols[:, :k].reshape(groups, -1, kh, kw, r, ow, n),
                  windows[:, :, :, p0:p0 + r].reshape(groups, -1, kh, kw, r, ow, n))
        yield slice(p0, p0 + r), cols


def _conv2d_grads_as_graph(g: Tensor, x: Tensor, w: Tensor, b: Tensor | None = None, *, win: Windows, groups: int,
                           need: tuple[bool, bool, bool]) -> tuple[Tensor | None, Tensor | None, Tensor | None]:
    """conv2d's gradients as recorded Tensor ops (``create_graph``): with cols = unfold(x) per example,

        ∂x = fold(W₂ᵀ · G)        ∂W₂ = Σ_n G · colsᵀ        ∂b = Σ_(n, p, q) G

    group by group (a batched ``@``). Every step is an op whose own rule is known, so these gradients are
    differentiable again: unfold and fold are each other's rules, ``@``'s rule is ``@``.
    """
    x4, g4 = (x, g) if x.ndim == 4 else (x.reshape(1, *x.shape), g.reshape(1, *g.shape))
    n = x4.shape[0]
    out_ch = w.shape[0]
    length = win.out_hw[0] * win.out_hw[1]
    gg = g4.reshape(n, groups, out_ch // groups, length)  # (N, groups, O/groups, L)
    w3 = w.reshape(groups, out_ch // groups, -1)  # (groups, O/groups, C/groups·kH·kW)
    gx = gw = gb = None
    if need[0]:
        dcols = (w3.transpose(1, 2) @ gg).reshape(n, -1, length)  # (N, C·kH·kW, L)
        gx = _fold(dcols, win).reshape(x.shape)
    if need[1]:
        cols = _unfold(x4, win).reshape(n, groups, -1, length)
        gw = (gg @ cols.transpose(2, 3)).sum(dim=0).reshape(w.shape)
    if need[2]:
        gb = g4.sum(dim=(0, 2, 3))
    return gx, gw, gb


def conv_pads(padding: object, kernel: Pair, stride: Pair, dilation: Pair) -> Pads:
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
    ph, pw = pair(padding, "padding", "conv2d", 0)
    return (ph, ph), (pw, pw)


# -- pad ------------------------------------------------------------------------------------------------

PAD_MODES = ("constant", "reflect", "replicate", "circular")


def pad(input: Tensor, pad: Sequence[int], mode: str = "constant", value: float | None = None) -> Tensor:
    """The last dim (``pad`` = (left, right)) or last two dims (``pad`` = (left, right, top, bottom)) padded, as
    ``torch.nn.functional.pad``. ``mode``:

        constant    ``value`` (0 by default)               1 2 3  →  0 | 1 2 3 | 0
        reflect     the image mirrored, edge not repeated  1 2 3  →  2 | 1 2 3 | 2     (pad < size)
        replicate   the edge pixel repeated                1 2 3  →  1 | 1 2 3 | 3
        circular    the image wrapped around               1 2 3  →  3 | 1 2 3 | 1     (pad ≤ size)

    Every output pixel is a copy of one input pixel (or the constant): out = x[rows[r], cols[c]] for index
    vectors ``rows``, ``cols``. Backward: each entry of g goes back to the pixel it copied, so the middle of g
    is x's gradient plus the border strips added onto their source rows and columns.
    """
    x = as_tensor(input)
    if mode not in PAD_MODES:
        raise ValueError(f"pad: mode must be one of {', '.join(map(repr, PAD_MODES))}, got {mode!r}")
    widths = tuple(pad) if isinstance(pad, (tuple, list)) else (pad,)
    if len(widths) not in (2, 4) or not all(isinstance(p, (int, np.integer)) and not isinstance(p, bool)
                                            for p in widths):
        raise ValueError(f"pad: pad must be (left, right) or (left, right, top, bottom) ints, got {pad!r} "
                         "(padding more than the last two dims is not supported)")
    if min(widths) < 0:
        raise ValueError(f"pad: negative padding (cropping) is not supported, got {pad!r}")
    if value is not None and mode != "constant":
        raise ValueError(f"pad: value= is for mode='constant', got mode={mode!r}")
    dims = len(widths) // 2
    if x.ndim < dims or (mode != "constant" and x.ndim not in (dims + 1, dims + 2)):
        need = f"{dims}-D or more" if mode == "constant" else f"{dims + 1}-D or {dims + 2}-D"
        raise ValueError(f"pad: mode {mode!r} with pad {pad!r} needs {need} input (as in PyTorch), got shape "
                         f"{x.shape}")
    return _pad(x, tuple(int(p) for p in widths) + (0, 0) * (dims == 1), dims, mode, value)


@rule_text("g, its border folded back", op="pad")
def _pad(x: Tensor, widths: tuple[int, int, int, int], dims: int, mode: str, value: float | None) -> Tensor:
    """``pad`` of the last ``dims`` dims (1 or 2) by ``widths`` = (left, right, top, bottom), checked."""
    left, right, top, bottom = widths
    h = x.shape[-2] if dims == 2 else 1
    w = x.shape[-1]
    rows = _source_index(h, top, bottom, mode, "height")
    cols = _source_index(w, left, right, mode, "width")
    xd = x.data if dims == 2 else x.data[..., None, :]  # one padded dim: a height of 1, padded by nothing
    if mode == "constant":
        out = np.full((*xd.shape[:-2], h + top + bottom, w + left + right), 0 if value is None else value, xd.dtype)
        out[..., top:top + h, left:left + w] = xd
    else:
        out = xd[..., rows[:, None], cols]
    shape4 = xd.shape

    def backward(xp, g, out, x):
        g4 = g if dims == 2 else g[..., None, :]
        if mode == "constant":
            gx = g4[..., top:top + h, left:left + w]
        elif xp.graph:  # the transpose of the gather, as an op (its rule gathers again): twice differentiable
            gx = xp.scatter(g4, (Ellipsis, rows[:, None], cols), shape4)
        else:
            gx = _fold_border(_fold_border(g4, rows, top, h, -2), cols, left, w, -1)
        return (gx if dims == 2 else gx[..., 0, :],)

    backward.details = mode + ", " + str(widths[:2 * dims])
    return Tensor.from_op(out if dims == 2 else out[..., 0, :], (x,), backward, "pad",
                          Replay(_pad, (x, widths, dims, mode, value)), reads="none")


def _source_index(size: int, before: int, after: int, mode: str, dim: str) -> np.ndarray:
    """For each padded position along one dim, the input position it copies (-1 for a constant)."""
    r = np.arange(-before, size + after)
    if mode == "constant":
        return np.where((r >= 0) & (r < size), r, -1)
    if mode == "reflect":
        if max(before, after) >= size:
            raise ValueError(f"pad: reflect padding must be smaller than the input's {dim} {size}, got "
                             f"({before}, {after})")
        return size - 1 - np.abs(size - 1 - np.abs(r))  # mirrored at 0, then at size − 1
    if mode == "replicate":
        return np.clip(r, 0, size - 1)
    if max(before, after) > size:
        raise ValueError(f"pad: circular padding may wrap around at most once: the input's {dim} is {size}, got "
                         f"({before}, {after})")
    return r % size


def _fold_border(g: np.ndarray, index: np.ndarray, before: int, size: int, axis: int) -> np.ndarray:
    """The transpose of taking ``index`` along ``axis``: g's middle, plus each border slice added onto the input
    position it was copied from (a loop over the few border rows, each a whole-batch add)."""
    g = np.moveaxis(g, axis, 0)
    out = g[before:before + size].copy()
    for r in (*range(before), *range(before + size, len(index))):
        out[index[r]] += g[r]
    return np.moveaxis(out, 0, axis)


__all__ = ["conv2d", "conv_pads", "fold", "pad", "unfold"]
