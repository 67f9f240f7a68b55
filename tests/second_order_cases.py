"""Every op of both engines as a small case for the second-order tests: written once, run on ours and on torch.

A case is a function ``fn(m, *inputs)`` that uses only names the two libraries share (``x.tanh()``,
``x.sum(1, keepdim=True)``, ``x @ y``, ``x[[0, 0, 2]]``) plus a namespace ``m`` for the few that differ (``m.where``,
``m.F.linear``, ``m.labels``, ``m.dropout``), and the inputs it takes: a shape and a domain each. The same
lambda then builds a graph of ours (``OURS``) and of torch's (``torch_namespace()``), so the tests compare
first, second and third derivatives op by op (tests/test_second_order.py) and run gradgradcheck on every op
(tests/test_gradgradcheck.py).

Domains keep each op where it is smooth: "any" is N(0, 1) away from 0 (so relu, abs and clip sit away from
their kinks), "pos" is in [0.5, 2] (log, sqrt, fractional powers, divisors), "prob" in [0.1, 0.9] (targets of
binary cross-entropy), "ties" has repeated maxima along each row (amax's even split).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np
from conftest import Sigmoid

import autograd
from autograd import Function, Tensor, Value
from nn import functional as F


@dataclass(frozen=True)
class Case:
    """One op: its name (the test id), the function of the inputs, and each input's (shape, domain)."""

    name: str
    fn: Callable[..., Any]
    inputs: tuple[tuple[tuple[int, ...], str], ...]
    rtol: float = 1e-10  # against torch: float64 throughout, unless the op rounds to float32 on the way

    def arrays(self, seed: int = 0) -> list[np.ndarray]:
        rng = np.random.default_rng(seed)
        return [draw(rng, shape, domain) for shape, domain in self.inputs]


def draw(rng: np.random.Generator, shape: tuple[int, ...], domain: str) -> np.ndarray:
    """float64 numbers of ``shape`` in ``domain`` (see the module docstring)."""
    if domain == "any":
        x = rng.standard_normal(shape)
        return np.where(np.abs(x) < 0.2, np.sign(x) * 0.2 + x, x)  # away from 0: relu, abs, clip are smooth there
    if domain == "pos":
        return rng.uniform(0.5, 2.0, shape)
    if domain == "prob":
        return rng.uniform(0.1, 0.9, shape)
    if domain == "ties":  # each row's maximum appears twice, so amax/amin split the gradient
        x = rng.standard_normal(shape)
        x[..., 1] = x.max(axis=-1) + 0.5
        x[..., -1] = x[..., 1]
        x[..., 0] = x.min(axis=-1) - 0.5
        x[..., 2] = x[..., 0]
        return x
    raise ValueError(domain)


# -- what differs between the two libraries -----------------------------------------------------------------

LABELS = [2, 0, 1]  # class labels for cross_entropy's batch of 3
DROPOUT_P, DROPOUT_SEED = 0.4, 7


def _our_dropout(x: Tensor) -> Tensor:
    return F.dropout(x, DROPOUT_P, rng=np.random.default_rng(DROPOUT_SEED))


def dropout_mask(shape: tuple[int, ...]) -> np.ndarray:
    """The mask ``F.dropout`` draws from ``DROPOUT_SEED``, scaled by 1/(1 − p): the same draws, made again."""
    keep = np.random.default_rng(DROPOUT_SEED).random(shape) >= DROPOUT_P
    return keep / (1 - DROPOUT_P)


INDICES = [[0, 2, 1], [2, 2, 4]]  # rows of an embedding table, some looked up twice (row 1 is the padding row)

def normalised(x: Any, axes: tuple[int, ...], weight: Any = None, bias: Any = None, eps: float = 1e-5) -> Any:
    """(x − mean)/√(var + eps)·weight + bias over ``axes``, from primitives: torch's reference for batch and layer
    norm. (torch's own F.batch_norm and F.layer_norm have fused double-backward formulas whose derivative, the
    third, disagrees with the composition by O(10); tests/test_second_order.py compares them to second order.)"""
    centred = x - x.mean(axes, keepdim=True)
    out = centred * ((centred * centred).mean(axes, keepdim=True) + eps) ** -0.5
    shape = [1] * x.ndim
    shape[1 if axes[0] == 0 else -1] = -1
    if weight is not None:
        out = out * weight.reshape(shape)
    if bias is not None:
        out = out + bias.reshape(shape)
    return out


