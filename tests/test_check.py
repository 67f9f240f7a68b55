"""gradcheck: passes right gradients, fails loudly on wrong ones naming the input, for Values and Tensors;
judges each miss against the finite difference's own error; reports kinks; checks float32 through float64
copies; narrows a failure in a large input down from random directions to the element; prints a table."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from autograd import Function, GradcheckError, Tensor, Value, gradcheck
from autograd.check import finite_diff as check_module


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


def test_tensor_matmul_and_elementwise_pass_entry_by_entry():
    A, B = rand_tensor((2, 3), 1), rand_tensor((3, 4), 2)
    report = gradcheck(lambda x, y: (x @ y) * (x @ y) + x @ y, [A, B])  # (2, 4) output: 8 Jacobian rows
    assert report.ok
    assert len(report.entries) == 8 * (6 + 12)
    assert report.entries[0].name == "∂out[0, 0]/∂input 0[0, 0]"
    assert report.entries[-1].name == "∂out[1, 3]/∂input 1[2, 3]"
    assert not report.notes


def test_a_small_tensor_output_shows_the_jacobian_itself():
    z = Tensor(np.array([-2.0, 0.5, 3.0]), requires_grad=True, label="z")
    report = gradcheck(lambda t: t.sigmoid(), z)
    s = 1 / (1 + np.exp(-z.data))
    by_name = {e.name: e for e in report.entries}
    for k in range(3):
        for i in range(3):
            want = s[k] * (1 - s[k]) if i == k else 0.0  # σ′ on the diagonal, not a projection of it
            assert by_name[f"∂out[{k}]/∂z[{i}]"].analytic == pytest.approx(want, abs=1e-15)
            assert by_name[f"∂out[{k}]/∂z[{i}]"].numeric == pytest.approx(want, abs=1e-8)


def test_a_large_tensor_output_says_its_rows_are_directional_derivatives():
    x = rand_tensor((20,), 13)
    x.label = "x"
    report = gradcheck(lambda t: t.tanh(), x)
    assert report.ok and [e.name for e in report.entries[:2]] == ["x[0]", "x[1]"]
    note = next(n for n in report.notes if "⟨R, f⟩" in n)
    assert "shape (20,)" in note and "not ∂f/∂x itself" in note and note in str(report)
    r = np.random.default_rng(0).standard_normal(20)  # R, as the note says: seed 0
    assert report.entries[0].analytic == pytest.approx(r[0] * (1 - np.tanh(x.data[0]) ** 2), rel=1e-12)


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


def test_tensor_inputs_must_require_grad_and_be_floating_point():
    with pytest.raises(ValueError, match="requires_grad"):
        gradcheck(lambda x: x * x, Tensor(np.ones(3), dtype=np.float64))
    with pytest.raises(TypeError, match="list"):
        gradcheck(lambda x: x, [[1.0]])


def test_bad_arguments_are_named_before_anything_runs():
    with pytest.raises(TypeError, match=r"f must be a function.*got Value"):
        gradcheck(Value(1.0), [Value(1.0)])  # the arguments swapped
    with pytest.raises(TypeError, match="inputs must be a Value, a Tensor or a list of them, got float"):
        gradcheck(lambda x: x * x, 3.0)
    with pytest.raises(ValueError, match=r"eps .* must be a number > 0, got 0"):
        gradcheck(lambda x: x * x, Value(1.0), eps=0)


def test_float32_inputs_warn_and_are_checked_as_float64_copies():
    x32 = Tensor(np.array([0.3, -1.2, 2.0], dtype=np.float32), requires_grad=True, label="x")
    seen = []

    def f(x):
        seen.append(x.data.dtype)
        return (x * x).tanh()

    with pytest.warns(UserWarning, match="float32.*float64 copy"):
        report = gradcheck(f, x32)
    assert report.ok and seen and all(d == np.float64 for d in seen)
    assert x32.data.dtype == np.float32 and x32.grad is None  # the caller's tensor is untouched
    assert any("float64 copy" in n for n in report.notes) and "float64 copy" in str(report)


# -- trustworthy verdicts: the finite difference's own uncertainty -----------------------------------------


def test_each_numeric_derivative_carries_an_error_estimate():
    report = gradcheck(lambda x: (x * 3.0).exp(), Value(0.5))
    e = report.entries[0]
    truth = 3 * math.exp(1.5)
    assert 0 < e.uncertainty < 1e-6
    assert abs(e.numeric - truth) <= e.uncertainty  # the error bar covers the actual error


def test_rounding_in_large_values_is_not_a_false_failure():
    # f = x² + 1e8: the f values carry rounding near 1e-8, so the central difference of a slope of 2 is off
    # by about 1e-2 — more than atol + rtol·2 — but within its own uncertainty: not a failure.
    report = gradcheck(lambda x: x * x + 1e8, Value(1.0))
    e = report.entries[0]
    assert e.error > 1e-5 + 1e-3 * 2 or e.uncertainty > 1e-3  # the old fixed tolerance alone would not do
    assert report.ok and e.uncertainty < 0.5
    # ...while a real mistake of the same function still fails against that error bar
    with pytest.raises(GradcheckError):
        gradcheck(lambda x: x * detached(x) + 1e8, Value(1.0))


# -- kinks ---------------------------------------------------------------------------------------------------


def test_relu_at_zero_is_reported_as_a_kink_not_a_failure():
    report = gradcheck(lambda x: x.relu(), Value(0.0, label="x"))
    e = report.entries[0]
    assert e.status == "kink" and e.ok and report.ok
    assert (e.left, e.right) == (pytest.approx(0.0, abs=1e-9), pytest.approx(1.0, rel=1e-6))
    assert "non-differentiable here" in str(report) and report.kinks == (e,)


def test_abs_and_max_ties_are_kinks_elementwise_and_smooth_elements_still_checked():
    x = Tensor(np.array([-1.0, 0.0, 2.0]), requires_grad=True)
    report = gradcheck(lambda t: t.abs(), x)  # entry by entry: the diagonal ∂|xₖ|/∂xₖ holds the kink
    assert [e.status for e in report.entries if e.name[5] == e.name[-2]] == ["ok", "kink", "ok"]
    assert report.ok and len(report.kinks) == 1
    ties = Tensor(np.array([3.0, 1.0, 3.0]), requires_grad=True)
    report = gradcheck(lambda t: t.max(), ties)  # gradient split 0.5/0.5 between the tied maxima
    assert [e.status for e in report.entries] == ["kink", "ok", "kink"] and report.ok


class StepRelu(Function):
    """relu with a derivative of 5 at 0: outside [0, 1], the one-sided derivatives there."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return np.maximum(x, 0.0)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * np.where(x > 0, 1.0, np.where(x == 0, 5.0, 0.0))


