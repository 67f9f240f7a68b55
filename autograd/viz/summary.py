"""What ``draw_dot`` draws: the graph as positions, each node's role and module, and a summary of big graphs.

Three steps, each cheap enough for a graph of 100,000 values (one pass over the edges each):

1. ``walk(root)``: every value once, nearest the root first, with its inputs as positions.
2. Roles and modules. A leaf is an *input*, a *parameter* or a *constant*; the root is the *output*; the
   rest are *intermediate*, except in a gradient's own graph, where what its backward pass computed is the
   *backward pass*. ``nn`` modules name their parameters with their ``state_dict`` names
   (``layers.0.neurons.3.w.1``, ``0.weight``), so the module owning a parameter is its name minus the last
   part. An op joins a module when it mixes that module's parameters with something else (a neuron's
   ``dot``, a ``linear``), and, in scalar graphs, the activation right after a neuron's ``dot`` joins too.
3. ``summarise``: when a graph is over budget, repeated structure collapses. Members of one module
   become one box (for scalar graphs the box is a whole layer: the neurons of ``layers.0`` over every
   data point); every other op is grouped with the ops that did the same thing to the same kinds of
   input (its *signature*: op, label and its inputs' groups), so the 100 ``relu`` margins of a hinge
   loss become one box ``relu ×100``. ``cut`` then keeps the boxes nearest the root within ``max_nodes``.

Only ``.data``, ``.grad``, ``.op``, ``.inputs``, ``.label`` (and a Tensor's ``.requires_grad``) are read.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

OUTPUT, PARAMETER, INPUT, CONSTANT, INTERMEDIATE = "output", "parameter", "input", "constant", "intermediate"
BACKWARD = "backward pass"  # a value a create_graph backward computed: it depends on that pass's seed
ROLES = (INPUT, PARAMETER, CONSTANT, INTERMEDIATE, BACKWARD, OUTPUT)

# A scalar leaf is a parameter when its name is one an nn module gives (``w.0``, ``0.weight``,
# ``layers.0.neurons.3.w.1``) or the textbook spelling of a weight (``w1``, ``weight``). A bare ``b`` is a
# parameter only where a neuron (a ``dot``) reads it: elsewhere it is just the letter after ``a``.
_PARAM_NAME = re.compile(r"^(?:w|weight)(?:\.?\d+)?$")
_BIAS_NAME = re.compile(r"^(?:b|bias)(?:\.?\d+)?$")
_ACTIVATIONS = frozenset({"relu", "tanh", "sigmoid"})  # the nonlinearity a scalar Neuron applies to its dot


@dataclass
class Graph:
    """Every value reachable from ``nodes[0]`` (the root), breadth-first; ``inputs[i]`` are positions,
    one per use (``x * x`` lists x twice), in ``.inputs`` order."""

    nodes: list[Any]
    inputs: list[list[int]]
    is_tensor: bool
    consumers: list[int] = field(default_factory=list)  # how many uses each value has
    ops: list[str] = field(default_factory=list)  # each value's .op, read once

    def __len__(self) -> int:
        return len(self.nodes)


def walk(root: Any) -> Graph:
    """Breadth-first from ``root`` with an explicit queue: any depth, no recursion; nodes by ``id``."""
    index = {id(root): 0}
    get = index.get
    nodes = [root]
    add = nodes.append
    inputs: list[list[int]] = []
    for node in nodes:  # the list grows as it is read: it is its own queue
        ins = []
        for child in node.inputs:
            k = get(id(child))
            if k is None:
                k = index[id(child)] = len(nodes)
                add(child)
            ins.append(k)
        inputs.append(ins)
    consumers = [0] * len(nodes)
    for ins in inputs:
        for k in ins:
            consumers[k] += 1
    return Graph(nodes, inputs, isinstance(root.data, np.ndarray), consumers, [n.op for n in nodes])


# -- names -----------------------------------------------------------------------------------------


def split_name(label: str) -> tuple[str, str]:
    """``"layers.0.neurons.3.w.1"`` -> ``("layers.0.neurons.3", "w1")``; ``"0.weight"`` -> ``("0", "weight")``;
    ``"w.0"`` -> ``("", "w0")``: the owning module's prefix, and a short name for the parameter itself."""
    parts = label.split(".")
    index = parts.pop() if len(parts) > 1 and parts[-1].isdigit() else ""
    attr = parts.pop()
    return ".".join(parts), attr + index


def layer_of(module: str) -> str:
    """A scalar neuron's layer: ``layers.0.neurons.3`` -> ``layers.0`` (other prefixes are unchanged)."""
    head, sep, tail = module.rpartition("neurons.")
    return head.rstrip(".") if sep and tail.isdigit() else module


def role_of(node: Any, is_root: bool, is_tensor: bool, interior: bool) -> str:
    if is_root:
        return OUTPUT
    if interior:
        return INTERMEDIATE
    label = node.label
    if is_tensor:
        if node.requires_grad:
            return PARAMETER
        return INPUT if label or node.data.size > 1 else CONSTANT
    if not label:
        return CONSTANT
    if type(label) is not str:  # a str subclass: the name an nn module gave it (nn.module.AutoLabel)
        return PARAMETER
    return PARAMETER if "." in label or _PARAM_NAME.match(label) else INPUT


