"""draw_dot: names, values, gradients, local derivatives, colours and roles in the DOT it builds; Python's sum()
drawn as one node; the budget that keeps big graphs readable and quick to lay out; summaries of nn models; layout
that fits a notebook column; a real ``dot`` render, and a ``dot`` that hangs (a stand-in) killed on time.

Graphs are checked through their DOT source: each value is a node with an HTML-like table label, each op an
ellipse ``o<k>`` feeding the value ``n<k>`` it made, and each use of an input an edge ``n<j> -> o<k>``.
"""
from __future__ import annotations

import html
import math
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import worked_neuron

from autograd import Tensor, Value, draw_dot, mark_parameter
from autograd.viz import budget, palette
from autograd.viz.render import text_px
from nn import Linear, ReLU, Sequential
from nn import functional as F
from nn.data import make_moons
from nn.moons import hinge_loss
from nn.scalar import MLP, Neuron

NODE = re.compile(r"^\t(\w+) \[label=<(.*)> (.*)\]$")
EDGE = re.compile(r"^\t(\w+) -> (\w+)(?: \[(.*)\])?$")


def parse(dot) -> tuple[dict[str, tuple[str, str]], list[tuple[str, str, str]]]:
    """(name -> (label, attributes), [(tail, head, attributes)]) from a Digraph's DOT source."""
    nodes, edges = {}, []
    for line in dot.source.splitlines():
        if m := NODE.match(line):
            nodes[m.group(1)] = (m.group(2), m.group(3))
        elif m := EDGE.match(line):
            edges.append((m.group(1), m.group(2), m.group(3) or ""))
    return nodes, edges


def values(dot) -> dict[str, str]:
    """Value boxes (name -> label), not op ovals."""
    return {k: label for k, (label, attrs) in parse(dot)[0].items() if "shape=plain" in attrs}


def ops(dot) -> list[str]:
    return [label for label, attrs in parse(dot)[0].values() if "shape=ellipse" in attrs]


def text(label: str) -> list[str]:
    """The visible text of each table cell of a label, unescaped; a line break in a cell is a newline."""
    cells = re.findall(r"<td[^>]*>(.*?)</td>", label)
    return [html.unescape(re.sub(r"<[^>]+>", "", c.replace("<br/>", "\n"))) for c in cells]


def box(dot, name: str) -> str:
    (label,) = [label for label in values(dot).values() if text(label)[:1] == [name]]
    return label


def colour(label: str) -> str:
    """The border colour of a value's box (its role)."""
    return re.search(r'color="([^"]+)"', label).group(1)


def grad_cell(label: str) -> tuple[str, str | None]:
    """(text, bgcolor) of a value's grad cell."""
    m = re.search(r'<td(?: width="\d+")?(?: bgcolor="([^"]+)")?>(grad (?:[^<]|<br/>)*)</td>', label)
    assert m, label
    return html.unescape(m.group(2).replace("<br/>", " ")), m.group(1)


def neuron():
    return worked_neuron()


def key_of(dot, node) -> str:
    """The DOT name of the box of the value whose label is ``node.label``."""
    (k,) = [k for k, label in values(dot).items() if text(label)[:1] == [node.label]]
    return k


# -- Value graphs --------------------------------------------------------------------------------------


def test_neuron_graph_has_one_box_per_value_one_oval_per_op_and_all_edges():
    o, _ = neuron()
    dot = draw_dot(o)
    # values: x1 x2 w1 w2 b, x1w1, x2w2, x1w1+x2w2, n, o  -> 10 boxes
    assert len(values(dot)) == 10
    assert sorted(ops(dot)) == sorted(["*", "*", "+", "+", "tanh"])
    # each op: one edge per input plus one to its output: (2+1)*4 + (1+1)
    assert len(parse(dot)[1]) == 14
    for name in ("x1", "x2", "w1", "w2", "b", "n", "o"):
        box(dot, name)


def test_before_backward_grads_are_unknown_not_zero():
    o, _ = neuron()
    dot = draw_dot(o)
    assert all(grad_cell(label)[0] == "grad ?" for label in values(dot).values())
    assert "grad 0" not in dot.source


def test_after_backward_grads_appear_with_hand_derived_values():
    o, _ = neuron()
    o.backward()
    dot = draw_dot(o)
    # do/dn = 1 - o² = 0.5; n = x1 w1 + x2 w2 + b, so do/dx1 = w1·0.5 = -1.5, do/dw1 = x1·0.5 = 1,
    # do/dx2 = w2·0.5 = 0.5, do/dw2 = x2·0.5 = 0, do/db = 0.5; o itself: do/do = 1.
    expected = {"o": ("0.7071", "1"), "n": ("0.8814", "0.5"), "x1": ("2", "-1.5"), "w1": ("-3", "1"),
                "x2": ("0", "0.5"), "w2": ("1", "0"), "b": ("6.881", "0.5")}
    for name, (data, grad) in expected.items():
        assert text(box(dot, name)) == [name, f"data {data}", f"grad {grad}"]