OURS = SimpleNamespace(
    where=autograd.where, stack=autograd.stack, cat=autograd.cat, F=F, float32=np.float32, float64=np.float64,
    labels=lambda: np.array(LABELS), dropout=_our_dropout, mask=lambda x: x.data > 0.3,
    indices=lambda: np.array(INDICES),
    batch_norm=lambda x, w=None, b=None: F.batch_norm(x, None, None, w, b, training=True),
    layer_norm=lambda x, w=None, b=None: F.layer_norm(x, x.shape[-1:], w, b),
)


def torch_namespace() -> SimpleNamespace:
    import torch
    import torch.nn.functional as tF

    return SimpleNamespace(
        where=torch.where, stack=torch.stack, cat=torch.cat, F=tF, float32=torch.float32, float64=torch.float64,
        labels=lambda: torch.tensor(LABELS),
        dropout=lambda x: x * torch.tensor(dropout_mask(tuple(x.shape))),
        mask=lambda x: x.detach() > 0.3, indices=lambda: torch.tensor(INDICES),
        batch_norm=lambda x, w=None, b=None: normalised(x, (0, *range(2, x.ndim)), w, b),
        layer_norm=lambda x, w=None, b=None: normalised(x, (-1,), w, b),
    )


def linear_relu(m: SimpleNamespace, x: Any, w: Any, b: Any) -> Any:
    """F.linear_relu is ours alone (nn.Sequential's fused Linear + ReLU); torch spells it out."""
    return m.F.linear_relu(x, w, b) if m is OURS else m.F.relu(m.F.linear(x, w, b))


def in_place(x: Any, y: Any) -> Any:
    """t += y, t *= y, t[1] = ..., t.sub_(y, alpha=2), t /= ...: one chain of in-place ops on a non-leaf."""
    t = x * 1.0
    t += y
    t *= y
    t[1] = x[0] * 2.0
    t.sub_(y, alpha=2.0)
    t /= x * x + 1.0
    return t


def filled(x: Any) -> Any:
    """fill_ and zero_ make a tensor constant in what it held before: only the later uses of x count."""
    t = x * x
    t.fill_(2.0)
    u = x * 1.0
    u.zero_()
    return (t + u) * x * x


def setitem_repeated(x: Any, y: Any) -> Any:
    t = x.clone()
    t[[0, 2]] = y[:2] * y[:2]
    return t.exp()


# -- the Tensor ops ----------------------------------------------------------------------------------------

M, V, ROW, COL = ((3, 4), "any"), ((4,), "any"), ((1, 4), "any"), ((3, 1), "any")
P = ((3, 4), "pos")

