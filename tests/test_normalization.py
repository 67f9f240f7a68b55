"""BatchNorm1d/2d, LayerNorm, Embedding and their F.* forms against PyTorch (float64): outputs, gradients of the
input and parameters, running statistics after several steps, train/eval, state_dicts both ways, and second
derivatives (the layers are composed of Tensor ops)."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import torch_or_skip

import nn
from autograd import Tensor, grad, no_grad
from nn import functional as F

torch = torch_or_skip()

RNG = np.random.default_rng(16)


def pair(shape, scale=1.0, shift=0.0):
    a = RNG.standard_normal(shape) * scale + shift
    return Tensor(a.copy(), requires_grad=True), torch.tensor(a, requires_grad=True)


def close(ours, theirs, rtol=1e-10, atol=1e-12):
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    ours = ours.data if isinstance(ours, Tensor) else np.asarray(ours)
    assert ours.shape == theirs.shape
    np.testing.assert_allclose(ours, theirs, rtol=rtol, atol=atol)


def same_grads(out, out_t, leaves):
    """Backpropagate one random upstream gradient through both; every leaf's gradient agrees."""
    g = RNG.standard_normal(out.shape)
    out.backward(g)
    out_t.backward(torch.tensor(g))
    for ours, theirs in leaves:
        close(ours.grad, theirs.grad)


def copy_params(ours: nn.Module, theirs: object) -> None:
    with torch.no_grad():
        for name, p in ours.named_parameters():
            p.data[...] = RNG.standard_normal(p.shape) * 0.5 + (1.0 if name.endswith("weight") else 0.0)
            dict(theirs.named_parameters())[name].copy_(torch.tensor(p.data))


BATCHNORMS = [
    ("1d (N, C)", nn.BatchNorm1d, torch.nn.BatchNorm1d, (16, 5)),
    ("1d (N, C, L)", nn.BatchNorm1d, torch.nn.BatchNorm1d, (8, 5, 7)),
    ("2d", nn.BatchNorm2d, torch.nn.BatchNorm2d, (6, 5, 4, 3)),
]
SETTINGS = [
    {},
    {"momentum": 0.3, "eps": 1e-3},
    {"momentum": None},
    {"affine": False},
    {"track_running_stats": False},
]


@pytest.mark.parametrize("kwargs", SETTINGS, ids=lambda k: ",".join(f"{a}={b}" for a, b in k.items()) or "defaults")
@pytest.mark.parametrize(("name", "ours_cls", "theirs_cls", "shape"), BATCHNORMS, ids=[b[0] for b in BATCHNORMS])
def test_batchnorm_trains_and_evaluates_as_torch(name, ours_cls, theirs_cls, shape, kwargs):
    ours = ours_cls(shape[1], dtype=np.float64, **kwargs)
    theirs = theirs_cls(shape[1], dtype=torch.float64, **kwargs)
    copy_params(ours, theirs)
    for step in range(3):  # training steps: batch statistics, and running ones updated each time
        x, x_t = pair(shape, scale=2.0, shift=step)
        out, out_t = ours(x), theirs(x_t)
        close(out, out_t)
        same_grads(out, out_t, [(x, x_t)] + [(p, dict(theirs.named_parameters())[n])
                                             for n, p in ours.named_parameters()])
        ours.zero_grad()
        theirs.zero_grad()
    assert set(ours.state_dict()) == set(theirs.state_dict())
    for key, value in theirs.state_dict().items():
        close(ours.state_dict()[key], value)
    ours.eval()
    theirs.eval()
    x, x_t = pair(shape, shift=0.5)
    out, out_t = ours(x), theirs(x_t)
    close(out, out_t)
    same_grads(out, out_t, [(x, x_t)])
    for key, value in theirs.state_dict().items():  # evaluation changes no statistic
        close(ours.state_dict()[key], value)


