"""check_numpy on the networks learners bring, as they write them: a two-layer sigmoid network with a
sum-of-squares loss, the odd/even network with ``error = y − prediction``, Nielsen-style ``backprop`` returning
``nabla_b, nabla_w`` — right, and with the bugs they actually have."""
from __future__ import annotations

import itertools

import numpy as np
import pytest

from autograd import check_numpy
from autograd.check import NumpyCheckReport, finite_diff


def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_derivative(a):
    """σ'(z) written from the activation a = σ(z), as the tutorials do."""
    return a * (1.0 - a)


# -- a two-layer network in a class, sum of squares, biases left out (the tutorial network) ----------------------


class TwoLayer:
    def __init__(self, x, y, seed=0):
        rng = np.random.default_rng(seed)
        self.input = x
        self.weights1 = rng.random((x.shape[1], 4))
        self.weights2 = rng.random((4, 1))
        self.y = y

    def feedforward(self):
        self.layer1 = sigmoid(self.input @ self.weights1)
        self.output = sigmoid(self.layer1 @ self.weights2)
        return self.output

    def loss(self):
        return np.sum((self.y - self.feedforward()) ** 2)

    def gradients(self):
        """d loss / d weights, as the tutorial's backprop computes its update, minus sign included."""
        self.feedforward()
        d2 = 2 * (self.y - self.output) * sigmoid_derivative(self.output)
        d_weights2 = self.layer1.T @ d2
        d_weights1 = self.input.T @ ((d2 @ self.weights2.T) * sigmoid_derivative(self.layer1))
        return d_weights1, d_weights2


X4 = np.array([[0, 0, 1], [0, 1, 1], [1, 0, 1], [1, 1, 1]], dtype=float)
Y4 = np.array([[0], [1], [1], [0]], dtype=float)


def test_the_tutorial_backprop_is_the_negative_gradient_and_says_so():
    net = TwoLayer(X4, Y4)
    d1, d2 = net.gradients()  # what the tutorial adds to the weights: −∂L/∂W
    report = check_numpy(net.loss, {"weights1": net.weights1, "weights2": net.weights2},
                         {"weights1": d1, "weights2": d2})
    assert isinstance(report, NumpyCheckReport) and not report.ok
    for name in ("weights1", "weights2"):
        assert report[name].verdict == "WRONG" and "flipped sign" in report[name].hint
    # The fix is the sign (the update is then weights -= lr · gradient): every element agrees.
    fixed = check_numpy(net.loss, {"weights1": net.weights1, "weights2": net.weights2},
                        {"weights1": -d1, "weights2": -d2})
    assert fixed.ok and fixed.summary().startswith("check_numpy: all 2 match")
    np.testing.assert_allclose(fixed.numeric["weights2"], -d2, rtol=1e-7)


def test_arrays_are_moved_in_place_and_restored_exactly():
    net = TwoLayer(X4, Y4)
    before = net.weights1.copy(), net.weights2.copy()
    d1, d2 = net.gradients()
    check_numpy(net.loss, {"weights1": net.weights1, "weights2": net.weights2}, {"weights1": -d1, "weights2": -d2})
    assert np.array_equal(net.weights1, before[0]) and np.array_equal(net.weights2, before[1])


def test_a_copy_of_the_weights_is_named_as_the_likely_mistake():
    net = TwoLayer(X4, Y4)
    _d1, d2 = net.gradients()
    report = check_numpy(net.loss, {"weights2": net.weights2.copy()}, {"weights2": -d2})
    assert report["weights2"].verdict == "WRONG" and "not a copy" in report["weights2"].hint


# -- the odd/even network: error = y − prediction -----------------------------------------------------------


def odd_even_data():
    numbers = np.arange(8)
    bits = ((numbers[:, None] >> np.arange(3)[::-1]) & 1).astype(float)  # 3-bit binary
    return bits, (numbers % 2 == 0).astype(float)[:, None]


def test_odd_even_network_deltas_are_checked_as_intermediates():
    X, y = odd_even_data()
    rng = np.random.default_rng(1)
    syn0, syn1 = 2 * rng.random((3, 4)) - 1, 2 * rng.random((4, 1)) - 1

    def cost(tap=lambda name, value: value):
        l1 = tap("l1", sigmoid(X @ syn0))
        l2 = tap("l2", sigmoid(l1 @ syn1))
        return 0.5 * np.sum((y - l2) ** 2)

    l1 = sigmoid(X @ syn0)
    l2 = sigmoid(l1 @ syn1)
    error = y - l2  # the seed's line: the negative of dC/dl2
    l2_delta = error * sigmoid_derivative(l2)
    l1_error = l2_delta @ syn1.T
    report = check_numpy(cost, {"syn0": syn0, "syn1": syn1},
                         {"l2": error, "l1": l1_error, "syn1": l1.T @ l2_delta,
                          "syn0": X.T @ (l1_error * sigmoid_derivative(l1))})
    assert [r.verdict for r in report] == ["WRONG"] * 4
    assert all("flipped sign" in r.hint for r in report)
    right = check_numpy(cost, {"syn1": syn1}, {"l2": l2 - y, "l1": -l1_error, "syn1": -(l1.T @ l2_delta)})
    assert right.ok


