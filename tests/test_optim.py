"""nn.optim: SGD, Adam, AdamW steps against numbers worked out by hand, torch.optim, and Value parameters."""
from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import torch_or_skip

from autograd import Tensor, Value
from nn.optim import SGD, Adam, AdamW

TINY32 = np.finfo(np.float32).tiny


def param(values: list[float], dtype: object = np.float64) -> Tensor:
    return Tensor(np.array(values, dtype=dtype), requires_grad=True)


def run(opt, params, grads_per_step) -> None:
    """Set each parameter's .grad by hand, then step, once per entry of ``grads_per_step``."""
    for grads in grads_per_step:
        for p, g in zip(params, grads):
            if isinstance(p, Value):
                p.grad = g
            else:
                p.grad = np.array(g, dtype=p.data.dtype)
        opt.step()


G1, G2 = [0.5, 1.0], [-1.0, 2.0]


# -- SGD ----------------------------------------------------------------------------------------


def test_sgd_plain_step():
    p = param([1.0, -2.0])
    run(SGD([p], lr=0.1), [p], [[G1]])
    np.testing.assert_allclose(p.data, [1.0 - 0.05, -2.0 - 0.1], rtol=1e-15)


def test_sgd_momentum_two_steps_by_hand():
    p = param([1.0, -2.0])
    run(SGD([p], lr=0.1, momentum=0.9), [p], [[G1], [G2]])
    # b₁ = g₁ = [0.5, 1]           p₁ = [1, -2] − 0.1·b₁ = [0.95, -2.1]
    # b₂ = 0.9·b₁ + g₂ = [-0.55, 2.9]  p₂ = p₁ − 0.1·b₂ = [1.005, -2.39]
    np.testing.assert_allclose(p.data, [1.005, -2.39], rtol=1e-14)


def test_sgd_nesterov_two_steps_by_hand():
    p = param([1.0, -2.0])
    run(SGD([p], lr=0.1, momentum=0.9, nesterov=True), [p], [[G1], [G2]])
    # step 1: b = [0.5, 1];  update g + 0.9·b = [0.95, 1.9]        p = [0.905, -2.19]
    # step 2: b = [-0.55, 2.9]; update g + 0.9·b = [-1.495, 4.61]  p = [1.0545, -2.651]
    np.testing.assert_allclose(p.data, [1.0545, -2.651], rtol=1e-14)


def test_sgd_weight_decay_adds_l2_to_the_gradient():
    p = param([2.0])
    run(SGD([p], lr=0.1, weight_decay=0.1), [p], [[[0.5]]])
    assert p.data[0] == pytest.approx(2.0 - 0.1 * (0.5 + 0.1 * 2.0), rel=1e-15)


def test_sgd_does_not_modify_the_gradient():
    p = param([1.0, 2.0])
    p.grad = np.array([0.5, 0.5])
    grad = p.grad
    SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.1).step()
    np.testing.assert_array_equal(grad, [0.5, 0.5])


# -- Adam / AdamW -------------------------------------------------------------------------------


def adam_by_hand(p: float, grads: list[float], lr: float, b1: float, b2: float, eps: float,
                 wd: float = 0.0, decoupled: bool = False) -> float:
    """The textbook formulas, one scalar at a time."""
    m = v = 0.0
    for t, g in enumerate(grads, start=1):
        if decoupled:
            p = p - lr * wd * p
        else:
            g = g + wd * p
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        p = p - lr * (m / (1 - b1**t)) / (math.sqrt(v / (1 - b2**t)) + eps)
    return p


def test_adam_first_step_moves_each_weight_by_lr_against_the_gradient_sign():
    # m̂₁ = g and v̂₁ = g², so the first update is lr·g/|g| whatever the gradient's size
    p = param([1.0, 1.0, 1.0])
    run(Adam([p], lr=0.1), [p], [[[0.5, -1e-3, 40.0]]])
    np.testing.assert_allclose(p.data, [0.9, 1.1, 0.9], rtol=1e-6)


def test_adam_three_steps_match_the_formulas():
    grads = [[0.5, -2.0], [-0.25, -1.0], [0.125, 3.0]]
    p = param([1.0, -1.0])
    run(Adam([p], lr=0.1, betas=(0.8, 0.99), eps=1e-6), [p], [[g] for g in grads])
    expected = [adam_by_hand(p0, [g[i] for g in grads], 0.1, 0.8, 0.99, 1e-6) for i, p0 in enumerate([1.0, -1.0])]
    np.testing.assert_allclose(p.data, expected, rtol=1e-12)


