"""The performance paths (issue 9) compute exactly what the plain paths compute.

Each fast path is checked against the straightforward formula or the unfused composition it replaces:
``F.linear_relu`` against ``relu(linear(...))``; both layouts of ``F.cross_entropy`` against log-softmax by
hand; the Value engine's graph walk against a textbook recursive topological sort, on graphs built to hit
its shortcuts (a layer's inputs tuple shared by several ``dot`` nodes, one of which feeds another).
"""
from __future__ import annotations

import random

import numpy as np
import pytest

from autograd import Tensor, Value
from autograd.value import _interior_order
from nn import functional as F

# -- F.linear_relu ------------------------------------------------------------------------------------


@pytest.mark.parametrize("shape", [(5, 4), (2, 3, 4)])
def test_linear_relu_matches_relu_of_linear_in_value_and_gradient(shape):
    rng = np.random.default_rng(0)
    w0, b0, x0 = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=shape)
    x0[..., 0] = 0.0  # some pre-activations land near 0 from both sides
    outs, grads = [], []
    for fused in (True, False):
        x, w, b = (Tensor(a.copy(), requires_grad=True) for a in (x0, w0, b0))
        y = F.linear_relu(x, w, b) if fused else F.linear(x, w, b).relu()
        y.backward(np.arange(y.data.size, dtype=np.float64).reshape(y.shape) - 3.0)
        outs.append(y.data)
        grads.append([t.grad for t in (x, w, b)])
    np.testing.assert_array_equal(outs[0], outs[1])
    for fused, plain in zip(*grads):
        np.testing.assert_allclose(fused, plain, rtol=1e-15, atol=0)


def test_linear_relu_is_one_node_with_linears_parents():
    x = Tensor(np.ones((2, 3)))
    w, b = Tensor(np.ones((4, 3)), requires_grad=True), Tensor(np.zeros(4), requires_grad=True)
    y = F.linear_relu(x, w, b)
    assert y.op == "linear_relu" and y.inputs == (x, w, b)


def test_linear_relu_errors_name_the_op():
    with pytest.raises(ValueError, match="linear_relu: input of shape"):
        F.linear_relu(Tensor(np.ones((2, 5))), Tensor(np.ones((4, 3))))


# -- F.cross_entropy: the transposed layout for few classes, the direct one for many -------------------


@pytest.mark.parametrize(("n", "c"), [(7, 3), (128, 10), (4, 64), (5, 65), (3, 300)])
@pytest.mark.parametrize("label_dtype", [np.uint8, np.int64])
def test_cross_entropy_matches_log_softmax_by_hand_for_few_and_many_classes(n, c, label_dtype):
    rng = np.random.default_rng(c)
    z0 = rng.normal(size=(n, c)) * 4.0
    t = rng.integers(0, min(c, 255), n).astype(label_dtype)
    z = Tensor(z0.copy(), requires_grad=True)
    loss = F.cross_entropy(z, t)
    loss.backward()
    log_p = z0 - z0.max(axis=1, keepdims=True)
    log_p -= np.log(np.exp(log_p).sum(axis=1, keepdims=True))
    assert loss.item() == pytest.approx(-log_p[np.arange(n), t].mean(), rel=1e-13)
    expected = np.exp(log_p)
    expected[np.arange(n), t] -= 1.0
    np.testing.assert_allclose(z.grad, expected / n, rtol=1e-12, atol=1e-15)


def test_cross_entropy_backward_twice_gives_the_same_gradient():
    z = Tensor(np.random.default_rng(1).normal(size=(6, 4)), requires_grad=True)
    loss = F.cross_entropy(z, [0, 1, 2, 3, 0, 1])
    loss.backward()
    first = z.grad.copy()
    loss.backward()
    np.testing.assert_allclose(z.grad, 2 * first, rtol=1e-15)


@pytest.mark.parametrize(("labels", "bad"), [(np.array([0, -1, 2], np.int8), -1), (np.array([0, 1, 3], np.uint8), 3),
                                             (np.array([-300, 1, 2], np.int64), -300)])
def test_cross_entropy_names_the_label_out_of_range_with_one_reduction_check(labels, bad):
    with pytest.raises(ValueError, match=f"label {bad} is outside"):
        F.cross_entropy(Tensor(np.zeros((3, 3))), labels)


# -- the Value engine's walk ---------------------------------------------------------------------------


def _reference_order(root: Value) -> list[Value]:
    """Interior nodes, inputs first: the textbook recursive DFS (fine for the small graphs here)."""
    order, seen = [], set()

    def visit(v: Value) -> None:
        if v in seen or v.is_leaf:
            return
        seen.add(v)
        for child in v.inputs:
            visit(child)
        order.append(v)

    visit(root)
    return order


def _check_order(order: list[Value], root: Value) -> None:
    position = {v: i for i, v in enumerate(order)}
    assert set(order) == set(_reference_order(root))
    assert len(position) == len(order)  # each node once
    for v in order:
        for child in v.inputs:
            if not child.is_leaf:
                assert position[child] < position[v]


def test_walk_orders_dot_nodes_sharing_an_inputs_tuple_when_one_feeds_another():
    a, b = Value(0.5), Value(-1.5)
    xs = (a * b, (a + b).relu(), a.tanh())  # one tuple, shared as every dot's inputs (as a layer does)
    d1 = Value.dot([Value(1.0), Value(2.0), Value(3.0)], xs)
    d2 = Value.dot([d1, Value(0.5), d1 * 2.0], xs, Value(0.25))  # d1 is a *weight* of d2: same xs, deeper
    d3 = Value.dot([Value(-1.0), d2, Value(1.0)], xs)
    root = Value.sum([d3, d2 * d1])
    _check_order(_interior_order(root), root)


