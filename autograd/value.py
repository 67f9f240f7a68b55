"""Value: one number that remembers how it was made, and reverse-mode differentiation through it.

A ``Value`` holds ``data`` (the number) and ``grad`` (d root / d this value after ``backward()``). Each
op builds a new node that records its op code and its inputs -- nothing else. There are no closures:
every op's local derivative is a small function beside its forward, found through the ``_BACKWARD``
table by op code. That keeps a node small (``__slots__``, about 100 bytes with its float) and free of
reference cycles, so CPython's reference counting frees a graph the moment the last name for it goes,
and the cyclic garbage collector never has to walk it.

Node layout (``_a``, ``_b`` depend on the op)::

    leaf / constant      _op ""            _a None          _b None
    unary  f(a)          _op "exp" ...     _a a             _b None (or the exponent k for "**")
    binary a op b        _op "+" "*"       _a a             _b b
    sum    a₀+…+aₙ       _op "sum"         _a (a₀, …, aₙ)   _b None
    dot    b + Σ wᵢxᵢ     _op "dot"         _a (w₀, …, wₙ, b) _b (x₀, …, xₙ)

Gradient semantics follow PyTorch: a leaf's ``grad`` accumulates across ``backward()`` calls until it
is zeroed; an interior node's ``grad`` is reset at the start of every pass, so it shows the latest one.
"""
from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable, Sequence
from operator import attrgetter
from operator import mul as _mul

from .graph import grad_mode

Number = int | float