def test_grad_colour_is_signed_on_a_log_scale_and_zero_and_unknown_are_distinct():
    o, _ = neuron()
    assert grad_cell(box(draw_dot(o), "x1"))[1] == palette.UNKNOWN
    o.backward()
    dot = draw_dot(o)
    # drawn |grad|s run from 0.5 to 1.5: -1.5 is the strongest blue, 0.5 the palest red, 0 is grey
    assert grad_cell(box(dot, "x1"))[1] == "#4393c3"
    assert grad_cell(box(dot, "b"))[1] == "#fde4d6"
    assert grad_cell(box(dot, "w2"))[1] == palette.ZERO
    w1 = grad_cell(box(dot, "w1"))[1]  # log10(1) is 63% of the way from log10(0.5) to log10(1.5)
    t = (math.log10(1) - math.log10(0.5)) / (math.log10(1.5) - math.log10(0.5))
    low, high = (0xFD, 0xE4, 0xD6), (0xD6, 0x60, 0x4D)
    assert w1 == "#{:02x}{:02x}{:02x}".format(*(round(a + (b - a) * t) for a, b in zip(low, high)))
    assert palette.ZERO != palette.UNKNOWN


def test_legend_shows_the_scale_and_the_roles_drawn():
    o, v = neuron()
    o.backward()
    source = html.unescape(draw_dot(o).source)
    for role in ("leaf (trainable)", "intermediate", "output"):
        assert f">{role}</td>" in source
    assert ">constant</td>" not in source and ">parameter</td>" not in source  # none in this graph
    assert "leaf (trainable): a value you made" in source  # the rule, in the key
    assert ">-1.5</td>" in source and ">0.5</td>" in source
    assert ">leaf (trainable)</td>" not in html.unescape(draw_dot(o, legend=False).source)
    mark_parameter(v["w1"])
    assert "parameter: owned by an nn module (or given to mark_parameter)" in html.unescape(draw_dot(o).source)


def test_every_number_in_the_key_is_one_some_box_shows_and_none_repeats():
    o, _ = neuron()
    o.backward()
    dot = draw_dot(o)
    key = re.findall(r'<td bgcolor="[^"]+" border="1" color="#cccccc">([^<]*)</td>', dot.source)
    shown = {grad_cell(label)[0].removeprefix("grad ") for label in values(dot).values()}
    # grads drawn: -1.5 (x1), 1 (w1), 0.5 (x2, b, n), 0 (w2), 1 (o): one negative, so one cell for it
    assert key == ["-1.5", "0", "0.5", "1"]
    assert set(key) <= shown and len(set(key)) == len(key)
    assert "−1" not in dot.source  # the old key printed every sign's extremes even where they repeat ("−1 −1 0 1 1")
    y = tensor_graph()
    y.backward(np.ones((2, 1)))
    dot = draw_dot(y)
    key = re.findall(r'<td bgcolor="[^"]+" border="1" color="#cccccc">([^<]*)</td>', dot.source)
    norms = [grad_cell(label)[0] for label in values(dot).values() if "‖g‖" in label]
    # the leaves x and w: ‖g‖ = √40 and √48, both in their boxes and in the key; h and y keep no grad
    assert key == [f"{math.sqrt(40):.4g}", f"{math.sqrt(48):.4g}", "— not kept"]
    key = key[:2]
    assert all(any(f"‖g‖={k}" in n for n in norms) for k in key)


def test_roles_come_from_ownership_never_from_spelling():
    for name in ("w", "w1", "weight", "W1", "w_l1", "b", "b1", "bias", "x"):
        leaf = Value(2.0, label=name)
        dot = draw_dot(leaf * 3.0)
        assert colour(box(dot, name)) == palette.ROLE_STYLE["leaf (trainable)"][0], name
        mark_parameter(leaf)
        assert colour(box(draw_dot(leaf * 3.0), name)) == palette.ROLE_STYLE["parameter"][0], name
    random.seed(0)
    n = Neuron(2)
    dot = draw_dot(n([Value(1.0, label="x0"), Value(2.0, label="x1")]))
    assert colour(box(dot, "b")) == palette.ROLE_STYLE["parameter"][0]  # the neuron owns its bias, whatever its name
    assert colour(box(dot, "x0")) == palette.ROLE_STYLE["leaf (trainable)"][0]
    # Tensors: a leaf you made that needs a gradient, one that does not (data), an nn parameter, a lifted number
    np.random.seed(0)
    lin = Linear(2, 1)
    w = Tensor(np.ones((1, 1), dtype=np.float32), requires_grad=True, label="w")
    x = Tensor(np.ones((3, 2), dtype=np.float32), label="x")
    dot = draw_dot((lin(x) @ w * 2.0).sum())
    assert colour(box(dot, "w")) == palette.ROLE_STYLE["leaf (trainable)"][0]
    assert colour(box(dot, "x")) == palette.ROLE_STYLE["input"][0]
    assert colour(box(dot, "weight")) == palette.ROLE_STYLE["parameter"][0]
    (two,) = [label for label in values(dot).values() if text(label)[1:] == ["2"]]
    assert colour(two) == palette.ROLE_STYLE["constant"][0]


