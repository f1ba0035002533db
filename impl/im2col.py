"""Unfold sliding windows into a matrix, so convolution is a matrix product; fold is the adjoint.

Two layouts: ``unfold``/``fold`` use torch's ``(N, C*FH*FW, OH*OW)`` (what Convolution computes
with: its product comes out in NCHW order, no transposes), ``im2col``/``col2im`` the book's
``(N*OH*OW, C*FH*FW)``, one row per output pixel ``(n, oy, ox)``, one column per window cell
``(c, fy, fx)``. Both loop over the ``FH * FW`` kernel offsets only (never over images or output
pixels): for a fixed offset the windows' cells form one strided slice of the image.

Output size follows ``torch.nn.functional.conv2d``: ``(H + 2*pad - FH) // stride + 1`` (floor). The
book asserts the division is exact; flooring instead means trailing rows/columns that no window
reaches are ignored (and get zero gradient), exactly as in torch.
"""

from __future__ import annotations

import operator
from collections.abc import Iterator
from typing import Any

import numpy as np

from ._base import LayerError

__all__ = ["col2im", "conv_output_size", "fold", "im2col", "unfold", "window_int"]


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


def _offsets(
    filter_h: int, filter_w: int, stride: int, out_h: int, out_w: int
) -> Iterator[tuple[int, int, slice, slice]]:
    """For each kernel offset ``(y, x)``: the rows and columns of the padded image its cells read."""
    for y in range(filter_h):
        rows = slice(y, y + stride * (out_h - 1) + 1, stride)
        for x in range(filter_w):
            yield y, x, rows, slice(x, x + stride * (out_w - 1) + 1, stride)


def unfold(
    input_data: np.ndarray,
    filter_h: int,
    filter_w: int,
    stride: int = 1,
    pad: int = 0,
    *,
    pad_value: float = 0.0,
) -> np.ndarray:
    """(N, C, H, W) -> (N, C*FH*FW, OH*OW), torch's ``unfold`` layout, a new array in the input's dtype.

    One column per output pixel, so a convolution is the batched product ``W2d @ cols`` and comes
    out already in (N, FN, OH*OW) order. ``pad_value`` fills the border (0 for convolution,
    ``-inf`` for max pooling).
    """
    x = np.asarray(input_data)
    N, C, _, _ = x.shape
    out_h, out_w = _output_hw(x.shape, filter_h, filter_w, stride, pad)
    img = x
    if pad:
        img = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)], mode="constant", constant_values=pad_value)
    cols = np.empty((N, C, filter_h, filter_w, out_h, out_w), dtype=img.dtype)
    for y, x_, rows, columns in _offsets(filter_h, filter_w, stride, out_h, out_w):
        cols[:, :, y, x_, :, :] = img[:, :, rows, columns]
    return cols.reshape(N, C * filter_h * filter_w, out_h * out_w)


def fold(
    cols: np.ndarray,
    input_shape: tuple[int, ...],
    filter_h: int,
    filter_w: int,
    stride: int = 1,
    pad: int = 0,
) -> np.ndarray:
    """The adjoint of :func:`unfold`: scatter-add each window cell back to its pixel.

    Overlapping windows accumulate: for one kernel offset the target slice has distinct pixels,
    so ``+=`` on it is exact; different offsets hit the same pixel in different loop iterations.
    Padding cells are dropped.
    """
    N, C, H, W = input_shape
    out_h, out_w = _output_hw(tuple(input_shape), filter_h, filter_w, stride, pad)
    c = np.asarray(cols).reshape(N, C, filter_h, filter_w, out_h, out_w)
    img = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=c.dtype)
    for y, x_, rows, columns in _offsets(filter_h, filter_w, stride, out_h, out_w):
        img[:, :, rows, columns] += c[:, :, y, x_, :, :]
    if pad:
        return img[:, :, pad : H + pad, pad : W + pad].copy()
    return img


def im2col(
    input_data: np.ndarray,
    filter_h: int,
    filter_w: int,
    stride: int = 1,
    pad: int = 0,
    *,
    pad_value: float = 0.0,
) -> np.ndarray:
    """(N, C, H, W) -> (N*OH*OW, C*FH*FW), the book's layout (one row per output pixel).

    ``pad_value`` fills the border (0 for convolution, ``-inf`` for max pooling).
    """
    cols = unfold(input_data, filter_h, filter_w, stride, pad, pad_value=pad_value)
    N, K, P = cols.shape
    return cols.transpose(0, 2, 1).reshape(N * P, K)


def col2im(
    col: np.ndarray,
    input_shape: tuple[int, ...],
    filter_h: int,
    filter_w: int,
    stride: int = 1,
    pad: int = 0,
) -> np.ndarray:
    """The adjoint of :func:`im2col` (the book's layout): :func:`fold` of the transposed rows."""
    N, C = input_shape[0], input_shape[1]
    out_h, out_w = _output_hw(tuple(input_shape), filter_h, filter_w, stride, pad)
    cols = np.asarray(col).reshape(N, out_h * out_w, C * filter_h * filter_w).transpose(0, 2, 1)
    return fold(cols, input_shape, filter_h, filter_w, stride, pad)
