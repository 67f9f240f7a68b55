"""detect_anomaly: the first NaN/inf, forward or backward, in either engine, names the op and the user's line,
and tells the culprit from an op that only passed a NaN along. It watches through the engine's hook: nothing is
patched, and outside the block nobody watches."""
from __future__ import annotations

import importlib
import inspect
import math
import os

import numpy as np
import pytest

import autograd.value as value_module
from autograd import AnomalyError, Function, Tensor, Value, detect_anomaly
from autograd.graph import RECORD, WATCH, grad_mode
from nn import Linear
from nn import functional as F

tensor_module = importlib.import_module("autograd.tensor")  # the module: `autograd.tensor` is torch.tensor's function


def here() -> int:
    """The line number of the caller: where the op under test is created."""
    return inspect.currentframe().f_back.f_lineno


def assert_site(err: AnomalyError, line: int) -> None:
    assert err.site is not None
    assert os.path.basename(err.site.filename) == "test_anomaly.py" and err.site.lineno == line
    assert f"test_anomaly.py:{line}" in str(err)


# -- Tensor engine ---------------------------------------------------------------------------------------


def test_tensor_forward_culprit_names_op_and_line():
    p = Tensor(np.array([[0.5, 0.0], [0.25, 0.25]]), requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as info, np.errstate(divide="ignore"):
        line = here(); p.log()  # the op and its line number together
    err = info.value
    assert (err.op, err.phase, err.culprit) == ("log", "forward", True)
    assert_site(err, line)
    assert "forward of 'log' produced -inf (1 of 4 elements) from finite inputs: this op is the culprit" in str(err)
    assert "1 zeros" in str(err) and "p.log()" in str(err)


def test_tensor_forward_that_passes_a_nan_along_is_not_the_culprit():
    x = Tensor(np.array([1.0, np.nan]), requires_grad=True)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        x * 2.0
    err = info.value
    assert err.op == "*" and not err.culprit
    assert "only passed it along" in str(err) and "1 nan" in str(err)


def test_tensor_backward_culprit_names_the_line_that_made_the_op():
    x = Tensor(np.array([0.0, 4.0]), requires_grad=True)
    with detect_anomaly():
        line = here(); r = x.sqrt()
        loss = (r * 3.0).sum()
        with pytest.raises(AnomalyError) as info, np.errstate(divide="ignore"):
            loss.backward()
    err = info.value
    assert (err.op, err.phase, err.culprit) == ("sqrt", "backward", True)
    assert_site(err, line)
    assert "backward of 'sqrt' produced inf" in str(err) and "from a finite incoming gradient" in str(err)


def test_a_training_step_with_a_hand_written_loss():
    lin = Linear(3, 2)
    lin.weight.data[...] = [[30.0, 0.0, 0.0], [-30.0, 0.0, 0.0]]
    x = Tensor(np.array([[4.0, 0.0, 0.0]], dtype=np.float32))
    with detect_anomaly(), pytest.raises(AnomalyError) as info, np.errstate(divide="ignore", over="ignore"):
        probs = F.softmax(lin(x))  # e^-240 underflows to 0 in float32
        line = here(); -(probs.log() * Tensor(np.array([[0.0, 1.0]], dtype=np.float32))).sum()
    assert info.value.op == "log" and info.value.culprit
    assert_site(info.value, line)


class NaNGrad(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g * np.nan


def test_a_function_backward_is_checked_under_its_class_name():
    x = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    with detect_anomaly():
        line = here(); y = NaNGrad.apply(x)
        with pytest.raises(AnomalyError) as info:
            y.sum().backward()
    assert (info.value.op, info.value.phase, info.value.culprit) == ("NaNGrad", "backward", True)
    assert_site(info.value, line)


# -- Value engine -----------------------------------------------------------------------------------------


def test_value_forward_overflow_is_the_culprit():
    a = Value(800.0)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        line = here(); a.exp()
    assert (info.value.op, info.value.phase, info.value.culprit) == ("exp", "forward", True)
    assert_site(info.value, line)
    assert "input 0: 800.0" in str(info.value)


def test_value_forward_names_the_op_as_value_op_does():
    # 2 ** 2000 overflows to inf; the error calls the op what .op and draw_dot call it ('2**'), not 'rpow'.
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        2 ** Value(2000.0)
    assert info.value.op == "2**" and info.value.culprit
    assert (2 ** Value(3.0)).op == "2**"


def test_value_ops_on_an_inf_input_pass_it_along():
    big = Value(math.inf)
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        big * 2.0  # inf from an inf input: passed along, not made here
    assert info.value.op == "*" and not info.value.culprit
    with detect_anomaly(), pytest.raises(AnomalyError) as info:
        big - big  # inf − inf = nan: still not this op's doing
    assert "produced nan" in str(info.value) and not info.value.culprit


def test_value_backward_culprit():
    x = Value(0.0)
    with detect_anomaly():
        line = here(); r = x**0.5  # d/dx √x is infinite at 0
        y = r * 3.0
        with pytest.raises(AnomalyError) as info:
            y.backward()
    assert (info.value.op, info.value.phase, info.value.culprit) == ("**0.5", "backward", True)
    assert_site(info.value, line)


def test_correct_graphs_run_unchanged_inside():
    a, b = Value(0.3), Value(-1.2)
    x = Tensor(np.array([[0.1, 0.2]]), requires_grad=True)
    with detect_anomaly():
        y = (a * b).tanh() + a.exp()
        y.backward()
        t = (x @ x.T).sigmoid().sum()
        t.backward()
    want = a.data  # d/da = b(1 - tanh²(ab)) + e^a
    assert a.grad == pytest.approx(-1.2 * (1 - math.tanh(want * -1.2) ** 2) + math.exp(want))
    assert x.grad is not None and np.isfinite(x.grad).all()


# -- free outside ------------------------------------------------------------------------------------------


def test_outside_the_block_nothing_watches_and_nothing_is_patched():
    engine = (value_module._make, tensor_module._make, dict(value_module._BACKWARD), Tensor.from_op)
    with detect_anomaly():
        assert grad_mode.state == WATCH and len(grad_mode.watchers) == 1
        with detect_anomaly():  # nesting is fine
            assert len(grad_mode.watchers) == 2
        assert len(grad_mode.watchers) == 1
        assert (value_module._make, tensor_module._make, dict(value_module._BACKWARD), Tensor.from_op) == engine
    assert grad_mode.watchers == () and grad_mode.state == RECORD
    with np.errstate(divide="ignore"):
        assert np.isneginf(Tensor(np.array([0.0])).log().data).all()  # no error outside


def test_the_watcher_leaves_after_an_error_and_it_works_as_a_decorator():
    @detect_anomaly()
    def step():
        return Value(1000.0).exp()

    with pytest.raises(AnomalyError):
        step()
    assert grad_mode.watchers == () and grad_mode.state == RECORD
    with detect_anomaly(check_nan=False):
        assert grad_mode.watchers == ()
