"""Is this gradient right? Tools that check the engine's gradients, and yours, against finite differences.

``gradcheck`` (a function against finite differences), ``gradgradcheck`` (its second derivatives likewise),
``compare`` (hand gradients against autograd's), ``check_numpy`` (a network written in plain NumPy: its own
backward against finite differences), ``audit`` (every op of a graph on its own: which derivative is
wrong) and ``detect_anomaly`` (the first NaN or inf, forward or backward). They reach the engine through its public
names and the node-creation hook in ``autograd.graph``; none of them patches it.
"""
from .anomaly import AnomalyError, detect_anomaly
from .audit import AuditReport, audit
from .compare import CompareReport, compare
from .finite_diff import GradcheckError, GradcheckReport, gradcheck
from .numpy_net import NumpyCheckReport, check_numpy
from .second_order import GradgradcheckReport, gradgradcheck

__all__ = ["AnomalyError", "AuditReport", "CompareReport", "GradcheckError", "GradcheckReport", "GradgradcheckReport",
           "NumpyCheckReport", "audit", "check_numpy", "compare", "detect_anomaly", "gradcheck", "gradgradcheck"]
