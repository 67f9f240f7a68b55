"""Derivatives of derivatives against PyTorch: every op of both engines, and random graphs of both.

For each op (tests/second_order_cases.py) the same function runs on our leaves and on torch's, in float64, and
three derivatives are compared, each for fixed random vectors:

    first   g = vᵀ·∂y/∂x                                   autograd.grad(y, x, v, create_graph=True)
    second  h = ∂⟨w, g⟩/∂(x, v)                            the gradient of the gradient, also in the seed v
    third   ∂⟨u, h⟩/∂(x, v)                                and once more

The seed v is a leaf that requires grad, so the second derivative also checks how the gradient's graph
depends on the seed (as PyTorch's gradgradcheck does). Then the same for random graphs of 20-40 ops drawn from
every op, Values and Tensors; Hessian symmetry; and the ops that cannot be differentiated twice say so.
"""
from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import torch_or_skip
from second_order_cases import OURS, TENSOR_CASES, VALUE_CASES, VALUE_OURS, Case, torch_namespace

from autograd import Function, Tensor, Value, grad, no_grad, once_differentiable
from autograd.functional import hessian
from nn import functional as F

torch = torch_or_skip()
THEIRS = torch_namespace()


# -- the three derivatives, written once for either library -------------------------------------------------


class Lib:
    """What differs between running on ours and on torch: making leaves, grad, reading numbers."""

    def __init__(self, ours: bool, scalar: bool = False) -> None:
        self.ours, self.scalar = ours, scalar

    def leaf(self, a: np.ndarray) -> object:
        if self.scalar and self.ours:
            return Value(float(a))
        if self.ours:
            return Tensor(np.array(a, dtype=np.float64), requires_grad=True)
        return torch.tensor(np.array(a, dtype=np.float64), requires_grad=True)

    def requires_grad(self, t: object) -> bool:
        return isinstance(t, Value) or bool(getattr(t, "requires_grad", False))

    def grad(self, outs: list, ins: list, vs: list, create_graph: bool) -> list:
        live = [(o, v) for o, v in zip(outs, vs) if o is not None and self.requires_grad(o)]
        if not live:
            return [None] * len(ins)
        if self.ours:
            return list(grad([o for o, _ in live], ins, [v for _, v in live], create_graph=create_graph,
                             allow_unused=True))
        return list(torch.autograd.grad([o for o, _ in live], ins, [v for _, v in live], create_graph=create_graph,
                                        allow_unused=True))

    def numbers(self, t: object, like: np.ndarray) -> np.ndarray:
        if t is None:
            return np.zeros(like.shape)
        if isinstance(t, (Value, Tensor)):
            return np.array(t.data, dtype=np.float64)
        return t.detach().numpy()


def three_derivatives(case: Case, lib: Lib, m: object, arrays: list[np.ndarray], orders: int = 3) -> list[list]:
    """[first, second, third] derivatives of ``case`` as arrays (see the module docstring), for fixed random
    v, w, u drawn from the same seed on both sides."""
    rng = np.random.default_rng(1)
    xs = [lib.leaf(a) for a in arrays]
    y = case.fn(m, *xs)
    y_shape = () if isinstance(y, Value) else tuple(y.shape)
    v = lib.leaf(rng.standard_normal(y_shape))
    ins = [*xs, v]
    like = [*arrays, np.zeros(y_shape)]
    results = []
    outs, seeds = [y], [v]
    for order in range(orders):
        create = order < orders - 1
        wrt = xs if order == 0 else ins
        got = lib.grad(outs, wrt, seeds, create_graph=create)
        results.append([lib.numbers(g, a) for g, a in zip(got, like)])
        outs = got
        seeds = [lib.leaf(rng.standard_normal(a.shape)) if lib.scalar and lib.ours else
                 _plain(lib, rng.standard_normal(a.shape)) for a in like[: len(got)]]
    return results


