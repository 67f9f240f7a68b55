"""Optimizers: SGD (with momentum and Nesterov), Adam and AdamW, with PyTorch's names and formulas.

They update parameters in place and work on both engines: a ``Tensor`` parameter's ``.data`` array is
changed with in-place NumPy ops into preallocated buffers (float32 stays float32, no per-step arrays);
a scalar ``Value``'s float ``.data`` is updated with plain float math. A parameter whose ``.grad`` is None
(it took no part in the last backward) is skipped, as in PyTorch.

Subnormal guard. A float32 moment buffer whose gradient is zero (a weight reading a pixel that is
always black) decays geometrically, and after a few hundred steps reaches subnormal numbers (below
``np.finfo(float32).tiny`` ≈ 1.2e-38): without the guard, ~10 000 of Adam's first-moment entries are
subnormal after two epochs of Fashion-MNIST. Many x86 CPUs handle those in microcode, so ops touching
the buffer can slow down (a ~25% slower epoch was measured on one machine; it depends on the CPU). Every K ≤ ``_FLUSH_EVERY`` steps
we zero the entries small enough to go subnormal before the next flush under pure decay
(|b| < tiny / βᴷ ≤ 1e-26 in float32), so a decaying buffer never holds one. Such values are ~20 orders
of magnitude below any useful update, so zeroing them changes nothing measurable; the check costs two
passes over the buffer every K steps, not every step.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

import numpy as np

from autograd.tensor import Tensor
from autograd.value import Value

from .module import Parameter, zero_grads

_FLUSH_EVERY = 64
_FLUSH_SHRINK = 2.0 ** -40  # largest factor a buffer may decay by between flushes


def _flush_period(decay: float) -> int:
    """Steps between flushes for a buffer multiplied by ``decay`` each step (0: it needs no guard).

    At most ``_FLUSH_EVERY``, fewer for a fast decay, so the threshold tiny/decayᴷ stays ≤ tiny·2⁴⁰
    (≈ 1e-26 in float32). Computed once per optimizer, not per step.
    """
    if not 0.0 < decay < 1.0:
        return 0
    return max(1, min(_FLUSH_EVERY, int(math.log(_FLUSH_SHRINK) / math.log(decay))))


def _flush_subnormals(buf: np.ndarray, decay: float, period: int, scratch: np.ndarray) -> None:
    """Zero the entries of ``buf`` that pure decay would make subnormal before the next flush.

    An entry with |b| ≥ tiny/decayᴷ stays normal for the K = ``period`` decays until the next flush;
    the smaller ones are set to 0 now. Call every ``period`` steps.
    """
    threshold = np.finfo(buf.dtype).tiny / decay ** period
    np.abs(buf, out=scratch)
    np.copyto(buf, 0, where=scratch < threshold)


class Optimizer:
    """Base: keeps the parameter list (a generator is materialised), ``zero_grad()`` and a step count."""

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        self.params: list[Parameter] = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, (Tensor, Value)):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, not a Tensor or Value")
            if isinstance(p, Tensor) and p.data.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}: parameter {i} has dtype {p.data.dtype}; it must be floating point")
        _check(lr >= 0.0, f"invalid learning rate lr={lr}; it must be >= 0")
        self.lr = lr
        self.steps = 0
        # Per-parameter state, by position in self.params: arrays for Tensors, floats for Values.
        self.state: list[dict] = [{} for _ in self.params]

    def zero_grad(self) -> None:
        """Forget gradients: a Tensor's ``.grad`` becomes None, a Value's 0.0."""
        zero_grads(self.params)

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        self.steps += 1
        for p, state in zip(self.params, self.state):
            if p.grad is None:
                continue
            if isinstance(p, Value):
                self._step_value(p, state)
            else:
                self._step_tensor(p, state)

    def _step_tensor(self, p: Tensor, state: dict) -> None:
        raise NotImplementedError

    def _step_value(self, p: Value, state: dict) -> None:
        raise NotImplementedError


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise ValueError(message)


class SGD(Optimizer):
    """Stochastic gradient descent, as ``torch.optim.SGD`` (without dampening).

        g ← ∇ + λ·p                      (weight_decay λ, L2 added to the gradient)
        b ← g on the first step, then b ← μ·b + g        (momentum μ > 0)
        g ← g + μ·b if nesterov else b
        p ← p − lr·g
    """

    def __init__(self, params: Iterable[Parameter], lr: float, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        _check(momentum >= 0.0, f"invalid momentum={momentum}; it must be >= 0")
        _check(weight_decay >= 0.0, f"invalid weight_decay={weight_decay}; it must be >= 0")
        _check(not nesterov or momentum > 0.0, "nesterov=True needs momentum > 0")
        self.momentum = momentum
        self._flush = _flush_period(momentum)
        self.nesterov = nesterov
        self.weight_decay = weight_decay

    def _step_tensor(self, p: Tensor, state: dict) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        if not state:
            state["step"] = 0
            state["update"] = np.empty_like(p.data)  # scratch: the step lr·g (p.grad itself is never written)
        state["step"] += 1
        upd = state["update"]
        g = p.grad
        if wd:
            np.multiply(p.data, wd, out=upd)
            upd += g
            g = upd
        if mu:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, dtype=p.data.dtype, copy=True)
            else:
                buf *= mu
                buf += g
            if self.nesterov:
                if g is not upd:
                    np.copyto(upd, g)
                upd += mu * buf  # one temporary for μ·b; Nesterov is the rarer path
                g = upd
            else:
                g = buf
        np.multiply(g, lr, out=upd)
        p.data -= upd
        if mu and self._flush and state["step"] % self._flush == 0:
            _flush_subnormals(buf, mu, self._flush, upd)

    def _step_value(self, p: Value, state: dict) -> None:
        g = p.grad + self.weight_decay * p.data
        if self.momentum:
            b = g if "momentum_buffer" not in state else self.momentum * state["momentum_buffer"] + g
            state["momentum_buffer"] = b
            g = g + self.momentum * b if self.nesterov else b
        p.data -= self.lr * g


class Adam(Optimizer):
    """Adam, as ``torch.optim.Adam`` (no amsgrad). At step t, with weight_decay λ added to the gradient:

        g ← ∇ + λ·p
        m ← β₁·m + (1 − β₁)·g           v ← β₂·v + (1 − β₂)·g²
        m̂ = m / (1 − β₁ᵗ)               v̂ = v / (1 − β₂ᵗ)
        p ← p − lr · m̂ / (√v̂ + ε)
    """

    decoupled = False  # AdamW overrides: decay the weights directly instead of adding λ·p to g

    def __init__(self, params: Iterable[Parameter], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        b1, b2 = betas
        _check(0.0 <= b1 < 1.0, f"invalid beta1={b1}; it must be in [0, 1)")
        _check(0.0 <= b2 < 1.0, f"invalid beta2={b2}; it must be in [0, 1)")
        _check(eps >= 0.0, f"invalid eps={eps}; it must be >= 0")
        _check(weight_decay >= 0.0, f"invalid weight_decay={weight_decay}; it must be >= 0")
        self.betas = (b1, b2)
        self._flush = (_flush_period(b1), _flush_period(b2))
        self.eps = eps
        self.weight_decay = weight_decay

    def _step_tensor(self, p: Tensor, state: dict) -> None:
        b1, b2 = self.betas
        lr, eps, wd = self.lr, self.eps, self.weight_decay
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
            state["scratch"] = np.empty_like(p.data)
        state["step"] += 1
        t = state["step"]
        m, v, tmp = state["exp_avg"], state["exp_avg_sq"], state["scratch"]
        data, g = p.data, p.grad

        if wd and self.decoupled:
            data *= 1.0 - lr * wd
        elif wd:
            g = g + wd * data  # plain Adam's L2 term: one temporary, only when asked for

        # m ← β₁m + (1−β₁)g ;  v ← β₂v + (1−β₂)g²   (in place, through one scratch array)
        m *= b1
        np.multiply(g, 1.0 - b1, out=tmp)
        m += tmp
        v *= b2
        np.multiply(g, g, out=tmp)
        tmp *= 1.0 - b2
        v += tmp
        k1, k2 = self._flush
        if k1 and t % k1 == 0:
            _flush_subnormals(m, b1, k1, tmp)
        if k2 and t % k2 == 0:
            _flush_subnormals(v, b2, k2, tmp)

        # p ← p − (lr/bc₁) · m / (√v / √bc₂ + ε), PyTorch's arrangement of the bias corrections
        bc1 = 1.0 - b1 ** t
        bc2 = 1.0 - b2 ** t
        np.sqrt(v, out=tmp)
        tmp *= 1.0 / math.sqrt(bc2)
        tmp += eps
        np.divide(m, tmp, out=tmp)
        tmp *= lr / bc1
        data -= tmp

    def _step_value(self, p: Value, state: dict) -> None:
        b1, b2 = self.betas
        lr, eps, wd = self.lr, self.eps, self.weight_decay
        t = state["step"] = state.get("step", 0) + 1
        g = p.grad
        if wd and self.decoupled:
            p.data *= 1.0 - lr * wd
        elif wd:
            g = g + wd * p.data
        m = state["exp_avg"] = b1 * state.get("exp_avg", 0.0) + (1.0 - b1) * g
        v = state["exp_avg_sq"] = b2 * state.get("exp_avg_sq", 0.0) + (1.0 - b2) * g * g
        m_hat = m / (1.0 - b1 ** t)
        v_hat = v / (1.0 - b2 ** t)
        p.data -= lr * m_hat / (math.sqrt(v_hat) + eps)


class AdamW(Adam):
    """Adam with decoupled weight decay, as ``torch.optim.AdamW``: first p ← p − lr·λ·p, then the Adam
    step with the plain gradient (the decay is not scaled by the adaptive denominator)."""

    decoupled = True

    def __init__(self, params: Iterable[Parameter], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]