def test_roles_are_drawn_as_borders():
    o, v = neuron()
    mark_parameter(v["w1"])
    c = Value(2.0)  # an unlabelled leaf: still one the user made
    dot = draw_dot(o * c * 3.0)
    assert colour(box(dot, "x1")) == palette.ROLE_STYLE["leaf (trainable)"][0]
    assert colour(box(dot, "w1")) == palette.ROLE_STYLE["parameter"][0]
    assert colour(box(dot, "o")) == palette.ROLE_STYLE["intermediate"][0]
    (root,) = [label for k, label in values(dot).items() if k == "n0"]
    assert colour(root) == palette.ROLE_STYLE["output"][0] and 'border="3"' in root
    (mine,) = [label for label in values(dot).values() if text(label) == ["data 2", "grad ?"]]
    assert colour(mine) == palette.ROLE_STYLE["leaf (trainable)"][0]
    (const,) = [label for label in values(dot).values() if text(label) == ["data 3", "grad ?"]]
    assert 'style="dashed"' in const and colour(const) == palette.ROLE_STYLE["constant"][0]


def test_show_local_labels_each_edge_with_its_local_derivative():
    o, v = neuron()
    dot = draw_dot(o, show_local=True)
    _nodes, edges = parse(dot)
    label = {(t, h): re.search(r"label=<([^>]*)>", a).group(1) for t, h, a in edges if "label=" in a}
    x1, w1, n = key_of(dot, v["x1"]), key_of(dot, v["w1"]), key_of(dot, v["n"])
    mul = next(h for t, h, _ in edges if t == x1)
    assert label[(x1, mul)] == "-3"  # ∂(x1·w1)/∂x1 = w1
    assert label[(w1, mul)] == "2"  # ∂(x1·w1)/∂w1 = x1
    tanh = next(h for t, h, _ in edges if t == n)
    assert label[(n, tanh)] == "0.5"  # 1 - tanh²(n) = 1 - 1/2
    assert "label=" not in "".join(a for _, _, a in parse(draw_dot(o))[1])


def test_fan_out_gets_one_edge_per_use_each_with_its_local():
    a = Value(3.0, label="a")
    b = a + a
    dot = draw_dot(b, show_local=True)
    _, edges = parse(dot)
    into_plus = [attrs for t, h, attrs in edges if t == key_of(dot, a)]
    assert len(into_plus) == 2 and all("label=<1>" in x for x in into_plus)
    sq = draw_dot(a * a, show_local=True)
    assert [x for t, _, x in parse(sq)[1] if t == key_of(sq, a)] == ['label=<3> fontcolor="#1b7837"'] * 2


def test_fused_dot_is_one_oval_with_an_edge_from_every_input():
    ws = [Value(0.5, label="w1"), Value(-1.0, label="w2")]
    xs = [Value(2.0, label="x1"), Value(3.0, label="x2")]
    z = Value.dot(ws, xs, Value(0.25, label="b"))
    dot = draw_dot(z, show_local=True)
    assert ops(dot) == ["dot"]
    assert len(values(dot)) == 6
    assert len(parse(dot)[1]) == 5 + 1  # five inputs in, one result out
    assert text(values(dot)["n0"]) == ["data -1.75", "grad ?"]  # 0.5·2 − 1·3 + 0.25
    _, edges = parse(dot)
    local = {t: re.search(r"label=<([^>]*)>", a).group(1) for t, _, a in edges if "label=" in a}
    assert local[key_of(dot, ws[1])] == "3" and local[key_of(dot, xs[1])] == "-1"  # ∂z/∂w2 = x2, ∂z/∂x2 = w2


def test_power_op_shows_its_exponent_and_numbers_are_compact():
    assert ops(draw_dot(Value(3.0) ** 2)) == ["**2"]
    dot = draw_dot(Value(123456.789, label="a") * Value(1e-7, label="b"))
    assert text(box(dot, "a"))[1] == "data 1.235e+05"
    assert text(box(dot, "b"))[1] == "data 1e-07"


