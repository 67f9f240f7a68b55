"""gradgradcheck: second derivatives against finite differences of the gradient, with gradcheck's report.

Every op of both engines passes it (the cases of tests/second_order_cases.py); a hand-written backward that is
right at first order but wrong in its own derivative fails it, on the input rows (it forgot how the gradient
depends on x) or on the grad_output rows (it treated the incoming gradient as a constant).
"""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import DetachedSigmoid, FrozenSeed, frozen
from second_order_cases import OURS, TENSOR_CASES, VALUE_CASES, VALUE_OURS, Case

from autograd import Function, GradcheckError, GradgradcheckReport, Tensor, Value, gradcheck, gradgradcheck
from autograd.check import gradgradcheck as from_check


def leaves(case: Case) -> list[Tensor]:
    """The case's inputs as float64 leaves; "ties" inputs drawn without ties (at a tie amax's first derivative
    jumps, so it has no second derivative there to check)."""
    rng = np.random.default_rng(0)
    return [Tensor(rng.standard_normal(shape) if domain == "ties" else case.arrays()[i], requires_grad=True)
            for i, (shape, domain) in enumerate(case.inputs)]


@pytest.mark.parametrize("case", TENSOR_CASES, ids=[c.name for c in TENSOR_CASES])
def test_every_tensor_op_passes_gradgradcheck(case: Case):
    # An op that rounds through float32 needs the step that balances float32's rounding (eps^(1/3) ≈ 5e-3).
    coarse = case.rtol > 1e-9
    report = gradgradcheck(lambda *xs: case.fn(OURS, *xs), leaves(case), eps=1e-3 if coarse else 1e-6,
                           atol=1e-4 if coarse else 1e-5)
    assert report.ok and not report.kinks
    assert all(e.name.startswith(("∂²L/∂", "∂⟨R, G⟩/∂")) for e in report.entries)


@pytest.mark.parametrize("case", VALUE_CASES, ids=[c.name for c in VALUE_CASES])
def test_every_value_op_passes_gradgradcheck(case: Case):
    xs = [Value(float(a)) for a in case.arrays()]
    report = gradgradcheck(lambda *args: case.fn(VALUE_OURS, *args), xs)
    assert report.ok and not report.kinks
    assert len(report.entries) == len(xs) * (len(xs) + 1)  # every pair of inputs, and each with the grad_output


# -- what it catches -------------------------------------------------------------------------------------

def test_a_backward_wrong_only_in_its_derivative_passes_gradcheck_and_fails_gradgradcheck():
    x = Tensor(np.array([-1.0, 0.3, 2.0]), requires_grad=True, label="x")
    assert gradcheck(DetachedSigmoid.apply, x).ok
    with pytest.raises(GradcheckError) as info:
        gradgradcheck(DetachedSigmoid.apply, x)
    report = info.value.report
    assert isinstance(report, GradgradcheckReport)
    assert str(info.value).startswith("gradgradcheck failed: worst is ∂²L/∂x[")
    assert [e.name for e in report.failures] == [f"∂²L/∂x[{i}]∂x[{i}]" for i in range(3)]  # the Hessian's diagonal
    assert all(e.ok for e in report.entries if "grad_output" in e.name)  # the first derivative is right
    s = 1 / (1 + np.exp(-x.data))
    v = np.random.default_rng(0).standard_normal(3)  # the default grad_outputs (seed 0)
    for i, e in enumerate(report.failures):
        assert e.numeric == pytest.approx(v[i] * s[i] * (1 - s[i]) * (1 - 2 * s[i]), rel=1e-6)  # d/dx v·s(1 − s)
        assert e.analytic == pytest.approx(-v[i] * s[i] * (1 - s[i]) * s[i], rel=1e-9)  # with one s frozen


def test_a_backward_that_freezes_the_incoming_gradient_fails_on_the_grad_output_rows():
    x = Tensor(np.array([0.5, -1.5]), requires_grad=True)
    report = gradgradcheck(FrozenSeed.apply, x, raise_exception=False)
    assert [e.name for e in report.failures] == ["∂²L/∂input 0[0]∂grad_output 0[0]",
                                                 "∂²L/∂input 0[1]∂grad_output 0[1]"]
    for e, xi in zip(report.failures, x.data):
        assert e.analytic == 0.0 and e.numeric == pytest.approx(2 * xi, rel=1e-6)  # ∂f/∂x = 2x, seen as 0