def test_adam_second_step_by_hand():
    # step 1: p = 1 − 0.1·0.5/(0.5 + 1e-8)  (0.9 but for ε).  step 2 with g = -0.25:
    # m = 0.9·0.05 − 0.1·0.25 = 0.02 ;  v = 0.999·0.00025 + 0.001·0.0625 = 0.00031225
    # m̂ = 0.02/0.19 ;  v̂ = 0.00031225/0.001999 ;  p −= 0.1·m̂/(√v̂ + 1e-8)
    p = param([1.0])
    run(Adam([p], lr=0.1), [p], [[[0.5]], [[-0.25]]])
    m_hat, v_hat = 0.02 / 0.19, 0.00031225 / 0.001999
    p1 = 1.0 - 0.1 * 0.5 / (0.5 + 1e-8)
    assert p.data[0] == pytest.approx(p1 - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8), rel=1e-12)


def test_adam_weight_decay_is_l2_in_the_gradient():
    grads = [0.5, -0.25]
    p = param([1.0])
    run(Adam([p], lr=0.1, weight_decay=0.5), [p], [[[g]] for g in grads])
    assert p.data[0] == pytest.approx(adam_by_hand(1.0, grads, 0.1, 0.9, 0.999, 1e-8, wd=0.5), rel=1e-12)


def test_adamw_decays_weights_directly_before_the_adam_step():
    p = param([1.0])
    run(AdamW([p], lr=0.1, weight_decay=0.1), [p], [[[0.5]]])
    # p·(1 − lr·λ) = 0.99, then the first Adam step of lr = 0.1
    assert p.data[0] == pytest.approx(0.89, rel=1e-6)
    q = param([1.0])
    run(AdamW([q], lr=0.1, weight_decay=0.1), [q], [[[0.5]], [[-0.25]], [[1.0]]])
    assert q.data[0] == pytest.approx(adam_by_hand(1.0, [0.5, -0.25, 1.0], 0.1, 0.9, 0.999, 1e-8, 0.1, True), rel=1e-12)


def test_adamw_default_weight_decay_is_1e_2():
    assert AdamW([param([1.0])]).weight_decay == 1e-2
    assert Adam([param([1.0])]).weight_decay == 0.0


