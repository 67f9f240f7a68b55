"""autograd — values that remember how they were made, and reverse-mode differentiation through them.

``Value`` is the scalar engine (one number per node: for seeing and checking gradients); ``Tensor`` is the
NumPy engine (one array per node: for training). Both share ``no_grad`` and ``grad``, and both differentiate
their own gradients again (``create_graph=True``).

The engine is the top-level files: ``graph`` (grad mode, the node-creation hook, topological order), ``value``,
``tensor``, ``function`` (your own ops) and ``functional`` (grad, jacobian, hessian, ...). Built on it:
``check/`` (is this gradient right?) and ``viz/`` (what does this graph look like?).
"""
from . import dtypes as _dtypes
from . import functional
from . import torch_functions as _torch_functions
from .check import (
    AnomalyError,
    AuditReport,
    CompareReport,
    GradcheckError,
    GradcheckReport,
    GradgradcheckReport,
    NumpyCheckReport,
    audit,
    check_numpy,
    compare,
    detect_anomaly,
    gradcheck,
    gradgradcheck,
)

# PyTorch's dtype names and module-level functions (torch.long, torch.tanh, torch.zeros, ...): their __all__.
from .dtypes import *  # noqa: F403
from .function import Function, FunctionCtx, once_differentiable
from .functional import grad
from .graph import enable_grad, is_grad_enabled, mark_parameter, no_grad, set_grad_enabled
from .tensor import Tensor, as_tensor, cat, rule_text, stack, unbroadcast, where
from .torch_functions import *  # noqa: F403
from .value import Value
from .viz import Explanation, draw_dot, explain

# Stepping through the backward pass loads on first use (PEP 562), so `import autograd` stays fast.
_LAZY = {"BackwardAnimation": "viz.animation", "save_animation": "viz.animation", "step_through": "viz.animation",
         "Step": "viz.steps", "backward_steps": "viz.steps", "save_html": "viz.page"}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'autograd' has no attribute {name!r}")
    from importlib import import_module

    value = globals()[name] = getattr(import_module(f".{module}", __name__), name)
    return value


__all__ = ["AnomalyError", "AuditReport", "CompareReport", "Explanation", "Function", "FunctionCtx",
           "GradcheckError", "GradcheckReport", "GradgradcheckReport", "NumpyCheckReport", "Tensor", "Value",
           "as_tensor", "audit", "cat", "check_numpy", "compare", "detect_anomaly", "draw_dot", "enable_grad",
           "explain", "functional", "grad", "gradcheck", "gradgradcheck", "is_grad_enabled", "mark_parameter",
           "no_grad", "once_differentiable", "rule_text", "set_grad_enabled", "stack", "unbroadcast", "where", *_LAZY]
__all__ += [n for n in _dtypes.__all__ + _torch_functions.__all__ if n not in __all__]