def roles(graph: Graph) -> list[str]:
    t, inputs = graph.is_tensor, graph.inputs
    role = [role_of(n, i == 0, t, bool(inputs[i])) for i, n in enumerate(graph.nodes)]
    if not t:
        for i, op in enumerate(graph.ops):
            if op == "dot":
                for k in inputs[i]:
                    if role[k] == INPUT and _BIAS_NAME.match(graph.nodes[k].label):
                        role[k] = PARAMETER
    _mark_backward_pass(graph, role)
    return role


def _mark_backward_pass(graph: Graph, role: list[str]) -> None:
    """The graph of a gradient (``backward(create_graph=True)``, ``autograd.grad``) mixes the forward's values with
    the ones its backward pass computed. Those depend on the pass's seed, a leaf whose ``role`` is 'seed' (the 1 it
    starts from): they, and the seed, are drawn as the backward pass. The root keeps its own border."""
    inputs = graph.inputs
    seeds = [i for i, n in enumerate(graph.nodes) if not inputs[i] and getattr(n, "role", None) == "seed"]
    if not seeds:
        return
    after = [False] * len(graph.nodes)
    for i in seeds:
        after[i] = True
    for i in _inputs_first(graph):
        if not after[i] and any(after[k] for k in inputs[i]):
            after[i] = True
    for i in range(1, len(role)):
        if after[i]:
            role[i] = BACKWARD


def modules(graph: Graph, role: list[str]) -> list[str | None]:
    """The module prefix each value belongs to (None: no module). Parameters with a dotted name belong to
    the module in their name; an op belongs to module M when some input is a parameter of M, no input is a
    parameter of another module, and some input is not a parameter (data flows through M). In scalar graphs
    a relu/tanh/sigmoid whose only input is such an op, and is that op's only consumer, joins M too."""
    nodes, inputs = graph.nodes, graph.inputs
    owner: list[str | None] = [None] * len(nodes)
    for i, n in enumerate(nodes):
        if role[i] == PARAMETER and n.label and "." in n.label:
            prefix = split_name(n.label)[0]
            owner[i] = prefix if prefix else None
    for i, ins in enumerate(inputs):
        if not ins:
            continue
        found: str | None = None
        mixed = False
        data_in = False
        for k in ins:
            if role[k] == PARAMETER:
                m = owner[k]
                if m is not None:
                    if found is not None and found != m:
                        mixed = True
                    found = m
            else:
                data_in = True
        if found is not None and data_in and not mixed:
            owner[i] = found
    if not graph.is_tensor:
        for i, ins in enumerate(inputs):
            if len(ins) == 1 and owner[i] is None and graph.ops[i] in _ACTIVATIONS:
                k = ins[0]
                if owner[k] is not None and inputs[k] and graph.consumers[k] == 1:
                    owner[i] = owner[k]
    return owner


def describe_module(prefix: str, members: list[Any], is_tensor: bool) -> str:
    """``0: Linear(784→128)`` for a tensor module (inferred from its weight's shape and its op; ``+ ReLU`` when
    Sequential fused the ReLU after it into the same node, ``linear_relu``), or
    ``layers.0: Layer(2→16), relu`` for a scalar layer (from its parameters' names): no registry needed."""
    name = f"{prefix}: " if prefix else ""  # a bare Layer's neurons have no prefix above them
    if is_tensor:
        weight = next((m for m in members if not m.op and m.label.endswith("weight")), None)
        ops = sorted({m.op for m in members if m.op})
        if weight is not None and weight.data.ndim == 2 and ("linear" in ops or "linear_relu" in ops):
            out_f, in_f = weight.data.shape
            fused = " + ReLU" if "linear_relu" in ops else ""  # Sequential runs a Linear and its ReLU as one node
            return f"{name}Linear({in_f}→{out_f}){fused}"
        if weight is not None and weight.data.ndim == 4 and "conv2d" in ops:
            out_c, in_c, kh, kw = weight.data.shape
            return f"{name}Conv2d({in_c}→{out_c}, {kh}×{kw})"
        return name + ", ".join(ops) if ops else prefix
    neurons: dict[str, int] = {}
    acts = set()
    for m in members:
        if not m.op and m.label:
            neuron, short = split_name(m.label)
            if short.startswith("w"):
                neurons[neuron] = neurons.get(neuron, 0) + 1
        elif m.op in _ACTIVATIONS:
            acts.add(m.op)
    if not neurons:
        return prefix
    nin = max(neurons.values())
    act = ", " + "/".join(sorted(acts)) if acts else ", linear"
    return f"{name}Layer({nin}→{len(neurons)}){act}"


# -- the summary of a big graph --------------------------------------------------------------------


@dataclass
class Box:
    """One drawn thing: a single value (``members`` of length 1, ``kind == "value"``), or a group of values
    that did the same thing (``"group"``), or everything one module did (``"module"``)."""

    key: str
    kind: str
    members: list[int]
    title: str = ""