def test_a_name_that_is_neither_parameter_nor_tapped_is_missing():
    X, _y = odd_even_data()
    w = np.ones((3, 1))

    def cost(tap=lambda name, value: value):
        return float(np.sum(tap("z", X @ w)))

    report = check_numpy(cost, {"w": w}, {"w": X.sum(0)[:, None], "delta": np.zeros((8, 1))})
    assert report["w"].ok and report["delta"].verdict == "missing" and "tap('delta'" in report["delta"].hint


def test_intermediates_need_a_loss_that_takes_tap():
    w = np.ones(3)
    with pytest.raises(TypeError, match="tap="):
        check_numpy(lambda: float(w.sum()), {"w": w}, {"z": np.ones(3)})


# -- Nielsen-style network: lists of biases and weights, backprop returns (nabla_b, nabla_w) ----------------------


class Network:
    def __init__(self, sizes, seed=0):
        rng = np.random.default_rng(seed)
        self.biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        self.weights = [rng.standard_normal((n, m)) for m, n in itertools.pairwise(sizes)]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(w @ a + b)
        return a

    def cost(self, x, y):
        return 0.5 * np.sum((self.feedforward(x) - y) ** 2)

    def backprop(self, x, y, bug=None):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation, activations, zs = x, [x], []
        for b, w in zip(self.biases, self.weights):
            z = w @ activation + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        prime = (lambda z: sigmoid_derivative(sigmoid(z))) if bug != "prime of a" else sigmoid_derivative
        delta = (activations[-1] - y) * prime(zs[-1])  # BP1
        nabla_b[-1] = delta
        nabla_w[-1] = delta @ activations[-2].T if bug != "transposed" else activations[-2] @ delta.T
        for layer in range(2, len(self.biases) + 1):
            delta = (self.weights[-layer + 1].T @ delta) * prime(zs[-layer])  # BP2
            nabla_b[-layer] = delta
            nabla_w[-layer] = delta @ activations[-layer - 1].T
        return nabla_b, nabla_w


def nielsen(bug=None):
    net = Network([4, 5, 3], seed=2)
    x = np.random.default_rng(3).random((4, 1))
    y = np.array([[0.0], [1.0], [0.0]])
    nabla_b, nabla_w = net.backprop(x, y, bug)
    return check_numpy(lambda: net.cost(x, y), {"biases": net.biases, "weights": net.weights},
                       {"biases": nabla_b, "weights": nabla_w})


def test_nielsen_backprop_lists_are_checked_per_layer_and_element():
    report = nielsen()
    assert report.ok and [r.name for r in report] == ["biases[0]", "biases[1]", "weights[0]", "weights[1]"]
    assert report["weights[0]"].worst is not None and report["weights[0]"].diff <= report["weights[0]"].allowed


def test_sigma_prime_of_the_activation_instead_of_z_is_wrong_everywhere():
    report = nielsen("prime of a")  # σ'(a) where σ'(z) belongs: a classic slip
    assert [r.verdict for r in report] == ["WRONG"] * 4


def test_a_transposed_weight_gradient_gets_the_shape_hint():
    report = nielsen("transposed")
    row = report["weights[1]"]
    assert row.verdict == "WRONG" and "transposed?" in row.hint and "then it matches" in row.hint
    assert report["biases[1]"].ok and report["weights[0]"].ok


def test_the_sign_bug_in_sigmoid_shows_in_one_layer_only():
    """sigmoid(z) = 1/(1 + exp(z)) with σ' = σ(1 − σ): the derivative's sign is wrong at every layer, so the last
    layer's gradients flip sign, and the first layer's, flipped twice, come out right."""
    rng = np.random.default_rng(4)
    x, y = rng.random((3, 1)), np.array([[1.0], [0.0]])
    w1, w2 = rng.standard_normal((4, 3)), rng.standard_normal((2, 4))
    bad_sigmoid = lambda z: 1 / (1 + np.exp(z))  # noqa: E731 - the seed's bug
    z1 = w1 @ x
    a1 = bad_sigmoid(z1)
    a2 = bad_sigmoid(w2 @ a1)
    delta2 = (a2 - y) * sigmoid_derivative(a2)
    delta1 = (w2.T @ delta2) * sigmoid_derivative(a1)
    report = check_numpy(lambda: 0.5 * np.sum((bad_sigmoid(w2 @ bad_sigmoid(w1 @ x)) - y) ** 2),
                         {"w1": w1, "w2": w2}, {"w1": delta1 @ x.T, "w2": delta2 @ a1.T})
    assert report["w2"].verdict == "WRONG" and "flipped sign" in report["w2"].hint
    assert report["w1"].ok


