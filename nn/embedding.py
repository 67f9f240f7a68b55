"""Indices to vectors: ``Embedding`` (a learned table, ``F.embedding``) and ``F.one_hot`` (a fixed one), with
PyTorch's names and arguments.

An embedding is a row lookup, out[..., :] = weight[idx[...], :]. Its gradient is g scattered back into the rows it
came from: a row looked up k times receives the sum of its k gradients (``Tensor.__getitem__``'s backward adds
repeated indices with ``np.add.at``; a plain ``dW[idx] += g`` would keep only the last of them). The row at
``padding_idx``, if given, takes no gradient.
"""
from __future__ import annotations

import numpy as np

from autograd.tensor import Tensor, as_tensor, where

from .module import Module


def _indices(input: object, who: str, size: int | None = None) -> np.ndarray:
    """The integer index array of ``input`` (a Tensor, array or list), checked against ``size`` rows."""
    idx = np.asarray(input.data if isinstance(input, Tensor) else input)
    if idx.dtype.kind not in "iu":
        raise TypeError(f"{who}: indices must be integers (a LongTensor), got dtype {idx.dtype}; use x.long()")
    if size is not None and idx.size and (idx.min() < -size or idx.max() >= size):
        bad = idx.max() if idx.max() >= size else idx.min()
        raise IndexError(f"{who}: index {int(bad)} is out of range for a table of {size} rows")
    return idx


def embedding(input: object, weight: Tensor, padding_idx: int | None = None, max_norm: float | None = None,
              norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> Tensor:
    """``torch.nn.functional.embedding``: the rows of ``weight`` (num_embeddings, embedding_dim) named by the integer
    ``input``, shaped input.shape + (embedding_dim,). The gradient of a row sums over every place it was looked up;
    the row ``padding_idx`` gets none. (``max_norm``, ``scale_grad_by_freq`` and ``sparse`` are not supported.)"""
    if max_norm is not None or scale_grad_by_freq or sparse:
        raise NotImplementedError("embedding: max_norm, scale_grad_by_freq and sparse are not supported")
    weight = as_tensor(weight)
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be 2-D (num_embeddings, embedding_dim), got shape {weight.shape}")
    idx = _indices(input, "embedding", weight.shape[0])
    rows = weight[idx]
    if padding_idx is None or not weight.requires_grad:
        return rows
    pad = padding_idx % weight.shape[0]
    # The padding row's values, cut from the graph: where idx points at it, the output takes no gradient.
    return where((idx % weight.shape[0] == pad)[..., None], rows.detach(), rows)


def one_hot(tensor: object, num_classes: int = -1) -> Tensor:
    """``torch.nn.functional.one_hot``: integer class indices → int64 vectors with a 1 at each index, shaped
    input.shape + (num_classes,). ``num_classes=-1`` takes the largest index + 1. No gradient (an integer tensor)."""
    idx = _indices(tensor, "one_hot")
    if idx.size and idx.min() < 0:
        raise ValueError(f"one_hot: class values must be non-negative, got {int(idx.min())}")
    n = (int(idx.max()) + 1 if idx.size else 0) if num_classes == -1 else int(num_classes)
    if idx.size and idx.max() >= n:
        raise ValueError(f"one_hot: class value {int(idx.max())} is not below num_classes={n}")
    out = np.zeros((*idx.shape, n), dtype=np.int64)
    np.put_along_axis(out, idx[..., None], 1, axis=-1)
    return Tensor(out)


class Embedding(Module):
    """A lookup table of ``num_embeddings`` vectors of size ``embedding_dim``, as ``torch.nn.Embedding``: ``weight``
    ~ N(0, 1) (the ``padding_idx`` row zeros), float32 unless ``dtype`` says otherwise; ``emb(idx)`` is
    ``weight[idx]``. Draws come from ``rng`` if given, else NumPy's global generator."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None,
                 max_norm: float | None = None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, _weight: object = None, _freeze: bool = False, device: object = None,
                 dtype: object = None, rng: np.random.Generator | None = None) -> None:
        if num_embeddings <= 0 or embedding_dim <= 0:
            raise ValueError(f"Embedding needs positive sizes, got {num_embeddings}, {embedding_dim}")
        if max_norm is not None or scale_grad_by_freq or sparse:
            raise NotImplementedError("Embedding: max_norm, scale_grad_by_freq and sparse are not supported")
        if device not in (None, "cpu"):
            raise ValueError(f"Embedding: device={device!r}; backproplab runs on the CPU only")
        if padding_idx is not None and not -num_embeddings <= padding_idx < num_embeddings:
            raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings {num_embeddings}")
        self.num_embeddings = num_embeddings
        self.embedding_dim = embedding_dim
        self.padding_idx = None if padding_idx is None else padding_idx % num_embeddings
        dt = np.dtype(np.float32 if dtype is None else dtype)
        if _weight is not None:
            data = np.array(_weight.data if isinstance(_weight, Tensor) else _weight, dtype=dt)
            if data.shape != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {data.shape}, expected "
                                 f"{(num_embeddings, embedding_dim)}")
        else:
            normal = rng.standard_normal if rng is not None else np.random.standard_normal
            data = normal((num_embeddings, embedding_dim)).astype(dt)
            if self.padding_idx is not None:
                data[self.padding_idx] = 0
        self.weight = Tensor(data, requires_grad=not _freeze)

    def forward(self, input: object) -> Tensor:
        return embedding(input, self.weight, self.padding_idx)

    def extra_repr(self) -> str:
        pad = f", padding_idx={self.padding_idx}" if self.padding_idx is not None else ""
        return f"{self.num_embeddings}, {self.embedding_dim}{pad}"
