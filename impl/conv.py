"""Convolution (cross-correlation, like every framework) as im2col followed by one matrix product."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, Param, as_float_array
from .im2col import col2im, conv_output_size, im2col, window_int

__all__ = ["Convolution"]


class Convolution(Layer):
    """``Convolution(W, b, stride=1, pad=0)`` on (N, C, H, W); W is (FN, C, FH, FW), b is (FN,).

    The output is (N, FN, OH, OW) with ``OH = (H + 2*pad - FH) // stride + 1`` (torch's floor rule;
    the book requires the division to be exact). Zero padding, the same ``stride``/``pad`` on both
    axes; kernels may be non-square.
    """

    W = Param(0)
    b = Param(1)
    dW = Param(0, grad=True)
    db = Param(1, grad=True)

    def __init__(self, W: Any, b: Any, stride: int = 1, pad: int = 0) -> None:
        super().__init__(W, b)
        w, bias = self.params
        if w.ndim != 4 or 0 in w.shape:
            raise LayerError(
                f"Convolution.__init__: W has shape {w.shape}; expected non-empty (FN, C, FH, FW)"
            )
        if bias.shape != (w.shape[0],):
            raise LayerError(
                f"Convolution.__init__: b has shape {bias.shape} but W has shape {w.shape}; "
                f"expected b of shape ({w.shape[0]},)"
            )
        self.stride = window_int(stride, "Convolution.__init__", "stride", 1)
        self.pad = window_int(pad, "Convolution.__init__", "pad", 0)
        self.x_shape: tuple[int, ...] | None = None
        self.col: np.ndarray | None = None
        self.col_W: np.ndarray | None = None

    def forward(self, x: Any) -> np.ndarray:
        x = as_float_array(x, "Convolution.forward")
        w, bias = self.params
        FN, C, FH, FW = w.shape
        if x.ndim != 4:
            raise LayerError(f"Convolution.forward: x has shape {x.shape}; expected 4-D (N, C, H, W)")
        N, xc, H, Wd = x.shape
        if xc != C:
            raise LayerError(
                f"Convolution.forward: x has shape {x.shape} with {xc} channels but W has shape "
                f"{w.shape} with {C} channels"
            )
        out_h = conv_output_size(H, FH, self.stride, self.pad)
        out_w = conv_output_size(Wd, FW, self.stride, self.pad)
        if out_h < 1 or out_w < 1:
            raise LayerError(
                f"Convolution.forward: x has shape {x.shape}; padded by {self.pad} it is "
                f"({H + 2 * self.pad}, {Wd + 2 * self.pad}), smaller than the ({FH}, {FW}) kernel "
                f"of W with shape {w.shape}"
            )
        col = im2col(x, FH, FW, self.stride, self.pad)
        col_W = w.reshape(FN, C * FH * FW).T
        with np.errstate(invalid="ignore"):  # inf * 0 or inf - inf in the sums -> NaN: inf propagates
            out = col @ col_W + bias
        self.x_shape, self.col, self.col_W = x.shape, col, col_W
        out = np.ascontiguousarray(out.reshape(N, out_h, out_w, FN).transpose(0, 3, 1, 2))
        return self._remember_output(out)

    def backward(self, dout: Any) -> np.ndarray:
        dout = self._check_dout(dout)
        assert self.x_shape is not None and self.col is not None and self.col_W is not None
        FN, _, FH, FW = self.W.shape
        d = dout.transpose(0, 2, 3, 1).reshape(-1, FN)
        with np.errstate(invalid="ignore"):  # inf in x or dout -> NaN gradients, without a warning
            # summed along a contiguous axis, which NumPy sums pairwise: the rounding of the
            # N*OH*OW terms (57,600 for the book's CNN on a batch of 100) grows like log(n), not n
            db = np.ascontiguousarray(d.T).sum(axis=1)
            dW = (d.T @ self.col).reshape(self.W.shape)
            dcol = d @ self.col_W.T
            self._store_grads(dW, db)
            return col2im(dcol, self.x_shape, FH, FW, self.stride, self.pad)