def test_labels_are_escaped():
    a = Value(1.0, label="a<b> & {c}|")
    assert "a&lt;b&gt; &amp; {c}|" in draw_dot(a).source


def test_unknown_op_is_drawn_with_its_name_and_an_unknown_local():
    a = Value(2.0, label="a")
    out = a * 3.0
    out._op = "MyOp"  # an op this library has no local rule for (as a user-defined Function would be)
    dot = draw_dot(out, show_local=True)
    assert ops(dot) == ["MyOp"]
    assert all("label=<?>" in attrs for t, _, attrs in parse(dot)[1] if t == key_of(dot, a))


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="float"):
        draw_dot(1.5)
    with pytest.raises(ValueError, match="rankdir"):
        draw_dot(Value(1.0), rankdir="sideways")
    with pytest.raises(ValueError, match="max_nodes"):
        draw_dot(Value(1.0), max_nodes=0)
    with pytest.raises(TypeError, match="audit must be the report audit"):
        draw_dot(Value(1.0) * 2.0, audit=True)


# -- chains: Python's sum() ------------------------------------------------------------------------------


def test_python_sum_is_one_node_with_an_edge_from_every_term():
    xs = [Value(float(i), label=f"x{i}") for i in range(100)]
    total = sum(xs)  # ((0 + x0) + x1) + ...: 100 binary + nodes
    total.backward()
    dot = draw_dot(total, show_local=True, max_nodes=None)
    assert ops(dot) == ["sum of 100"]
    assert len(values(dot)) == 101  # the terms and the sum: the 0 sum() starts from adds nothing and is not drawn
    _, edges = parse(dot)
    into = [a for t, h, a in edges if h == "o0"]
    assert len(into) == 100 and all("label=<1>" in a for a in into)  # ∂sum/∂xᵢ = 1
    assert text(values(dot)["n0"]) == ["data 4950", "grad 1"]
    assert ops(draw_dot(total, chains=False, max_nodes=None)).count("+") == 100


def test_nested_sums_products_and_any_bracketing_flatten_and_short_runs_stay():
    rows = [[Value(1.0 + i + j) for j in range(3)] for i in range(4)]
    nested = sum(sum(row) for row in rows)  # a generator of sums: one sum of 12
    assert ops(draw_dot(nested, max_nodes=None)) == ["sum of 12"]
    a, b, c, d, e = (Value(v, label=k) for v, k in zip([2.0, 3.0, 0.5, -1.0, 4.0], "abcde"))
    assert ops(draw_dot(a * (b * c) * (d * e), max_nodes=None)) == ["product of 5"]
    o, _ = neuron()  # x1*w1 + x2*w2 + b: two + in a row, each worth seeing
    assert sorted(ops(draw_dot(o))) == ["*", "*", "+", "+", "tanh"]


def test_a_labelled_or_shared_intermediate_ends_a_chain():
    xs = [Value(float(i)) for i in range(8)]
    half = xs[0] + xs[1] + xs[2] + xs[3]
    half.label = "half"  # the user named it: it stays a box
    assert sorted(ops(draw_dot(half + xs[4] + xs[5] + xs[6] + xs[7], max_nodes=None))) == ["sum of 4", "sum of 5"]
    shared = xs[0] + xs[1] + xs[2] + xs[3]  # used twice: its value is worth a box
    out = (shared + xs[4] + xs[5] + xs[6]) * shared
    assert sorted(ops(draw_dot(out, max_nodes=None))) == ["*", "sum of 4", "sum of 4"]


def test_a_product_chain_shows_each_terms_local_derivative_the_product_of_the_others():
    a, b, c, d = (Value(v, label=k) for v, k in zip([2.0, 3.0, 0.0, -1.5], "abcd"))
    p = a * b * c * d
    dot = draw_dot(p, show_local=True)
    local = {t: re.search(r"label=<([^>]*)>", at).group(1) for t, h, at in parse(dot)[1] if "label=" in at}
    # ∂(abcd)/∂a = bcd = 0, ∂/∂b = acd = 0, ∂/∂c = abd = -9, ∂/∂d = abc = 0 (by hand; no division by the zero c)
    assert [local[key_of(dot, x)] for x in (a, b, c, d)] == ["0", "0", "-9", "0"]


# -- budget and summaries ----------------------------------------------------------------------------


def chain(n: int) -> Value:
    x = Value(0.5, label="x0")
    for _ in range(n):
        x = x.tanh()
    return x


def test_ten_thousand_deep_chain_draws_whole_without_recursion():
    x = chain(10_000)
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(200)  # prove the walk is iterative, not just under the default limit
    try:
        dot = draw_dot(x, max_nodes=None)
    finally:
        sys.setrecursionlimit(limit)
    assert len(values(dot)) == 10_001
    assert ops(dot).count("tanh") == 10_000


