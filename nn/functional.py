"""Losses, activations and layers as plain functions on Tensors (imported as ``F``, as in PyTorch).

The training hot path lives here, so the ops that a network runs every step are *fused*: each is one
graph node whose backward is written by hand from the formula, instead of a chain of primitive nodes.
``linear`` is one node instead of three (transpose, matmul, add); ``cross_entropy`` is one node whose
gradient is simply (softmax − one-hot)/N. Fewer nodes means fewer temporaries and less Python per step.

Each function states the formula it computes and the derivative its backward returns.

Inputs. Every function here (and every layer in ``nn.layers``) takes its tensor arguments as Tensors or as
anything ``Tensor(...)`` accepts: an ndarray or a nested list is used as a constant input, converted as
``Tensor(x)`` converts it (numbers and lists become float32, ndarrays keep their dtype). The dtype rules
then apply as for Tensors: ``linear`` wants its input in the weight's dtype (a float64 array into a float32
layer is a TypeError that says how to convert it, as in PyTorch), and the two-input losses promote their
operands as ``torch.result_type`` does.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from autograd.graph import Replay
from autograd.tensor import Tensor, as_tensor, result_type, rule_text

from .convolution import conv2d, fold, pad, unfold  # the ops live in files by family; F.conv2d as in PyTorch
from .pooling import adaptive_avg_pool2d, avg_pool2d, max_pool2d, max_unpool2d
from .spatial_dropout import dropout2d


def _promoted(a: Tensor, b: Tensor) -> tuple[Tensor, Tensor]:
    """Both tensors in their promoted dtype (``torch.result_type``), by differentiable casts."""
    if a.data.dtype == b.data.dtype:
        return a, b
    dt = result_type(a, b)
    return a.to(dt), b.to(dt)


def _check_input_dtype(x: Tensor, weight: Tensor, who: str) -> None:
    """Raise a TypeError saying how to convert ``x`` when its dtype is not the weight's (PyTorch refuses to mix
    them too; silently computing a float32 layer in float64 would be slower and hide the mistake)."""
    want, got = weight.data.dtype, x.data.dtype
    if got != want:
        how = {"float32": "x.float() / Tensor(x, dtype=np.float32)",
               "float64": "x.double() / Tensor(x, dtype=np.float64)"}
        raise TypeError(
            f"expected {want} input for {who}, got {got}; convert with {how.get(want.name, f'x.to(np.{want.name})')}"
        )


# -- activations --------------------------------------------------------------------------------


def relu(x: Tensor) -> Tensor:
    """relu(x) = max(x, 0);  d/dx = 1 where x > 0, else 0 (0 at x = 0, as in PyTorch)."""
    return as_tensor(x).relu()


def tanh(x: Tensor) -> Tensor:
    """tanh(x) = (eˣ − e⁻ˣ)/(eˣ + e⁻ˣ);  d/dx = 1 − tanh²(x)."""
    return as_tensor(x).tanh()


def sigmoid(x: Tensor) -> Tensor:
    """σ(x) = 1/(1 + e⁻ˣ);  d/dx = σ(x)(1 − σ(x))."""
    return as_tensor(x).sigmoid()


def softmax(x: Tensor, dim: int = -1) -> Tensor:
    """softmax(x)ᵢ = exp(xᵢ) / Σⱼ exp(xⱼ) along ``dim``."""
    return as_tensor(x).softmax(dim)


def log_softmax(x: Tensor, dim: int = -1) -> Tensor:
    """log_softmax(x)ᵢ = xᵢ − log Σⱼ exp(xⱼ) along ``dim``."""
    return as_tensor(x).log_softmax(dim)


# -- layers -------------------------------------------------------------------------------------


@rule_text("g·{1}", "gᵀ·{0}", "Σ_rows g", inputs=("x", "W", "b"))
def linear(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """y = x Wᵀ + b, one fused node (PyTorch's layout: W has shape (out_features, in_features)).

    x may have any number of leading axes (..., in). With g = dL/dy flattened to (M, out) and x to
    (M, in):  dX = g W,  dW = gᵀ X,  db = Σ_rows g.
    """
    x, weight = as_tensor(x), as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    out = _linear_forward(x, weight, bias, "linear")
    need = _needs(x, weight, bias)

    def backward(xp, g, out, x, w, b=None):
        return _linear_backward(g, x, w, need)

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.from_op(out, parents, backward, "linear", Replay(linear, parents), reads="inputs")


@rule_text("(g⊙[a>0])·{1}", "(g⊙[a>0])ᵀ·{0}", "Σ_rows g⊙[a>0]", inputs=("x", "W", "b"))
def linear_relu(x: Tensor, weight: Tensor, bias: Tensor | None = None) -> Tensor:
    """a = relu(x Wᵀ + b): a Linear layer and the ReLU after it, as one node (``nn.Sequential`` uses it).

    The same numbers as ``relu(linear(x, weight, bias))``, with the ReLU applied in place to the linear
    output and its mask folded into the linear backward:  dZ = g ⊙ [a > 0],  then dX = dZ W, dW = dZᵀ X,
    db = Σ_rows dZ. One node instead of two saves a (batch, out) array and a graph step each way: 4% of
    a 784-512-256-10 training step at batch 128 (measured, one BLAS thread).
    """
    x, weight = as_tensor(x), as_tensor(weight)
    bias = None if bias is None else as_tensor(bias)
    out = _linear_forward(x, weight, bias, "linear_relu")
    np.maximum(out, 0, out=out)
    need = _needs(x, weight, bias)

    def backward(xp, g, out, x, w, b=None):
        return _linear_backward(g * (out > 0), x, w, need)  # relu' = 1 where a > 0 (0 at 0): a mask, no derivative

    parents = (x, weight) if bias is None else (x, weight, bias)
    return Tensor.from_op(out, parents, backward, "linear_relu", Replay(linear_relu, parents))


def _linear_forward(x: Tensor, weight: Tensor, bias: Tensor | None, name: str) -> np.ndarray:
    """Check the operands of ``linear``; return a fresh x Wᵀ + b, shaped (..., out)."""
    if weight.ndim != 2:
        raise ValueError(f"{name}: weight must be 2-D (out_features, in_features), got shape {weight.shape}")
    n_out, n_in = weight.shape
    if x.data.dtype != weight.data.dtype:  # the message (str of a dtype is slow) is built only for the error
        _check_input_dtype(x, weight, f"{name} (weight {weight.shape} {weight.dtype})")
    if bias is not None and bias.data.dtype != weight.data.dtype:
        raise TypeError(f"{name}: bias is {bias.dtype} but weight is {weight.dtype}; they must match")
    if x.ndim < 1 or x.shape[-1] != n_in:
        raise ValueError(f"{name}: input of shape {x.shape} does not end in in_features={n_in} (weight {weight.shape})")
    if bias is not None and bias.shape != (n_out,):
        raise ValueError(f"{name}: bias must have shape ({n_out},), got {bias.shape}")
    xd = x.data if x.ndim == 2 else x.data.reshape(-1, n_in)
    out = xd @ weight.data.T
    if bias is not None:
        out += bias.data  # in place: `out` is a fresh array, so no second (M, out) temporary
    if x.ndim != 2:
        out = out.reshape(*x.shape[:-1], n_out)
    return out


def _needs(x: Tensor, weight: Tensor, bias: Tensor | None) -> tuple[bool, ...]:
    """Which of (x, weight[, bias]) need a gradient: fixed when the node is made."""
    return (x.requires_grad, weight.requires_grad) + (() if bias is None else (bias.requires_grad,))


def _linear_backward(g: Any, x: Any, w: Any, need: tuple[bool, ...]) -> tuple[Any, ...]:
    """(dX, dW[, db]) for y = x Wᵀ + b from g = dL/dy: dX = g W, dW = gᵀ X, db = Σ_rows g (None where not needed).
    Arrays or Tensors alike (see autograd.tensor: the same rule differentiates twice)."""
    n_out, n_in = w.shape
    g2 = g if g.ndim == 2 else g.reshape(-1, n_out)
    gx = (g2 @ w).reshape(x.shape) if need[0] else None
    gw = g2.T @ (x if x.ndim == 2 else x.reshape(-1, n_in)) if need[1] else None
    if len(need) == 2:
        return gx, gw
    return gx, gw, (g2.sum(axis=0) if need[2] else None)


@rule_text("g⊙mask/(1−p)")
def dropout(x: Tensor, p: float = 0.5, training: bool = True, rng: np.random.Generator | None = None) -> Tensor:
    """Inverted dropout: in training, y = x · m / (1 − p) with m ~ Bernoulli(1 − p); otherwise y = x.

    Scaling the kept units by 1/(1 − p) keeps E[y] = x, so evaluation needs no rescaling.
    dy/dx = m / (1 − p), the same mask. Random draws come from ``rng`` if given, else NumPy's global
    generator (so ``np.random.seed`` reproduces them).
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"dropout probability must be in [0, 1], got {p}")
    x = as_tensor(x)
    if not training or p == 0.0:
        return x
    if p == 1.0:
        mask = np.zeros(x.shape, dtype=x.data.dtype)
    else:
        draws = rng.random(x.shape) if rng is not None else np.random.random_sample(x.shape)
        mask = (draws >= p).astype(x.data.dtype)
        mask *= x.data.dtype.type(1.0 / (1.0 - p))
    out = x.data * mask

    def backward(xp, g, out, x):
        return (g * mask,)

    return Tensor.from_op(out, (x,), backward, "dropout", Replay(dropout, (x, p, training, rng)), reads="none")


