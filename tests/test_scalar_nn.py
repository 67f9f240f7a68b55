"""Scalar Neuron/Layer/MLP: shapes, names, init, gradients, and learning two moons to 100% accuracy."""
from __future__ import annotations

import math
import random

import numpy as np
import pytest

from autograd import Value, gradcheck, no_grad
from nn import MLP, Layer, Neuron
from nn.moons import hinge_loss, main, make_moons, train


def test_neuron_computes_relu_of_w_dot_x_plus_b():
    n = Neuron(2)
    n.w[0].data, n.w[1].data, n.b.data = 2.0, -3.0, 0.5
    assert n([1.0, 1.0]).data == 0.0  # z = 2 - 3 + 0.5 = -0.5 → relu 0
    assert n([2.0, 1.0]).data == 1.5  # z = 4 - 3 + 0.5
    lin = Neuron(2, nonlin=False)
    lin.w[0].data, lin.w[1].data, lin.b.data = 2.0, -3.0, 0.5
    assert lin([1.0, 1.0]).data == -0.5


def test_parameter_count_and_names():
    model = MLP(2, [16, 16, 1])
    assert len(model.parameters()) == (2 * 16 + 16) + (16 * 16 + 16) + (16 + 1)  # 337
    names = [name for name, _ in model.named_parameters()]
    assert "layers.0.neurons.3.w.1" in names
    assert "layers.2.neurons.0.b" in names
    assert names[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]


def test_output_is_one_value_or_a_list():
    x = [0.5, -1.0]
    assert isinstance(MLP(2, [16, 16, 1])(x), Value)
    assert isinstance(MLP(2, [16, 1, 1])(x), Value)  # a hidden layer of width 1 works
    out = MLP(2, [3, 2])(x)
    assert isinstance(out, list) and len(out) == 2
    assert isinstance(Layer(2, 1)(x), list)  # layers always pass lists


def test_last_layer_linear_others_relu_and_repr():
    model = MLP(2, [2, 1])
    assert repr(model) == "MLP of [Layer of [ReLUNeuron(2), ReLUNeuron(2)], Layer of [LinearNeuron(2)]]"
    assert [n.nonlin for layer in model.layers for n in layer.neurons] == [True, True, False]


def test_init_is_uniform_and_seedable():
    random.seed(3)
    a = MLP(2, [4, 1])
    random.seed(3)
    b = MLP(2, [4, 1])
    c = MLP(2, [4, 1], rng=random.Random(3))
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()] == [p.data for p in c.parameters()]
    weights = [w.data for layer in a.layers for n in layer.neurons for w in n.w]
    assert all(-1.0 <= w <= 1.0 for w in weights) and len(set(weights)) == len(weights)
    assert all(n.b.data == 0.0 for layer in a.layers for n in layer.neurons)


def test_wrong_input_width_is_named():
    with pytest.raises(ValueError, match="expects 2 inputs, got 3"):
        MLP(2, [3, 1])([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="2 weights but 1 inputs"):
        Neuron(2)([1.0])


def test_mlp_gradients_match_finite_differences_for_params_and_inputs():
    model = MLP(3, [4, 2, 1], rng=random.Random(0))
    x = [Value(0.3), Value(-0.8), Value(1.1)]
    params = model.parameters()
    gradcheck(lambda *_: (model(x) * model(x)).tanh() + model(x), params + x)


def test_zero_grad_resets_parameters():
    model = MLP(2, [3, 1], rng=random.Random(1))
    model([1.0, 2.0]).backward()
    assert any(p.grad != 0.0 for p in model.parameters())
    model.zero_grad()
    assert all(p.grad == 0.0 for p in model.parameters())


def test_state_dict_round_trip():
    a, b = MLP(2, [3, 1], rng=random.Random(1)), MLP(2, [3, 1], rng=random.Random(2))
    b.load_state_dict(a.state_dict())
    assert [p.data for p in a.parameters()] == [p.data for p in b.parameters()]


# -- two moons ---------------------------------------------------------------------------------------


def test_make_moons_lies_on_two_half_circles_without_noise():
    X, y = make_moons(40, noise=0.0, rng=0)
    assert len(X) == 40 and sorted(set(y)) == [-1, 1] and y.count(-1) == y.count(1) == 20
    for (x1, x2), label in zip(X, y):
        if label == -1:  # upper: (cos t, sin t)
            assert math.hypot(x1, x2) == pytest.approx(1.0) and x2 >= -1e-12
        else:  # lower: (1 - cos t, 0.5 - sin t)
            assert math.hypot(x1 - 1.0, x2 - 0.5) == pytest.approx(1.0) and x2 <= 0.5 + 1e-12


def test_make_moons_noise_seed_and_errors():
    X1, y1 = make_moons(30, noise=0.1, rng=5)
    X2, y2 = make_moons(30, noise=0.1, rng=np.random.default_rng(5))
    assert (X1, y1) == (X2, y2)
    assert make_moons(30, noise=0.1, rng=6)[0] != X1
    assert len(make_moons(7)[0]) == 7  # odd counts: 3 upper, 4 lower
    with pytest.raises(ValueError, match="n_samples"):
        make_moons(1)
    with pytest.raises(ValueError, match="noise"):
        make_moons(10, noise=-0.1)


def test_mlp_learns_two_moons_to_full_training_accuracy():
    X, y = make_moons(60, noise=0.1, rng=0)
    model = MLP(2, [16, 16, 1], rng=random.Random(0))
    with no_grad():
        first_loss, first_acc = hinge_loss(model, X, y)
    train(model, X, y, steps=60)
    with no_grad():
        loss, acc = hinge_loss(model, X, y)
    assert acc == 1.0
    assert loss.data < 0.1 < first_loss.data and first_acc < 1.0


def test_moons_command_line_prints_progress_and_ends_at_full_accuracy(capsys, tmp_path):
    assert main(["--steps", "50", "--seed", "1", "--samples", "50", "--out", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "MLP(2, [16, 16, 1]): 337 parameters"  # a short summary, not the ~900-character repr
    assert sum(line.startswith("step") for line in lines) == 5  # a few progress lines, not one per step
    assert lines[-1].endswith("accuracy 100.0%")
