"""Function: a user-defined op with a hand-written backward, on Tensors and on Values, with clear errors."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from conftest import Sigmoid, torch_or_skip

from autograd import Function, Tensor, Value, gradcheck, no_grad


class Swish(Function):
    """y = x·σ(x);  dy/dx = σ(x)·(1 + x·(1 − σ(x)))."""

    @staticmethod
    def forward(ctx, x):
        s = 1 / (1 + np.exp(-x))
        ctx.save_for_backward(x, s)
        return x * s

    @staticmethod
    def backward(ctx, grad_out):
        x, s = ctx.saved_tensors
        return grad_out * s * (1 + x * (1 - s))


class Scale(Function):
    """y = k·x with a plain-number argument k: its gradient slot is None."""

    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None


def x64(*values: float) -> Tensor:
    return Tensor(np.array(values, dtype=np.float64), requires_grad=True, label="x")


# -- Tensors --------------------------------------------------------------------------------------------


def test_swish_forward_and_backward_follow_the_formula():
    x = x64(-2.0, 0.0, 1.5)
    y = Swish.apply(x)
    s = 1 / (1 + np.exp(-x.data))
    assert isinstance(y, Tensor) and y.requires_grad
    np.testing.assert_allclose(y.data, x.data * s, rtol=1e-15)
    y.sum().backward()
    np.testing.assert_allclose(x.grad, s * (1 + x.data * (1 - s)), rtol=1e-15)


def test_a_function_is_one_node_named_after_its_class():
    x = x64(1.0, 2.0)
    y = Swish.apply(x)
    assert y.op == "Swish" and y.inputs == (x,)
    assert y._backward.ctx.function is Swish  # how reports and drawings find the Function


def test_gradcheck_passes_a_correct_function():
    assert gradcheck(lambda t: Swish.apply(t) * 3.0, x64(-1.0, 0.3, 2.0)).ok


def test_matches_torch_silu():
    torch = torch_or_skip()
    data = np.linspace(-4, 4, 9)
    x = x64(*data)
    Swish.apply(x).sum().backward()
    t = torch.tensor(data, requires_grad=True)
    torch.nn.functional.silu(t).sum().backward()
    np.testing.assert_allclose(x.grad, t.grad.numpy(), rtol=1e-12)


def test_ctx_carries_saved_values_needs_input_grad_and_attributes():
    seen = {}

    class Peek(Function):
        @staticmethod
        def forward(ctx, a, b, k):
            ctx.save_for_backward(a, b)
            ctx.note = "kept"
            return a * b * k

        @staticmethod
        def backward(ctx, g):
            seen["needs"] = ctx.needs_input_grad
            a, b = ctx.saved_tensors
            seen["note"] = ctx.note
            return g * b * 2.0, g * a * 2.0, None

    a, b = x64(1.0, 2.0), Tensor(np.array([3.0, 4.0]))
    Peek.apply(a, b, 2.0).sum().backward()
    assert seen == {"needs": (True, False, False), "note": "kept"}
    np.testing.assert_array_equal(a.grad, [6.0, 8.0])
    assert b.grad is None


def test_non_tensor_arguments_pass_through_and_get_none():
    x = x64(1.0, -2.0)
    y = Scale.apply(x, 3.0)
    assert y.inputs == (x,)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad, [3.0, 3.0])


def test_the_same_input_twice_accumulates_both_gradients():
    class Mul(Function):
        @staticmethod
        def forward(ctx, a, b):
            ctx.save_for_backward(a, b)
            return a * b

        @staticmethod
        def backward(ctx, g):
            a, b = ctx.saved_tensors
            return g * b, g * a

    x = x64(3.0)
    Mul.apply(x, x).sum().backward()
    assert x.grad[0] == 6.0


def test_under_no_grad_the_result_is_a_constant():
    with no_grad():
        y = Swish.apply(x64(1.0))
    assert not y.requires_grad and y.inputs == ()


def test_float32_in_gives_float32_gradients():
    x = Tensor(np.array([0.5, -0.5], dtype=np.float32), requires_grad=True)
    Swish.apply(x).sum().backward()
    assert x.grad.dtype == np.float32


# -- errors that name the Function -------------------------------------------------------------------------


def test_wrong_number_of_gradients_names_the_function_and_its_inputs():
    class TooFew(Scale):
        @staticmethod
        def backward(ctx, g):
            return g * ctx.k  # forgot the None for k

    y = TooFew.apply(x64(1.0), 2.0)
    want = "TooFew.backward returned 1 gradient(s), but TooFew.forward takes 2 input(s) (x, k)"
    with pytest.raises(TypeError, match=re.escape(want)):
        y.sum().backward()


def test_wrong_gradient_shape_names_the_function_with_a_hint():
    class Unsummed(Function):
        @staticmethod
        def forward(ctx, x, b):
            return x + b

        @staticmethod
        def backward(ctx, g):
            return g, g  # b was broadcast over the rows: its gradient needs g.sum(axis=0)

    x = Tensor(np.ones((4, 3)), requires_grad=True)
    b = Tensor(np.ones(3), requires_grad=True, label="b")
    y = Unsummed.apply(x, b)
    with pytest.raises(ValueError, match=r"Unsummed.backward returned a gradient of shape \(4, 3\) for input 1 \(b\) "
                                         r"of shape \(3,\).*sum over axis 0\?"):
        y.sum().backward()


def test_a_gradient_for_a_plain_number_is_an_error():
    class Greedy(Scale):
        @staticmethod
        def backward(ctx, g):
            return g * ctx.k, 1.0

    with pytest.raises(TypeError, match=r"Greedy\.backward returned a gradient for input 1 \(k\), which is a float"):
        Greedy.apply(x64(1.0), 2.0).sum().backward()


def test_forward_must_return_one_floating_array():
    class Two(Function):
        @staticmethod
        def forward(ctx, x):
            return x, x

    with pytest.raises(TypeError, match=r"Two\.forward returned a tuple"):
        Two.apply(x64(1.0))

    class Ints(Function):
        @staticmethod
        def forward(ctx, x):
            return np.array([1, 2])

    with pytest.raises(TypeError, match=r"Ints\.forward returned dtype int64"):
        Ints.apply(x64(1.0))


def test_apply_needs_tensors_or_values_but_not_both():
    with pytest.raises(TypeError, match=r"Swish\.apply needs at least one Tensor or Value"):
        Swish.apply(1.0)
    with pytest.raises(TypeError, match="both Tensors and Values"):
        Scale.apply(x64(1.0), Value(2.0))
    with pytest.raises(TypeError, match="subclass Function"):
        Function.apply(x64(1.0))


def test_missing_forward_or_backward_says_what_to_define():
    class NoBackward(Function):
        @staticmethod
        def forward(ctx, x):
            return x

    y = NoBackward.apply(x64(1.0))
    with pytest.raises(NotImplementedError, match="backward"):
        y.sum().backward()


# -- Values ------------------------------------------------------------------------------------------------


def test_the_same_sigmoid_works_on_values():
    x = Value(0.7, label="x")
    y = Sigmoid.apply(x)
    s = 1 / (1 + math.exp(-0.7))
    assert isinstance(y, Value) and y.data == pytest.approx(s, rel=1e-15)
    assert y.op == "Sigmoid" and y.inputs == (x,)
    (y * 2.0).backward()
    assert x.grad == pytest.approx(2 * s * (1 - s), rel=1e-15)
    assert gradcheck(lambda v: Sigmoid.apply(v * 3.0) + v, Value(-0.4)).ok


def test_value_functions_take_several_inputs_and_plain_numbers():
    a, b = Value(2.0), Value(-3.0)
    y = Scale.apply(a, 4.0) * b
    y.backward()
    assert (a.grad, b.grad) == (-12.0, 8.0)
    assert Value.sum([Sigmoid.apply(a), Sigmoid.apply(a)]).op == "sum"


def test_value_backward_errors_name_the_function():
    class Pair(Function):
        @staticmethod
        def forward(ctx, a, b):
            return a * b

        @staticmethod
        def backward(ctx, g):
            return g  # one gradient for two inputs

    y = Pair.apply(Value(1.0), Value(2.0))
    want = "Pair.backward returned 1 gradient(s), but Pair.forward takes 2 input(s) (a, b)"
    with pytest.raises(TypeError, match=re.escape(want)):
        y.backward()

    class ArrayGrad(Sigmoid):
        @staticmethod
        def backward(ctx, g):
            return np.array([g, g])

    want = "ArrayGrad.backward returned ndarray for input 0 (x); a Value's gradient is one number"
    with pytest.raises(TypeError, match=re.escape(want)):
        ArrayGrad.apply(Value(1.0)).backward()


def test_value_forward_must_return_a_number():
    class Arr(Function):
        @staticmethod
        def forward(ctx, x):
            return np.array([x, x])

    want = "Arr.forward returned a ndarray; with Value inputs forward returns one number"
    with pytest.raises(TypeError, match=re.escape(want)):
        Arr.apply(Value(1.0))
