"""Convolution (cross-correlation, like every framework) as unfold followed by a batched matrix product."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, Param, as_float_array
from .im2col import conv_output_size, fold, unfold, window_int

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
        self.cols: np.ndarray | None = None  # the unfolded input, (N, C*FH*FW, OH*OW)

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
        cols = unfold(x, FH, FW, self.stride, self.pad)
        w2d = w.reshape(FN, C * FH * FW)
        with np.errstate(invalid="ignore"):  # inf * 0 or inf - inf in the sums -> NaN: inf propagates
            out = w2d @ cols  # (N, FN, OH*OW): already in NCHW order
            if out.dtype == np.result_type(out, bias):
                out += bias[:, None]  # in place: a temporary as big as the output costs a lot
            else:
                out = out + bias[:, None]
        self.x_shape, self.cols = x.shape, cols
        return self._remember_output(out.reshape(N, FN, out_h, out_w))

    def backward(self, dout: Any) -> np.ndarray:
        dout = self._check_dout(dout)
        assert self.x_shape is not None and self.cols is not None
        FN, C, FH, FW = self.W.shape
        d = dout.reshape(self.cols.shape[0], FN, self.cols.shape[2])  # (N, FN, OH*OW), as the forward
        w2d = self.W.reshape(FN, C * FH * FW)
        with np.errstate(invalid="ignore"):  # inf in x or dout -> NaN gradients, without a warning
            # db sums along contiguous axes, which NumPy sums pairwise: the rounding of the N*OH*OW
            # terms (57,600 for the book's CNN on a batch of 100) grows like log(n), not n
            db = np.ascontiguousarray(d.sum(axis=2).T).sum(axis=1)
            dW = (d @ self.cols.transpose(0, 2, 1)).sum(axis=0).reshape(self.W.shape)
            dcols = w2d.T @ d
            self._store_grads(dW, db)
            return fold(dcols, self.x_shape, FH, FW, self.stride, self.pad)
