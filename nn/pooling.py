"""Pooling on Tensors: ``max_pool2d``, ``max_unpool2d``, ``avg_pool2d``, ``adaptive_avg_pool2d`` (as ``F.*``).

Images are NCHW (or unbatched CHW) and every argument means what it means in ``torch.nn.functional``. Each op
is one graph node, forward beside backward, and every one is differentiable twice: its gradient is a *linear*
function of g with constants fixed by the forward (which input was each window's maximum, how many pixels each
window averages), so the rule is written with ops whose own rules are known, and the same rule builds a graph
under ``create_graph``:

    max_pool2d            g goes to each window's argmax            a scatter at constant indices (rule: gather)
    max_unpool2d          g is read back at the indices             a gather (rule: scatter)
    avg_pool2d            g/divisor spread over each window         fold of the spread g (rule: unfold)
    adaptive_avg_pool2d   y = Aₕ·x·A_wᵀ, so g ↦ Aₕᵀ·g·A_w           two products with constant matrices

The windows' geometry (kernel, stride, padding, dilation, ``ceil_mode``) lives in ``nn.windows``; ``ceil_mode``
keeps a last, partial window by padding the bottom/right further (with −∞ for max, with zeros that no divisor
counts for average), as PyTorch's output-size rule says.
"""
from __future__ import annotations

import numpy as np

from autograd.graph import Replay, is_grad_enabled
from autograd.tensor import Tensor, as_tensor, rule_text

from .convolution import _fold
from .windows import Pair, Windows, batched, col2im, copy_like, out_size, padded, pair

# -- shared: the windows of a pooling op ----------------------------------------------------------------


def pool_windows(op: str, shape: tuple[int, ...], kernel_size: object, stride: object, padding: object,
                 dilation: object, ceil_mode: bool) -> Windows:
    """The checked geometry of a pooling op over images of ``shape`` (…, H, W). ``stride`` None (or empty) means
    the kernel; ``padding`` at most half the kernel (PyTorch's rule: every window then holds an input pixel).
    With ``ceil_mode`` the bottom/right pads grow so that the last, partial window fits."""
    hw = shape[-2:]
    kernel = pair(kernel_size, "kernel_size", op, 1)
    default = stride is None or (isinstance(stride, (tuple, list)) and not stride)  # PyTorch: None or [] → kernel
    st = kernel if default else pair(stride, "stride", op, 1)
    pad = pair(padding, "padding", op, 0)
    dil = pair(dilation, "dilation", op, 1)
    if not isinstance(ceil_mode, (bool, np.bool_)):
        raise TypeError(f"{op}: ceil_mode must be True or False, got {ceil_mode!r}")
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding!r} must be at most half the kernel {kernel} (as in PyTorch)")
    out_hw = tuple(out_size(hw[a], (pad[a], pad[a]), kernel[a], st[a], dil[a], bool(ceil_mode)) for a in (0, 1))
    if min(out_hw) < 1:
        raise ValueError(f"{op}: kernel {kernel} (dilation {dil}) is larger than the padded input "
                         f"{hw[0] + 2 * pad[0]}×{hw[1] + 2 * pad[1]} (input {tuple(shape)})")
    # The bottom/right pads reach as far as the last window does (beyond the usual pad only in ceil_mode).
    reach = [st[a] * (out_hw[a] - 1) + dil[a] * (kernel[a] - 1) + 1 - hw[a] - pad[a] for a in (0, 1)]
    pads = ((pad[0], max(pad[0], reach[0])), (pad[1], max(pad[1], reach[1])))
    return Windows(kernel, st, dil, pads, (int(hw[0]), int(hw[1])), out_hw)