# -- behaviour common to all --------------------------------------------------------------------


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda ps: SGD(ps, lr=0.1, momentum=0.9, nesterov=True),
    lambda ps: Adam(ps, weight_decay=0.01),
    lambda ps: AdamW(ps),
])
def test_updates_in_place_and_float32_stays_float32(make):
    p = param([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    data = p.data
    opt = make([p])
    for _ in range(3):
        p.grad = np.full((2, 2), 0.5, dtype=np.float32)
        opt.step()
    assert p.data is data and p.data.dtype == np.float32
    assert np.all(p.data < [[1.0, 2.0], [3.0, 4.0]])
    for buf in opt.state[0].values():
        if isinstance(buf, np.ndarray):
            assert buf.dtype == np.float32


@pytest.mark.parametrize("cls", [SGD, Adam, AdamW])
def test_parameters_without_grad_are_skipped(cls):
    a, b = param([1.0]), param([2.0])
    opt = cls((p for p in [a, b]), lr=0.1)  # a generator: materialised, not exhausted on first use
    for _ in range(2):
        a.grad = np.array([1.0])
        b.grad = None
        opt.step()
    assert a.data[0] < 1.0 and b.data[0] == 2.0
    assert opt.state[1] == {}


def test_zero_grad_clears_tensor_and_value_gradients():
    t, v = param([1.0]), Value(2.0)
    t.grad, v.grad = np.array([3.0]), 4.0
    SGD([t, v], lr=0.1).zero_grad()
    assert t.grad is None and v.grad == 0.0


@pytest.mark.parametrize(("make", "match"), [
    (lambda ps: SGD(ps, lr=-0.1), "lr=-0.1"),
    (lambda ps: SGD(ps, lr=0.1, nesterov=True), "nesterov.*momentum"),
    (lambda ps: SGD(ps, lr=0.1, momentum=-0.5), "momentum=-0.5"),
    (lambda ps: Adam(ps, betas=(1.0, 0.999)), "beta1=1.0"),
    (lambda ps: Adam(ps, betas=(0.9, -0.1)), "beta2=-0.1"),
    (lambda ps: AdamW(ps, eps=-1.0), "eps=-1.0"),
    (lambda ps: Adam(ps, weight_decay=-1.0), "weight_decay=-1.0"),
    (lambda ps: Adam([], lr=0.1), "empty parameter list"),
])
def test_invalid_arguments_raise_clear_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make([param([1.0])])


def test_non_parameters_are_rejected():
    with pytest.raises(TypeError, match="parameter 1 is a ndarray"):
        SGD([param([1.0]), np.zeros(2)], lr=0.1)


# -- scalar Value parameters --------------------------------------------------------------------


def test_sgd_nesterov_on_values_matches_the_hand_numbers():
    ps = [Value(1.0), Value(-2.0)]
    run(SGD(ps, lr=0.1, momentum=0.9, nesterov=True), ps, [G1, G2])
    assert [p.data for p in ps] == pytest.approx([1.0545, -2.651], rel=1e-14)
    assert all(isinstance(p.data, float) for p in ps)


def test_sgd_momentum_and_adam_agree_between_values_and_tensors():
    grads = [[0.5, -2.0], [-0.25, -1.0], [0.125, 3.0]]
    for make in (lambda ps: SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.1),
                 lambda ps: Adam(ps, lr=0.1, weight_decay=0.1), lambda ps: AdamW(ps, lr=0.1)):
        values = [Value(1.0), Value(-1.0)]
        tensor = param([1.0, -1.0])
        run(make(values), values, grads)
        run(make([tensor]), [tensor], [[g] for g in grads])
        np.testing.assert_allclose([v.data for v in values], tensor.data, rtol=1e-13)


def test_adam_minimises_a_scalar_value_loss_through_backward():
    x = Value(0.0)
    opt = Adam([x], lr=0.1)
    for _ in range(300):
        loss = (x - 3.0) ** 2
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert x.data == pytest.approx(3.0, abs=1e-2)


# -- subnormal guard ----------------------------------------------------------------------------


def _is_subnormal(a: np.ndarray) -> bool:
    return bool(np.any((a != 0) & (np.abs(a) < TINY32)))


def test_unguarded_decay_would_reach_subnormals_within_the_test_horizon():
    # the premise of the next test: 0.1·0.9ᵏ in float32 passes below `tiny` before 1000 steps
    b = np.array([0.1], dtype=np.float32)
    seen = False
    for _ in range(1000):
        b *= np.float32(0.9)
        seen |= _is_subnormal(b)
    assert seen


@pytest.mark.parametrize("make", [
    lambda ps: SGD(ps, lr=0.01, momentum=0.9),
    lambda ps: SGD(ps, lr=0.01, momentum=0.5, nesterov=True),
    lambda ps: Adam(ps, lr=0.01),
    lambda ps: Adam(ps, lr=0.01, betas=(0.5, 0.9)),
    lambda ps: AdamW(ps, lr=0.01, betas=(0.99, 0.95)),
])
def test_moment_buffers_fed_zero_gradients_never_hold_subnormals(make):
    p = param(np.ones(4).tolist(), dtype=np.float32)
    opt = make([p])
    p.grad = np.array([1.0, 1e-3, 1e-9, 0.0], dtype=np.float32)
    opt.step()
    zero = np.zeros(4, dtype=np.float32)
    for step in range(1200):
        p.grad = zero
        opt.step()
        for name, buf in opt.state[0].items():
            if name in ("m_unscaled", "v_unscaled", "momentum_buffer"):
                assert not _is_subnormal(buf), f"{name} holds a subnormal after {step + 2} steps: {buf}"
    assert np.all(np.isfinite(p.data))


# -- PyTorch as an oracle -----------------------------------------------------------------------


@pytest.mark.parametrize(("ours", "theirs", "kwargs"), [
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True}),
    (Adam, "Adam", {"lr": 0.01, "betas": (0.8, 0.95), "weight_decay": 0.1}),
    (AdamW, "AdamW", {"lr": 0.01, "weight_decay": 0.05}),
])
def test_matches_torch_optim_over_many_steps(ours, theirs, kwargs):
    torch = torch_or_skip()
    rng = np.random.default_rng(0)
    init = rng.normal(size=(3, 4))
    grads = rng.normal(size=(70, 3, 4))  # past one subnormal flush (every ≤ 64 steps)
    p = Tensor(init.copy(), requires_grad=True)
    tp = torch.tensor(init, requires_grad=True)
    opt, topt = ours([p], **kwargs), getattr(torch.optim, theirs)([tp], **kwargs)
    for g in grads:
        p.grad = g.copy()
        tp.grad = torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_adam_state_names_say_what_the_numbers_are_and_relate_to_torchs():
    torch = torch_or_skip()
    rng = np.random.default_rng(2)
    p = Tensor(rng.normal(size=5), requires_grad=True)
    tp = torch.tensor(p.data.copy(), requires_grad=True)
    opt, topt = Adam([p], lr=0.01, betas=(0.8, 0.95)), torch.optim.Adam([tp], lr=0.01, betas=(0.8, 0.95))
    for _ in range(4):
        g = rng.normal(size=5)
        p.grad, tp.grad = g.copy(), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    state, tstate = opt.state[0], topt.state[tp]
    assert "exp_avg" not in state and "exp_avg_sq" not in state  # PyTorch's names only for PyTorch's numbers
    np.testing.assert_allclose(state["m_unscaled"] * (1 - 0.8), tstate["exp_avg"].numpy(), rtol=1e-12)
    np.testing.assert_allclose(state["v_unscaled"] * (1 - 0.95), tstate["exp_avg_sq"].numpy(), rtol=1e-12)


