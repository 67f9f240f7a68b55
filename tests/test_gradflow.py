"""GradientFlow: gradient norms per layer and parameter, activation statistics by hand, sampling, plotting."""
from __future__ import annotations

import math
import random

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")  # before pyplot is imported anywhere: no display in tests

import nn
from autograd import Tensor, no_grad
from nn import functional as F
from nn.gradflow import SATURATION, GradientFlow
from nn.moons import hinge_loss


def _mlp(activation: type, depth: int, width: int = 32, n_in: int = 8, n_out: int = 3, seed: int = 0):
    rng = np.random.default_rng(seed)
    layers = []
    for i in range(depth):
        layers += [nn.Linear(n_in if i == 0 else width, width, rng=rng), activation()]
    return nn.Sequential(*layers, nn.Linear(width, n_out, rng=rng))


def _batch(n: int = 64, n_in: int = 8, seed: int = 1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, n_in)).astype(np.float32)
    return x, (x[:, 0] > 0).astype(np.int64) + (x[:, 1] > 0)


def _step(model, x, y, flow=None, lr=0.0):
    loss = F.cross_entropy(model(Tensor(x)), y)
    model.zero_grad()
    loss.backward()
    if flow is not None:
        flow.record()
    for p in model.parameters():
        p.data -= lr * p.grad
    return loss


def test_gradient_norms_are_the_l2_norms_of_each_parameter_and_layer():
    model = _mlp(nn.ReLU, depth=2)
    flow = GradientFlow(model, every=1)
    x, y = _batch()
    _step(model, x, y, flow)
    assert flow.layers == ["0", "2", "4"]
    assert flow.labels["0"] == "0 Linear 8→32" and flow.labels["4"] == "4 Linear 32→3"
    for name, p in model.named_parameters():  # ‖g‖₂ = √Σ g², in float64 here
        expected = np.sqrt(np.sum(p.grad.astype(np.float64) ** 2))
        assert flow.param_grad_norms[name][0] == pytest.approx(expected, rel=1e-5)
    for layer in flow.layers:  # a layer's norm covers weight and bias together: √(‖∂W‖² + ‖∂b‖²)
        w, b = model[int(layer)].weight.grad, model[int(layer)].bias.grad
        expected = math.sqrt(np.sum(w.astype(np.float64) ** 2) + np.sum(b.astype(np.float64) ** 2))
        assert flow.grad_norms[layer][0] == pytest.approx(expected, rel=1e-5)


def test_every_k_measures_steps_0_k_2k_and_counts_the_rest():
    model = _mlp(nn.ReLU, depth=1)
    flow = GradientFlow(model, every=3)
    x, y = _batch()
    for _ in range(7):
        _step(model, x, y, flow, lr=0.1)
    assert flow.steps == [0, 3, 6]
    assert all(len(v) == 3 for v in flow.grad_norms.values())
    assert all(len(stats["mean"]) == 3 for stats in flow.activation_stats.values())
    assert "3 samples of 7 steps, every=3" in repr(flow)


def test_record_without_gradients_says_where_to_call_it():
    model = _mlp(nn.ReLU, depth=1)
    flow = GradientFlow(model)
    with pytest.raises(RuntimeError, match=r"after loss\.backward\(\) and before optimizer\.zero_grad\(\)"):
        flow.record()
    assert flow.steps == []  # nothing half-recorded; the next call is still step 0
    x, y = _batch()
    _step(model, x, y, flow)
    assert flow.steps == [0]


@pytest.mark.parametrize("bad", [0, -1, 1.5, True])
def test_every_must_be_a_positive_int(bad):
    with pytest.raises(ValueError, match="every must be a positive int"):
        GradientFlow(_mlp(nn.ReLU, depth=1), every=bad)