def test_value_functions_are_caught_too():
    x = Value(0.4, label="x")
    report = gradgradcheck(DetachedSigmoid.apply, [x], raise_exception=False)
    assert [e.name for e in report.failures] == ["∂²L/∂x∂x"]
    report = gradgradcheck(FrozenSeed.apply, [x], raise_exception=False)
    assert [e.name for e in report.failures] == ["∂²L/∂x∂grad_output 0"]


# -- gradcheck's report, kinks, error bars, fast mode --------------------------------------------------------


def test_the_report_is_gradchecks_with_its_own_name_and_a_note():
    """For Values every pair is checked: the Hessian of L = v·f(x, y), and ∂f/∂x, ∂f/∂y through the seed v."""
    x, y = Value(0.5, label="x"), Value(-1.2, label="y")
    report = gradgradcheck(lambda x, y: (x * y).tanh() + x**3, [x, y])
    text = str(report)
    assert text.startswith("gradgradcheck: 6 pass")
    assert "second derivative" in text and "L = ⟨v, f(x)⟩" in text
    assert [e.name for e in report.entries] == ["∂²L/∂x∂x", "∂²L/∂x∂y", "∂²L/∂x∂grad_output 0",
                                                "∂²L/∂y∂x", "∂²L/∂y∂y", "∂²L/∂y∂grad_output 0"]
    by_name = {e.name: e.analytic for e in report.entries}
    t = np.tanh(-0.6)
    v = np.random.default_rng(0).standard_normal()  # the default grad_output
    assert by_name["∂²L/∂x∂y"] == pytest.approx(v * (1 - t * t) * (1 - 2 * 0.5 * -1.2 * t), rel=1e-12)
    assert by_name["∂²L/∂x∂y"] == pytest.approx(by_name["∂²L/∂y∂x"], rel=1e-14)  # the Hessian is symmetric
    assert by_name["∂²L/∂x∂grad_output 0"] == pytest.approx(-1.2 * (1 - t * t) + 3 * 0.25, rel=1e-12)  # ∂f/∂x
    assert "gradgradcheck: 6 pass" in report._repr_html_()
    for e in report.entries:
        assert e.uncertainty > 0 and e.error <= 1e-5 + 1e-3 * abs(e.numeric) + e.uncertainty
    assert from_check is gradgradcheck


def test_a_kink_of_the_first_derivative_is_reported_not_failed():
    """f = relu(x)²/2: f' = relu(x) is continuous with a kink at 0, so f'' jumps there from 0 to 1. The analytic
    value at 0 (relu's derivative there, 0) lies between the one-sided slopes: a kink, not a failure."""
    x = Tensor(np.array([0.0, 1.5, -0.7]), requires_grad=True)
    report = gradgradcheck(lambda x: x.relu() ** 2 * 0.5, x)
    assert report.ok
    assert [e.name for e in report.kinks] == ["∂²L/∂input 0[0]∂input 0[0]"]
    (k,) = report.kinks
    assert min(k.left, k.right) <= k.analytic <= max(k.left, k.right)


def test_a_jump_of_the_first_derivative_has_no_second_derivative_and_fails():
    """|x|' = sign x jumps at 0: the finite difference of the gradient grows like 1/h there; no number is right."""
    x = Tensor(np.array([0.0, 1.0]), requires_grad=True)
    report = gradgradcheck(lambda x: x.abs(), x, raise_exception=False)
    assert [e.name for e in report.failures] == ["∂²L/∂input 0[0]∂input 0[0]"]
    assert abs(report.failures[0].numeric) > 1e4


def test_large_gradients_are_projected_and_large_inputs_checked_along_directions():
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal(150), requires_grad=True, label="x")
    good = gradgradcheck(lambda x: (x.tanh() ** 2).sum(), x)
    assert good.ok
    assert [e.name for e in good.entries] == ["∂⟨R, G⟩/∂x · direction 1", "∂⟨R, G⟩/∂x · direction 2",
                                              "∂⟨R, G⟩/∂grad_output 0[]"]
    assert any("150 elements" in note for note in good.notes)

    class WrongAtOne(Function):  # x³ with backward 3x²·g, except element 7's derivative is frozen
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x**3

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            mask = np.zeros(x.shape)
            mask[7] = 1
            part = x * Tensor(1 - mask) + frozen(x) * Tensor(mask) if isinstance(x, Tensor) else x
            return g * 3 * part * x

    report = gradgradcheck(lambda x: WrongAtOne.apply(x).sum(), x, raise_exception=False)
    assert not report.ok
    assert "∂⟨R, G⟩/∂x[7]" in {e.name for e in report.failures}  # narrowed down to the element