# -- losses -------------------------------------------------------------------------------------


def _class_indices(targets: object, n: int, classes: int) -> np.ndarray:
    """Validate integer class labels: shape (N,), integer dtype, each in [0, classes)."""
    t = targets.data if isinstance(targets, Tensor) else np.asarray(targets)
    if t.dtype.kind not in "iu":
        raise TypeError(f"cross_entropy: targets must be integer class indices, got dtype {t.dtype}")
    if t.shape != (n,):
        raise ValueError(f"cross_entropy: targets of shape {t.shape} do not match a batch of {n} "
                         f"(logits ({n}, {classes}))")
    # One reduction: read as unsigned, a negative label is a huge number, so max < classes checks both ends.
    if n and (t if t.dtype.kind == "u" else t.view(f"u{t.dtype.itemsize}")).max() >= classes:
        lo, hi = t.min(), t.max()
        bad = lo if lo < 0 else hi
        raise ValueError(f"cross_entropy: label {bad} is outside [0, {classes}) for {classes} classes")
    return t


@rule_text("(softmax−onehot)/N", inputs=("z",))
def cross_entropy(logits: Tensor, targets: object) -> Tensor:
    """Mean negative log-likelihood of the target classes under softmax(logits).

    L = (1/N) Σₙ [log Σⱼ exp(zₙⱼ) − zₙ,yₙ], computed with each row shifted by its maximum so no exp
    overflows. Fused gradient: dL/dz = (softmax(z) − onehot(y)) / N.

    ``logits``: (N, C); ``targets``: N integer labels in [0, C) (ndarray, list or integer Tensor).
    """
    logits = as_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(f"cross_entropy: logits must be 2-D (batch, classes), got shape {logits.shape}")
    if logits.data.dtype.kind != "f":
        raise TypeError(f"cross_entropy: logits must be floating point, got {logits.dtype}; use logits.float()")
    n, c = logits.shape
    t = _class_indices(targets, n, c)
    if n == 0:
        raise ValueError("cross_entropy: empty batch (logits of shape (0, C)); the mean is undefined")
    z = logits.data
    rows = np.arange(n)
    if c <= 64:
        # NumPy reduces a short last axis one row at a time (9 µs for the max of (128, 10) logits); on a
        # transposed copy, (C, N), the same reductions run along contiguous rows (1 µs). Same formulas.
        shifted = z.T.copy()
        shifted -= shifted.max(axis=0)  # every sample's maximum becomes 0: exp(...) ≤ 1
        picked = shifted[t, rows]  # shifted_y, taken before exp overwrites shifted in place
        np.exp(shifted, out=shifted)
        sums = shifted.sum(axis=0)
        probs = shifted.T  # (N, C) again, a view
    else:
        shifted = z - z.max(axis=1, keepdims=True)
        picked = shifted[rows, t]
        probs = np.exp(shifted, out=shifted)
        sums = probs.sum(axis=1, keepdims=True)
    # log Σ exp(z) − z_y  =  log Σ exp(shifted) − shifted_y  (the shift cancels)
    loss = (np.log(sums).sum() - picked.sum()) / n
    shifted /= sums  # probs = softmax(z)

    def backward(xp, g, out, z):
        scale = g / n
        if xp.graph:  # differentiating twice: softmax(z) as a Tensor in the graph, not the forward's numbers
            onehot = np.zeros(z.shape, dtype=z.dtype)
            onehot[rows, t] = 1
            return ((xp.softmax(z, 1) - onehot) * scale,)
        grad = probs * scale  # a new array: backward may run again on the same graph
        grad[rows, t] -= scale  # (softmax − onehot)·g/N
        return (grad,)

    return Tensor.from_op(np.asarray(loss, dtype=z.dtype), (logits,), backward, "cross_entropy",
                          Replay(cross_entropy, (logits, targets)), reads="none")


