"""Module: the base of every network here, scalar or tensor, with PyTorch's names.

Discovery. A module finds its parameters and sub-modules by looking at its own attributes, in the order they
were set: a ``Value``, or a ``Tensor`` with ``requires_grad``, is a parameter; a ``Module`` is a child; a list,
tuple or dict of these (nested too) is walked, its items named by position or key (``w.0``, ``layers.1``,
``heads.left``), as PyTorch's ModuleList / ModuleDict / ParameterList are. Names join with dots, so
``Sequential``'s first ``Linear`` owns ``0.weight`` and ``0.bias``, exactly as in ``torch.nn.Sequential``.
A Tensor without ``requires_grad`` is a constant, not a parameter (as a plain tensor attribute is in PyTorch),
and is skipped without a warning: constants (masks, fixed inputs) are legitimate attributes.

Automatic labels (for drawings). Every parameter's ``.label`` is its ``state_dict`` name in the top-most module
that holds it: ``Sequential(Linear(784, 128), ReLU(), Linear(128, 10))`` labels ``0.weight``, ``0.bias``,
``2.weight``, ``2.bias``; a scalar ``Neuron``'s parameters are ``w.0``, ``w.1``, …, ``b``, and inside an
``MLP`` ``layers.0.neurons.3.w.1``. The rule: whenever a module gets an attribute that holds parameters or
modules (``self.x = ...``, also Sequential's and ModuleList's constructors and ``append``), the child modules
in it remember this module as their owner, and the top-most owner relabels every parameter below it with its
full name. This happens only while models are built, never per step. A label the user set is never
overwritten: automatic labels are ``AutoLabel`` strings, and only those (or empty labels) are replaced.
Not seen: changing a plain list after assigning it (``self.layers.append(m)``) -- use ``ModuleList``, or
assign the finished list.

Forward hooks. ``register_forward_hook(hook)`` calls ``hook(module, inputs, output)`` after each forward, as in
PyTorch (a non-None return value replaces the output); a module without hooks pays one attribute test.
"""
from __future__ import annotations

import itertools
import warnings
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

import numpy as np

from autograd.graph import mark_parameter
from autograd.tensor import Tensor
from autograd.value import Value

Parameter = Value | Tensor


def is_parameter(obj: object) -> bool:
    """A trainable leaf: any ``Value``, or a ``Tensor`` that requires grad."""
    return isinstance(obj, Value) or (isinstance(obj, Tensor) and obj.requires_grad)


_CONTAINERS = (list, tuple, dict)


def _named_in(name: str, container: list | tuple | dict, want: Callable[[object], bool]) -> Iterator[tuple[str, Any]]:
    """The items of a (possibly nested) list, tuple or dict for which ``want`` holds, named ``name.i``/``name.key``."""
    items = container.items() if isinstance(container, dict) else enumerate(container)
    for key, item in items:
        if want(item):
            yield f"{name}.{key}", item
        elif isinstance(item, _CONTAINERS):
            yield from _named_in(f"{name}.{key}", item, want)


def _is_module(obj: object) -> bool:
    return isinstance(obj, Module)


def _holds_parts(obj: object) -> bool:
    """True if ``obj`` is, or a container holds, a parameter or a module (what discovery would find)."""
    if isinstance(obj, Module) or is_parameter(obj):
        return True
    if isinstance(obj, _CONTAINERS):
        return any(map(_holds_parts, obj.values() if isinstance(obj, dict) else obj))
    return False


class AutoLabel(str):
    """A parameter label given by automatic naming (a plain ``str`` otherwise); lets a user's label win."""

    __slots__ = ()


# child module -> weak reference to the module that last adopted it. Weak both ways, so it keeps nothing alive.
_OWNER: weakref.WeakKeyDictionary[Module, weakref.ref[Module]] = weakref.WeakKeyDictionary()
_hook_ids = itertools.count()


class RemovableHandle:
    """What ``register_forward_hook`` returns: ``handle.remove()`` unregisters the hook (``with`` works too)."""

    def __init__(self, hooks: dict[int, Callable], key: int) -> None:
        self._hooks = hooks
        self.id = key

    def remove(self) -> None:
        self._hooks.pop(self.id, None)

    def __enter__(self) -> RemovableHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.remove()


