"""CS231n-style layers whose findings are of different kinds (properties/engine/kinds.py): right
in the ordinary range but fragile at extreme inputs, off only by a convention at a kink or tie, or
a correct forward paired with a wrong backward (and the reverse). Written the way the assignment's
solutions are (``x - max``, ``probs[np.arange(N), y]``, a mask of maxima), NumPy only.
"""

import numpy as np


class SoftmaxLossLogOfProbs:
    """CS231n's ``softmax_loss`` through the probabilities: right for ordinary logits, but at a
    logit gap beyond ~745 the label's probability underflows to 0 and ``-log(0)`` makes the loss inf
    (FRAGILE at extreme inputs). Backward is right."""

    def __init__(self):
        self.probs = None
        self.y = None

    def forward(self, x, y):
        shifted = x - np.max(x, axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= np.sum(probs, axis=1, keepdims=True)
        self.probs, self.y = probs, y
        n = x.shape[0]
        return -np.sum(np.log(probs[np.arange(n), y])) / n

    def backward(self, dout=1):
        n = self.probs.shape[0]
        dx = self.probs.copy()
        dx[np.arange(n), self.y] -= 1
        return dx * dout / n


class ReluGradOneAtZero:
    """CS231n's ``relu_backward`` written as ``dout * (x >= 0)``: gradient 1 at exactly x == 0, where
    the spec's convention (torch's, jax's) is 0; right everywhere else (CONVENTION at a kink)."""

    def __init__(self):
        self.x = None

    def forward(self, x):
        self.x = x
        return np.maximum(0, x)

    def backward(self, dout):
        return dout * (self.x >= 0)


class MaxPoolTiesAllGetDout:
    """CS231n's ``max_pool_backward_naive``: each window hands its full dout to every cell equal to
    its maximum, so a tied maximum gets dout twice over where torch gives it to the first one
    (CONVENTION at ties); right elsewhere, overlapping and padded windows included."""

    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h, self.pool_w, self.stride, self.pad = pool_h, pool_w, stride, pad
        self.xp = None

    def forward(self, x):
        p, s = self.pad, self.stride
        self.x_shape = x.shape
        self.xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
        n, c, hp, wp = self.xp.shape
        oh, ow = (hp - self.pool_h) // s + 1, (wp - self.pool_w) // s + 1
        out = np.empty((n, c, oh, ow), dtype=x.dtype)
        for i in range(oh):
            for j in range(ow):
                window = self.xp[:, :, i * s : i * s + self.pool_h, j * s : j * s + self.pool_w]
                out[:, :, i, j] = window.max(axis=(2, 3))
        return out

    def backward(self, dout):
        p, s = self.pad, self.stride
        dxp = np.zeros(self.xp.shape, dtype=dout.dtype)
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                rows, cols = slice(i * s, i * s + self.pool_h), slice(j * s, j * s + self.pool_w)
                window = self.xp[:, :, rows, cols]
                mask = window == window.max(axis=(2, 3), keepdims=True)
                dxp[:, :, rows, cols] += mask * dout[:, :, i, j][:, :, None, None]
        h, w = self.x_shape[2:]
        return dxp[:, :, p : p + h, p : p + w]


class _Affine:
    """CS231n's ``affine_forward`` / ``affine_backward`` as a book-1 class (``dW``, ``db``)."""

    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.dW = self.db = None

    def forward(self, x):
        self.x = x
        return x.reshape(x.shape[0], -1).dot(self.W) + self.b

    def backward(self, dout):
        x2 = self.x.reshape(self.x.shape[0], -1)
        self.dW = x2.T.dot(dout)
        self.db = np.sum(dout, axis=0)
        return dout.dot(self.W.T).reshape(self.x.shape)


class AffineBackwardAveragesDw(_Affine):
    """A correct ``affine_forward`` paired with an ``affine_backward`` that divides dW by N: the
    pair's other half is at fault (the verdict names ``backward``)."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.dW = self.dW / self.x.shape[0]
        return dx


class AffineForwardNoBias(_Affine):
    """A forward that forgets ``+ b``, paired with a correct backward: forward is at fault."""

    def forward(self, x):
        self.x = x
        return x.reshape(x.shape[0], -1).dot(self.W)
