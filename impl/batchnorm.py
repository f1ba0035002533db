"""Batch normalization with torch's conventions (statistics per axis-1 feature, eps, running stats).

Against the book (``common/layers.py``):

- (N, C, H, W) is normalized per channel over (N, H, W), as torch's ``BatchNorm2d``; the book
  flattens to (N, C*H*W) and normalizes each of the C*H*W features separately. Here ``gamma`` and
  ``beta`` have shape (C,). Any ``x.ndim >= 2`` works: statistics over every axis except 1.
- ``eps = 1e-5`` (torch's default; the book hard-codes 1e-7).
- Running mean/var start at 0/1 (torch; the book starts the variance at 0) and are updated as
  ``running = momentum * running + (1 - momentum) * batch_stat``: book ``momentum=0.9`` is torch's
  ``momentum=0.1``. The running variance takes the *unbiased* batch variance (``n / (n - 1)``,
  ``n`` values per channel), as torch does; the book uses the biased one. Normalization itself
  uses the biased variance (book and torch agree). Training with ``n == 1`` is an error, as in torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, Param, as_float_array

__all__ = ["BatchNormalization"]


class BatchNormalization(Layer):
    """``BatchNormalization(gamma, beta, momentum=0.9, running_mean=None, running_var=None, *, eps=1e-5,
    per_feature=False)``; ``per_feature=True`` is the book's convention (spec
    ``batch_norm_per_feature``): an input of more than 2 dimensions is flattened to (N, C*H*W) and
    each feature normalized on its own, so gamma, beta and the running statistics have C*H*W entries.

    ``forward(x, train_flg=True)``: batch statistics (and a running-stat update) when training,
    running statistics otherwise. Running stats are the layer's own copies, updated in place.
    """

    gamma = Param(0)
    beta = Param(1)
    dgamma = Param(0, grad=True)
    dbeta = Param(1, grad=True)

    def __init__(
        self,
        gamma: Any,
        beta: Any,
        momentum: float = 0.9,
        running_mean: Any = None,
        running_var: Any = None,
        *,
        eps: float = 1e-5,
        per_feature: bool = False,
    ) -> None:
        super().__init__(gamma, beta)
        where = "BatchNormalization.__init__"
        g, b = self.params
        if g.ndim != 1 or g.size == 0:
            raise LayerError(f"{where}: gamma has shape {g.shape}; expected (C,) with C >= 1")
        if b.shape != g.shape:
            raise LayerError(f"{where}: beta has shape {b.shape} but gamma has shape {g.shape}")
        if not 0.0 <= momentum <= 1.0:
            raise LayerError(f"{where}: momentum must be in [0, 1], got {momentum}")
        if not eps >= 0.0:
            raise LayerError(f"{where}: eps must be >= 0, got {eps}")
        self.momentum = float(momentum)
        self.eps = float(eps)
        self.per_feature = bool(per_feature)
        self.running_mean = self._stat(running_mean, 0.0, "running_mean")
        self.running_var = self._stat(running_var, 1.0, "running_var")
        self.train_flg: bool | None = None
        self.xn: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def _stat(self, value: Any, fill: float, name: str) -> np.ndarray:
        g = self.params[0]
        if value is None:
            return np.full(g.shape, fill, dtype=g.dtype)
        a = as_float_array(value, "BatchNormalization.__init__", name).copy()
        if a.shape != g.shape:
            raise LayerError(
                f"BatchNormalization.__init__: {name} has shape {a.shape} but gamma has shape {g.shape}"
            )
        return a

    def forward(self, x: Any, train_flg: bool = True) -> np.ndarray:
        x = as_float_array(x, "BatchNormalization.forward")
        g, b = self.params
        C = g.shape[0]
        if self.per_feature and x.ndim > 2:
            if int(np.prod(x.shape[1:])) != C:
                raise LayerError(
                    f"BatchNormalization.forward: x has shape {x.shape} but gamma has shape {g.shape}; "
                    f"per feature, expected (N, ...) with {C} features per row"
                )
            shape = x.shape
            out = self.forward(x.reshape(shape[0], C), train_flg)
            self._remember_output(out.reshape(shape))
            return out.reshape(shape)
        if x.ndim < 2 or x.shape[1] != C:
            raise LayerError(
                f"BatchNormalization.forward: x has shape {x.shape} but gamma has shape {g.shape}; "
                f"expected (N, {C}) or (N, {C}, ...): statistics are per axis-1 channel (torch), "
                "not per flattened C*H*W feature (book)"
            )
        axes = (0, *range(2, x.ndim))
        bshape = (1, C) + (1,) * (x.ndim - 2)
        with np.errstate(invalid="ignore"):  # inf in x: inf - inf -> NaN, which propagates
            if train_flg:
                n = x.size // C
                if n < 2:
                    raise LayerError(
                        f"BatchNormalization.forward: x has shape {x.shape}: training needs more than "
                        "1 value per channel (as torch)"
                    )
                mu = x.mean(axis=axes, keepdims=True)
                xc = x - mu
                var = (xc * xc).mean(axis=axes, keepdims=True)
                m = self.momentum
                self.running_mean[...] = m * self.running_mean + (1.0 - m) * mu.reshape(C)
                self.running_var[...] = m * self.running_var + (1.0 - m) * (var.reshape(C) * (n / (n - 1)))
            else:
                xc = x - self.running_mean.reshape(bshape)
                var = self.running_var.reshape(bshape)
            std = np.sqrt(var + self.eps)
            xn = xc / std
            self.train_flg, self.xn, self.std = bool(train_flg), xn, std
            out = g.reshape(bshape) * xn + b.reshape(bshape)
            return self._remember_output(out)

    def backward(self, dout: Any) -> np.ndarray:
        dout = self._check_dout(dout)
        assert self.xn is not None and self.std is not None
        # per feature, the inner forward normalized x as (N, C*H*W): dout takes that shape (a -1
        # could not size an empty batch); otherwise xn has dout's shape already
        return self._backward(dout.reshape(self.xn.shape)).reshape(dout.shape)

    def _backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.xn is not None and self.std is not None
        g = self.params[0]
        xn, std = self.xn, self.std
        axes = (0, *range(2, dout.ndim))
        with np.errstate(invalid="ignore"):  # a NaN/inf forward or dout gives NaN, without a warning
            dbeta = dout.sum(axis=axes)
            dgamma = (dout * xn).sum(axis=axes)
            dxn = dout * g.reshape(std.shape)
            if self.train_flg:
                # gradient through the batch mean and variance, in the compact form
                dxn_xn = (dxn * xn).mean(axis=axes, keepdims=True)
                dxn = dxn - dxn.mean(axis=axes, keepdims=True) - xn * dxn_xn
            self._store_grads(dgamma, dbeta)
            return dxn / std