@dataclass
class View:
    """Boxes, nearest the root first, and edges (tail box, head box) -> number of uses it stands for."""

    boxes: list[Box]
    edges: dict[tuple[str, str], int]
    hidden: int = 0  # values cut by the budget
    hidden_edges: set[str] = field(default_factory=set)  # boxes that lost an input to the cut


def summarise(graph: Graph, role: list[str], owner: list[str | None], max_nodes: int | None = None) -> View:
    """Collapse repeated structure (see the module docstring); values that are one of a kind stay single.
    Keeps at most ``max_nodes`` boxes, those whose first value is nearest the root."""
    nodes, inputs, ops = graph.nodes, graph.inputs, graph.ops
    n = len(nodes)
    scalar = not graph.is_tensor
    # Every group is a small int, interned from its key: ("module", prefix), ("leaf", role) or an op signature.
    intern: dict[Any, int] = {}
    keys: list[Any] = []

    def group_id(key: Any) -> int:
        g = intern.get(key)
        if g is None:
            g = intern[key] = len(keys)
            keys.append(key)
        return g

    group = [-1] * n
    for i in range(n):
        m = owner[i]
        if m is not None:
            group[i] = group_id(("module", layer_of(m) if scalar else m))
    # A signature needs its inputs' groups first: visit inputs before consumers. Leaves are grouped by
    # role only here, and split below by who uses them.
    leaf_class = {r: group_id(("leaf", r)) for r in ROLES}
    get = intern.get
    for i in _inputs_first(graph):
        if group[i] >= 0:
            continue
        ins = inputs[i]
        if not ins:
            group[i] = leaf_class[role[i]]
            continue
        key = (ops[i], nodes[i].label, i == 0, tuple([group[k] for k in ins]))
        g = get(key)
        if g is None:
            g = intern[key] = len(keys)
            keys.append(key)
        group[i] = g
    # Leaves: by role, label and the group of their first consumer (breadth-first: the one nearest the root),
    # so a dataset's 200 inputs x fall apart from its 100 labels y.
    free = [not ins and m is None for ins, m in zip(inputs, owner)]
    placed = [False] * n
    for i, ins in enumerate(inputs):
        for k in ins:
            if free[k] and not placed[k]:
                placed[k] = True
                group[k] = group_id(("leaf", role[k], nodes[k].label, group[i]))
    if free[0]:
        group[0] = group_id(("root",))
    # The groups nearest the root, in breadth-first order of their first member (the root's comes first);
    # only those become boxes, so a 100,000-value chain costs a scan, not 100,000 boxes.
    box_of: dict[int, Box] = {}
    boxes: list[Box] = []
    hidden = 0
    for i in range(n):
        g = group[i]
        box = box_of.get(g)
        if box is None:
            if max_nodes is not None and len(boxes) >= max_nodes:
                hidden += 1
                continue
            key = keys[g]
            module = key[0] == "module"
            box = box_of[g] = Box(f"g{len(boxes)}", "module" if module else "group", [], key[1] if module else "")
            boxes.append(box)
        box.members.append(i)
    for box in boxes:
        if box.kind == "group" and len(box.members) == 1:
            box.kind = "value"
            box.key = f"n{box.members[0]}"
    edges: dict[tuple[str, str], int] = {}
    lost: set[str] = set()
    for g, box in box_of.items():
        head = box.key
        for i in box.members:
            for k in inputs[i]:
                tail_box = box_of.get(group[k])
                if tail_box is None:
                    lost.add(head)
                elif tail_box is not box:
                    edge = (tail_box.key, head)
                    edges[edge] = edges.get(edge, 0) + 1
    return View(boxes, edges, hidden, lost)


def _inputs_first(graph: Graph) -> list[int]:
    """Positions ordered so every value comes after all of its inputs (Kahn's algorithm, iterative).
    A value used twice by one consumer is counted twice, and released twice: no sets needed."""
    inputs = graph.inputs
    n = len(inputs)
    pending = [len(ins) for ins in inputs]
    consumers_of: list[list[int]] = [[] for _ in range(n)]
    for i, ins in enumerate(inputs):
        for k in ins:
            consumers_of[k].append(i)
    ready = [i for i in range(n) if not pending[i]]
    order = []
    push = ready.append
    while ready:
        i = ready.pop()
        order.append(i)
        for c in consumers_of[i]:
            pending[c] -= 1
            if not pending[c]:
                push(c)
    return order


def single_view(graph: Graph) -> View:
    """Every value its own box (the graph drawn whole); edges are drawn per use by the renderer."""
    return View([Box(f"n{i}", "value", [i]) for i in range(len(graph.nodes))], {})


def cut(view: View, graph: Graph, max_nodes: int | None) -> View:
    """Keep the ``max_nodes`` values nearest the root of a single view (it is breadth-first already)."""
    if max_nodes is None or len(view.boxes) <= max_nodes:
        return view
    boxes = view.boxes[:max_nodes]
    kept = {b.members[0] for b in boxes}
    lost = {f"n{i}" for i in kept if any(k not in kept for k in graph.inputs[i])}
    return View(boxes, {}, len(view.boxes) - max_nodes, lost)
