"""autograd — values that remember how they were made, and reverse-mode differentiation through them.

``Value`` is the scalar engine (one number per node: for seeing and checking gradients); ``Tensor`` is the
NumPy engine (one array per node: for training). Both share ``no_grad``.
"""
from .check import (AnomalyError, AuditReport, CompareReport, GradcheckError, GradcheckReport, audit, compare,
                    detect_anomaly, gradcheck)
from .function import Function, FunctionCtx
from .graph import enable_grad, is_grad_enabled, mark_parameter, no_grad, set_grad_enabled
from .tensor import Tensor, as_tensor, unbroadcast
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


__all__ = ["AnomalyError", "AuditReport", "BackwardAnimation", "CompareReport", "Explanation", "Function", "FunctionCtx", "GradcheckError", "GradcheckReport", "Step", "Tensor", "Value", "as_tensor", "audit", "backward_steps", "compare", "detect_anomaly", "draw_dot", "enable_grad", "explain", "gradcheck", "is_grad_enabled", "mark_parameter", "no_grad", "save_animation", "save_html", "set_grad_enabled", "step_through", "unbroadcast"]
