"""A PyTorch backprop exercise, run unchanged with ``import autograd as torch`` (tests/course_scripts/): every
intermediate retained, derived by hand and checked with the course's ``cmp`` helper and with ``compare``; the
wrong derivations learners write are caught; the true-zero bias gradient is rounding, not WRONG. The same lines
also run on PyTorch itself, which is how we know they are PyTorch's."""
from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

import numpy as np
import pytest

from autograd import Tensor, compare

SCRIPT = Path(__file__).parent / "course_scripts" / "backprop_exercise.py"
EXERCISE_4 = "# Exercise 4"
CMP_LINE = re.compile(r"^(\w+)\s+\| exact: (True|False)\s*\| approximate: (True|False)\s*\| maxdiff: (\S+)$")

# The intermediates of exercise 1, as the script names them (its gradient is d<name>).
NAMES = ["logprobs", "probs", "counts_sum_inv", "counts_sum", "counts", "norm_logits", "logit_maxes", "logits", "h",
         "W2", "b2", "hpreact", "bngain", "bnbias", "bnraw", "bnvar_inv", "bnvar", "bndiff2", "bndiff", "bnmeani",
         "hprebn", "embcat", "W1", "b1", "emb", "C"]


def run(source: str, namespace: dict) -> list[tuple[str, bool, bool, float]]:
    """Execute course lines in ``namespace``; the rows the course's cmp printed."""
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(source, str(SCRIPT), "exec"), namespace)
    rows = []
    for line in out.getvalue().splitlines():
        m = CMP_LINE.match(line)
        if m:
            rows.append((m[1], m[2] == "True", m[3] == "True", float(m[4])))
    return rows


def parts() -> tuple[str, str]:
    """The script before exercise 4, and exercise 4 (which trains the parameters in place)."""
    source = SCRIPT.read_text()
    assert "import autograd as torch\nimport nn.functional as F\n" in source
    first, rest = source.split(EXERCISE_4)
    return first, EXERCISE_4 + rest


@pytest.fixture(scope="module")
def course():
    """Exercises 1 to 3 run once with autograd: the namespace they leave, and the rows cmp printed."""
    namespace = {"__name__": "course_exercise"}
    rows = run(parts()[0], namespace)
    return namespace, rows


def test_the_exercise_runs_unchanged_and_every_hand_gradient_matches(course):
    _, rows = course
    assert [r[0] for r in rows[:26]] == NAMES and [r[0] for r in rows[26:]] == ["logits", "hprebn"]
    assert all(approx for _, _, approx, _ in rows)
    assert all(exact for _, exact, _, _ in rows[:26])  # the same ops in the same order: the same bits
    assert all(maxdiff < 1e-7 for _, _, _, maxdiff in rows[26:])  # exercises 2 and 3: another order of sums


def test_compare_agrees_on_every_intermediate(course):
    ns, _ = course
    hand = {name: ns["d" + name] for name in NAMES}
    report = compare(hand, {name: ns[name] for name in NAMES}, root=ns["loss"])
    assert report.ok, report
    assert report["bnmeani"].verdict == "exact" and "keepdim" in report["bnmeani"].hint  # (64,) vs (1, 64)
    # dlogits and dhprebn are exercises 2 and 3's by now (the script reassigns them): rounding, the rest exact
    assert report.summary() == "compare: all 26 match (24 exact, 2 rounding)"
    # exercises 2 and 3 (the script's latest dlogits and dhprebn): the same gradients, summed in another order
    fast = compare({"logits": ns["dlogits"], "hprebn": ns["dhprebn"]},
                   {"logits": ns["logits"], "hprebn": ns["hprebn"]}, root=ns["loss"])
    assert [r.verdict for r in fast] == ["rounding", "rounding"]


