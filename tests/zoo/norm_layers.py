"""Normalization layers and leaky ReLU as learners write them: each ``Loop*``/``Book*`` class is
right, written another way than impl's (per-row loops, the cs231n derivation, book-1 ``dgamma``
attributes), and must be accepted; each ``Broken*`` class has one planted bug. NumPy only.
"""

from __future__ import annotations

import numpy as np


class LoopLayerNorm:
    """Per-row loop over the flattened leading axes, the long-form derivative (cs231n's
    ``layernorm_backward`` written with the variance's and mean's gradients), book-1 attributes."""

    def __init__(self, gamma, beta, eps=1e-5):
        self.gamma, self.beta, self.eps = gamma, beta, eps
        self.dgamma = self.dbeta = None

    def forward(self, x):
        self.x = x
        rows = x.reshape(-1, x.shape[-1])
        out = np.empty_like(rows)
        for i, r in enumerate(rows):
            out[i] = (r - r.mean()) / np.sqrt(r.var() + self.eps)
        self.xn = out.reshape(x.shape)
        return self.xn * self.gamma + self.beta

    def backward(self, dout):
        D = self.x.shape[-1]
        x = self.x.reshape(-1, D)
        d = dout.reshape(-1, D)
        self.dgamma = np.sum(d * self.xn.reshape(-1, D), axis=0)
        self.dbeta = np.sum(d, axis=0)
        dx = np.empty_like(x)
        for i in range(len(x)):
            xc = x[i] - x[i].mean()
            var = np.mean(xc**2)
            dxn = d[i] * self.gamma
            dvar = np.sum(dxn * xc) * -0.5 * (var + self.eps) ** -1.5
            dmu = -np.sum(dxn) / np.sqrt(var + self.eps) - 2.0 * dvar * np.mean(xc)
            dx[i] = dxn / np.sqrt(var + self.eps) + dvar * 2.0 * xc / D + dmu / D
        return dx.reshape(self.x.shape)


class BrokenLayerNormDgammaAveraged(LoopLayerNorm):
    """dgamma averaged over the batch where it must be summed (every row adds its own)."""

    def backward(self, dout):
        dx = super().backward(dout)
        D = self.x.shape[-1]
        self.dgamma = np.mean(dout.reshape(-1, D) * self.xn.reshape(-1, D), axis=0)
        return dx


class BrokenLayerNormDxOffByPPM(LoopLayerNorm):
    """dx one part in a million too large: the derived tolerances must still see it."""

    def backward(self, dout):
        return super().backward(dout) * (1 + 1e-6)


class BookGroupNorm:
    """cs231n's ``spatial_groupnorm``: x reshaped to (N, G, C // G * H * W), normalized per row,
    with gamma and beta of shape (C,), book-2 ``params``/``grads`` lists."""

    def __init__(self, gamma, beta, G=1, eps=1e-5):
        self.params = [gamma, beta]
        self.grads = [np.zeros_like(gamma), np.zeros_like(beta)]
        self.G, self.eps = G, eps

    def forward(self, x):
        gamma, beta = self.params
        N, C = x.shape[:2]
        g = x.reshape(N, self.G, -1)
        mu = g.mean(axis=2, keepdims=True)
        self.std = np.sqrt(g.var(axis=2, keepdims=True) + self.eps)
        self.xn = ((g - mu) / self.std).reshape(x.shape)
        return self.xn * gamma.reshape(1, C, 1, 1) + beta.reshape(1, C, 1, 1)

    def backward(self, dout):
        gamma, _ = self.params
        N, C = dout.shape[:2]
        self.grads[0][...] = np.sum(dout * self.xn, axis=(0, 2, 3))
        self.grads[1][...] = np.sum(dout, axis=(0, 2, 3))
        dxn = (dout * gamma.reshape(1, C, 1, 1)).reshape(N, self.G, -1)
        xn = self.xn.reshape(N, self.G, -1)
        M = dxn.shape[2]
        dx = (M * dxn - dxn.sum(axis=2, keepdims=True) - xn * np.sum(dxn * xn, axis=2, keepdims=True)) / (
            M * self.std
        )
        return dx.reshape(dout.shape)


class BrokenGroupNormPerChannel(BookGroupNorm):
    """Statistics over the wrong axes: each channel's pixels alone (instance norm), not its group."""

    def forward(self, x):
        G = self.G
        self.G = x.shape[1]
        try:
            return super().forward(x)
        finally:
            self.G = G

    def backward(self, dout):
        G = self.G
        self.G = dout.shape[1]
        try:
            return super().backward(dout)
        finally:
            self.G = G


class WhereLeakyRelu:
    """``np.where(x > 0, x, alpha * x)``; backward ``np.where(x > 0, dout, alpha * dout)``."""

    def __init__(self, alpha=0.01):
        self.alpha = alpha

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, self.alpha * x)

    def backward(self, dout):
        return np.where(self.x > 0, dout, self.alpha * dout)


class BrokenLeakyReluOneAtZero(WhereLeakyRelu):
    """At x == 0 passes dout (``x >= 0``), against the declared alpha * dout."""

    def backward(self, dout):
        return np.where(self.x >= 0, dout, self.alpha * dout)
