"""Normalisation layers: BatchNorm1d, BatchNorm2d (one implementation) and LayerNorm, with ``F.batch_norm`` and
``F.layer_norm``, PyTorch's names, arguments, state_dict keys and numbers.

Both normalise x to zero mean and unit variance over some axes, then scale and shift per feature:

    x̂ = (x − μ) / √(σ² + eps),    y = γ ⊙ x̂ + β

    batch norm   μ, σ² over the batch (and the spatial axes): one pair per channel, axis 1 of (N, C), (N, C, L)
                 or (N, C, H, W). σ² is the biased variance (divide by n). In training the batch's own statistics
                 are used, and running estimates are kept (under no_grad) for evaluation:
                     running_mean ← (1 − momentum)·running_mean + momentum·μ
                     running_var  ← (1 − momentum)·running_var  + momentum·σ²·n/(n − 1)   (unbiased, as PyTorch)
                 momentum=None averages all batches so far (factor 1/num_batches_tracked). In eval() the running
                 estimates replace μ and σ² (unless track_running_stats=False: then there are none, and the batch's
                 own statistics are used always).
    layer norm   μ, σ² over the last dims (``normalized_shape``) of each example: no running statistics, the same
                 in training and evaluation; γ, β of shape ``normalized_shape``.

Composed from Tensor ops (mean, −, ×, sum, **), so the gradient — including the one-line batch-norm backward
dx = γ/(n·σ̂)·(n·g − Σg − x̂·Σ(g·x̂)) that a hand derivation arrives at — comes from theirs, and the layers are
twice differentiable for free.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from autograd.graph import no_grad
from autograd.tensor import Tensor, as_tensor

from .module import Module


def batch_norm(input: Tensor, running_mean: Tensor | None, running_var: Tensor | None, weight: Tensor | None = None,
               bias: Tensor | None = None, training: bool = False, momentum: float = 0.1,
               eps: float = 1e-5) -> Tensor:
    """``torch.nn.functional.batch_norm``: normalise each channel (axis 1) over the batch and spatial axes (see
    the module docstring). With ``training`` (or no running statistics) the batch's statistics are used, and the
    running ones, if given, are updated in place; otherwise the running ones are used."""
    x = as_tensor(input)
    if x.ndim < 2:
        raise ValueError(f"batch_norm: expected input of shape (N, C, ...), got {x.shape}")
    axes = (0, *range(2, x.ndim))
    channels = x.shape[1]
    for name, t in (("running_mean", running_mean), ("running_var", running_var), ("weight", weight), ("bias", bias)):
        if t is not None and tuple(t.shape) != (channels,):
            raise ValueError(f"batch_norm: {name} has shape {tuple(t.shape)}, the input has {channels} channels "
                             f"(axis 1 of {x.shape}): expected ({channels},)")
    kept = (1, channels) + (1,) * (x.ndim - 2)  # per-channel values broadcast against (N, C, ...)
    if training or running_mean is None or running_var is None:
        n = x.numel() // channels
        if training and n <= 1:
            raise ValueError(f"batch_norm: expected more than 1 value per channel when training, got input of shape "
                             f"{x.shape}")
        mean = x.mean(dim=axes, keepdim=True)
        centred = x - mean
        var = (centred * centred).mean(dim=axes, keepdim=True)  # biased: what normalises
        if training and running_mean is not None and running_var is not None:
            with no_grad():
                _blend(running_mean, mean.data.reshape(channels), momentum)
                _blend(running_var, var.data.reshape(channels) * (n / (n - 1)), momentum)
        out = centred * (var + eps) ** -0.5
    else:
        mean = as_tensor(running_mean).reshape(kept)
        var = as_tensor(running_var).reshape(kept)
        out = (x - mean) * (var + eps) ** -0.5
    if weight is not None:
        out = out * as_tensor(weight).reshape(kept)
    if bias is not None:
        out = out + as_tensor(bias).reshape(kept)
    return out


def _blend(running: Tensor, batch: np.ndarray, momentum: float) -> None:
    """running ← (1 − momentum)·running + momentum·batch, in place, in the running tensor's dtype."""
    data = running.data
    data[...] = (momentum * batch + (1 - momentum) * data).astype(data.dtype, copy=False)


def layer_norm(input: Tensor, normalized_shape: int | Sequence[int], weight: Tensor | None = None,
               bias: Tensor | None = None, eps: float = 1e-5) -> Tensor:
    """``torch.nn.functional.layer_norm``: normalise each example over its last dims (``normalized_shape``) with
    the biased variance, then γ ⊙ x̂ + β (see the module docstring)."""
    x = as_tensor(input)
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
    k = len(shape)
    if k == 0 or tuple(x.shape[-k:]) != shape:
        raise ValueError(f"layer_norm: normalized_shape {shape} must be the last dims of the input, got input of shape "
                         f"{x.shape}")
    axes = tuple(range(x.ndim - k, x.ndim))
    mean = x.mean(dim=axes, keepdim=True)
    centred = x - mean
    var = (centred * centred).mean(dim=axes, keepdim=True)
    out = centred * (var + eps) ** -0.5
    if weight is not None:
        out = out * weight
    if bias is not None:
        out = out + bias
    return out