def test_float32_inputs_are_checked_as_float64_copies_with_a_warning():
    x = Tensor(np.array([0.3, -0.2], dtype=np.float32), requires_grad=True)
    with pytest.warns(UserWarning, match="float64 copy"):
        report = gradgradcheck(lambda x: x.exp() * x, x)
    assert report.ok
    assert x.data.dtype == np.float32 and x.grad is None


def test_several_outputs_get_one_grad_output_each():
    x = Tensor(np.array([0.3, -0.2]), requires_grad=True)
    y = Tensor(np.array([[1.5, 0.5, -1.0]]), requires_grad=True)
    report = gradgradcheck(lambda x, y: (x[:, None] * y, (x * x).sum().exp()), [x, y])
    assert report.ok
    wrt = {e.name.split("∂")[-1] for e in report.entries}  # what each second derivative is also taken in
    assert wrt == {"input 0[0]", "input 0[1]", "input 1[0, 0]", "input 1[0, 1]", "input 1[0, 2]",
                   *(f"grad_output 0[{i}, {j}]" for i in range(2) for j in range(3)), "grad_output 1[]"}
    assert len(report.entries) == 5 * 12  # the 5 gradient elements, in each of 12 numbers


def test_given_grad_outputs_are_used_and_checked_only_when_they_require_grad():
    x = Tensor(np.array([0.3, -0.2, 1.1]), requires_grad=True)
    fixed = gradgradcheck(lambda x: x.sigmoid(), x, grad_outputs=np.array([1.0, 2.0, -1.0]))
    assert len(fixed.entries) == 9 and not any("grad_output" in e.name or "v[" in e.name for e in fixed.entries)
    v = Tensor(np.array([1.0, 2.0, -1.0]), requires_grad=True, label="v")
    checked = gradgradcheck(lambda x: x.sigmoid(), x, grad_outputs=[v])
    assert len(checked.entries) == 18 and "∂²L/∂input 0[2]∂v[2]" in {e.name for e in checked.entries}
    same = {e.name: e.analytic for e in checked.entries}
    assert all(same[e.name] == e.analytic for e in fixed.entries)  # the same Hessian, v given either way
    with pytest.raises(ValueError, match="2 grad_outputs for 1 outputs"):
        gradgradcheck(lambda x: x.sigmoid(), x, grad_outputs=[v, v])


def test_an_input_the_gradient_does_not_depend_on_has_a_zero_second_derivative():
    x, y = Value(0.5), Value(2.0)
    report = gradgradcheck(lambda x, y: x * 3.0 + y * y, [x, y])
    assert report.ok and report.entries[0].analytic == 0.0 and report.entries[0].numeric == pytest.approx(0, abs=1e-8)
    t = Tensor(np.array([1.0, 2.0]), requires_grad=True)
    u = Tensor(np.array([3.0]), requires_grad=True)
    assert gradgradcheck(lambda t, u: t * 2.0, [t, u]).ok  # u unused: its gradient is None, counted as 0


def test_bad_arguments_say_what_is_expected():
    x = Tensor(np.array([1.0]), requires_grad=True)
    with pytest.raises(TypeError, match="f must be a function"):
        gradgradcheck(x, x)
    with pytest.raises(TypeError, match="must return a Value or a Tensor"):
        gradgradcheck(lambda x: 3.0, x)
    with pytest.raises(ValueError, match="requires_grad"):
        gradgradcheck(lambda x: x * x, Tensor(np.array([1.0])))


def test_inputs_are_left_as_they_were():
    x = Tensor(np.array([0.3, -0.2]), requires_grad=True)
    before = x.data.copy()
    gradgradcheck(lambda x: x.tanh(), x)
    assert np.array_equal(x.data, before) and x.grad is None
    v = Value(0.7)
    v.grad = 0.25
    gradgradcheck(lambda v: v.exp(), [v])
    assert v.data == 0.7 and v.grad == 0.25


def test_no_warnings_on_a_float64_check():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gradgradcheck(lambda x: x.log(), Tensor(np.array([1.0, 2.0]), requires_grad=True))