class Value:
    """A scalar in a computation graph: ``Value(data, label="")``.

    Supports ``+ - * /`` with Values or numbers on either side, unary ``-``, ``x ** k`` for a number
    ``k``, ``exp``, ``log``, ``tanh``, ``relu``, ``sigmoid``, and the fused n-ary ops ``Value.sum`` and
    ``Value.dot``. Call ``backward()`` on a result to fill ``grad`` on everything it depends on.
    """

    __slots__ = ("_a", "_b", "_op", "data", "grad", "label")

    def __init__(self, data: Number, label: str = "") -> None:
        self.data: float = _as_float(data)
        self.grad: float = 0.0
        self.label: str = label
        self._op = ""
        self._a = None
        self._b = None

    # -- what the graph renderer and other readers see ---------------------------------------------

    @property
    def op(self) -> str:
        """The op that made this value: '+', '*', 'exp', '**2', 'dot', ... ('' for a leaf or constant)."""
        if self._op == "**":
            return f"**{self._b}"
        return self._op

    @property
    def inputs(self) -> tuple[Value, ...]:
        """The values this one was computed from, in argument order (empty for a leaf).

        For ``dot`` the order is ``(*ws, *xs, bias)``.
        """
        if not self._op:
            return ()
        if self._op == "dot":
            return self._a[:-1] + self._b + self._a[-1:]
        return _inputs_of(self)

    @property
    def is_leaf(self) -> bool:
        """True for values not made by an op (parameters, inputs, constants, results under no_grad)."""
        return not self._op

    def __repr__(self) -> str:
        label = f", label={self.label!r}" if self.label else ""
        return f"Value(data={self.data!r}, grad={self.grad!r}{label})"

    # -- binary ops --------------------------------------------------------------------------------

    def __add__(self, other: Value | Number) -> Value:
        """a + b.   ∂/∂a = 1,  ∂/∂b = 1."""
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _make(self.data + other.data, "+", self, other)

    @staticmethod
    def _add_backward(out: Value) -> None:
        g = out.grad
        out._a.grad += g
        out._b.grad += g

    def __mul__(self, other: Value | Number) -> Value:
        """a * b.   ∂/∂a = b,  ∂/∂b = a."""
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return _make(self.data * other.data, "*", self, other)

    @staticmethod
    def _mul_backward(out: Value) -> None:
        g, a, b = out.grad, out._a, out._b
        # Read both .data before touching .grad: a and b may be the same node (x * x).
        a.grad += g * b.data
        b.grad += g * a.data

    def __pow__(self, k: Number) -> Value:
        """x ** k for a number k.   ∂/∂x = k·x^(k-1).

        Raises ValueError for 0 ** (negative k) and for a negative base with a non-integer k (not real).
        A result too large for a float is ±inf, not an OverflowError.
        """
        if isinstance(k, Value):
            raise TypeError("Value ** Value is not supported: the exponent must be a number")
        if not _is_real(k):
            return NotImplemented
        x = self.data
        if x < 0.0 and not float(k).is_integer():
            raise ValueError(f"'**': {x!r} ** {k!r} is not a real number (negative base, non-integer exponent)")
        try:
            y = x**k
        except ZeroDivisionError:
            raise ValueError(f"'**': {x!r} ** {k!r} is undefined (zero to a negative power)") from None
        except OverflowError:
            odd = float(k).is_integer() and int(k) % 2 == 1
            y = -math.inf if (x < 0 and odd) else math.inf
        return _make(float(y), "**", self, k)

    @staticmethod
    def _pow_backward(out: Value) -> None:
        a, k = out._a, out._b
        a.grad += out.grad * _pow_slope(a.data, k)

    # -- unary ops ---------------------------------------------------------------------------------

    def __neg__(self) -> Value:
        """-a.   ∂/∂a = -1."""
        return _make(-self.data, "neg", self)

    @staticmethod
    def _neg_backward(out: Value) -> None:
        out._a.grad -= out.grad

    def exp(self) -> Value:
        """e^x.   ∂/∂x = e^x (the output itself). Overflows to inf rather than raising."""
        try:
            y = math.exp(self.data)
        except OverflowError:
            y = math.inf
        return _make(y, "exp", self)

    @staticmethod
    def _exp_backward(out: Value) -> None:
        out._a.grad += out.grad * out.data

    def log(self) -> Value:
        """ln x for x > 0.   ∂/∂x = 1/x. Raises ValueError for x <= 0."""
        x = self.data
        if not x > 0.0:  # also catches nan
            raise ValueError(f"log: input must be positive, got {x!r}")
        return _make(math.log(x), "log", self)

    @staticmethod
    def _log_backward(out: Value) -> None:
        a = out._a
        a.grad += out.grad / a.data

    def tanh(self) -> Value:
        """tanh x.   ∂/∂x = 1 - tanh²x. math.tanh saturates to ±1.0 without overflow."""
        return _make(math.tanh(self.data), "tanh", self)

    @staticmethod
    def _tanh_backward(out: Value) -> None:
        t = out.data
        out._a.grad += out.grad * (1.0 - t * t)

    def relu(self) -> Value:
        """max(0, x).   ∂/∂x = 1 if x > 0 else 0 (0 at x = 0, as in PyTorch)."""
        x = self.data
        return _make(max(0.0, x), "relu", self)

    @staticmethod
    def _relu_backward(out: Value) -> None:
        if out.data > 0.0:
            out._a.grad += out.grad

    def sigmoid(self) -> Value:
        """σ(x) = 1 / (1 + e^-x).   ∂/∂x = σ(x)(1 - σ(x)).

        Only ever exponentiates a non-positive number, so it cannot overflow: σ(-1000) is 0.0.
        """
        x = self.data
        if x >= 0.0:
            s = 1.0 / (1.0 + math.exp(-x))
        else:
            e = math.exp(x)
            s = e / (1.0 + e)
        return _make(s, "sigmoid", self)

    @staticmethod
    def _sigmoid_backward(out: Value) -> None:
        s = out.data
        out._a.grad += out.grad * s * (1.0 - s)

    # -- fused n-ary ops: one node instead of a chain ------------------------------------------------

    @staticmethod
    def sum(values: Iterable[Value | Number]) -> Value:
        """a₀ + a₁ + … + aₙ as one node.   ∂/∂aᵢ = 1.

        Builtin ``sum`` works too (``0 + a₀`` via ``__radd__``), but makes n nodes; this makes one.
        """
        ins = _values(values, "sum")
        if not ins:
            return Value(0.0)
        return _make(sum(map(_data, ins)), "sum", ins)

    @staticmethod
    def _sum_backward(out: Value) -> None:
        g = out.grad
        for v in out._a:
            v.grad += g

    @staticmethod
    def dot(ws: Sequence[Value | Number], xs: Sequence[Value | Number], bias: Value | Number = 0.0) -> Value:
        """bias + Σᵢ wᵢxᵢ as one node (a neuron's pre-activation z = w·x + b).

        ∂/∂wᵢ = xᵢ,  ∂/∂xᵢ = wᵢ,  ∂/∂bias = 1. Numbers are taken as constants.
        """
        if len(ws) != len(xs):
            raise ValueError(f"dot: {len(ws)} weights but {len(xs)} inputs; lengths must match")
        w, x = _values(ws, "dot"), _values(xs, "dot")
        b = bias if type(bias) is Value else _lift_or_raise(bias, "dot")
        z = b.data + sum(map(_mul, map(_data, w), map(_data, x)))  # all in C: this runs per neuron per point
        return _make(z, "dot", w + (b,), x)

    @staticmethod
    def _dot_backward(out: Value) -> None:
        g = out.grad
        wb, xs = out._a, out._b
        for w, x in zip(wb, xs):  # zip stops before the bias, the last of wb
            w.grad += g * x.data
            x.grad += g * w.data
        wb[-1].grad += g

    # -- derived ops: compositions of the primitives above -----------------------------------------

    def __radd__(self, other: Number) -> Value:  # other + self
        return self + other

    def __sub__(self, other: Value | Number) -> Value:  # a - b = a + (-b)
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return self + (-other)

    def __rsub__(self, other: Number) -> Value:  # other - self = other + (-self)
        return (-self) + other

    def __rmul__(self, other: Number) -> Value:  # other * self
        return self * other

    def __truediv__(self, other: Value | Number) -> Value:  # a / b = a * b**-1
        if type(other) is not Value:
            other = _lift(other)
            if other is None:
                return NotImplemented
        return self * other**-1

    def __rtruediv__(self, other: Number) -> Value:  # other / self = other * self**-1
        return self**-1 * other

    # -- reverse mode ------------------------------------------------------------------------------

    def backward(self) -> None:
        """Fill ``grad`` of every value this one depends on with d self / d value.

        Iterative (no recursion, any depth). Interior grads are reset first, so calling backward()
        twice on one graph does not double them; leaf grads accumulate until zeroed, as in PyTorch.
        """
        order = _interior_order(self)  # also zeroes each interior grad
        if self._op:
            self.grad = 1.0
        else:
            self.grad += 1.0  # a leaf is its own root: d self / d self = 1, accumulated
        table = _BACKWARD
        for node in reversed(order):
            table[node._op](node)