TENSOR_CASES: list[Case] = [
    # elementwise, with broadcasting
    Case("add", lambda m, a, b: a + b, (M, V)),
    Case("add scalar", lambda m, a: 2.5 + a, (M,)),
    Case("sub", lambda m, a, b: a - b, (COL, ROW)),
    Case("rsub", lambda m, a: 2.0 - a, (M,)),
    Case("mul", lambda m, a, b: a * b, (M, M)),
    Case("mul broadcast", lambda m, a, b: a * b, (M, COL)),
    Case("mul same input", lambda m, a: a * a, (M,)),
    Case("div", lambda m, a, b: a / b, (M, ((4,), "pos"))),
    Case("div same input", lambda m, a: a / a, (P,)),
    Case("rdiv", lambda m, a: 1.5 / a, (P,)),
    Case("add alpha", lambda m, a, b: a.add(b, alpha=-2.0), (M, M)),
    Case("sub alpha", lambda m, a, b: a.sub(b, alpha=3.0), (M, V)),
    Case("neg", lambda m, a: -a, (M,)),
    # powers
    Case("pow 2", lambda m, a: a**2, (M,)),
    Case("pow 3", lambda m, a: a**3, (M,)),
    Case("pow 0.5", lambda m, a: a**0.5, (P,)),
    Case("pow -1.5", lambda m, a: a**-1.5, (P,)),
    Case("pow 0", lambda m, a: a**0 * a, (M,)),
    Case("pow 1", lambda m, a: a**1, (M,)),
    Case("pow tensor exponent", lambda m, a, b: a**b, (P, M)),
    Case("pow tensor exponent broadcast", lambda m, a, b: a**b, (P, V)),
    Case("pow tensor exponent same input", lambda m, a: a**a, (P,)),
    Case("rpow", lambda m, a: 2.0**a, (M,)),
    # unary
    Case("exp", lambda m, a: a.exp(), (M,)),
    Case("log", lambda m, a: a.log(), (P,)),
    Case("log10", lambda m, a: a.log10(), (P,)),
    Case("log2", lambda m, a: a.log2(), (P,)),
    Case("tanh", lambda m, a: a.tanh(), (M,)),
    Case("sigmoid", lambda m, a: a.sigmoid(), (M,)),
    Case("relu", lambda m, a: a.relu() * a, (M,)),
    Case("abs", lambda m, a: a.abs() * a, (M,)),
    Case("sqrt", lambda m, a: a.sqrt(), (P,)),
    Case("clip", lambda m, a: a.clip(-0.5, 0.5) * a, (M,)),
    Case("clamp min", lambda m, a: a.clamp(min=0.1) ** 2, (M,)),
    Case("clone", lambda m, a: a.clone() * a, (M,)),
    Case("to float32 and back", lambda m, a: a.to(m.float32).to(m.float64) ** 2, (M,), rtol=1e-6),
    # matmul
    Case("matmul", lambda m, a, b: a @ b, (M, ((4, 2), "any"))),
    Case("matmul same input", lambda m, a: a @ a.T, (M,)),
    Case("matmul batches", lambda m, a, b: a @ b, (((2, 3, 4), "any"), ((2, 4, 2), "any"))),
    Case("matmul broadcast batch", lambda m, a, b: a @ b, (((2, 1, 3, 4), "any"), ((3, 4, 2), "any"))),
    Case("matmul batch with matrix", lambda m, a, b: a @ b, (((2, 3, 4), "any"), ((4, 2), "any"))),
    Case("matmul 1-D @ 2-D", lambda m, a, b: a @ b, (V, ((4, 3), "any"))),
    Case("matmul 2-D @ 1-D", lambda m, a, b: a @ b, (M, V)),
    Case("matmul 1-D @ 1-D", lambda m, a, b: a @ b, (V, V)),
    Case("matmul 1-D @ batch", lambda m, a, b: a @ b, (V, ((2, 4, 3), "any"))),
    # reductions
    Case("sum", lambda m, a: a.sum() * a, (M,)),
    Case("sum dim", lambda m, a: a.sum(1) ** 2, (M,)),
    Case("sum dims keepdim", lambda m, a: a.sum((0, 2), keepdim=True) ** 2, (((2, 3, 4), "any"),)),
    Case("mean", lambda m, a: a.mean() * a, (M,)),
    Case("mean dim", lambda m, a: a.mean(0) ** 3, (M,)),
    Case("var", lambda m, a: a.var(), (M,)),
    Case("var dim", lambda m, a: a.var(1), (M,)),
    Case("var population keepdim", lambda m, a: a.var(0, unbiased=False, keepdim=True), (M,)),
    Case("std", lambda m, a: a.std(), (M,)),
    Case("std dim correction 0", lambda m, a: a.std(1, correction=0), (M,)),
    Case("amax", lambda m, a: a.amax(1) ** 2, (M,)),
    Case("amax ties", lambda m, a: a.amax(1) ** 2 * a.sum(1), (((3, 5), "ties"),)),
    Case("amin ties keepdim", lambda m, a: a.amin(1, keepdim=True) * a, (((3, 5), "ties"),)),
    Case("amax all dims", lambda m, a: a.amax() * a, (M,)),
    Case("max", lambda m, a: a.max() ** 2, (M,)),
    Case("max ties", lambda m, a: a.max() * a, (((3, 5), "ties"),)),
    Case("min", lambda m, a: a.min() * a, (M,)),
    Case("max dim", lambda m, a: a.max(1).values ** 2, (M,)),
    Case("max dim keepdim", lambda m, a: a.max(0, keepdim=True).values * a, (M,)),
    Case("min dim", lambda m, a: a.min(1)[0] ** 3, (M,)),
    # shapes
    Case("reshape", lambda m, a: a.reshape(2, 6) ** 2, (M,)),
    Case("view", lambda m, a: a.view(-1) ** 3, (M,)),
    Case("flatten", lambda m, a: a.flatten(1) ** 2, (((2, 3, 2), "any"),)),
    Case("unsqueeze squeeze", lambda m, a: (a.unsqueeze(1) ** 2).squeeze(1), (M,)),
    Case("permute", lambda m, a: a.permute(2, 0, 1) ** 2, (((2, 3, 4), "any"),)),
    Case("transpose", lambda m, a: a.transpose(0, 2) ** 2, (((2, 3, 4), "any"),)),
    Case("t", lambda m, a: a.t() @ a, (M,)),
    Case("T", lambda m, a: a.T ** 3, (M,)),
    Case("expand", lambda m, a: a.expand(3, 4) ** 2, (ROW,)),
    Case("broadcast_to", lambda m, a: a.broadcast_to((2, 3, 4)) ** 3, (COL,)),
    Case("getitem slice", lambda m, a: a[1:, ::2] ** 2, (M,)),
    Case("getitem slice and int", lambda m, a: a[1:3, 1] ** 3, (M,)),
    Case("getitem int", lambda m, a: a[1] ** 2, (M,)),
    Case("getitem None and ellipsis", lambda m, a: a[None, ..., 2] ** 2, (M,)),
    Case("getitem repeated integer indices", lambda m, a: a[[0, 0, 2, 0]] ** 2, (M,)),
    Case("getitem repeated pairs", lambda m, a: a[[0, 2, 0], [1, 3, 1]] ** 3, (M,)),
    Case("getitem bool mask", lambda m, a: a[m.mask(a)] ** 2, (M,)),
    # softmax family
    Case("softmax", lambda m, a: a.softmax(1), (M,)),
    Case("softmax dim 0", lambda m, a: a.softmax(0) * a, (M,)),
    Case("log_softmax", lambda m, a: a.log_softmax(1), (M,)),
    Case("log_softmax dim 0", lambda m, a: a.log_softmax(0) ** 2, (M,)),
    # joins and selections
    Case("where", lambda m, a, b: m.where(m.mask(a), a * b, b**2), (M, M)),
    Case("where broadcast", lambda m, a, b: m.where(m.mask(a), a, b) ** 2, (M, V)),
    Case("stack", lambda m, a, b: m.stack([a, b, a * b], 1) ** 2, (M, M)),
    Case("cat", lambda m, a, b: m.cat([a, b * a[:1]], 0) ** 2, (M, ROW)),
    Case("cat dim 1", lambda m, a, b: m.cat([b, a], 1) ** 3, (M, COL)),
    # in place
    Case("in-place chain", lambda m, a, b: in_place(a, b), (M, M)),
    Case("fill_ and zero_", lambda m, a: filled(a), (M,)),
    Case("setitem repeated rows", lambda m, a, b: setitem_repeated(a, b), (M, M)),
    # nn.functional
    Case("F.relu", lambda m, a: m.F.relu(a) ** 2, (M,)),
    Case("F.tanh", lambda m, a: m.F.tanh(a), (M,)),
    Case("F.sigmoid", lambda m, a: m.F.sigmoid(a), (M,)),
    Case("F.softmax", lambda m, a: m.F.softmax(a, dim=1), (M,)),
    Case("F.log_softmax", lambda m, a: m.F.log_softmax(a, dim=0), (M,)),
    Case("F.linear", lambda m, x, w, b: m.F.linear(x, w, b), (M, ((2, 4), "any"), ((2,), "any"))),
    Case("F.linear no bias", lambda m, x, w: m.F.linear(x, w) ** 2, (M, ((2, 4), "any"))),
    Case("F.linear 3-D input", lambda m, x, w, b: m.F.linear(x, w, b) ** 2,
         (((2, 3, 4), "any"), ((2, 4), "any"), ((2,), "any"))),
    Case("F.linear same input", lambda m, x: m.F.linear(x, x) ** 2, (((3, 3), "any"),)),
    Case("F.linear_relu", lambda m, x, w, b: linear_relu(m, x, w, b) ** 2, (M, ((5, 4), "any"), ((5,), "any"))),
    Case("F.dropout", lambda m, a: m.dropout(a) ** 2, (M,)),
    Case("F.cross_entropy", lambda m, z: m.F.cross_entropy(z, m.labels()), (M,)),
    Case("F.cross_entropy of a linear layer", lambda m, x, w: m.F.cross_entropy(m.F.linear(x, w), m.labels()),
         (M, ((5, 4), "any"))),
    Case("F.mse_loss", lambda m, a, b: m.F.mse_loss(a, b), (M, M)),
    Case("F.mse_loss of squares", lambda m, a, b: m.F.mse_loss(a * a, b), (M, M)),
    Case("F.binary_cross_entropy_with_logits", lambda m, z, y: m.F.binary_cross_entropy_with_logits(z, y),
         (M, ((3, 4), "prob"))),
    Case("F.batch_norm", lambda m, x, w, b: m.batch_norm(x, w, b), (((5, 3), "any"), ((3,), "any"), ((3,), "any"))),
    Case("F.batch_norm of images", lambda m, x, w: m.batch_norm(x, w) ** 2, (((2, 3, 2, 2), "any"), ((3,), "any"))),
    Case("F.layer_norm", lambda m, x, w, b: m.layer_norm(x, w, b), (M, V, V)),
    Case("F.embedding", lambda m, w: m.F.embedding(m.indices(), w, padding_idx=1) ** 2, (((5, 3), "any"),)),
]