def test_default_view_of_a_100k_value_graph_keeps_the_budget_and_says_what_it_cut():
    x = chain(100_000)
    dot = draw_dot(x)
    boxes = len(values(dot))
    assert 8 <= boxes <= 200  # cut to what fits the budget: here the height a reader can scroll
    assert budget.estimate(dot.drawing, dot.drawing.view).problems(200) == []
    note = html.unescape(parse(dot)[0]["cut"][0])
    assert f"{100_001 - boxes:,} more values not shown" in note and "max_nodes=None" in note
    assert any(t == "cut" for t, _, _ in parse(dot)[1])
    assert len(values(draw_dot(x, max_nodes=10))) == 10


def test_cut_keeps_the_values_nearest_the_root():
    x = chain(50)
    dot = draw_dot(x, max_nodes=5, collapse=False)
    assert [text(label)[0] for label in values(dot).values()] == [f"data {v}" for v in _tanh_chain(0.5, 50)[-1:-6:-1]]


def _tanh_chain(x: float, n: int) -> list[str]:
    out = [x]
    for _ in range(n):
        out.append(math.tanh(out[-1]))
    return [format(v, ".4g") for v in out]


def moons_model(n_points: int = 100):
    """MLP(2, [16, 16, 1]) and its hinge loss over ``n_points`` moons, after backward()."""
    random.seed(0)
    X, y = make_moons(n_points, noise=0.1, rng=0)
    model = MLP(2, [16, 16, 1])
    loss, _ = hinge_loss(model, X, y)
    loss.backward()
    return model, loss


def test_an_mlp_over_a_dataset_collapses_to_one_box_per_layer_with_gradient_statistics():
    model, loss = moons_model()
    dot = draw_dot(loss)
    boxes = [text(label) for label in values(dot).values()]
    assert len(boxes) < 30, boxes  # from 7,600 values
    layers = {b[0]: b for b in boxes if b[0].startswith("layers.")}
    assert set(layers) == {"layers.0\nLayer(2→16), relu", "layers.1\nLayer(16→16), relu",
                           "layers.2\nLayer(16→1), linear"}
    first = layers["layers.0\nLayer(2→16), relu"]  # a long title on two lines: the box stays narrow
    assert "1,600 relu, 1,600 dot ops" in first or "1,600 dot, 1,600 relu ops" in first
    assert "48 parameters" in first
    # the +/−/0 counts are those of the layer's 48 parameter gradients
    grads = [p.grad for p in model.layers[0].parameters()]
    counts = f"+{sum(g > 0 for g in grads)} −{sum(g < 0 for g in grads)} 0:{sum(g == 0 for g in grads)}"
    assert counts in first
    mean_abs = sum(abs(g) for g in grads) / len(grads)
    assert f"grad mean |g| {mean_abs:.4g}" in first
    # the hinge loss's 100 relu margins are one box, and its edge says how many uses it stands for
    assert any(b[0] == "relu ×100" for b in boxes)
    assert "label=<×100>" in dot.source


def lecture_mlp():
    """The lecture's MLP(3, [4, 4, 1]) on its four examples, loss = sum((yout - ygt)**2): 138 values."""
    random.seed(0)
    n = MLP(3, [4, 4, 1])
    xs = [[2.0, 3.0, -1.0], [3.0, -1.0, 0.5], [0.5, 1.0, 1.0], [1.0, 1.0, -1.0]]
    loss = sum((n(x) - y) ** 2 for x, y in zip(xs, [1.0, -1.0, -1.0, 1.0]))
    loss.backward()
    return loss


def test_a_small_graph_that_would_be_unreadable_whole_is_drawn_per_neuron_and_says_how_to_see_more():
    loss = lecture_mlp()
    dot = draw_dot(loss)  # 138 values: under max_nodes, but whole its text would be far too small
    titles = [text(label)[0] for label in values(dot).values()]
    assert sum(t.startswith("layers.0 · neuron ") for t in titles) == 4
    assert "layers.2 · neuron 0\nNeuron(4), linear" in titles and "sum of 4" in ops(dot)
    caption = html.unescape(dot.source.split("\n")[1])
    assert "138 values, drawn as one box per neuron" in caption and "collapse=False draws every value" in caption
    assert dot.drawing.plan.estimate.text_px >= budget.MIN_TEXT_PX
    whole = budget.estimate(dot.drawing, budget.view_at(dot.drawing, "whole", None))
    assert whole.problems(200), whole  # what made the budget summarise
    by_layer = [text(label)[0] for label in values(draw_dot(loss, collapse="layer")).values()]
    assert "layers.0\nLayer(3→4), relu" in by_layer and not any("neuron" in t for t in by_layer)
    assert len(values(draw_dot(loss, collapse=False))) == len(values(draw_dot(loss, max_nodes=None))) > 100