def _plain(lib: Lib, a: np.ndarray) -> object:
    """A seed that is a constant (the w and u of the higher derivatives)."""
    if lib.ours:
        return np.array(a, dtype=np.float64)
    return torch.tensor(np.array(a, dtype=np.float64))


def assert_same_derivatives(case: Case, ours: list[list], theirs: list[list]) -> None:
    for order, (mine, ref) in enumerate(zip(ours, theirs), start=1):
        assert len(mine) == len(ref)
        for i, (a, b) in enumerate(zip(mine, ref)):
            scale = max(1.0, float(np.max(np.abs(b), initial=0.0)))
            np.testing.assert_allclose(a, b, rtol=case.rtol, atol=case.rtol * scale,
                                       err_msg=f"{case.name}: derivative of order {order}, input {i}")


# -- every Tensor op --------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", TENSOR_CASES, ids=[c.name for c in TENSOR_CASES])
def test_tensor_op_first_second_and_third_derivatives_match_torch(case: Case):
    arrays = case.arrays()
    ours = three_derivatives(case, Lib(True), OURS, arrays)
    theirs = three_derivatives(case, Lib(False), THEIRS, arrays)
    assert_same_derivatives(case, ours, theirs)


@pytest.mark.parametrize("name", ["batch_norm", "layer_norm"])
def test_norm_layers_match_torchs_own_to_second_order(name):
    """Against torch's fused F.batch_norm / F.layer_norm (the cases above compare with their composition from
    primitives): the same first and second derivatives. Their third derivatives differ: torch's fused
    double-backward formula is not differentiated correctly again (it disagrees with torch's own composition, which
    agrees with ours to 1e-14), so the third order is compared with the composition only."""
    def ours_fn(m, x, w, b):
        return F.batch_norm(x, None, None, w, b, training=True) if name == "batch_norm" else F.layer_norm(x, (4,), w, b)

    def torch_fn(m, x, w, b):
        if name == "batch_norm":
            return torch.nn.functional.batch_norm(x, None, None, w, b, training=True)
        return torch.nn.functional.layer_norm(x, (4,), w, b)

    inputs = (((3, 4), "any"), ((4,), "any"), ((4,), "any"))  # batch norm: 4 channels; layer norm: 4 features
    arrays = Case(name, ours_fn, inputs).arrays()
    ours = three_derivatives(Case(name, ours_fn, inputs), Lib(True), OURS, arrays, orders=2)
    theirs = three_derivatives(Case(name, torch_fn, inputs), Lib(False), THEIRS, arrays, orders=2)
    assert_same_derivatives(Case(name, ours_fn, inputs), ours, theirs)


def test_the_tensor_cases_cover_every_op():
    """Every op that declares its derivative's text (autograd.tensor.rule_text: all of autograd.tensor's and
    nn.functional's) appears in the graphs the cases build, forward or backward, and every function of
    nn.functional has a case (one_hot has no gradient; the convolution family is tested beside it)."""
    from autograd.graph import topological_order_of
    from autograd.tensor import RULE_TEXT

    seen: set[str] = set()
    for case in TENSOR_CASES:
        xs = [Tensor(a, requires_grad=True) for a in case.arrays()]
        y = case.fn(OURS, *xs)
        gs = [g for g in grad(y, xs, np.ones(y.shape), create_graph=True, allow_unused=True) if g is not None]
        seen |= {t.op for t in topological_order_of([y, *gs], lambda t: t.inputs)}
    missing = set(RULE_TEXT) - seen - CONV_FAMILY - {"view"}  # view is reshape's other name
    assert not missing, f"ops without a second-order case: {sorted(missing)}"
    composed = set(F.__all__) - {name for name in F.__all__ if f"F.{name}" in " ".join(c.name for c in TENSOR_CASES)}
    assert composed <= CONV_FAMILY | {"one_hot"}, f"nn.functional without a second-order case: {sorted(composed)}"


# The convolution family's second derivatives are tested beside it, against torch too: test_conv_second_order.py
CONV_FAMILY = {"conv2d", "max_pool2d", "avg_pool2d", "adaptive_avg_pool2d", "max_unpool2d", "dropout2d", "fold",
               "unfold", "pad"}


