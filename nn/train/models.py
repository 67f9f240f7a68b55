"""The classifiers ``python -m nn.train`` builds: an MLP on flat 784-pixel images, a LeNet-style CNN on 1 × 28 × 28.

Both are plain ``Sequential`` stacks, so their state-dict keys (``0.weight``, ``0.bias``, ...) are the ones the same
``torch.nn.Sequential`` would have, and ``nn.train.runs.load_checkpoint`` rebuilds either from a run's ``config.json``.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..conv_layers import Conv2d, Flatten, MaxPool2d
from ..layers import Linear, ReLU, Sequential
from ..module import Module

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