def test_the_estimate_counts_edges_fan_in_and_the_ranks_long_edges_skip():
    x = Value(1.0, label="x")
    h = x
    for _ in range(5):
        h = h.tanh()
    out = h * x  # x also feeds the last op: an edge skipping the five tanh levels
    dot = draw_dot(out, max_nodes=None)
    est = budget.estimate(dot.drawing, dot.drawing.view)
    assert est.boxes == 7  # x, five tanh, the product
    assert est.edges == 6 + 7  # an oval -> box edge per op (6 ops), a value -> oval edge per use (7 uses)
    assert est.fan_in == 2 and est.skipped_ranks == 5


def test_scalar_model_parameters_are_named_and_grouped_by_neuron():
    random.seed(0)
    model = MLP(2, [3, 1])
    out = model([Value(0.5, label="x1"), Value(-1.0, label="x2")])
    dot = draw_dot(out)
    names = {text(label)[0] for label in values(dot).values()}
    assert {"w0", "w1", "w2", "b", "x1", "x2"} <= names
    clusters = re.findall(r"label=<([^>]*)> style=rounded", dot.source)
    assert sorted(html.unescape(c) for c in clusters) == [
        "layers.0 · neuron 0", "layers.0 · neuron 1", "layers.0 · neuron 2", "layers.1 · neuron 0"]


def test_a_single_neuron_shows_w0_w1_and_b():
    random.seed(0)
    n = Neuron(2)
    dot = draw_dot(n([1.0, 2.0]))
    names = [text(label)[0] for label in values(dot).values() if not text(label)[0].startswith(("data", "grad"))]
    assert sorted(names) == ["b", "w0", "w1"]


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


def test_tensor_boxes_show_shape_dtype_and_tiny_values_as_rows():
    dot = draw_dot(tensor_graph())
    assert len(values(dot)) == 5  # x, w, h, the constant 2, y
    assert sorted(ops(dot)) == ["*", "@"]
    assert text(box(dot, "x")) == ["x", "(2, 3) float64", "[1, 1, 1]", "[1, 1, 1]", "grad ?"]
    assert text(box(dot, "h")) == ["h", "(2, 1) float64", "[3, 3]", "grad ?"]  # row sums of w
    assert ["() float64", "2"] in [text(label) for label in values(dot).values()]  # the constant: no grad cell


def test_tensor_grads_after_backward_show_norm_and_tiny_numbers():
    y = tensor_graph()
    y.backward(np.ones((2, 1)))
    dot = draw_dot(y)
    # L = Σ y = 2 Σ_i Σ_k x_ik w_k:  dL/dx_ik = 2 w_k -> rows [0, 2, 4], ‖·‖ = √40; dL/dw_k = 2 Σ_i x_ik = 4
    assert grad_cell(box(dot, "x"))[0].startswith(f"grad ‖g‖={math.sqrt(40):.4g}")
    assert "[0, 2, 4]" in html.unescape(box(dot, "x"))
    assert grad_cell(box(dot, "w"))[0].startswith(f"grad ‖g‖={math.sqrt(48):.4g}")


def test_big_tensor_shows_a_range_not_numbers():
    x = Tensor(np.linspace(-1, 2, 78400, dtype=np.float32).reshape(100, 784), label="X")
    w = Tensor(np.zeros((784, 10), dtype=np.float32), requires_grad=True, label="W")
    dot = draw_dot(x @ w)
    assert text(box(dot, "X")) == ["X", "(100, 784) float32", "∈ [-1, 2]"]


def test_tensor_edges_show_the_rule_and_shape_with_the_broadcast_sum():
    x = Tensor(np.zeros((3, 2)), requires_grad=True, label="x")
    b = Tensor(np.zeros(2), requires_grad=True, label="b")
    dot = draw_dot((x + b).sum(), show_local=True)
    labels = {t: html.unescape(re.search(r"label=<([^>]*)>", a).group(1)) for t, _, a in parse(dot)[1] if "label=" in a}
    assert labels[key_of(dot, x)] == "g (3, 2)"
    assert labels[key_of(dot, b)] == "g, Σ over axes (0,) (2,)"  # unbroadcast summed b's three copies
    np.random.seed(0)
    lin = Linear(4, 3)
    inp = Tensor(np.ones((5, 4), dtype=np.float32), requires_grad=True, label="x")
    dot = draw_dot(lin(inp).sum(), show_local=True)
    rules = sorted(html.unescape(m) for m in re.findall(r"label=<([^>]*)> fontcolor", dot.source))
    assert rules == ["g copied back (5, 3)", "g·weight (5, 4)", "gᵀ·x (3, 4)", "Σ_rows g (3,)"]
    inp.requires_grad = False  # data needs no gradient: its edge carries no rule
    rules = re.findall(r"label=<([^>]*)> fontcolor", draw_dot(lin(inp).sum(), show_local=True).source)
    assert len(rules) == 3 and not any(r.startswith("g·") for r in rules)


