"""im2col / col2im: unfold sliding windows into matrix rows, so convolution is one matrix product.

The layout is the book's: one row per output pixel ``(n, oy, ox)``, one column per window cell
``(c, fy, fx)``. Both functions loop over the ``FH * FW`` kernel offsets only (never over images
or output pixels): for a fixed offset the windows' cells form one strided slice of the image.

Output size follows ``torch.nn.functional.conv2d``: ``(H + 2*pad - FH) // stride + 1`` (floor). The
book asserts the division is exact; flooring instead means trailing rows/columns that no window
reaches are ignored (and get zero gradient), exactly as in torch.
"""

from __future__ import annotations

import operator
from typing import Any

import numpy as np

from ._base import LayerError

__all__ = ["col2im", "conv_output_size", "im2col", "window_int"]


def window_int(value: Any, where: str, name: str, minimum: int) -> int:
    """A window size, stride or padding: a real integer (not bool, not float) ``>= minimum``."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{where}: {name} must be an integer, got {value!r}")
    try:
        n = operator.index(value)
    except TypeError:
        raise TypeError(f"{where}: {name} must be an integer, got {value!r}") from None
    if n < minimum:
        raise LayerError(f"{where}: {name} must be >= {minimum}, got {n}")
    return n


def conv_output_size(size: int, filter_size: int, stride: int = 1, pad: int = 0) -> int:
    """Number of window positions along one axis (torch's floor rule); < 1 means no window fits."""
    return (size + 2 * pad - filter_size) // stride + 1


def _output_hw(
    shape: tuple[int, ...], filter_h: int, filter_w: int, stride: int, pad: int
) -> tuple[int, int]:
    _, _, H, W = shape
    out_h = conv_output_size(H, filter_h, stride, pad)
    out_w = conv_output_size(W, filter_w, stride, pad)
    if out_h < 1 or out_w < 1:
        raise ValueError(
            f"im2col: input of shape {tuple(shape)} padded by {pad} is smaller than the "
            f"({filter_h}, {filter_w}) window"
        )
    return out_h, out_w


def im2col(
    input_data: np.ndarray,
    filter_h: int,
    filter_w: int,
    stride: int = 1,
    pad: int = 0,
    *,
    pad_value: float = 0.0,
) -> np.ndarray:
    """(N, C, H, W) -> (N*OH*OW, C*FH*FW), a new array in the input's dtype.

    ``pad_value`` fills the border (0 for convolution, ``-inf`` for max pooling).
    """
    x = np.asarray(input_data)
    N, C, _, _ = x.shape
    out_h, out_w = _output_hw(x.shape, filter_h, filter_w, stride, pad)
    img = x
    if pad:
        img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="constant", constant_values=pad_value)
    col = np.empty((N, C, filter_h, filter_w, out_h, out_w), dtype=img.dtype)
    for y in range(filter_h):
        y_end = y + stride * (out_h - 1) + 1
        for x_ in range(filter_w):
            x_end = x_ + stride * (out_w - 1) + 1
            col[:, :, y, x_, :, :] = img[:, :, y:y_end:stride, x_:x_end:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * out_h * out_w, C * filter_h * filter_w)


def col2im(
    col: np.ndarray,
    input_shape: tuple[int, ...],
    filter_h: int,
    filter_w: int,
    stride: int = 1,
    pad: int = 0,
) -> np.ndarray:
    """The adjoint of :func:`im2col`: scatter-add each window cell back to its pixel.

    Overlapping windows accumulate: for one kernel offset the target slice has distinct pixels,
    so ``+=`` on it is exact; different offsets hit the same pixel in different loop iterations.
    Padding cells are dropped.
    """
    N, C, H, W = input_shape
    out_h, out_w = _output_hw(tuple(input_shape), filter_h, filter_w, stride, pad)
    c = np.asarray(col).reshape(N, out_h, out_w, C, filter_h, filter_w).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=c.dtype)
    for y in range(filter_h):
        y_end = y + stride * (out_h - 1) + 1
        for x_ in range(filter_w):
            x_end = x_ + stride * (out_w - 1) + 1
            img[:, :, y:y_end:stride, x_:x_end:stride] += c[:, :, y, x_, :, :]
    if pad:
        return img[:, :, pad : H + pad, pad : W + pad].copy()
    return img