# -- every Value op -------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", VALUE_CASES, ids=[c.name for c in VALUE_CASES])
def test_value_op_first_second_and_third_derivatives_match_torch(case: Case):
    arrays = case.arrays()
    ours = three_derivatives(case, Lib(True, scalar=True), VALUE_OURS, arrays)
    theirs = three_derivatives(case, Lib(False, scalar=True), THEIRS, arrays)
    assert_same_derivatives(case, ours, theirs)


@pytest.mark.parametrize("case", VALUE_CASES, ids=[c.name for c in VALUE_CASES])
def test_value_op_fourth_derivative_by_backward_create_graph_matches_torch(case: Case):
    """Four times through ``backward(create_graph=True)`` and ``.grad`` (not autograd.grad) on one input."""
    arrays = case.arrays()
    xs = [Value(float(a)) for a in arrays]
    txs = [torch.tensor(float(a), dtype=torch.float64, requires_grad=True) for a in arrays]
    y, ty = case.fn(VALUE_OURS, *xs), case.fn(THEIRS, *txs)
    for order in range(1, 5):
        for x in xs:
            x.grad = 0.0
        y.backward(create_graph=True)
        (ty_grad,) = torch.autograd.grad(ty, txs[0], create_graph=True, allow_unused=True)
        mine = xs[0].grad
        ref = 0.0 if ty_grad is None else ty_grad.item()
        assert math.isclose(float(mine), ref, rel_tol=1e-10, abs_tol=1e-10), f"order {order}: {mine} vs {ref}"
        if not isinstance(mine, Value) or ty_grad is None or not ty_grad.requires_grad:
            break
        y, ty = mine, ty_grad


# -- random graphs --------------------------------------------------------------------------------------


def _safe_log(m: object, a: object) -> object:
    return (a * a + 0.5).log()


def _safe_div(m: object, a: object, b: object) -> object:
    return a / (b * b + 1.0)


# (name, arity, op): each op runs on ours and torch alike; inputs stay in a range where every op is smooth.
VALUE_OPS = [
    ("+", 2, lambda m, a, b: a + b), ("-", 2, lambda m, a, b: a - b), ("*", 2, lambda m, a, b: a * b),
    ("/", 2, _safe_div), ("neg", 1, lambda m, a: -a), ("exp", 1, lambda m, a: (a * 0.3).exp()),
    ("log", 1, _safe_log), ("tanh", 1, lambda m, a: a.tanh()), ("sigmoid", 1, lambda m, a: a.sigmoid()),
    ("relu", 1, lambda m, a: a.relu() + a * 0.1), ("**2", 1, lambda m, a: a**2 * 0.5),
    ("**3", 1, lambda m, a: (a * 0.5) ** 3), ("**-1", 1, lambda m, a: (a * a + 1.0) ** -1),
    ("**0.5", 1, lambda m, a: (a * a + 0.5) ** 0.5), ("rpow", 1, lambda m, a: 1.5 ** (a * 0.5)),
    ("number -", 1, lambda m, a: 1.0 - a), ("number /", 1, lambda m, a: 1.0 / (a * a + 1.0)),
    ("sum", 3, lambda m, a, b, c: Value.sum([a, b, c]) if m is VALUE_OURS else a + b + c),
    ("dot", 3, lambda m, a, b, c: Value.dot([a, b], [b, c], a) if m is VALUE_OURS else a * b + b * c + a),
    ("Function", 1, lambda m, a: _sigmoid_case(m, a)),
]


def _sigmoid_case(m: object, a: object) -> object:
    from second_order_cases import LibrarySigmoid

    return LibrarySigmoid.apply(a) if m is VALUE_OURS else a.sigmoid()