def test_tensor_modules_are_clusters_named_like_their_module():
    np.random.seed(0)
    model = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
    x = Tensor(np.zeros((8, 784), dtype=np.float32), label="x")
    loss = F.cross_entropy(model(x), np.zeros(8, dtype=np.int64))
    loss.backward()
    dot = draw_dot(loss)
    clusters = sorted(html.unescape(c) for c in re.findall(r"label=<([^>]*)> style=rounded", dot.source))
    assert clusters == ["0: Linear(784→128) + ReLU", "2: Linear(128→10)"]  # Sequential fuses a Linear and its ReLU
    names = [text(label)[0] for label in values(dot).values()]
    assert names.count("weight") == 2 and names.count("bias") == 2


def test_deep_tensor_chain_builds_without_recursion():
    x = Tensor(np.ones(2), requires_grad=True)
    for _ in range(10_000):
        x = x * 0.999
    dot = draw_dot(x, max_nodes=None, chains=False)
    assert len(values(dot)) == 20_001  # every step adds one product and one constant
    assert ops(dot).count("*") == 10_000
    dot = draw_dot(x, max_nodes=None)  # the run of * is one product, found without recursion too
    assert ops(dot) == ["product of 10,001"] and len(values(dot)) == 10_002


# -- stepping ------------------------------------------------------------------------------------------


def test_step_draws_the_state_after_k_steps_and_highlights_the_newest_edge():
    o, v = neuron()
    before = {k: x.grad for k, x in v.items()}
    dot0 = draw_dot(o, step=0)
    assert grad_cell(box(dot0, "o"))[0] == "grad 1"  # the seed
    assert grad_cell(box(dot0, "n"))[0] == "grad ?"
    dot1 = draw_dot(o, step=1)  # tanh hands n 1 × (1 − o²) = 0.5
    assert grad_cell(box(dot1, "n"))[0] == "grad 0.5 (+0.5)"
    assert grad_cell(box(dot1, "x1"))[0] == "grad ?"
    _, edges = parse(dot1)
    hot = [(t, h) for t, h, a in edges if palette.HIGHLIGHT in a]
    assert hot == [(key_of(dot1, v["n"]), next(h for t, h, _ in edges if t == key_of(dot1, v["n"])))]
    last = draw_dot(o, step=9)  # 9 edges in all
    assert grad_cell(box(last, "x1"))[0].startswith("grad -1.5")
    assert {k: x.grad for k, x in v.items()} == before  # drawing a step changes no gradient
    with pytest.raises(ValueError, match="from 0 to 9"):
        draw_dot(o, step=10)


# -- layout, rendering, import cost -----------------------------------------------------------------


def test_layout_fits_a_notebook_column():
    a, b = Value(2.0, label="a"), Value(3.0, label="b")
    dot = draw_dot(a * b)
    assert "rankdir=LR" in dot.source and 'size="10.31,1000"' in dot.source  # 742 pt + margins = 1,000 px at most
    assert "rankdir=TB" in draw_dot(chain(40), max_nodes=None).source  # too long to lie on its side
    o, _ = neuron()
    assert "rankdir=TB" in draw_dot(o).source  # on its side it would be shrunk to fit: stacked, it is not
    assert "rankdir=BT" in draw_dot(o, rankdir="BT").source


def dot_binary() -> str:
    path = shutil.which("dot")
    if path is None:
        pytest.fail("the `dot` binary was not found: install Graphviz (e.g. `apt-get install graphviz`)")
    return path


def svg_width_px(svg: str) -> float:
    return float(re.search(r'<svg width="([\d.]+)pt"', svg).group(1)) * 4 / 3


def test_renders_to_svg_with_dot_within_the_column():
    dot_binary()
    o, _ = neuron()
    o.backward()
    svg = draw_dot(o, label="neuron | escaped", show_local=True).pipe(format="svg").decode()
    assert svg.lstrip().startswith("<?xml") and "<svg" in svg
    page = html.unescape(svg)
    assert "tanh" in page and "grad -1.5" in page and "neuron | escaped" in page
    assert svg_width_px(svg) <= 1001


def test_default_view_of_the_moons_mlp_is_within_budget_and_fits():
    dot_binary()
    _, loss = moons_model()
    dot = draw_dot(loss)  # 15 minutes in dot when drawn whole; a few hundredths of a second summarised
    assert budget.estimate(dot.drawing, dot.drawing.view).problems(200) == []
    svg = dot.pipe(format="svg").decode()
    assert svg_width_px(svg) <= 1001 and text_px(svg) >= budget.MIN_TEXT_PX


