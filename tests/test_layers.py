"""nn layers on Tensor: Linear init and gradients, activations, Dropout modes, Sequential keys, torch interop."""
from __future__ import annotations

import math
import re

import numpy as np
import pytest
from conftest import torch_or_skip

from autograd import Tensor, no_grad
from nn import Dropout, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from nn import functional as F


def mlp(rng: np.random.Generator | None = None) -> Sequential:
    return Sequential(Linear(4, 8, rng=rng), ReLU(), Linear(8, 3, rng=rng))


# -- Linear -------------------------------------------------------------------------------------


def test_linear_shapes_dtype_and_pytorch_init_range():
    lin = Linear(100, 30, rng=np.random.default_rng(0))
    assert lin.weight.shape == (30, 100) and lin.bias.shape == (30,)
    assert lin.weight.dtype == np.float32 and lin.bias.dtype == np.float32
    assert lin.weight.requires_grad and lin.bias.requires_grad
    bound = 1 / math.sqrt(100)
    assert np.abs(lin.weight.data).max() <= bound
    # 3000 uniform draws on [-0.1, 0.1]: the extremes come close to the bounds, the mean close to 0,
    # and the variance close to bound²/3 (a normal or a narrower init would miss these)
    assert np.abs(lin.weight.data).max() > 0.99 * bound
    assert abs(lin.weight.data.mean()) < 0.01
    assert lin.weight.data.var() == pytest.approx(bound**2 / 3, rel=0.1)


def test_linear_init_reproducible_from_rng_and_from_global_seed():
    a, b = Linear(5, 4, rng=np.random.default_rng(1)), Linear(5, 4, rng=np.random.default_rng(1))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)
    np.random.seed(3)
    c = Linear(5, 4)
    np.random.seed(3)
    d = Linear(5, 4)
    np.testing.assert_array_equal(c.weight.data, d.weight.data)
    np.testing.assert_array_equal(c.bias.data, d.bias.data)
    assert not np.array_equal(a.weight.data, c.weight.data)


def test_linear_forward_and_parameters():
    lin = Linear(3, 2)
    lin.weight.data[...] = [[1, 2, 3], [0, -1, 0.5]]
    lin.bias.data[...] = [0.5, -0.5]
    y = lin(Tensor(np.array([[1.0, 1.0, 2.0]], dtype=np.float32)))
    np.testing.assert_allclose(y.data, [[1 + 2 + 6 + 0.5, -1 + 1 - 0.5]])
    assert y.dtype == np.float32
    assert [n for n, _ in lin.named_parameters()] == ["weight", "bias"]
    assert repr(lin) == "Linear(in_features=3, out_features=2, bias=True)"


def test_linear_without_bias_has_only_weight():
    lin = Linear(3, 2, bias=False)
    assert lin.bias is None and list(lin.state_dict()) == ["weight"]


def test_linear_rejects_nonpositive_sizes():
    with pytest.raises(ValueError, match="in_features=0"):
        Linear(0, 3)


# -- activations and Dropout --------------------------------------------------------------------


def test_activation_modules_apply_their_function():
    a = np.array([-2.0, 0.0, 1.5])
    np.testing.assert_allclose(ReLU()(Tensor(a)).data, [0, 0, 1.5])
    np.testing.assert_allclose(Tanh()(Tensor(a)).data, np.tanh(a))
    np.testing.assert_allclose(Sigmoid()(Tensor(a)).data, 1 / (1 + np.exp(-a)))
    assert ReLU().parameters() == []


def test_dropout_module_drops_in_training_and_passes_through_in_eval():
    model = Sequential(Linear(2, 2), Dropout(0.5, rng=np.random.default_rng(0)))
    x = Tensor(np.ones((500, 2), dtype=np.float32))
    with no_grad():
        train_out = model(x).data
        model.eval()
        eval_out = model(x).data
    assert not model[1].training
    assert 0.4 < (train_out == 0).mean() < 0.6
    kept = train_out != 0
    np.testing.assert_allclose(train_out[kept], 2 * np.broadcast_to(eval_out, train_out.shape)[kept], rtol=1e-6)
    np.testing.assert_array_equal(eval_out, x.data @ model[0].weight.data.T + model[0].bias.data)
    model.train()
    assert model[1].training


def test_dropout_module_validates_p():
    with pytest.raises(ValueError, match=r"\[0, 1\].*1\.5"):
        Dropout(1.5)
    assert repr(Dropout(0.2)) == "Dropout(p=0.2)"


# -- Sequential ---------------------------------------------------------------------------------


def test_sequential_keys_shapes_and_container_protocol():
    model = mlp()
    sd = model.state_dict()
    assert list(sd) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert [sd[k].shape for k in sd] == [(8, 4), (8,), (3, 8), (3,)]
    assert len(model) == 3
    assert isinstance(model[1], ReLU) and model[-1] is model.layers[2]
    assert [type(m) for m in model] == [Linear, ReLU, Linear]
    head = model[:2]
    assert isinstance(head, Sequential) and len(head) == 2 and head[0] is model[0]
    assert repr(model).splitlines()[1] == "  (0): Linear(in_features=4, out_features=8, bias=True)"


