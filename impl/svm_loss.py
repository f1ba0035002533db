"""The multiclass SVM (hinge) loss of CS231n's assignment 1: no book layer has it, so its spec needs one."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, as_float_array
from ._targets import parse_targets

__all__ = ["SVMLoss"]


class SVMLoss(Layer):
    """``sum over j != y of max(0, x_j - x_y + 1)``, averaged over the N rows of (N, C) scores.

    ``t`` is integer labels (N,). ``backward(dout=1)`` gives ``dout / N`` at each class whose margin
    is positive and minus their count at the label; a margin of exactly 0 passes no gradient (like
    torch's ``multi_margin_loss``). NaN propagates.
    """

    def __init__(self) -> None:
        super().__init__()
        self.loss: Any = None
        self.positive: np.ndarray | None = None  # margins > 0, x's shape
        self.t: np.ndarray | None = None

    def forward(self, x: Any, t: Any) -> Any:
        where = "SVMLoss.forward"
        x = as_float_array(x, where)
        if x.ndim != 2 or 0 in x.shape:
            raise LayerError(f"{where}: x has shape {x.shape}; expected (N, C) scores, N and C at least 1")
        t, is_labels = parse_targets(t, x, where)
        if not is_labels:
            raise LayerError(f"{where}: t has shape {t.shape}; expected integer labels of shape ({len(x)},)")
        rows = np.arange(len(x))
        with np.errstate(invalid="ignore"):  # inf - inf: NaN, propagated
            margins = x - x[rows, t][:, None] + 1
            margins[rows, t] = 0
            self.positive = margins > 0
            hinge = np.maximum(margins, 0)
        self.t = t
        self.loss = x.dtype.type(hinge.sum(dtype=np.result_type(x.dtype, np.float64)) / len(x))
        return self._remember_output(self.loss)

    def backward(self, dout: Any = 1) -> np.ndarray:
        d = self._check_dout(dout)
        assert self.positive is not None and self.t is not None  # set by forward
        n = len(self.positive)
        dx = self.positive.astype(self._out_dtype)
        dx[np.arange(n), self.t] -= dx.sum(axis=1)
        with np.errstate(invalid="ignore"):  # an infinite dout times 0: NaN, as in torch
            return dx * (d / n)
