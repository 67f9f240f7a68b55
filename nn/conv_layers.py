"""Convolutional layers: Conv2d, MaxPool2d and Flatten, with PyTorch's names, arguments, shapes and keys.

Each is a thin ``Module`` around ``nn.convolution`` (``F.conv2d``, ``F.max_pool2d``) or ``Tensor.flatten``, so
the math lives in one place. ``Conv2d.weight`` is (out_channels, in_channels, kH, kW) and ``Conv2d.bias``
(out_channels,), initialised as PyTorch does, so a ``state_dict`` loads into ``torch.nn.Conv2d`` unchanged and
back. A LeNet-style network for 28×28 images::

    Sequential(Conv2d(1, 32, 3, padding=1), ReLU(), MaxPool2d(2),     # (N, 32, 14, 14)
               Conv2d(32, 64, 3, padding=1), ReLU(), MaxPool2d(2),    # (N, 64, 7, 7)
               Flatten(), Linear(64 * 7 * 7, 128), ReLU(), Linear(128, 10))
"""
from __future__ import annotations

import math

import numpy as np

from autograd.tensor import Tensor, as_tensor

from . import functional as F
from .convolution import Pair, _conv_pads, _pair
from .module import Module


class Conv2d(Module):
    """y = W ⋆ x + b over every (kH × kW) window of an (N, C, H, W) batch; see ``F.conv2d`` for the formula.

    Initialised as PyTorch does (kaiming_uniform with a = √5, which works out to): W, b ~ U(−1/√fan_in,
    1/√fan_in), fan_in = in_channels·kH·kW, float32. Draws come from ``rng`` if given, else NumPy's global
    generator, so ``np.random.seed(s)`` makes a model reproducible.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Pair, stride: int | Pair = 1,
                 padding: int | Pair | str = 0, dilation: int | Pair = 1, groups: int = 1, bias: bool = True,
                 rng: np.random.Generator | None = None) -> None:
        counts = (in_channels, out_channels)
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in counts):
            raise TypeError(f"Conv2d: channel counts must be ints, got in_channels={in_channels!r}, "
                            f"out_channels={out_channels!r}")
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"Conv2d needs positive channel counts, got in_channels={in_channels}, "
                             f"out_channels={out_channels}")
        if groups != 1:
            raise ValueError(f"Conv2d: groups={groups} is not supported (only groups=1)")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = _pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = _pair(stride, "stride", "Conv2d", 1)
        self.padding = padding if isinstance(padding, str) else _pair(padding, "padding", "Conv2d", 0)
        self.dilation = _pair(dilation, "dilation", "Conv2d", 1)
        _conv_pads(self.padding, self.kernel_size, self.stride, self.dilation)  # fail here, not at the first forward
        fan_in = in_channels * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)  # kaiming_uniform(a=√5): gain √(2/(1+5)) times √3/√fan_in
        uniform = rng.uniform if rng is not None else np.random.uniform
        shape = (out_channels, in_channels, *self.kernel_size)
        self.weight = Tensor(uniform(-bound, bound, shape).astype(np.float32), requires_grad=True)
        self.bias = (Tensor(uniform(-bound, bound, (out_channels,)).astype(np.float32), requires_grad=True)
                     if bias else None)

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        F._check_input_dtype(x, self.weight, f"Conv2d({self.in_channels}→{self.out_channels})")
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        # As torch.nn.Conv2d prints itself: defaults left out.
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding!r}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        return text + ("" if self.bias is not None else ", bias=False")


class MaxPool2d(Module):
    """The largest value of each (kH × kW) window; ``stride`` defaults to ``kernel_size``. See ``F.max_pool2d``."""

    def __init__(self, kernel_size: int | Pair, stride: int | Pair | None = None, padding: int | Pair = 0,
                 dilation: int | Pair = 1) -> None:
        self.kernel_size = kernel_size
        self.stride = kernel_size if stride is None else stride
        self.padding = padding
        self.dilation = dilation
        _pair(kernel_size, "kernel_size", "MaxPool2d", 1)  # fail here, not at the first forward
        _pair(self.stride, "stride", "MaxPool2d", 1)
        _pair(padding, "padding", "MaxPool2d", 0)
        _pair(dilation, "dilation", "MaxPool2d", 1)

    def forward(self, x: Tensor) -> Tensor:
        return F.max_pool2d(x, self.kernel_size, self.stride, self.padding, self.dilation)

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, dilation={self.dilation}"


class Flatten(Module):
    """Merge dims ``start_dim`` … ``end_dim`` into one: (N, C, H, W) → (N, C·H·W) by default, as ``torch.nn.Flatten``."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


__all__ = ["Conv2d", "Flatten", "MaxPool2d"]