def random_value_graph(seed: int, n_inputs: int = 3, n_ops: int = 25) -> tuple[list[float], list]:
    """A random recipe: ``n_ops`` ops, each drawn from VALUE_OPS, applied to earlier values (any of them, so
    values are reused and paths join). Returns the input numbers and the recipe [(op index, argument indices)]."""
    rng = np.random.default_rng(seed)
    inputs = list(rng.uniform(-1.5, 1.5, n_inputs))
    recipe = []
    for k in range(n_ops):
        op = int(rng.integers(len(VALUE_OPS)))
        arity = VALUE_OPS[op][1]
        args = [int(rng.integers(n_inputs + k)) for _ in range(arity)]
        recipe.append((op, args))
    return inputs, recipe


def build(recipe: list, leaves: list, m: object, ops: list) -> object:
    """Run a recipe on ``leaves``: the output is the sum of the last few values (so several paths end at it)."""
    nodes = list(leaves)
    for op, args in recipe:
        nodes.append(ops[op][2](m, *[nodes[i] for i in args]))
    out = nodes[-1]
    for extra in nodes[-4:-1]:
        out = out + extra
    return out


@pytest.mark.parametrize("seed", range(40))
def test_random_value_graph_derivatives_to_third_order_match_torch(seed: int):
    numbers, recipe = random_value_graph(seed)
    case = Case(f"value graph {seed}", lambda m, *xs: build(recipe, list(xs), m, VALUE_OPS),
                tuple(((), "any") for _ in numbers), rtol=1e-9)
    arrays = [np.array(x) for x in numbers]
    ours = three_derivatives(case, Lib(True, scalar=True), VALUE_OURS, arrays)
    theirs = three_derivatives(case, Lib(False, scalar=True), THEIRS, arrays)
    assert_same_derivatives(case, ours, theirs)


def _tensor_ops() -> list:
    """(name, arity, op) on (3, 4) tensors, each returning (3, 4): every kind of Tensor op, shapes restored."""
    w = np.random.default_rng(99).standard_normal((4, 4)) * 0.5

    def weight(m: object, like: object) -> object:
        return Tensor(w) if m is OURS else torch.tensor(w)

    return [
        ("+ broadcast", 2, lambda m, a, b: a + b[0]), ("-", 2, lambda m, a, b: a - b),
        ("*", 2, lambda m, a, b: a * b), ("/", 2, lambda m, a, b: a / (b * b + 1.0)),
        ("exp", 1, lambda m, a: (a * 0.3).exp()), ("log", 1, lambda m, a: (a * a + 0.5).log()),
        ("tanh", 1, lambda m, a: a.tanh()), ("sigmoid", 1, lambda m, a: a.sigmoid()),
        ("relu", 1, lambda m, a: a.relu() + 0.1 * a), ("abs", 1, lambda m, a: a.abs() * a * 0.5),
        ("sqrt", 1, lambda m, a: (a * a + 0.5).sqrt()), ("**3", 1, lambda m, a: (0.5 * a) ** 3),
        ("** tensor", 2, lambda m, a, b: (a * a + 0.5) ** (0.3 * b)),
        ("@", 2, lambda m, a, b: (a @ b.T) @ a * 0.2), ("linear", 1, lambda m, a: m.F.linear(a, weight(m, a))),
        ("sum keepdim", 2, lambda m, a, b: a.sum(1, keepdim=True) * b), ("mean", 2, lambda m, a, b: a.mean(0) + b),
        ("var", 2, lambda m, a, b: a.var(1, keepdim=True) * b),
        ("amax", 2, lambda m, a, b: b - a.amax(1, keepdim=True)),
        ("max dim", 2, lambda m, a, b: a.max(0).values * b), ("softmax", 1, lambda m, a: a.softmax(1)),
        ("log_softmax", 1, lambda m, a: a.log_softmax(0)), ("transpose", 1, lambda m, a: a.T.reshape(3, 4)),
        ("getitem repeated", 1, lambda m, a: a[[0, 0, 2]] * a[[1, 2, 1]]),
        ("cat", 2, lambda m, a, b: m.cat([a[:, :2], b[:, 2:]], 1)),
        ("stack", 2, lambda m, a, b: m.stack([a, b]).sum(0)),
        ("where", 2, lambda m, a, b: m.where(m.mask(a), a, b)),
        ("clip", 1, lambda m, a: a.clip(-1.0, 1.0) * a),
        ("expand", 1, lambda m, a: a[:1].expand(3, 4) * a),
    ]