def test_activation_statistics_by_hand_for_relu_sigmoid_and_tanh():
    rng = np.random.default_rng(0)
    model = nn.Sequential(nn.Linear(4, 50, rng=rng), nn.ReLU(), nn.Linear(50, 50, rng=rng), nn.Sigmoid(),
                          nn.Linear(50, 50, rng=rng), nn.Tanh(), nn.Linear(50, 2, rng=rng))
    seen = {}
    for i in (1, 3, 5):  # what each activation module output, taken with a hook of our own
        model[i].register_forward_hook(lambda m, inputs, out, i=i: seen.__setitem__(i, out.data.astype(np.float64)))
    flow = GradientFlow(model, every=1)
    assert flow.activation_layers == ["1", "3", "5"]
    for i in (2, 4):  # large weights before sigmoid and tanh: some of their units saturate
        model[i].weight.data *= 10
    x = 3 * rng.standard_normal((40, 4)).astype(np.float32)
    _step(model, x, rng.integers(0, 2, 40), flow)
    stats = flow.activation_stats
    relu, sig, tanh = seen[1], seen[3], seen[5]
    assert stats["1"]["mean"][0] == pytest.approx(relu.mean(), rel=1e-5)
    assert stats["1"]["std"][0] == pytest.approx(relu.std(), rel=1e-4)
    assert stats["1"]["zero"][0] == pytest.approx(np.mean(relu == 0))
    assert stats["1"]["saturated"][0] == pytest.approx(np.mean(relu == 0))  # a ReLU saturates (dies) at 0
    assert stats["1"]["derivative"][0] == pytest.approx(np.mean(relu > 0))  # relu' = 1 where active
    assert stats["3"]["derivative"][0] == pytest.approx(np.mean(sig * (1 - sig)), rel=1e-5)  # σ' = σ(1 − σ)
    assert stats["3"]["saturated"][0] == pytest.approx(np.mean(np.abs(2 * sig - 1) > SATURATION), abs=1e-9)
    assert stats["5"]["derivative"][0] == pytest.approx(np.mean(1 - tanh**2), rel=1e-5)  # tanh' = 1 − a²
    assert stats["5"]["saturated"][0] == pytest.approx(np.mean(np.abs(tanh) > SATURATION), abs=1e-9)
    assert 0 < stats["3"]["saturated"][0] < 1 and 0 < stats["5"]["saturated"][0] < 1  # not trivially 0 or 1


def test_evaluation_under_no_grad_is_not_recorded_and_remove_unhooks():
    model = _mlp(nn.Tanh, depth=1)
    flow = GradientFlow(model, every=1)
    x, y = _batch()
    with no_grad():
        model(Tensor(10 * x))  # an evaluation pass with very different activations
    _step(model, x, y, flow)
    a = np.tanh(x @ model[0].weight.data.T + model[0].bias.data)
    assert flow.activation_stats["1"]["mean"][0] == pytest.approx(a.mean(), abs=1e-6)
    flow.remove()
    _step(model, x, y, flow)
    assert np.isnan(flow.activation_stats["1"]["mean"][1])  # no hook: no statistics, but the step is kept
    assert len(flow.grad_norms["0"]) == 2


def test_deep_sigmoid_gradients_vanish_towards_the_input_and_relu_ones_do_not():
    # δˡ = (Wˡ⁺¹)ᵀδˡ⁺¹ ⊙ σ'(zˡ) with σ' ≤ ¼: through 8 sigmoid layers the first layer's gradient is orders of
    # magnitude below the last one's. ReLU passes active units' gradients unscaled, so with He's initialisation
    # (Var W = 2/n, which keeps ‖δ‖ steady through ReLU layers) the norms stay within a factor of ~10. Both nets
    # get the same weights: PyTorch's default U(±1/√n) (Var 1/(3n)) scaled by √6.
    x, y = _batch(n=128)
    ratios = {}
    for act in (nn.Sigmoid, nn.ReLU):
        model = _mlp(act, depth=8)
        for p in model.parameters():
            if p.data.ndim == 2:
                p.data *= np.sqrt(6)
        flow = GradientFlow(model)
        _step(model, x, y, flow)
        norms = flow.grad_norms
        ratios[act.__name__] = norms[flow.layers[0]][0] / norms[flow.layers[-1]][0]
        derivative = [flow.activation_stats[a]["derivative"][0] for a in flow.activation_layers]
        if act is nn.Sigmoid:
            assert all(0 < d <= 0.25 for d in derivative)
    assert ratios["Sigmoid"] < 1e-3
    assert ratios["ReLU"] > 5e-2


