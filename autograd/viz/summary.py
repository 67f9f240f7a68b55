"""What ``draw_dot`` draws: the graph as positions, each node's role and module, and a summary of big graphs.

Three steps, each cheap enough for a graph of 100,000 values (one pass over the edges each):

1. ``walk(root)``: every value once, nearest the root first, with its inputs as positions.
2. Roles and modules. Roles come from facts the engine records (``.role``), never from a label's spelling:
   a *parameter* is a leaf an ``nn`` module owns (or one given to ``autograd.mark_parameter``); a *constant* is
   a number an op lifted (the 2 in ``x * 2``); any other leaf is one you made: a *leaf (trainable)* when it
   gets a gradient (every ``Value``; a ``Tensor`` with ``requires_grad``), an *input* when it does not (a
   ``Tensor`` of data). The root is the *output*; the rest are *intermediate*, except in a gradient's own graph,
   where what its backward pass computed (everything that depends on its seed) is the *backward pass*. ``nn``
   modules name their parameters with their ``state_dict`` names (``layers.0.neurons.3.w.1``, ``0.weight``), so
   the module owning a parameter is its name minus the last part. An op joins a module when it mixes that
   module's parameters with something else (a neuron's ``dot``, a ``linear``), and, in scalar graphs, the
   activation right after a neuron's ``dot`` joins too.
3. ``summarise``: repeated structure collapses. Members of one module become one box (``per="layer"``: for
   scalar graphs the box is a whole layer, the neurons of ``layers.0`` over every data point; ``per="neuron"``:
   one box per neuron); every other op is grouped with the ops that did the same thing to the same kinds of
   input (its *signature*: op, label and its inputs' groups), so the 100 ``relu`` margins of a hinge loss
   become one box ``relu ×100``. At most ``max_nodes`` boxes are kept, those nearest the root.

Only ``.data``, ``.grad``, ``.op``, ``.inputs``, ``.label``, ``.role`` (and a Tensor's ``.requires_grad``) are read.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

OUTPUT, PARAMETER, LEAF, INPUT, CONSTANT, INTERMEDIATE = (
    "output", "parameter", "leaf (trainable)", "input", "constant", "intermediate")
BACKWARD = "backward pass"  # a value a create_graph backward computed: it depends on that pass's seed
ROLES = (LEAF, INPUT, PARAMETER, CONSTANT, INTERMEDIATE, BACKWARD, OUTPUT)
# What each role means, for the legend: the rule, in a few words.
ROLE_RULES = {
    PARAMETER: "parameter: owned by an nn module (or given to mark_parameter)",
    LEAF: "leaf (trainable): a value you made, not an op; it gets a gradient",
    INPUT: "input: a tensor you made without requires_grad",
    CONSTANT: "constant: a number an op lifted (the 2 in x * 2)",
    BACKWARD: "backward pass: computed by backward(create_graph=True), from its seed (the 1 it starts from)",
}
_ACTIVATIONS = frozenset({"relu", "tanh", "sigmoid"})  # the nonlinearity a scalar Neuron applies to its dot


@dataclass
class Graph:
    """Every value reachable from ``nodes[0]`` (the root), breadth-first; ``inputs[i]`` are positions,
    one per use (``x * x`` lists x twice), in ``.inputs`` order."""

    nodes: list[Any]
    inputs: list[list[int]]
    is_tensor: bool
    consumers: list[int] = field(default_factory=list)  # how many uses each value has
    ops: list[str] = field(default_factory=list)  # each value's .op, read once ("sum of 100" for a chain)
    chains: dict[int, Any] = field(default_factory=dict)  # position -> chains.Chain, for a collapsed run of ops
    folded: int = 0  # values of the walked graph not in this one (the inner ops of chains, sum()'s 0)

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
    """The role a value is drawn with, from ``node.role`` (see the module docstring)."""
    if is_root:
        return OUTPUT
    if interior:
        return INTERMEDIATE
    role = getattr(node, "role", "input")
    if role == "parameter":
        return PARAMETER
    if role == "constant":
        return CONSTANT
    return INPUT if is_tensor and not node.requires_grad else LEAF


def roles(graph: Graph) -> list[str]:
    t, inputs = graph.is_tensor, graph.inputs
    role = [role_of(n, i == 0, t, bool(inputs[i])) for i, n in enumerate(graph.nodes)]
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


def has_neurons(owner: list[str | None]) -> bool:
    """Whether some value belongs to a neuron of a scalar layer (so a per-neuron summary differs from per-layer)."""
    return any(m is not None and layer_of(m) != m for m in set(owner))


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
    layer = layer_of(prefix)
    if layer != prefix:  # one neuron of a layer
        return f"{layer} · neuron {prefix.rpartition('.')[2]}: Neuron({nin}){act}"
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


def summarise(graph: Graph, role: list[str], owner: list[str | None], max_nodes: int | None = None,
              per: str = "layer", grouping: tuple[list[int], list[Any]] | None = None) -> View:
    """Collapse repeated structure (see the module docstring); values that are one of a kind stay single.
    ``per="layer"``: one box per layer of a scalar MLP (per module of a tensor model); ``per="neuron"``: one box
    per neuron. Keeps at most ``max_nodes`` boxes, those whose first value is nearest the root. ``grouping`` is
    what ``groups`` returned for the same graph and ``per``, to cut one summary at several sizes cheaply."""
    group, keys = grouping if grouping is not None else groups(graph, role, owner, per)
    inputs = graph.inputs
    n = len(inputs)
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
    for box in boxes:
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


def groups(graph: Graph, role: list[str], owner: list[str | None], per: str = "layer") -> tuple[list[int], list[Any]]:
    """The group of every value (a small int) and each group's key: ``("module", prefix)``, a leaf class
    ``("leaf", role, label, consumer's group)``, ``("root",)`` or an op signature
    ``(op, label, is root, input groups)``."""
    by_layer = per == "layer"
    nodes, inputs, ops = graph.nodes, graph.inputs, graph.ops
    n = len(nodes)
    scalar = not graph.is_tensor
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
            group[i] = group_id(("module", layer_of(m) if scalar and by_layer else m))
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
    return group, keys


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


def whole(graph: Graph, max_nodes: int | None = None) -> View:
    """Every value its own box, or the ``max_nodes`` nearest the root (without making a box for the rest)."""
    n = len(graph.nodes) if max_nodes is None else min(max_nodes, len(graph.nodes))
    view = View([Box(f"n{i}", "value", [i]) for i in range(n)], {})
    if n == len(graph.nodes):
        return view
    lost = {f"n{i}" for i in range(n) if any(k >= n for k in graph.inputs[i])}
    return View(view.boxes, {}, len(graph.nodes) - n, lost)
