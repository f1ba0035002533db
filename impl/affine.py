"""The fully connected layer ``out = x @ W + b`` on a batch (the book's ``Affine``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._base import Layer, LayerError, Param, as_float_array

__all__ = ["Affine"]


class Affine(Layer):
    """``out = x2d @ W + b`` where ``x2d`` is the batch ``x`` of shape (N, ...) flattened to (N, -1).

    ``W`` and ``b`` are kept by reference, not copied: a network's ``params`` dict shares them, so
    an in-place update there (``params['W1'] -= lr * grad``) is what this layer computes with.
    ``dx`` comes back in the input's original shape (so an image batch can feed it directly);
    ``dW = x2d.T @ dout`` and ``db = dout.sum(axis=0)`` are written into ``grads`` in place.
    NaN and inf propagate.
    """

    W = Param(0)
    b = Param(1)
    dW = Param(0, grad=True)
    db = Param(1, grad=True)

    def __init__(self, W: Any, b: Any) -> None:
        super().__init__(W, b)
        W, b = self.params
        if W.ndim != 2 or b.shape != (W.shape[1],):
            raise LayerError(
                f"Affine: W has shape {W.shape} and b has shape {b.shape}; expected W (D, M) and b (M,)"
            )
        self.x: np.ndarray | None = None
        self.original_x_shape: tuple[int, ...] | None = None

    def forward(self, x: Any) -> np.ndarray:
        x = as_float_array(x, "Affine.forward")
        W, b = self.params
        if x.ndim < 2:
            raise LayerError(
                f"Affine.forward: x has shape {x.shape}; expected a batch (N, ...) of examples with "
                f"{W.shape[0]} values each for W of shape {W.shape}"
            )
        per_example = math.prod(x.shape[1:])
        if per_example != W.shape[0]:
            raise LayerError(
                f"Affine.forward: x has shape {x.shape} ({per_example} values per example) but W has "
                f"shape {W.shape} and expects {W.shape[0]}"
            )
        x2d = x.reshape(x.shape[0], per_example)  # a view whenever NumPy can make one
        self.original_x_shape = x.shape
        self.x = x2d
        with np.errstate(invalid="ignore"):  # inf * 0 or inf - inf in the sums -> NaN: inf propagates
            out = x2d @ W
            if out.dtype == np.result_type(out, b):
                out += b  # saves a temporary; only when it cannot change the promoted dtype
            else:
                out = out + b
        return self._remember_output(out)

    def backward(self, dout: Any) -> np.ndarray:
        d = self.backward_params(dout)
        assert self.original_x_shape is not None  # set by forward
        with np.errstate(invalid="ignore"):  # a non-finite dout or W gives NaN, without a warning
            return (d @ self.params[0].T).reshape(self.original_x_shape)

    def backward_params(self, dout: Any) -> np.ndarray:
        """``backward`` without ``dx``: writes ``dW`` and ``db`` and returns the checked ``dout``.

        For a first layer, whose input is the data: ``dx = dout @ W.T`` is as large a matrix
        product as the forward's and would be thrown away (see BENCHMARKS.md).
        """
        d = self._check_dout(dout)
        assert self.x is not None  # set by forward
        with np.errstate(invalid="ignore"):  # inf in x (or dout) times 0 -> NaN: inf propagates
            self._store_grads(self.x.T @ d, d.sum(axis=0))
        return d
