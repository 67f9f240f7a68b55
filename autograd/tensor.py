"""Tensor: an n-dimensional array (NumPy) that remembers how it was made, for reverse-mode autodiff.

Every op follows one pattern: compute ``out`` with NumPy, then make the node with ``Tensor.from_op``: the
inputs, and a ``backward`` rule right beside the forward that maps the gradient of ``out`` to one gradient per
input, each already reduced to that input's shape (``sum_to``, the one place broadcasting is undone).

One rule, two engines. A rule is written once, as ``backward(xp, g, out, *inputs)``, against an *array
namespace* ``xp`` and the operators arrays and Tensors share (``+ - * / ** @``, comparisons, ``.reshape``,
``.sum(axis=, keepdims=)``, ``.T``):

    xp = NUMPY     g, out and the inputs are ndarrays: the first-order backward() every training step runs
    xp = TENSORS   they are Tensors and every operation records a node: backward(create_graph=True) builds the
                   gradient as a graph, which can be differentiated again (second derivatives, Hessians)

A rule may also use constants it captured in the forward: shapes, axes, indices, masks (things with no
derivative) and, for speed, arrays the forward computed anyway -- but only when ``xp.graph`` is False (under
create_graph it recomputes them from its Tensor arguments, so they stay in the graph).

Dtypes: Python numbers and lists become float32 (PyTorch's default); NumPy arrays keep their dtype, so
float64 is there for gradient checking. Binary ops promote as ``torch.result_type`` does (``result_dtype``):
a Python scalar never upcasts a float Tensor, and a Python float with an integer Tensor gives float32; a 0-d
Tensor counts like a scalar of its category (it only decides the dtype when its category, bool < integer <
float, is higher); tensors with dimensions promote as usual (float32 with float64 gives float64). A cast is a
``to`` node, so each operand's gradient comes back in its own dtype. ``@`` and ``F.linear`` do not promote:
mixed dtypes raise a TypeError there, as PyTorch does.

In place. ``t += 1``, ``t[i] = v`` and friends change ``t.data`` in place, as in PyTorch: refused on a leaf that
requires grad (outside ``no_grad``); on any other tensor they work, and a tensor that takes part in a graph gets
the op as its new history. Every in-place change is remembered per NumPy buffer (views share it), so a
backward that would read a changed value raises instead of returning a silently wrong gradient.

Speed rules every op keeps: the forward does the least NumPy work it can; a rule captures no output Tensor
(that would be a reference cycle kept alive until the garbage collector runs); gradients of inputs that do not
require grad are never computed.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any, NamedTuple

import numpy as np

from .arguments import (
    NUMERIC_KINDS,
    broadcast_op,
    dim_index,
    floating,
    is_basic_index,
    kept_shape,
    promote_types,
    reduced_dims,
    result_dtype,
    shape_arg,
    softmax_dim,
    summed_axes,
    unbroadcast,
    var_correction,
)
from .graph import OFF, RECORD, Replay, grad_mode, set_grad_enabled, topological_order_of
from .value import Value
from .versions import check_unchanged, edits, record_edit, version_used_by

# backward(xp, g, out, *inputs) -> one gradient (or None) per input; see the module docstring.
Backward = Callable[..., Sequence[Any]]


# -- what pictures say about each op's derivative ---------------------------------------------------------

RULE_TEXT: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
"""op name -> (the rule for each input as a reader sees it, the inputs' default names): "g·Wᵀ" on an edge of
draw_dot(show_local=True). Filled by ``rule_text`` beside each op, here and wherever ops are defined (nn)."""


def rule_text(*rules: str, op: str | None = None, inputs: tuple[str, ...] = ()) -> Callable[[Any], Any]:
    """Decorator for an op's function: how its derivative reads, one rule per input, for drawings and step-throughs.

    ``g`` is the gradient arriving from the op's output; ``{0}``, ``{1}``, ... stand for the inputs' names (their
    labels, else ``inputs`` or x / a, b, c). The op's name is the function's, unless ``op`` says otherwise::

        @rule_text("g·W", "gᵀ·x", "Σ_rows g", inputs=("x", "W", "b"))
        def linear(x, weight, bias=None): ...

    Text only: the derivative itself is the op's backward rule; this changes nothing it computes.
    """
    def register(fn: Any) -> Any:
        RULE_TEXT[op or fn.__name__] = (tuple(rules), tuple(inputs))
        return fn

    return register


def as_tensor(x: object) -> Tensor:
    """``x`` as a Tensor, as ``torch.as_tensor``: a Tensor as it is, anything else as ``Tensor(x)`` makes it (a
    constant sharing an ndarray's memory). Layers and ``nn.functional`` take their inputs through it."""
    return x if isinstance(x, Tensor) else Tensor(x)












def as_array(data: object, dtype: object = None) -> np.ndarray:
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
            raise TypeError(f"Tensor() needs numbers, got {describe_data(data)}")
        try:
            arr = np.asarray(data)
        except ValueError as err:  # ragged nested lists
            raise ValueError(f"Tensor() needs a rectangular nested list of numbers: {err}") from None
        if dtype is None and arr.dtype == np.float64 and not isinstance(data, np.floating):
            arr = arr.astype(np.float32)
    if arr.dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"Tensor() needs numbers, got {describe_data(data, arr)}")
    if dtype is not None:
        want = np.dtype(dtype)
        if want.kind not in NUMERIC_KINDS:
            raise TypeError(f"Tensor(): dtype must be bool, integer or floating point, got {want}")
        arr = arr.astype(want, copy=False)
    return arr


def describe_data(data: object, arr: np.ndarray | None = None) -> str:
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

    __slots__ = ("_backward", "_born", "_op", "_parents", "_previous", "_reads", "_retains_grad", "_role", "data",
                 "grad", "label", "requires_grad")
    __array_priority__ = 1000  # so ndarray ⊕ Tensor defers to Tensor's reflected op

    def __init__(self, data: object, requires_grad: bool = False, dtype: object = None, label: str = "") -> None:
        arr = as_array(data, dtype)
        if requires_grad and arr.dtype.kind != "f":
            raise ValueError(f"only floating-point tensors can require grad, got dtype {arr.dtype}")
        self.data: np.ndarray = arr
        self.grad: np.ndarray | Tensor | None = None
        self.requires_grad = bool(requires_grad)
        self._parents: tuple[Tensor, ...] = ()
        self._backward: Backward | None = None
        self._op = ""
        self._born = 0
        self._reads = "all"
        self._retains_grad = False
        self.label = label

    @staticmethod
    def from_op(data: np.ndarray, inputs: tuple[Tensor, ...], backward: Backward, op: str,
                replay: Replay | None = None, reads: str = "all") -> Tensor:
        """The result of an op: ``data`` made from ``inputs`` by the op named ``op``, whose derivative is
        ``backward(xp, g, out, *inputs)`` (see the module docstring). How ops outside this file -- ``nn``'s fused
        layers and losses, convolutions -- make their nodes.

        The node records its inputs and rule only if some input requires grad and grad mode is on; otherwise it
        is a constant and the rule is dropped. ``replay`` (the op's function and its arguments) is what
        ``audit`` needs to run the forward again; it is read only while a checking tool watches. ``reads`` says
        which arguments the rule reads ("all", "inputs", "out" or "none"): backward refuses to run a rule whose
        arguments were changed in place after the op, and only those it reads count.
        """
        return _make(data, inputs, backward, op, replay, reads)

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
        """(self, other) for a binary op, both in the promoted dtype (``result_dtype``)."""
        b = self._operand(other)
        if self.data.dtype != b.data.dtype:
            return _promote(self, b)
        return self, b

    # -- factories (PyTorch's torch.zeros / ones / randn, as static methods) ------------------------

    @staticmethod
    def zeros(*shape: int | tuple[int, ...], dtype: object = np.float32, requires_grad: bool = False) -> Tensor:
        """A tensor of zeros: ``Tensor.zeros(2, 3)`` or ``Tensor.zeros((2, 3))``."""
        return Tensor(np.zeros(shape_arg(shape), dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def ones(*shape: int | tuple[int, ...], dtype: object = np.float32, requires_grad: bool = False) -> Tensor:
        """A tensor of ones: ``Tensor.ones(2, 3)`` or ``Tensor.ones((2, 3))``."""
        return Tensor(np.ones(shape_arg(shape), dtype=dtype), requires_grad=requires_grad)

    @staticmethod
    def randn(
        *shape: int | tuple[int, ...],
        dtype: object = np.float32,
        requires_grad: bool = False,
        rng: np.random.Generator | None = None,
    ) -> Tensor:
        """Samples of N(0, 1); pass ``rng`` (a ``np.random.Generator``) for reproducible draws."""
        rng = np.random.default_rng() if rng is None else rng
        return Tensor(rng.standard_normal(shape_arg(shape), dtype=dtype), requires_grad=requires_grad)

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

    def size(self, dim: int | None = None) -> tuple[int, ...] | int:
        """The shape (``t.size()``), or the length of one dim (``t.size(1)``), as in PyTorch. (NumPy's ``.size``,
        the number of elements, is ``numel()`` here.)"""
        if dim is None:
            return self.data.shape
        return self.data.shape[dim_index(dim, max(self.data.ndim, 1), "size")] if self.data.ndim else 1

    def numel(self) -> int:
        """The number of elements (NumPy's ``.size``)."""
        return self.data.size

    nelement = numel  # PyTorch's older name

    def dim(self) -> int:
        """The number of dims, as PyTorch's ``dim()`` (the same as ``ndim``)."""
        return self.data.ndim

    def __array__(self, dtype: object = None, copy: bool | None = None) -> np.ndarray:
        """The numbers, for NumPy functions (``np.asarray(t)``, ``np.mean(t)``): as PyTorch tensors do. Nothing
        done through NumPy is recorded in the graph."""
        _check_numpy_allowed()
        if dtype is not None and np.dtype(dtype) != self.data.dtype:
            return self.data.astype(dtype)
        return self.data.copy() if copy else self.data

    def __array_ufunc__(self, ufunc: np.ufunc, method: str, *inputs: object, out: tuple | None = None,
                        **kwargs: object) -> object:
        """NumPy meets a Tensor. ``array ⊕ tensor`` (+ - * / ** @ and comparisons) is the Tensor's own op, recorded
        like ``tensor ⊕ array``; ``arr += t`` (``p.data += -lr * grad``) writes the numbers into the array, which
        stays an array; any other ufunc (``np.exp(t)``) computes on the numbers and returns an array."""
        _check_numpy_allowed()
        if out is not None:
            targets = tuple(o.data if isinstance(o, Tensor) else o for o in out)
            numbers = [x.data if isinstance(x, Tensor) else x for x in inputs]
            return getattr(ufunc, method)(*numbers, out=targets[0] if len(targets) == 1 else targets, **kwargs)
        names = _UFUNC_OPS.get(ufunc) if method == "__call__" and not kwargs and len(inputs) == 2 else None
        if names is not None:
            a, b = inputs
            return getattr(a, names[0])(b) if isinstance(a, Tensor) else getattr(b, names[1])(a)
        return getattr(ufunc, method)(*[x.data if isinstance(x, Tensor) else x for x in inputs], **kwargs)

    @property
    def is_leaf(self) -> bool:
        return self._backward is None

    @property
    def role(self) -> str:
        """What this tensor is, from facts, never from its label: 'result' (made by an op that records a graph),
        'parameter' (a leaf an ``nn`` module owns, or one given to ``mark_parameter``), 'constant' (a number an op
        lifted, as the 2 in ``x * 2``), 'seed' (the gradient a ``create_graph`` backward pass starts from, or a part
        of it made from it alone, a constant: every node of a gradient's graph depends on one) or 'input' (any other
        leaf: data you made, with or without requires_grad)."""
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

    @rule_text("g cast back")
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
        if want.kind not in NUMERIC_KINDS:
            raise TypeError(f"to(): dtype must be bool, integer or floating point, got {want}")
        out = self.data.astype(want)
        if want.kind != "f":
            return Tensor(out)

        def backward(xp, g, out, x):
            return (xp.cast(g, src),)

        return _make(out, (self,), backward, "to", Replay(Tensor.to, (self, want)), reads="none")

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

    def backward(self, gradient: object = None, retain_graph: bool | None = None, create_graph: bool = False,
                 inputs: Sequence[Tensor] | None = None) -> None:
        """Reverse-mode: fill ``.grad`` of every leaf this tensor depends on (and of tensors that ``retain_grad()``).

        ``gradient`` is d(something)/d(self); it defaults to 1 for a one-element tensor. Leaf gradients
        accumulate across calls until zeroed; the graph is kept (``retain_graph`` is accepted for PyTorch's
        signature), so backward may be called again. ``inputs``: accumulate into these tensors only.

        ``create_graph=True`` runs every rule on Tensors (see the module docstring): each ``.grad`` is then a
        Tensor in a graph of its own, which can be differentiated again. See also ``autograd.grad``.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward() on a tensor that does not require grad (no leaf in its graph has "
                "requires_grad=True, or it was made under no_grad())"
            )
        seed = _seed(self, gradient, "backward()")
        if create_graph or inputs is not None or grad_mode.watchers or edits.changed:
            _backward_general(self, seed, create_graph, inputs)
            return
        pending: dict[int, np.ndarray] = {id(self): seed}
        handed_out: set[int] = set()  # arrays already stored in some leaf's .grad: copy before reuse
        for node in reversed(topological_order_of((self,), _parents_of)):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            rule = node._backward
            if rule is None:
                node._accumulate(g, handed_out)
                continue
            if node._retains_grad:
                node._accumulate(g, handed_out)
            parents = node._parents
            for parent, pg in zip(parents, rule(NUMPY, g, node.data, *[p.data for p in parents])):
                if pg is None or not parent.requires_grad:
                    continue
                key = id(parent)
                prev = pending.get(key)
                pending[key] = pg if prev is None else prev + pg

    def _accumulate(self, g: np.ndarray, handed_out: set[int]) -> None:
        if g.shape != self.data.shape:
            raise RuntimeError(f"internal error: gradient of shape {g.shape} for a tensor of shape {self.data.shape}")
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

    def retain_grad(self) -> None:
        """Keep this interior tensor's gradient in ``.grad`` when backward runs (PyTorch's ``retain_grad``): check
        an intermediate you derived by hand, ``compare({"h": dh}, {"h": h})``. A no-op on a leaf, which keeps its
        gradient anyway. Like a leaf's, the retained gradient accumulates over backward calls until zeroed."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a Tensor that has requires_grad=False")
        if self._backward is not None:
            self._retains_grad = True

    @property
    def retains_grad(self) -> bool:
        """True for an interior tensor whose ``retain_grad()`` was called (False for leaves, as in PyTorch)."""
        return self._retains_grad

    # -- binary ops: each forward with its backward rule beside it ----------------------------------
    # Reflected forms (2.0 - x) coerce the number with _operand, so it takes x's dtype, then run the op.
    # Which gradients a rule computes is fixed when the node is made (need_a, need_b): those of inputs that
    # do not require grad are never computed.

    @rule_text("g", "g", op="+")
    def __add__(self, other: object) -> Tensor:
        """a + b, broadcast. d/da = 1, d/db = 1 (each summed back to its own shape)."""
        a, b = self._operands(other)
        out = broadcast_op(np.add, a, b, "+")
        need_a, need_b = a.requires_grad, b.requires_grad

        def backward(xp, g, out, a, b):
            return (xp.sum_to(g, a.shape) if need_a else None, xp.sum_to(g, b.shape) if need_b else None)

        return _make(out, (a, b), backward, "+", Replay(Tensor.__add__, (a, b)), reads="none")

    __radd__ = __add__  # addition commutes

    @rule_text("g", "−g", op="-")
    def __sub__(self, other: object) -> Tensor:
        """a - b. d/da = 1, d/db = -1. (One subtraction, not a + (-b): saves an array per call.)"""
        a, b = self._operands(other)
        out = broadcast_op(np.subtract, a, b, "-")
        need_a, need_b = a.requires_grad, b.requires_grad

        def backward(xp, g, out, a, b):
            return (xp.sum_to(g, a.shape) if need_a else None, xp.sum_to(-g, b.shape) if need_b else None)

        return _make(out, (a, b), backward, "-", Replay(Tensor.__sub__, (a, b)), reads="none")

    def __rsub__(self, other: object) -> Tensor:
        return self._operand(other) - self

    @rule_text("g⊙{1}", "g⊙{0}", op="*")
    def __mul__(self, other: object) -> Tensor:
        """a * b, elementwise. d/da = b, d/db = a."""
        a, b = self._operands(other)
        out = broadcast_op(np.multiply, a, b, "*")
        need_a, need_b = a.requires_grad, b.requires_grad

        def backward(xp, g, out, a, b):
            return (xp.sum_to(g * b, a.shape) if need_a else None, xp.sum_to(g * a, b.shape) if need_b else None)

        reads = "inputs" if need_a and need_b else (1,) if need_a else (0,)  # d/da reads b only, d/db reads a
        return _make(out, (a, b), backward, "*", Replay(Tensor.__mul__, (a, b)), reads=reads)

    __rmul__ = __mul__  # multiplication commutes

    @rule_text("g/{1}", "−g⊙{0}/{1}²", op="/")
    def __truediv__(self, other: object) -> Tensor:
        """a / b (true division: integers give float32, as in PyTorch). d/da = 1/b, d/db = -a/b² = -(a/b)/b,
        so both reuse g/b and the output."""
        a, b = self._operands(other)
        if a.data.dtype.kind != "f":
            a, b = a.to(np.float32), b.to(np.float32)
        out = broadcast_op(np.true_divide, a, b, "/")
        need_a, need_b = a.requires_grad, b.requires_grad

        def backward(xp, g, out, a, b):
            # d/db as -g·(out/b), not -(g/b)·out: for 0 / 1e-320, g/b overflows to inf and inf·0 is nan, where
            # out/b = 0 and the slope is -0.0, as PyTorch gives.
            return (xp.sum_to(g / b, a.shape) if need_a else None,
                    xp.sum_to(-(g * (out / b)), b.shape) if need_b else None)

        # d/da reads b only (x /= n reads nothing that changes); d/db also reads the output
        return _make(out, (a, b), backward, "/", Replay(Tensor.__truediv__, (a, b)), reads="all" if need_b else (1,))

    def __rtruediv__(self, other: object) -> Tensor:
        return self._operand(other) / self

    @rule_text("g⊙{1}·{0}^({1}−1)", "g⊙{0}^{1}·ln {0}", op="**")
    def __pow__(self, exponent: object) -> Tensor:
        """a ** p. For a number p: d/da = p·a^(p-1). For a Tensor b: also d/db = a^b · ln a.

        Where the exponent is 0 the gradient for a is 0, and where a == 0 with b >= 0 the gradient for b
        is 0 (the limit of a^b·ln a), as in PyTorch; a < 0 gives nan for b, as ln a does.
        """
        if isinstance(exponent, (int, float, np.number)) and not isinstance(exponent, (bool, np.bool_)):
            # A NumPy scalar would be strongly typed (np.float64 upcasts float32): use the Python number.
            return self._pow_scalar(exponent.item() if isinstance(exponent, np.generic) else exponent)
        a, b = self._operands(exponent)
        out = broadcast_op(np.power, a, b, "**")
        need_a, need_b = a.requires_grad, b.requires_grad
        b_zero = b.data == 0
        a_zero_b_positive = (a.data == 0) & (b.data >= 0)

        def backward(xp, g, out, a, b):
            ga = gb = None
            # 0 ** negative and ln(0) are infinite; where() then picks the defined value, so silence them.
            with np.errstate(divide="ignore", invalid="ignore"):
                if need_a:
                    ga = xp.sum_to(xp.where(b_zero, 0, g * b * a ** (b - 1)), a.shape)
                if need_b:
                    gb = xp.sum_to(xp.where(a_zero_b_positive, 0, g * out * xp.log(a)), b.shape)
            return ga, gb

        return _make(out, (a, b), backward, "**", Replay(Tensor.__pow__, (a, b)))

    def _pow_scalar(self, p: float) -> Tensor:
        # p stays a Python number, so float32 stays float32 (NEP 50: Python scalars are "weak"). An integer
        # tensor to a float power is float32, as in PyTorch (NumPy would give float64).
        ad = self.data
        if isinstance(p, float) and ad.dtype.kind != "f":
            ad = ad.astype(np.float32)
        out = ad * ad if p == 2 else np.power(ad, p)

        def backward(xp, g, out, a):
            if p == 2:
                return (2 * g * a,)
            if p == 0:
                return (g * 0,)
            return (g * p * a ** (p - 1),)

        return _make(out, (self,), backward, f"**{p}", Replay(Tensor.__pow__, (self, p)), reads="inputs")

    def __rpow__(self, base: object) -> Tensor:
        """number ** Tensor: d/db a^b = a^b · ln a."""
        return self._operand(base) ** self

    @rule_text("g·{1}ᵀ", "{0}ᵀ·g", op="@", inputs=("A", "B"))
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
        need_a, need_b = a.requires_grad, b.requires_grad
        a_shape, b_shape = ad.shape, bd.shape

        def backward(xp, g, out, a, b):
            if len(a_shape) == 2 and len(b_shape) == 2:  # the common case, with no reshaping at all
                return (g @ b.T if need_a else None, a.T @ g if need_b else None)
            # Lift 1-D operands to matrices as matmul does, and put the dropped axes back into g.
            a2 = a if len(a_shape) > 1 else a.reshape(1, -1)
            b2 = b if len(b_shape) > 1 else b.reshape(-1, 1)
            g2 = g.reshape((*np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2]), a2.shape[-2], b2.shape[-1]))
            ga = gb = None
            if need_a:
                ga = xp.sum_to(g2 @ xp.swapaxes(b2, -1, -2), a2.shape).reshape(a_shape)
            if need_b:
                gb = xp.sum_to(xp.swapaxes(a2, -1, -2) @ g2, b2.shape).reshape(b_shape)
            return ga, gb

        return _make(out, (a, b), backward, "@", Replay(Tensor.__matmul__, (a, b)), reads="inputs")

    def __rmatmul__(self, other: object) -> Tensor:
        return self._operand(other) @ self

    # -- comparisons: bool Tensors, no graph (as in PyTorch; tensors still hash by identity) --------------

    def __lt__(self, other: object) -> Tensor:
        return self._compare(np.less, other)

    def __le__(self, other: object) -> Tensor:
        return self._compare(np.less_equal, other)

    def __gt__(self, other: object) -> Tensor:
        return self._compare(np.greater, other)

    def __ge__(self, other: object) -> Tensor:
        return self._compare(np.greater_equal, other)

    def __eq__(self, other: object) -> Tensor:  # type: ignore[override]
        """Elementwise ==, a bool Tensor (``(pred == y).float().mean()`` is an accuracy), as in PyTorch."""
        if not isinstance(other, (Tensor, np.ndarray, list, tuple, int, float, bool, np.generic)):
            return NotImplemented
        return self._compare(np.equal, other)

    def __ne__(self, other: object) -> Tensor:  # type: ignore[override]
        if not isinstance(other, (Tensor, np.ndarray, list, tuple, int, float, bool, np.generic)):
            return NotImplemented
        return self._compare(np.not_equal, other)

    __hash__ = object.__hash__  # by identity, as in PyTorch: tensors can be keys and set members

    def _compare(self, fn: Callable[[np.ndarray, np.ndarray], np.ndarray], other: object) -> Tensor:
        b = self._operand(other)
        return Tensor(broadcast_op(fn, self, b, fn.__name__))

    def logical_not(self) -> Tensor:
        """Elementwise not, as a bool Tensor (``~t`` for a bool tensor)."""
        return Tensor(np.logical_not(self.data))

    def __invert__(self) -> Tensor:
        if self.data.dtype.kind not in "biu":
            raise TypeError(f"~ needs a bool or integer tensor, got {self.data.dtype}")
        return Tensor(~self.data)

    def __and__(self, other: object) -> Tensor:
        return Tensor(broadcast_op(np.bitwise_and, self, self._operand(other), "&"))

    def __or__(self, other: object) -> Tensor:
        return Tensor(broadcast_op(np.bitwise_or, self, self._operand(other), "|"))

    __rand__, __ror__ = __and__, __or__

    def all(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """True where every element (along ``dim``) is nonzero; a bool Tensor."""
        axes, keep = reduced_dims(self.data.shape, dim, keepdim, None, None, "all")
        return Tensor(np.asarray(self.data.all(axis=axes, keepdims=keep)))

    def any(self, dim: int | None = None, keepdim: bool = False) -> Tensor:
        """True where some element (along ``dim``) is nonzero; a bool Tensor."""
        axes, keep = reduced_dims(self.data.shape, dim, keepdim, None, None, "any")
        return Tensor(np.asarray(self.data.any(axis=axes, keepdims=keep)))

    # -- elementwise unary ops -----------------------------------------------------------------------

    @rule_text("−g", op="neg")
    def __neg__(self) -> Tensor:
        """-a. d/da = -1."""
        return _make(-self.data, (self,), _negate, "neg", Replay(Tensor.__neg__, (self,)), reads="none")

    @rule_text("g⊙e^{0}")
    def exp(self) -> Tensor:
        """eˣ. d/dx = eˣ, the output itself. (Integer tensors give float32 here and in the float ops below.)"""
        out = np.exp(floating(self.data))

        def backward(xp, g, out, x):
            return (g * out,)

        return _make(out, (self,), backward, "exp", Replay(Tensor.exp, (self,)), reads="out")

    @rule_text("g/{0}")
    def log(self) -> Tensor:
        """ln x (natural log; -inf at 0 and nan below, as NumPy gives). d/dx = 1/x."""
        out = np.log(floating(self.data))

        def backward(xp, g, out, x):
            return (g / x,)

        return _make(out, (self,), backward, "log", Replay(Tensor.log, (self,)), reads="inputs")

    @rule_text("g⊙(1−tanh²)")
    def tanh(self) -> Tensor:
        """tanh x. d/dx = 1 - tanh²x, from the output."""
        t = np.tanh(floating(self.data))

        def backward(xp, g, out, x):
            return (g * (1 - out * out),)

        return _make(t, (self,), backward, "tanh", Replay(Tensor.tanh, (self,)), reads="out")

    @rule_text("g⊙[{0}>0]")
    def relu(self) -> Tensor:
        """max(x, 0). d/dx = 1 where x > 0, else 0 (0 at x = 0, as in PyTorch). NaN stays NaN."""
        x = self.data
        out = np.maximum(x, 0)  # np.maximum propagates NaN, as PyTorch's relu does

        def backward(xp, g, out, x):
            return (g * (out > 0),)  # the mask has no derivative: relu'' = 0 wherever it exists

        return _make(out, (self,), backward, "relu", Replay(Tensor.relu, (self,)), reads="out")

    @rule_text("g⊙σ(1−σ)")
    def sigmoid(self) -> Tensor:
        """σ(x) = 1 / (1 + e⁻ˣ). d/dx = σ(1 - σ).

        Computed as 1/(1+e) for x >= 0 and e/(1+e) for x < 0 with e = e^(-|x|) ∈ (0, 1]: exp never
        overflows, and the tiny values far left keep their relative precision (1 - σ(-x) would not).
        """
        out = _stable_sigmoid(floating(self.data))

        def backward(xp, g, out, x):
            return (g * out * (1 - out),)

        return _make(out, (self,), backward, "sigmoid", Replay(Tensor.sigmoid, (self,)), reads="out")

    @rule_text("g⊙sign {0}")
    def abs(self) -> Tensor:
        """|x|. d/dx = sign(x) (0 at x = 0, as in PyTorch)."""
        x = self.data
        sign = np.sign(x)

        def backward(xp, g, out, x):
            return (g * sign,)

        return _make(np.abs(x), (self,), backward, "abs", Replay(Tensor.abs, (self,)), reads="none")

    __abs__ = abs

    @rule_text("g/(2√{0})")
    def sqrt(self) -> Tensor:
        """√x. d/dx = 1 / (2√x), from the output (inf at 0)."""
        out = np.sqrt(floating(self.data))

        def backward(xp, g, out, x):
            with np.errstate(divide="ignore"):  # √ has an infinite slope at 0: inf, as PyTorch gives
                return (0.5 * g / out,)

        return _make(out, (self,), backward, "sqrt", Replay(Tensor.sqrt, (self,)), reads="out")

    @rule_text("g⊙[in range]")
    def clip(self, min: float | None = None, max: float | None = None) -> Tensor:
        """Clamp into [min, max] (either may be None). d/dx = 1 where min <= x <= max, else 0."""
        if min is None and max is None:
            raise ValueError("clip() needs at least one of min and max")
        x = self.data
        out = np.clip(x, min, max)
        inside = (x >= min) if min is not None else np.ones(x.shape, dtype=bool)
        if max is not None:
            inside &= x <= max

        def backward(xp, g, out, x):
            return (g * inside,)

        return _make(out, (self,), backward, "clip", Replay(Tensor.clip, (self, min, max)), reads="none")

    clamp = clip  # PyTorch's other name

    # -- more ops with PyTorch's names ------------------------------------------------------------------

    def expand(self, *sizes: int | tuple[int, ...]) -> Tensor:
        """This tensor broadcast to a larger shape without copying (``-1`` keeps a dim), as PyTorch's ``expand``.
        Each input element is used once per copy, so d/dx sums g back over the copies (``sum_to``)."""
        shape = shape_arg(sizes)
        lead = len(shape) - self.data.ndim
        if lead < 0:
            raise ValueError(f"expand: {shape} has fewer dims than the tensor's shape {self.shape}")
        full = tuple(self.data.shape[i - lead] if n == -1 and i >= lead else n for i, n in enumerate(shape))
        return self.broadcast_to(full)

    @rule_text("g summed back", op="expand")
    def broadcast_to(self, shape: tuple[int, ...]) -> Tensor:
        """``torch.broadcast_to``: this tensor broadcast to ``shape`` (a read-only view; d/dx sums g back)."""
        shape = tuple(shape)
        try:
            out = np.broadcast_to(self.data, shape)
        except ValueError:
            raise ValueError(f"broadcast_to: a tensor of shape {self.shape} cannot be broadcast to {shape}") from None
        x_shape = self.data.shape

        def backward(xp, g, out, x):
            return (xp.sum_to(g, x_shape),)

        return _make(out, (self,), backward, "expand", Replay(Tensor.broadcast_to, (self, shape)), reads="none")

    @rule_text("g")
    def clone(self) -> Tensor:
        """A copy of the data that stays in the graph (d/dx = 1), as PyTorch's ``clone``: change it in place
        without touching this tensor."""
        return _make(self.data.copy(), (self,), _identity, "clone", Replay(Tensor.clone, (self,)), reads="none")

    def where(self, condition: object, other: object) -> Tensor:
        """``where(condition, self, other)``, as PyTorch's ``x.where(condition, y)``."""
        return where(condition, self, other)

    def log10(self) -> Tensor:
        """log₁₀ x = ln x / ln 10."""
        return self.log() * (1 / np.log(10))

    def log2(self) -> Tensor:
        """log₂ x = ln x / ln 2."""
        return self.log() * (1 / np.log(2))

    # -- in place: t += 1, t[i] = v, t.add_(1), ... ------------------------------------------------------

    def __iadd__(self, other: object) -> Tensor:
        return self._in_place(Tensor.__add__, other, "+=")

    def __isub__(self, other: object) -> Tensor:
        return self._in_place(Tensor.__sub__, other, "-=")

    def __imul__(self, other: object) -> Tensor:
        return self._in_place(Tensor.__mul__, other, "*=")

    def __itruediv__(self, other: object) -> Tensor:
        return self._in_place(Tensor.__truediv__, other, "/=")

    def add_(self, other: object, *, alpha: float = 1) -> Tensor:
        """self += alpha · other, in place."""
        return self._in_place(Tensor.add, other, "add_", alpha=alpha)

    def sub_(self, other: object, *, alpha: float = 1) -> Tensor:
        """self -= alpha · other, in place."""
        return self._in_place(Tensor.sub, other, "sub_", alpha=alpha)

    def mul_(self, other: object) -> Tensor:
        """self *= other, in place."""
        return self._in_place(Tensor.__mul__, other, "mul_")

    def div_(self, other: object) -> Tensor:
        """self /= other, in place."""
        return self._in_place(Tensor.__truediv__, other, "div_")

    def zero_(self) -> Tensor:
        """Set every element to 0, in place."""
        return self._in_place(_filled, 0, "zero_")

    def fill_(self, value: float) -> Tensor:
        """Set every element to ``value``, in place."""
        return self._in_place(_filled, value, "fill_")

    def _in_place(self, op: Callable[..., Tensor], other: object, name: str, **kwargs: object) -> Tensor:
        """``self = op(self, other)``, writing into ``self.data`` as PyTorch does. The result's history becomes this
        tensor's: its old node moves to a stand-in that the new node takes as its input."""
        self._check_writable(name)
        result = op(self, other, **kwargs)
        self._take_result(result, name)
        return self

    def __setitem__(self, index: object, value: object) -> None:
        """``t[index] = value``, in place (NumPy's indexing rules, value broadcast to the indexed region). In the
        graph, the result is ``t`` with ``value`` put at ``index``: d/dt is g with zeros at ``index``, d/dvalue
        is g at ``index`` summed back to value's shape."""
        self._check_writable("item assignment")
        index = _raw_index(index)
        v = self._operand(value)
        region = self.data[index]
        if np.broadcast_shapes(np.shape(region), v.data.shape) != np.shape(region):
            raise ValueError(f"item assignment: a value of shape {v.shape} cannot fill t[index] of shape "
                             f"{np.shape(region)}")
        result_data = self.data.copy()
        result_data[index] = v.data
        keep = np.ones(self.data.shape, dtype=bool)
        keep[index] = False
        need_t, need_v = self.requires_grad, v.requires_grad
        v_shape = v.data.shape

        def backward(xp, g, out, t, v):
            return (g * keep if need_t else None, xp.sum_to(g[index], v_shape) if need_v else None)

        result = _make(result_data, (self, v), backward, "setitem", Replay(_put, (self, index, v)), reads="none")
        self._take_result(result, "item assignment")

    def _check_writable(self, name: str) -> None:
        if self.requires_grad and self._backward is None and grad_mode.enabled:
            raise RuntimeError(
                f"a leaf Tensor that requires grad is being used in an in-place operation ({name}): it would change "
                f"what the graph was built from. Do it under no_grad() (an optimizer step), or on a copy "
                f"(t.clone() or t.detach())"
            )
        if not self.data.flags.writeable:
            raise ValueError(f"{name}: this tensor's data is read-only (an expand/broadcast view); clone() it first")

    def _take_result(self, result: Tensor, name: str) -> None:
        """Write ``result``'s numbers into ``self.data`` and give ``self`` its history (see ``_in_place``)."""
        new = result.data
        if not np.can_cast(new.dtype, self.data.dtype, casting="same_kind"):
            raise TypeError(f"{name}: the result type {new.dtype} can't be cast to this tensor's dtype "
                            f"{self.data.dtype} (as in PyTorch); use t = t {name.rstrip('=_')} ... instead")
        if new.shape != self.data.shape:
            raise ValueError(f"{name}: the result has shape {new.shape}, which does not fit this tensor's shape "
                             f"{self.data.shape} in place")
        if result._backward is not None:
            old = _new_tensor(Tensor)  # this tensor's node as it was, now the new node's input
            for slot in Tensor.__slots__:
                if hasattr(self, slot):
                    setattr(old, slot, getattr(self, slot))
            if result._reads not in ("none", "out"):  # its rule reads the old numbers (t *= y: d/dy = g·t_old),
                old.data = self.data.copy()  # which the write below replaces
            result._parents = tuple(old if p is self else p for p in result._parents)
        self.data[...] = new
        record_edit(self)
        if result._backward is not None:
            self._op, self._parents, self._backward = result._op, result._parents, result._backward
            self._reads, self.requires_grad, self.grad = result._reads, True, None
            self._previous = old  # ops made before this change used ``old``: backward sends their gradients there
            self._born = edits.clock  # a new node; changed unrecorded (no_grad), it stays the node its rule read

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

    @rule_text("g copied back")
    def sum(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, *,
            axis: int | tuple[int, ...] | None = None, keepdims: bool | None = None) -> Tensor:
        """Σ over ``dim`` (all dims if None). Each input was used once, so d/dx = 1: g is copied back
        along the summed dims (a broadcast view, no copy)."""
        x = self.data
        axes, keep = reduced_dims(x.shape, dim, keepdim, axis, keepdims, "sum")
        out = x.sum(axis=axes, keepdims=keep)
        kept = kept_shape(x.shape, axes)

        def backward(xp, g, out, x):
            return (xp.broadcast_to(g.reshape(kept), x.shape),)

        return _make(out, (self,), backward, "sum", Replay(Tensor.sum, (self, axes, keep)), reads="none")

    @rule_text("g/n copied back")
    def mean(self, dim: int | tuple[int, ...] | None = None, keepdim: bool = False, *, dtype: object = None,
             axis: int | tuple[int, ...] | None = None, keepdims: bool | None = None, out: None = None) -> Tensor:
        """(1/n) Σ over ``dim``, n the number of elements averaged. d/dx = 1/n.
        Floating-point tensors only, as in PyTorch: ``x.float().mean()`` or ``x.mean(dtype=np.float32)`` for
        integers and bools (``(pred == y).float().mean()`` is an accuracy). ``out`` is for NumPy's ``np.mean``."""
        if out is not None:
            raise TypeError("mean(): out= is not supported")
        if dtype is not None:
            return self.to(dtype).mean(dim, keepdim, axis=axis, keepdims=keepdims)
        x = self.data
        if x.dtype.kind != "f":
            raise TypeError(f"mean() needs a floating-point tensor, got dtype {x.dtype}; use x.float().mean() "
                            f"(for an accuracy: (pred == y).float().mean())")
        axes, keep = reduced_dims(x.shape, dim, keepdim, axis, keepdims, "mean")
        out = x.mean(axis=axes, keepdims=keep)
        n = x.size // out.size if out.size else 0
        kept = kept_shape(x.shape, axes)

        def backward(xp, g, out, x):
            return (xp.broadcast_to(g.reshape(kept) / n, x.shape),)

        return _make(out, (self,), backward, "mean", Replay(Tensor.mean, (self, axes, keep)), reads="none")

    def var(self, dim: int | tuple[int, ...] | None = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        """Σ (x − mean)² / (n − correction) over ``dim``: ``correction=1`` (the default: Bessel's n − 1, as in
        PyTorch) or 0 (``unbiased=False``, the population variance). Composed of mean, -, * and sum, so its
        gradient, 2(x − mean)/(n − correction), comes from theirs."""
        c = var_correction(unbiased, correction, "var")
        axes, keep = reduced_dims(self.data.shape, dim, keepdim, None, None, "var")
        n = self.data.size if axes is None else int(np.prod([self.data.shape[a] for a in axes]))
        centred = self - self.mean(dim=axes, keepdim=True)
        with np.errstate(divide="ignore", invalid="ignore"):  # n <= correction: nan, as PyTorch gives
            return (centred * centred).sum(dim=axes, keepdim=keep) / max(n - c, 0)

    def std(self, dim: int | tuple[int, ...] | None = None, unbiased: bool | None = None, keepdim: bool = False, *,
            correction: int | None = None) -> Tensor:
        """√var (see ``var``; Bessel's correction by default, as in PyTorch)."""
        return self.var(dim, unbiased, keepdim, correction=correction).sqrt()

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
        if x.size == 0 and (dim is None and axis is None):
            what = "maximum" if "max" in op else "minimum"
            raise RuntimeError(f"{op}(): the tensor is empty (shape {x.shape}): there is no {what} to take; "
                               f"specify a dim of nonzero size (as PyTorch requires)")
        axes, keep = reduced_dims(x.shape, dim, keepdim, axis, keepdims, op)
        if x.size == 0 and any(x.shape[a] == 0 for a in (range(x.ndim) if axes is None else axes)):
            raise RuntimeError(f"{op}(): cannot reduce over a dim of size 0 (shape {x.shape}, dim {dim})")
        m = fn(x, axis=axes, keepdims=True)
        out = m if keep else m.reshape(() if axes is None else tuple(n for i, n in enumerate(x.shape) if i not in axes))
        hit = x == m
        share = hit / hit.sum(axis=axes, keepdims=True, dtype=x.dtype)  # ties split the gradient evenly

        def backward(xp, g, out, x):
            return (share * g.reshape(m.shape),)

        return _make(out, (self,), backward, op, Replay(Tensor._extreme, (self, fn, axes, keep, None, None, op)),
                     reads="none")

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
        axes, keep = reduced_dims(self.data.shape, dim, keepdim, axis, keepdims, op)
        x = self.data
        if not axes:  # a 0-d tensor: the element itself, at index 0
            return MaxMin(self._extreme(fn, axes, keep, None, None, op), Tensor(np.zeros((), dtype=np.int64)))
        ax = axes[0]
        if x.shape[ax] == 0:
            raise IndexError(f"{op}(): dim {d} has size 0 (shape {x.shape}): there is no {op}imum to take")
        idx = np.expand_dims(arg(x, axis=ax), ax)  # the first extreme along ax, in keepdim form
        picked = np.take_along_axis(x, idx, axis=ax)
        chosen = np.zeros(x.shape, dtype=bool)
        np.put_along_axis(chosen, idx, True, axis=ax)

        def backward(xp, g, out, x):  # all of g goes to the element indices names
            return (chosen * g.reshape(idx.shape),)

        values = _make(picked if keep else picked.squeeze(ax), (self,), backward, op,
                       Replay(Tensor._extreme_along, (self, arg, fn, dim, keepdim, axis, keepdims, op)), reads="none")
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
        axes, keep = reduced_dims(x.shape, dim, keepdim, None, None, op)
        if not axes:
            return Tensor(np.zeros((), dtype=np.int64))
        return Tensor(fn(x, axis=axes[0], keepdims=keep))

    # -- shape ops -------------------------------------------------------------------------------------

    def reshape(self, *shape: int | tuple[int, ...]) -> Tensor:
        """The same elements in a new shape (``reshape(2, 3)`` or ``reshape((2, 3))``; one -1 allowed)."""
        return self._reshape(shape_arg(shape), "reshape")

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

        def backward(xp, g, out, x):
            return (g.reshape(x.shape),)

        return _make(out, (self,), backward, op, Replay(Tensor._reshape, (self, new, op)), reads="none")

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge dims ``start_dim`` … ``end_dim`` (inclusive) into one, as PyTorch's ``flatten``:
        ``x.flatten(1)`` turns a batch (N, C, H, W) into (N, C·H·W). A 0-d tensor becomes shape (1,)."""
        shape = self.data.shape
        if not shape:
            dim_index(start_dim, 1, "flatten")
            dim_index(end_dim, 1, "flatten")
            return self._reshape((1,), "flatten")
        s, e = dim_index(start_dim, len(shape), "flatten"), dim_index(end_dim, len(shape), "flatten")
        if s > e:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim} for shape {shape}")
        merged = 1
        for n in shape[s:e + 1]:
            merged *= n
        return self._reshape((*shape[:s], merged, *shape[e + 1:]), "flatten")

    def unsqueeze(self, dim: int) -> Tensor:
        """A new dim of size 1 at position ``dim`` (``dim`` in [-ndim-1, ndim]; -1 appends)."""
        shape = self.data.shape
        d = dim_index(dim, len(shape) + 1, "unsqueeze")
        return self._reshape((*shape[:d], 1, *shape[d:]), "unsqueeze")

    def squeeze(self, dim: int | tuple[int, ...] | None = None) -> Tensor:
        """Drop dims of size 1: all of them (``dim=None``) or those named in ``dim`` that have size 1
        (a named dim of another size is left alone, as in PyTorch)."""
        shape = self.data.shape
        if dim is None:
            drop = {i for i, n in enumerate(shape) if n == 1}
        else:
            dims = dim if isinstance(dim, (tuple, list)) else (dim,)
            drop = {d for d in (dim_index(d, max(len(shape), 1), "squeeze") for d in dims) if shape and shape[d] == 1}
        return self._reshape(tuple(n for i, n in enumerate(shape) if i not in drop), "squeeze")

    def permute(self, *dims: int | tuple[int, ...]) -> Tensor:
        """Reorder all dims: output dim i is input dim ``dims[i]`` (``x.permute(2, 0, 1)`` or
        ``x.permute((2, 0, 1))``; NumPy calls this ``transpose``). The gradient is permuted back."""
        perm = shape_arg(dims)
        ndim = self.data.ndim
        if len(perm) != ndim:
            raise ValueError(f"permute: {len(perm)} dims {perm} given for a tensor with {ndim} dims "
                             f"(shape {self.shape})")
        perm = tuple(dim_index(d, ndim, "permute") for d in perm)
        if len(set(perm)) != ndim:
            raise ValueError(f"permute: dims {shape_arg(dims)} repeat a dim; each of the {ndim} dims must appear once")
        return self._permute(perm, "permute")

    def transpose(self, *dims: int) -> Tensor:
        """``transpose(dim0, dim1)``: swap two dims, as PyTorch does (``x.transpose(0, 1)`` of a matrix is
        its transpose). To reorder all dims (NumPy's ``transpose(*axes)``) use ``permute``."""
        if len(dims) != 2:
            hint = f"; to reorder all dims use permute{dims}" if len(dims) > 2 else ""
            raise TypeError(f"transpose(dim0, dim1) swaps two dims, as in PyTorch; got {len(dims)} arguments{hint}")
        ndim = self.data.ndim
        d0, d1 = dim_index(dims[0], max(ndim, 1), "transpose"), dim_index(dims[1], max(ndim, 1), "transpose")
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
        back = tuple(int(i) for i in np.argsort(perm))  # the inverse permutation: where each input dim went

        def backward(xp, g, out, x):
            return (xp.permute(g, back),)

        return _make(out, (self,), backward, op, Replay(Tensor._permute, (self, perm, op)), reads="none")

    @rule_text("g scattered back", op="getitem")
    def __getitem__(self, index: object) -> Tensor:
        """Indexing with ints, slices, None, ..., integer or boolean arrays (NumPy's rules).

        The gradient is g scattered back into zeros of the input's shape. An integer array may pick the
        same element several times; each pick adds its share, so that case uses np.add.at (a plain
        ``z[index] += g`` would keep only the last one). Basic indexing never repeats, so it assigns.
        """
        index = _raw_index(index)
        x = self.data
        out = x[index]
        shape = x.shape

        def backward(xp, g, out, x):
            return (xp.scatter(g, index, shape),)

        return _make(out, (self,), backward, "getitem", Replay(Tensor.__getitem__, (self, index)), reads="none")

    # -- softmax family -----------------------------------------------------------------------------

    @rule_text("s⊙(g−Σg⊙s)")
    def softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        """softmax(x)ᵢ = e^(xᵢ - m) / Σⱼ e^(xⱼ - m) along ``dim``, m = max x (the shift cancels and keeps
        exp <= 1). Integer tensors give float32; an empty tensor gives an empty one (as in PyTorch).

        Backward (s the output): dx = s ⊙ (g - Σ g ⊙ s), the Jacobian diag(s) - s sᵀ applied to g.
        """
        x = floating(self.data)
        ax = softmax_dim(x.ndim, dim, axis, "softmax")
        if x.size:
            e = np.exp(x - x.max(axis=ax, keepdims=True))
            out = e / e.sum(axis=ax, keepdims=True)
        else:
            out = x.copy()

        def backward(xp, g, out, x):
            return (out * (g - (g * out).sum(axis=ax, keepdims=True)),)

        return _make(out, (self,), backward, "softmax", Replay(Tensor.softmax, (self, dim)), reads="out")

    @rule_text("g−softmax·Σg")
    def log_softmax(self, dim: int = -1, *, axis: int | None = None) -> Tensor:
        """log softmax(x)ᵢ = (xᵢ - m) - ln Σⱼ e^(xⱼ - m) along ``dim``, m = max x: finite even at |x| = 1000.

        Backward: dx = g - softmax(x) · Σ g, with softmax(x) = e^output.
        """
        x = floating(self.data)
        ax = softmax_dim(x.ndim, dim, axis, "log_softmax")
        if x.size:
            shifted = x - x.max(axis=ax, keepdims=True)
            out = shifted - np.log(np.exp(shifted).sum(axis=ax, keepdims=True))
        else:
            out = x.copy()

        def backward(xp, g, out, x):
            return (g - xp.exp(out) * g.sum(axis=ax, keepdims=True),)

        return _make(out, (self,), backward, "log_softmax", Replay(Tensor.log_softmax, (self, dim)), reads="out")


# Ops made by helpers whose names differ from the op's: their rule text, registered here.
for _op, _rule in (("amax", "g to the max"), ("amin", "g to the min"), ("max", "g to the max"),
                   ("min", "g to the min"), ("reshape", "g reshaped"), ("view", "g reshaped"),
                   ("flatten", "g reshaped"), ("squeeze", "g reshaped"), ("unsqueeze", "g reshaped"),
                   ("transpose", "g transposed back"), ("permute", "g permuted back"), ("where", "g where true"),
                   ("scatter", "g gathered"), ("setitem", "g outside index"), ("fill", "0")):
    rule_text(_rule, op=_op)(None)


class MaxMin(NamedTuple):
    """What ``x.max(dim)`` and ``x.min(dim)`` return, as PyTorch's ``torch.return_types.max``:
    ``values`` (in the graph) and ``indices`` (int64, no gradient). Unpacks: ``v, i = x.max(1)``."""

    values: Tensor
    indices: Tensor


# -- ops that are functions rather than methods ---------------------------------------------------------


def where(condition: object, input: object, other: object) -> Tensor:
    """``input`` where ``condition`` is true, else ``other`` (elementwise, broadcast), as ``torch.where``.

    d/dinput = g where the condition holds (0 elsewhere), d/dother = g where it does not, each summed back to
    its own shape. The condition is a constant: a bool Tensor or array.
    """
    cond = np.asarray(condition.data if isinstance(condition, Tensor) else condition)
    if cond.dtype.kind != "b":
        raise TypeError(f"where: the condition must be bool, got dtype {cond.dtype}; compare first (x > 0)")
    a = input if isinstance(input, Tensor) else None
    b = other if isinstance(other, Tensor) else None
    if a is None and b is None:
        a = as_tensor(input)
    if a is None:
        a = b._operand(input)
    a, b = a._operands(other if b is None else b)
    try:
        out = np.where(cond, a.data, b.data)
    except ValueError:
        raise ValueError(f"where: shapes {cond.shape} (condition), {a.shape} and {b.shape} cannot be broadcast "
                         "together") from None
    need_a, need_b = a.requires_grad, b.requires_grad
    a_shape, b_shape = a.data.shape, b.data.shape

    def backward(xp, g, out, a, b):
        return (xp.sum_to(xp.where(cond, g, 0), a_shape) if need_a else None,
                xp.sum_to(xp.where(cond, 0, g), b_shape) if need_b else None)

    return _make(out, (a, b), backward, "where", Replay(where, (cond, a, b)), reads="none")


@rule_text("g's slice i", op="stack")
def stack(tensors: Sequence[object], dim: int = 0) -> Tensor:
    """Tensors of one shape joined along a new dim ``dim``, as ``torch.stack``. Input i's gradient is slice i of g
    along that dim. Mixed dtypes promote as ``torch.result_type`` does."""
    ts = _joined(tensors, "stack")
    shape = ts[0].data.shape
    for t in ts[1:]:
        if t.data.shape != shape:
            raise ValueError(f"stack: every tensor must have the same shape, got {shape} and {t.data.shape}")
    d = dim_index(dim, len(shape) + 1, "stack")
    out = np.stack([t.data for t in ts], axis=d)
    lead = (slice(None),) * d

    def backward(xp, g, out, *inputs):
        return tuple(g[(*lead, i)] for i in range(len(inputs)))

    return _make(out, tuple(ts), backward, "stack", Replay(stack, (ts, dim)), reads="none")


@rule_text("g's part i", op="cat")
def cat(tensors: Sequence[object], dim: int = 0) -> Tensor:
    """Tensors joined end to end along an existing dim ``dim``, as ``torch.cat``. Input i's gradient is its part
    of g along that dim."""
    ts = _joined(tensors, "cat")
    ndim = ts[0].data.ndim
    if ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; use stack")
    d = dim_index(dim, ndim, "cat")
    try:
        out = np.concatenate([t.data for t in ts], axis=d)
    except ValueError:
        raise ValueError(f"cat: shapes {[t.shape for t in ts]} must match except in dim {dim}") from None
    ends = np.cumsum([t.data.shape[d] for t in ts])
    lead = (slice(None),) * d

    def backward(xp, g, out, *inputs):
        return tuple(g[(*lead, slice(int(e) - t_len, int(e)))] for e, t_len in zip(ends, (t.shape[d] for t in inputs)))

    return _make(out, tuple(ts), backward, "cat", Replay(cat, (ts, dim)), reads="none")


def _joined(tensors: Sequence[object], op: str) -> list[Tensor]:
    """The tensors of a stack or cat, in their promoted dtype."""
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)):
        raise TypeError(f"{op}: expected a list or tuple of tensors, got {type(tensors).__name__}")
    if not tensors:
        raise ValueError(f"{op}: expected a non-empty list of tensors")
    ts = [as_tensor(t) for t in tensors]
    dt = ts[0].data.dtype
    for t in ts[1:]:
        dt = promote_types(dt, t.data.dtype)
    return [t if t.data.dtype == dt else t.to(dt) for t in ts]


def _identity(xp: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
    """The rule of an op whose output is its input (clone): d/dx = 1."""
    return (g,)


def _filled(t: Tensor, value: float) -> Tensor:
    """A tensor of t's shape and dtype filled with ``value``: constant in t, so d/dt = 0 (zero_, fill_)."""
    out = np.full_like(t.data, value)

    def backward(xp, g, out, x):
        return (g * 0,)

    return _make(out, (t,), backward, "fill", Replay(_filled, (t, value)), reads="none")


def _put(t: Tensor, index: object, value: Tensor) -> Tensor:
    """``t`` with ``value`` put at ``index``, out of place: what ``t[index] = value`` records (for replays)."""
    copy = t.clone()
    copy[index] = value
    return copy


def _check_numpy_allowed() -> None:
    """NumPy may see a Tensor's numbers, except inside a Function's backward that builds a graph (create_graph):
    there they would silently be constants (``grad_mode.numbers_refused_by``, set by autograd.function)."""
    if grad_mode.numbers_refused_by is not None:
        raise RuntimeError(
            f"{grad_mode.numbers_refused_by}.backward converted a Tensor to a NumPy array "
            f"under create_graph=True (np.exp(x)?): "
            f"nothing computed through NumPy can be differentiated again. Use Tensor methods (x.exp(), x * y), "
            f"or mark backward @once_differentiable"
        )


# NumPy's binary ufuncs and the Tensor operators that mean the same: (for tensor ⊕ x, for x ⊕ tensor).
_UFUNC_OPS: dict[np.ufunc, tuple[str, str]] = {
    np.add: ("__add__", "__radd__"), np.subtract: ("__sub__", "__rsub__"),
    np.multiply: ("__mul__", "__rmul__"), np.true_divide: ("__truediv__", "__rtruediv__"),
    np.power: ("__pow__", "__rpow__"), np.matmul: ("__matmul__", "__rmatmul__"),
    np.less: ("__lt__", "__gt__"), np.less_equal: ("__le__", "__ge__"), np.greater: ("__gt__", "__lt__"),
    np.greater_equal: ("__ge__", "__le__"), np.equal: ("__eq__", "__eq__"), np.not_equal: ("__ne__", "__ne__"),
}


# -- node construction and the backward pass in general ------------------------------------------------

_new_tensor = object.__new__


def _make(data: np.ndarray, parents: tuple[Tensor, ...], backward: Backward, op: str,
          replay: Replay | None = None, reads: str = "all") -> Tensor:
    """``Tensor.from_op``. ``reads`` says what the rule reads of its arguments -- "all", "inputs", "out" or
    "none" -- so that changing an unread tensor in place afterwards is not mistaken for a problem."""
    out = _new_tensor(Tensor)
    # Ufuncs and reductions over 0-d input return NumPy scalars; .data is always an ndarray.
    out.data = data if type(data) is np.ndarray else np.asarray(data)
    out.grad = None
    out.label = ""
    out._op = op
    out._retains_grad = False
    out._born = edits.clock
    out._reads = reads
    out.requires_grad = False
    out._parents = ()
    out._backward = None
    state = grad_mode.state
    if state is not OFF:
        for p in parents:  # a plain loop: cheaper than any(<generator>) on this hot path
            if p.requires_grad:
                out.requires_grad = True
                out._parents = parents
                out._backward = backward
                break
        if state is not RECORD:  # WATCH: hand the node to the checking tools
            for watcher in grad_mode.watchers:
                watcher.created(out, replay)
    return out


def local_backward(node: Tensor, g: np.ndarray) -> tuple[np.ndarray | None, ...]:
    """``node``'s backward rule applied to ``g`` (first order, on arrays): one gradient per input of ``node``, None
    where an input needs none. What ``backward()`` does at this node; for tools that step through it or check it."""
    return tuple(node._backward(NUMPY, g, node.data, *[p.data for p in node._parents]))


def _seed(t: Tensor, gradient: object, who: str) -> np.ndarray | Tensor:
    """The gradient a backward pass starts from at ``t``: 1 for a one-element tensor, else ``gradient``."""
    if gradient is None:
        if t.data.size != 1:
            raise RuntimeError(f"{who} without a gradient needs a one-element tensor, got shape {t.data.shape}; "
                               "pass gradient= (d something / d this tensor, of its shape)")
        return np.ones(t.data.shape, t.data.dtype)  # not ones_like: a Python function, 2 µs a step
    if isinstance(gradient, Tensor) and gradient.requires_grad:
        seed: np.ndarray | Tensor = gradient  # a gradient that is itself in a graph (create_graph)
        shape = gradient.data.shape
    else:
        seed = np.array(as_array(gradient), dtype=t.data.dtype, copy=True)
        shape = seed.shape
    if shape != t.data.shape:
        raise ValueError(f"{who}: the gradient has shape {shape} but the tensor has shape {t.data.shape}")
    return seed


def gradients(roots: Sequence[Tensor], seeds: Sequence[np.ndarray | Tensor],
              create_graph: bool) -> dict[int, tuple[Tensor, np.ndarray | Tensor]]:
    """d(Σ ⟨seedᵢ, rootᵢ⟩)/d t for every tensor t the roots depend on that requires grad: ``{id(t): (t, grad)}``,
    touching no ``.grad``. What ``autograd.grad`` returns, and what ``backward()`` stores when it does more than
    the plain first-order pass. Under ``create_graph`` the rules run on Tensors (``TENSORS``) with grad mode on,
    so every gradient is a Tensor in a graph."""
    xp = TENSORS if create_graph else NUMPY
    pending: dict[int, Any] = {}
    for root, seed in zip(roots, seeds):
        if create_graph and not isinstance(seed, Tensor):
            seed = Tensor(seed)
            seed._role = "seed"  # every node of the gradient's graph depends on it: how drawings tell them apart
        elif not create_graph and isinstance(seed, Tensor):
            seed = seed.data
        prev = pending.get(id(root))
        pending[id(root)] = seed if prev is None else prev + seed
    watchers = grad_mode.watchers
    check = bool(edits.changed)
    found: dict[int, tuple[Tensor, Any]] = {}
    with set_grad_enabled(create_graph):
        for node in reversed(topological_order_of(roots, _parents_of)):
            g = pending.pop(id(node), None)
            if g is None:
                continue
            if create_graph and g._backward is None and not g.requires_grad:
                g._role = "seed"  # made from the seeds alone (ops on constants record nothing): the seed, carried back
            found[id(node)] = (node, g)
            rule = node._backward
            if rule is None:
                continue
            if check:
                check_unchanged(node)
            parents = node._parents
            if create_graph:
                grads = rule(xp, g, node, *parents)
            else:
                grads = rule(xp, g, node.data, *[p.data for p in parents])
            grads = tuple(grads)
            for watcher in watchers:
                watcher.gradients(node, g, grads)
            for parent, pg in zip(parents, grads):
                if check and parent._born > node._born:  # changed in place after node used it
                    parent = version_used_by(parent, node)
                if pg is None or not parent.requires_grad:
                    continue
                if create_graph and not isinstance(pg, Tensor):
                    pg = Tensor(pg)  # a rule that found the gradient constant (a zero, say)
                key = id(parent)
                prev = pending.get(key)
                pending[key] = pg if prev is None else prev + pg
    return found


def _backward_general(root: Tensor, seed: np.ndarray | Tensor, create_graph: bool,
                      inputs: Sequence[Tensor] | None) -> None:
    """``backward()`` with create_graph, ``inputs``, watchers or in-place changes to check: ``gradients``, then
    each leaf (and retained interior tensor) accumulates its share, as the plain pass does."""
    found = gradients((root,), (seed,), create_graph)
    wanted = None if inputs is None else {id(t) for t in ([inputs] if isinstance(inputs, Tensor) else inputs)}
    handed_out: set[int] = set()
    for node, g in found.values():
        if wanted is not None:
            if id(node) not in wanted:
                continue
        elif node._backward is not None and not node._retains_grad:
            continue
        if create_graph:
            node.grad = g if node.grad is None else node.grad + g
        else:
            node._accumulate(g, handed_out)


# -- in-place changes: what lets backward refuse a value changed after its op ran ----------------------














# -- helpers (module level, so no op closure captures more than it needs) ----------------------------


def _constant(arr: np.ndarray) -> Tensor:
    """A Python or NumPy number lifted into an op (the 2 in ``x * 2``): a leaf whose role is 'constant'."""
    t = Tensor(arr)
    t._role = "constant"
    return t


def _parents_of(t: Tensor) -> tuple[Tensor, ...]:
    return t._parents


def _negate(xp: Any, g: Any, out: Any, x: Any) -> tuple[Any]:
    """The rule of ``-x``: d/dx = -1."""
    return (-g,)


def _stable_sigmoid(x: np.ndarray) -> np.ndarray:
    """σ(x) = 1/(1+e) for x >= 0 and e/(1+e) for x < 0, with e = e^(-|x|) ∈ (0, 1]: never overflows."""
    e = np.exp(-np.abs(x))
    out = np.where(x >= 0, 1, e).astype(x.dtype, copy=False)
    out /= 1 + e
    return out


def _raw(x: object) -> object:
    return x.data if isinstance(x, Tensor) else x
























def result_type(a: object, b: object) -> np.dtype:
    """The dtype of ``a ⊕ b`` for any binary op (+ - * ** ...), as ``torch.result_type``: at least one of a, b
    is a Tensor, the other a Tensor or a Python/NumPy number. (True division then makes integers float32.)"""
    if not isinstance(a, Tensor):
        a, b = b, a
    if not isinstance(a, Tensor):
        raise TypeError(f"result_type needs at least one Tensor, got {type(a).__name__} and {type(b).__name__}")
    return result_dtype(a.data, a._operand(b).data)


def _promote(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Both operands cast (by differentiable ``to`` nodes) to their result dtype."""
    dt = result_dtype(a.data, b.data)
    return (a if a.data.dtype == dt else a.to(dt)), (b if b.data.dtype == dt else b.to(dt))


def _raw_index(index: object) -> object:
    """Tensors inside an index become their arrays."""
    if isinstance(index, Tensor):
        return index.data
    if isinstance(index, tuple):
        return tuple(i.data if isinstance(i, Tensor) else i for i in index)
    return index




# -- the two array namespaces a rule can run on (see the module docstring) -----------------------------


def _scatter_array(g: np.ndarray, index: object, shape: tuple[int, ...]) -> np.ndarray:
    """Zeros of ``shape`` with ``g`` added at ``index``: the gradient of ``x[index]`` for x of that shape. An
    integer array may pick the same element several times; each pick adds its share, so that case uses
    np.add.at (a plain ``z[index] += g`` would keep only the last one). Basic indexing never repeats: assign."""
    z = np.zeros(shape, dtype=g.dtype)
    if is_basic_index(index):
        z[index] = g
    else:
        np.add.at(z, index, g)
    return z


def _scatter_tensor(g: Tensor, index: object, shape: tuple[int, ...]) -> Tensor:
    """``_scatter_array`` as an op: its rule picks the gradient back out at ``index`` (gather and scatter are
    each other's derivatives)."""

    def backward(xp, gg, out, src):
        return (gg[index],)

    return _make(_scatter_array(g.data, index, shape), (g,), backward, "scatter",
                 Replay(_scatter_tensor, (g, index, shape)), reads="none")


def _sum_to_tensor(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """``unbroadcast`` as Tensor ops, so that it is differentiable in turn."""
    if g.data.shape == shape:
        return g
    axes = summed_axes(g.data.shape, shape)
    return (g.sum(dim=axes, keepdim=True) if axes else g).reshape(shape)


def _as_operand(x: object) -> Tensor:
    return x if isinstance(x, Tensor) else Tensor(np.asarray(x))


NUMPY = SimpleNamespace(
    graph=False,
    exp=np.exp, log=np.log, sign=np.sign, where=np.where, broadcast_to=np.broadcast_to, swapaxes=np.swapaxes,
    sum_to=unbroadcast, scatter=_scatter_array, sigmoid=_stable_sigmoid,
    permute=lambda a, perm: a.transpose(perm),
    cast=lambda a, dtype: a.astype(dtype),
    softmax=lambda a, dim: Tensor(a).softmax(dim).data,
)
NUMPY.__doc__ = "The array namespace of a first-order backward(): NumPy on ndarrays, nothing recorded."

TENSORS = SimpleNamespace(
    graph=True,
    exp=lambda t: t.exp(),
    log=lambda t: t.log(),
    sign=lambda t: Tensor(np.sign(t.data)),  # sign has no derivative: a constant
    where=lambda cond, a, b: where(cond, a, b),
    broadcast_to=lambda t, shape: _as_operand(t).broadcast_to(shape),
    swapaxes=lambda t, a, b: t.transpose(a, b),
    sum_to=_sum_to_tensor,
    scatter=_scatter_tensor,
    sigmoid=lambda t: t.sigmoid(),
    permute=lambda t, perm: t.permute(perm),
    cast=lambda t, dtype: t.to(dtype),
    softmax=lambda t, dim: t.softmax(dim),
)
TENSORS.__doc__ = "The array namespace of backward(create_graph=True): Tensor ops, each recorded, on Tensors."