# -- the Value ops (scalars: compared with torch's 0-d tensors) -------------------------------------------


# σ with a backward written in library operations on the saved output: differentiable again (conftest).
LibrarySigmoid = Sigmoid


class LibraryProduct(Function):
    """x·y·k with a plain-number argument k (its gradient slot None): backward from the saved inputs."""

    @staticmethod
    def forward(ctx, x, y, k):
        ctx.save_for_backward(x, y)
        ctx.k = k
        return x * y * k

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        return g * y * ctx.k, g * x * ctx.k, None


def _sigmoid(m: SimpleNamespace, x: Any) -> Any:
    return LibrarySigmoid.apply(x) if m is VALUE_OURS else x.sigmoid()


def _product(m: SimpleNamespace, x: Any, y: Any) -> Any:
    return LibraryProduct.apply(x, y, 1.5) if m is VALUE_OURS else x * y * 1.5


def _value_sum(m: SimpleNamespace, *xs: Any) -> Any:
    return Value.sum(xs) if m is VALUE_OURS else sum(xs[1:], xs[0])


def _value_dot(m: SimpleNamespace, w0: Any, w1: Any, x0: Any, x1: Any, b: Any) -> Any:
    if m is VALUE_OURS:
        return Value.dot([w0, w1], [x0, x1], b)
    return w0 * x0 + w1 * x1 + b


