"""Optimizers: SGD (with momentum and Nesterov), Adam and AdamW, with PyTorch's names and formulas.

They update parameters in place and work on both engines: a ``Tensor`` parameter's ``.data`` array is
changed with in-place NumPy ops (float32 stays float32, no per-step arrays); a scalar ``Value``'s float
``.data`` is updated with plain float math. A parameter whose ``.grad`` is None (it took no part in the
last backward) is skipped, as in PyTorch.

Flat state, updated in cache-sized blocks. The per-parameter state (Adam's moments, SGD's momentum) of all
Tensor parameters of one dtype lives end to end in a few flat arrays (``_Slab``); ``state[i]`` holds views
of parameter i's part. Parameters keep their own arrays -- the optimizer never rebinds ``p.data`` -- so
references users hold, ``load_state_dict`` and ``p.data = ...`` all keep working. A step walks the flat
arrays in blocks of ``_BLOCK_BYTES`` per array: all of one block's passes (Adam makes ten) run while its
arrays sit in the core's L2 cache, instead of each pass streaming every parameter through memory. Small
parameters (biases) are packed into shared blocks, so a step is a few dozen NumPy calls however many
parameters there are. Measured on 784-512-256-10 (536k float32 parameters, one core, CPU time): Adam's
step alone 1.39 ms as a loop over parameters with thirteen passes each, 0.85 ms in blocks with ten. The
fast path needs every parameter of the slab to have a gradient and the same step count (the usual
training loop); otherwise each parameter is updated on its own, with the same formulas.

Subnormal guard. A float32 moment buffer whose gradient is zero (a weight reading a pixel that is
always black) decays geometrically, and after a few hundred steps reaches subnormal numbers (below
``np.finfo(float32).tiny`` ≈ 1.2e-38): without the guard, ~10 000 of Adam's first-moment entries are
subnormal after two epochs of Fashion-MNIST. Many x86 CPUs handle those in microcode, so ops touching
the buffer can slow down (a ~25% slower epoch was measured on one machine; it depends on the CPU).
Every K ≤ ``_FLUSH_EVERY`` steps we zero the entries small enough to go subnormal before the next flush
under pure decay (|b| < tiny / βᴷ ≤ 1e-26 in float32), so a decaying buffer never holds one. Such values are ~20 orders
of magnitude below any useful update, so zeroing them changes nothing measurable; the check costs two
passes over the buffer every K steps, not every step.
"""
from __future__ import annotations

import itertools
import math
from collections.abc import Iterable

import numpy as np

from autograd.tensor import Tensor
from autograd.value import Value

from .module import Parameter, zero_grads

_FLUSH_EVERY = 64
_FLUSH_SHRINK = 2.0 ** -40  # largest factor a buffer may decay by between flushes
# Bytes of each flat array per block. Adam touches five arrays per block (parameter, gradient, two moments,
# scratch): 5 × 256 KB fits a 2 MB L2 with room to spare. Measured as whole 784-512-256-10 training steps at
# batch 128 (one core, CPU time, relative to the same step's GEMMs alone): blocks of 64 KB 1.59x, 128 KB
# 1.54x, 256 KB 1.54x, 512 KB 1.53x, unblocked 1.86x.
_BLOCK_BYTES = 256 * 1024


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