def test_sequential_forward_composes_in_order():
    model = mlp(np.random.default_rng(2))
    x = np.random.default_rng(3).normal(size=(5, 4)).astype(np.float32)
    w0, b0, w2, b2 = (p.data for p in model.parameters())
    expected = np.maximum(x @ w0.T + b0, 0) @ w2.T + b2
    np.testing.assert_allclose(model(Tensor(x)).data, expected, rtol=1e-5)


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="argument 1 is a int"):
        Sequential(ReLU(), 3)


def test_nested_sequential_keys_are_dotted():
    model = Sequential(Sequential(Linear(2, 2)), ReLU())
    assert list(model.state_dict()) == ["0.0.weight", "0.0.bias"]
    assert all(isinstance(m, Module) for m in model.modules())


def test_state_dict_round_trip_into_a_fresh_model():
    a, b = mlp(np.random.default_rng(4)), mlp(np.random.default_rng(5))
    b.load_state_dict(a.state_dict())
    x = Tensor(np.ones((2, 4), dtype=np.float32))
    np.testing.assert_array_equal(a(x).data, b(x).data)


def test_model_gradients_match_finite_differences_in_float64():
    model = mlp(np.random.default_rng(6))
    for p in model.parameters():
        p.data = p.data.astype(np.float64)
    x = np.random.default_rng(7).normal(size=(6, 4))
    y = np.array([0, 1, 2, 0, 1, 2])
    F.cross_entropy(model(Tensor(x)), y).backward()
    w = model[0].weight.data
    h = 1e-6
    for i in [(0, 0), (3, 2), (7, 1)]:
        old = w[i]
        w[i] = old + h
        up = F.cross_entropy(model(Tensor(x)), y).item()
        w[i] = old - h
        down = F.cross_entropy(model(Tensor(x)), y).item()
        w[i] = old
        assert model[0].weight.grad[i] == pytest.approx((up - down) / (2 * h), rel=1e-5, abs=1e-9)


def test_small_network_learns_xor_with_sgd():
    from nn.optim import SGD

    model = Sequential(Linear(2, 16, rng=np.random.default_rng(8)), Tanh(), Linear(16, 2, rng=np.random.default_rng(9)))
    x = Tensor(np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=np.float32))
    y = np.array([0, 1, 1, 0])
    opt = SGD(model.parameters(), lr=0.5, momentum=0.9)
    first = None
    for _ in range(200):
        loss = F.cross_entropy(model(x), y)
        first = first if first is not None else loss.item()
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.05 < first
    np.testing.assert_array_equal(model(x).data.argmax(axis=1), y)


# -- PyTorch interop ----------------------------------------------------------------------------


def _torch_mlp(torch):
    return torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Linear(8, 3))


def test_state_dict_loads_into_torch_sequential_and_outputs_agree():
    torch = torch_or_skip()
    from nn.optim import Adam

    ours = mlp(np.random.default_rng(10))
    opt = Adam(ours.parameters(), lr=0.05)
    data = np.random.default_rng(13).normal(size=(16, 4)).astype(np.float32)
    for _ in range(5):  # trained weights, not just the initial ones
        opt.zero_grad()
        F.cross_entropy(ours(Tensor(data)), np.arange(16) % 3).backward()
        opt.step()
    theirs = _torch_mlp(torch)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(11).normal(size=(5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)


def test_torch_state_dict_loads_into_ours_and_outputs_agree():
    torch = torch_or_skip()
    torch.manual_seed(0)
    theirs = _torch_mlp(torch)
    ours = mlp()
    ours.load_state_dict({k: v.detach().numpy() for k, v in theirs.state_dict().items()})
    assert ours[0].weight.dtype == np.float32
    x = np.random.default_rng(12).normal(size=(5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = theirs(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(ours(Tensor(x)).data, expected, rtol=1e-5, atol=1e-6)


# -- inputs: the rule of nn.functional (a non-Tensor is a constant Tensor(x)), and Linear's dtype check -----


@pytest.mark.parametrize(
    "layer",
    [Linear(2, 3), ReLU(), Tanh(), Sigmoid(), Dropout(0.5).eval(), Sequential(Linear(2, 4), ReLU(), Linear(4, 1))],
    ids=["Linear", "ReLU", "Tanh", "Sigmoid", "Dropout", "Sequential"],
)
def test_layers_take_lists_and_float32_arrays(layer):
    rows = [[0.5, -1.0], [2.0, 0.25]]
    want = layer(Tensor(rows)).data
    for given in (rows, np.array(rows, dtype=np.float32)):
        out = layer(given)
        assert isinstance(out, Tensor) and out.dtype == np.float32
        np.testing.assert_array_equal(out.data, want)


def test_linear_given_float64_names_itself_and_says_how_to_convert():
    model = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
    want = ("expected float32 input for Linear(784→128), got float64; "
            "convert with x.float() / Tensor(x, dtype=np.float32)")
    with pytest.raises(TypeError, match=re.escape(want)):
        model(np.zeros((2, 784)))
    with pytest.raises(TypeError, match=re.escape("Linear(784→128), got uint8")):
        model(Tensor(np.zeros((2, 784), dtype=np.uint8)))
    assert model(Tensor(np.zeros((2, 784))).float()).shape == (2, 10)