VALUE_OURS = SimpleNamespace(name="ours")
S, SP = ((), "any"), ((), "pos")

VALUE_CASES: list[Case] = [
    Case("+", lambda m, a, b: a + b, (S, S)),
    Case("+ number", lambda m, a: a + 2.0, (S,)),
    Case("number +", lambda m, a: 2.0 + a, (S,)),
    Case("-", lambda m, a, b: a - b, (S, S)),
    Case("number -", lambda m, a: 2.0 - a, (S,)),
    Case("*", lambda m, a, b: a * b, (S, S)),
    Case("* same value", lambda m, a: a * a, (S,)),
    Case("number *", lambda m, a: 3.0 * a, (S,)),
    Case("/", lambda m, a, b: a / b, (S, SP)),
    Case("/ same value", lambda m, a: a / a, (SP,)),
    Case("number /", lambda m, a: 2.0 / a, (SP,)),
    Case("neg", lambda m, a: -a, (S,)),
    Case("**2", lambda m, a: a**2, (S,)),
    Case("**3", lambda m, a: a**3, (S,)),
    Case("**0.5", lambda m, a: a**0.5, (SP,)),
    Case("**-1", lambda m, a: a**-1, (SP,)),
    Case("**-2.5", lambda m, a: a**-2.5, (SP,)),
    Case("**0", lambda m, a: a**0 * a, (S,)),
    Case("**1", lambda m, a: a**1, (S,)),
    Case("2**", lambda m, a: 2.0**a, (S,)),
    Case("0.5**", lambda m, a: 0.5**a, (S,)),
    Case("exp", lambda m, a: a.exp(), (S,)),
    Case("log", lambda m, a: a.log(), (SP,)),
    Case("tanh", lambda m, a: a.tanh(), (S,)),
    Case("relu", lambda m, a: a.relu() * a, (S,)),
    Case("relu of a negative", lambda m, a: (-a * a).relu() + a, (S,)),
    Case("sigmoid", lambda m, a: a.sigmoid(), (S,)),
    Case("sigmoid of a negative", lambda m, a: (-a * a).sigmoid(), (S,)),
    Case("sum", lambda m, a, b, c: _value_sum(m, a, b * b, c), (S, S, S)),
    Case("sum same value", lambda m, a, b: _value_sum(m, a, a, b) * a, (S, S)),
    Case("dot", lambda m, w0, w1, x0, x1, b: _value_dot(m, w0, w1, x0, x1, b), (S, S, S, S, S)),
    Case("dot shared", lambda m, w, x, b: _value_dot(m, w, x, x, w, b) * w, (S, S, S)),
    Case("Function (library σ)", lambda m, a: _sigmoid(m, a), (S,)),
    Case("Function with a number argument", lambda m, a, b: _product(m, a, b) * a, (S, S)),
]
