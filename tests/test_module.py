"""nn.Module: parameter discovery in containers, automatic labels, named_modules, forward hooks, clear errors."""
from __future__ import annotations

import numpy as np
import pytest
from conftest import torch_or_skip

from autograd import Tensor, Value
from nn import MLP, Linear, Module, ModuleDict, ModuleList, Neuron, ReLU, Sequential, Tanh
from nn.optim import SGD, Adam


class Containers(Module):
    """Parameters and modules kept in the containers a learner reaches for first."""

    def __init__(self) -> None:
        self.scale = Value(2.0)
        self.ws = [Value(1.0), Value(2.0)]
        self.pair = (Tensor(np.ones(2), requires_grad=True), Tensor(np.zeros(2)))  # the second is a constant
        self.heads = {"left": Linear(2, 1), "right": Linear(2, 1)}
        self.blocks = [[Linear(1, 1)], {"deep": Value(3.0)}]

    def forward(self, x: Tensor) -> Tensor:
        return self.heads["left"](x)


def test_parameters_in_lists_tuples_dicts_and_nested_containers_are_found_and_named():
    m = Containers()
    names = [name for name, _ in m.named_parameters()]
    assert names == ["scale", "ws.0", "ws.1", "pair.0", "blocks.1.deep", "heads.left.weight", "heads.left.bias",
                     "heads.right.weight", "heads.right.bias", "blocks.0.0.weight", "blocks.0.0.bias"]
    assert [name for name, _ in m.named_children()] == ["heads.left", "heads.right", "blocks.0.0"]
    assert len(m.parameters()) == len(names)
    assert set(m.state_dict()) == set(names)


def test_a_state_dict_round_trips_through_containers():
    a, b = Containers(), Containers()
    a.ws[1].data = 5.0
    a.heads["right"].bias.data[:] = 7.0
    b.load_state_dict(a.state_dict())
    assert b.ws[1].data == 5.0 and b.heads["right"].bias.data[0] == 7.0


def test_load_state_dict_given_a_module_says_pass_state_dict():
    model = Sequential(Linear(2, 2))
    with pytest.raises(TypeError, match=r"got a Module; pass model\.state_dict\(\)"):
        model.load_state_dict(Sequential(Linear(2, 2)))
    with pytest.raises(TypeError, match=r"got a list; pass model\.state_dict\(\)"):
        model.load_state_dict([np.ones((2, 2))])


# -- automatic labels ---------------------------------------------------------------------------------


def labels(model: Module) -> list[str]:
    return [p.label for p in model.parameters()]


def test_sequential_labels_are_its_state_dict_keys():
    model = Sequential(Linear(784, 128), ReLU(), Linear(128, 10))
    assert labels(model) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert labels(model) == list(model.state_dict())


def test_scalar_neuron_and_mlp_labels():
    assert labels(Neuron(3)) == ["w.0", "w.1", "w.2", "b"]
    mlp = MLP(2, [4, 1])
    assert labels(mlp)[:3] == ["layers.0.neurons.0.w.0", "layers.0.neurons.0.w.1", "layers.0.neurons.0.b"]
    assert mlp.layers[0].neurons[3].w[1].label == "layers.0.neurons.3.w.1"
    assert labels(mlp) == [name for name, _ in mlp.named_parameters()]


def test_the_top_most_model_names_the_labels():
    inner = Sequential(Linear(2, 3), Tanh())
    assert labels(inner) == ["0.weight", "0.bias"]
    outer = Sequential(inner, Linear(3, 1))
    assert labels(outer) == ["0.0.weight", "0.0.bias", "1.weight", "1.bias"]

    class Net(Module):
        def __init__(self) -> None:
            self.body = outer
            self.head_scale = Tensor(np.ones(1), requires_grad=True)

    net = Net()
    assert labels(net) == ["head_scale", "body.0.0.weight", "body.0.0.bias", "body.1.weight", "body.1.bias"]


def test_a_label_the_user_set_is_kept():
    w = Tensor(np.ones((1, 2)), requires_grad=True, label="my weight")
    lin = Linear(2, 1)
    lin.weight = w
    Sequential(lin)
    assert w.label == "my weight" and lin.bias.label == "0.bias"
    lin.bias.label = "b"
    Sequential(Sequential(lin))
    assert lin.bias.label == "b"


def test_slicing_a_sequential_does_not_rename_the_original():
    model = Sequential(Linear(2, 3), ReLU(), Linear(3, 1))
    tail = model[2:]
    assert isinstance(tail, Sequential) and len(tail) == 1
    assert labels(model) == ["0.weight", "0.bias", "2.weight", "2.bias"]


