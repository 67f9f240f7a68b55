"""compare: verdicts (exact / rounding / WRONG) and shape hints on constructed cases, and its two faces."""
from __future__ import annotations

import numpy as np
import pytest

from autograd import CompareReport, Tensor, Value, compare
from nn import Linear, Sequential


def param(grad: np.ndarray) -> Tensor:
    """A parameter whose .grad backward() 'filled' with ``grad``."""
    p = Tensor(np.zeros_like(grad), requires_grad=True)
    p.grad = grad
    return p


@pytest.fixture
def g32() -> np.ndarray:
    return np.random.default_rng(0).standard_normal((128, 10)).astype(np.float32)


def test_identical_arrays_are_exact(g32):
    row = compare({"dW": g32.copy()}, {"dW": param(g32)})["dW"]
    assert row.verdict == "exact" and row.exact and row.close
    assert row.max_abs == 0 and row.ulps == 0 and row.worst is None


def test_one_ulp_off_is_rounding_with_its_index(g32):
    hand = g32.copy()
    hand[3, 4] = np.nextafter(hand[3, 4], np.float32(np.inf))
    report = compare({"dW": hand}, {"dW": param(g32)})
    row = report["dW"]
    assert row.verdict == "rounding" and not row.exact and row.close
    assert row.ulps == 1 and row.worst == (3, 4)
    assert row.max_abs == pytest.approx(abs(float(hand[3, 4]) - float(g32[3, 4])))
    assert report.ok


def test_float64_hand_against_float32_autograd_is_judged_in_float32(g32):
    # The hand gradient computed in float64 differs from float32 autograd by float32 rounding only.
    hand = g32.astype(np.float64) * (1 + 1e-8)
    assert compare({"dW": hand}, {"dW": param(g32)})["dW"].verdict in ("exact", "rounding")


def test_sums_in_another_order_are_rounding_not_wrong():
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal((64, 784)).astype(np.float32), rng.standard_normal((64, 30)).astype(np.float32)
    by_matmul = b.T @ a  # what autograd computes
    by_loop = sum(np.outer(b[i], a[i]) for i in range(64)).astype(np.float32)  # a learner's loop
    row = compare({"dW": by_loop}, {"dW": param(by_matmul)})["dW"]
    assert row.verdict in ("rounding", "exact")


def test_a_real_error_is_wrong_with_the_worst_element(g32):
    hand = g32.copy()
    hand[7, 2] += 0.5
    report = compare({"dW": hand}, {"dW": param(g32)})
    row = report["dW"]
    assert row.verdict == "WRONG" and not report.ok and not row.close
    assert row.worst == (7, 2) and row.max_abs == pytest.approx(0.5, rel=1e-6)
    assert "(7, 2)" in row.hint


def test_transposed_gets_a_hint_and_says_it_would_match(g32):
    row = compare({"dW": g32.T.copy()}, {"dW": param(g32)})["dW"]
    assert row.verdict == "WRONG"
    assert "hand gradient is (10, 128), parameter is (128, 10): transposed?" in row.hint
    assert "then it matches" in row.hint


def test_unsummed_broadcast_gets_a_sum_hint():
    per_example = np.random.default_rng(2).standard_normal((64, 10))
    row = compare({"db": per_example}, {"db": param(per_example.sum(axis=0))})["db"]
    assert row.verdict == "WRONG"
    assert "(64, 10), parameter is (10,): sum over axis 0?" in row.hint and "then it matches" in row.hint


def test_missing_keepdim_gets_a_reshape_hint():
    g = np.arange(4.0).reshape(4, 1)
    row = compare({"d": g.ravel()}, {"d": param(g)})["d"]
    assert "missing keepdim" in row.hint and "(4, 1)" in row.hint


def test_shapes_that_cannot_be_explained_say_so():
    row = compare({"d": np.zeros((3, 5))}, {"d": param(np.zeros((4, 2)))})["d"]
    assert row.verdict == "WRONG" and "do not match" in row.hint


def test_missing_names_and_missing_grads_do_not_crash():
    p = Tensor(np.zeros(3), requires_grad=True)  # backward never ran: grad is None
    report = compare({"dW": np.zeros(3), "db": np.zeros(3)}, {"dW": p})
    assert [r.verdict for r in report] == ["missing", "missing"]
    assert "has no .grad" in report["dW"].hint and "no autograd gradient named 'db'" in report["db"].hint
    assert not report.ok


def test_values_and_modules_supply_gradients():
    w = Value(0.5)
    w.grad = 0.1 + 0.2  # 0.30000000000000004: one ULP from 0.3
    assert compare({"w": 0.3}, {"w": w})["w"].verdict == "rounding"
    model = Sequential(Linear(3, 2))
    model[0].weight.grad = np.ones((2, 3), dtype=np.float32)
    model[0].bias.grad = np.ones(2, dtype=np.float32)
    report = compare({"0.weight": np.ones((2, 3)), "0.bias": np.full(2, 2.0)}, model)
    assert report["0.weight"].verdict == "exact" and report["0.bias"].verdict == "WRONG"


def test_prints_a_table_and_html_with_every_column(g32):
    hand = g32.copy()
    hand[0, 0] += 1
    report = compare({"dW": hand, "dW_T": g32.T.copy()}, {"dW": param(g32), "dW_T": param(g32)})
    assert isinstance(report, CompareReport)
    text = str(report)
    for column in ("name", "shape", "exact?", "close?", "max abs diff", "max rel diff", "worst at", "ULPs", "verdict"):
        assert column in text
    assert "WRONG" in text and "transposed?" in text
    html = report._repr_html_()
    assert html.startswith("<table") and "<th" in html and "transposed?" in html and "#fde2e1" in html


def test_hand_must_be_a_mapping():
    with pytest.raises(TypeError, match="dict"):
        compare([np.zeros(2)], {})


def test_an_entry_that_holds_no_numbers_is_named():
    with pytest.raises(TypeError, match=r"hand\['dW'\] is NoneType None, not a number or an array of numbers"):
        compare({"dW": None}, {"dW": np.ones(2)})  # a forgotten return in the hand derivation
    with pytest.raises(TypeError, match=r"autograd\['dW'\] is str"):
        compare({"dW": np.ones(2)}, {"dW": "W"})
