"""PyTorch's module-level functions — ``torch.tanh(x)``, ``torch.zeros(3, 4)``, ``torch.randn(n, generator=g)``,
``torch.stack(ts)`` ... — so that course code reads the same with ``import autograd as torch``.

Each is the Tensor method of the same name, or a factory, with PyTorch's signature and dtype rules:

    factories      zeros/ones/empty/full/eye/rand/randn: float32 unless ``dtype=`` says otherwise; ``full`` takes its
                   dtype from the fill value (bool, int64 or float32); ``arange`` is int64 when start, end and step
                   are integers, else float32; ``randint`` and ``multinomial`` give int64; ``tensor`` copies its data
                   (lists of ints int64, of floats float32; arrays keep their dtype); ``*_like`` copy shape and dtype
    elementwise    tanh, exp, log, sqrt, sigmoid, ... of an integer tensor are float32, as in PyTorch
    reductions     sum, mean, var, std, max, min, argmax, ... take ``dim``/``keepdim`` as the methods do;
                   ``max(a, b)`` of two tensors is ``maximum`` (ties share the gradient, as PyTorch's)

Random numbers come from a ``Generator`` (``torch.Generator().manual_seed(s)``) or the default one, which
``manual_seed(s)`` seeds — together with NumPy's global generator, which ``nn`` layers draw their initial weights
from, so one call makes a script reproducible. The same seed gives the same numbers here every time, but not
PyTorch's numbers: the algorithms differ.

Inputs may be Tensors or anything ``Tensor(...)`` accepts (arrays, numbers, lists), where PyTorch wants Tensors.
"""
from __future__ import annotations

import builtins
from collections.abc import Sequence

import numpy as np

from .tensor import Tensor, as_tensor, cat, stack, where

Size = int | Sequence[int]


# -- random numbers -----------------------------------------------------------------------------------------


def _cpu_only(device: object, who: str) -> None:
    if device is not None and str(device).split(":")[0] != "cpu":
        raise ValueError(f"{who}: device={device!r}; backproplab runs on the CPU only")


