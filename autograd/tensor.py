"""Tensor: an n-dimensional array (NumPy) that remembers how it was made, for reverse-mode autodiff.

Every op follows one pattern: compute ``out`` with NumPy, then hand ``Tensor._make`` the parents and a
``backward(g)`` function that maps the gradient of ``out`` to one gradient per parent, each already
reduced to that parent's shape (``unbroadcast``). Nothing else in the engine knows about ops.

Dtypes: Python numbers and lists become float32 (PyTorch's default); NumPy arrays keep their dtype, so
float64 is there for gradient checking. Binary ops promote as ``torch.result_type`` does (``_result_dtype``):
a Python scalar never upcasts a float Tensor, and a Python float with an integer Tensor gives float32; a 0-d
Tensor counts like a scalar of its category (it only decides the dtype when its category, bool < integer <
float, is higher); tensors with dimensions promote as usual (float32 with float64 gives float64). A cast is a
``to`` node, so each operand's gradient comes back in its own dtype. ``@`` and ``F.linear`` do not promote:
mixed dtypes raise a TypeError there, as PyTorch does.

Speed rules every op keeps: the forward does the least NumPy work it can; a backward closure captures
the arrays it needs (never the output Tensor: that would be a reference cycle kept alive until the
garbage collector runs); gradients of parents that do not require grad are never computed.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import NamedTuple

import numpy as np

from .graph import grad_mode, topological_order
from .value import Value

Backward = Callable[[np.ndarray], Sequence["np.ndarray | None"]]


def as_tensor(x: object) -> Tensor:
    """``x`` as a Tensor, as ``torch.as_tensor``: a Tensor as it is, anything else as ``Tensor(x)`` makes it (a
    constant sharing an ndarray's memory). Layers and ``nn.functional`` take their inputs through it."""
    return x if isinstance(x, Tensor) else Tensor(x)


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


def _as_array(data: object, dtype: object = None) -> np.ndarray:
    """ndarray for a Tensor's data: arrays keep their dtype; Python floats and lists become float32.

    Only numbers are accepted (bool, integer, floating point): strings, None, Values and object arrays are
    rejected here, with a TypeError naming what was given, rather than failing later inside an op.
    """
    if isinstance(data, Tensor):
        data = data.data
    if isinstance(data, np.ndarray):
        arr = data
    else:
        if data is None or isinstance(data, (str, bytes)):
            raise TypeError(f"Tensor() needs numbers, got {_describe(data)}")
        try:
            arr = np.asarray(data)
        except ValueError as err:  # ragged nested lists
            raise ValueError(f"Tensor() needs a rectangular nested list of numbers: {err}") from None
        if dtype is None and arr.dtype == np.float64 and not isinstance(data, np.floating):
            arr = arr.astype(np.float32)
    if arr.dtype.kind not in _NUMERIC_KINDS:
        raise TypeError(f"Tensor() needs numbers, got {_describe(data, arr)}")
    if dtype is not None:
        want = np.dtype(dtype)
        if want.kind not in _NUMERIC_KINDS:
            raise TypeError(f"Tensor(): dtype must be bool, integer or floating point, got {want}")
        arr = arr.astype(want, copy=False)
    return arr


_NUMERIC_KINDS = frozenset("biuf")  # NumPy dtype kinds: bool, signed int, unsigned int, float


def _describe(data: object, arr: np.ndarray | None = None) -> str:
    """What was given to Tensor(), for an error message: the type, and the first offending element."""
    if isinstance(data, Value):
        return f"a Value ({data!r}); the engines do not mix: use Tensor(v.data) for its number"
    if arr is None or arr.dtype.kind != "O":
        kind = "" if arr is None or arr.dtype.kind != "c" else " (complex numbers are not supported)"
        shown = repr(data) if len(repr(data)) <= 60 else repr(data)[:57] + "..."
        return f"{type(data).__name__}{kind}: {shown}" + ("" if arr is None else f" (dtype {arr.dtype})")
    bad = next((v for v in arr.flat if not isinstance(v, (bool, int, float, np.number))), None)
    hint = "; use [v.data for v in values] for Values" if isinstance(bad, Value) else ""
    return f"{type(data).__name__} holding {type(bad).__name__} {bad!r}, not a number{hint}"


class Tensor:
    """A NumPy array with a gradient.

    ``.data`` is the ndarray, ``.grad`` its gradient after ``backward()`` (None before; leaves only,
    accumulating until zeroed, as in PyTorch).

    Where a name exists in PyTorch it means what it means there: ``transpose(dim0, dim1)`` swaps two dims and
    ``permute`` reorders all; reductions take ``dim``/``keepdim``; ``max(dim)`` returns (values, indices);
    ``float()``, ``to(dtype)``, ``add``/``mul``/... and ``float(t)`` behave as in torch.
    """

    __slots__ = ("_backward", "_op", "_parents", "_role", "data", "grad", "label", "requires_grad")
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
        """The other side of a binary op as a Tensor, with PyTorch's rules for Python/NumPy scalars.

        A scalar is "weak": it takes this tensor's dtype unless its category is higher (a float with an
        integer or bool tensor becomes float32, the default dtype; an int with a bool tensor, int64).
        Lists and arrays become Tensors as ``Tensor(...)`` would make them.
        """
        if isinstance(other, Tensor):
            return other
        dt = self.data.dtype
        if isinstance(other, (float, np.floating)):
            return _constant(np.asarray(other, dtype=dt if dt.kind == "f" else np.float32))
        if isinstance(other, (int, np.integer, np.bool_)):  # bool is an int: it takes the tensor's dtype
            big = dt.kind == "b" and not isinstance(other, (bool, np.bool_))
            return _constant(np.asarray(other, dtype=np.int64 if big else dt))
        if isinstance(other, Value):
            raise TypeError(
                "cannot combine a Tensor with a Value: they belong to different engines (Tensor for arrays, "
                "Value for scalars); use Tensor(v.data) for a constant, or keep the whole computation in one engine"
            )
        return Tensor(other)

    def _operands(self, other: object) -> tuple[Tensor, Tensor]:
        """(self, other) for a binary op, both in the promoted dtype (``_result_dtype``)."""
        b = self._operand(other)
        if self.data.dtype != b.data.dtype:
            return _promote(self, b)
        return self, b

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
    def role(self) -> str:
        """What this tensor is, from facts, never from its label: 'result' (made by an op that records a graph),
        'parameter' (a leaf an ``nn`` module owns, or one given to ``mark_parameter``), 'constant' (a number an op
        lifted, as the 2 in ``x * 2``) or 'input' (any other leaf: data you made, with or without requires_grad)."""
        if self._backward is not None:
            return "result"
        return getattr(self, "_role", "input")  # the slot is set only by mark_parameter and lifted numbers

    @property
    def op(self) -> str:
        """The op that made this tensor ('' for a leaf or a constant)."""
        return self._op

    @property
    def inputs(self) -> tuple[Tensor, ...]:
        """The tensors this one was computed from (empty for leaves and constants)."""
        return self._parents

    def __len__(self) -> int:
        if self.data.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self.data)

    def __iter__(self):  # -> Iterator[Tensor]: the rows, each a Tensor in the graph (x[0], x[1], ...)
        if self.data.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return (self[i] for i in range(len(self.data)))

    def numpy(self) -> np.ndarray:
        """The underlying array (shared, not copied), as in PyTorch's ``.numpy()``."""
        return self.data

    def item(self) -> float:
        """The single number in a one-element tensor, as a Python number."""
        if self.data.size != 1:
            raise ValueError(f"item() needs a tensor with one element, got shape {self.data.shape}")
        return self.data.item()

    def __float__(self) -> float:
        """float(t) for a one-element tensor; ValueError otherwise, as in PyTorch."""
        return float(self._only_element())

    def __int__(self) -> int:
        """int(t) for a one-element tensor (truncates toward zero, like int(2.7) == 2)."""
        return int(self._only_element())

    def __bool__(self) -> bool:
        """bool(t) for a one-element tensor; more than one element is ambiguous (use .any() / .all())."""
        if self.data.size != 1:
            raise RuntimeError(
                f"Boolean value of Tensor with {'no values' if self.data.size == 0 else 'more than one value'} "
                f"is ambiguous (shape {self.data.shape}); use (x > 0).any() or .all() on the comparison"
            )
        return bool(self.data.item())

    def _only_element(self) -> bool | int | float:
        if self.data.size != 1:
            raise ValueError(
                f"only one element tensors can be converted to Python scalars, got shape {self.data.shape}"
            )
        return self.data.item()

    # -- dtype conversion (PyTorch's to / float / double / long) -----------------------------------------

    def to(self, dtype: object) -> Tensor:
        """This tensor in ``dtype`` (itself if it already has it), as PyTorch's ``x.to(dtype)``.

        Between floating dtypes the cast is an op in the graph: y = x, so d/dx = 1 and the gradient is cast
        back to x's dtype. A cast to an integer or bool dtype is a constant (no gradient), as in PyTorch.
        ``x.to("cpu")`` returns x: everything here lives on the CPU. ``x.to(other)`` takes other's dtype.
        """
        if isinstance(dtype, Tensor):
            dtype = dtype.data.dtype
        elif isinstance(dtype, str) and dtype.split(":")[0] in ("cpu", "cuda", "mps"):
            if dtype.startswith("cpu"):
                return self
            raise ValueError(f"to({dtype!r}): backproplab runs on the CPU only")
        try:
            want = np.dtype(dtype)
        except TypeError:
            raise TypeError(f"to(): {dtype!r} is not a dtype (try np.float32, np.float64 or np.int64)") from None
        src = self.data.dtype
        if want == src:
            return self
        if want.kind not in _NUMERIC_KINDS:
            raise TypeError(f"to(): dtype must be bool, integer or floating point, got {want}")
        out = self.data.astype(want)
        if want.kind != "f":
            return Tensor(out)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g.astype(src),)

        return Tensor._make(out, (self,), backward, "to")

    def float(self) -> Tensor:
        """``to(np.float32)``."""
        return self.to(np.float32)

    def double(self) -> Tensor:
        """``to(np.float64)``."""
        return self.to(np.float64)

    def long(self) -> Tensor:
        """``to(np.int64)`` (class labels, indices); no gradient."""
        return self.to(np.int64)

    def detach(self) -> Tensor:
        """The same data, cut from the graph (no copy)."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad: bool = True) -> Tensor:
        """Set ``requires_grad`` in place (floating-point tensors only) and return self, as in PyTorch."""
        if requires_grad and self.data.dtype.kind != "f":
            raise ValueError(f"only floating-point tensors can require grad, got dtype {self.data.dtype}")
        self.requires_grad = bool(requires_grad)
        return self

    def _mark_parameter(self) -> None:  # see autograd.graph.mark_parameter
        self._role = "parameter"

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
            seed = np.ones(self.data.shape, self.data.dtype)  # not ones_like: a Python function, 2 µs a step
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
        a, b = self._operands(other)
        out = _broadcast_op(np.add, a, b, "+")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            return (unbroadcast(g, a.shape) if a.requires_grad else None,
                    unbroadcast(g, b.shape) if b.requires_grad else None)

        return Tensor._make(out, (a, b), backward, "+")

    __radd__ = __add__  # addition commutes

    def __sub__(self, other: object) -> Tensor:
        """a - b. d/da = 1, d/db = -1. (One subtraction, not a + (-b): saves an array per call.)"""
        a, b = self._operands(other)
        out = _broadcast_op(np.subtract, a, b, "-")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            return (unbroadcast(g, a.shape) if a.requires_grad else None,
                    unbroadcast(-g, b.shape) if b.requires_grad else None)

        return Tensor._make(out, (a, b), backward, "-")

    def __rsub__(self, other: object) -> Tensor:
        return self._operand(other) - self

    def __mul__(self, other: object) -> Tensor:
        """a * b, elementwise. d/da = b, d/db = a."""
        a, b = self._operands(other)
        ad, bd = a.data, b.data
        out = _broadcast_op(np.multiply, a, b, "*")

        def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
            return (unbroadcast(g * bd, ad.shape) if a.requires_grad else None,
                    unbroadcast(g * ad, bd.shape) if b.requires_grad else None)

        return Tensor._make(out, (a, b), backward, "*")

    __rmul__ = __mul__  # multiplication commutes

    def __truediv__(self, other: object) -> Tensor:
        """a / b (true division: integers give float32, as in PyTorch). d/da = 1/b, d/db = -a/b² = -(a/b)/b,
        so both reuse g/b and the output."""
        a, b = self._operands(other)
        if a.data.dtype.kind != "f":
            a, b = a.to(np.float32), b.to(np.float32)
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
        a, b = self._operands(exponent)
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
        # p stays a Python number, so float32 stays float32 (NEP 50: Python scalars are "weak"). An integer
        # tensor to a float power is float32, as in PyTorch (NumPy would give float64).
        ad = self.data
        if isinstance(p, float) and ad.dtype.kind != "f":
            ad = ad.astype(np.float32)
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
        if ad.dtype != bd.dtype:  # PyTorch does not promote in matmul either
            raise TypeError(
                f"'@': both operands must have the same dtype, got {ad.dtype} {a.shape} and {bd.dtype} {b.shape}; "
                f"convert one with .float() or .double()"
            )
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
        """eˣ. d/dx = eˣ, the output itself. (Integer tensors give float32 here and in the float ops below.)"""
        out = np.exp(_floating(self.data))

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g * out,)

        return Tensor._make(out, (self,), backward, "exp")

    def log(self) -> Tensor:
        """ln x (natural log; -inf at 0 and nan below, as NumPy gives). d/dx = 1/x."""
        x = _floating(self.data)
        out = np.log(x)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g / x,)

        return Tensor._make(out, (self,), backward, "log")

    def tanh(self) -> Tensor:
        """tanh x. d/dx = 1 - tanh²x, from the output."""
        t = np.tanh(_floating(self.data))

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
        x = _floating(self.data)
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
        out = np.sqrt(_floating(self.data))

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

    # -- method forms of the operators, with PyTorch's names (x.add(y) is x + y, one node either way) ------

    def add(self, other: object, *, alpha: float = 1) -> Tensor:
        """self + alpha · other (PyTorch's ``add``; alpha = 1 is plain ``+``)."""
        return self + (other if alpha == 1 else self._operand(other) * alpha)

    def sub(self, other: object, *, alpha: float = 1) -> Tensor:
        """self - alpha · other (PyTorch's ``sub``)."""
        return self - (other if alpha == 1 else self._operand(other) * alpha)

    def mul(self, other: object) -> Tensor:
        """self * other, elementwise."""
        return self * other

    def div(self, other: object) -> Tensor:
        """self / other (true division)."""
        return self / other

    def pow(self, exponent: object) -> Tensor:
        """self ** exponent."""
        return self**exponent

    def matmul(self, other: object) -> Tensor:
        """self @ other."""
        return self @ other

    def neg(self) -> Tensor:
        """-self."""
        return -self

    subtract, multiply, divide, true_divide, negative = sub, mul, div, div, neg  # PyTorch's longer aliases

    # -- reductions ----------------------------------------------------------------------------------
    # PyTorch's signature: x.sum(dim=None, keepdim=False), dim an int or a tuple (x.sum(0), x.sum((0, 1))),
    # with NumPy's axis=/keepdims= accepted as aliases (PyTorch accepts them too). dim=None or () reduces
    # every dim; on a 0-d tensor dim may be 0 or -1 (a no-op). An out-of-range dim raises IndexError.

    def sum(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, *,
            axis: int | tuple[int, ...] | None = None, keepdims: bool | None = None) -> Tensor:
        """Σ over ``dim`` (all dims if None). Each input was used once, so d/dx = 1: g is copied back
        along the summed dims (a broadcast view, no copy)."""
        x = self.data
        axes, keep = _dims(x.shape, dim, keepdim, axis, keepdims, "sum")
        out = x.sum(axis=axes, keepdims=keep)
        kept = _kept_shape(x.shape, axes)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (np.broadcast_to(g.reshape(kept), x.shape),)

        return Tensor._make(out, (self,), backward, "sum")

    def mean(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, *,
             axis: int | tuple[int, ...] | None = None, keepdims: bool | None = None) -> Tensor:
        """(1/n) Σ over ``dim``, n the number of elements averaged. d/dx = 1/n.
        Floating-point tensors only, as in PyTorch (``x.float().mean()`` for integers)."""
        x = self.data
        if x.dtype.kind != "f":
            raise TypeError(f"mean() needs a floating-point tensor, got dtype {x.dtype}; use x.float().mean()")
        axes, keep = _dims(x.shape, dim, keepdim, axis, keepdims, "mean")
        out = x.mean(axis=axes, keepdims=keep)
        n = x.size // out.size if out.size else 0
        kept = _kept_shape(x.shape, axes)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (np.broadcast_to(g.reshape(kept) / n, x.shape),)

        return Tensor._make(out, (self,), backward, "mean")

    def amax(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, *,
             axis: int | tuple[int, ...] | None = None, keepdims: bool | None = None) -> Tensor:
        """The maximum over ``dim`` (all dims if None). d/dx = 1 at the maximum and 0 elsewhere; when several
        elements tie, the gradient is split evenly among them, as PyTorch's ``amax`` does, so the total
        gradient is the same as with a single maximum."""
        return self._extreme(np.max, dim, keepdim, axis, keepdims, "amax")

    def amin(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, *,
             axis: int | tuple[int, ...] | None = None, keepdims: bool | None = None) -> Tensor:
        """The minimum over ``dim``; ties share the gradient evenly, as in ``amax``."""
        return self._extreme(np.min, dim, keepdim, axis, keepdims, "amin")

    def _extreme(self, fn: Callable, dim: object, keepdim: bool, axis: object, keepdims: object, op: str) -> Tensor:
        x = self.data
        axes, keep = _dims(x.shape, dim, keepdim, axis, keepdims, op)
        m = fn(x, axis=axes, keepdims=True)
        out = m if keep else m.reshape(() if axes is None else tuple(n for i, n in enumerate(x.shape) if i not in axes))

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            hit = x == m
            ties = hit.sum(axis=axes, keepdims=True, dtype=x.dtype)
            return (hit * (g.reshape(m.shape) / ties),)

        return Tensor._make(out, (self,), backward, op)

    def max(self, dim: int | None = None, keepdim: bool = False, *,
            axis: int | None = None, keepdims: bool | None = None) -> Tensor | MaxMin:
        """As in PyTorch: ``x.max()`` is the largest element (a Tensor; ties share the gradient evenly, like
        ``amax``); ``x.max(dim)`` is the pair ``(values, indices)`` along one dim, and the gradient of
        ``values`` goes to the element ``indices`` names (the first maximum). For the values alone over
        one or several dims, use ``amax``."""
        return self._extreme_along(np.argmax, np.max, dim, keepdim, axis, keepdims, "max")

    def min(self, dim: int | None = None, keepdim: bool = False, *,
            axis: int | None = None, keepdims: bool | None = None) -> Tensor | MaxMin:
        """``x.min()`` the smallest element; ``x.min(dim)`` the pair ``(values, indices)``, as ``max``."""
        return self._extreme_along(np.argmin, np.min, dim, keepdim, axis, keepdims, "min")

    def _extreme_along(self, arg: Callable, fn: Callable, dim: object, keepdim: bool, axis: object,
                       keepdims: object, op: str) -> Tensor | MaxMin:
        if dim is None and axis is None:
            if keepdim or keepdims:
                raise TypeError(f"{op}(): keepdim needs a dim, as in PyTorch (use amax/amin(keepdim=True))")
            return self._extreme(fn, None, False, None, None, op)
        d = dim if axis is None else axis
        if not isinstance(d, (int, np.integer)) or isinstance(d, (bool, np.bool_)):
            raise TypeError(f"{op}(dim): dim must be one int, got {d!r}; for several dims use a{op}(dim=...)")
        axes, keep = _dims(self.data.shape, dim, keepdim, axis, keepdims, op)
        x = self.data
        if not axes:  # a 0-d tensor: the element itself, at index 0
            return MaxMin(self._extreme(fn, axes, keep, None, None, op), Tensor(np.zeros((), dtype=np.int64)))
        ax = axes[0]
        idx = np.expand_dims(arg(x, axis=ax), ax)  # the first extreme along ax, in keepdim form
        picked = np.take_along_axis(x, idx, axis=ax)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            z = np.zeros_like(x, dtype=g.dtype)
            np.put_along_axis(z, idx, g.reshape(idx.shape), axis=ax)
            return (z,)

        values = Tensor._make(picked if keep else picked.squeeze(ax), (self,), backward, op)
        return MaxMin(values, Tensor(idx if keep else idx.squeeze(ax)))

    def argmax(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the (first) largest element: over the flattened tensor if ``dim`` is None. No gradient."""
        return self._arg(np.argmax, dim, keepdim, "argmax")

    def argmin(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """Index of the (first) smallest element, as ``argmax``."""
        return self._arg(np.argmin, dim, keepdim, "argmin")

    def _arg(self, fn: Callable, dim: int | None, keepdim: bool, op: str) -> Tensor:
        x = self.data
        if dim is None:
            i = fn(x)
            return Tensor(np.asarray(i).reshape((1,) * x.ndim) if keepdim else np.asarray(i))
        axes, keep = _dims(x.shape, dim, keepdim, None, None, op)
        if not axes:
            return Tensor(np.zeros((), dtype=np.int64))
        return Tensor(fn(x, axis=axes[0], keepdims=keep))

    # -- shape ops -------------------------------------------------------------------------------------

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same elements in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``; one -1 allowed)."""
        return self._reshape(_shape_arg(shape), "reshape")

    view = reshape  # PyTorch's name for the same thing on contiguous tensors

    def _reshape(self, new: tuple[int, ...], op: str) -> Tensor:
        """Every reshaping op (reshape, flatten, squeeze, unsqueeze): y = x, so g is reshaped back."""
        x = self.data
        try:
            out = x.reshape(new)
        except (ValueError, TypeError):
            raise ValueError(
                f"{op}: cannot reshape a tensor of shape {x.shape} ({x.size} elements) into {new}"
            ) from None

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g.reshape(x.shape),)

        return Tensor._make(out, (self,), backward, op)

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dims ``start_dim`` … ``end_dim`` (inclusive) into one, as PyTorch's ``flatten``:
        ``x.flatten(1)`` turns a batch (N, C, H, W) into (N, C·H·W). A 0-d tensor becomes shape (1,)."""
        shape = self.data.shape
        if not shape:
            _dim(start_dim, 1, "flatten")
            _dim(end_dim, 1, "flatten")
            return self._reshape((1,), "flatten")
        s, e = _dim(start_dim, len(shape), "flatten"), _dim(end_dim, len(shape), "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {shape}")
        merged = 1
        for n in shape[s:e + 1]:
            merged *= n
        return self._reshape(shape[:s] + (merged,) + shape[e + 1:], "flatten")

    def unsqueeze(self, dim: int) -> Tensor:
        """A new dim of size 1 at position ``dim`` (``dim`` in [-ndim-1, ndim]; -1 appends)."""
        shape = self.data.shape
        d = _dim(dim, len(shape) + 1, "unsqueeze")
        return self._reshape(shape[:d] + (1,) + shape[d:], "unsqueeze")

    def squeeze(self, dim: int | tuple[int, ...] | None = None) -> Tensor:
        """Drop dims of size 1: all of them (``dim=None``) or those named in ``dim`` that have size 1
        (a named dim of another size is left alone, as in PyTorch)."""
        shape = self.data.shape
        if dim is None:
            drop = {i for i, n in enumerate(shape) if n == 1}
        else:
            dims = dim if isinstance(dim, (tuple, list)) else (dim,)
            drop = {d for d in (_dim(d, max(len(shape), 1), "squeeze") for d in dims) if shape and shape[d] == 1}
        return self._reshape(tuple(n for i, n in enumerate(shape) if i not in drop), "squeeze")

    def permute(self, *dims: int | tuple[int, ...]) -> Tensor:
        """Reorder all dims: output dim i is input dim ``dims[i]`` (``x.permute(2, 0, 1)`` or
        ``x.permute((2, 0, 1))``; NumPy calls this ``transpose``). The gradient is permuted back."""
        perm = _shape_arg(dims)
        ndim = self.data.ndim
        if len(perm) != ndim:
            raise ValueError(f"permute: {len(perm)} dims {perm} given for a tensor with {ndim} dims (shape {self.shape})")
        perm = tuple(_dim(d, ndim, "permute") for d in perm)
        if len(set(perm)) != ndim:
            raise ValueError(f"permute: dims {_shape_arg(dims)} repeat a dim; each of the {ndim} dims must appear once")
        return self._permute(perm, "permute")

    def transpose(self, *dims: int) -> Tensor:
        """``transpose(dim0, dim1)``: swap two dims, as PyTorch does (``x.transpose(0, 1)`` of a matrix is
        its transpose). To reorder all dims (NumPy's ``transpose(*axes)``) use ``permute``."""
        if len(dims) != 2:
            hint = f"; to reorder all dims use permute{dims}" if len(dims) > 2 else ""
            raise TypeError(f"transpose(dim0, dim1) swaps two dims, as in PyTorch; got {len(dims)} arguments{hint}")
        ndim = self.data.ndim
        d0, d1 = _dim(dims[0], max(ndim, 1), "transpose"), _dim(dims[1], max(ndim, 1), "transpose")
        if ndim == 0:
            return self._permute((), "transpose")
        perm = list(range(ndim))
        perm[d0], perm[d1] = perm[d1], perm[d0]
        return self._permute(tuple(perm), "transpose")

    def t(self) -> Tensor:
        """The matrix transpose of a tensor with at most 2 dims (``transpose(0, 1)``), as PyTorch's ``t()``."""
        if self.data.ndim > 2:
            raise ValueError(f"t() expects a tensor with <= 2 dims, got shape {self.shape}; use transpose(dim0, dim1)")
        return self._permute(tuple(reversed(range(self.data.ndim))), "transpose")

    @property
    def T(self) -> Tensor:
        """All dims reversed: the matrix transpose for 2-D. (PyTorch deprecates ``.T`` for other than 2
        dims; here it simply reverses them, as NumPy's ``.T`` does.)"""
        return self._permute(tuple(reversed(range(self.data.ndim))), "transpose")

    def _permute(self, perm: tuple[int, ...], op: str) -> Tensor:
        out = self.data.transpose(perm)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g.transpose(np.argsort(perm)),)  # the inverse permutation: where each input dim went

        return Tensor._make(out, (self,), backward, op)

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

    def softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        """softmax(x)ᵢ = e^(xᵢ - m) / Σⱼ e^(xⱼ - m) along ``dim``, m = max x (the shift cancels and keeps
        exp <= 1). Integer tensors give float32.

        Backward (s the output): dx = s ⊙ (g - Σ g ⊙ s), the Jacobian diag(s) - s sᵀ applied to g.
        """
        x = _floating(self.data)
        ax = _softmax_dim(x.ndim, dim, axis, "softmax")
        e = np.exp(x - x.max(axis=ax, keepdims=True))
        out = e / e.sum(axis=ax, keepdims=True)

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (out * (g - (g * out).sum(axis=ax, keepdims=True)),)

        return Tensor._make(out, (self,), backward, "softmax")

    def log_softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        """log softmax(x)ᵢ = (xᵢ - m) - ln Σⱼ e^(xⱼ - m) along ``dim``, m = max x: finite even at |x| = 1000.

        Backward: dx = g - softmax(x) · Σ g, with softmax(x) = e^output.
        """
        x = _floating(self.data)
        ax = _softmax_dim(x.ndim, dim, axis, "log_softmax")
        shifted = x - x.max(axis=ax, keepdims=True)
        out = shifted - np.log(np.exp(shifted).sum(axis=ax, keepdims=True))

        def backward(g: np.ndarray) -> tuple[np.ndarray]:
            return (g - np.exp(out) * g.sum(axis=ax, keepdims=True),)

        return Tensor._make(out, (self,), backward, "log_softmax")


class MaxMin(NamedTuple):
    """What ``x.max(dim)`` and ``x.min(dim)`` return, as PyTorch's ``torch.return_types.max``:
    ``values`` (in the graph) and ``indices`` (int64, no gradient). Unpacks: ``v, i = x.max(1)``."""

    values: Tensor
    indices: Tensor


# -- helpers (module level, so no op closure captures more than it needs) ----------------------------


def _constant(arr: np.ndarray) -> Tensor:
    """A Python or NumPy number lifted into an op (the 2 in ``x * 2``): a leaf whose role is 'constant'."""
    t = Tensor(arr)
    t._role = "constant"
    return t


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


def _dim(d: object, n: int, op: str) -> int:
    """One dim index checked against n dims and made non-negative; IndexError as PyTorch's when out of range."""
    if not isinstance(d, (int, np.integer)) or isinstance(d, (bool, np.bool_)):
        raise TypeError(f"{op}: a dim must be an int, got {type(d).__name__} {d!r}")
    if not -n <= d < n:
        raise IndexError(f"{op}: dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {d})")
    return int(d) % n


def _dims(shape: tuple[int, ...], dim: object, keepdim: bool, axis: object, keepdims: object,
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
    axes = tuple(_dim(d, max(ndim, 1), op) for d in dims)
    if len(set(axes)) != len(axes):
        raise ValueError(f"{op}(): dim {dim} names the same dim more than once for shape {shape}")
    return (axes if ndim else ()), keep


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...] | None) -> tuple[int, ...]:
    """The shape of a reduction over ``axes`` with keepdim (1 in each reduced dim): g reshaped to it
    broadcasts against the input."""
    if axes is None:
        return (1,) * len(shape)
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def _softmax_dim(ndim: int, dim: int, axis: int | None, op: str) -> int | None:
    d = dim if axis is None else axis
    d = _dim(d, max(ndim, 1), op)
    return d if ndim else None  # a 0-d tensor: NumPy wants axis=None