def test_module_list_and_dict_name_children_appended_later():
    class Net(Module):
        def __init__(self) -> None:
            self.blocks = ModuleList()
            for n in (2, 3):
                self.blocks.append(Linear(n, n))  # after the list was assigned: still named
            self.heads = ModuleDict({"a": Linear(3, 1)})
            self.heads["b"] = Linear(3, 2)

    net = Net()
    want = ["blocks.0.weight", "blocks.0.bias", "blocks.1.weight", "blocks.1.bias",
            "heads.a.weight", "heads.a.bias", "heads.b.weight", "heads.b.bias"]
    assert list(net.state_dict()) == want
    assert labels(net) == want
    assert len(net.blocks) == 2 and isinstance(net.blocks[1], Linear) and list(net.heads) == ["a", "b"]
    assert "a" in net.heads and len(net.heads) == 2 and [k for k, _ in net.heads.items()] == ["a", "b"]
    with pytest.raises(TypeError, match="not a Module"):
        net.blocks.append(Value(1.0))
    with pytest.raises(KeyError, match=r"without '\.'"):
        net.heads["x.y"] = Linear(1, 1)


def test_module_list_state_dict_matches_torch_module_list():
    torch = torch_or_skip()
    ours = ModuleList([Linear(2, 3), ReLU(), Linear(3, 1)])
    theirs = torch.nn.ModuleList([torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 1)])
    assert list(ours.state_dict()) == list(theirs.state_dict())
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})


def test_named_modules_matches_torch_names():
    torch = torch_or_skip()
    ours = Sequential(Sequential(Linear(2, 3), ReLU()), Linear(3, 1))
    theirs = torch.nn.Sequential(torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU()), torch.nn.Linear(3, 1))
    assert [n for n, _ in ours.named_modules()] == [n for n, _ in theirs.named_modules()]
    assert [type(m).__name__ for _, m in ours.named_modules()] == [type(m).__name__ for _, m in theirs.named_modules()]


def test_named_modules_lists_each_module_once():
    shared = Linear(2, 2)
    model = Sequential(shared, ReLU(), shared)
    assert [n for n, _ in model.named_modules()] == ["", "0", "1"]
    assert [n for n, _ in model.named_modules(prefix="net")] == ["net", "net.0", "net.1"]


# -- forward hooks ------------------------------------------------------------------------------------


def test_forward_hook_sees_module_inputs_and_output_and_can_replace_it():
    relu = ReLU()
    model = Sequential(Linear(2, 2), relu)
    seen = []
    handle = relu.register_forward_hook(lambda mod, inputs, out: seen.append((mod, inputs, out)))
    x = Tensor(np.ones((1, 2), dtype=np.float32))
    y = model(x)
    (mod, inputs, out), = seen
    assert mod is relu and isinstance(inputs, tuple) and len(inputs) == 1 and out is y
    doubled = relu.register_forward_hook(lambda mod, inputs, out: out * 2)
    np.testing.assert_allclose(model(x).data, 2 * y.data)
    assert len(seen) == 2  # the first hook still runs, in registration order
    handle.remove()
    doubled.remove()
    model(x)
    assert len(seen) == 2
    handle.remove()  # removing twice is harmless
    with relu.register_forward_hook(lambda *a: seen.append(1)):
        model(x)
    model(x)
    assert seen[-1] == 1 and len(seen) == 3


def test_a_hook_is_not_a_parameter_and_must_be_callable():
    lin = Linear(2, 1)
    lin.register_forward_hook(lambda *a: None)
    assert list(lin.state_dict()) == ["weight", "bias"]
    with pytest.raises(TypeError, match="callable"):
        lin.register_forward_hook("print")


# -- optimizers name the fix when handed the method, not the parameters --------------------------------


@pytest.mark.parametrize("make", [lambda ps: Adam(ps, lr=0.1), lambda ps: SGD(ps, lr=0.1)])
def test_optimizers_given_the_parameters_method_or_the_model_say_call_parameters(make):
    model = Sequential(Linear(2, 1))
    with pytest.raises(TypeError, match=r"the method 'parameters'.*call model\.parameters\(\)"):
        make(model.parameters)
    with pytest.raises(TypeError, match=r"the model itself.*call model\.parameters\(\)"):
        make(model)
    make(model.parameters())  # and the right call works
