"""What both engines share (autograd.graph): grad mode in its three spellings, the watcher hook, parameters."""
from __future__ import annotations

import numpy as np
import pytest

from autograd import Tensor, Value, enable_grad, is_grad_enabled, mark_parameter, no_grad, set_grad_enabled
from autograd.graph import OFF, RECORD, WATCH, grad_mode


def test_set_grad_enabled_called_as_a_function_switches_the_mode_from_then_on():
    try:
        set_grad_enabled(False)  # PyTorch: "can be used as a context-manager or as a function"
        assert not is_grad_enabled()
        assert not (Tensor(np.ones(2), requires_grad=True) * 2).requires_grad
        set_grad_enabled(True)
        assert is_grad_enabled()
    finally:
        set_grad_enabled(True)


def test_set_grad_enabled_as_a_context_manager_restores_the_previous_mode():
    with set_grad_enabled(False):
        assert not is_grad_enabled()
        with set_grad_enabled(True):
            assert is_grad_enabled()
        assert not is_grad_enabled()
    assert is_grad_enabled()


def test_set_grad_enabled_as_a_decorator_applies_inside_each_call_only():
    @set_grad_enabled(False)
    def inside() -> bool:
        return is_grad_enabled()

    assert is_grad_enabled()  # decorating did not switch anything
    assert inside() is False
    assert is_grad_enabled()


def test_no_grad_decorates_a_recursive_function_and_enable_grad_reenters():
    @no_grad()
    def depth(n: int) -> bool:
        if n:
            return depth(n - 1)
        with enable_grad():
            return is_grad_enabled()

    assert depth(3) is True and is_grad_enabled()


class Recorder:
    def __init__(self) -> None:
        self.nodes: list = []
        self.grads: list = []

    def created(self, node, replay) -> None:
        self.nodes.append((node, replay))

    def gradients(self, node, grad_out, grads) -> None:
        self.grads.append((node, grads))


def test_a_watcher_sees_every_node_with_its_replay_and_every_gradient():
    rec = Recorder()
    grad_mode.watch(rec)
    try:
        assert grad_mode.state == WATCH and not grad_mode.recording
        x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
        y = (x * 3).sum()
        v = Value(2.0) * Value(3.0)
        y.backward()
        v.backward()
    finally:
        grad_mode.unwatch(rec)
    assert grad_mode.state == RECORD and grad_mode.recording
    ops = [n.op for n, _ in rec.nodes]
    assert ops == ["*", "sum", "*"]
    mul, replay = rec.nodes[0]
    again = replay.fn(*replay.args)  # the replay makes the same op again
    assert again.op == "*" and np.array_equal(again.data, mul.data)
    assert rec.nodes[2][1] is None  # a Value node's op code and inputs say it all
    seen = {n.op for n, _ in rec.grads}
    assert seen == {"*", "sum"} and len(rec.grads) == 3
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])
    assert v.inputs[0].grad == 3.0


def test_under_no_grad_nothing_is_recorded_or_watched():
    with no_grad():
        assert grad_mode.state == OFF
        y = Tensor(np.ones(2), requires_grad=True) * 2
    assert not y.requires_grad and y.inputs == ()


def test_mark_parameter_is_a_fact_about_a_leaf_and_refuses_a_result():
    w = mark_parameter(Value(0.5, label="whatever"))
    t = mark_parameter(Tensor(np.ones(2), requires_grad=True, label="W1"))
    assert w.role == "parameter" and t.role == "parameter"
    assert Value(0.5, label="w").role == "input"  # the spelling of a label says nothing
    assert (w * 2).inputs[1].role == "constant"
    with pytest.raises(ValueError, match="only a leaf"):
        mark_parameter(w * 2)
