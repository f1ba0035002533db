"""Book 2's ``TimeAffine``: one affine map ``x @ W + b`` applied at every time step of ``x``
(N, T, D), which CS231n's ``temporal_affine_forward`` computes too."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, Param, as_float_array

__all__ = ["TimeAffine"]


class TimeAffine(Layer):
    """``out[n, t] = x[n, t] @ W + b`` for ``x`` (N, T, D), ``W`` (D, M), ``b`` (M,); ``dW`` and ``db``
    sum over the batch and the time steps (written into ``grads`` in place)."""

    W = Param(0)
    b = Param(1)
    dW = Param(0, grad=True)
    db = Param(1, grad=True)

    def __init__(self, W: Any, b: Any) -> None:
        super().__init__(W, b)
        W, b = self.params
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise LayerError(
                f"TimeAffine: W has shape {W.shape} and b has shape {b.shape}; expected W (D, M) and b (M,)"
            )
        self.x: np.ndarray | None = None

    def forward(self, x: Any) -> np.ndarray:
        x = as_float_array(x, "TimeAffine.forward")
        W, b = self.params
        if x.ndim != 3 or x.shape[2] != W.shape[0]:
            raise LayerError(
                f"TimeAffine.forward: x has shape {x.shape}; expected (N, T, {W.shape[0]}) "
                f"for W of shape {W.shape}"
            )
        self.x = x
        with np.errstate(invalid="ignore"):  # inf * 0 or inf - inf in the sums -> NaN: inf propagates
            return self._remember_output(x @ W + b)

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        assert self.x is not None  # set by forward
        x2d, d2d = self.x.reshape(-1, self.x.shape[2]), d.reshape(-1, d.shape[2])
        with np.errstate(invalid="ignore"):  # a non-finite dout or W gives NaN, without a warning
            self._store_grads(x2d.T @ d2d, d2d.sum(axis=0))
            return d @ self.params[0].T
