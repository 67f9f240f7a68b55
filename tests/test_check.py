"""gradcheck: passes right gradients, fails loudly on wrong ones naming the input, for Values and Tensors."""
from __future__ import annotations

import math

import numpy as np
import pytest

from autograd import GradcheckError, Tensor, Value, gradcheck


def detached(v: Value) -> Value:
    """A copy of v's number with no graph: using it makes backward() miss a path (a deliberate bug)."""
    return Value(v.data)


# -- Value inputs ------------------------------------------------------------------------------------


def test_correct_value_gradients_pass_with_a_report_naming_each_input():
    a, b = Value(0.7, label="a"), Value(-1.3)
    report = gradcheck(lambda x, y: (x * y).tanh() + x.exp() / (y * y), [a, b])
    assert report.ok
    assert [e.name for e in report.entries] == ["a", "input 1"]
    # d/da (ab).tanh + e^a / b² = b(1 - tanh²(ab)) + e^a / b²
    want_a = -1.3 * (1 - math.tanh(0.7 * -1.3) ** 2) + math.exp(0.7) / 1.3**2
    assert report.entries[0].analytic == pytest.approx(want_a, rel=1e-12)
    assert report.entries[0].numeric == pytest.approx(want_a, rel=1e-7)
    assert "a" in str(report) and "analytic" in str(report)


def test_numeric_derivative_is_a_central_difference():
    # Central differences are exact for a quadratic (up to rounding): d/dx x² at 3 is 6.
    report = gradcheck(lambda x: x * x, Value(3.0))
    assert report.entries[0].numeric == pytest.approx(6.0, abs=1e-8)


def test_wrong_value_gradient_raises_naming_the_input_with_both_numbers():
    x = Value(2.0, label="x")
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda v: v * detached(v), x)  # analytic sees x·c: 2.0; the truth is 2x = 4.0
    message = str(info.value)
    assert "x" in message and "analytic 2.0" in message and "numeric 4.0" in message[:200]
    assert isinstance(info.value, AssertionError)
    worst = info.value.report.worst
    assert worst.name == "x"
    assert worst.analytic == pytest.approx(2.0) and worst.numeric == pytest.approx(4.0, rel=1e-6)


def test_failure_names_the_worst_of_several_inputs():
    a, b, c = Value(1.0, label="a"), Value(2.0, label="b"), Value(3.0, label="c")
    with pytest.raises(GradcheckError, match="worst is b"):
        gradcheck(lambda x, y, z: x * z + y * detached(y) + z, [a, b, c])


def test_tolerances_are_respected():
    # f = x·c(x) with c detached: analytic 1.0·x = x, numeric 2x; at x = 1e-7 the gap 1e-7 is within atol.
    report = gradcheck(lambda v: v * detached(v), Value(1e-7), atol=1e-5)
    assert report.ok
    report = gradcheck(lambda v: v * detached(v), Value(1e-7), atol=1e-9, rtol=0.0, raise_exception=False)
    assert not report.ok and not report.entries[0].ok


def test_callers_grads_and_data_are_left_as_they_were():
    a = Value(0.4)
    a.grad = 5.0
    gradcheck(lambda x: x.sigmoid() * x, a)
    assert (a.data, a.grad) == (0.4, 5.0)


def test_f_must_return_a_value_or_tensor():
    with pytest.raises(TypeError, match="float"):
        gradcheck(lambda x: x.data, Value(1.0))


# -- Tensor inputs -----------------------------------------------------------------------------------


def rand_tensor(shape, seed):
    return Tensor(np.random.default_rng(seed).standard_normal(shape), requires_grad=True, dtype=np.float64)


def test_tensor_matmul_and_elementwise_pass():
    A, B = rand_tensor((2, 3), 1), rand_tensor((3, 4), 2)
    report = gradcheck(lambda x, y: (x @ y) * (x @ y) + x @ y, [A, B])  # (2, 4) output: projected
    assert report.ok
    assert len(report.entries) == 6 + 12
    assert report.entries[0].name == "input 0[0, 0]" and report.entries[-1].name == "input 1[2, 3]"


def test_tensor_one_element_output_uses_its_gradient_directly():
    u, v = rand_tensor((1, 3), 3), rand_tensor((3, 1), 4)
    report = gradcheck(lambda x, y: x @ y, [u, v])  # (1, 1): d/du = vᵀ, d/dv = uᵀ
    assert report.ok
    assert [e.analytic for e in report.entries[:3]] == pytest.approx(v.data[:, 0].tolist())
    assert [e.numeric for e in report.entries[3:]] == pytest.approx(u.data[0].tolist(), rel=1e-7)


def test_wrong_tensor_gradient_names_input_and_element():
    A = rand_tensor((2, 2), 5)
    A.data[1, 0] = 3.0  # the largest entry, so its miss is the worst
    with pytest.raises(GradcheckError) as info:
        gradcheck(lambda x: x * Tensor(x.data.copy()), A)  # second factor detached: analytic half the truth
    assert "input 0[1, 0]" in str(info.value)
    worst = info.value.report.worst
    assert worst.numeric == pytest.approx(2 * worst.analytic, rel=1e-6)


def test_mixed_value_and_tensor_inputs_and_tensor_grads_restored():
    A = rand_tensor((2, 2), 6)
    A.grad = np.full((2, 2), 7.0)
    B = rand_tensor((2, 2), 7)
    report = gradcheck(lambda x, y: x @ y + x, [A, B])
    assert report.ok
    assert np.array_equal(A.grad, np.full((2, 2), 7.0)) and B.grad is None


def test_tensor_inputs_must_be_float64_and_require_grad():
    with pytest.raises(ValueError, match="float32"):
        gradcheck(lambda x: x * x, Tensor(np.ones((2, 2), dtype=np.float32), requires_grad=True))
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x * x, Tensor(np.ones(3), dtype=np.float64))
    with pytest.raises(TypeError, match="list"):
        gradcheck(lambda x: x, [[1.0]])