def test_the_zero_gradient_of_the_bias_before_the_batch_norm_is_rounding(course):
    ns, _ = course
    b1, n = ns["b1"], ns["n"]
    # db1 through exercise 3's one-line batch-norm backward: the true value is exactly 0; both sides are noise.
    db1 = ns["dhprebn"].sum(0)
    assert np.abs(b1.grad).max() < 1e-7 and np.abs(db1.data).max() < 1e-7 and np.any(db1.data != b1.grad)
    row = compare({"b1": db1}, {"b1": b1}, root=ns["loss"])["b1"]
    assert row.verdict == "rounding" and row.noise > 0, row
    blind = compare({"b1": db1}, {"b1": b1})["b1"]  # without the graph it cannot tell, and says so
    assert blind.verdict == "WRONG" and "root=loss" in blind.hint
    forgot_the_mean = ns["dbndiff"].sum(0)  # the mean's path left out: not zero at all
    assert compare({"b1": forgot_the_mean}, {"b1": b1}, root=ns["loss"])["b1"].verdict == "WRONG"
    assert n == 32


def test_exercise_4_trains_on_the_hand_gradients_alone():
    namespace = {"__name__": "course_exercise_training"}
    first, rest = parts()
    run(first, namespace)
    before = [p.data.copy() for p in namespace["parameters"]]
    run(rest, namespace)
    assert len(namespace["lossi"]) == 5 and np.isfinite(namespace["lossi"]).all()
    assert all(isinstance(p.data, np.ndarray) and not np.array_equal(p.data, b)
               for p, b in zip(namespace["parameters"], before))


def wrong_derivations(ns: dict) -> dict[str, tuple[str, object, str]]:
    """name -> (the intermediate it claims, the wrong hand gradient, what the hint must say)."""
    n, Yb, Xb = ns["n"], ns["Yb"], ns["Xb"]
    dC = np.zeros_like(ns["C"].data)
    dC[Xb.data] += ns["demb"].data  # fancy-index += keeps one of the repeated rows: the classic slip
    sign = np.zeros_like(ns["logprobs"].data)
    sign[range(n), Yb.data] = 1.0 / n
    return {
        "transposed": ("W2", ns["dlogits"].T @ ns["h"], "transposed?"),
        "unsummed broadcast": ("b2", ns["dlogits"], "a sum over axis 0 is missing"),
        "Bessel n, not n - 1": ("bndiff2", (1.0 / n) * Tensor(np.ones_like(ns["bndiff2"].data)) * ns["dbnvar"],
                                "constant factor"),
        "dC[Xb] += demb": ("C", dC, "elements beyond rounding"),
        "flipped sign": ("logprobs", sign, "flipped sign"),
        "tanh' from the input": ("hpreact", (1.0 - ns["hpreact"] ** 2) * ns["dh"], "beyond rounding"),
        "one path to counts": ("counts", ns["counts_sum_inv"] * ns["dprobs"], "beyond rounding"),
        "wrong power": ("bnvar", (-0.5 * (ns["bnvar"] + 1e-5) ** -0.5) * ns["dbnvar_inv"], "beyond rounding"),
        "summed over the wrong axis": ("b1", ns["dhprebn"].sum(1), "the shapes do not match"),
    }


def test_the_wrong_derivations_learners_write_are_caught_with_a_hint(course):
    ns, _ = course
    for slip, (name, wrong, hint) in wrong_derivations(ns).items():
        row = compare({name: wrong}, {name: ns[name]}, root=ns["loss"])[name]
        assert row.verdict == "WRONG", (slip, row)
        assert hint in row.hint, (slip, row.hint)


def test_the_same_lines_run_on_pytorch(torch):
    source = SCRIPT.read_text()
    source = source.replace("import autograd as torch\nimport nn.functional as F\n",
                            "import torch\nimport torch.nn.functional as F\n")
    namespace = {"__name__": "course_exercise_on_torch"}
    rows = run(source, namespace)
    assert len(rows) == 28 and all(approx for _, _, approx, _ in rows)
    assert len(namespace["lossi"]) == 5