def zero_grads(params: Iterable[Parameter]) -> None:
    """Forget accumulated gradients: a Value's grad becomes 0.0, a Tensor's becomes None (as in PyTorch)."""
    for p in params:
        if isinstance(p, Value):
            p.grad = 0.0
        else:
            p.grad = None


class Module:
    """Base class: ``parameters()``, ``zero_grad()``, ``state_dict()``, ``train()``/``eval()``.

    Subclasses define ``forward``; calling the module calls it. No ``super().__init__()`` is needed.
    """

    training: bool = True  # class default; train()/eval() set it on each instance
    _forward_hooks: dict[int, Callable] | None = None  # an instance gets its own dict with its first hook

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:
            for hook in tuple(self._forward_hooks.values()):  # a copy: a hook may remove itself
                replaced = hook(self, args, out)
                if replaced is not None:
                    out = replaced
        return out

    def register_forward_hook(self, hook: Callable[[Module, tuple, Any], Any]) -> RemovableHandle:
        """Call ``hook(module, inputs, output)`` after every forward of this module, as in PyTorch.

        ``inputs`` is the tuple of positional arguments; if the hook returns something other than None,
        that becomes the module's output. Hooks run in the order registered. Returns a handle whose
        ``remove()`` unregisters the hook.
        """
        if not callable(hook):
            raise TypeError(f"register_forward_hook needs a callable hook(module, inputs, output), "
                            f"got {type(hook).__name__}")
        hooks = self.__dict__.get("_forward_hooks")
        if hooks is None:
            hooks = {}
            object.__setattr__(self, "_forward_hooks", hooks)  # not through __setattr__: not a part to adopt
        key = next(_hook_ids)
        hooks[key] = hook
        return RemovableHandle(hooks, key)

    # -- automatic labels -------------------------------------------------------------------------

    def __setattr__(self, name: str, value: Any) -> None:
        object.__setattr__(self, name, value)
        if _holds_parts(value):
            self._adopt(value)

    def _adopt(self, value: object) -> None:
        """Record this module as the owner of the modules in ``value``, then relabel from the top-most owner."""
        if isinstance(value, Module):
            _OWNER[value] = weakref.ref(self)
        elif isinstance(value, _CONTAINERS):
            for _, child in _named_in("", value, _is_module):
                _OWNER[child] = weakref.ref(self)
        root, seen = self, {id(self)}
        while (ref := _OWNER.get(root)) is not None and (up := ref()) is not None and id(up) not in seen:
            seen.add(id(up))
            root = up
        root._relabel()

    def _relabel(self) -> None:
        """Give every parameter below this module its dotted name as label, unless the user set one, and mark it
        a parameter (``autograd.mark_parameter``: what drawings read, whatever its label)."""
        for name, p in self.named_parameters():
            if not p.label or type(p.label) is AutoLabel:
                p.label = AutoLabel(name)
            if p.is_leaf:
                mark_parameter(p)

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} must define forward()")

    # -- discovery --------------------------------------------------------------------------------

    def named_children(self) -> Iterator[tuple[str, Module]]:
        """Direct sub-modules with their attribute names (items of lists and dicts as ``name.i``/``name.key``)."""
        for name, attr in vars(self).items():
            if isinstance(attr, Module):
                yield name, attr
            elif isinstance(attr, _CONTAINERS):
                yield from _named_in(name, attr, _is_module)

    def named_own_parameters(self) -> Iterator[tuple[str, Parameter]]:
        """Parameters held directly by this module (or its lists and dicts), not by its children."""
        for name, attr in vars(self).items():
            if is_parameter(attr):
                yield name, attr
            elif isinstance(attr, _CONTAINERS):
                yield from _named_in(name, attr, is_parameter)

    def named_parameters(self, prefix: str = "") -> Iterator[tuple[str, Parameter]]:
        """Every parameter with its dotted name, each object once."""
        seen: set[int] = set()
        for name, p in self._walk_parameters(prefix):
            if id(p) not in seen:
                seen.add(id(p))
                yield name, p

    def _walk_parameters(self, prefix: str) -> Iterator[tuple[str, Parameter]]:
        for name, p in self.named_own_parameters():
            yield prefix + name, p
        for name, child in self.named_children():
            yield from child._walk_parameters(prefix + name + ".")

    def parameters(self) -> list[Parameter]:
        """All trainable leaves, in a stable order (the order attributes were set)."""
        return [p for _, p in self.named_parameters()]

    def modules(self) -> Iterator[Module]:
        """This module and every module below it."""
        yield self
        for _, child in self.named_children():
            yield from child.modules()

    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, Module]]:
        """(name, module) for this module (named ``prefix``, "" by default) and every module below it, each
        module once, with dotted names as in ``state_dict`` (``"0"``, ``"layers.1.neurons.2"``)."""
        seen: set[int] = set()
        stack = [(prefix, self)]
        while stack:
            name, m = stack.pop()
            if id(m) in seen:
                continue
            seen.add(id(m))
            yield name, m
            children = [(f"{name}.{n}" if name else n, c) for n, c in m.named_children()]
            stack.extend(reversed(children))  # depth first, in attribute order

    # -- training helpers -------------------------------------------------------------------------

    def zero_grad(self) -> None:
        """Reset every parameter's gradient before the next ``backward()``."""
        zero_grads(self.parameters())

    def train(self, mode: bool = True) -> Module:
        """Training mode (Dropout drops); returns self so calls chain."""
        for m in self.modules():
            m.training = mode
        return self

    def eval(self) -> Module:
        """Evaluation mode (Dropout passes through); same as ``train(False)``."""
        return self.train(False)

    # -- state ------------------------------------------------------------------------------------

    def register_buffer(self, name: str, tensor: Tensor | None) -> None:
        """Keep ``tensor`` as ``self.<name>``: state the module saves but does not train (BatchNorm's running
        statistics), as in PyTorch. It goes into ``state_dict()`` after the module's parameters (unless None) and
        ``load_state_dict()`` fills it; ``parameters()`` never lists it."""
        names = self.__dict__.get("_buffer_names")
        if names is None:
            names = []
            object.__setattr__(self, "_buffer_names", names)  # not through __setattr__: not a part to adopt
        if name not in names:
            names.append(name)
        object.__setattr__(self, name, tensor)

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, Tensor]]:
        """Every buffer below this module (None ones left out) with its dotted name, as in ``state_dict``."""
        for mname, m in self.named_modules(prefix):
            for name in m.__dict__.get("_buffer_names", ()):
                t = getattr(m, name)
                if t is not None:
                    yield (f"{mname}.{name}" if mname else name), t

    def state_dict(self) -> dict[str, np.ndarray]:
        """Name → a copy of each parameter's data (Tensor: its array; Value: a 0-d float64 array), then of each
        buffer's, module by module as PyTorch orders them (``1.weight``, ``1.bias``, ``1.running_mean``, ...)."""
        params = {name: np.array(p.data, copy=True) for name, p in self.named_parameters()}
        buffers = {name: np.array(t.data, copy=True) for name, t in self.named_buffers()}
        if not buffers:
            return params
        order = {name: i for i, (name, _) in enumerate(self.named_modules())}

        def module_of(key: str) -> int:  # the module a key belongs to, by its longest dotted prefix
            head = key.rpartition(".")[0]
            while head not in order and "." in head:
                head = head.rpartition(".")[0]
            return order.get(head, 0)

        merged = list(params.items()) + list(buffers.items())
        return dict(sorted(merged, key=lambda item: module_of(item[0])))  # stable: params before buffers

    def load_state_dict(self, state: Mapping[str, Any], strict: bool = True) -> None:
        """Copy ``state`` into the parameters in place, keeping each parameter's dtype.

        Raises TypeError unless ``state`` is a mapping (name → array, as ``state_dict()`` and ``nn.load``
        return), KeyError naming missing or unexpected keys (when ``strict``), ValueError naming both shapes
        when one does not match, and, as PyTorch does for a non-tensor, TypeError for an entry that is not a
        real number array: strings, bytes, datetimes, time differences, objects, and complex values for a real
        parameter (PyTorch only warns that it drops the imaginary part). A finite value that the parameter's
        dtype cannot hold (1e300 into float32, which would become inf) is a ValueError; NaN or inf loaded where
        the parameter was finite is a RuntimeWarning naming the entry (a diverged checkpoint may be loaded on
        purpose, to look at it). Nothing is changed unless every entry fits.
        """
        if not isinstance(state, Mapping):
            given = "a Module" if isinstance(state, Module) else f"a {type(state).__name__}"
            raise TypeError(
                f"load_state_dict for {type(self).__name__} expects a dict of name → array, got {given}; "
                f"pass model.state_dict() (or nn.load(path))"
            )
        params: dict[str, Any] = dict(self.named_parameters())
        params.update(self.named_buffers())
        missing = [k for k in params if k not in state]
        unexpected = [k for k in state if k not in params]
        if strict and (missing or unexpected):
            parts = []
            if missing:
                parts.append(f"missing keys {missing}")
            if unexpected:
                parts.append(f"unexpected keys {unexpected}")
            raise KeyError(f"load_state_dict for {type(self).__name__}: " + "; ".join(parts))
        arrays = {}
        for name, p in params.items():  # a loop, not a comprehension: the warning's stacklevel counts frames
            if name in state:
                arrays[name] = _state_entry(name, state[name], p)
        for name, arr in arrays.items():  # every check passed: now write
            p = params[name]
            if isinstance(p, Value):
                p.data = float(arr)
            else:
                p.data[...] = arr

    # -- display ----------------------------------------------------------------------------------

    def extra_repr(self) -> str:
        """The part inside the parentheses of this module's own line (e.g. sizes)."""
        return ""

    def __repr__(self) -> str:
        children = list(self.named_children())
        if not children:
            return f"{type(self).__name__}({self.extra_repr()})"
        lines = [f"{type(self).__name__}("]
        for name, child in children:
            body = repr(child).replace("\n", "\n  ")
            lines.append(f"  ({name}): {body}")
        lines.append(")")
        return "\n".join(lines)


