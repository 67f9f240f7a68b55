"""The classifiers ``python -m nn.train`` builds: an MLP on flat 784-pixel images, and on 1 × 28 × 28 images a
LeNet-style CNN and a small ResNet (batch normalisation, residual blocks, global average pooling).

Each is a ``Sequential`` stack (the ResNet's blocks are modules of their own inside it), so their state-dict keys
(``0.weight``, ``0.bias``, ``3.conv1.weight``, ``1.running_mean``, ...) are the ones the same ``torch.nn`` modules
would have, and ``nn.train.runs.load_checkpoint`` rebuilds any of them from a run's ``config.json``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autograd.tensor import Tensor

from .. import functional as F
from ..conv_layers import Conv2d, Flatten
from ..layers import Linear, ReLU, Sequential
from ..module import Module
from ..normalization import BatchNorm2d
from ..pool_layers import AdaptiveAvgPool2d, AvgPool2d, MaxPool2d

IN_FEATURES = 784  # 28 × 28 pixels
NUM_CLASSES = 10
IMAGE_SHAPE = (1, 28, 28)  # what a CNN sees: one channel of 28 × 28 pixels


def _linear_relu_stack(sizes: Sequence[int], rng: np.random.Generator) -> list[Module]:
    """``Linear(s₀, s₁), ReLU, …, Linear(s_{k-1}, s_k)``: ReLU between the linear layers, none after the last."""
    layers: list[Module] = []
    for i in range(len(sizes) - 1):
        if i > 0:
            layers.append(ReLU())
        layers.append(Linear(sizes[i], sizes[i + 1], rng=rng))
    return layers


def build_model(hidden: Sequence[int], rng: np.random.Generator, in_features: int = IN_FEATURES,
                num_classes: int = NUM_CLASSES) -> Sequential:
    """``Linear(784, h₁), ReLU, …, Linear(h_k, 10)``, weights drawn from ``rng``.

    With no hidden layers it is softmax regression, ``Linear(784, 10)``. State-dict keys are
    ``0.weight``, ``0.bias``, ``2.weight``, ... as in ``torch.nn.Sequential``.
    """
    return Sequential(*_linear_relu_stack([in_features, *hidden, num_classes], rng))


def build_cnn(channels: Sequence[int], hidden: Sequence[int], rng: np.random.Generator,
              num_classes: int = NUM_CLASSES, image_shape: tuple[int, int, int] = IMAGE_SHAPE) -> Sequential:
    """A LeNet-style CNN for (N, 1, 28, 28) images, weights drawn from ``rng``. Per entry c of ``channels``:

        Conv2d(c_prev, c, 3, padding=1), MaxPool2d(2), ReLU()      # size 28 → 14 → 7 → 3 …

    then ``Flatten()`` and the MLP part: Linear(c·s·s, h₁), ReLU, …, Linear(h_k, 10). Max-pooling and ReLU
    commute (both monotone: the max of the ReLUs is the ReLU of the max, gradients included), so pooling first
    computes the same function with ReLU on a quarter of the values. The default, channels (32, 64) and hidden
    (128,), has state-dict keys ``0.weight``, ``0.bias``, ``3.weight``, ``3.bias``, ``7.weight``, ... as the same
    ``torch.nn.Sequential`` would.
    """
    c_prev, height, width = image_shape
    layers: list[Module] = []
    for c in channels:
        if min(height, width) < 2:
            raise ValueError(f"build_cnn: {len(channels)} conv blocks halve a {image_shape[1]}×{image_shape[2]} image "
                             f"to nothing; use at most {len(layers) // 3} (channels {list(channels)})")
        layers += [Conv2d(c_prev, c, 3, padding=1, rng=rng), MaxPool2d(2), ReLU()]
        c_prev, height, width = c, height // 2, width // 2
    layers.append(Flatten())
    layers += _linear_relu_stack([c_prev * height * width, *hidden, num_classes], rng)
    return Sequential(*layers)


class ResidualBlock(Module):
    """He et al.'s basic block: y = relu(F(x) + shortcut(x)), with the residual branch

        F = conv 3×3 (stride s) → BatchNorm → ReLU → conv 3×3 → BatchNorm

    The shortcut is x itself when the shape stays; when the block halves the image (s = 2) or changes the number
    of channels, it is AvgPool2d(s) → conv 1×1 → BatchNorm (the "ResNet-D" shortcut: averaging every pixel
    instead of a strided 1×1 conv that would skip three pixels in four). Because the branch only *adds* to x,
    the gradient reaches earlier layers through the shortcut undiminished: ∂y/∂x = relu'·(∂F/∂x + I).

    The convolutions have no bias: the BatchNorm after each would subtract it again.
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int, rng: np.random.Generator) -> None:
        self.conv1 = Conv2d(in_channels, out_channels, 3, stride, 1, bias=False, rng=rng)
        self.bn1 = BatchNorm2d(out_channels)
        self.conv2 = Conv2d(out_channels, out_channels, 3, 1, 1, bias=False, rng=rng)
        self.bn2 = BatchNorm2d(out_channels)
        if stride == 1 and in_channels == out_channels:
            self.shortcut = Sequential()  # the identity, as an empty torch.nn.Sequential
        else:
            pool = [AvgPool2d(stride)] if stride > 1 else []
            self.shortcut = Sequential(*pool, Conv2d(in_channels, out_channels, 1, bias=False, rng=rng),
                                       BatchNorm2d(out_channels))

    def forward(self, x: Tensor) -> Tensor:
        h = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(h)) + self.shortcut(x))


def build_resnet(channels: Sequence[int], rng: np.random.Generator, num_classes: int = NUM_CLASSES,
                 image_shape: tuple[int, int, int] = IMAGE_SHAPE) -> Sequential:
    """A small ResNet for (N, 1, 28, 28) images, weights drawn from ``rng``: a stem, one residual block per entry
    c of ``channels`` (each after the first halves the image), global average pooling and one linear layer:

        Conv2d(1, c₁, 3, padding=1), BatchNorm2d, ReLU                 # 28 × 28
        ResidualBlock(c₁ → c₁), ResidualBlock(c₁ → c₂, stride 2), …    # 28 → 14 → 7
        AdaptiveAvgPool2d(1), Flatten(), Linear(c_k, 10)                # one average per channel

    The default, channels (16, 32, 64), has 78,000 parameters (the default CNN: 421,000): the global average
    pool replaces the CNN's large first linear layer, and the depth comes from the residual blocks.
    """
    c_in, height, width = image_shape
    if len(channels) < 1 or min(height, width) >> (len(channels) - 1) < 1:
        raise ValueError(f"build_resnet: {len(channels)} blocks halve a {height}×{width} image {len(channels) - 1} "
                         f"times; use fewer (channels {list(channels)})")
    layers: list[Module] = [Conv2d(c_in, channels[0], 3, padding=1, bias=False, rng=rng), BatchNorm2d(channels[0]),
                            ReLU()]
    c_prev = channels[0]
    for i, c in enumerate(channels):
        layers.append(ResidualBlock(c_prev, c, 1 if i == 0 else 2, rng))
        c_prev = c
    layers += [AdaptiveAvgPool2d(1), Flatten(), Linear(c_prev, num_classes, rng=rng)]
    return Sequential(*layers)
