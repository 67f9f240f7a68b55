"""Spatial dropout: ``dropout2d`` (``F.dropout2d``), which drops whole channels of a feature map at once.

Neighbouring pixels of a feature map are strongly correlated, so dropping single pixels (``dropout``) hardly
regularizes a convolutional layer: the pixel next door carries the same signal. ``dropout2d`` zeroes entire
channels instead, each with probability p, for each example separately.
"""
from __future__ import annotations

import warnings

import numpy as np

from autograd.graph import Replay
from autograd.tensor import Tensor, as_tensor, rule_text


@rule_text("g⊙mask/(1−p)")
def dropout2d(input: Tensor, p: float = 0.5, training: bool = True, inplace: bool = False,
              rng: np.random.Generator | None = None) -> Tensor:
    """Channel-wise inverted dropout, as ``torch.nn.functional.dropout2d``: in training,

        y[n, c] = x[n, c] · m[n, c] / (1 − p),     m[n, c] ~ Bernoulli(1 − p), one draw per (example, channel)

    and y = x otherwise. ``input`` (N, C, H, W); a 3-D input is taken as (N, C, L), one draw per (n, c), with
    PyTorch's warning. ``inplace=True`` scales ``input`` itself (as PyTorch, refused for a leaf that requires
    grad). Draws come from ``rng`` if given, else NumPy's global generator (so ``np.random.seed`` reproduces
    them).

    Backward: y is x times a constant mask, so ∂y/∂x = m/(1 − p) and the rule is g times the same mask (linear
    in g: differentiable again, with no further terms).
    """
    if isinstance(p, bool) or not isinstance(p, (int, float, np.number)) or not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout2d: probability p must be in [0, 1], got {p!r}")
    x = as_tensor(input)
    if x.ndim not in (3, 4):
        raise ValueError(f"dropout2d: expected a 4-D (N, C, H, W) input (or 3-D (N, C, L)), got shape {x.shape}; "
                         "for other shapes use dropout")
    if x.ndim == 3:
        warnings.warn("dropout2d: received a 3-D input; as PyTorch does, it is taken as (N, C, L) and whole (n, c) "
                      "rows are dropped (channel-wise 1-D dropout); use dropout1d to say so", UserWarning,
                      stacklevel=2)
    if not training or p == 0.0:
        return x
    if x.data.dtype.kind != "f":
        raise TypeError(f"dropout2d: input must be floating point, got {x.dtype}")
    shape = x.shape[:2] + (1,) * (x.ndim - 2)  # one draw per (example, channel), broadcast over the pixels
    if p == 1.0:
        mask = np.zeros(shape, dtype=x.data.dtype)
    else:
        draws = rng.random(shape) if rng is not None else np.random.random_sample(shape)
        mask = (draws >= p).astype(x.data.dtype)
        mask *= x.data.dtype.type(1.0 / (1.0 - p))
    if inplace:
        return x.mul_(Tensor(mask))

    def backward(xp, g, out, x):
        return (g * mask,)

    backward.details = f"p={p}"
    return Tensor.from_op(x.data * mask, (x,), backward, "dropout2d", Replay(dropout2d, (x, p, training, False, rng)),
                          reads="none")


__all__ = ["dropout2d"]
