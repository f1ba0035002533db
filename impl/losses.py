"""Losses as separate layers (book 2): ``CrossEntropyError`` on probabilities, so that
``Softmax`` then ``CrossEntropyError`` is the unfused route to ``SoftmaxWithLoss``, and
``SigmoidWithLoss``, the binary loss of book 2's negative sampling (chapter 4)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, as_float_array
from ._targets import parse_targets
from .functions import cross_entropy_error, sigmoid_array

__all__ = ["CrossEntropyError", "SigmoidWithLoss"]


class CrossEntropyError(Layer):
    """``-sum(t * log(y)) / N`` of probabilities ``y`` (N, C) (or (C,)) against integer labels or
    dense targets, as :func:`cross_entropy_error`; ``backward(dout=1)`` is ``-dout * t / y / N``
    (a target of 0 contributes 0, also where ``y`` is 0).

    Chained after ``Softmax`` it gives ``SoftmaxWithLoss``'s gradient ``(y·Σt - t) / N`` through the
    full softmax Jacobian, as long as ``softmax(x)`` does not round to 0 at a target class (logits
    more than ~745 apart in float64, ~104 in float32): the reason the book fuses the two.
    """

    def __init__(self) -> None:
        super().__init__()
        self.loss: Any = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None
        self._is_labels = False

    def forward(self, y: Any, t: Any) -> Any:
        where = "CrossEntropyError.forward"
        y = as_float_array(y, where, "y")
        if y.ndim not in (1, 2):
            raise LayerError(f"{where}: y has shape {y.shape}; expected (N, C) probabilities, or (C,)")
        if y.shape[0] == 0 or y.shape[-1] == 0:
            raise LayerError(f"{where}: y has shape {y.shape}; need at least one example and one class")
        self.t, self._is_labels = parse_targets(t, y, where)
        self.y = y
        self.loss = cross_entropy_error(y, self.t)
        return self._remember_output(self.loss)

    def backward(self, dout: Any = 1) -> np.ndarray:
        d = self._check_dout(dout)
        y, t = self.y, self.t
        assert y is not None and t is not None  # set by forward
        y2 = y.reshape(-1, y.shape[-1])
        n = y2.shape[0]
        scale = -d / n
        # divide: -t / 0 = -inf is the exact limit; over/under: a huge or tiny ratio; invalid: NaN
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            if self._is_labels:
                dy = np.zeros(y2.shape, np.result_type(y2, scale))
                rows, labels = np.arange(n), t.reshape(n)
                dy[rows, labels] = scale / y2[rows, labels]
            else:
                t2 = t.reshape(y2.shape)
                dtype = np.result_type(y2, t2, scale)
                ratio = np.divide(t2, y2, out=np.zeros(y2.shape, dtype), where=t2 != 0)
                dy = ratio * scale
        return dy.reshape(y.shape)


class SigmoidWithLoss(Layer):
    """Binary cross-entropy of ``sigmoid(x)`` against targets ``t`` in [0, 1] (0/1 labels), summed
    and divided by the batch size ``N = x.shape[0]`` (the book's mean for 1-D scores).

    The loss is ``softplus(x) - t·x`` (``np.logaddexp``), exact at any logit: the book's
    ``log(y + 1e-7)`` caps a confident mistake at 16.1. ``backward(dout=1)`` is
    ``dout * (sigmoid(x) - t) / N``.
    """

    def __init__(self) -> None:
        super().__init__()
        self.loss: Any = None
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, x: Any, t: Any) -> Any:
        where = "SigmoidWithLoss.forward"
        x = as_float_array(x, where)
        if x.ndim == 0 or x.shape[0] == 0:
            raise LayerError(f"{where}: x has shape {x.shape}; expected scores with a batch axis (N, ...)")
        t = np.asarray(t)
        if t.dtype.kind not in "iubf":
            raise TypeError(f"{where}: t has dtype {t.dtype}; expected 0/1 labels or float targets")
        if t.shape != x.shape:
            raise LayerError(
                f"{where}: t has shape {t.shape} but x has shape {x.shape}; expected one target per score"
            )
        if t.dtype.kind != "f":
            t = t.astype(x.dtype)  # 0/1 labels are exact in x's dtype: they must not upcast float32
        dtype = np.result_type(x, t)
        with np.errstate(under="ignore", invalid="ignore"):  # exp(-|x|) -> 0; inf - inf -> NaN
            terms = np.logaddexp(np.zeros((), x.dtype), x) - t * x
        self.y = sigmoid_array(x)
        self.t = t
        self.loss = dtype.type(terms.sum(dtype=np.result_type(dtype, np.float64)) / x.shape[0])
        return self._remember_output(self.loss)

    def backward(self, dout: Any = 1) -> np.ndarray:
        d = self._check_dout(dout)
        assert self.y is not None and self.t is not None  # set by forward
        with np.errstate(under="ignore", invalid="ignore"):
            return (self.y - self.t) * (d / self.y.shape[0])
