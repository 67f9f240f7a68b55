"""compare: verdicts (exact / rounding / precision / WRONG / missing) judged against the rounding of the
computation, never contradicting their own columns; hints (sign, factor, shape, keepdim, retain_grad); two faces."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from autograd import CompareReport, Tensor, Value, compare, grad, mark_parameter
from autograd.functional import hessian
from nn import Linear, Sequential


def param(grad: np.ndarray) -> Tensor:
    """A leaf whose .grad backward() 'filled' with ``grad``."""
    p = Tensor(np.zeros_like(grad), requires_grad=True)
    p.grad = grad
    return p


@pytest.fixture
def g32() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((128, 10)).astype(np.float32)


# -- the verdicts on arrays (no graph: rounding estimated from the tensor) --------------------------------


def test_identical_arrays_are_exact(g32):
    row = compare({"dW": g32.copy()}, {"dW": param(g32)})["dW"]
    assert row.verdict == "exact" and row.exact and row.ok
    assert row.max_abs == 0 and row.worst is None


def test_one_ulp_off_is_rounding_with_its_index(g32):
    hand = g32.copy()
    hand[3, 4] = np.nextafter(hand[3, 4], np.float32(np.inf))
    report = compare({"dW": hand}, {"dW": param(g32)})
    row = report["dW"]
    assert row.verdict == "rounding" and not row.exact and report.ok
    assert row.worst == (3, 4)
    assert row.diff == pytest.approx(float(np.spacing(g32[3, 4])))
    assert row.max_abs == row.diff <= row.allowed


def test_sums_in_another_order_are_rounding_not_wrong():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((64, 784)).astype(np.float32), rng.standard_normal((64, 30)).astype(np.float32)
    by_matmul = b.T @ a  # what autograd computes
    by_loop = sum(np.outer(b[i], a[i]) for i in range(64)).astype(np.float32)  # a learner's loop
    row = compare({"dW": by_loop}, {"dW": param(by_matmul)})["dW"]
    assert row.verdict in ("rounding", "exact")


def test_a_real_error_is_wrong_with_the_worst_element_and_how_many(g32):
    hand = g32.copy()
    hand[7, 2] += 0.5
    report = compare({"dW": hand}, {"dW": param(g32)})
    row = report["dW"]
    assert row.verdict == "WRONG" and not report.ok and row.beyond == 1
    assert row.worst == (7, 2) and row.max_abs == pytest.approx(0.5, rel=1e-6)
    assert "1 of 1280 elements" in row.hint and "(7, 2)" in row.hint


def test_columns_and_verdict_agree_by_construction():
    """The verdict is read off the row: rounding exactly when diff <= allowed at the element shown, which is the
    one with the largest diff/allowed; exact exactly when nothing differs."""
    rng = np.random.default_rng(3)
    for trial in range(200):
        a = rng.standard_normal(20).astype(rng.choice([np.float32, np.float64]))
        h = a.astype(np.float64) + rng.standard_normal(20) * 10.0 ** rng.integers(-18, 0) * (rng.random(20) < 0.3)
        h = h.astype(a.dtype)
        row = compare({"x": h}, {"x": param(a)})["x"]
        if row.verdict == "exact":
            assert np.array_equal(h, a) and row.worst is None
            continue
        assert row.diff == pytest.approx(abs(float(h[row.worst]) - float(a[row.worst])))
        assert (row.verdict == "rounding") == (row.diff <= row.allowed), (trial, row)
        assert row.verdict in ("rounding", "WRONG")


# -- judged against the computation: root= re-runs backward ---------------------------------------------------


def centred_model(dtype=np.float32, seed=0):
    """x @ W + b, then centred over the batch (a batch norm's first step): b's true gradient is exactly 0."""
    rng = np.random.default_rng(seed)
    x = Tensor(rng.standard_normal((32, 16)).astype(dtype))
    W = Tensor(rng.standard_normal((16, 8)).astype(dtype), requires_grad=True)
    b = Tensor(rng.standard_normal(8).astype(dtype), requires_grad=True)
    target = Tensor(rng.standard_normal((32, 8)).astype(dtype))
    h = x @ W + b
    centred = h - h.mean(0, keepdim=True)
    loss = ((centred.tanh() - target) ** 2).mean()
    h.retain_grad()
    loss.backward()
    centred_model.W = W  # for the one test that needs it
    return loss, h, b


def test_a_true_zero_gradient_is_rounding_when_the_computation_is_measured():
    loss, h, b = centred_model()
    dh = h.grad.astype(np.float64)
    hand_db = dh[::-1].sum(0).astype(np.float32)  # summed in another order: other rounding noise
    assert np.abs(b.grad).max() < 1e-7 and np.any(hand_db != b.grad)  # both are noise around the true 0
    row = compare({"b": hand_db}, {"b": b}, root=loss)["b"]
    assert row.verdict in ("rounding", "exact") and row.noise is not None and row.noise > 0
    # Without the graph, the tensor's own scale is all there is: it cannot tell; it says so and asks for root.
    blind = compare({"b": hand_db + np.float32(1e-9)}, {"b": b})["b"]
    assert blind.verdict == "WRONG" and "root=loss" in blind.hint and "true gradient is 0" in blind.hint


def test_a_wrong_gradient_of_a_true_zero_is_still_wrong():
    loss, h, b = centred_model()
    forgot_the_mean = h.grad.sum(0) + 1e-4 * np.abs(h.grad).sum(0)  # far beyond the rounding of the sum
    assert compare({"b": forgot_the_mean}, {"b": b}, root=loss)["b"].verdict == "WRONG"


def test_the_measured_allowance_is_tighter_than_the_tensor_scale_for_ordinary_gradients():
    loss, _h, _b = centred_model(np.float64)
    W = centred_model.W
    off = W.grad.copy()
    off[0, 0] += 3e-14 * np.abs(off).max()  # far more than this computation's rounding, less than 512 ULPs of the scale
    assert compare({"W": off}, {"W": W})["W"].verdict == "rounding"
    assert compare({"W": off}, {"W": W}, root=loss)["W"].verdict == "WRONG"


def test_a_grad_accumulated_twice_is_named():
    loss, h, _b = centred_model(np.float64)
    loss.backward()  # again, without zeroing: b.grad and h.grad are now twice the gradient
    row = compare({"h": h.grad / 2}, {"h": h}, root=loss)["h"]
    assert row.verdict == "WRONG" and "ran more than once" in row.hint


def test_root_must_be_the_loss():
    _loss, h, b = centred_model()
    with pytest.raises(ValueError, match="one-element loss"):
        compare({"b": b.grad}, {"b": b}, root=h)


def test_values_are_measured_too():
    x, w = Value(0.5), Value(-1.2)
    y = (x * w).tanh() + x * x
    y.backward()
    s = 1 - np.tanh(-0.6) ** 2
    report = compare({"x": s * -1.2 + 1.0, "w": s * 0.5}, {"x": x, "w": w}, root=y)
    assert report.ok and all(r.noise is not None for r in report if r.worst is not None)


# -- dtypes -----------------------------------------------------------------------------------------------


def test_a_dtype_mismatch_is_its_own_verdict_both_ways(g32):
    wider = g32.astype(np.float64) * (1 + 1e-8)  # float64 hand, float32 autograd: float32 rounding apart
    assert compare({"dW": wider}, {"dW": param(g32)})["dW"].verdict == "precision: float64 vs float32"
    loss, h, _b = centred_model(np.float64)
    hand32 = h.grad.astype(np.float32)
    row = compare({"h": hand32}, {"h": h}, root=loss)["h"]
    assert row.verdict == "precision: float32 vs float64" and row.ok
    assert "to the lower precision" in compare({"h": hand32}, {"h": h}, root=loss).summary()


def test_a_wrong_low_precision_hand_gradient_is_still_wrong():
    loss, h, _b = centred_model(np.float64)
    hand32 = (h.grad * 1.01).astype(np.float32)
    assert compare({"h": hand32}, {"h": h}, root=loss)["h"].verdict == "WRONG"


# -- hints ---------------------------------------------------------------------------------------------------


def test_a_flipped_sign_is_named(g32):
    row = compare({"dW": -g32}, {"dW": param(g32)})["dW"]
    assert row.verdict == "WRONG" and "flipped sign" in row.hint


def test_a_constant_factor_is_named(g32):
    row = compare({"dW": g32 * 2}, {"dW": param(g32)})["dW"]
    assert row.verdict == "WRONG" and "hand = 2 × autograd" in row.hint


def test_transposed_gets_a_hint_and_says_it_would_match(g32):
    p = mark_parameter(param(g32))
    row = compare({"dW": g32.T.copy()}, {"dW": p})["dW"]
    assert row.verdict == "WRONG"
    assert "hand gradient is (10, 128), the parameter's is (128, 10): transposed?" in row.hint
    assert "then it matches" in row.hint


def test_a_forgotten_batch_sum_and_a_keepdim_get_different_hints():
    per_example = np.random.default_rng(2).standard_normal((64, 10))
    summed = per_example.sum(axis=0)
    forgot = compare({"db": per_example}, {"db": param(summed)})["db"].hint
    assert "a sum over axis 0 is missing (.sum(0))?" in forgot and "then it matches" in forgot
    forgot_kept = compare({"db": per_example}, {"db": param(summed[None])})["db"].hint
    assert "a sum over axis 0 is missing (.sum(0, keepdims=True))?" in forgot_kept
    keepdim = compare({"db": summed}, {"db": param(summed[None])})["db"]  # the same numbers, a keepdim apart
    assert keepdim.verdict == "exact" and keepdim.hand_shape == (10,) and keepdim.shape == (1, 10)
    assert "keepdim" in keepdim.hint and "(1, 10)" in keepdim.hint and "missing" not in keepdim.hint
    extra = compare({"db": summed[None]}, {"db": param(summed)})["db"]
    assert extra.verdict == "exact" and "extra size-1 axis" in extra.hint
    wrong_numbers = compare({"db": summed + 1}, {"db": param(summed[None])})["db"]
    assert wrong_numbers.verdict == "WRONG" and "keepdim" in wrong_numbers.hint


def test_shapes_that_cannot_be_explained_say_so():
    row = compare({"d": np.zeros((3, 5))}, {"d": param(np.zeros((4, 2)))})["d"]
    assert row.verdict == "WRONG" and "do not match" in row.hint


def test_interior_tensors_are_tensors_and_need_retain_grad():
    x = Tensor(np.array([0.5, -1.0, 2.0]), requires_grad=True)
    h = x * 3
    loss = h.exp().sum()
    loss.backward()
    report = compare({"h": np.exp(h.data)}, {"h": h})
    assert report["h"].verdict == "missing" and "h.retain_grad()" in report["h"].hint
    h2 = x * 3
    h2.retain_grad()
    loss2 = h2.exp().sum()
    loss2.backward()
    row = compare({"h": np.exp(h2.data) * 2}, {"h": h2}, root=loss2)["h"]
    assert row.verdict == "WRONG" and "2 × autograd" in row.hint
    shape_hint = compare({"h": np.exp(h2.data)[None]}, {"h": h2})["h"].hint
    assert "the tensor's is (3,)" in shape_hint and "parameter" not in shape_hint
    assert compare({"h": np.exp(h2.data)}, {"h": h2}, root=loss2).ok


def test_missing_names_and_missing_grads_do_not_crash():
    p = Tensor(np.zeros(3), requires_grad=True)  # backward never ran: grad is None
    report = compare({"dW": np.zeros(3), "db": np.zeros(3)}, {"dW": p})
    assert [r.verdict for r in report] == ["missing", "missing"]
    assert "has no .grad" in report["dW"].hint and "no autograd gradient named 'db'" in report["db"].hint
    assert not report.ok and "2 missing" in report.summary()


# -- autograd's side as numbers: constants, arrays, tensors without grad ----------------------------------------


def test_second_derivatives_are_compared_by_their_numbers():
    x = Tensor(np.array([0.5, 0.2, -1.0]), requires_grad=True)
    H = hessian(lambda t: (t ** 3).sum(), x)
    assert compare({"H": np.diag(6 * x.data)}, {"H": H}).ok
    (dy,) = grad(x.tanh().sum(), x, create_graph=True)
    (d2,) = grad(dy.sum(), x)
    t = np.tanh(x.data)
    assert compare({"d2": -2 * t * (1 - t * t)}, {"d2": d2}).ok
    assert compare({"d2": 2 * t * (1 - t * t)}, {"d2": d2})["d2"].verdict == "WRONG"
    v = Value(0.3)
    (gv,) = grad(v.tanh(), v)
    assert compare({"dv": 1 - np.tanh(0.3) ** 2}, {"dv": gv}).ok


def test_a_tensor_without_grad_is_compared_by_its_numbers_and_says_so_when_wrong():
    t = Tensor(np.ones(3))
    assert compare({"t": np.ones(3)}, {"t": t}).ok
    row = compare({"t": np.full(3, 2.0)}, {"t": t})["t"]
    assert row.verdict == "WRONG" and "does not require grad" in row.hint


def test_values_and_modules_supply_gradients():
    w = Value(0.5)
    w.grad = 0.1 + 0.2  # 0.30000000000000004: one ULP from 0.3
    assert compare({"w": 0.3}, {"w": w})["w"].verdict == "rounding"
    model = Sequential(Linear(3, 2))
    model[0].weight.grad = np.ones((2, 3), dtype=np.float32)
    model[0].bias.grad = np.ones(2, dtype=np.float32)
    report = compare({"0.weight": np.ones((2, 3), np.float32), "0.bias": np.full(2, 2.0, np.float32)}, model)
    assert report["0.weight"].verdict == "exact" and report["0.bias"].verdict == "WRONG"


# -- faces -------------------------------------------------------------------------------------------------------


def test_prints_a_table_a_summary_and_html(g32):
    hand = g32.copy()
    hand[0, 0] += 1
    report = compare({"dW": hand, "dW_T": g32.T.copy(), "ok": g32}, {"dW": param(g32), "dW_T": param(g32),
                                                                    "ok": param(g32)})
    assert isinstance(report, CompareReport)
    text = str(report)
    for column in ("name", "shape", "worst at", "hand", "autograd", "diff", "allowed", "verdict"):
        assert column in text
    assert "WRONG" in text and "transposed?" in text and "allowed = 512 ULPs" in text
    assert report.summary() == "compare: 2 of 3 do not match: 2 WRONG (dW, dW_T); 1 match"
    assert report.summary() in text and report.summary() in repr(report)
    html = report._repr_html_()
    assert html.startswith("<table") and "<th" in html and "transposed?" in html and "#fde2e1" in html


def test_summary_counts_how_each_matched(g32):
    near = g32.copy()
    near[0, 0] = np.nextafter(near[0, 0], np.float32(1))
    report = compare({"a": g32, "b": near}, {"a": param(g32), "b": param(g32)})
    assert report.summary() == "compare: all 2 match (1 exact, 1 rounding)"


def test_hand_must_be_a_mapping():
    with pytest.raises(TypeError, match="dict"):
        compare([np.zeros(2)], {})


def test_an_entry_that_holds_no_numbers_is_named():
    with pytest.raises(TypeError, match=r"hand\['dW'\] is NoneType None, not a number or an array of numbers"):
        compare({"dW": None}, {"dW": np.ones(2)})  # a forgotten return in the hand derivation
    with pytest.raises(TypeError, match=r"autograd\['dW'\] is str"):
        compare({"dW": np.ones(2)}, {"dW": "W"})


@given(st.lists(st.floats(-1e3, 1e3, width=32), min_size=1, max_size=12), st.integers(0, 3))
def test_a_few_ulps_anywhere_are_never_wrong(values, steps):
    a = np.array(values, dtype=np.float32)
    h = a.copy()
    for _ in range(steps):
        h = np.nextafter(h, np.float32(np.inf))
    assert compare({"x": h}, {"x": param(a)}).ok