class _Slab:
    """The flat state of the Tensor parameters of one dtype, and the blocks a step walks it in.

    ``buffers`` are the optimizer's state arrays (zeros at first), laid out as the parameters end to end.
    ``blocks`` are ``(lo, hi, owner, members)``: a range of the flat arrays that lies inside parameter
    ``owner`` (whose data and gradient are then used in place), or, with ``owner`` None, holds the whole
    small parameters ``members`` as ``(k, a, b)``: parameter k at [a, b) of the block, gathered into
    ``packed_data`` and ``packed_grad`` and its data put back after the update. ``scratch`` and the packed
    arrays are one block long and shared by all blocks, so they stay in cache from block to block.
    """

    def __init__(self, members: list[tuple[int, Tensor]], n_buffers: int) -> None:
        self.dtype = dtype = members[0][1].data.dtype
        self.index = [i for i, _ in members]  # positions in the optimizer's parameter list
        self.shapes = [p.data.shape for _, p in members]
        sizes = [p.data.size for _, p in members]
        self.offsets = [0, *itertools.accumulate(sizes)]
        self.buffers = [np.zeros(self.offsets[-1], dtype) for _ in range(n_buffers)]
        self.blocks = self._plan(sizes, max(1024, _BLOCK_BYTES // dtype.itemsize))
        longest = max(hi - lo for lo, hi, _, _ in self.blocks)
        self.scratch = np.empty(longest, dtype)
        self.packed_data = np.empty(longest, dtype)
        self.packed_grad = np.empty(longest, dtype)
        # Each block's views of the state and scratch, made once: a step then slices only data and gradients.
        self.views = [([b[lo:hi] for b in self.buffers], self.scratch[:hi - lo]) for lo, hi, _, _ in self.blocks]

    def _plan(self, sizes: list[int], block: int) -> list[tuple[int, int, int | None, tuple[int, ...]]]:
        """Big parameters (over half a block) split into near-equal blocks of their own; runs of small ones
        share blocks of up to ``block`` elements."""
        blocks = []
        group: list[int] = []

        def close_group() -> None:
            if group:
                lo, hi = self.offsets[group[0]], self.offsets[group[-1] + 1]
                members = tuple((k, self.offsets[k] - lo, self.offsets[k + 1] - lo) for k in group)
                blocks.append((lo, hi, group[0], ()) if len(group) == 1 else (lo, hi, None, members))
                group.clear()

        for k, n in enumerate(sizes):
            lo = self.offsets[k]
            if n > block // 2:
                close_group()
                parts = -(-n // block)
                cuts = [lo + n * j // parts for j in range(parts + 1)]
                blocks += [(a, b, k, ()) for a, b in itertools.pairwise(cuts)]
            else:
                if group and lo + n - self.offsets[group[0]] > block:
                    close_group()
                group.append(k)
        close_group()
        return blocks


class Optimizer:
    """Base: keeps the parameter list (a generator is materialised), ``zero_grad()`` and a step count.

    Subclasses name their per-parameter state arrays in ``_buffers`` and write one update, ``_update``, on
    arrays of any shape; the base class runs it over flat blocks or parameter by parameter.
    """

    _buffers: tuple[str, ...] = ()

    def __init__(self, params: Iterable[Parameter], lr: float) -> None:
        if callable(getattr(params, "parameters", None)) or (callable(params) and not isinstance(params, Iterable)):
            if hasattr(params, "parameters"):
                given = "the model itself"
            else:
                given = f"the method {getattr(params, '__name__', params)!r}"
            raise TypeError(f"{type(self).__name__} got {given}; call model.parameters(): "
                            f"{type(self).__name__}(model.parameters(), lr=...)")
        self.params: list[Parameter] = list(params)
        if not self.params:
            raise ValueError(f"{type(self).__name__} got an empty parameter list")
        for i, p in enumerate(self.params):
            if not isinstance(p, (Tensor, Value)):
                raise TypeError(f"{type(self).__name__}: parameter {i} is a {type(p).__name__}, not a Tensor or Value")
            if isinstance(p, Tensor) and p.data.dtype.kind != "f":
                raise TypeError(f"{type(self).__name__}: parameter {i} has dtype {p.data.dtype}; "
                                "it must be floating point")
        _check(lr >= 0.0, f"invalid learning rate lr={lr}; it must be >= 0")
        self.lr = lr
        self.steps = 0
        # Per-parameter state, by position in self.params: views into the flat arrays for Tensors, floats for
        # Values. Filled at a parameter's first step, so a parameter that never had a gradient has {}.
        self.state: list[dict] = [{} for _ in self.params]
        by_dtype: dict[np.dtype, list[tuple[int, Tensor]]] = {}
        for i, p in enumerate(self.params):
            if isinstance(p, Tensor):
                by_dtype.setdefault(p.data.dtype, []).append((i, p))
        self._slabs = [_Slab(members, len(self._buffers)) for members in by_dtype.values()]
        self._values = [i for i, p in enumerate(self.params) if isinstance(p, Value)]

    def zero_grad(self) -> None:
        """Forget gradients: a Tensor's ``.grad`` becomes None, a Value's 0.0."""
        zero_grads(self.params)

    def step(self) -> None:
        """Apply one update to every parameter that has a gradient."""
        self.steps += 1
        for slab in self._slabs:
            if self._all_ready(slab):
                self._step_blocks(slab)
            else:
                for k, i in enumerate(slab.index):
                    if self.params[i].grad is not None:
                        self._step_one(slab, k)
        params, state = self.params, self.state
        for i in self._values:
            if params[i].grad is not None:
                self._step_value(params[i], state[i])

    # -- Tensor parameters -------------------------------------------------------------------------

    def _all_ready(self, slab: _Slab) -> bool:
        """True if every parameter of the slab has a gradient of its shape, C-contiguous data of the shape
        the slab was laid out for, and the same step count: then one pass over the flat blocks updates all."""
        params, state = self.params, self.state
        steps = state[slab.index[0]].get("step", 0)
        for i, shape in zip(slab.index, slab.shapes):
            p = params[i]
            g, d = p.grad, p.data
            if g is None or g.shape != shape or d.shape != shape or not d.flags.c_contiguous:
                return False
            if state[i].get("step", 0) != steps:
                return False
        return True

    def _state_of(self, slab: _Slab, k: int) -> dict:
        """Parameter k of the slab's state: its step count and views of its part of each flat buffer."""
        i = slab.index[k]
        state = self.state[i]
        if not state:
            lo, hi, shape = slab.offsets[k], slab.offsets[k + 1], slab.shapes[k]
            state["step"] = 0
            for name, buf in zip(self._buffers, slab.buffers):
                state[name] = buf[lo:hi].reshape(shape)
        return state

    def _step_blocks(self, slab: _Slab) -> None:
        for k in range(len(slab.index)):
            self._state_of(slab, k)["step"] += 1
        t = self.state[slab.index[0]]["step"]
        constants = self._constants(t)
        params = [self.params[i] for i in slab.index]
        data = [p.data.reshape(-1) for p in params]  # views: the data is C-contiguous (checked)
        grads = [p.grad.reshape(-1) for p in params]
        offsets, update, flush = slab.offsets, self._update, self._flush
        packed_data, packed_grad = slab.packed_data, slab.packed_grad
        for (lo, hi, owner, members), (bufs, scratch) in zip(slab.blocks, slab.views):
            if owner is not None:  # a range inside one parameter: its own arrays, in place
                base = offsets[owner]
                d, g = data[owner][lo - base:hi - base], grads[owner][lo - base:hi - base]
            else:  # several small parameters, gathered
                for k, a, b in members:
                    np.copyto(packed_data[a:b], data[k])
                    np.copyto(packed_grad[a:b], grads[k])
                d, g = packed_data[:hi - lo], packed_grad[:hi - lo]
            update(d, g, bufs, scratch, constants)
            for k, a, b in members:
                np.copyto(data[k], packed_data[a:b])
            flush(bufs, t, scratch)

    def _step_one(self, slab: _Slab, k: int) -> None:
        """Update one parameter on its own (same formulas, its own step count)."""
        p, state = self.params[slab.index[k]], self._state_of(slab, k)
        state["step"] += 1
        t = state["step"]
        shape = slab.shapes[k]
        if p.data.shape != shape:
            raise ValueError(f"{type(self).__name__}: parameter {slab.index[k]} changed shape from {shape} to "
                             f"{p.data.shape} after the optimizer was made; make a new optimizer for it")
        bufs = [state[name] for name in self._buffers]
        scratch = np.empty(shape, slab.dtype)  # the slab's scratch is one block long; this path is the rare one
        self._update(p.data, p.grad, bufs, scratch, self._constants(t))
        self._flush(bufs, t, scratch)

    def _constants(self, t: int) -> tuple:
        """The scalars of step t, computed once per step (not once per block)."""
        return ()

    def _update(self, data: np.ndarray, grad: np.ndarray, bufs: list[np.ndarray], scratch: np.ndarray,
                constants: tuple) -> None:
        """One step on arrays of one shape: ``data`` in place, ``bufs`` the state, ``scratch`` a work array.
        ``grad`` is read, never written (it may be the parameter's own ``.grad``)."""
        raise NotImplementedError

    def _flush(self, bufs: list[np.ndarray], t: int, scratch: np.ndarray) -> None:
        """The subnormal guard, for buffers after step t."""

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

    The momentum buffer starts at zero, so its first μ·b + g is exactly g.
    """

    _buffers = ("momentum_buffer",)

    def __init__(self, params: Iterable[Parameter], lr: float, momentum: float = 0.0, nesterov: bool = False,
                 weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        _check(momentum >= 0.0, f"invalid momentum={momentum}; it must be >= 0")
        _check(weight_decay >= 0.0, f"invalid weight_decay={weight_decay}; it must be >= 0")
        _check(not nesterov or momentum > 0.0, "nesterov=True needs momentum > 0")
        self.momentum = momentum
        self._flush_k = _flush_period(momentum)
        self.nesterov = nesterov
        self.weight_decay = weight_decay

    def _update(self, data: np.ndarray, grad: np.ndarray, bufs: list[np.ndarray], scratch: np.ndarray,
                constants: tuple) -> None:
        lr, mu, wd = self.lr, self.momentum, self.weight_decay
        g = grad
        if wd:
            np.multiply(data, wd, out=scratch)
            scratch += g
            g = scratch
        if mu:
            buf = bufs[0]
            buf *= mu
            buf += g
            if self.nesterov:
                if g is scratch:
                    scratch += mu * buf  # one temporary for μ·b: Nesterov with weight decay is the rare path
                else:
                    np.multiply(buf, mu, out=scratch)
                    scratch += g
                g = scratch
            else:
                g = buf
        np.multiply(g, lr, out=scratch)
        data -= scratch

    def _flush(self, bufs: list[np.ndarray], t: int, scratch: np.ndarray) -> None:
        k = self._flush_k
        if k and t % k == 0:
            _flush_subnormals(bufs[0], self.momentum, k, scratch)

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

    Computed in ten passes over the arrays rather than thirteen: the state keeps the moments unscaled,
    ``m_unscaled`` = m / (1 − β₁) and ``v_unscaled`` = v / (1 − β₂) (so each update is β·M + g, with no
    multiply by 1 − β), and all the constants fold into two scalars of the step:

        p ← p − s · M / (√V + ε̂),   s = lr·(1 − β₁)·√(1 − β₂ᵗ) / ((1 − β₁ᵗ)·√(1 − β₂)),
                                     ε̂ = ε·√(1 − β₂ᵗ) / √(1 − β₂)

    which is the update above rearranged (equal up to rounding). The state's names are not PyTorch's
    ``exp_avg``/``exp_avg_sq`` because the numbers are not: PyTorch's exp_avg is (1 − β₁)·m_unscaled.
    """

    decoupled = False  # AdamW overrides: decay the weights directly instead of adding λ·p to g
    _buffers = ("m_unscaled", "v_unscaled")

    def __init__(self, params: Iterable[Parameter], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0.0) -> None:
        super().__init__(params, lr)
        b1, b2 = betas
        _check(0.0 <= b1 < 1.0, f"invalid beta1={b1}; it must be in [0, 1)")
        _check(0.0 <= b2 < 1.0, f"invalid beta2={b2}; it must be in [0, 1)")
        _check(eps >= 0.0, f"invalid eps={eps}; it must be >= 0")
        _check(weight_decay >= 0.0, f"invalid weight_decay={weight_decay}; it must be >= 0")
        self.betas = (b1, b2)
        self._flush_k = (_flush_period(b1), _flush_period(b2))
        self.eps = eps
        self.weight_decay = weight_decay

    def _constants(self, t: int) -> tuple[float, float]:
        b1, b2 = self.betas
        root_bc2 = math.sqrt((1.0 - b2 ** t) / (1.0 - b2))  # √(1 − β₂ᵗ) / √(1 − β₂)
        return self.lr * (1.0 - b1) * root_bc2 / (1.0 - b1 ** t), self.eps * root_bc2

    def _update(self, data: np.ndarray, grad: np.ndarray, bufs: list[np.ndarray], scratch: np.ndarray,
                constants: tuple) -> None:
        b1, b2 = self.betas
        lr, wd = self.lr, self.weight_decay
        step_size, eps_hat = constants
        m, v = bufs
        g = grad
        if wd and self.decoupled:
            data *= 1.0 - lr * wd
        elif wd:  # plain Adam's L2 term, in the scratch array (free until g² is written over it)
            np.multiply(data, wd, out=scratch)
            scratch += g
            g = scratch
        m *= b1
        m += g
        v *= b2
        np.square(g, out=scratch)
        v += scratch
        np.sqrt(v, out=scratch)
        scratch += eps_hat
        np.divide(m, scratch, out=scratch)
        scratch *= step_size
        data -= scratch

    def _flush(self, bufs: list[np.ndarray], t: int, scratch: np.ndarray) -> None:
        for buf, beta, k in zip(bufs, self.betas, self._flush_k):
            if k and t % k == 0:
                _flush_subnormals(buf, beta, k, scratch)

    def _step_value(self, p: Value, state: dict) -> None:
        # The same rearranged formulas as for Tensors, in float arithmetic.
        b1, b2 = self.betas
        lr, wd = self.lr, self.weight_decay
        t = state["step"] = state.get("step", 0) + 1
        g = p.grad
        if wd and self.decoupled:
            p.data *= 1.0 - lr * wd
        elif wd:
            g = g + wd * p.data
        m = state["m_unscaled"] = b1 * state.get("m_unscaled", 0.0) + g
        v = state["v_unscaled"] = b2 * state.get("v_unscaled", 0.0) + g * g
        step_size, eps_hat = self._constants(t)
        p.data -= step_size * m / (math.sqrt(v) + eps_hat)


class AdamW(Adam):
    """Adam with decoupled weight decay, as ``torch.optim.AdamW``: first p ← p − lr·λ·p, then the Adam
    step with the plain gradient (the decay is not scaled by the adaptive denominator)."""

    decoupled = True

    def __init__(self, params: Iterable[Parameter], lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2) -> None:
        super().__init__(params, lr, betas, eps, weight_decay)


__all__ = ["SGD", "Adam", "AdamW", "Optimizer"]
