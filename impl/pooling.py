"""Max pooling with torch's rules for padding, ties and NaN, so gradients match it element for element.

- Padding is ``-inf`` (a padded cell never wins); ``pad <= pool // 2`` as torch requires, which
  guarantees every window holds at least one real cell.
- Ties are a kink of max; the gradient goes to the *first* maximal cell of the window in row-major
  order (torch's CPU kernel keeps the running max and replaces it only on ``>``). A window whose
  real cells are all ``-inf`` routes it to its first real cell.
- A window holding NaN outputs NaN and routes the gradient to its *last* NaN (torch replaces the
  running max on ``> or isnan``).
- Overlapping windows (stride < pool) accumulate their gradients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, as_float_array
from .im2col import col2im, conv_output_size, im2col, window_int

__all__ = ["Pooling"]


class Pooling(Layer):
    """``Pooling(pool_h, pool_w, stride=1, pad=0)``: max over windows of (N, C, H, W), per channel.

    The default stride is the book's (1), not torch's (the window size).
    """

    def __init__(self, pool_h: int, pool_w: int, stride: int = 1, pad: int = 0) -> None:
        super().__init__()
        where = "Pooling.__init__"
        self.pool_h = window_int(pool_h, where, "pool_h", 1)
        self.pool_w = window_int(pool_w, where, "pool_w", 1)
        self.stride = window_int(stride, where, "stride", 1)
        self.pad = window_int(pad, where, "pad", 0)
        if self.pad > min(self.pool_h, self.pool_w) // 2:
            raise LayerError(
                f"{where}: pad={self.pad} exceeds half the ({self.pool_h}, {self.pool_w}) window; "
                "like torch's max_pool2d, pad must be <= min(pool_h, pool_w) // 2"
            )
        self.x_shape: tuple[int, ...] | None = None
        self.arg_max: np.ndarray | None = None

    def _output_hw(self, x: np.ndarray) -> tuple[int, int]:
        if x.ndim != 4:
            raise LayerError(f"Pooling.forward: x has shape {x.shape}; expected 4-D (N, C, H, W)")
        out_h = conv_output_size(x.shape[2], self.pool_h, self.stride, self.pad)
        out_w = conv_output_size(x.shape[3], self.pool_w, self.stride, self.pad)
        if out_h < 1 or out_w < 1:
            raise LayerError(
                f"Pooling.forward: x has shape {x.shape}; padded by {self.pad} it is smaller than "
                f"the ({self.pool_h}, {self.pool_w}) window"
            )
        return out_h, out_w

    def forward(self, x: Any) -> np.ndarray:
        x = as_float_array(x, "Pooling.forward")
        out_h, out_w = self._output_hw(x)
        N, C, H, W = x.shape
        ph, pw, s, p = self.pool_h, self.pool_w, self.stride, self.pad
        K = ph * pw
        # (N, OH*OW, C, K): one row of window cells per (image, output pixel, channel)
        col = im2col(x, ph, pw, s, p, pad_value=-np.inf).reshape(N, out_h * out_w, C, K)
        idx = np.argmax(col, axis=3)
        if p:
            # all real cells -inf: the tie with the padding goes to the first real cell
            real = im2col(np.ones((1, 1, H, W), dtype=bool), ph, pw, s, p).reshape(out_h * out_w, K)
            first_real = np.argmax(real, axis=1)[None, :, None]
            top = np.take_along_axis(col, idx[..., None], axis=3)[..., 0]
            idx = np.where(top == -np.inf, first_real, idx)
        isnan = np.isnan(col)
        if isnan.any():
            last_nan = K - 1 - np.argmax(isnan[..., ::-1], axis=3)
            idx = np.where(isnan.any(axis=3), last_nan, idx)
        out = np.take_along_axis(col, idx[..., None], axis=3)[..., 0]
        self.x_shape, self.arg_max = x.shape, idx
        out = np.ascontiguousarray(out.reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2))
        return self._remember_output(out)

    def backward(self, dout: Any) -> np.ndarray:
        dout = self._check_dout(dout)
        assert self.x_shape is not None and self.arg_max is not None
        N, C, OH, OW = dout.shape
        K = self.pool_h * self.pool_w
        d = dout.transpose(0, 2, 3, 1).reshape(N, OH * OW, C, 1)
        dcol = np.zeros((N, OH * OW, C, K), dtype=d.dtype)
        np.put_along_axis(dcol, self.arg_max[..., None], d, axis=3)
        with np.errstate(invalid="ignore"):  # overlapping windows may add inf and -inf: NaN
            dcol2 = dcol.reshape(N * OH * OW, C * K)
            return col2im(dcol2, self.x_shape, self.pool_h, self.pool_w, self.stride, self.pad)
