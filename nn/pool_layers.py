"""Pooling layers: MaxPool2d, MaxUnpool2d, AvgPool2d and AdaptiveAvgPool2d, with PyTorch's arguments and reprs.

Each is a thin ``Module`` around one function of ``nn.pooling`` (``F.max_pool2d``, ...), so the math lives in
one place. None has parameters. The constructor checks its arguments, so a mistake fails where the layer is
built, not at its first forward.
"""
from __future__ import annotations

import numpy as np

from autograd.tensor import Tensor

from .module import Module
from .pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d, max_unpool2d
from .windows import Pair, pair


def _check_window(op: str, kernel_size: object, stride: object, padding: object, dilation: object = 1) -> None:
    kernel = pair(kernel_size, "kernel_size", op, 1)
    if stride is not None and not (isinstance(stride, (tuple, list)) and not stride):
        pair(stride, "stride", op, 1)
    pad = pair(padding, "padding", op, 0)
    pair(dilation, "dilation", op, 1)
    if pad[0] > kernel[0] // 2 or pad[1] > kernel[1] // 2:
        raise ValueError(f"{op}: padding {padding!r} must be at most half the kernel {kernel} (as in PyTorch)")


def _flag(value: object, name: str, op: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{op}: {name} must be True or False, got {value!r}")
    return bool(value)


class MaxPool2d(Module):
    """The largest value of each (kH × kW) window; ``stride`` defaults to ``kernel_size``. With
    ``return_indices=True`` the forward returns (values, indices) for ``MaxUnpool2d``. See ``F.max_pool2d``."""

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
                 dilation: int | Pair = 1, return_indices: bool = False, ceil_mode: bool = False) -> None:
        _check_window("MaxPool2d", kernel_size, stride, padding, dilation)
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None or (isinstance(stride, (tuple, list)) and not stride) else stride
        self.padding = padding
        self.dilation = dilation
        self.return_indices = _flag(return_indices, "return_indices", "MaxPool2d")
        self.ceil_mode = _flag(ceil_mode, "ceil_mode", "MaxPool2d")

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        return max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation, self.ceil_mode,
                          self.return_indices)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxUnpool2d(Module):
    """Zeros with each value put back where ``MaxPool2d(return_indices=True)`` found it; ``forward(x, indices,
    output_size=None)``. See ``F.max_unpool2d``."""

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0) -> None:
        self.kernel_size = pair(kernel_size, "kernel_size", "MaxUnpool2d", 1)
        self.stride = self.kernel_size if stride is None else pair(stride, "stride", "MaxUnpool2d", 1)
        self.padding = pair(padding, "padding", "MaxUnpool2d", 0)

    def forward(self, x: Tensor, indices: Tensor, output_size: tuple[int, ...] | None = None) -> Tensor:
        return max_unpool2d(x, indices, self.kernel_size, self.stride, self.padding, output_size)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AvgPool2d(Module):
    """The mean of each (kH × kW) window; ``stride`` defaults to ``kernel_size``. See ``F.avg_pool2d`` for
    ``count_include_pad``, ``ceil_mode`` and ``divisor_override``."""

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
                 ceil_mode: bool = False, count_include_pad: bool = True, divisor_override: int | None = None) -> None:
        _check_window("AvgPool2d", kernel_size, stride, padding)
        if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer))
                                             or isinstance(divisor_override, bool) or divisor_override == 0):
            raise ValueError(f"AvgPool2d: divisor_override must be a nonzero int or None, got {divisor_override!r}")
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None or (isinstance(stride, (tuple, list)) and not stride) else stride
        self.padding = padding
        self.ceil_mode = _flag(ceil_mode, "ceil_mode", "AvgPool2d")
        self.count_include_pad = _flag(count_include_pad, "count_include_pad", "AvgPool2d")
        self.divisor_override = divisor_override

    def forward(self, x: Tensor) -> Tensor:
        return avg_pool2d(x, self.kernel_size, self.stride, self.padding, self.ceil_mode, self.count_include_pad,
                          self.divisor_override)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class AdaptiveAvgPool2d(Module):
    """Average pooling to a fixed (OH, OW), whatever the input's size; ``AdaptiveAvgPool2d(1)`` is global average
    pooling. See ``F.adaptive_avg_pool2d``."""

    def __init__(self, output_size: int | tuple[int | None, int | None]) -> None:
        sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
        if len(sizes) != 2 or not all(s is None or (isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                                                    and s >= 1) for s in sizes):
            raise ValueError(f"AdaptiveAvgPool2d: output_size must be an int >= 1 or a pair of them (or None), got "
                             f"{output_size!r}")
        self.output_size = output_size

    def forward(self, x: Tensor) -> Tensor:
        return adaptive_avg_pool2d(x, self.output_size)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


__all__ = ["AdaptiveAvgPool2d", "AvgPool2d", "MaxPool2d", "MaxUnpool2d"]
