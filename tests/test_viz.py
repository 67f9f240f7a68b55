"""draw_dot: the structure of the Digraph it builds, when gradients appear, deep graphs, and a real ``dot`` render.

Graphs are checked through their DOT source (records, op ovals, edges), so the tests need no renderer,
except the one that renders to SVG with the real ``dot`` binary.
"""
from __future__ import annotations

import html
import math
import re
import shutil
import sys

import numpy as np
import pytest

from autograd import Tensor, Value, draw_dot

# graphviz quotes a label only when it must: `label=tanh` but `label="*"`
NODE = re.compile(r'^\t("?\w+"?) \[label=("(?:[^"\\]|\\.)*"|\w+)(.*)\]$')
EDGE = re.compile(r'^\t("?[\w]+"?) -> ("?[\w]+"?)(?: \[.*\])?$')


def parse(dot) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str]]]:
    """(name -> (label, other attributes), [(tail, head)]) from a Digraph's DOT source."""
    nodes, edges = {}, []
    for line in dot.source.splitlines():
        if m := NODE.match(line):
            label = m.group(2)[1:-1] if m.group(2).startswith('"') else m.group(2)
            nodes[m.group(1).strip('"')] = (label, m.group(3))
        elif m := EDGE.match(line):
            edges.append((m.group(1).strip('"'), m.group(2).strip('"')))
    return nodes, edges


def records(dot) -> list[str]:
    return [label for label, attrs in parse(dot)[0].values() if "shape=record" in attrs]


def ops(dot) -> list[str]:
    return [label for label, attrs in parse(dot)[0].values() if "shape=ellipse" in attrs]


def neuron():
    """o = tanh(x1·w1 + x2·w2 + b), with b chosen so that n = atanh(1/√2) and o = 1/√2."""
    x1, x2 = Value(2.0, label="x1"), Value(0.0, label="x2")
    w1, w2 = Value(-3.0, label="w1"), Value(1.0, label="w2")
    b = Value(6.0 + math.atanh(1 / math.sqrt(2)), label="b")
    x1w1 = x1 * w1
    x2w2 = x2 * w2
    n = x1w1 + x2w2 + b
    n.label = "n"
    o = n.tanh()
    o.label = "o"
    return o, {"x1": x1, "x2": x2, "w1": w1, "w2": w2, "b": b, "n": n}


def record_of(dot, label: str) -> str:
    (rec,) = [r for r in records(dot) if r.startswith("{ " + label + " |")]
    return rec


# -- Value graphs --------------------------------------------------------------------------------------


def test_neuron_graph_has_one_record_per_value_one_oval_per_op_and_all_edges():
    o, _ = neuron()
    dot = draw_dot(o)
    # values: x1 x2 w1 w2 b, x1w1, x2w2, x1w1+x2w2, n, o  -> 10 records
    assert len(records(dot)) == 10
    assert sorted(ops(dot)) == sorted(["*", "*", "+", "+", "tanh"])
    # each op: one edge per input plus one to its output: (2+1)*4 + (1+1)
    assert len(parse(dot)[1]) == 14
    for name in ("x1", "x2", "w1", "w2", "b", "n", "o"):
        record_of(dot, name)


def test_every_op_oval_sits_between_its_inputs_and_its_output():
    o, v = neuron()
    nodes, edges = parse(draw_dot(o))
    tanh_oval = next(name for name, (label, attrs) in nodes.items() if label == "tanh")
    assert (tanh_oval, str(id(o))) in edges
    assert (str(id(v["n"])), tanh_oval) in edges
    # leaves have no op oval of their own
    assert not any(head == str(id(v["x1"])) for _, head in edges)


def test_before_backward_grads_are_shown_as_unknown_not_as_zero():
    o, _ = neuron()
    recs = records(draw_dot(o))
    assert all(r.endswith("| grad ? }") for r in recs), recs
    assert not any("grad 0" in r for r in recs)