# -- big arrays, kinks, float32 -----------------------------------------------------------------------------------


def relu_net(seed=5, n_in=30, n_hidden=20):
    rng = np.random.default_rng(seed)
    x, t = rng.standard_normal((8, n_in)), rng.standard_normal((8, 1))
    W1, W2 = rng.standard_normal((n_in, n_hidden)) * 0.3, rng.standard_normal((n_hidden, 1)) * 0.3

    def loss():
        return float(np.mean((np.maximum(x @ W1, 0) @ W2 - t) ** 2))

    h = np.maximum(x @ W1, 0)
    d_out = 2 * (h @ W2 - t) / len(x)
    dW2 = h.T @ d_out
    dW1 = x.T @ ((d_out @ W2.T) * (x @ W1 > 0))
    return loss, W1, W2, dW1, dW2


def test_big_arrays_go_along_random_directions_and_narrow_a_failure_down():
    loss, W1, W2, dW1, dW2 = relu_net()
    assert W1.size > finite_diff.FAST_ABOVE
    calls = []

    def counted():
        calls.append(1)
        return loss()

    report = check_numpy(counted, {"W1": W1, "W2": W2}, {"W1": dW1, "W2": dW2})
    assert report.ok and "random directions" in report["W1"].hint and report.numeric["W1"] is None
    assert len(calls) < 150  # 600 elements one by one would take 2400 calls
    broken = dW1.copy()
    broken[17, 3] += 0.5
    report = check_numpy(loss, {"W1": W1}, {"W1": broken})
    row = report["W1"]
    assert row.verdict == "WRONG" and row.worst == (17, 3) and "narrowed down" in row.hint
    assert row.hand_value == pytest.approx(broken[17, 3]) and row.other_value == pytest.approx(dW1[17, 3], abs=1e-6)
    assert report.entries["W1"][-1].name == "W1[17, 3]"


def test_a_relu_corner_is_a_kink_not_a_failure():
    x = np.array([[1.0, -2.0]])
    w = np.array([[2.0], [1.0]])  # x @ w = 0: the relu sits exactly on its corner

    def loss():
        return float(np.maximum(x @ w, 0).sum())

    report = check_numpy(loss, {"w": w}, {"w": np.zeros((2, 1))})  # relu'(0) = 0, as PyTorch says
    assert report.ok and report["w"].verdict == "kink" and "kink" in report["w"].hint
    wrong = check_numpy(loss, {"w": w}, {"w": np.array([[5.0], [5.0]])})
    assert wrong["w"].verdict == "WRONG"


def test_float32_networks_are_checked_with_their_own_error_bars():
    net = TwoLayer(X4.astype(np.float32), Y4.astype(np.float32))
    net.weights1, net.weights2 = net.weights1.astype(np.float32), net.weights2.astype(np.float32)
    d1, d2 = net.gradients()
    report = check_numpy(net.loss, {"weights1": net.weights1, "weights2": net.weights2},
                         {"weights1": -d1, "weights2": -d2})
    assert report.ok
    assert check_numpy(net.loss, {"weights2": net.weights2}, {"weights2": -1.1 * d2})["weights2"].verdict == "WRONG"


def test_arguments_are_checked_with_clear_errors():
    w = np.ones(3)
    with pytest.raises(TypeError, match="loss must be a function"):
        check_numpy(3.0, {"w": w}, {"w": w})
    with pytest.raises(TypeError, match="floating-point NumPy array"):
        check_numpy(lambda: 0.0, {"w": np.ones(3, dtype=int)}, {"w": w})
    with pytest.raises(TypeError, match="one number"):
        check_numpy(lambda: w * 2, {"w": w}, {"w": w})


def test_prints_compares_table_with_a_numeric_column():
    report = nielsen("transposed")
    text = str(report)
    for column in ("name", "shape", "worst at", "hand", "numeric", "diff", "allowed", "verdict"):
        assert column in text
    assert "error bar" in text and report.summary() in text
    assert "<table" in report._repr_html_()


def test_a_flipped_sign_is_named_in_the_fast_mode_too():
    loss, W1, _, dW1, _ = relu_net()
    row = check_numpy(loss, {"W1": W1}, {"W1": -dW1})["W1"]
    assert row.verdict == "WRONG" and "flipped sign" in row.hint and "narrowed down" in row.hint
