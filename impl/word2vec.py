"""Book 2's word2vec layers (chapter 4, ``ch04/negative_sampling_layer.py``): ``EmbeddingDot`` and
``NegativeSamplingLoss``, with ``params = [W]``, ``grads = [dW]``.

Against the book: ``NegativeSamplingLoss`` holds ``W`` once (the book lists it ``sample_size + 1``
times, one gradient per copy, summed later by its trainer's ``remove_duplicate``); its loss is
``softplus`` of the scores (the book's ``log(y + 1e-7)`` is off by up to 1e-7 / y); the negative
samples may be handed to ``forward`` (``negative_sample=``, as a checker hands the same to torch),
else they are drawn from the unigram distribution ** power by the layer's own seeded generator.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, Param, as_float_array
from .functions import sigmoid_array

__all__ = ["EmbeddingDot", "NegativeSamplingLoss"]


def _ids(idx: Any, shape: tuple[int, ...], vocab: int, where: str, name: str) -> np.ndarray:
    a = np.asarray(idx)
    if a.dtype.kind not in "iu":
        raise TypeError(f"{where}: {name} has dtype {a.dtype}; expected integer word ids")
    if a.shape != shape:
        raise LayerError(f"{where}: {name} has shape {a.shape}; expected {shape}")
    if a.size and (a.min() < 0 or a.max() >= vocab):
        raise LayerError(f"{where}: {name} of shape {a.shape} holds ids outside [0, {vocab})")
    return a


class EmbeddingDot(Layer):
    """``out[n] = W[idx[n]] . h[n]``: h (N, D), idx (N,), W (V, D); backward ``dh``, ``dW`` accumulated
    over repeated ids."""

    W = Param(0)
    dW = Param(0, grad=True)

    def __init__(self, W: Any) -> None:
        super().__init__(W)
        if self.W.ndim != 2:
            raise LayerError(f"EmbeddingDot: W has shape {self.W.shape}; expected a matrix (V, D)")
        self.cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def forward(self, h: Any, idx: Any) -> np.ndarray:
        where = "EmbeddingDot.forward"
        h = as_float_array(h, where, "h")
        if h.ndim != 2 or h.shape[1] != self.W.shape[1]:
            raise LayerError(
                f"{where}: h has shape {h.shape}; expected (N, {self.W.shape[1]}) for W {self.W.shape}"
            )
        idx = _ids(idx, h.shape[:1], self.W.shape[0], where, "idx")
        target_W = self.W[idx]
        self.cache = (h, idx, target_W)
        with np.errstate(invalid="ignore"):  # inf * 0 -> NaN: inf propagates
            return self._remember_output(np.sum(target_W * h, axis=1))

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)[:, None]
        assert self.cache is not None  # set by forward
        h, idx, target_W = self.cache
        dW = np.zeros_like(self.W)
        with np.errstate(invalid="ignore"):
            np.add.at(dW, idx, d * h)  # a repeated id gets every contribution
            self._store_grads(dW)
            return d * target_W


class NegativeSamplingLoss(Layer):
    """``NegativeSamplingLoss(W, corpus=None, power=0.75, sample_size=5, rng=None)``: the binary
    cross-entropy of the positive pair's score against 1 plus, for each of ``sample_size`` negative
    samples, of its score against 0, each the mean over the batch (the book's sum of
    ``sample_size + 1`` SigmoidWithLoss layers). ``forward(h, target, negative_sample=None)``: h
    (N, D), target (N,), negative_sample (N, sample_size) ids; backward ``dh``, ``dW``."""

    W = Param(0)
    dW = Param(0, grad=True)

    def __init__(
        self, W: Any, corpus: Any = None, power: float = 0.75, sample_size: int = 5, rng: Any = None
    ) -> None:
        super().__init__(W)
        self.sample_size = int(sample_size)
        V = self.W.shape[0]
        counts = (
            np.bincount(np.asarray(corpus, np.int64), minlength=V)[:V] if corpus is not None else np.ones(V)
        )
        p = counts.astype(np.float64) ** power
        self.word_p = p / p.sum()
        self.rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        self.cache: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None

    def get_negative_sample(self, target: np.ndarray) -> np.ndarray:
        """``sample_size`` distinct ids per row, never the row's target (the book's sampler)."""
        out = np.empty((len(target), self.sample_size), np.int64)
        for i, t in enumerate(target):
            p = self.word_p.copy()
            p[t] = 0
            out[i] = self.rng.choice(len(p), size=self.sample_size, replace=False, p=p / p.sum())
        return out

    def forward(self, h: Any, target: Any, negative_sample: Any = None) -> Any:
        where = "NegativeSamplingLoss.forward"
        h = as_float_array(h, where, "h")
        V, D = self.W.shape
        if h.ndim != 2 or h.shape[1] != D or h.shape[0] == 0:
            raise LayerError(
                f"{where}: h has shape {h.shape}; expected (N, {D}) with N >= 1 for W {self.W.shape}"
            )
        N = h.shape[0]
        target = _ids(target, (N,), V, where, "target")
        if negative_sample is None:
            negative_sample = self.get_negative_sample(target)
        neg = _ids(negative_sample, (N, self.sample_size), V, where, "negative_sample")
        ids = np.concatenate([target[:, None], neg], axis=1)  # (N, 1 + K): the positive first
        rows = self.W[ids]  # (N, 1 + K, D)
        scores = np.einsum("nkd,nd->nk", rows, h)
        signs = np.where(np.arange(ids.shape[1]) == 0, -1.0, 1.0).astype(scores.dtype)  # label 1, then 0s
        with np.errstate(under="ignore", over="ignore"):
            loss = np.logaddexp(np.zeros((), scores.dtype), signs * scores).sum() / scores.dtype.type(N)
        self.cache = (h, ids, rows, sigmoid_array(scores) - (signs < 0))
        return self._remember_output(scores.dtype.type(loss))

    def backward(self, dout: Any = 1) -> np.ndarray:
        d = self._check_dout(dout)
        assert self.cache is not None  # set by forward
        h, ids, rows, residual = self.cache
        dscore = residual * (d / residual.dtype.type(len(h)))  # (N, 1 + K)
        dW = np.zeros_like(self.W)
        np.add.at(dW, ids, dscore[..., None] * h[:, None, :])
        self._store_grads(dW)
        return np.einsum("nk,nkd->nd", dscore, rows)
