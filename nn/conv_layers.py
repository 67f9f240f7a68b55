"""Convolutional layers: Conv2d, Flatten and Dropout2d, with PyTorch's names, arguments, shapes and keys.

Each is a thin ``Module`` around one function (``F.conv2d``, ``F.pad``, ``F.dropout2d``, ``Tensor.flatten``), so
the math lives in one place. ``Conv2d.weight`` is (out_channels, in_channels/groups, kH, kW) and ``Conv2d.bias``
(out_channels,), initialised as PyTorch does, so a ``state_dict`` loads into ``torch.nn.Conv2d`` unchanged and
back. The positional arguments are PyTorch's, in PyTorch's order. A LeNet-style network for 28×28 images::

    Sequential(Conv2d(1, 32, 3, padding=1), ReLU(), MaxPool2d(2),     # (N, 32, 14, 14)
               Conv2d(32, 64, 3, padding=1), ReLU(), MaxPool2d(2),    # (N, 64, 7, 7)
               Flatten(), Linear(64 * 7 * 7, 128), ReLU(), Linear(128, 10))

The pooling layers (MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, MaxUnpool2d) are in ``nn.pool_layers``.
"""
from __future__ import annotations

import math

import numpy as np

from autograd.tensor import Tensor, as_tensor

from . import functional as F
from .convolution import conv_pads
from .module import Module
from .spatial_dropout import dropout2d
from .windows import Pair, count, pair

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


class Conv2d(Module):
    """y = W ⋆ x + b over every (kH × kW) window of an (N, C, H, W) batch; see ``F.conv2d`` for the formula.

    ``groups`` splits the channels into that many independent convolutions (``groups=in_channels``: depthwise).
    ``padding_mode`` says what the padding holds: 'zeros' (the default), or 'reflect', 'replicate' or
    'circular' (``F.pad``'s modes: the image mirrored, its edge repeated, or wrapped around).

    Initialised as PyTorch does (kaiming_uniform with a = √5, which works out to): W, b ~ U(−1/√fan_in,
    1/√fan_in), fan_in = (in_channels/groups)·kH·kW, float32 unless ``dtype`` says otherwise. Draws come from
    ``rng`` if given, else NumPy's global generator, so ``np.random.seed(s)`` makes a model reproducible.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int | Pair, stride: int | Pair = 1,
                 padding: int | Pair | str = 0, dilation: int | Pair = 1, groups: int = 1, bias: bool = True,
                 padding_mode: str = "zeros", device: object = None, dtype: object = None, *,
                 rng: np.random.Generator | None = None) -> None:
        counts = (in_channels, out_channels)
        if not all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) for n in counts):
            raise TypeError(f"Conv2d: channel counts must be ints, got in_channels={in_channels!r}, "
                            f"out_channels={out_channels!r}")
        if in_channels <= 0 or out_channels <= 0:
            raise ValueError(f"Conv2d needs positive channel counts, got in_channels={in_channels}, "
                             f"out_channels={out_channels}")
        self.groups = count(groups, "groups", "Conv2d")
        if in_channels % self.groups or out_channels % self.groups:
            raise ValueError(f"Conv2d: groups={groups} must divide in_channels={in_channels} and "
                             f"out_channels={out_channels}")
        if padding_mode not in PADDING_MODES:
            raise ValueError(f"Conv2d: padding_mode must be one of {', '.join(map(repr, PADDING_MODES))}, got "
                             f"{padding_mode!r}")
        if not isinstance(bias, (bool, np.bool_)):
            raise TypeError(f"Conv2d: bias must be True or False, got {bias!r}")
        if device not in (None, "cpu"):
            raise ValueError(f"Conv2d: device={device!r}: backproplab runs on the CPU only")
        dtype = np.dtype(np.float32 if dtype is None else dtype)
        if dtype.kind != "f":
            raise TypeError(f"Conv2d: dtype must be floating point, got {dtype}")
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = pair(kernel_size, "kernel_size", "Conv2d", 1)
        self.stride = pair(stride, "stride", "Conv2d", 1)
        self.padding = padding if isinstance(padding, str) else pair(padding, "padding", "Conv2d", 0)
        self.dilation = pair(dilation, "dilation", "Conv2d", 1)
        self.padding_mode = padding_mode
        # Fail here, not at the first forward; and for a padding_mode other than zeros, F.pad's (left, right,
        # top, bottom), as torch.nn.Conv2d pads before a convolution without padding.
        (top, bottom), (left, right) = conv_pads(self.padding, self.kernel_size, self.stride, self.dilation)
        self._pad_widths = (left, right, top, bottom)
        fan_in = in_channels // self.groups * self.kernel_size[0] * self.kernel_size[1]
        bound = 1.0 / math.sqrt(fan_in)  # kaiming_uniform(a=√5): gain √(2/(1+5)) times √3/√fan_in
        uniform = rng.uniform if rng is not None else np.random.uniform
        shape = (out_channels, in_channels // self.groups, *self.kernel_size)
        self.weight = Tensor(uniform(-bound, bound, shape).astype(dtype), requires_grad=True)
        self.bias = (Tensor(uniform(-bound, bound, (out_channels,)).astype(dtype), requires_grad=True)
                     if bias else None)

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        F._check_input_dtype(x, self.weight, f"Conv2d({self.in_channels}→{self.out_channels})")
        if self.padding_mode != "zeros":
            x = F.pad(x, self._pad_widths, self.padding_mode)
            return F.conv2d(x, self.weight, self.bias, self.stride, 0, self.dilation, self.groups)
        return F.conv2d(x, self.weight, self.bias, self.stride, self.padding, self.dilation, self.groups)

    def extra_repr(self) -> str:
        # As torch.nn.Conv2d prints itself: defaults left out.
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0, 0):
            text += f", padding={self.padding}"
        if self.dilation != (1, 1):
            text += f", dilation={self.dilation}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text


class Dropout2d(Module):
    """Channel dropout: in training, zero each (example, channel) feature map with probability p and scale the
    rest by 1/(1 − p); in evaluation (after ``eval()``), pass the input through. See ``F.dropout2d``."""

    def __init__(self, p: float = 0.5, inplace: bool = False, *, rng: np.random.Generator | None = None) -> None:
        if isinstance(p, bool) or not isinstance(p, (int, float, np.number)) or not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout2d: probability p must be in [0, 1], got {p!r}")
        self.p = p
        self.inplace = inplace
        self.rng = rng

    def forward(self, x: Tensor) -> Tensor:
        return dropout2d(x, self.p, self.training, self.inplace, self.rng)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Flatten(Module):
    """Merge dims ``start_dim`` … ``end_dim`` into one: (N, C, H, W) → (N, C·H·W) by default, as
    ``torch.nn.Flatten``."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        self.start_dim = start_dim
        self.end_dim = end_dim

    def forward(self, x: Tensor) -> Tensor:
        return as_tensor(x).flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


__all__ = ["Conv2d", "Dropout2d", "Flatten"]
