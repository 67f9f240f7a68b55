"""autograd — values that remember how they were made, and reverse-mode differentiation through them.

``Value`` is the scalar engine (one number per node: for seeing and checking gradients); ``Tensor`` is the
NumPy engine (one array per node: for training). Both share ``no_grad``.
"""
from .check import GradcheckError, GradcheckReport, gradcheck
from .graph import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .tensor import Tensor, unbroadcast
from .value import Value
from .viz import draw_dot

__all__ = ["GradcheckError", "GradcheckReport", "Tensor", "Value", "draw_dot", "enable_grad", "gradcheck", "is_grad_enabled", "no_grad", "set_grad_enabled", "unbroadcast"]
