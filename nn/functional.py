"""Losses, activations and layers as plain functions on Tensors (imported as ``F``, as in PyTorch).

The training hot path lives here, so the ops that a network runs every step are *fused*: each is one
graph node whose backward is written by hand from the formula, instead of a chain of primitive nodes.
``linear`` is one node instead of three (transpose, matmul, add); ``cross_entropy`` is one node whose
gradient is simply (softmax − one-hot)/N. Fewer nodes means fewer temporaries and less Python per step.

Each function states the formula it computes and the derivative its backward returns.
"""
from __future__ import annotations

import numpy as np

from autograd.tensor import Tensor


def _as_tensor(x: object, like: Tensor) -> Tensor:
    """A Tensor for a second operand: arrays and numbers take ``like``'s floating dtype."""
    if isinstance(x, Tensor):
        return x
    return Tensor(np.asarray(x, dtype=like.data.dtype))


# -- activations --------------------------------------------------------------------------------


def relu(x: Tensor) -> Tensor:
    """relu(x) = max(x, 0);  d/dx = 1 where x > 0, else 0 (0 at x = 0, as in PyTorch)."""
    return x.relu()


def tanh(x: Tensor) -> Tensor:
    """tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ);  d/dx = 1 − tanh²(x)."""
    return x.tanh()


