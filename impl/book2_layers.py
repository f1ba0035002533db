"""Book 2's parameter layers: ``MatMul`` (chapter 1) and ``Embedding`` (chapter 4), with
``params = [W]`` and ``grads = [dW]``, gradients written in place as book 2's optimizers expect."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, Param, as_float_array

__all__ = ["Embedding", "MatMul"]


def _matrix(W: Any, where: str) -> None:
    if np.ndim(W) != 2:
        raise LayerError(f"{where}: W has shape {np.shape(W)}; expected a matrix (2-D)")


class MatMul(Layer):
    """``x @ W`` for ``x`` of shape (N, D) and ``W`` (D, H); ``dx = dout @ W.T``, ``dW = x.T @ dout``."""

    W = Param(0)
    dW = Param(0, grad=True)

    def __init__(self, W: Any) -> None:
        super().__init__(W)
        _matrix(self.W, "MatMul")
        self.x: Any = None

    def forward(self, x: Any) -> np.ndarray:
        x = as_float_array(x, "MatMul.forward")
        W = self.W
        if x.ndim != 2 or x.shape[1] != W.shape[0]:
            raise LayerError(
                f"MatMul.forward: x has shape {x.shape}; expected (N, {W.shape[0]}) for W of shape {W.shape}"
            )
        self.x = x
        with np.errstate(invalid="ignore"):  # inf * 0 or inf - inf in the sums -> NaN: inf propagates
            return self._remember_output(x @ W)

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        with np.errstate(invalid="ignore"):  # inf in x or dout times 0 -> NaN: inf propagates
            self._store_grads(self.x.T @ d)
            return d @ self.W.T


class Embedding(Layer):
    """Rows of ``W`` (V, D) picked by integer indices: ``W[idx]``, of shape ``idx.shape + (D,)``.

    Backward writes ``dW``: zeros, then ``dout`` added at each index with ``np.add.at``, so a row
    picked twice gets both contributions (``dW[idx] = dout`` keeps only the last). Indices get no
    gradient: ``backward`` returns None, as in the book.
    """

    W = Param(0)
    dW = Param(0, grad=True)

    def __init__(self, W: Any) -> None:
        super().__init__(W)
        _matrix(self.W, "Embedding")
        self.idx: np.ndarray | None = None

    def forward(self, idx: Any) -> np.ndarray:
        where = "Embedding.forward"
        idx = np.asarray(idx)
        if idx.dtype.kind not in "iu":
            raise TypeError(f"{where}: idx has dtype {idx.dtype}; expected integer indices into W's rows")
        vocab = self.W.shape[0]
        bad = np.flatnonzero((idx < 0) | (idx >= vocab))
        if bad.size:
            i = int(bad[0])
            raise LayerError(
                f"{where}: idx of shape {idx.shape} holds {idx.reshape(-1)[i]} (element {i}), out of range "
                f"for W of shape {self.W.shape} (expected 0 <= idx < {vocab})"
            )
        self.idx = idx
        return self._remember_output(self.W[idx])

    def backward(self, dout: Any) -> None:
        d = self._check_dout(dout)
        assert self.idx is not None  # set by forward
        dW = np.zeros_like(self.W)
        with np.errstate(invalid="ignore"):  # inf + (-inf) at a repeated index -> NaN propagates
            np.add.at(dW, self.idx, d)
        self._store_grads(dW)
        return None
