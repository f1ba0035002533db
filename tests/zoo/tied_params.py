"""Layers that list one weight array twice in ``params`` (book 2's tied weights), each entry with
its own gradient in ``grads``: the harness must add the entries up, as the book's Trainer does
(``remove_duplicate``), before comparing with a reference that sees the parameter once."""

from __future__ import annotations

import numpy as np

from tests.zoo.book2_layers import EmbeddingDot


class TiedNegativeSamplingLoss:
    """Right: the book's layout, one EmbeddingDot per sample, each listing the same ``W`` with its
    own gradient (``params = [W] * (K + 1)``); the samples handed in; the loss by ``logaddexp``."""

    def __init__(self, W, sample_size=5):
        self.layers = [EmbeddingDot(W) for _ in range(sample_size + 1)]
        self.params, self.grads = [], []
        for layer in self.layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, h, target, negative_sample):
        self.labels = [1] + [0] * negative_sample.shape[1]
        self.ys, loss = [], 0.0
        for layer, ids, label in zip(self.layers, [target, *negative_sample.T], self.labels, strict=True):
            s = layer.forward(h, ids)
            loss += np.sum(np.logaddexp(0, s) - label * s) / len(target)
            self.ys.append(1 / (1 + np.exp(-s)))
        return loss

    def backward(self, dout=1):
        dh = 0
        for layer, y, label in zip(self.layers, self.ys, self.labels, strict=True):
            dh = dh + layer.backward((y - label) * dout / len(y))
        return dh


class BrokenTiedNegativeSamplingLossDropsPositive(TiedNegativeSamplingLoss):
    """The positive pair's EmbeddingDot writes its ``dW`` into a copy: the ``grads`` entry it lists
    for ``W`` stays zero, so the sum lacks that contribution (``dh`` is still right)."""

    def backward(self, dout=1):
        kept = self.grads[0].copy()
        dh = super().backward(dout)
        self.grads[0][...] = kept * 0
        return dh


class TiedTransposedMatMul:
    """Right: ``x @ W`` computed as ``x @ (W / 2) + x @ (W.T).T / 2``, listing ``W`` and the view
    ``W.T`` (tied embedding and affine weights), each with its own gradient."""

    def __init__(self, W):
        self.params = [W, W.T]
        self.grads = [np.zeros_like(W), np.zeros_like(W.T)]

    def forward(self, x):
        self.x = x
        W, WT = self.params
        return x @ W / 2 + x @ WT.T / 2

    def backward(self, dout):
        W, _ = self.params
        half = self.x.T @ dout / 2
        self.grads[0][...] = half
        self.grads[1][...] = half.T
        return dout @ W.T


class BrokenTiedTransposedMatMulDropsTransposed(TiedTransposedMatMul):
    """The transposed entry's gradient is never written: half of ``dW`` is missing."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.grads[1][...] = 0
        return dx
