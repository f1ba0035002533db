"""The book's stateless functions (``common/functions.py``, ``common/gradient.py``), done exactly.

No ``+ 1e-7`` fudge and no overflow: each function is written so that the floating-point result is
the correctly rounded limit (``sigmoid(-50)`` keeps full relative precision, ``softmax`` of logits
``±1e4`` is finite and warning-free). Underflow to 0 *is* the right answer in those places, so it is
silenced locally with ``np.errstate`` and never globally. NaN and inf are not errors: they
propagate like any other value.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from ._base import LayerError, as_float_array
from ._targets import parse_targets

__all__ = ["cross_entropy_error", "log_softmax", "numerical_gradient", "relu", "sigmoid", "softmax"]


def sigmoid_array(x: np.ndarray) -> np.ndarray:
    """σ(x) on a float array without overflow and with full relative precision in both tails.

    ``z = exp(-|x|)`` never overflows; ``1/(1+z)`` for x >= 0 and ``z/(1+z)`` for x < 0 avoid the
    cancellation of ``1 - σ(-x)``, so σ(-50) = 1.93e-22 rather than 0.
    """
    with np.errstate(under="ignore"):  # exp(-|x|) -> 0 for |x| > ~745 is the right answer
        z = np.exp(-np.abs(x))
    numerator = np.where(x >= 0, np.ones((), z.dtype), z)
    return numerator / (1 + z)


def relu_array(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(max(x, 0), mask)`` with the book's ``mask = x <= 0``; NaN stays NaN (its mask is False)."""
    mask = x <= 0
    return np.where(mask, np.zeros((), x.dtype), x), mask


def softmax_parts(x: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(s, e, total)``: shifted logits ``s = x - max``, ``e = exp(s)`` and ``total = sum(e)``.

    One exp per element gives softmax (``e / total``) and log-softmax (``s - log(total)``), so a
    loss needing both never computes the exponentials twice. Every row has an element with
    ``s == 0``, hence ``total >= 1``: no overflow and no log(0). Logits ``+inf`` give NaN rows
    (``inf - inf``), as in PyTorch and JAX.
    """
    if x.ndim == 0:
        raise LayerError(f"{where}: x has shape () (a scalar); softmax needs an axis of classes")
    if x.shape[-1] == 0:  # no classes: empty rows (fresh arrays, callers may write into them)
        return np.empty_like(x), np.empty_like(x), np.zeros((*x.shape[:-1], 1), x.dtype)
    # over/under: x - max -> -inf and exp(-huge) -> 0 are the right limits; invalid: inf - inf -> NaN
    # is how inf propagates here (documented, not an error).
    with np.errstate(under="ignore", over="ignore", invalid="ignore"):
        s = x - x.max(axis=-1, keepdims=True)
        e = np.exp(s)
    return s, e, e.sum(axis=-1, keepdims=True)


def softmax_array(x: np.ndarray, where: str) -> np.ndarray:
    _, e, total = softmax_parts(x, where)
    with np.errstate(under="ignore"):  # a subnormal exp divided by the row total may round to 0
        e /= total
    return e


def log_softmax_array(x: np.ndarray, where: str) -> np.ndarray:
    s, _, total = softmax_parts(x, where)
    if s.size:  # an empty row (no classes) has total 0: nothing to normalise, and no log(0)
        s -= np.log(total)
    return s


def sigmoid(x: Any) -> Any:
    """Logistic function, elementwise; exact in both tails and warning-free for any input."""
    return sigmoid_array(as_float_array(x, "sigmoid"))


def relu(x: Any) -> np.ndarray:
    """max(x, 0) elementwise; NaN propagates (``np.maximum`` semantics, not ``x * (x > 0)``)."""
    return relu_array(as_float_array(x, "relu"))[0]


def softmax(x: Any) -> np.ndarray:
    """Softmax over the last axis, max-subtracted: finite and warning-free for any finite logits."""
    return softmax_array(as_float_array(x, "softmax"), "softmax")


def log_softmax(x: Any) -> np.ndarray:
    """``log(softmax(x))`` over the last axis without ever taking log of an underflowed 0."""
    return log_softmax_array(as_float_array(x, "log_softmax"), "log_softmax")


def cross_entropy_error(y: Any, t: Any) -> Any:
    """Mean cross-entropy of probabilities ``y`` (N, C) or (C,) against labels or dense targets.

    Exactly ``-sum(t * log(y)) / N``: a ``0 * log(0)`` term contributes 0 and ``y == 0`` where the
    target is positive gives ``inf`` (the book adds 1e-7 instead, capping every loss at 16.1).
    """
    where = "cross_entropy_error"
    y = as_float_array(y, where, "y")
    if y.ndim not in (1, 2):
        raise LayerError(f"{where}: y has shape {y.shape}; expected (N, C) or (C,) probabilities")
    n = y.shape[0] if y.ndim == 2 else 1
    if n == 0 or y.shape[-1] == 0:
        raise LayerError(f"{where}: y has shape {y.shape}; need at least one example and one class")
    t, is_labels = parse_targets(t, y, where)
    y2 = y.reshape(n, y.shape[-1])
    with np.errstate(divide="ignore"):  # log(0) = -inf is the exact answer
        if is_labels:
            total = np.log(y2[np.arange(n), t.reshape(n)]).sum()
            dtype = y.dtype
        else:
            t2 = t.reshape(y2.shape)
            dtype = np.result_type(y2, t2)
            logy = np.log(y2)
            terms = np.multiply(t2, logy, out=np.zeros(y2.shape, dtype), where=t2 != 0)
            total = terms.sum()
    return dtype.type(-total / n)


def numerical_gradient(f: Callable[[np.ndarray], Any], x: np.ndarray) -> np.ndarray:
    """Central differences of the scalar ``f`` at ``x``, element by element (step ``h = 1e-4``).

    ``x`` is perturbed *in place* because ``f`` usually ignores its argument and reads the same
    array through a layer (``lambda W: net.loss(x, t)``). Every element is restored bit-for-bit,
    also when ``f`` raises. The difference is divided by the step actually taken
    (``(x+h) - (x-h)`` after rounding to ``x.dtype``), which matters in float32.
    """
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise TypeError(
            "numerical_gradient: x must be a float ndarray (it is perturbed in place); "
            f"got {type(x).__name__}" + (f" of dtype {x.dtype}" if isinstance(x, np.ndarray) else "")
        )
    if not x.flags.writeable:
        raise ValueError(f"numerical_gradient: x of shape {x.shape} is read-only; it is perturbed in place")
    h = 1e-4
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        idx = it.multi_index
        original = x[idx]  # a NumPy scalar: an immutable copy of the element
        try:
            x[idx] = float(original) + h
            plus = x[idx]
            f_plus = f(x)
            x[idx] = float(original) - h
            minus = x[idx]
            f_minus = f(x)
        finally:
            x[idx] = original
        if np.ndim(f_plus) != 0 or np.ndim(f_minus) != 0:
            raise TypeError(f"numerical_gradient: f must return a scalar; got shape {np.shape(f_plus)}")
        step = float(plus) - float(minus)  # 0 when h is below the spacing of floats at x: no estimate
        grad[idx] = (float(f_plus) - float(f_minus)) / step if step else np.nan
    return grad