def test_batchnorm_state_dict_keys_are_torchs_and_load_both_ways():
    ours = nn.Sequential(nn.Linear(4, 3), nn.BatchNorm1d(3))
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    assert list(ours.state_dict()) == list(theirs.state_dict())
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    theirs.train()
    theirs(torch.randn(10, 4))  # running statistics that are not the initial ones
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    for key, value in theirs.state_dict().items():
        np.testing.assert_array_equal(ours.state_dict()[key], value.numpy())
    assert ours.state_dict()["1.num_batches_tracked"].dtype == np.int64
    ours[1](Tensor(RNG.standard_normal((6, 3)).astype(np.float32)))
    fresh = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.BatchNorm1d(3))
    fresh.load_state_dict({k: torch.tensor(v) for k, v in ours.state_dict().items()})
    assert int(fresh[1].num_batches_tracked) == 2
    close(ours[1].running_mean, fresh[1].running_mean, rtol=0, atol=0)
    assert not any("running" in n for n, _ in ours.named_parameters())


def test_batchnorm_without_running_stats_has_no_buffers_as_in_torch():
    ours, theirs = nn.BatchNorm2d(3, track_running_stats=False), torch.nn.BatchNorm2d(3, track_running_stats=False)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == ["weight", "bias"]
    no_affine = torch.nn.BatchNorm1d(3, affine=False)
    assert list(nn.BatchNorm1d(3, affine=False).state_dict()) == list(no_affine.state_dict())


def test_batchnorm_saves_and_loads_through_nn_save(tmp_path):
    bn = nn.BatchNorm2d(4)
    bn(Tensor(RNG.standard_normal((3, 4, 2, 2)).astype(np.float32)))
    nn.save(bn.state_dict(), tmp_path / "bn.npz")
    other = nn.BatchNorm2d(4)
    other.load_state_dict(nn.load(tmp_path / "bn.npz"))
    for key, value in bn.state_dict().items():
        np.testing.assert_array_equal(other.state_dict()[key], value)


def test_batchnorm_errors_name_the_problem():
    with pytest.raises(ValueError, match="more than 1 value per channel"):
        nn.BatchNorm1d(3)(Tensor(np.ones((1, 3), dtype=np.float32)))
    with pytest.raises(ValueError, match="got 4 channels"):
        nn.BatchNorm1d(3)(Tensor(np.ones((5, 4), dtype=np.float32)))
    with pytest.raises(ValueError, match="expected 4-D input"):
        nn.BatchNorm2d(3)(Tensor(np.ones((5, 3), dtype=np.float32)))
    bn = nn.BatchNorm1d(3)
    assert bn.weight.dtype == np.float32 and bn.running_var.dtype == np.float32
    assert [n for n, _ in bn.named_parameters()] == ["weight", "bias"]


def test_functional_batch_norm_is_torchs():
    x, x_t = pair((10, 4, 3))
    w, w_t = pair(4)
    b, b_t = pair(4)
    rm, rv = RNG.standard_normal(4), RNG.random(4) + 0.5
    ours_rm, ours_rv = Tensor(rm.copy()), Tensor(rv.copy())
    theirs_rm, theirs_rv = torch.tensor(rm.copy()), torch.tensor(rv.copy())
    out = F.batch_norm(x, ours_rm, ours_rv, w, b, training=True, momentum=0.2, eps=1e-4)
    out_t = torch.nn.functional.batch_norm(x_t, theirs_rm, theirs_rv, w_t, b_t, training=True, momentum=0.2, eps=1e-4)
    close(out, out_t)
    close(ours_rm, theirs_rm)
    close(ours_rv, theirs_rv)
    same_grads(out, out_t, [(x, x_t), (w, w_t), (b, b_t)])
    out = F.batch_norm(x, ours_rm, ours_rv)  # evaluation: the running statistics
    out_t = torch.nn.functional.batch_norm(x_t, theirs_rm, theirs_rv)
    close(out, out_t)


def test_batchnorm_is_twice_differentiable_as_torch():
    x, x_t = pair((6, 3))
    w, w_t = pair(3)
    bn_out = F.batch_norm(x, None, None, w, None, training=True)
    bn_out_t = torch.nn.functional.batch_norm(x_t, None, None, w_t, None, training=True)
    u = RNG.standard_normal((6, 3))
    (gx,) = grad((bn_out.tanh() * Tensor(u)).sum(), x, create_graph=True)
    (gx_t,) = torch.autograd.grad((bn_out_t.tanh() * torch.tensor(u)).sum(), x_t, create_graph=True)
    close(gx, gx_t)
    v = RNG.standard_normal((6, 3))
    hx, hw = grad((gx * Tensor(v)).sum(), [x, w])
    hx_t, hw_t = torch.autograd.grad((gx_t * torch.tensor(v)).sum(), [x_t, w_t])
    close(hx, hx_t, rtol=1e-9)
    close(hw, hw_t, rtol=1e-9)