class _BatchNorm(Module):
    """What BatchNorm1d and BatchNorm2d share; they differ only in the input shapes they accept."""

    _dims: tuple[int, ...] = ()  # the input ranks this layer accepts

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1, affine: bool = True,
                 track_running_stats: bool = True, device: object = None, dtype: object = None) -> None:
        if num_features <= 0:
            raise ValueError(f"{type(self).__name__} needs num_features > 0, got {num_features}")
        if device not in (None, "cpu"):
            raise ValueError(f"{type(self).__name__}: device={device!r}; backproplab runs on the CPU only")
        dt = np.dtype(np.float32 if dtype is None else dtype)
        self.num_features = num_features
        self.eps = eps
        self.momentum = momentum
        self.affine = affine
        self.track_running_stats = track_running_stats
        self.weight = Tensor(np.ones(num_features, dtype=dt), requires_grad=True) if affine else None
        self.bias = Tensor(np.zeros(num_features, dtype=dt), requires_grad=True) if affine else None
        if track_running_stats:
            self.register_buffer("running_mean", Tensor(np.zeros(num_features, dtype=dt)))
            self.register_buffer("running_var", Tensor(np.ones(num_features, dtype=dt)))
            self.register_buffer("num_batches_tracked", Tensor(np.zeros((), dtype=np.int64)))
        else:
            self.register_buffer("running_mean", None)
            self.register_buffer("running_var", None)
            self.register_buffer("num_batches_tracked", None)

    def reset_running_stats(self) -> None:
        """Running mean 0, running variance 1, no batches seen."""
        if self.track_running_stats:
            self.running_mean.data[...] = 0
            self.running_var.data[...] = 1
            self.num_batches_tracked.data[...] = 0

    def forward(self, x: Tensor) -> Tensor:
        x = as_tensor(x)
        if x.ndim not in self._dims:
            want = " or ".join(f"{d}-D" for d in self._dims)
            raise ValueError(f"{type(self).__name__}: expected {want} input (N, C{', L' if 3 in self._dims else ''}"
                             f"{', H, W' if 4 in self._dims else ''}), got shape {x.shape}")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{self!r} got {x.shape[1]} channels (axis 1 of input {x.shape}), expected "
                             f"{self.num_features}")
        factor = 0.0 if self.momentum is None else self.momentum
        if self.training and self.track_running_stats:
            self.num_batches_tracked.data += 1
            if self.momentum is None:  # a cumulative average of every batch so far
                factor = 1.0 / float(self.num_batches_tracked.data)
        # Batch statistics in training, and always without running ones (None when not tracked).
        return batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                          self.training or not self.track_running_stats, factor, self.eps)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine={self.affine}, "
                f"track_running_stats={self.track_running_stats}")


class BatchNorm1d(_BatchNorm):
    """Batch normalisation of (N, C) or (N, C, L) input, per channel C, as ``torch.nn.BatchNorm1d`` (see the module
    docstring). ``weight`` (γ, ones) and ``bias`` (β, zeros) are trained; ``running_mean``, ``running_var`` and
    ``num_batches_tracked`` are buffers: in ``state_dict()``, not in ``parameters()``."""

    _dims = (2, 3)


class BatchNorm2d(_BatchNorm):
    """Batch normalisation of (N, C, H, W) input, per channel C over N, H and W, as ``torch.nn.BatchNorm2d``: the
    layer after a convolution. Same arguments, parameters and buffers as ``BatchNorm1d``."""

    _dims = (4,)


class LayerNorm(Module):
    """Layer normalisation over the last dims (``normalized_shape``) of each example, as ``torch.nn.LayerNorm``:
    ``weight`` (ones) and ``bias`` (zeros) of that shape when ``elementwise_affine``; no running statistics."""

    def __init__(self, normalized_shape: int | Sequence[int], eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device: object = None, dtype: object = None) -> None:
        if device not in (None, "cpu"):
            raise ValueError(f"LayerNorm: device={device!r}; backproplab runs on the CPU only")
        shape = (int(normalized_shape),) if isinstance(normalized_shape, (int, np.integer)) else tuple(normalized_shape)
        dt = np.dtype(np.float32 if dtype is None else dtype)
        self.normalized_shape = shape
        self.eps = eps
        self.elementwise_affine = elementwise_affine
        self.weight = Tensor(np.ones(shape, dtype=dt), requires_grad=True) if elementwise_affine else None
        self.bias = Tensor(np.zeros(shape, dtype=dt), requires_grad=True) if elementwise_affine and bias else None

    def forward(self, x: Tensor) -> Tensor:
        return layer_norm(x, self.normalized_shape, self.weight, self.bias, self.eps)

    def extra_repr(self) -> str:
        return f"{self.normalized_shape}, eps={self.eps}, elementwise_affine={self.elementwise_affine}"
