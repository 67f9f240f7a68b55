"""Tensor: an n-dimensional array (NumPy) that remembers how it was made, for reverse-mode autodiff.

Every op follows one pattern: compute ``out`` with NumPy, then hand ``Tensor._make`` the parents and a
``backward(g)`` function that maps the gradient of ``out`` to one gradient per parent, each already
reduced to that parent's shape (``unbroadcast``). Nothing else in the engine knows about ops.

Dtypes: Python numbers and lists become float32 (PyTorch's default); NumPy arrays keep their dtype, so
float64 is there for gradient checking. A Python scalar operand never upcasts a float32 Tensor.

Speed rules every op keeps: the forward does the least NumPy work it can; a backward closure captures
the arrays it needs (never the output Tensor: that would be a reference cycle kept alive until the
garbage collector runs); gradients of parents that do not require grad are never computed.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from .graph import grad_mode, topological_order

Backward = Callable[[np.ndarray], Sequence["np.ndarray | None"]]


def unbroadcast(grad: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Sum ``grad`` back down to ``shape``: the one place broadcasting is undone.

    NumPy broadcasting (1) prepends axes of size 1 and (2) stretches axes of size 1. An input that was
    stretched was *used* once per copy, so its gradient is the sum over the copies.
    """
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    stretched = tuple(lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    axes = tuple(range(lead)) + stretched
    return grad.sum(axis=axes, keepdims=True).reshape(shape) if axes else grad.reshape(shape)


def _as_array(data: object, dtype: object = None) -> np.ndarray:
    """ndarray for a Tensor's data: arrays keep their dtype; Python floats and lists become float32."""
    if isinstance(data, Tensor):
        data = data.data
    if dtype is not None:
        return np.asarray(data, dtype=dtype)
    if isinstance(data, np.ndarray):
        return data
    arr = np.asarray(data)
    return arr.astype(np.float32) if arr.dtype == np.float64 and not isinstance(data, np.floating) else arr


class Tensor:
    """A NumPy array with a gradient.

    ``.data`` is the ndarray, ``.grad`` its gradient after ``backward()`` (None before; leaves only,
    accumulating until zeroed, as in PyTorch).
    """

    __slots__ = ("_backward", "_op", "_parents", "data", "grad", "label", "requires_grad")
    __array_priority__ = 1000  # so ndarray ⊕ Tensor defers to Tensor's reflected op

    def __init__(self, data: object, requires_grad: bool = False, dtype: object = None, label: str = "") -> None:
        arr = _as_array(data, dtype)
        if requires_grad and arr.dtype.kind != "f":
            raise ValueError(f"only floating-point tensors can require grad, got dtype {arr.dtype}")
        self.data: np.ndarray = arr
        self.grad: np.ndarray | None = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._op = ""
        self.label = label

    @staticmethod
    def _make(data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward, op: str) -> Tensor:
        """The result of an op. Records parents and ``backward`` only if some parent needs a gradient
        and grad mode is on; otherwise the result is a constant and the closure is dropped."""
        out = Tensor.__new__(Tensor)
        # Ufuncs and reductions over 0-d input return NumPy scalars; .data is always an ndarray.
        out.data = data if isinstance(data, np.ndarray) else np.asarray(data)
        out.grad = None
        out.label = ""
        out._op = op
        out.requires_grad = False
        out._parents = ()
        out._backward = None
        if grad_mode.enabled:
            for p in parents:  # a plain loop: cheaper than any(<generator>) on this hot path
                if p.requires_grad:
                    out.requires_grad = True
                    out._parents = parents
                    out._backward = backward
                    break
        return out

    def _operand(self, other: object) -> Tensor:
        """Coerce the other side of a binary op; Python/NumPy scalars take this tensor's dtype."""
        if isinstance(other, Tensor):
            return other
        if isinstance(other, (int, float, np.number)) and self.data.dtype.kind == "f":
            return Tensor(np.asarray(other, dtype=self.data.dtype))
        return Tensor(other)

    # -- factories (PyTorch's torch.zeros / ones / randn, as static methods) ------------------------

    @staticmethod
    def zeros(*shape: int | tuple[int, ...], dtype: object = np.float32, requires_grad: bool = False) -> Tensor:
        """A tensor of zeros: ``Tensor.zeros(2, 3)`` or ``Tensor.zeros((2, 3))``."""
        return Tensor(np.zeros(_shape_arg(shape), dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def ones(*shape: int | tuple[int, ...], dtype: object = np.float32, requires_grad: bool = False) -> Tensor:
        """A tensor of ones: ``Tensor.ones(2, 3)`` or ``Tensor.ones((2, 3))``."""
        return Tensor(np.ones(_shape_arg(shape), dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def randn(
        *shape: int | tuple[int, ...],
        dtype: object = np.float32,
        requires_grad: bool = False,
        rng: np.random.Generator | None = None,
    ) -> Tensor:
        """Samples of N(0, 1); pass ``rng`` (a ``np.random.Generator``) for reproducible draws."""
        rng = np.random.default_rng() if rng is None else rng
        return Tensor(rng.standard_normal(_shape_arg(shape), dtype=dtype), requires_grad=requires_grad)

    # -- properties -------------------------------------------------------------------------------

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return self.data.size

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    @property
    def op(self) -> str:
        """The op that made this tensor ('' for a leaf or a constant)."""
        return self._op

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        """The tensors this one was computed from (empty for leaves and constants)."""
        return self._parents

    def __len__(self) -> int:
        return len(self.data)

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), as in PyTorch's ``.numpy()``."""
        return self.data

    def item(self) -> float:
        """The single number in a one-element tensor, as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.data.shape}")
        return self.data.item()

    def detach(self) -> Tensor:
        """The same data, cut from the graph (no copy)."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (floating-point tensors only) and return self, as in PyTorch."""
        if requires_grad and self.data.dtype.kind != "f":
            raise ValueError(f"only floating-point tensors can require grad, got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        body = np.array2string(self.data, separator=", ", prefix="Tensor(")
        return f"Tensor({body}{grad})"

    # -- backward ---------------------------------------------------------------------------------

    def backward(self, grad: object = None) -> None:
        """Reverse-mode: fill ``.grad`` of every leaf this tensor depends on.

        ``grad`` is d(something)/d(self); it defaults to 1 for a one-element tensor. Leaf gradients
        accumulate across calls until zeroed; the graph is kept, so backward may be called again.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad (no leaf in its graph has "
                "requires_grad=True, or it was made under no_grad())"
            )
        if grad is None:
            if self.data.size != 1:
                raise RuntimeError(
                    f"backward() without a gradient needs a one-element tensor, got shape {self.data.shape}; pass grad="
                )
            seed = np.ones_like(self.data)
        else:
            seed = np.array(_as_array(grad), dtype=self.data.dtype, copy=True)
            if seed.shape != self.data.shape:
                raise ValueError(
                    f"backward(grad): grad has shape {seed.shape} but the tensor has shape {self.data.shape}"
                )

        pending: dict[int, np.ndarray] = {id(self): seed}
        handed_out: set[int] = set()  # arrays already stored in some leaf's .grad: copy before reuse
        for node in reversed(topological_order(self, _parents_of)):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            if node._backward is None:
                node._accumulate(g, handed_out)
                continue
            for parent, pg in zip(node._parents, node._backward(g)):
                if pg is None or not parent.requires_grad:
                    continue
                key = id(parent)
                prev = pending.get(key)
                pending[key] = pg if prev is None else prev + pg

    def _accumulate(self, g: np.ndarray, handed_out: set[int]) -> None:
        if g.shape != self.data.shape:
            raise RuntimeError(f"internal error: gradient of shape {g.shape} for a leaf of shape {self.data.shape}")
        if self.grad is not None:
            total = self.grad + g  # a new array: someone may hold the old .grad
            self.grad = total if total.dtype == self.data.dtype else total.astype(self.data.dtype)
            return
        # The stored grad must be this leaf's own writable array: an op may hand the same array (or a
        # read-only broadcast view) to several inputs, and optimizers may update .grad in place.
        if g.dtype != self.data.dtype or id(g) in handed_out or g.base is not None or not g.flags.writeable:
            g = np.array(g, dtype=self.data.dtype, copy=True)
        handed_out.add(id(g))
        self.grad = g

    # -- binary ops: each forward with its backward beside it --------------------------------------
    # Reflected forms (2.0 - x) coerce the number with _operand, so it takes x's dtype, then run the op.

    def __add__(self, other: object) -> Tensor:
        """a + b, broadcast. d/da = 1, d/db = 1 (each summed back to its own shape)."""
        a, b = self, self._operand(other)
        out = _broadcast_op(np.add, a, b, "+")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            return (unbroadcast(g, a.shape) if a.requires_grad else None,
                    unbroadcast(g, b.shape) if b.requires_grad else None)

        return Tensor._make(out, (a, b), backward, "+")

    __radd__ = __add__  # addition commutes

    def __sub__(self, other: object) -> Tensor:
        """a - b. d/da = 1, d/db = -1. (One subtraction, not a + (-b): saves an array per call.)"""
        a, b = self, self._operand(other)
        out = _broadcast_op(np.subtract, a, b, "-")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            return (unbroadcast(g, a.shape) if a.requires_grad else None,
                    unbroadcast(-g, b.shape) if b.requires_grad else None)

        return Tensor._make(out, (a, b), backward, "-")

    def __rsub__(self, other: object) -> Tensor:
        return self._operand(other) - self

    def __mul__(self, other: object) -> Tensor:
        """a * b, elementwise. d/da = b, d/db = a."""
        a, b = self, self._operand(other)
        ad, bd = a.data, b.data
        out = _broadcast_op(np.multiply, a, b, "*")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            return (unbroadcast(g * bd, ad.shape) if a.requires_grad else None,
                    unbroadcast(g * ad, bd.shape) if b.requires_grad else None)

        return Tensor._make(out, (a, b), backward, "*")

    __rmul__ = __mul__  # multiplication commutes

    def __truediv__(self, other: object) -> Tensor:
        """a / b. d/da = 1/b, d/db = -a/b² = -(a/b)/b, so both reuse g/b and the output."""
        a, b = self, self._operand(other)
        ad, bd = a.data, b.data
        out = _broadcast_op(np.true_divide, a, b, "/")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            q = g / bd
            return (unbroadcast(q, ad.shape) if a.requires_grad else None,
                    unbroadcast(-q * out, bd.shape) if b.requires_grad else None)

        return Tensor._make(out, (a, b), backward, "/")

    def __rtruediv__(self, other: object) -> Tensor:
        return self._operand(other) / self

    def __pow__(self, exponent: object) -> Tensor:
        """a ** p. For a number p: d/da = p·a^(p-1). For a Tensor b: also d/db = a^b · ln a.

        Where the exponent is 0 the gradient for a is 0, and where a == 0 with b >= 0 the gradient for b
        is 0 (the limit of a^b·ln a), as in PyTorch; a < 0 gives nan for b, as ln a does.
        """
        if isinstance(exponent, (int, float, np.number)) and not isinstance(exponent, (bool, np.bool_)):
            # A NumPy scalar would be strongly typed (np.float64 upcasts float32): use the Python number.
            return self._pow_scalar(exponent.item() if isinstance(exponent, np.generic) else exponent)
        a, b = self, self._operand(exponent)
        ad, bd = a.data, b.data
        out = _broadcast_op(np.power, a, b, "**")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            ga = gb = None
            # 0 ** negative and ln(0) are infinite; np.where then picks the defined value, so silence them.
            with np.errstate(divide="ignore", invalid="ignore"):
                if a.requires_grad:
                    ga = unbroadcast(np.where(bd == 0, 0, g * bd * np.power(ad, bd - 1)), ad.shape)
                if b.requires_grad:
                    gb = unbroadcast(np.where((ad == 0) & (bd >= 0), 0, g * out * np.log(ad)), bd.shape)
            return ga, gb

        return Tensor._make(out, (a, b), backward, "**")

    def _pow_scalar(self, p: float) -> Tensor:
        # p stays a Python number, so float32 stays float32 (NEP 50: Python scalars are "weak").
        ad = self.data
        out = ad * ad if p == 2 else np.power(ad, p)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            if p == 2:
                return (2 * g * ad,)
            if p == 0:
                return (np.zeros_like(ad),)
            return (g * p * np.power(ad, p - 1),)

        return Tensor._make(out, (self,), backward, f"**{p}")

    def __rpow__(self, base: object) -> Tensor:
        """number ** Tensor: d/db a^b = a^b · ln a."""
        return self._operand(base) ** self

    def __matmul__(self, other: object) -> Tensor:
        """a @ b with np.matmul's rules: 1-D operands are a row (left) or a column (right) vector, and
        leading (batch) dims broadcast. C = AB gives dA = g Bᵀ, dB = Aᵀ g, summed over broadcast batches.
        """
        a, b = self, self._operand(other)
        ad, bd = a.data, b.data
        try:
            out = np.matmul(ad, bd)
        except ValueError:
            raise ValueError(
                f"'@': shapes {a.shape} and {b.shape} do not align (need a.shape[-1] == b.shape[-2], or "
                f"b.shape[0] for 1-D b, both at least 1-D, and batch dims that broadcast)"
            ) from None

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            if ad.ndim == 2 and bd.ndim == 2:  # the common case, with no reshaping at all
                return (g @ bd.T if a.requires_grad else None, ad.T @ g if b.requires_grad else None)
            # Lift 1-D operands to matrices as matmul does, and put the dropped axes back into g.
            a2 = ad if ad.ndim > 1 else ad[None, :]
            b2 = bd if bd.ndim > 1 else bd[:, None]
            g2 = g.reshape(np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]) + (a2.shape[-2], b2.shape[-1]))
            ga = gb = None
            if a.requires_grad:
                ga = unbroadcast(g2 @ np.swapaxes(b2, -1, -2), a2.shape).reshape(ad.shape)
            if b.requires_grad:
                gb = unbroadcast(np.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(bd.shape)
            return ga, gb

        return Tensor._make(out, (a, b), backward, "@")

    def __rmatmul__(self, other: object) -> Tensor:
        return self._operand(other) @ self

    # -- comparisons: plain bool arrays, no graph (== and != are left alone: tensors hash by identity) --

    def __lt__(self, other: object) -> np.ndarray:
        return self.data < _raw(other)

    def __le__(self, other: object) -> np.ndarray:
        return self.data <= _raw(other)

    def __gt__(self, other: object) -> np.ndarray:
        return self.data > _raw(other)

    def __ge__(self, other: object) -> np.ndarray:
        return self.data >= _raw(other)

    # -- elementwise unary ops -----------------------------------------------------------------------

    def __neg__(self) -> Tensor:
        """-a. d/da = -1."""
        return Tensor._make(-self.data, (self,), _negate, "neg")

    def exp(self) -> Tensor:
        """eˣ. d/dx = eˣ, the output itself."""
        out = np.exp(self.data)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g * out,)

        return Tensor._make(out, (self,), backward, "exp")

    def log(self) -> Tensor:
        """ln x (natural log; -inf at 0 and nan below, as NumPy gives). d/dx = 1/x."""
        x = self.data
        out = np.log(x)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g / x,)

        return Tensor._make(out, (self,), backward, "log")

    def tanh(self) -> Tensor:
        """tanh x. d/dx = 1 - tanh²x, from the output."""
        t = np.tanh(self.data)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g * (1 - t * t),)

        return Tensor._make(t, (self,), backward, "tanh")

    def relu(self) -> Tensor:
        """max(x, 0). d/dx = 1 where x > 0, else 0 (0 at x = 0, as in PyTorch)."""
        out = np.maximum(self.data, 0)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g * (out > 0),)

        return Tensor._make(out, (self,), backward, "relu")

    def sigmoid(self) -> Tensor:
        """σ(x) = 1 / (1 + e⁻ˣ). d/dx = σ(1 - σ).

        Computed as 1/(1+e) for x >= 0 and e/(1+e) for x < 0 with e = e^(-|x|) ∈ (0, 1]: exp never
        overflows, and the tiny values far left keep their relative precision (1 - σ(-x) would not).
        """
        x = self.data
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1, e)
        out /= 1 + e

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g * out * (1 - out),)

        return Tensor._make(out, (self,), backward, "sigmoid")

    def abs(self) -> Tensor:
        """|x|. d/dx = sign(x) (0 at x = 0, as in PyTorch)."""
        x = self.data

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g * np.sign(x),)

        return Tensor._make(np.abs(x), (self,), backward, "abs")

    __abs__ = abs

    def sqrt(self) -> Tensor:
        """√x. d/dx = 1 / (2√x), from the output (inf at 0)."""
        out = np.sqrt(self.data)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            with np.errstate(divide="ignore"):  # √ has an infinite slope at 0: inf, as PyTorch gives
                return (0.5 * g / out,)

        return Tensor._make(out, (self,), backward, "sqrt")

    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Clamp into [min, max] (either may be None). d/dx = 1 where min <= x <= max, else 0."""
        if min is None and max is None:
            raise ValueError("clip() needs at least one of min and max")
        x = self.data
        out = np.clip(x, min, max)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            inside = (x >= min) if min is not None else np.ones(x.shape, dtype=bool)
            if max is not None:
                inside &= x <= max
            return (g * inside,)

        return Tensor._make(out, (self,), backward, "clip")

    clamp = clip  # PyTorch's other name

    # -- reductions ----------------------------------------------------------------------------------

    def sum(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """Σ over ``axis`` (all axes if None). Each input was used once, so d/dx = 1: g is copied back
        along the summed axes (a broadcast view, no copy)."""
        x = self.data
        out = x.sum(axis=_axis_arg(axis), keepdims=keepdims)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (np.broadcast_to(_keep_dims(g, x.shape, axis, keepdims), x.shape),)

        return Tensor._make(out, (self,), backward, "sum")

    def mean(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """(1/n) Σ over ``axis``, n the number of elements averaged. d/dx = 1/n."""
        x = self.data
        out = x.mean(axis=_axis_arg(axis), keepdims=keepdims)
        n = x.size // out.size if out.size else 0

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (np.broadcast_to(_keep_dims(g, x.shape, axis, keepdims) / n, x.shape),)

        return Tensor._make(out, (self,), backward, "mean")

    def max(self, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
        """The maximum over ``axis``. d/dx = 1 at the maximum and 0 elsewhere; when several elements tie
        for the maximum, the gradient is split evenly among them (as PyTorch's ``amax`` does), so the
        total gradient is the same as with a single maximum."""
        x = self.data
        m = x.max(axis=_axis_arg(axis), keepdims=True)
        out = m if keepdims else m.reshape(_reduced_shape(x.shape, axis))

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            at_max = x == m
            ties = at_max.sum(axis=_axis_arg(axis), keepdims=True, dtype=x.dtype)
            return (at_max * (g.reshape(m.shape) / ties),)

        return Tensor._make(out, (self,), backward, "max")

    # -- shape ops -------------------------------------------------------------------------------------

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same elements in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``; one -1 allowed)."""
        x = self.data
        new = _shape_arg(shape)
        try:
            out = x.reshape(new)
        except ValueError:
            raise ValueError(
                f"reshape: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {new}"
            ) from None

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g.reshape(x.shape),)

        return Tensor._make(out, (self,), backward, "reshape")

    view = reshape  # PyTorch's name for the same thing on contiguous tensors

    def transpose(self, *axes: int | tuple[int, ...]) -> Tensor:
        """Permute the axes, NumPy-style: no arguments reverses them; otherwise ``axes`` names, for each
        output axis, the input axis it comes from (PyTorch calls this ``permute``). The gradient is
        transposed back with the inverse permutation."""
        perm = _shape_arg(axes) if axes else tuple(reversed(range(self.data.ndim)))
        try:
            out = self.data.transpose(perm)
        except ValueError:
            raise ValueError(
                f"transpose: axes {perm} are not a permutation of the axes of shape {self.shape}"
            ) from None

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            inverse = np.argsort([p % g.ndim for p in perm])  # where each input axis went
            return (g.transpose(inverse),)

        return Tensor._make(out, (self,), backward, "transpose")

    permute = transpose

    @property
    def T(self) -> Tensor:
        """All axes reversed (the matrix transpose for 2-D)."""
        return self.transpose()

    def __getitem__(self, index: object) -> Tensor:
        """Indexing with ints, slices, None, ..., integer or boolean arrays (NumPy's rules).

        The gradient is g scattered back into zeros of the input's shape. An integer array may pick the
        same element several times; each pick adds its share, so that case uses np.add.at (a plain
        ``z[index] += g`` would keep only the last one). Basic indexing never repeats, so it assigns.
        """
        index = _raw_index(index)
        x = self.data
        out = x[index]
        basic = _is_basic_index(index)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            z = np.zeros_like(x, dtype=g.dtype)
            if basic:
                z[index] = g
            else:
                np.add.at(z, index, g)
            return (z,)

        return Tensor._make(out, (self,), backward, "getitem")

    # -- softmax family -----------------------------------------------------------------------------

    def softmax(self, axis: int = -1) -> Tensor:
        """softmax(x)ᵢ = e^(xᵢ - m) / Σⱼ e^(xⱼ - m), m = max x (the shift cancels and keeps exp <= 1).

        Backward (s the output): dx = s ⊙ (g - Σ g ⊙ s), the Jacobian diag(s) - s sᵀ applied to g.
        """
        x = self.data
        e = np.exp(x - x.max(axis=axis, keepdims=True))
        out = e / e.sum(axis=axis, keepdims=True)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (out * (g - (g * out).sum(axis=axis, keepdims=True)),)

        return Tensor._make(out, (self,), backward, "softmax")

    def log_softmax(self, axis: int = -1) -> Tensor:
        """log softmax(x)ᵢ = (xᵢ - m) - ln Σⱼ e^(xⱼ - m), m = max x: finite even at |x| = 1000.

        Backward: dx = g - softmax(x) · Σ g, with softmax(x) = e^output.
        """
        x = self.data
        shifted = x - x.max(axis=axis, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g - np.exp(out) * g.sum(axis=axis, keepdims=True),)

        return Tensor._make(out, (self,), backward, "log_softmax")


# -- helpers (module level, so no op closure captures more than it needs) ----------------------------


def _parents_of(t: Tensor) -> tuple[Tensor, ...]:
    return t._parents


def _negate(g: np.ndarray) -> tuple[np.ndarray]:
    return (-g,)


def _raw(x: object) -> object:
    return x.data if isinstance(x, Tensor) else x


def _broadcast_op(fn: Callable[[np.ndarray, np.ndarray], np.ndarray], a: Tensor, b: Tensor, op: str) -> np.ndarray:
    """Apply a NumPy binary op, turning a broadcasting failure into an error naming both shapes."""
    try:
        return fn(a.data, b.data)
    except ValueError:
        raise ValueError(f"'{op}': shapes {a.shape} and {b.shape} cannot be broadcast together") from None


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    """Accept both f(2, 3) and f((2, 3)), as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        return tuple(shape[0])
    return tuple(shape)


def _axis_arg(axis: object) -> int | tuple[int, ...] | None:
    return tuple(axis) if isinstance(axis, list) else axis


def _reduced_axes(ndim: int, axis: object) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    return tuple(a % ndim for a in axes)


def _reduced_shape(shape: tuple[int, ...], axis: object) -> tuple[int, ...]:
    axes = _reduced_axes(len(shape), axis)
    return tuple(n for i, n in enumerate(shape) if i not in axes)


def _keep_dims(g: np.ndarray, shape: tuple[int, ...], axis: object, keepdims: bool) -> np.ndarray:
    """Reshape a reduction's gradient to keepdims form, so it broadcasts against the input."""
    if keepdims:
        return g
    axes = _reduced_axes(len(shape), axis)
    return g.reshape(tuple(1 if i in axes else n for i, n in enumerate(shape)))


def _raw_index(index: object) -> object:
    """Tensors inside an index become their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index


def _is_basic_index(index: object) -> bool:
    """True if NumPy's basic indexing applies (ints, slices, None, ...): then no element repeats."""
    parts = index if isinstance(index, tuple) else (index,)
    for p in parts:
        if p is None or p is Ellipsis or isinstance(p, slice):
            continue
        if isinstance(p, (int, np.integer)) and not isinstance(p, (bool, np.bool_)):
            continue
        return False
    return True