# -- LayerNorm -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("shape", "normalized", "kwargs"), [
    ((4, 7), 7, {}),
    ((3, 4, 5), (4, 5), {}),
    ((3, 4, 5), [5], {"eps": 1e-3}),
    ((4, 6), 6, {"elementwise_affine": False}),
    ((4, 6), 6, {"bias": False}),
])
def test_layernorm_is_torchs(shape, normalized, kwargs):
    ours = nn.LayerNorm(normalized, dtype=np.float64, **kwargs)
    theirs = torch.nn.LayerNorm(normalized, dtype=torch.float64, **kwargs)
    copy_params(ours, theirs)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    x, x_t = pair(shape, scale=3.0, shift=1.0)
    out, out_t = ours(x), theirs(x_t)
    close(out, out_t)
    same_grads(out, out_t, [(x, x_t)] + [(p, dict(theirs.named_parameters())[n]) for n, p in ours.named_parameters()])
    ours.eval()
    close(ours(x), out_t)  # no running statistics: the same in evaluation


def test_functional_layer_norm_and_its_shape_error():
    x, x_t = pair((2, 3, 4))
    close(F.layer_norm(x, (3, 4)), torch.nn.functional.layer_norm(x_t, (3, 4)))
    with pytest.raises(ValueError, match="last dims"):
        F.layer_norm(x, (2, 3))


# -- Embedding and one_hot -------------------------------------------------------------------------------------


def test_embedding_looks_up_rows_and_sums_gradients_of_repeated_indices_as_torch():
    ours = nn.Embedding(10, 4, dtype=np.float64)
    theirs = torch.nn.Embedding(10, 4, dtype=torch.float64)
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
    idx = np.array([[1, 2, 1], [9, 1, 0]])  # row 1 three times
    out, out_t = ours(Tensor(idx)), theirs(torch.tensor(idx))
    assert out.shape == (2, 3, 4)
    close(out, out_t)
    same_grads(out, out_t, [(ours.weight, theirs.weight)])
    assert list(ours.state_dict()) == ["weight"]


def test_embedding_padding_row_starts_at_zero_and_takes_no_gradient():
    ours = nn.Embedding(6, 3, padding_idx=2, dtype=np.float64)
    assert np.all(ours.weight.data[2] == 0)
    theirs = torch.nn.Embedding(6, 3, padding_idx=2, dtype=torch.float64)
    with no_grad():
        ours.weight.data[2] = 0.5  # a padding row that is not zero still takes no gradient
    with torch.no_grad():
        theirs.weight.copy_(torch.tensor(ours.weight.data))
    idx = np.array([2, 3, 2, 5])
    out, out_t = ours(idx), theirs(torch.tensor(idx))
    close(out, out_t)
    same_grads(out, out_t, [(ours.weight, theirs.weight)])
    assert np.all(ours.weight.grad[2] == 0)


def test_functional_embedding_and_index_errors():
    w, w_t = pair((5, 2))
    idx = np.array([4, 0, 4])
    out, out_t = F.embedding(idx, w), torch.nn.functional.embedding(torch.tensor(idx), w_t)
    close(out, out_t)
    same_grads(out, out_t, [(w, w_t)])
    with pytest.raises(TypeError, match="integers"):
        F.embedding(np.array([0.0, 1.0]), w)
    with pytest.raises(IndexError, match="index 5 is out of range for a table of 5 rows"):
        F.embedding(np.array([5]), w)


@pytest.mark.parametrize("num_classes", [-1, 6])
def test_one_hot_is_torchs(num_classes):
    idx = np.array([[0, 3], [2, 3]])
    ours = F.one_hot(Tensor(idx), num_classes=num_classes)
    theirs = torch.nn.functional.one_hot(torch.tensor(idx), num_classes=num_classes)
    assert ours.dtype == np.int64 and not ours.requires_grad
    np.testing.assert_array_equal(ours.data, theirs.numpy())
    with pytest.raises(ValueError, match="not below num_classes=3"):
        F.one_hot(Tensor(idx), 3)
