"""Softmax as a layer, and softmax fused with the cross-entropy loss (the book's ``SoftmaxWithLoss``)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, as_float_array
from ._targets import parse_targets
from .functions import softmax_array, softmax_parts

__all__ = ["Softmax", "SoftmaxWithLoss"]


class Softmax(Layer):
    """Softmax over the last axis; backward is ``out * (dout - sum(dout * out))`` row by row.

    Finite and warning-free for any finite logits; NaN propagates, ``+inf`` gives a NaN row.
    """

    def __init__(self) -> None:
        super().__init__()
        self.out: np.ndarray | None = None

    def forward(self, x: Any) -> np.ndarray:
        self.out = softmax_array(as_float_array(x, "Softmax.forward"), "Softmax.forward")
        return self._remember_output(self.out)

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        y = self.out
        assert y is not None  # set by forward
        # under: products with probabilities ~1e-300 may round to 0; invalid: inf dout * 0 -> NaN
        with np.errstate(under="ignore", invalid="ignore"):
            return y * (d - np.sum(d * y, axis=-1, keepdims=True))


class SoftmaxWithLoss(Layer):
    """Mean cross-entropy of ``softmax(x)`` against targets ``t``.

    ``x`` is (N, C) logits, or (C,) for one example. ``t`` is integer labels (N,) (a scalar for
    one example) or dense targets of ``x``'s shape: one-hot or probability rows, which need not sum
    to 1. The loss is exact, from log-softmax: a confident mistake with a logit gap of 1000 costs
    1000 (the book's ``log(y + 1e-7)`` caps it at 16.1). ``backward(dout=1)`` returns
    ``dout * (y * sum(t) - t) / N`` (``y - t`` for one-hot rows), in ``x``'s shape.
    A target of 0 contributes 0 even where log-softmax is ``-inf``; NaN propagates.
    """

    def __init__(self) -> None:
        super().__init__()
        self.loss: Any = None
        self.y: np.ndarray | None = None  # softmax(x), x's shape
        self.t: np.ndarray | None = None  # labels, or dense rows (integer one-hot turned into x's dtype)
        self._is_labels = False

    def forward(self, x: Any, t: Any) -> Any:
        where = "SoftmaxWithLoss.forward"
        x = as_float_array(x, where)
        if x.ndim not in (1, 2):
            raise LayerError(
                f"{where}: x has shape {x.shape}; expected (N, C) logits, or (C,) for one example"
            )
        n = x.shape[0] if x.ndim == 2 else 1
        if n == 0 or x.shape[-1] == 0:
            raise LayerError(f"{where}: x has shape {x.shape}; need at least one example and one class")
        t, is_labels = parse_targets(t, x, where)
        x2 = x.reshape(n, x.shape[-1])
        s, e, total = softmax_parts(x2, where)
        log_total = np.log(total)
        y = e
        with np.errstate(under="ignore"):  # a subnormal exp divided by the row total may round to 0
            y /= total
        if is_labels:
            rows = np.arange(n)
            labels = t.reshape(n)
            dtype = x.dtype
            picked = s[rows, labels] - log_total[:, 0]  # log-softmax at the labels only
            # summed in float64: float32 losses near the float32 max must not overflow the sum
            loss_sum = picked.sum(dtype=np.result_type(dtype, np.float64))
        else:
            t2 = t.reshape(x2.shape)
            dtype = np.result_type(x2, t2)
            logp = s
            logp -= log_total
            # 0 * (-inf) would be NaN; a class with target 0 contributes nothing to the loss.
            terms = np.multiply(t2, logp, out=np.zeros(x2.shape, dtype), where=t2 != 0)
            loss_sum = terms.sum(dtype=np.result_type(dtype, np.float64))
        self.y = y.reshape(x.shape)
        self.t = t
        self._is_labels = is_labels
        self.loss = dtype.type(-loss_sum / n)
        return self._remember_output(self.loss)

    def backward(self, dout: Any = 1) -> np.ndarray:
        d = self._check_dout(dout)
        assert self.y is not None and self.t is not None  # set by forward
        y2 = self.y.reshape(-1, self.y.shape[-1])  # forward made sure there is at least one class
        n = y2.shape[0]
        scale = d / n
        # under: tiny probabilities times dout / N may round to 0; invalid: an inf dout times 0 -> NaN
        with np.errstate(under="ignore", invalid="ignore"):
            if self._is_labels:
                dx = y2.copy()
                dx[np.arange(n), self.t.reshape(n)] -= 1
            else:
                t2 = self.t.reshape(y2.shape)
                dx = y2 * t2.sum(axis=-1, keepdims=True)
                dx -= t2
            if dx.dtype == np.result_type(dx, scale):
                dx *= scale
            else:
                dx = dx * scale
        return dx.reshape(self.y.shape)