# -- many parameters: the flat, blocked update and the per-parameter fallback ---------------------------


# Sizes chosen around the block (32768 float64 elements): a parameter split over several blocks, one with a
# block of its own, and small ones packed together into shared blocks.
SHAPES = [(250, 400), (10,), (300,), (20000,), (5, 3), (7,)]


@pytest.mark.parametrize(("ours", "theirs", "kwargs"), [
    (SGD, "SGD", {"lr": 0.05}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    (SGD, "SGD", {"lr": 0.05, "momentum": 0.8, "nesterov": True, "weight_decay": 0.01}),
    (Adam, "Adam", {"lr": 0.01, "betas": (0.8, 0.95), "weight_decay": 0.1}),
    (AdamW, "AdamW", {"lr": 0.01, "weight_decay": 0.05}),
])
def test_many_parameters_match_torch_including_steps_where_some_have_no_gradient(ours, theirs, kwargs):
    torch = torch_or_skip()
    rng = np.random.default_rng(1)
    inits = [rng.normal(size=s) for s in SHAPES]
    ps = [Tensor(a.copy(), requires_grad=True) for a in inits]
    tps = [torch.tensor(a, requires_grad=True) for a in inits]
    opt, topt = ours(ps, **kwargs), getattr(torch.optim, theirs)(tps, **kwargs)
    for step in range(12):
        for i, (p, tp) in enumerate(zip(ps, tps)):
            if step in (3, 4) and i in (1, 3):  # these take no part in two steps: the fallback path
                p.grad, tp.grad = None, None
            else:
                g = rng.normal(size=SHAPES[i])
                p.grad, tp.grad = g.copy(), torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-10, atol=1e-12)


def test_the_optimizer_keeps_working_when_data_is_replaced_or_loaded_in_place():
    ps = [param(np.ones(s).ravel().tolist()) for s in [(3,), (40000,)]]
    opt = SGD(ps, lr=0.5)
    for p in ps:
        p.grad = np.ones_like(p.data)
    opt.step()
    ps[0].data[...] = 10.0  # load_state_dict's way: in place
    ps[1].data = np.full(40000, 4.0)  # a new array
    opt.step()
    np.testing.assert_array_equal(ps[0].data, [9.5, 9.5, 9.5])
    assert np.all(ps[1].data == 3.5)


def test_gradients_are_never_written_by_a_step():
    ps = [param(np.ones(s).ravel().tolist()) for s in [(3,), (40000,), (4,)]]
    grads = [np.full(p.shape, 0.25) for p in ps]
    opt = Adam(ps, lr=0.1, weight_decay=0.1)
    for _ in range(2):
        for p, g in zip(ps, grads):
            p.grad = g
        opt.step()
    for g in grads:
        assert np.all(g == 0.25)


def test_tensor_and_value_parameters_in_one_optimizer():
    t, v = param([1.0, 2.0]), Value(1.0)
    opt = Adam([t, v], lr=0.1)
    t.grad, v.grad = np.array([0.5, 0.5]), 0.5
    opt.step()
    np.testing.assert_allclose(t.data, [0.9, 1.9], rtol=1e-6)
    assert v.data == pytest.approx(0.9, rel=1e-6)


def test_a_float32_model_trained_with_adam_matches_torch_to_float32_rounding():
    torch = torch_or_skip()
    rng = np.random.default_rng(2)
    inits = [rng.normal(size=s).astype(np.float32) for s in [(128, 784), (128,), (10, 128), (10,)]]
    ps = [Tensor(a.copy(), requires_grad=True) for a in inits]
    tps = [torch.tensor(a, requires_grad=True) for a in inits]
    opt, topt = Adam(ps, lr=1e-3), torch.optim.Adam(tps, lr=1e-3)
    for _ in range(20):
        for p, tp in zip(ps, tps):
            g = (rng.normal(size=p.shape) * 1e-2).astype(np.float32)
            p.grad, tp.grad = g, torch.from_numpy(g.copy())
        opt.step()
        topt.step()
    for p, tp in zip(ps, tps):
        np.testing.assert_allclose(p.data, tp.detach().numpy(), rtol=1e-5, atol=1e-6)