def test_scalar_mlp_layers_are_its_layers_with_the_norm_over_all_their_values():
    model = nn.MLP(2, [4, 3, 1], rng=random.Random(0))
    flow = GradientFlow(model, every=1)
    assert flow.layers == ["layers.0", "layers.1", "layers.2"]
    assert flow.labels["layers.1"] == "layers.1 Layer 4→3"
    assert flow.activation_layers == []  # the scalar engine's ReLU lives inside each Neuron
    X, Y = [[0.5, -1.0], [1.5, 0.2], [-0.3, 0.8]], [1, -1, 1]
    loss, _ = hinge_loss(model, X, Y)
    model.zero_grad()
    loss.backward()
    flow.record()
    for layer, name in zip(model.layers, flow.layers):
        expected = math.sqrt(sum(p.grad**2 for p in layer.parameters()))
        assert flow.grad_norms[name][0] == pytest.approx(expected, rel=1e-12)


def test_plot_draws_one_line_per_layer_on_a_log_scale_and_the_derivatives():
    model = _mlp(nn.ReLU, depth=2)
    flow = GradientFlow(model, every=2)
    x, y = _batch()
    for _ in range(6):
        _step(model, x, y, flow, lr=0.05)
    fig = flow.plot()
    grads, acts = fig.axes[:2]
    assert grads.get_yscale() == "log"
    assert [line.get_label() for line in grads.get_lines()] == [flow.labels[n] for n in flow.layers]
    np.testing.assert_array_equal(grads.get_lines()[0].get_xdata(), [0, 2, 4])
    np.testing.assert_allclose(acts.get_lines()[1].get_ydata(), flow.activation_stats["3"]["derivative"])
    # On given axes, with steps converted to epochs (3 steps per epoch: step s ends at (s + 1)/3).
    from matplotlib.figure import Figure

    ax = Figure().subplots()
    flow.plot(ax, steps_per_epoch=3)
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [1 / 3, 1, 5 / 3])
    assert ax.get_xlabel() == "epoch"


def test_nothing_recorded_plots_and_summarises_with_a_hint():
    flow = GradientFlow(_mlp(nn.ReLU, depth=1))
    fig = flow.plot()
    assert any("nothing recorded" in t.get_text() for t in fig.axes[0].texts)
    assert "call flow.record() after loss.backward()" in flow.summary()


def test_summary_lists_each_layer_with_its_last_norm():
    model = _mlp(nn.Sigmoid, depth=1)
    flow = GradientFlow(model, every=1)
    x, y = _batch()
    _step(model, x, y, flow)
    text = flow.summary()
    assert f"0 Linear 8→32  {flow.grad_norms['0'][-1]:.3e}" in text
    assert "1 Sigmoid" in text and "mean f'(z)" in text
    assert len(text.splitlines()) == 2 + 2 + 1 + 1  # step, header, 2 layers, activation header, 1 activation


def test_a_model_without_parameters_is_refused():
    with pytest.raises(ValueError, match="no parameters"):
        GradientFlow(nn.Sequential(nn.ReLU()))
    with pytest.raises(TypeError, match="needs a Module"):
        GradientFlow([nn.Linear(2, 2)])


@pytest.mark.parametrize("activations", [nn.ReLU, ["ReLU"], (nn.ReLU, 3)])
def test_activations_must_be_a_tuple_of_module_classes(activations):
    with pytest.raises(TypeError, match=r"activations must be a tuple of Module classes, e\.g\. \(nn\.ReLU"):
        GradientFlow(nn.Sequential(nn.Linear(2, 2), nn.ReLU()), activations=activations)