def _check_same_shape(name: str, a: Tensor, b: Tensor) -> None:
    if a.shape != b.shape:
        raise ValueError(f"{name}: input has shape {a.shape} but target has shape {b.shape}; they must match")


@rule_text("2({0}−{1})/N·g", "−2({0}−{1})/N·g", inputs=("x", "y"))
def mse_loss(input: Tensor, target: object) -> Tensor:
    """L = (1/N) Σ (xᵢ − yᵢ)² over all N elements;  dL/dx = 2(x − y)/N,  dL/dy = −2(x − y)/N."""
    input, y = _promoted(as_tensor(input), as_tensor(target))
    _check_same_shape("mse_loss", input, y)
    diff = input.data - y.data
    n = diff.size
    loss = np.asarray(np.vdot(diff, diff) / n, dtype=input.data.dtype)
    need_y = y.requires_grad

    def backward(xp, g, out, x, y):
        gx = (x - y) * (2.0 * g / n)
        return gx, (-gx if need_y else None)

    return Tensor.from_op(loss, (input, y), backward, "mse_loss", Replay(mse_loss, (input, y)), reads="inputs")


@rule_text("(σ({0})−{1})/N·g", "−{0}/N·g", inputs=("z", "y"))
def binary_cross_entropy_with_logits(logits: Tensor, targets: object) -> Tensor:
    """Mean binary cross-entropy of targets y ∈ [0, 1] under p = σ(x), straight from the logits x.
    Targets outside [0, 1] (or nan) are a ValueError naming the first one (PyTorch does not check).

    ℓ = −[y log σ(x) + (1 − y) log(1 − σ(x))] = max(x, 0) − x·y + log(1 + e^(−|x|)), the form that never
    overflows (e^(−|x|) ≤ 1). dℓ/dx = σ(x) − y,  dℓ/dy = −x; both divided by N for the mean.
    """
    logits, y = _promoted(as_tensor(logits), as_tensor(targets))
    _check_same_shape("binary_cross_entropy_with_logits", logits, y)
    t = y.data
    outside = ~((t >= 0) & (t <= 1))  # also catches nan
    if outside.any():
        i = np.unravel_index(np.argmax(outside), t.shape) if t.ndim else ()
        raise ValueError(
            f"binary_cross_entropy_with_logits: targets must be probabilities in [0, 1], got {t[i]} at index "
            f"{tuple(int(k) for k in i)}"
        )
    x = logits.data
    n = x.size
    e = np.exp(-np.abs(x))
    loss = np.asarray((np.maximum(x, 0) - x * y.data + np.log1p(e)).sum() / n, dtype=x.dtype)

    need_y = y.requires_grad

    def backward(xp, g, out, x, y):
        gx = (xp.sigmoid(x) - y) * (g / n)  # σ(x) computed without overflow, from e^(−|x|)
        gy = x * (-g / n) if need_y else None
        return gx, gy

    return Tensor.from_op(loss, (logits, y), backward, "binary_cross_entropy_with_logits",
                          Replay(binary_cross_entropy_with_logits, (logits, y)), reads="inputs")


__all__ = [
    "adaptive_avg_pool2d",
    "avg_pool2d",
    "binary_cross_entropy_with_logits",
    "conv2d",
    "cross_entropy",
    "dropout",
    "dropout2d",
    "fold",
    "linear",
    "linear_relu",
    "log_softmax",
    "max_pool2d",
    "max_unpool2d",
    "mse_loss",
    "pad",
    "relu",
    "sigmoid",
    "softmax",
    "tanh",
    "unfold",
]

# Normalisation and embeddings live in their own files beside their layers; their F.* names are here, as in PyTorch.
from .embedding import embedding, one_hot  # noqa: E402
from .normalization import batch_norm, layer_norm  # noqa: E402

__all__ += ["batch_norm", "embedding", "layer_norm", "one_hot"]