def test_after_backward_grads_appear_with_hand_derived_values():
    o, _ = neuron()
    o.backward()
    dot = draw_dot(o)
    # do/dn = 1 - o² = 1 - 1/2 = 0.5; n = x1 w1 + x2 w2 + b, so do/dx1 = w1·0.5 = -1.5, do/dw1 = x1·0.5 = 1,
    # do/dx2 = w2·0.5 = 0.5, do/dw2 = x2·0.5 = 0, do/db = 0.5; o itself: do/do = 1.
    assert record_of(dot, "o") == "{ o | data 0.7071 | grad 1 }"
    assert record_of(dot, "n") == "{ n | data 0.8814 | grad 0.5 }"
    assert record_of(dot, "x1") == "{ x1 | data 2 | grad -1.5 }"
    assert record_of(dot, "w1") == "{ w1 | data -3 | grad 1 }"
    assert record_of(dot, "x2") == "{ x2 | data 0 | grad 0.5 }"
    assert record_of(dot, "w2") == "{ w2 | data 1 | grad 0 }"
    assert record_of(dot, "b") == "{ b | data 6.881 | grad 0.5 }"


def test_show_grad_explicit_overrides_the_auto_rule():
    o, _ = neuron()
    assert record_of(draw_dot(o, show_grad=True), "x1") == "{ x1 | data 2 | grad 0 }"
    o.backward()
    assert all(r.endswith("| grad ? }") for r in records(draw_dot(o, show_grad=False)))


def test_root_stands_out_and_caption_is_drawn():
    o, _ = neuron()
    dot = draw_dot(o, label="a neuron", rankdir="TB")
    nodes, _ = parse(dot)
    thick = [name for name, (_, attrs) in nodes.items() if "penwidth" in attrs]
    assert thick == [str(id(o))]
    assert "label=\"a neuron\"" in dot.source and "rankdir=TB" in dot.source


def test_input_used_twice_gets_two_edges_into_the_op():
    x = Value(3.0, label="x")
    y = x * x
    nodes, edges = parse(draw_dot(y))
    oval = next(name for name, (label, _) in nodes.items() if label == "*")
    assert edges.count((str(id(x)), oval)) == 2
    assert len(records(draw_dot(y))) == 2


def test_fused_dot_is_one_oval_with_an_edge_from_every_input():
    ws = [Value(0.5, label="w1"), Value(-1.0, label="w2")]
    xs = [Value(2.0, label="x1"), Value(3.0, label="x2")]
    b = Value(0.25, label="b")
    z = Value.dot(ws, xs, b)
    dot = draw_dot(z)
    assert ops(dot) == ["dot"]
    assert len(records(dot)) == 6
    assert len(parse(dot)[1]) == 5 + 1  # five inputs in, one result out
    assert records(dot)[0] == "{ data -1.75 | grad ? }"  # 0.5·2 − 1·3 + 0.25


def test_power_op_shows_its_exponent():
    assert ops(draw_dot(Value(3.0) ** 2)) == ["**2"]


def test_numbers_are_compact():
    a = Value(123456.789, label="a")
    b = Value(1e-7, label="b")
    dot = draw_dot(a * b)
    assert record_of(dot, "a").startswith("{ a | data 1.235e+05 |")
    assert record_of(dot, "b").startswith("{ b | data 1e-07 |")


def test_ten_thousand_deep_chain_builds_without_recursion():
    x = Value(0.0, label="x0")
    for _ in range(10_000):
        x = x.tanh()
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # prove the walk is iterative, not just under the default limit
    try:
        dot = draw_dot(x)
    finally:
        sys.setrecursionlimit(limit)
    assert len(records(dot)) == 10_001
    assert ops(dot).count("tanh") == 10_000


def test_max_nodes_cuts_the_graph_with_a_note():
    x = Value(0.5, label="x0")
    for _ in range(50):
        x = x.tanh()
    dot = draw_dot(x, max_nodes=5)
    assert len(records(dot)) == 5
    assert "46 more values not shown (max_nodes=5)" in dot.source
    _, edges = parse(dot)
    assert any(tail == "cut" for tail, _ in edges)
    with pytest.raises(ValueError, match="max_nodes"):
        draw_dot(x, max_nodes=0)