def _first_inside(win: Windows) -> tuple[np.ndarray, np.ndarray]:
    """For each output row p (column q), the first kernel row i (column j) whose pixel lies inside the image:
    where PyTorch's scan of a window starts."""
    firsts = []
    for a in (0, 1):
        start = np.arange(win.out_hw[a]) * win.stride[a] - win.pads[a][0]  # the window's first pixel, may be < 0
        firsts.append(-(-np.maximum(-start, 0) // win.dilation[a]))  # ⌈−start / d⌉ offsets to reach pixel 0
    return firsts[0], firsts[1]


# -- max_pool2d -----------------------------------------------------------------------------------------


@rule_text("g to each window's max")
def max_pool2d(input: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
               dilation: int | Pair = 1, ceil_mode: bool = False, return_indices: bool = False
               ) -> Tensor | tuple[Tensor, Tensor]:
    """The largest value in each window, as ``torch.nn.functional.max_pool2d``:

        y[n, c, p, q] = max_(i, j) x_pad[n, c, p·s + i·d, q·s + j·d]      (x_pad padded with −∞)

    ``stride`` defaults to ``kernel_size`` (non-overlapping windows); ``padding`` may be at most half the
    kernel. Output (N, C, OH, OW) with OH = ⌊(H + 2·ph − dh·(kH − 1) − 1)/sh⌋ + 1 (⌈…⌉ with ``ceil_mode``),
    likewise OW. A NaN in a window makes its maximum NaN, as in PyTorch. Integer images pool too (no gradient).
    ``return_indices=True`` also returns, for each output, the position h·W + w of its maximum in its input
    plane (int64), what ``max_unpool2d`` takes.

    Backward: ∂y/∂x is 1 for the input that was the maximum of its window (the first, in row-major order,
    among equal ones) and 0 for the rest, so each window's gradient goes to its argmax; an input that is the
    maximum of several overlapping windows collects all their gradients.
    """
    input = as_tensor(input)
    xd = batched(input, "max_pool2d", kinds="fiu")
    win = pool_windows("max_pool2d", input.shape, kernel_size, stride, padding, dilation, ceil_mode)
    fill = -np.inf if xd.dtype.kind == "f" else np.iinfo(xd.dtype).min
    x_pad = padded(xd, win.pads, fill)
    offsets = list(win.offsets())
    windows = [x_pad[(slice(None), slice(None), *win.slices(i, j))] for i, j in offsets]
    replay = Replay(max_pool2d, (input, kernel_size, stride, padding, dilation, ceil_mode))
    need_grad = is_grad_enabled() and input.requires_grad
    if not (need_grad or return_indices):  # no backward will run (evaluation): values only
        best = windows[0] if len(windows) > 1 else windows[0].copy(order="K")
        for k, v in enumerate(windows[1:], start=1):
            best = np.maximum(best, v, out=None if k == 1 else best)
        return Tensor.from_op(best if input.ndim == 4 else best[0], (input,), _no_backward, "max_pool2d", replay)
    best, arg = _max_and_argmax(windows)
    if win.pads != ((0, 0), (0, 0)):
        _never_padding(best, arg, fill, win)
    out = best if input.ndim == 4 else best[0]
    padded_shape = x_pad.shape

    def positions() -> tuple[np.ndarray, np.ndarray]:
        """Row and column of each output's maximum in the (unpadded) input: (N, C, OH, OW) each."""
        (top, _), (left, _) = win.pads
        di = np.array([i for i, _ in offsets]) * win.dilation[0] - top
        dj = np.array([j for _, j in offsets]) * win.dilation[1] - left
        return (np.arange(win.out_hw[0])[:, None] * win.stride[0] + di[arg],
                np.arange(win.out_hw[1]) * win.stride[1] + dj[arg])

    def backward(xp, g, out, x):
        g4 = g if g.ndim == 4 else g[None]
        if xp.graph:  # a scatter at constant indices, as an op: its rule is the gather g[index]
            rows, cols = positions()
            n, c = best.shape[:2]
            index = (np.arange(n)[:, None, None, None], np.arange(c)[:, None, None], rows, cols)
            gx = xp.scatter(g4, index, (n, c, *win.in_hw))
            return (gx if input.ndim == 4 else gx[0],)
        dx = win.crop(_route_to_argmax(g4, arg, best, win, padded_shape))
        return (dx if input.ndim == 4 else dx[0],)

    backward.details = win.details() + (", ceil" if ceil_mode else "")
    values = Tensor.from_op(out, (input,), backward if need_grad else _no_backward, "max_pool2d", replay,
                            reads="none")
    if not return_indices:
        return values
    rows, cols = positions()
    indices = rows * win.in_hw[1] + cols
    return values, Tensor(indices if input.ndim == 4 else indices[0])


def _route_to_argmax(g: np.ndarray, arg: np.ndarray, best: np.ndarray, win: Windows,
                     padded_shape: tuple[int, ...]) -> np.ndarray:
    """∂L/∂x_pad for max pooling: each window's g on the pixel at its argmax offset, one pass per offset."""
    if g.strides != best.strides:  # e.g. batch-major after a flatten: one copy of this small array beats
        g = copy_like(best, g)      # kH·kW passes that each mix memory orders (~4× slower)
    # In the input's memory order (best's), which the next backward, usually conv2d's, reads without a copy;
    # zeroed only where no window writes (windows that tile the image: just the strips past the last one).
    tiles = win.stride == win.kernel and win.dilation == (1, 1)
    dxp = (np.empty_like if tiles else np.zeros_like)(best, shape=padded_shape)
    if tiles:
        dxp[:, :, win.out_hw[0] * win.stride[0]:, :] = 0
        dxp[:, :, :, win.out_hw[1] * win.stride[1]:] = 0
    disjoint = win.disjoint()
    for k, (i, j) in enumerate(win.offsets()):
        view = dxp[(slice(None), slice(None), *win.slices(i, j))]
        # Within one offset the windows touch distinct pixels, so each window's gradient lands once.
        if disjoint:
            np.multiply(g, arg == k, out=view)
        else:
            view += g * (arg == k)
    return dxp


def _max_and_argmax(windows: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The elementwise maximum of ``windows`` (one view per kernel offset) and, for each output, the offset it
    came from: the first, in row-major order, among equal maxima; a NaN wins, as in PyTorch.

    A scan over the kernel offsets, each step over every window at once: the best value so far, and the offset
    it came from (one small integer per output). Arithmetic only: masked NumPy writes (np.where,
    copyto(where=)) cost ten times more here, since the masks are random.
    """
    best = windows[0] if len(windows) > 1 else windows[0].copy(order="K")
    # In the memory order of best, like everything the passes below and the backward's touch: a pass that mixes
    # memory orders cannot stream through any of its arrays, and ran up to 15× slower here.
    arg = np.zeros_like(best, dtype=np.uint8 if len(windows) < 256 else np.int32)
    for k, v in enumerate(windows[1:], start=1):
        # Strictly greater, so an equal later value does not take over (PyTorch's first argmax); written as
        # not(v <= best) so that a NaN takes over (np.maximum makes it the window's max, as in PyTorch).
        better = np.less_equal(v, best)
        np.logical_not(better, out=better)
        np.maximum(arg, better * arg.dtype.type(k), out=arg)  # k grows, so the last "better" wins
        # The first np.maximum allocates the output (in the input's memory order); later ones update it in place.
        best = np.maximum(best, v, out=None if k == 1 else best)
    if best.dtype.kind == "f":
        _point_at_nans(windows, best, arg)
    return best, arg


def _point_at_nans(windows: list[np.ndarray], best: np.ndarray, arg: np.ndarray) -> None:
    """A window holding a NaN has the maximum NaN; its gradient goes to that NaN (the last one in row-major order,
    as PyTorch's scan ``if val > max or isnan(val)`` picks), not to a number after it that compared "better" with
    the NaN. One check over the output; the rest runs only where a NaN is."""
    nan = np.isnan(best)
    if nan.any():
        for k, v in enumerate(windows):
            arg[nan & np.isnan(v)] = k


def _never_padding(best: np.ndarray, arg: np.ndarray, fill: float, win: Windows) -> None:
    """Point the argmax of windows whose maximum is the padding value itself (every input pixel −∞, or the
    integer minimum) at the window's first pixel inside the image instead of at the padding, as PyTorch does."""
    stuck = best == fill
    if not stuck.any():
        return
    fi, fj = _first_inside(win)
    first = (fi[:, None] * win.kernel[1] + fj).astype(arg.dtype)  # (OH, OW): that pixel's offset number
    arg[stuck] = np.broadcast_to(first, arg.shape)[stuck]


def _no_backward(xp: object, g: np.ndarray, *args: object) -> tuple[None]:
    """The backward of an op made where no gradient can flow (Tensor.from_op drops it there)."""
    raise RuntimeError("internal error: backward of a node made without grad")


# -- max_unpool2d ---------------------------------------------------------------------------------------


@rule_text("g read back at the indices")
def max_unpool2d(input: Tensor, indices: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None,
                 padding: int | Pair = 0, output_size: tuple[int, ...] | None = None) -> Tensor:
    """The partial inverse of ``max_pool2d``, as ``torch.nn.functional.max_unpool2d``: zeros, with each input
    value put back where ``indices`` (from ``max_pool2d(..., return_indices=True)``) says its maximum was:

        y[n, c].flat[indices[n, c, p, q]] = x[n, c, p, q]                 (every other output 0)

    Output (N, C, OH, OW) with OH = (H − 1)·sh − 2·ph + kH unless ``output_size`` ((OH, OW), or a shape ending
    in them) says otherwise (within a stride of that, as in PyTorch). Backward: the gradient is g read back
    at the indices, ∂x[n, c, p, q] = g[n, c].flat[indices[n, c, p, q]] (a gather; its own rule is a scatter).

    An index that repeats (max-pooling with overlapping windows can pick one pixel twice) keeps one of the values
    aimed at it (here the last; PyTorch leaves which undefined), and every input aimed at it reads its g back,
    as PyTorch defines it; from ``max_pool2d`` they are copies of one pixel anyway. (Strictly, only the value
    kept has a derivative; audit says so for such a node.)
    """
    x = as_tensor(input)
    xd = batched(x, "max_unpool2d")
    idx = indices.data if isinstance(indices, Tensor) else np.asarray(indices)
    if idx.dtype != np.int64:
        raise TypeError(f"max_unpool2d: indices must be int64 (as max_pool2d returns them), got {idx.dtype}")
    if idx.shape != x.shape:
        raise ValueError(f"max_unpool2d: indices {idx.shape} must have the input's shape {x.shape}")
    kernel = pair(kernel_size, "kernel_size", "max_unpool2d", 1)
    st = kernel if stride is None else pair(stride, "stride", "max_unpool2d", 1)
    pad = pair(padding, "padding", "max_unpool2d", 0)
    n, c, h, w = xd.shape
    default = ((h - 1) * st[0] - 2 * pad[0] + kernel[0], (w - 1) * st[1] - 2 * pad[1] + kernel[1])
    if output_size is None:
        oh, ow = default
    else:
        oh, ow = (int(s) for s in tuple(output_size)[-2:])
        for a, size in enumerate((oh, ow)):
            if not default[a] - st[a] < size < default[a] + st[a]:
                raise ValueError(f"max_unpool2d: output_size {tuple(output_size)} is not within a stride of the "
                                 f"default {default}: dim {a} must be between {default[a] - st[a] + 1} and "
                                 f"{default[a] + st[a] - 1}")
    idx4 = idx if idx.ndim == 4 else idx[None]
    if idx4.size and (idx4.min() < 0 or idx4.max() >= oh * ow):
        bad = idx4.min() if idx4.min() < 0 else idx4.max()
        raise ValueError(f"max_unpool2d: index {bad} is outside the {oh}×{ow} output (0 ≤ index < {oh * ow})")
    index = (np.arange(n)[:, None, None, None], np.arange(c)[:, None, None], idx4)
    flat = np.zeros((n, c, oh * ow), dtype=xd.dtype)
    flat[index] = xd  # equal indices: the last write stays, as in PyTorch
    out = flat.reshape(n, c, oh, ow)

    def backward(xp, g, out, x):
        g4 = g if g.ndim == 4 else g[None]
        gx = g4.reshape(n, c, oh * ow)[index]
        return (gx if x.ndim == 4 else gx[0],)

    backward.details = f"{kernel[0]}×{kernel[1]} → {oh}×{ow}"
    return Tensor.from_op(out if x.ndim == 4 else out[0], (x,), backward, "max_unpool2d",
                          Replay(max_unpool2d, (x, indices, kernel_size, stride, padding, output_size)), reads="none")


# -- avg_pool2d -----------------------------------------------------------------------------------------


@rule_text("g/n spread over each window")
def avg_pool2d(input: Tensor, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
               ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> Tensor:
    """The mean of each window, as ``torch.nn.functional.avg_pool2d``:

        y[n, c, p, q] = (1/n_pq) · Σ_(i, j) x_pad[n, c, p·s + i, q·s + j]          (x_pad padded with zeros)

    n_pq is the window's size, kH·kW, except: with ``count_include_pad=False`` only the input pixels count (not
    the zero padding); a ``ceil_mode`` window hanging past the padding counts only the part inside it; and
    ``divisor_override`` replaces n_pq everywhere. Output size as ``max_pool2d`` (no dilation).

    Backward: ∂y[p, q]/∂x = 1/n_pq for each pixel of window (p, q), so g/n_pq is spread over the window and a
    pixel in several windows collects each share: the fold (col2im) of the spread gradient.
    """
    x = as_tensor(input)
    xd = batched(x, "avg_pool2d")
    win = pool_windows("avg_pool2d", x.shape, kernel_size, stride, padding, 1, ceil_mode)
    if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer))
                                         or isinstance(divisor_override, bool)):
        raise TypeError(f"avg_pool2d: divisor_override must be an int or None, got {divisor_override!r}")
    if divisor_override == 0:
        raise ValueError("avg_pool2d: divisor_override must not be zero")
    divisor = _divisors(win, bool(count_include_pad), divisor_override, xd.dtype)
    x_pad = padded(xd, win.pads, 0)
    total = None
    for i, j in win.offsets():
        v = x_pad[(slice(None), slice(None), *win.slices(i, j))]
        total = v.copy(order="K") if total is None else np.add(total, v, out=total)
    out = np.divide(total, divisor, out=total)
    n, c = xd.shape[:2]

    def backward(xp, g, out, x):
        g4 = g if g.ndim == 4 else g[None]
        share = g4 / divisor  # g/n_pq, each window's share per pixel
        if xp.graph:  # the spread as a fold (an op whose rule is unfold): twice differentiable
            length = win.out_hw[0] * win.out_hw[1]
            spread = xp.broadcast_to(share.reshape(n, c, 1, length), (n, c, win.size, length))
            gx = _fold(spread.reshape(n, c * win.size, length), win)
        else:  # the same fold on arrays, from a broadcast view: no (C·kH·kW, …) array is ever made
            gx = col2im(np.broadcast_to(share.transpose(1, 2, 3, 0)[:, None, None],
                                        (c, *win.kernel, *win.out_hw, n)), win)
        return (gx if x.ndim == 4 else gx[0],)

    backward.details = win.details() + (", ceil" if ceil_mode else "")
    replay = Replay(avg_pool2d, (x, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override))
    return Tensor.from_op(out if x.ndim == 4 else out[0], (x,), backward, "avg_pool2d", replay, reads="none")


def _divisors(win: Windows, count_include_pad: bool, divisor_override: int | None, dtype: np.dtype) -> np.ndarray:
    """n_pq for each output position (OH, OW), as PyTorch counts it (see ``avg_pool2d``)."""
    if divisor_override is not None:
        return np.asarray(divisor_override, dtype=dtype)
    counts = []
    for a in (0, 1):
        pad, size, k = win.pads[a][0], win.in_hw[a], win.kernel[a]
        start = np.arange(win.out_hw[a]) * win.stride[a] - pad
        end = np.minimum(start + k, size + pad)  # a ceil_mode window stops at the padding's end
        counts.append(end - start if count_include_pad else np.minimum(end, size) - np.maximum(start, 0))
    return (counts[0][:, None] * counts[1]).astype(dtype)


# -- adaptive_avg_pool2d --------------------------------------------------------------------------------


@rule_text("Aₕᵀ·g·A_w (g/n over each window)")
def adaptive_avg_pool2d(input: Tensor, output_size: int | tuple[int | None, int | None]) -> Tensor:
    """Average pooling to a fixed output size, as ``torch.nn.functional.adaptive_avg_pool2d``: output row p
    averages input rows ⌊p·H/OH⌋ … ⌈(p + 1)·H/OH⌉ − 1 (likewise columns), so windows may differ in size and
    overlap by a row. ``output_size`` is an int or (OH, OW); None keeps that input size. ``1`` is global
    average pooling.

    As matrices: y = Aₕ · x · A_wᵀ per image, where row p of Aₕ (OH × H) holds 1/(window length) over its
    window's rows, so the backward is the transpose: ∂x = Aₕᵀ · g · A_w. When OH divides H and OW divides W the
    windows are equal blocks and it is a reshape and a mean (and g/n broadcast back over each block).
    """
    x = as_tensor(input)
    xd = batched(x, "adaptive_avg_pool2d")
    h, w = xd.shape[2:]
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if len(sizes) != 2 or not all(s is None or (isinstance(s, (int, np.integer)) and not isinstance(s, bool))
                                  for s in sizes):
        raise TypeError(f"adaptive_avg_pool2d: output_size must be an int or a pair of ints (or None), got "
                        f"{output_size!r}")
    oh, ow = (h if sizes[0] is None else int(sizes[0])), (w if sizes[1] is None else int(sizes[1]))
    if min(oh, ow) < 1:
        raise ValueError(f"adaptive_avg_pool2d: output_size must be >= 1, got {output_size!r}")
    n, c = xd.shape[:2]
    if h % oh == 0 and w % ow == 0:  # equal blocks of (h/oh) × (w/ow): a mean over two axes of a view
        bh, bw = h // oh, w // ow
        out = xd.reshape(n, c, oh, bh, ow, bw).mean(axis=(3, 5), dtype=xd.dtype)

        def backward(xp, g, out, x):
            g4 = g if g.ndim == 4 else g[None]
            share = (g4 / (bh * bw))[:, :, :, None, :, None]
            gx = xp.broadcast_to(share, (n, c, oh, bh, ow, bw)).reshape(n, c, h, w)
            return (gx if x.ndim == 4 else gx[0],)
    else:
        a_h, a_w = _averaging_matrix(oh, h, xd.dtype), _averaging_matrix(ow, w, xd.dtype)
        out = a_h @ xd @ a_w.T

        def backward(xp, g, out, x):
            return (a_h.T @ g @ a_w,)

    backward.details = f"→ {oh}×{ow}"
    return Tensor.from_op(out if x.ndim == 4 else out[0], (x,), backward, "adaptive_avg_pool2d",
                          Replay(adaptive_avg_pool2d, (x, output_size)), reads="none")


def _averaging_matrix(out: int, size: int, dtype: np.dtype) -> np.ndarray:
    """A (out × size): row p is 1/(end − start) on columns start … end − 1, start = ⌊p·size/out⌋,
    end = ⌈(p + 1)·size/out⌉ (PyTorch's adaptive windows)."""
    a = np.zeros((out, size), dtype=dtype)
    for p in range(out):
        start, end = p * size // out, -(-(p + 1) * size // out)
        a[p, start:end] = 1 / (end - start)
    return a


__all__ = ["adaptive_avg_pool2d", "avg_pool2d", "max_pool2d", "max_unpool2d", "pool_windows"]