def test_walk_orders_random_graphs_with_shared_subexpressions_and_fused_nodes():
    rng = random.Random(3)
    for _ in range(40):
        leaves = [Value(rng.uniform(-1, 1)) for _ in range(4)]
        pool = list(leaves)
        shared = None
        for _ in range(30):
            kind = rng.choice(["+", "*", "tanh", "relu", "sum", "dot", "dot"])
            if kind in "+*":
                v = rng.choice(pool) + rng.choice(pool) if kind == "+" else rng.choice(pool) * rng.choice(pool)
            elif kind in ("tanh", "relu"):
                v = getattr(rng.choice(pool), kind)()
            elif kind == "sum":
                v = Value.sum(rng.sample(pool, k=min(3, len(pool))))
            else:
                if shared is None or rng.random() < 0.3:
                    shared = tuple(rng.sample(pool, k=3))
                v = Value.dot([rng.choice(pool) for _ in range(3)], shared, rng.choice(pool))
            pool.append(v)
        root = Value.sum(pool[-5:])
        _check_order(_interior_order(root), root)


def test_walk_zeroes_interior_grads_and_leaves_leaf_grads_alone():
    x = Value(2.0)
    y = (x * x).tanh()
    z = y + y
    z.backward()
    first = (x.grad, y.grad)
    z.backward()
    assert y.grad == first[1]  # interior: reset per pass
    assert x.grad == pytest.approx(2 * first[0])  # leaf: accumulates


# -- nn.scalar's layer path: one checked inputs tuple, a weights tuple kept per neuron -------------------


def _mlp(seed: int = 0):
    from nn.scalar import MLP

    return MLP(2, [4, 3, 1], rng=random.Random(seed))


def test_a_layer_computes_what_each_neurons_checked_forward_computes():
    model = _mlp()
    x = [0.5, -1.25]
    for _ in range(2):  # the second call reuses the neurons' kept weight tuples
        fast = model(x)
        h = [Value(v) for v in x]
        for layer in model.layers:
            h = [n.forward(h) for n in layer.neurons]  # Value.dot with all its checks
        assert fast.data == h[0].data
        fast.backward()
        grads = [p.grad for p in model.parameters()]
        model.zero_grad()
        h[0].backward()
        assert [p.grad for p in model.parameters()] == grads
        model.zero_grad()


def test_changing_a_neurons_weights_is_seen_at_the_next_call():
    model = _mlp()
    neuron = model.layers[0].neurons[0]
    x = [0.5, -1.25]
    model(x)
    neuron.w[1] = 3.0  # a number: lifted to a constant, as Value.dot does
    as_number = model(x).data
    neuron.w[1] = Value(3.0)
    assert model(x).data == as_number
    neuron.b = Value(10.0)
    assert model(x).data != as_number
    neuron.w.append(Value(1.0))
    with pytest.raises(ValueError, match="3 weights but 2 inputs"):
        model(x)


def test_the_kept_weights_tuple_is_not_a_parameter_and_hooks_still_run():
    model = _mlp()
    names = [name for name, _ in model.named_parameters()]
    model([0.1, 0.2])
    assert [name for name, _ in model.named_parameters()] == names
    assert not any("_packed" in name for name in model.state_dict())
    seen = []
    model.layers[1].neurons[2].register_forward_hook(lambda m, inputs, out: seen.append(out.data))
    out = model([0.1, 0.2])
    assert len(seen) == 1 and out is not None


# -- Sequential's Linear + ReLU fusion --------------------------------------------------------------------


def _tensor_mlp():
    from nn import Linear, ReLU, Sequential

    rng = np.random.default_rng(0)
    return Sequential(Linear(6, 5, rng=rng), ReLU(), Linear(5, 4, rng=rng), ReLU(), Linear(4, 3, rng=rng))


def test_sequential_fuses_linear_relu_and_computes_what_the_modules_compute_one_by_one():
    model = _tensor_mlp()
    x = Tensor(np.random.default_rng(1).normal(size=(7, 6)).astype(np.float32))
    fused = model(x)
    assert [fused.op, fused.inputs[0].op, fused.inputs[0].inputs[0].op] == ["linear", "linear_relu", "linear_relu"]
    F.cross_entropy(fused, np.arange(7) % 3).backward()
    grads = [p.grad.copy() for p in model.parameters()]
    model.zero_grad()
    h = x
    for m in model:  # each module called on its own: the unfused graph
        h = m(h)
    assert h.op == "linear" and h.inputs[0].op == "relu"
    np.testing.assert_array_equal(h.data, fused.data)
    F.cross_entropy(h, np.arange(7) % 3).backward()
    for fast, plain in zip(grads, (p.grad for p in model.parameters())):
        np.testing.assert_array_equal(fast, plain)


def test_a_hook_on_either_module_turns_the_fusion_off_for_that_pair():
    model = _tensor_mlp()
    outputs = []
    model[1].register_forward_hook(lambda m, inputs, out: outputs.append(out.op))
    y = model(np.ones((2, 6), dtype=np.float32))
    assert outputs == ["relu"]  # the hooked ReLU ran as itself
    assert y.inputs[0].op == "linear_relu"  # the other pair is still fused


def test_the_fused_path_names_the_linear_in_a_dtype_error():
    with pytest.raises(TypeError, match=r"expected float32 input for Linear\(6→5\), got float64"):
        _tensor_mlp()(np.ones((2, 6)))