# -- the time limit: dot never hangs a notebook ------------------------------------------------------------


FAKE_DOT = """#!{python}
import os, subprocess, sys, time
source = sys.stdin.buffer.read()
if source.count(b"shape=plain") > {limit}:  # a big drawing: hang, as dot did for a quarter of an hour
    with open({pids!r}, "a") as f:
        f.write(f"{{os.getpid()}}\\n")
    time.sleep(120)
done = subprocess.run([{real!r}, *sys.argv[1:]], input=source, capture_output=True)
sys.stdout.buffer.write(done.stdout)
sys.exit(done.returncode)
"""


@pytest.fixture
def slow_dot(tmp_path, monkeypatch):
    """A stand-in for dot that hangs on drawings of more than 40 boxes (and records its pid) and otherwise runs
    the real one; returns the file its pids go to."""
    from autograd.viz import render

    pids = tmp_path / "pids"
    script = tmp_path / "dot"
    script.write_text(FAKE_DOT.format(python=sys.executable, limit=40, pids=str(pids), real=dot_binary()))
    script.chmod(0o755)
    monkeypatch.setattr(render, "DOT", str(script))
    return pids


def killed(pids) -> bool:
    for pid in map(int, pids.read_text().split()):
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            continue
        return False
    return True


def test_a_hanging_dot_is_killed_and_a_coarser_view_is_shown_saying_so(slow_dot):
    loss = lecture_mlp()
    dot = draw_dot(loss, collapse=False, max_nodes=None, timeout=1)  # 130 boxes: the stand-in hangs
    bundle = dot._repr_mimebundle_()  # what Jupyter calls
    svg = bundle["image/svg+xml"]
    assert killed(slow_dot) and len(slow_dot.read_text().split()) == 1
    page = html.unescape(svg)
    assert "dot did not finish drawing the whole graph in 1 s, so this is one box per neuron" in page
    assert "timeout=60" in page and "layers.0 · neuron 0" in page
    assert dot.shown is not dot and dot.shown.drawing.plan.level == "neuron"
    assert dot.pipe(format="svg").decode() == svg  # rendered once, kept


def test_every_way_to_render_goes_through_the_time_limit(slow_dot, tmp_path):
    loss = lecture_mlp()
    dot = draw_dot(loss, collapse=False, max_nodes=None, timeout=0.5)
    png = dot.pipe(format="png")
    assert png.startswith(b"\x89PNG")
    out = dot.render(tmp_path / "graph", format="svg")
    assert out.endswith("graph.svg") and "one box per neuron" in html.unescape(Path(out).read_text())
    assert (tmp_path / "graph").read_text() == dot.source  # the source is saved beside it, as graphviz does
    assert killed(slow_dot)


def test_text_too_small_to_read_is_replaced_by_a_coarser_view_when_the_budget_chose():
    from autograd.viz.render import Picture

    wide = Picture(body=[f"\tn{i} [label=<value number {i}> shape=plain]\n" for i in range(60)],
                   graph_attr={"size": "10.31,1000"})
    wide.body.append("\t{rank=same; " + " ".join(f"n{i}" for i in range(60)) + "}\n")
    small = Picture(body=["\ta [label=<a readable view> shape=plain]\n"])
    wide.fallback = lambda why, px: small if why == "small" and px < budget.MIN_TEXT_PX else None
    assert text_px(wide.pipe(format="svg").decode()) < budget.MIN_TEXT_PX  # not chosen by the budget: kept
    wide.auto = True
    wide._cache.clear()
    assert "a readable view" in wide.pipe(format="svg").decode() and wide.shown is small


def test_import_autograd_does_not_import_graphviz():
    code = "import sys, autograd; print('graphviz' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_audit_colours_the_wrong_op_red_and_what_inherits_orange():
    from autograd import Function, audit

    class BadSquare(Function):  # y = x², with a backward missing its factor 2
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x * x

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * x

    x = Tensor(np.array([1.0, 2.0]), requires_grad=True, label="x")
    report = audit(lambda: BadSquare.apply(x * 3.0).sum())
    dot = draw_dot(report.root, audit=report)
    nodes, edges = parse(dot)
    (oval,) = [k for k, (label, attrs) in nodes.items() if label == "BadSquare"]
    assert palette.CULPRIT in nodes[oval][1]
    assert all(palette.CULPRIT in attrs for t, h, attrs in edges if oval in (t, h))
    assert f'color="{palette.INHERITS_BORDER}"' in box(dot, "x") and palette.INHERITS_FILL in box(dot, "x")
    assert palette.CULPRIT not in draw_dot(report.root).source