TENSOR_OPS = _tensor_ops()


def random_tensor_graph(seed: int, n_inputs: int = 3, n_ops: int = 20) -> tuple[list[np.ndarray], list]:
    rng = np.random.default_rng(seed)
    inputs = [rng.uniform(-1.5, 1.5, (3, 4)) for _ in range(n_inputs)]
    recipe = []
    for k in range(n_ops):
        op = int(rng.integers(len(TENSOR_OPS)))
        args = [int(rng.integers(n_inputs + k)) for _ in range(TENSOR_OPS[op][1])]
        recipe.append((op, args))
    return inputs, recipe


@pytest.mark.parametrize("seed", range(30))
def test_random_tensor_graph_derivatives_to_third_order_match_torch(seed: int):
    arrays, recipe = random_tensor_graph(seed)
    case = Case(f"tensor graph {seed}", lambda m, *xs: build(recipe, list(xs), m, TENSOR_OPS),
                tuple(((3, 4), "any") for _ in arrays), rtol=1e-9)
    ours = three_derivatives(case, Lib(True), OURS, arrays)
    theirs = three_derivatives(case, Lib(False), THEIRS, arrays)
    assert_same_derivatives(case, ours, theirs)


def test_random_graphs_use_every_op():
    used_v = {op for s in range(40) for op, _ in random_value_graph(s)[1]}
    used_t = {op for s in range(30) for op, _ in random_tensor_graph(s)[1]}
    assert used_v == set(range(len(VALUE_OPS)))
    assert used_t == set(range(len(TENSOR_OPS)))


# -- Hessians are symmetric -------------------------------------------------------------------------------


def test_hessian_of_a_small_mlp_loss_is_symmetric_and_matches_torch():
    rng = np.random.default_rng(3)
    x, w1, w2 = rng.standard_normal((5, 3)), rng.standard_normal((4, 3)), rng.standard_normal((3, 4))
    labels = np.array([0, 2, 1, 1, 0])

    def loss(a, b):
        return F.cross_entropy(F.linear(F.linear(Tensor(x), a).tanh(), b), labels)

    def torch_loss(a, b):
        tF = torch.nn.functional
        return tF.cross_entropy(tF.linear(tF.linear(torch.tensor(x), a).tanh(), b), torch.tensor(labels))

    ours = hessian(loss, (Tensor(w1), Tensor(w2)))
    theirs = torch.autograd.functional.hessian(torch_loss, (torch.tensor(w1), torch.tensor(w2)))
    n1, n2 = w1.size, w2.size
    full = np.block([[ours[i][j].data.reshape(n1 if i == 0 else n2, n1 if j == 0 else n2) for j in range(2)]
                     for i in range(2)])
    np.testing.assert_allclose(full, full.T, rtol=0, atol=1e-14)  # symmetric to rounding
    for i in range(2):
        for j in range(2):
            np.testing.assert_allclose(ours[i][j].data, theirs[i][j].numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("case", TENSOR_CASES, ids=[c.name for c in TENSOR_CASES])
def test_hessian_of_an_op_is_symmetric(case: Case):
    """The Hessian of ⟨r, op(x)⟩ in all inputs at once is symmetric, to rounding."""
    arrays = case.arrays()
    r = np.random.default_rng(5).standard_normal(np.shape(case.fn(OURS, *[Tensor(a) for a in arrays]).data))

    def f(*xs):
        return (case.fn(OURS, *xs) * Tensor(r)).sum()

    h = hessian(f, tuple(Tensor(a) for a in arrays))
    sizes = [a.size for a in arrays]
    full = np.block([[h[i][j].data.reshape(sizes[i], sizes[j]) for j in range(len(arrays))]
                     for i in range(len(arrays))])
    np.testing.assert_allclose(full, full.T, rtol=0, atol=1e-12 * max(1.0, np.abs(full).max()))


# -- what cannot be differentiated twice says so -------------------------------------------------------------


class NumpyTanh(Function):
    """tanh with a backward in raw NumPy: right at first order, not differentiable again."""

    @staticmethod
    def forward(ctx, x):
        t = np.tanh(x)
        ctx.save_for_backward(t)
        return t

    @staticmethod
    def backward(ctx, g):
        (t,) = ctx.saved_tensors
        return g * (1 - np.square(t))


class SavedIntermediate(Function):
    """x·σ(x) with σ(x) saved in forward: an array the create_graph pass cannot follow."""

    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, g):
        x, s = ctx.saved_tensors
        return g * s * (1 + x * (1 - s))