def _floating(x: np.ndarray) -> np.ndarray:
    """Floating-point data as is; integer or bool data as float32, as PyTorch's float ops give."""
    return x if x.dtype.kind == "f" else x.astype(np.float32)


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}  # PyTorch's promotion categories: bool < integer < float


def _promote_types(a: np.dtype, b: np.dtype) -> np.dtype:
    """torch.promote_types: the higher category wins outright (int64 with float32 is float32, where NumPy
    says float64); within a category, the wider type."""
    ca, cb = _CATEGORY[a.kind], _CATEGORY[b.kind]
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def _result_dtype(a: np.ndarray, b: np.ndarray) -> np.dtype:
    """torch.result_type for two arrays (Python scalars reach here already as 0-d arrays, see ``_operand``).

    Tensors with dims outrank 0-d tensors: a 0-d operand decides the dtype only if its category is higher
    (float32 [2] with float64 0-d stays float32; int64 [2] with float64 0-d is float64). Operands of equal
    rank promote with ``_promote_types``.
    """
    if (a.ndim == 0) == (b.ndim == 0):
        return _promote_types(a.dtype, b.dtype)
    dimmed, zero = (a, b) if b.ndim == 0 else (b, a)
    if _CATEGORY[zero.dtype.kind] > _CATEGORY[dimmed.dtype.kind]:
        return zero.dtype
    return dimmed.dtype


def result_type(a: object, b: object) -> np.dtype:
    """The dtype of ``a ⊕ b`` for any binary op (+ - * ** ...), as ``torch.result_type``: at least one of a, b
    is a Tensor, the other a Tensor or a Python/NumPy number. (True division then makes integers float32.)"""
    if not isinstance(a, Tensor):
        a, b = b, a
    if not isinstance(a, Tensor):
        raise TypeError(f"result_type needs at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    return _result_dtype(a.data, a._operand(b).data)


def _promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Both operands cast (by differentiable ``to`` nodes) to their result dtype."""
    dt = _result_dtype(a.data, b.data)
    return (a if a.data.dtype == dt else a.to(dt)), (b if b.data.dtype == dt else b.to(dt))


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