def test_a_derivative_outside_the_one_sided_ones_fails_at_a_kink():
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    report = gradcheck(lambda t: StepRelu.apply(t).sum(), x, raise_exception=False)  # sum: R = 1
    assert [e.status for e in report.entries] == ["FAIL", "ok"]
    assert report.entries[0].error == pytest.approx(4.0, rel=1e-6)  # 5 lies 4 beyond [0, 1]


# -- large inputs: random directions, narrowed down on failure --------------------------------------------------


def counting(f):
    calls = []

    def wrapped(*args):
        calls.append(1)
        return f(*args)

    return wrapped, calls


def test_large_inputs_are_checked_along_random_directions():
    W = rand_tensor((30, 40), 8)
    W.label = "W"
    f, calls = counting(lambda w: (w * w).tanh())
    report = gradcheck(f, W)
    assert report.ok
    assert [e.name for e in report.entries] == ["W · direction 1", "W · direction 2"]
    assert len(calls) < 20  # 1200 elements checked one by one would take thousands of calls


class WrongAtOneElement(Function):
    """y = x², with the derivative at element (7, 9) off by 1."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return x * x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        d = 2 * x
        d[7, 9] += 1.0
        return g * d


def test_a_failing_direction_is_narrowed_down_to_the_element():
    W = rand_tensor((30, 40), 9)
    W.label = "W"
    f, calls = counting(WrongAtOneElement.apply)
    report = gradcheck(f, W, raise_exception=False)
    failing = [e.name for e in report.failures]
    assert failing[-1] == "W[7, 9]" and "W · direction 1" in failing
    assert [e.name for e in report.entries if "[" in e.name] == ["W[7, 9]"]
    assert len(calls) < 200  # ~2·log2(1200) halvings of 4 evaluations each, not 1200 elements
    assert report.worst.name in failing
    element = report.failures[-1]
    assert abs(element.analytic - element.numeric) > 0.1


def test_fast_mode_can_be_forced_either_way():
    x = rand_tensor((3, 2), 10)
    assert len(gradcheck(lambda t: t * t, x, fast=True, directions=3).entries) == 3
    assert len(gradcheck(lambda t: t * t, rand_tensor((15, 10), 11), fast=False).entries) == 150
    assert check_module.FAST_ABOVE == 100


# -- the report ------------------------------------------------------------------------------------------------


def test_report_table_puts_failures_first_and_has_an_html_face():
    x = Tensor(np.array([1.0, 2.0, 3.0]), requires_grad=True, label="x")
    report = gradcheck(lambda t: t * Tensor(np.where(np.arange(3) == 2, t.data, 1.0)) * t, x, raise_exception=False)
    lines = str(report).splitlines()
    assert lines[0].startswith("gradcheck: 1 FAIL, 8 pass")
    assert lines[1].split() == ["input", "analytic", "numeric", "±", "numeric", "error", "verdict", "note"]
    # the failing row first, though it is the last entry
    assert lines[3].startswith("∂out[2]/∂x[2]") and "FAIL" in lines[3]
    html = report._repr_html_()
    assert html.startswith("<table") and "∂out[2]/∂x[2]" in html and "#fde2e1" in html
    assert html.index("∂out[2]/∂x[2]") < html.index("∂out[0]/∂x[0]")


def test_long_reports_hide_passing_rows_but_never_failures():
    x = rand_tensor((40,), 12)
    report = gradcheck(lambda t: t * t, x)
    text = str(report)
    assert "… and 28 more that pass" in text and text.count("\n") < 20
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # float64 inputs: no warning
        gradcheck(lambda t: t * t, x)


def test_an_output_that_is_a_view_of_the_input_is_checked_entry_by_entry_correctly():
    # The moved input is put back after each probe: an output that is a view of it must be copied first.
    x = Tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    assert gradcheck(lambda x: x.reshape(-1), x).ok
    assert gradcheck(lambda x: x[0] * 2.0, x).ok