def test_labels_with_record_syntax_are_escaped():
    a = Value(1.0, label="a|{b}<c>")
    dot = draw_dot(a)
    assert records(dot) == [r"{ a\|\{b\}\<c\> | data 1 | grad ? }"]


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="float"):
        draw_dot(1.5)
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(Value(1.0), rankdir="sideways")


# -- Tensor graphs -------------------------------------------------------------------------------------


def tensor_graph():
    """y = (x @ w) * 2 with x = ones(2, 3), w = [[0], [1], [2]]."""
    x = Tensor(np.ones((2, 3)), requires_grad=True, label="x")
    w = Tensor(np.array([[0.0], [1.0], [2.0]]), requires_grad=True, label="w")
    h = x @ w
    h.label = "h"
    y = h * 2.0
    y.label = "y"
    return y


def test_tensor_records_show_shape_dtype_and_tiny_values():
    y = tensor_graph()
    dot = draw_dot(y)
    assert len(records(dot)) == 5  # x, w, h, the constant 2, y
    assert sorted(ops(dot)) == ["*", "@"]
    assert record_of(dot, "x") == "{ x | (2, 3) float64 [1, 1, 1, 1, 1, 1] | grad ? }"
    assert record_of(dot, "h") == "{ h | (2, 1) float64 [3, 3] | grad ? }"  # row sums of w: 0+1+2
    # the constant 2.0 needs no gradient, so it has no grad cell
    assert "{ () float64 2 }" in records(dot)


def test_tensor_grads_after_backward_show_shape_and_norm():
    y = tensor_graph()
    y.backward(np.ones((2, 1)))
    dot = draw_dot(y)
    # L = Σ y = 2 Σ_i Σ_k x_ik w_k:  dL/dx_ik = 2 w_k -> rows [0, 2, 4], ‖·‖ = √(2·(0+4+16)) = √40;
    # dL/dw_k = 2 Σ_i x_ik = 4 -> [4, 4, 4], ‖·‖ = √48.
    assert record_of(dot, "x").endswith(f"| grad (2, 3) ‖g‖={math.sqrt(40):.4g} [0, 2, 4, 0, 2, 4] }}")
    assert record_of(dot, "w").endswith(f"| grad (3, 1) ‖g‖={math.sqrt(48):.4g} [4, 4, 4] }}")
    # intermediate tensors keep no gradient (as in PyTorch): shown as such, not as zero
    assert record_of(dot, "h").endswith("| grad — }")


def test_big_tensor_shows_no_numbers():
    x = Tensor(np.zeros((100, 784), dtype=np.float32), requires_grad=True, label="X")
    w = Tensor(np.zeros((784, 10), dtype=np.float32), requires_grad=True, label="W")
    dot = draw_dot(x @ w)
    assert record_of(dot, "X") == "{ X | (100, 784) float32 | grad ? }"


def test_deep_tensor_chain_builds_without_recursion():
    x = Tensor(np.ones(2), requires_grad=True)
    for _ in range(10_000):
        x = x * 1.0
    dot = draw_dot(x)
    assert len(records(dot)) == 20_001  # every step adds one product and one constant
    assert ops(dot).count("*") == 10_000


# -- rendering with the real dot binary ------------------------------------------------------------------


def test_renders_to_svg_with_dot():
    if shutil.which("dot") is None:
        pytest.fail("the `dot` binary was not found: install Graphviz (e.g. `apt-get install graphviz`)")
    o, _ = neuron()
    o.backward()
    svg = draw_dot(o, label="neuron | escaped").pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    text = html.unescape(svg)  # dot writes '-' as &#45;
    assert "tanh" in text and "grad -1.5" in text and "neuron | escaped" in text


def test_shapes_are_spelled_as_python_tuples():
    v = Tensor(np.array([1.0, 2.0]), requires_grad=True, label="v")
    s = v.sum()
    dot = draw_dot(s)
    assert record_of(dot, "v") == "{ v | (2,) float64 [1, 2] | grad ? }"
    assert records(dot)[0] == "{ () float64 3 | grad ? }"
