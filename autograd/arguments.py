"""What a Tensor op does with its arguments before any maths: dims and shapes checked and normalised, dtypes
promoted as ``torch.result_type`` does, indices classified, broadcasting undone.

Every op in ``autograd.tensor`` reads its arguments through these, so each rule (a dim out of range is an
IndexError naming the range; an int64 tensor with a float32 one is float32; keepdim keeps a dim of size 1) is
stated and tested in one place.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Tensor = Any  # autograd.tensor.Tensor: only its .data and .shape are read here

def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` back down to ``shape``: the one place broadcasting is undone.

    NumPy broadcasting (1) prepends axes of size 1 and (2) stretches axes of size 1. An input that was
    stretched was *used* once per copy, so its gradient is the sum over the copies.
    """
    if grad.shape == shape:
        return grad
    axes = summed_axes(grad.shape, shape)
    return grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)


def summed_axes(big: tuple[int, ...], small: tuple[int, ...]) -> tuple[int, ...] | None:
    """The axes of ``big`` that ``unbroadcast`` sums to give ``small``: the axes broadcasting prepended, then
    those where ``small`` has size 1 and ``big`` does not. () when the shapes are equal; None when ``small``
    does not broadcast to ``big`` at all. (Also read by ``explain`` and ``compare``'s shape hints.)"""
    lead = len(big) - len(small)
    if lead < 0:
        return None
    axes = list(range(lead))
    for i, (b, s) in enumerate(zip(big[lead:], small)):
        if b != s:
            if s != 1:
                return None
            axes.append(lead + i)
    return tuple(axes)


NUMERIC_KINDS = frozenset("biuf")  # NumPy dtype kinds: bool, signed int, unsigned int, float


def broadcast_op(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], a: Tensor, b: Tensor, op: str) -> np.ndarray:
    """Apply a NumPy binary op, turning a broadcasting failure into an error naming both shapes."""
    try:
        return fn(a.data, b.data)
    except ValueError:
        raise ValueError(f"'{op}': shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept both f(2, 3) and f((2, 3)), as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def dim_index(d: object, n: int, op: str) -> int:
    """One dim index checked against n dims and made non-negative; IndexError as PyTorch's when out of range."""
    if not isinstance(d, (int, np.integer)) or isinstance(d, (bool, np.bool_)):
        raise TypeError(f"{op}: a dim must be an int, got {type(d).__name__} {d!r}")
    if not -n <= d < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return int(d) % n


def reduced_dims(shape: tuple[int, ...], dim: object, keepdim: bool, axis: object, keepdims: object,
          op: str) -> tuple[tuple[int, ...] | None, bool]:
    """A reduction's (dims to reduce, keepdim), from PyTorch's dim/keepdim or NumPy's axis/keepdims.

    None stands for every dim (NumPy's fastest path). dim=() also means every dim, as in PyTorch. A 0-d
    tensor accepts dim 0 or -1 and reduces nothing.
    """
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{op}(): got both dim={dim!r} and axis={axis!r}; axis is another name for dim")
        dim = axis
    keep = bool(keepdim if keepdims is None else keepdims)
    if dim is None:
        return None, keep
    dims = tuple(dim) if isinstance(dim, (tuple, list)) else (dim,)
    if not dims:
        return None, keep
    ndim = len(shape)
    axes = tuple(dim_index(d, max(ndim, 1), op) for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}(): dim {dim} names the same dim more than once for shape {shape}")
    return (axes if ndim else ()), keep


def kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a reduction over ``axes`` with keepdim (1 in each reduced dim): g reshaped to it
    broadcasts against the input."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def var_correction(unbiased: bool | None, correction: int | None, op: str) -> int:
    """var/std's divisor offset: PyTorch's ``correction`` (default 1, Bessel's n − 1) or its older ``unbiased``."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{op}(): give unbiased= or correction=, not both")
    if correction is not None:
        return int(correction)
    return 0 if unbiased is False else 1


def softmax_dim(ndim: int, dim: int, axis: int | None, op: str) -> int | None:
    d = dim if axis is None else axis
    d = dim_index(d, max(ndim, 1), op)
    return d if ndim else None  # a 0-d tensor: NumPy wants axis=None


def floating(x: np.ndarray) -> np.ndarray:
    """Floating-point data as is; integer or bool data as float32, as PyTorch's float ops give."""
    return x if x.dtype.kind == "f" else x.astype(np.float32)


CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # PyTorch's promotion categories: bool < integer < float


def promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types: the higher category wins outright (int64 with float32 is float32, where NumPy
    says float64); within a category, the wider type."""
    ca, cb = CATEGORY[a.kind], CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def result_dtype(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """torch.result_type for two arrays (Python scalars reach here already as 0-d arrays, see ``_operand``).

    Tensors with dims outrank 0-d tensors: a 0-d operand decides the dtype only if its category is higher
    (float32 [2] with float64 0-d stays float32; int64 [2] with float64 0-d is float64). Operands of equal
    rank promote with ``promote_types``.
    """
    if (a.ndim == 0) == (b.ndim == 0):
        return promote_types(a.dtype, b.dtype)
    dimmed, zero = (a, b) if b.ndim == 0 else (b, a)
    if CATEGORY[zero.dtype.kind] > CATEGORY[dimmed.dtype.kind]:
        return zero.dtype
    return dimmed.dtype


def is_basic_index(index: object) -> bool:
    """True if NumPy's basic indexing applies (ints, slices, None, ...): then no element repeats."""
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if p is None or p is Ellipsis or isinstance(p, slice):
            continue
        if isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)):
            continue
        return False
    return True
