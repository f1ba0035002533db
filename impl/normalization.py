"""Normalization over other axes than the batch: ``LayerNorm`` (the last axis), ``GroupNorm``
(groups of channels of NCHW) and ``SpatialBatchNorm`` (CS231n's name for batch norm per channel of
NCHW, i.e. :class:`BatchNormalization` held to 4-D input).

One normalization, written once: ``xn = (x - mean) / sqrt(var + eps)`` over some axes (biased
variance, as torch), then ``gamma * xn + beta``; backward in the compact form
``dx = (dxn - mean(dxn) - xn * mean(dxn * xn)) / std``, ``dgamma`` and ``dbeta`` summed over every
axis the parameters are broadcast along (the batch included).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, Param, as_float_array
from .batchnorm import BatchNormalization

__all__ = ["GroupNorm", "LayerNorm", "SpatialBatchNorm"]


class _Normalize(Layer):
    """Shared by LayerNorm and GroupNorm: subclasses say over which axes of which view of ``x``
    the statistics are taken (``_view``) and how gamma/beta broadcast (``_param_shape``)."""

    gamma = Param(0)
    beta = Param(1)
    dgamma = Param(0, grad=True)
    dbeta = Param(1, grad=True)

    def __init__(self, gamma: Any, beta: Any, eps: float = 1e-5) -> None:
        super().__init__(gamma, beta)
        name = type(self).__name__
        g, b = self.params
        if g.ndim != 1 or g.size == 0:
            raise LayerError(f"{name}.__init__: gamma has shape {g.shape}; expected (C,) with C >= 1")
        if b.shape != g.shape:
            raise LayerError(f"{name}.__init__: beta has shape {b.shape} but gamma has shape {g.shape}")
        if not eps >= 0.0:
            raise LayerError(f"{name}.__init__: eps must be >= 0, got {eps}")
        self.eps = float(eps)
        self.xn: np.ndarray | None = None
        self.std: np.ndarray | None = None

    def _view(self, x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
        raise NotImplementedError

    def _param_shape(self, x: np.ndarray) -> tuple[int, ...]:
        raise NotImplementedError

    def forward(self, x: Any) -> np.ndarray:
        x = as_float_array(x, f"{type(self).__name__}.forward")
        v, axes = self._view(x)
        g, b = self.params
        shape = self._param_shape(x)
        with np.errstate(invalid="ignore"):  # inf in x: inf - inf -> NaN, which propagates
            xc = v - v.mean(axis=axes, keepdims=True)
            self.std = np.sqrt((xc * xc).mean(axis=axes, keepdims=True) + self.eps)
            self.xn = (xc / self.std).reshape(x.shape)
            out = g.reshape(shape) * self.xn + b.reshape(shape)
        return self._remember_output(out)

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        assert self.xn is not None and self.std is not None  # set by forward
        g = self.params[0]
        shape = self._param_shape(d)
        summed = tuple(i for i, n in enumerate(shape) if n == 1)
        with np.errstate(invalid="ignore"):  # a NaN/inf forward or dout gives NaN, without a warning
            dgamma = (d * self.xn).sum(axis=summed)
            dbeta = d.sum(axis=summed)
            dxn, axes = self._view(d * g.reshape(shape))
            xn, _ = self._view(self.xn)
            dxn = dxn - dxn.mean(axis=axes, keepdims=True) - xn * (dxn * xn).mean(axis=axes, keepdims=True)
            self._store_grads(dgamma, dbeta)
            return (dxn / self.std).reshape(d.shape)


class LayerNorm(_Normalize):
    """``LayerNorm(gamma, beta, eps=1e-5)``: each vector along the last axis normalized on its own
    (``torch.nn.functional.layer_norm(x, (D,))``); gamma and beta have shape (D,), x any rank >= 1."""

    def _view(self, x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
        D = self.params[0].shape[0]
        if x.ndim < 1 or x.shape[-1] != D:
            raise LayerError(
                f"LayerNorm.forward: x has shape {x.shape} but gamma has shape {(D,)}; expected (..., {D})"
            )
        return x, (-1,)

    def _param_shape(self, x: np.ndarray) -> tuple[int, ...]:
        return (1,) * (x.ndim - 1) + (-1,)


class GroupNorm(_Normalize):
    """``GroupNorm(gamma, beta, G, eps=1e-5)``: x (N, C, H, W), its C channels split into G groups of
    C // G consecutive channels, each (sample, group) normalized over its channels and pixels
    (``torch.nn.functional.group_norm``); gamma and beta per channel, shape (C,)."""

    def __init__(self, gamma: Any, beta: Any, G: int = 1, eps: float = 1e-5) -> None:
        super().__init__(gamma, beta, eps)
        C = self.params[0].shape[0]
        if int(G) != G or G < 1 or C % G:
            raise LayerError(f"GroupNorm.__init__: G = {G} does not divide C = {C} channels (gamma {(C,)})")
        self.G = int(G)

    def _view(self, x: np.ndarray) -> tuple[np.ndarray, tuple[int, ...]]:
        C = self.params[0].shape[0]
        if x.ndim != 4 or x.shape[1] != C:
            raise LayerError(
                f"GroupNorm.forward: x has shape {x.shape} but gamma has shape {(C,)}; "
                f"expected (N, {C}, H, W)"
            )
        N, _, H, W = x.shape
        return x.reshape(N, self.G, C // self.G, H, W), (2, 3, 4)

    def _param_shape(self, x: np.ndarray) -> tuple[int, ...]:
        return (1, -1, 1, 1)


class SpatialBatchNorm(BatchNormalization):
    """CS231n's spatial batch normalization: :class:`BatchNormalization` (per channel of (N, C, H, W),
    over N, H and W) for 4-D input only, so that a flattened (N, D) batch is an error here."""

    def forward(self, x: Any, train_flg: bool = True) -> np.ndarray:
        x = as_float_array(x, "SpatialBatchNorm.forward")
        if x.ndim != 4:
            raise LayerError(f"SpatialBatchNorm.forward: x has shape {x.shape}; expected (N, C, H, W)")
        return super().forward(x, train_flg)