# What load_state_dict accepts: bool, integers and floats; complex only into a complex parameter.
_REAL_KINDS = frozenset("biuf")
_KIND_NAMES = {"U": "text", "S": "bytes", "M": "datetimes", "m": "time differences", "O": "Python objects",
               "V": "raw or structured records", "c": "complex numbers"}


def _state_entry(name: str, value: Any, p: Parameter) -> np.ndarray:
    """``value`` as an array of ``p``'s shape and dtype, or the error saying why it cannot be (see load_state_dict)."""
    if isinstance(value, (Tensor, Value)):
        value = value.data
    if isinstance(value, (str, bytes)):
        raise TypeError(f"load_state_dict: '{name}' is {type(value).__name__} {value[:40]!r}, not an array of numbers")
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as err:  # ragged lists and the like
        raise TypeError(f"load_state_dict: '{name}' is not an array of numbers ({err})") from None
    target = np.asarray(p.data).dtype
    allowed = _REAL_KINDS | ({"c"} if target.kind == "c" else set())
    if arr.dtype.kind not in allowed or arr.dtype.fields is not None:
        what = _KIND_NAMES.get(arr.dtype.kind, "not numbers")
        raise TypeError(f"load_state_dict: '{name}' holds dtype {arr.dtype} ({what}); the parameter is {target}, "
                        "and only real numbers (bool, integer, float) load into it")
    if arr.shape != np.shape(p.data):
        raise ValueError(
            f"load_state_dict: '{name}' has shape {arr.shape} in the state dict "
            f"but {np.shape(p.data)} in the model"
        )
    with np.errstate(over="ignore", invalid="ignore"):
        converted = arr.astype(target)
    if converted.dtype.kind in "fc":
        source_finite = np.isfinite(arr) if arr.dtype.kind in "fc" else np.ones(arr.shape, bool)
        overflowed = source_finite & ~np.isfinite(converted)
        if overflowed.any():
            at = tuple(int(i) for i in np.unravel_index(int(np.argmax(overflowed)), arr.shape))
            raise ValueError(f"load_state_dict: '{name}' holds {arr[at].item()!r} at index {at}, which {target} "
                             f"cannot hold (it would become {converted[at].item()})")
        if not source_finite.all() and np.isfinite(p.data).all():
            count = int(arr.size - np.count_nonzero(source_finite))
            warnings.warn(f"load_state_dict: '{name}' holds {count} non-finite value(s) (nan or inf) where the model "
                          "had only finite ones", RuntimeWarning, stacklevel=3)
    return converted
