"""CS231n's temporal softmax loss: cross-entropy at every time step of a caption, masked (the
``<NULL>`` padding after a caption's end costs nothing), summed over time and divided by N."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, as_float_array
from ._targets import parse_targets
from .functions import softmax_parts

__all__ = ["TemporalSoftmaxLoss"]


class TemporalSoftmaxLoss(Layer):
    """``loss = -sum(mask * log softmax(x)[y]) / N`` for scores ``x`` (N, T, V), labels ``y`` (N, T)
    and ``mask`` (N, T) (booleans or 0/1); ``backward(dout=1)`` returns
    ``dout * mask * (softmax(x) - onehot(y)) / N``."""

    def __init__(self) -> None:
        super().__init__()
        self.dx: np.ndarray | None = None

    def forward(self, x: Any, t: Any, mask: Any) -> Any:
        where = "TemporalSoftmaxLoss.forward"
        x = as_float_array(x, where)
        mask = np.asarray(mask)
        if x.ndim != 3 or mask.shape != x.shape[:2]:
            raise LayerError(
                f"{where}: x has shape {x.shape} and mask {mask.shape}; expected x (N, T, V) and mask (N, T)"
            )
        labels, is_labels = parse_targets(t, x, where)
        if not is_labels:
            raise LayerError(f"{where}: y has shape {np.shape(t)}; expected integer labels (N, T)")
        N, T, V = x.shape
        x2, y, m = x.reshape(N * T, V), labels.reshape(N * T), mask.reshape(N * T).astype(x.dtype)
        s, e, total = softmax_parts(x2, where)
        rows = np.arange(N * T)
        picked = s[rows, y] - np.log(total[:, 0])
        loss = -(m * picked).sum(dtype=np.result_type(x.dtype, np.float64)) / N
        dx = e / total
        dx[rows, y] -= 1
        dx *= m[:, None] / N
        self.dx = dx.reshape(x.shape)
        return self._remember_output(x.dtype.type(loss))

    def backward(self, dout: Any = 1) -> np.ndarray:
        d = self._check_dout(dout)  # forward first; a scalar, promoted as NumPy promotes
        assert self.dx is not None  # set by forward
        return d * self.dx
