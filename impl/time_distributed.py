"""Book 2's time-distributed layers (chapters 5-6, ``common/time_layers.py``), the non-recurrent
ones: ``TimeEmbedding``, ``TimeAffine``, ``TimeSoftmaxWithLoss``, ``TimeSigmoidWithLoss`` and
``TimeDropout``. Each applies one layer at every time step of a (N, T, ...) batch, vectorised.

Against the book: results keep the input's dtype (the book allocates ``dtype='f'`` buffers);
``TimeSoftmaxWithLoss`` takes log-softmax (the book's ``log(softmax)`` is -inf where softmax
rounds to 0) and does not overwrite its cached softmax in ``backward`` (the book's ``dx = ys;
dx[...] -= 1`` makes a second backward differ from the first); ``TimeSigmoidWithLoss`` neither
writes into ``dout`` (the book's ``dout *= 1/T``) nor adds ``1e-7`` inside a log.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, Param, as_float_array
from .book2_layers import Embedding
from .dropout import Dropout
from .functions import log_softmax_array, sigmoid_array, softmax_array

__all__ = ["TimeAffine", "TimeDropout", "TimeEmbedding", "TimeSigmoidWithLoss", "TimeSoftmaxWithLoss"]


def _labels(t: Any, shape: tuple[int, ...], where: str) -> np.ndarray:
    t = np.asarray(t)
    if t.dtype.kind not in "iu":
        raise TypeError(f"{where}: ts has dtype {t.dtype}; expected integer labels")
    if t.shape != shape:
        raise LayerError(f"{where}: ts has shape {t.shape}; expected {shape}, one label per time step")
    return t


class TimeEmbedding(Embedding):
    """``W[xs]`` for word ids ``xs`` of shape (N, T): one :class:`Embedding` over every step at once
    (``dW`` accumulated with ``np.add.at`` over the batch and the steps)."""

    def forward(self, xs: Any) -> np.ndarray:
        if np.ndim(xs) != 2:
            raise LayerError(f"TimeEmbedding.forward: xs has shape {np.shape(xs)}; expected (N, T) word ids")
        return super().forward(xs)


class TimeAffine(Layer):
    """``xs @ W + b`` at every step of xs (N, T, D), W (D, M): out (N, T, M); ``dW`` and ``db`` are
    summed over the batch and the steps."""

    W = Param(0)
    b = Param(1)
    dW = Param(0, grad=True)
    db = Param(1, grad=True)

    def __init__(self, W: Any, b: Any) -> None:
        super().__init__(W, b)
        if self.W.ndim != 2 or self.b.shape != self.W.shape[1:]:
            raise LayerError(
                f"TimeAffine: W has shape {self.W.shape} and b {self.b.shape}; expected (D, M), (M,)"
            )
        self.x: np.ndarray | None = None

    def forward(self, xs: Any) -> np.ndarray:
        x = as_float_array(xs, "TimeAffine.forward", "xs")
        if x.ndim != 3 or x.shape[2] != self.W.shape[0]:
            raise LayerError(
                f"TimeAffine.forward: xs has shape {x.shape}; expected (N, T, {self.W.shape[0]}) for W "
                f"of shape {self.W.shape}"
            )
        self.x = x
        with np.errstate(invalid="ignore"):  # inf * 0 in the sums -> NaN: inf propagates
            return self._remember_output(x @ self.W + self.b)

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        assert self.x is not None  # set by forward
        x2, d2 = self.x.reshape(-1, self.x.shape[2]), d.reshape(-1, d.shape[2])
        with np.errstate(invalid="ignore"):
            self._store_grads(x2.T @ d2, d2.sum(axis=0))
            return d @ self.W.T


class TimeSoftmaxWithLoss(Layer):
    """Mean cross-entropy of ``softmax(xs[n, t])`` against labels ``ts[n, t]`` over the steps whose
    label is not ``ignore_label`` (-1): those add nothing to the loss, the count or the gradient
    (``F.cross_entropy(..., ignore_index=-1)``). xs (N, T, V), ts (N, T) integers."""

    def __init__(self, ignore_label: int = -1) -> None:
        super().__init__()
        self.ignore_label = ignore_label
        self.cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def forward(self, xs: Any, ts: Any) -> Any:
        where = "TimeSoftmaxWithLoss.forward"
        x = as_float_array(xs, where, "xs")
        if x.ndim != 3:
            raise LayerError(f"{where}: xs has shape {x.shape}; expected (N, T, V) scores")
        t = _labels(ts, x.shape[:2], where)
        mask = t != self.ignore_label
        V = x.shape[2]
        if np.any(mask & ((t < 0) | (t >= V))):
            raise LayerError(
                f"{where}: ts holds labels outside [0, {V}) other than ignore_label {self.ignore_label}"
            )
        picked = np.where(mask, t, 0)
        logp = np.take_along_axis(log_softmax_array(x, where), picked[..., None], axis=2)[..., 0]
        count = int(mask.sum())
        self.cache = (softmax_array(x, where), picked, mask)
        with np.errstate(invalid="ignore", divide="ignore"):  # no step counted: 0/0, NaN as torch
            loss = -np.sum(np.where(mask, logp, 0)) / x.dtype.type(count)
        return self._remember_output(x.dtype.type(loss))

    def backward(self, dout: Any = 1) -> np.ndarray:
        d = self._check_dout(dout)
        assert self.cache is not None  # set by forward
        y, picked, mask = self.cache
        one_hot = np.arange(y.shape[2]) == picked[..., None]
        with np.errstate(invalid="ignore", divide="ignore", under="ignore"):
            scale = np.where(mask, d / y.dtype.type(mask.sum()), 0)[..., None]
            return (y - one_hot) * scale


class TimeSigmoidWithLoss(Layer):
    """Binary cross-entropy of ``sigmoid(xs)`` against 0/1 labels ``ts``, both (N, T): the mean over
    all N * T steps, ``softplus(x) - t*x`` (exact at any logit); backward
    ``dout * (sigmoid(x) - t) / (N*T)``."""

    def __init__(self) -> None:
        super().__init__()
        self.y: np.ndarray | None = None
        self.t: np.ndarray | None = None

    def forward(self, xs: Any, ts: Any) -> Any:
        where = "TimeSigmoidWithLoss.forward"
        x = as_float_array(xs, where, "xs")
        if x.ndim != 2 or x.size == 0:
            raise LayerError(f"{where}: xs has shape {x.shape}; expected (N, T) scores")
        t = _labels(ts, x.shape, where).astype(x.dtype)
        with np.errstate(under="ignore", invalid="ignore"):
            terms = np.logaddexp(np.zeros((), x.dtype), x) - t * x
        self.y, self.t = sigmoid_array(x), t
        return self._remember_output(x.dtype.type(terms.sum(dtype=np.float64) / x.size))

    def backward(self, dout: Any = 1) -> np.ndarray:
        d = self._check_dout(dout)
        assert self.y is not None and self.t is not None  # set by forward
        with np.errstate(under="ignore", invalid="ignore"):
            return (self.y - self.t) * (d / self.y.dtype.type(self.y.size))


class TimeDropout(Dropout):
    """Inverted dropout of every step, book 2's way: ``forward(xs, mask=None)`` and a ``train_flg``
    attribute (the book's models set ``layer.train_flg``), ``mask`` True where a unit is kept."""

    def __init__(self, dropout_ratio: float = 0.5, rng: Any = None) -> None:
        super().__init__(dropout_ratio, rng)
        self.train_flg = True

    def forward(self, xs: Any, mask: Any = None) -> np.ndarray:  # type: ignore[override]
        return super().forward(as_float_array(xs, "TimeDropout.forward"), self.train_flg, mask)