# -- node construction ------------------------------------------------------------------------------

_new = object.__new__


def _make(data: float, op: str, a: object, b: object = None) -> Value:
    """A new node. Under ``no_grad`` it is a constant: no op, no inputs, so it keeps nothing alive."""
    out = _new(Value)
    out.data = data
    out.grad = 0.0
    out.label = ""
    if grad_mode.enabled:
        out._op = op
        out._a = a
        out._b = b
    else:
        out._op = ""
        out._a = None
        out._b = None
    return out


def _is_real(x: object) -> bool:
    # Fast path for the common types; numbers.Real also admits numpy scalars. bool is an int, as in Python.
    return type(x) is float or type(x) is int or (isinstance(x, numbers.Real) and not isinstance(x, complex))


def _as_float(data: object) -> float:
    if not _is_real(data):
        raise TypeError(f"Value needs a real number, got {type(data).__name__}: {data!r}")
    return float(data)


def _lift(x: object) -> Value | None:
    """A number as a constant Value; None for anything else (so the op returns NotImplemented)."""
    if _is_real(x):
        v = _new(Value)
        v.data = float(x)
        v.grad = 0.0
        v.label = ""
        v._op = ""
        v._a = None
        v._b = None
        return v
    return None


def _lift_or_raise(x: object, op: str) -> Value:
    v = _lift(x)
    if v is None:
        raise TypeError(f"{op}: expected Values or numbers, got {type(x).__name__}: {x!r}")
    return v


_VALUE_ONLY = {Value}
_data = attrgetter("data")
_is_interior = attrgetter("_op")  # "" (falsy) for leaves


def _values(items: Iterable[object], op: str) -> tuple[Value, ...]:
    """The items as a tuple of Values, numbers lifted to constants."""
    t = tuple(items)
    if set(map(type, t)) == _VALUE_ONLY:  # the common case, checked without a Python-level loop
        return t
    return tuple(v if type(v) is Value else _lift_or_raise(v, op) for v in t)


def _pow_slope(x: float, k: Number) -> float:
    """k·x^(k-1), with the limits Python's ** will not compute itself."""
    if k == 0:
        return 0.0
    try:
        return k * x ** (k - 1)
    except ZeroDivisionError:  # x == 0 and 0 < k < 1: the slope of x^k at 0 is unbounded
        return math.inf
    except OverflowError:  # |slope| beyond float range: ±inf, negative when x^(k-1) or k is
        odd_power = x < 0 and float(k - 1).is_integer() and int(k - 1) % 2 == 1
        return math.copysign(math.inf, -k if odd_power else k)


def _inputs_of(node: Value) -> tuple[Value, ...]:
    """Every input of an interior node (order unimportant: used for graph walking)."""
    a, b = node._a, node._b
    if type(a) is tuple:
        return a if b is None else a + b
    if type(b) is Value:
        return (a, b)
    return (a,)


def _interior_order(root: Value) -> list[Value]:
    """The interior nodes reachable from ``root``, each after all of its inputs; zeroes their grads.

    Depth-first with an explicit stack of (node, expanded) pairs: a node is appended once all its
    inputs are. Leaves are skipped -- they need no visiting, and most edges (weights) end at leaves.
    A node is marked seen when expanded, not when pushed, so a node pushed early but used again by a
    later consumer is pushed again and finished before that consumer.
    """
    if not root._op:
        return []
    order: list[Value] = []
    seen: set[Value] = set()  # Value hashes by identity (it defines no __eq__)
    stack: list[tuple[Value, bool]] = [(root, False)]
    pop, push = stack.pop, stack.append
    while stack:
        node, expanded = pop()
        if expanded:
            order.append(node)
            continue
        if node in seen:
            continue
        seen.add(node)
        node.grad = 0.0
        push((node, True))
        for child in filter(_is_interior, _inputs_of(node)):
            if child not in seen:
                push((child, False))
    return order


_BACKWARD: dict[str, Callable[[Value], None]] = {
    "+": Value._add_backward,
    "*": Value._mul_backward,
    "**": Value._pow_backward,
    "neg": Value._neg_backward,
    "exp": Value._exp_backward,
    "log": Value._log_backward,
    "tanh": Value._tanh_backward,
    "relu": Value._relu_backward,
    "sigmoid": Value._sigmoid_backward,
    "sum": Value._sum_backward,
    "dot": Value._dot_backward,
}