class Generator:
    """A source of random numbers, as ``torch.Generator``: ``g = Generator().manual_seed(2147483647)``, then
    ``randn(3, generator=g)``. Wraps a NumPy ``Generator``; the same seed always gives the same numbers."""

    def __init__(self, device: object = "cpu") -> None:
        _cpu_only(device, "Generator")
        self._seed = int(np.random.SeedSequence().entropy % 2**63)
        self.rng = np.random.default_rng(self._seed)

    def manual_seed(self, seed: int) -> Generator:
        """Seed it (any integer ≥ 0); returns the generator itself, so ``Generator().manual_seed(s)`` chains."""
        self._seed = int(seed)
        self.rng = np.random.default_rng(self._seed)
        return self

    def initial_seed(self) -> int:
        """The seed it was last seeded with."""
        return self._seed

    def seed(self) -> int:
        """Seed it from the operating system's entropy; returns the new seed."""
        self.manual_seed(int(np.random.SeedSequence().entropy % 2**63))
        return self._seed


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (randn, rand, randint, multinomial without ``generator=``) and NumPy's global one
    (``nn`` layers' initial weights), as ``torch.manual_seed`` seeds everything; returns the default generator."""
    np.random.seed(int(seed) % 2**32)
    return default_generator.manual_seed(seed)


def initial_seed() -> int:
    """The default generator's seed."""
    return default_generator.initial_seed()


def _rng(generator: Generator | None) -> np.random.Generator:
    if generator is None:
        return default_generator.rng
    if not isinstance(generator, Generator):
        raise TypeError(f"generator must be an autograd.Generator, got {type(generator).__name__}")
    return generator.rng


def randn(*size: Size, generator: Generator | None = None, dtype: object = None, requires_grad: bool = False,
          device: object = None) -> Tensor:
    """Samples of N(0, 1) of the given size (``randn(2, 3)`` or ``randn((2, 3))``), float32 by default."""
    _cpu_only(device, "randn")
    dt = _float_dtype(dtype, "randn")
    return Tensor(_rng(generator).standard_normal(_size(size), dtype=_sampled(dt)).astype(dt, copy=False),
                  requires_grad=requires_grad)


def rand(*size: Size, generator: Generator | None = None, dtype: object = None, requires_grad: bool = False,
         device: object = None) -> Tensor:
    """Samples of U[0, 1) of the given size, float32 by default."""
    _cpu_only(device, "rand")
    dt = _float_dtype(dtype, "rand")
    return Tensor(_rng(generator).random(_size(size), dtype=_sampled(dt)).astype(dt, copy=False),
                  requires_grad=requires_grad)


def randint(*args: int | Sequence[int], size: Sequence[int] | None = None, generator: Generator | None = None,
            dtype: object = None, device: object = None) -> Tensor:
    """Integers uniform in [low, high): ``randint(high, size)`` or ``randint(low, high, size)``, int64 by default."""
    _cpu_only(device, "randint")
    values = list(args) + ([size] if size is not None else [])
    if len(values) == 2:
        low, (high, shape) = 0, values
    elif len(values) == 3:
        low, high, shape = values
    else:
        raise TypeError("randint(low=0, high, size): give high and size, or low, high and size")
    dt = np.dtype(np.int64 if dtype is None else dtype)
    return Tensor(_rng(generator).integers(low, high, _size((shape,))).astype(dt))


def multinomial(input: object, num_samples: int, replacement: bool = False,
                generator: Generator | None = None) -> Tensor:
    """Indices drawn from each row of ``input`` (non-negative weights, 1-D or 2-D) in proportion to the weights,
    as ``torch.multinomial``: int64, shape (num_samples,) or (rows, num_samples)."""
    w = np.asarray(as_tensor(input).data, dtype=np.float64)
    if w.ndim not in (1, 2) or (w < 0).any() or not np.isfinite(w).all():
        raise ValueError(f"multinomial: input must be 1-D or 2-D finite non-negative weights, got shape {w.shape}")
    rows = w.reshape(-1, w.shape[-1])
    if (rows.sum(axis=1) <= 0).any():
        raise ValueError("multinomial: every row of weights must have a positive sum")
    if not replacement and num_samples > rows.shape[1]:
        raise ValueError(f"multinomial: cannot draw {num_samples} samples from {rows.shape[1]} categories without "
                         "replacement")
    rng = _rng(generator)
    out = np.stack([rng.choice(rows.shape[1], num_samples, replace=replacement, p=r / r.sum()) for r in rows])
    return Tensor(out.reshape((*w.shape[:-1], num_samples)).astype(np.int64))


def randn_like(input: object, dtype: object = None, requires_grad: bool = False) -> Tensor:
    """``randn`` with ``input``'s shape and (floating) dtype."""
    t = as_tensor(input)
    return randn(t.shape, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad)


def rand_like(input: object, dtype: object = None, requires_grad: bool = False) -> Tensor:
    """``rand`` with ``input``'s shape and (floating) dtype."""
    t = as_tensor(input)
    return rand(t.shape, dtype=t.dtype if dtype is None else dtype, requires_grad=requires_grad)


# -- other factories --------------------------------------------------------------------------------------------


def tensor(data: object, dtype: object = None, requires_grad: bool = False, device: object = None) -> Tensor:
    """A new Tensor holding a copy of ``data``, as ``torch.tensor``: lists of ints are int64, of floats float32,
    of bools bool; NumPy arrays keep their dtype."""
    _cpu_only(device, "tensor")
    if isinstance(data, Tensor):
        data = data.data
    t = Tensor(data, dtype=dtype)
    if isinstance(data, np.ndarray) and np.shares_memory(t.data, data):
        t = Tensor(t.data.copy())
    return t.requires_grad_(requires_grad) if requires_grad else t


def from_numpy(ndarray: np.ndarray) -> Tensor:
    """A Tensor sharing ``ndarray``'s memory and dtype, as ``torch.from_numpy``."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy expects a NumPy array, got {type(ndarray).__name__}")
    return Tensor(ndarray)


def zeros(*size: Size, dtype: object = None, requires_grad: bool = False, device: object = None) -> Tensor:
    """A tensor of zeros, float32 by default: ``zeros(2, 3)`` or ``zeros((2, 3))``."""
    return _filled(size, 0, dtype, requires_grad, device, "zeros")


def ones(*size: Size, dtype: object = None, requires_grad: bool = False, device: object = None) -> Tensor:
    """A tensor of ones, float32 by default."""
    return _filled(size, 1, dtype, requires_grad, device, "ones")


def empty(*size: Size, dtype: object = None, requires_grad: bool = False, device: object = None) -> Tensor:
    """An uninitialised tensor in PyTorch; here zeros (NumPy's uninitialised memory helps no one learning)."""
    return _filled(size, 0, dtype, requires_grad, device, "empty")


def full(size: Size, fill_value: float | int | bool, dtype: object = None, requires_grad: bool = False,
         device: object = None) -> Tensor:
    """A tensor filled with ``fill_value``; its dtype, unless given, from the value: bool, int64 or float32."""
    if dtype is None:
        dtype = np.bool_ if isinstance(fill_value, (bool, np.bool_)) else (
            np.int64 if isinstance(fill_value, (int, np.integer)) else np.float32)
    return _filled((size,), fill_value, dtype, requires_grad, device, "full")


def eye(n: int, m: int | None = None, dtype: object = None, requires_grad: bool = False,
        device: object = None) -> Tensor:
    """The n×m identity (m = n by default), float32 by default."""
    _cpu_only(device, "eye")
    return Tensor(np.eye(n, n if m is None else m, dtype=np.dtype(np.float32 if dtype is None else dtype)),
                  requires_grad=requires_grad)


def zeros_like(input: object, dtype: object = None, requires_grad: bool = False) -> Tensor:
    """Zeros with ``input``'s shape and dtype (a Tensor or an array)."""
    return full_like(input, 0, dtype, requires_grad)


def ones_like(input: object, dtype: object = None, requires_grad: bool = False) -> Tensor:
    """Ones with ``input``'s shape and dtype."""
    return full_like(input, 1, dtype, requires_grad)


def empty_like(input: object, dtype: object = None, requires_grad: bool = False) -> Tensor:
    """``empty`` with ``input``'s shape and dtype (zeros here)."""
    return full_like(input, 0, dtype, requires_grad)


def full_like(input: object, fill_value: float | int | bool, dtype: object = None,
              requires_grad: bool = False) -> Tensor:
    """``fill_value`` everywhere, with ``input``'s shape and dtype."""
    t = as_tensor(input)
    return Tensor(np.full(t.shape, fill_value, dtype=t.dtype if dtype is None else np.dtype(dtype)),
                  requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, dtype: object = None,
           requires_grad: bool = False, device: object = None) -> Tensor:
    """start, start + step, ... up to (not including) end; ``arange(n)`` is 0 … n − 1. int64 when start, end and
    step are all integers, else float32 (unless ``dtype`` says otherwise)."""
    _cpu_only(device, "arange")
    if end is None:
        start, end = 0, start
    if dtype is None:
        exact = builtins.all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in (start, end, step))
        dtype = np.int64 if exact else np.float32
    dt = np.dtype(dtype)
    count = int(np.ceil((end - start) / step))
    values = start + step * np.arange(builtins.max(count, 0), dtype=np.float64 if dt.kind == "f" else np.int64)
    return Tensor(values.astype(dt), requires_grad=requires_grad)


def linspace(start: float, end: float, steps: int, dtype: object = None, requires_grad: bool = False,
             device: object = None) -> Tensor:
    """``steps`` evenly spaced numbers from start to end (both included), float32 by default."""
    _cpu_only(device, "linspace")
    dt = np.dtype(np.float32 if dtype is None else dtype)
    return Tensor(np.linspace(start, end, steps).astype(dt), requires_grad=requires_grad)


# -- elementwise ---------------------------------------------------------------------------------------------------


def tanh(input: object) -> Tensor:
    """tanh x, elementwise."""
    return as_tensor(input).tanh()


def sigmoid(input: object) -> Tensor:
    """σ(x) = 1 / (1 + e⁻ˣ), elementwise."""
    return as_tensor(input).sigmoid()


def relu(input: object) -> Tensor:
    """max(x, 0), elementwise."""
    return as_tensor(input).relu()


def exp(input: object) -> Tensor:
    """eˣ, elementwise."""
    return as_tensor(input).exp()


def log(input: object) -> Tensor:
    """ln x, elementwise."""
    return as_tensor(input).log()


def log2(input: object) -> Tensor:
    """log₂ x, elementwise."""
    return as_tensor(input).log2()


def log10(input: object) -> Tensor:
    """log₁₀ x, elementwise."""
    return as_tensor(input).log10()


def sqrt(input: object) -> Tensor:
    """√x, elementwise."""
    return as_tensor(input).sqrt()


def square(input: object) -> Tensor:
    """x², elementwise."""
    return as_tensor(input) ** 2


def abs(input: object) -> Tensor:
    """|x|, elementwise."""
    return as_tensor(input).abs()


def neg(input: object) -> Tensor:
    """−x."""
    return -as_tensor(input)


negative = neg


def pow(input: object, exponent: object) -> Tensor:
    """input ** exponent (either may be a number)."""
    if not isinstance(input, Tensor):
        return as_tensor(exponent).__rpow__(input)
    return input ** exponent


def clamp(input: object, min: float | None = None, max: float | None = None) -> Tensor:
    """Each element clamped into [min, max] (either may be None)."""
    return as_tensor(input).clamp(min, max)


clip = clamp


def maximum(input: object, other: object) -> Tensor:
    """The larger of two tensors, elementwise. Where they are equal the gradient is split evenly between them, as
    PyTorch's ``maximum`` does (so the total is the same as with one of them)."""
    a, b = as_tensor(input), as_tensor(other)
    return where(a > b, a, where(a < b, b, (a + b) * 0.5))


def minimum(input: object, other: object) -> Tensor:
    """The smaller of two tensors, elementwise; ties share the gradient evenly (see ``maximum``)."""
    a, b = as_tensor(input), as_tensor(other)
    return where(a < b, a, where(a > b, b, (a + b) * 0.5))


# -- reductions and comparisons -------------------------------------------------------------------------------------


def sum(input: object, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
        dtype: object = None) -> Tensor:
    """Σ over ``dim`` (every dim if None); bools and integers sum to int64, as in PyTorch."""
    t = as_tensor(input)
    if dtype is not None:
        t = t.to(dtype)
    elif t.dtype.kind in "bui":
        t = t.to(np.int64)
    return t.sum(dim, keepdim)


def mean(input: object, dim: int | Sequence[int] | None = None, keepdim: bool = False, *,
         dtype: object = None) -> Tensor:
    """The mean over ``dim`` (floating-point tensors, or ``dtype=``, as in PyTorch)."""
    return as_tensor(input).mean(dim, keepdim, dtype=dtype)


def var(input: object, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: int | None = None) -> Tensor:
    """The variance over ``dim``: Bessel's n − 1 unless ``unbiased=False`` / ``correction=0``."""
    return as_tensor(input).var(dim, unbiased, keepdim, correction=correction)


def std(input: object, dim: int | Sequence[int] | None = None, unbiased: bool | None = None, keepdim: bool = False,
        *, correction: int | None = None) -> Tensor:
    """√var over ``dim``."""
    return as_tensor(input).std(dim, unbiased, keepdim, correction=correction)


def max(input: object, dim: int | Tensor | None = None, keepdim: bool = False):
    """``max(x)`` the largest element; ``max(x, dim)`` the pair (values, indices); ``max(a, b)`` of two tensors is
    ``maximum(a, b)``, as in PyTorch."""
    if isinstance(dim, (Tensor, np.ndarray)):
        return maximum(input, dim)
    return as_tensor(input).max(dim, keepdim)


def min(input: object, dim: int | Tensor | None = None, keepdim: bool = False):
    """``min(x)``, ``min(x, dim)`` → (values, indices), or ``minimum(a, b)`` for two tensors."""
    if isinstance(dim, (Tensor, np.ndarray)):
        return minimum(input, dim)
    return as_tensor(input).min(dim, keepdim)


def amax(input: object, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """The maximum over ``dim`` (several dims allowed); ties share the gradient."""
    return as_tensor(input).amax(dim, keepdim)


def amin(input: object, dim: int | Sequence[int] | None = None, keepdim: bool = False) -> Tensor:
    """The minimum over ``dim``; ties share the gradient."""
    return as_tensor(input).amin(dim, keepdim)


def argmax(input: object, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the first largest element (over the flattened tensor if ``dim`` is None), int64."""
    return as_tensor(input).argmax(dim, keepdim)


def argmin(input: object, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """Index of the first smallest element, int64."""
    return as_tensor(input).argmin(dim, keepdim)


def all(input: object, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """True where every element (along ``dim``) is nonzero: a bool tensor (``all(a == b).item()``)."""
    return as_tensor(input).all(dim, keepdim)


def any(input: object, dim: int | None = None, keepdim: bool = False) -> Tensor:
    """True where some element (along ``dim``) is nonzero: a bool tensor."""
    return as_tensor(input).any(dim, keepdim)


def isclose(input: object, other: object, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> Tensor:
    """|input − other| <= atol + rtol·|other|, elementwise: a bool tensor."""
    return Tensor(np.isclose(_numbers(input), _numbers(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def allclose(input: object, other: object, rtol: float = 1e-5, atol: float = 1e-8, equal_nan: bool = False) -> bool:
    """True if ``isclose`` holds everywhere (a Python bool, as in PyTorch)."""
    return bool(np.allclose(_numbers(input), _numbers(other), rtol=rtol, atol=atol, equal_nan=equal_nan))


def equal(input: object, other: object) -> bool:
    """True if both have the same shape and the same elements (a Python bool)."""
    a, b = _numbers(input), _numbers(other)
    return a.shape == b.shape and bool(np.array_equal(a, b))


def numel(input: object) -> int:
    """The number of elements."""
    return as_tensor(input).numel()


def is_tensor(obj: object) -> bool:
    """True for a Tensor."""
    return isinstance(obj, Tensor)


# -- linear algebra, shapes, softmax -------------------------------------------------------------------------------


def matmul(input: object, other: object) -> Tensor:
    """input @ other, with NumPy's (and PyTorch's) rules for 1-D and batched operands."""
    return as_tensor(input) @ other


def mm(input: object, mat2: object) -> Tensor:
    """The product of two matrices (2-D only, as ``torch.mm``)."""
    a, b = as_tensor(input), as_tensor(mat2)
    if a.ndim != 2 or b.ndim != 2:
        raise ValueError(f"mm: both operands must be matrices, got shapes {a.shape} and {b.shape}; use matmul")
    return a @ b


def softmax(input: object, dim: int = -1, dtype: object = None) -> Tensor:
    """softmax along ``dim``."""
    t = as_tensor(input)
    return (t.to(dtype) if dtype is not None else t).softmax(dim)


def log_softmax(input: object, dim: int = -1, dtype: object = None) -> Tensor:
    """log softmax along ``dim``, finite for large inputs."""
    t = as_tensor(input)
    return (t.to(dtype) if dtype is not None else t).log_softmax(dim)


def reshape(input: object, shape: Sequence[int]) -> Tensor:
    """The same elements in a new shape (one -1 allowed)."""
    return as_tensor(input).reshape(tuple(shape))


def flatten(input: object, start_dim: int = 0, end_dim: int = -1) -> Tensor:
    """Dims ``start_dim`` … ``end_dim`` merged into one."""
    return as_tensor(input).flatten(start_dim, end_dim)


def squeeze(input: object, dim: int | Sequence[int] | None = None) -> Tensor:
    """Dims of size 1 dropped (all, or those named)."""
    return as_tensor(input).squeeze(dim)


def unsqueeze(input: object, dim: int) -> Tensor:
    """A new dim of size 1 at ``dim``."""
    return as_tensor(input).unsqueeze(dim)


def transpose(input: object, dim0: int, dim1: int) -> Tensor:
    """Two dims swapped."""
    return as_tensor(input).transpose(dim0, dim1)


def permute(input: object, dims: Sequence[int]) -> Tensor:
    """All dims reordered: output dim i is input dim ``dims[i]``."""
    return as_tensor(input).permute(tuple(dims))


def t(input: object) -> Tensor:
    """The transpose of a matrix (at most 2 dims)."""
    return as_tensor(input).t()


def clone(input: object) -> Tensor:
    """A copy that stays in the graph."""
    return as_tensor(input).clone()


def broadcast_to(input: object, size: Sequence[int]) -> Tensor:
    """``input`` broadcast to ``size`` (a view; the gradient sums back)."""
    return as_tensor(input).broadcast_to(tuple(size))


concat = concatenate = cat  # PyTorch's other names for cat


# -- helpers ----------------------------------------------------------------------------------------------------


def _size(size: tuple) -> tuple[int, ...]:
    """f(2, 3), f((2, 3)) and f([2, 3]) all mean the size (2, 3), as in PyTorch."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = tuple(size[0])
    if not builtins.all(isinstance(n, (int, np.integer)) and not isinstance(n, bool) and n >= 0 for n in size):
        raise TypeError(f"a size must be non-negative integers, got {size!r}")
    return tuple(int(n) for n in size)


def _filled(size: tuple, value: object, dtype: object, requires_grad: bool, device: object, who: str) -> Tensor:
    _cpu_only(device, who)
    dt = np.dtype(np.float32 if dtype is None else dtype)
    return Tensor(np.full(_size(size), value, dtype=dt), requires_grad=requires_grad)


def _float_dtype(dtype: object, who: str) -> np.dtype:
    dt = np.dtype(np.float32 if dtype is None else dtype)
    if dt.kind != "f":
        raise TypeError(f"{who}: dtype must be a floating-point type, got {dt}")
    return dt


def _sampled(dt: np.dtype) -> np.dtype:
    """The dtype NumPy's samplers can draw directly (float32 or float64; float16 is drawn as float32)."""
    return dt if dt in (np.dtype(np.float32), np.dtype(np.float64)) else np.dtype(np.float32)


def _numbers(x: object) -> np.ndarray:
    return np.asarray(x.data if isinstance(x, Tensor) else x)



__all__ = ["Generator", "abs", "all", "allclose", "amax", "amin", "any", "arange", "argmax", "argmin", "broadcast_to",
           "cat", "clamp", "clip", "clone", "concat", "concatenate", "default_generator", "empty", "empty_like",
           "equal", "exp", "eye", "flatten", "from_numpy", "full", "full_like", "initial_seed", "is_tensor",
           "isclose", "linspace", "log", "log2", "log10", "log_softmax", "manual_seed", "matmul", "max", "maximum",
           "mean", "min", "minimum", "mm", "multinomial", "neg", "negative", "numel", "ones", "ones_like",
           "permute", "pow", "rand", "rand_like", "randint", "randn", "randn_like", "relu", "reshape", "sigmoid",
           "softmax", "sqrt", "square", "squeeze", "stack", "std", "sum", "t", "tanh", "tensor", "transpose",
           "unsqueeze", "var", "where", "zeros", "zeros_like"]
