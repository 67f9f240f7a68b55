"""Pictures of second derivatives: draw_dot of a gradient's own graph marks its backward pass; explain and
backward_steps work on a gradient's graph as on any other."""
from __future__ import annotations

import math

import numpy as np
import pytest

from autograd import Tensor, Value, backward_steps, draw_dot, explain, grad
from autograd.viz import palette, summary

BACKWARD_COLOUR = palette.ROLE_STYLE[summary.BACKWARD][0]


def value_gradient() -> tuple[Value, Value, Value]:
    """x, y = tanh(x)·x, and dx = dy/dx built by backward(create_graph=True)."""
    x = Value(0.5, label="x")
    y = x.tanh() * x
    y.label = "y"
    y.backward(create_graph=True)
    dx = x.grad
    dx.label = "dx"
    return x, y, dx


def roles_by_label(root: object) -> dict[str, str]:
    graph = summary.walk(root)
    return {n.label: r for n, r in zip(graph.nodes, summary.roles(graph)) if n.label}


def test_a_value_gradients_graph_marks_what_depends_on_the_seed():
    _, _, dx = value_gradient()
    graph = summary.walk(dx)
    role = summary.roles(graph)
    seeds = [i for i, n in enumerate(graph.nodes) if n.role == "seed"]
    assert len(seeds) == 1 and role[seeds[0]] == summary.BACKWARD
    for i, n in enumerate(graph.nodes):
        depends = any(m.role == "seed" for m in _ancestors(n))
        if i == 0:
            assert role[i] == summary.OUTPUT  # the root keeps its border
        elif depends or n.role == "seed":
            assert role[i] == summary.BACKWARD
        else:
            assert role[i] != summary.BACKWARD, n
    assert roles_by_label(dx)["x"] == summary.LEAF  # the forward's values keep their roles
    source = draw_dot(dx).source
    assert f'color="{BACKWARD_COLOUR}"' in source
    assert "backward pass" in source and "backward(create_graph=True)" in source  # the legend says what it is


def _ancestors(node: object) -> list:
    seen, stack, out = set(), [node], []
    while stack:
        n = stack.pop()
        for m in n.inputs:
            if id(m) not in seen:
                seen.add(id(m))
                out.append(m)
                stack.append(m)
    return out


def test_a_tensor_gradients_graph_marks_its_backward_pass_too():
    """The seed of a Tensor pass requires no grad, so ops on it alone make constants; they carry the seed's role."""
    x = Tensor(np.array([0.5, -0.3]), requires_grad=True, label="x")
    (dx,) = grad((x.tanh() * x).sum(), x, create_graph=True)
    dx.label = "dx"
    graph = summary.walk(dx)
    role = summary.roles(graph)
    marked = [n for n, r in zip(graph.nodes, role) if r == summary.BACKWARD]
    assert any(n.role == "seed" for n in marked)  # the seed (broadcast by sum's rule)
    assert any(n.op == "*" for n in marked)  # and what the rules made from it
    (tanh,) = [r for n, r in zip(graph.nodes, role) if n.op == "tanh"]
    assert tanh == summary.INTERMEDIATE  # the forward's tanh is not the backward pass
    assert role[0] == summary.OUTPUT
    assert "backward pass" in draw_dot(dx).source


def test_a_first_order_graph_has_no_backward_pass():
    x = Value(0.5, label="x")
    y = (x.tanh() * x).exp()
    y.backward()
    assert summary.BACKWARD not in summary.roles(summary.walk(y))
    assert "backward pass" not in draw_dot(y).source


def test_leaves_whose_grad_is_a_graph_are_drawn_with_its_numbers():
    _, y, dx = value_gradient()  # x.grad is dx, a Value
    source = draw_dot(y).source
    assert f"grad {dx.data:.4g}" in source
    t = Tensor(np.array([0.5, -0.3]), requires_grad=True)
    s = (t * t).sum()
    s.backward(create_graph=True)  # t.grad = 2t, a Tensor in a graph
    assert isinstance(t.grad, Tensor) and "grad ‖g‖=1.166" in draw_dot(s).source  # ‖2t‖ = 2√0.34


def test_explain_a_second_derivative():
    """d²/dx² [x·tanh x] = 2(1 − t²) − 2x·t(1 − t²), t = tanh x: the sum of x's two edges in dx's graph."""
    x, _, dx = value_gradient()
    x.grad = 0.0
    dx.backward()
    t = math.tanh(0.5)
    assert x.grad == pytest.approx(2 * (1 - t * t) - 2 * 0.5 * t * (1 - t * t), rel=1e-14)
    e = explain(x, root=dx)
    assert e.ok and len(e.terms) == 2
    assert sum(s.contribution for s in e.terms) == pytest.approx(x.grad, rel=1e-14)
    assert {s.consumer.op for s in e.terms} == {"tanh", "*"}
    assert "✓" in str(e)


def test_explain_a_second_derivative_when_the_first_is_still_in_grad():
    x, _, dx = value_gradient()
    dx.backward()  # x.grad was dx itself (a Value): it accumulates, as in PyTorch
    e = explain(x, root=dx)
    assert "accumulate" in e.note and not e.ok


def test_explain_a_tensor_second_derivative():
    x = Tensor(np.array([0.5, -0.3]), requires_grad=True, label="x")
    (dx,) = grad((x**3).sum(), x, create_graph=True)  # 3x²
    s = (dx * dx).sum()  # Σ 9x⁴: d/dx = 36x³
    s.backward()
    np.testing.assert_allclose(x.grad, 36 * x.data**3, rtol=1e-14)
    e = explain(x, root=s)
    assert e.ok
    np.testing.assert_allclose(e.total, 36 * x.data**3, rtol=1e-14)


@pytest.mark.parametrize("engine", ["value", "tensor"])
def test_backward_steps_of_a_double_backward_end_where_backward_does(engine):
    if engine == "value":
        x = Value(0.7, label="x")
        (dx,) = grad((x * x).tanh() * x, x, create_graph=True)
        (want,) = grad(dx, x)
        x.grad = 0.0
        steps = list(backward_steps(dx))
        assert x.grad == pytest.approx(want.data, rel=1e-14)
    else:
        x = Tensor(np.array([0.7, -0.2]), requires_grad=True)
        (dx,) = grad(((x * x).tanh() * x).sum(), x, create_graph=True)
        root = dx.sum()
        (want,) = grad(root, x)
        steps = list(backward_steps(root))
        np.testing.assert_allclose(x.grad, want.data, rtol=1e-14)
    assert len(steps) > 5
    assert any(s.consumer.op == "tanh" for s in steps)  # through the forward's ops, as the chain rule says
    assert steps[-1].index == len(steps)