class FirstOrderOnly(Function):
    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x**3

    @staticmethod
    @once_differentiable
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 3 * x**2


@pytest.mark.parametrize("fn, words", [
    (NumpyTanh, ["NumpyTanh", "NumPy"]),
    (SavedIntermediate, ["SavedIntermediate", "saved_tensors[1]"]),
    (FirstOrderOnly, ["FirstOrderOnly", "once_differentiable"]),
])
def test_a_function_that_cannot_be_differentiated_twice_says_so_by_name(fn, words):
    x = Tensor(np.array([0.3, -1.2]), requires_grad=True)
    fn.apply(x).sum().backward()  # first order is fine
    assert x.grad is not None
    with pytest.raises(RuntimeError) as info:
        grad(fn.apply(x).sum(), x, create_graph=True)
    for word in words:
        assert word in str(info.value)


def test_a_value_function_with_a_math_backward_says_so_by_name():
    class MathExp(Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return math.exp(x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * math.exp(x)

    x = Value(0.5)
    with pytest.raises((RuntimeError, TypeError)) as info:
        grad(MathExp.apply(x), x, create_graph=True)
    assert "MathExp" in str(info.value)


# -- in place, found on the way: the op's old numbers and the ops made before it ----------------------------


def test_an_in_place_product_differentiates_with_the_old_numbers():
    """t = x + y; t *= y is t = (x + y)·y: d/dy = x + 2y, which needs t's numbers from before the product."""
    x, y = Tensor(np.array([1.0, 2.0]), requires_grad=True), Tensor(np.array([3.0, 4.0]), requires_grad=True)
    t = x * 1.0
    t += y
    t *= y
    gx, gy = grad(t.sum(), [x, y], create_graph=True)
    np.testing.assert_array_equal(gx.data, [3.0, 4.0])
    np.testing.assert_array_equal(gy.data, [7.0, 10.0])
    (gyy,) = grad(gy.sum(), y)
    np.testing.assert_array_equal(gyy.data, [2.0, 2.0])


def test_an_op_made_before_an_in_place_change_sends_its_gradient_to_the_old_version():
    x, y = Tensor(np.array([1.0, 2.0]), requires_grad=True), Tensor(np.array([3.0, 4.0]), requires_grad=True)
    t = x * 1.0
    u = t * 2.0  # uses t as it is now
    t += y  # t changes; u does not
    gx, gy = grad(u.sum(), [x, y], allow_unused=True)
    np.testing.assert_array_equal(gx.data, [2.0, 2.0])
    assert gy is None  # as in PyTorch: u never saw y
    gx, gy = grad((u + t).sum(), [x, y])
    np.testing.assert_array_equal(gx.data, [3.0, 3.0])
    np.testing.assert_array_equal(gy.data, [1.0, 1.0])


def test_a_node_changed_unrecorded_under_no_grad_is_refused_where_its_rule_reads_it():
    x = Tensor(np.array([0.5]), requires_grad=True)
    e = x.exp()  # its rule reads its output
    with no_grad():
        e += 1.0
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        grad(e.sum(), x)
