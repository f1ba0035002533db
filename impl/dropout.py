"""Inverted dropout, as torch: kept units are scaled by ``1 / (1 - p)`` in training, identity at test.

The book scales nothing in training and multiplies by ``1 - p`` at test time; both give the same
expected activation, but only the inverted form makes inference a no-op and matches torch.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, as_float_array

__all__ = ["Dropout"]


class Dropout(Layer):
    """``Dropout(dropout_ratio=0.5, rng=None, *, inverted=True)``; ``rng`` is a ``np.random.Generator``
    or a seed. ``inverted=False`` is the book's convention (spec ``dropout_book``): kept units are
    not scaled in training, and inference scales by ``1 - p``.

    ``forward(x, train_flg=True, mask=None)``: ``mask`` (bool, ``True`` = kept, shape of ``x``) is
    drawn from ``rng`` unless given, so a checker can hand numpy and torch the same mask.
    The mask used is kept in ``self.mask``.
    """

    def __init__(self, dropout_ratio: float = 0.5, rng: Any = None, *, inverted: bool = True) -> None:
        super().__init__()
        if not 0.0 <= dropout_ratio < 1.0:
            raise LayerError(f"Dropout.__init__: dropout_ratio must be in [0, 1), got {dropout_ratio}")
        self.dropout_ratio = float(dropout_ratio)
        self.inverted = bool(inverted)
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self.mask: np.ndarray | None = None
        self._scale: np.ndarray | None = None

    def forward(self, x: Any, train_flg: bool = True, mask: Any = None) -> np.ndarray:
        x = as_float_array(x, "Dropout.forward")
        if not train_flg:
            self._scale = None
            if self.inverted:
                return self._remember_output(x.copy())
            self._scale = np.full(x.shape, 1.0 - self.dropout_ratio, dtype=x.dtype)
            return self._remember_output(x * self._scale)
        if mask is None:
            mask = self.rng.random(x.shape) >= self.dropout_ratio
        else:
            mask = np.asarray(mask)
            if mask.dtype != np.bool_:
                raise TypeError(f"Dropout.forward: mask has dtype {mask.dtype}; expected bool (True = kept)")
            if mask.shape != x.shape:
                raise LayerError(f"Dropout.forward: mask has shape {mask.shape} but x has shape {x.shape}")
        self.mask = mask
        # torch multiplies by mask / (1 - p) computed in the input's dtype; the book by the mask
        keep = x.dtype.type(1.0 - self.dropout_ratio) if self.inverted else x.dtype.type(1.0)
        self._scale = mask.astype(x.dtype) / keep
        with np.errstate(invalid="ignore"):  # a dropped inf is inf * 0 = NaN (as in torch)
            return self._remember_output(x * self._scale)

    def backward(self, dout: Any) -> np.ndarray:
        dout = self._check_dout(dout)
        if self._scale is None:
            return dout.copy()
        with np.errstate(invalid="ignore"):  # a dropped inf in dout is inf * 0 = NaN (as in torch)
            return dout * self._scale