def sigmoid(x: Tensor) -> Tensor:
    """σ(x) = 1/(1 + e⁻ˣ);  d/dx = σ(x)(1 − σ(x))."""
    return x.sigmoid()


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """softmax(x)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ) along ``dim``."""
    return x.softmax(dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log_softmax(x)ᵢ = xᵢ − log Σⱼ exp(xⱼ) along ``dim``."""
    return x.log_softmax(dim)


# -- layers -------------------------------------------------------------------------------------


def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, one fused node (PyTorch's layout: W has shape (out_features, in_features)).

    x may have any number of leading axes (..., in). With g = dL/dy flattened to (M, out) and x to
    (M, in):  dX = g W,  dW = gᵀ X,  db = Σ_rows g.
    """
    if weight.ndim != 2:
        raise ValueError(f"linear: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    n_out, n_in = weight.shape
    if x.ndim < 1 or x.shape[-1] != n_in:
        raise ValueError(f"linear: input of shape {x.shape} does not end in in_features={n_in} (weight {weight.shape})")
    if bias is not None and bias.shape != (n_out,):
        raise ValueError(f"linear: bias must have shape ({n_out},), got {bias.shape}")
    xd = x.data if x.ndim == 2 else x.data.reshape(-1, n_in)
    out = xd @ weight.data.T
    if bias is not None:
        out += bias.data  # in place: `out` is a fresh array, so no second (M, out) temporary
    if x.ndim != 2:
        out = out.reshape(*x.shape[:-1], n_out)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, ...]:
        g2 = g if g.ndim == 2 else g.reshape(-1, n_out)
        gx = (g2 @ weight.data).reshape(x.shape) if x.requires_grad else None
        gw = g2.T @ xd if weight.requires_grad else None
        if bias is None:
            return gx, gw
        return gx, gw, (g2.sum(axis=0) if bias.requires_grad else None)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor._make(out, parents, backward, "linear")


def dropout(x: Tensor, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None) -> Tensor:
    """Inverted dropout: in training, y = x · m / (1 − p) with m ~ Bernoulli(1 − p); otherwise y = x.

    Scaling the kept units by 1/(1 − p) keeps E[y] = x, so evaluation needs no rescaling.
    dy/dx = m / (1 − p), the same mask. Random draws come from ``rng`` if given, else NumPy's global
    generator (so ``np.random.seed`` reproduces them).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    if not training or p == 0.0:
        return x
    if p == 1.0:
        mask = np.zeros(x.shape, dtype=x.data.dtype)
    else:
        draws = rng.random(x.shape) if rng is not None else np.random.random_sample(x.shape)
        mask = (draws >= p).astype(x.data.dtype)
        mask *= x.data.dtype.type(1.0 / (1.0 - p))
    out = x.data * mask

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        return (g * mask,)

    return Tensor._make(out, (x,), backward, "dropout")


# -- losses -------------------------------------------------------------------------------------


def _class_indices(targets: object, n: int, classes: int) -> np.ndarray:
    """Validate integer class labels: shape (N,), integer dtype, each in [0, classes)."""
    t = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {t.dtype}")
    if t.shape != (n,):
        raise ValueError(f"cross_entropy: targets of shape {t.shape} do not match a batch of {n} (logits ({n}, {classes}))")
    if n:
        lo, hi = t.min(), t.max()
        if lo < 0 or hi >= classes:
            bad = lo if lo < 0 else hi
            raise ValueError(f"cross_entropy: label {bad} is outside [0, {classes}) for {classes} classes")
    return t


def cross_entropy(logits: Tensor, targets: object) -> Tensor:
    """Mean negative log-likelihood of the target classes under softmax(logits).

    L = (1/N) Σₙ [log Σⱼ exp(zₙⱼ) − zₙ,yₙ], computed with each row shifted by its maximum so no exp
    overflows. Fused gradient: dL/dz = (softmax(z) − onehot(y)) / N.

    ``logits``: (N, C); ``targets``: N integer labels in [0, C) (ndarray, list or integer Tensor).
    """
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be 2-D (batch, classes), got shape {logits.shape}")
    n, c = logits.shape
    t = _class_indices(targets, n, c)
    if n == 0:
        raise ValueError("cross_entropy: empty batch (logits of shape (0, C)); the mean is undefined")
    z = logits.data
    rows = np.arange(n)
    shifted = z - z.max(axis=1, keepdims=True)  # every row's maximum becomes 0: exp(...) ≤ 1
    probs = np.exp(shifted)
    sums = probs.sum(axis=1, keepdims=True)
    # log Σ exp(z) − z_y  =  log Σ exp(shifted) − shifted_y  (the shift cancels)
    loss = (np.log(sums).sum() - shifted[rows, t].sum()) / n
    probs /= sums

    def backward(g: np.ndarray) -> tuple[np.ndarray]:
        grad = probs.copy()  # copy: backward may run again on the same graph
        grad[rows, t] -= 1.0
        grad *= g / n
        return (grad,)

    return Tensor._make(np.asarray(loss, dtype=z.dtype), (logits,), backward, "cross_entropy")


def _check_same_shape(name: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name}: input has shape {a.shape} but target has shape {b.shape}; they must match")


def mse_loss(input: Tensor, target: object) -> Tensor:
    """L = (1/N) Σ (xᵢ − yᵢ)² over all N elements;  dL/dx = 2(x − y)/N,  dL/dy = −2(x − y)/N."""
    y = _as_tensor(target, input)
    _check_same_shape("mse_loss", input, y)
    diff = input.data - y.data
    n = diff.size
    loss = np.asarray(np.vdot(diff, diff) / n, dtype=input.data.dtype)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        gx = diff * (2.0 * g / n)
        return gx, (-gx if y.requires_grad else None)

    return Tensor._make(loss, (input, y), backward, "mse_loss")


def binary_cross_entropy_with_logits(logits: Tensor, targets: object) -> Tensor:
    """Mean binary cross-entropy of targets y ∈ [0, 1] under p = σ(x), straight from the logits x.

    ℓ = −[y log σ(x) + (1 − y) log(1 − σ(x))] = max(x, 0) − x·y + log(1 + e^(−|x|)), the form that never
    overflows (e^(−|x|) ≤ 1). dℓ/dx = σ(x) − y,  dℓ/dy = −x; both divided by N for the mean.
    """
    y = _as_tensor(targets, logits)
    _check_same_shape("binary_cross_entropy_with_logits", logits, y)
    x = logits.data
    n = x.size
    e = np.exp(-np.abs(x))
    loss = np.asarray((np.maximum(x, 0) - x * y.data + np.log1p(e)).sum() / n, dtype=x.dtype)

    def backward(g: np.ndarray) -> tuple[np.ndarray | None, np.ndarray | None]:
        # σ(x) from e = e^(−|x|) without overflow: 1/(1+e) for x ≥ 0, e/(1+e) for x < 0.
        sig = np.where(x >= 0, 1.0, e) / (1.0 + e)
        gx = ((sig - y.data) * (g / n)).astype(x.dtype, copy=False)
        gy = (x * (-g / n)).astype(x.dtype, copy=False) if y.requires_grad else None
        return gx, gy

    return Tensor._make(loss, (logits, y), backward, "binary_cross_entropy_with_logits")


__all__ = [
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "linear",
    "log_softmax",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
]
