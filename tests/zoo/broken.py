"""Broken layers: each has one bug that ``crosscheck check`` must catch (exit 1).

Everything else in each class is right, so a rejection is for the planted bug.
"""

from __future__ import annotations

import numpy as np


def _log_softmax(x):
    z = x - np.max(x, axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


class ReluWritesDout:
    """The book's Relu (book 1, 5.5.1): ``dout[self.mask] = 0`` writes into the caller's array."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        dx = dout
        return dx


class AffineMeanBias:
    """Book-1 style Affine whose bias gradient is averaged over the batch instead of summed."""

    def __init__(self, W, b):
        self.W, self.b = W, b
        self.x = self.original_x_shape = None
        self.dW = self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.mean(dout, axis=0)  # the bug: a sum over the batch
        return dx.reshape(*self.original_x_shape)


class AffineAccumulatesGrads:
    """Book-2 style Affine that adds into ``grads`` instead of overwriting them: a second backward
    (or a second batch) sees the sum of both."""

    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = self.shape = None

    def forward(self, x):
        W, b = self.params
        self.shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ W + b

    def backward(self, dout):
        W, _ = self.params
        self.grads[0] += self.x.T @ dout  # the bug: `[...] =`, not `+=`
        self.grads[1] += dout.sum(axis=0)
        return (dout @ W.T).reshape(self.shape)


class AffineNoReshape:
    """The book-2 Affine: no reshape, so an image batch (N, C, H, W) cannot go through it."""

    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x):
        W, b = self.params
        self.x = x
        return np.dot(x, W) + b

    def backward(self, dout):
        W, _ = self.params
        self.grads[0][...] = np.dot(self.x.T, dout)
        self.grads[1][...] = np.sum(dout, axis=0)
        return np.dot(dout, W.T)


class SoftmaxWithLossIgnoresDout:
    """The book's ``backward(self, dout=1)``: ``(y - t) / batch_size``, whatever ``dout`` is."""

    def __init__(self):
        self.y = self.t = None

    def forward(self, x, t):
        logp = _log_softmax(x)
        self.y, self.t = np.exp(logp), t
        return -np.sum(t * logp) / x.shape[0]

    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0]  # the bug: not multiplied by dout


class SoftmaxNoMaxSubtraction:
    """``exp(x) / sum(exp(x))``: overflows for logits past ~710."""

    def __init__(self):
        self.y = None

    def forward(self, x):
        e = np.exp(x)
        self.y = e / np.sum(e, axis=-1, keepdims=True)
        return self.y

    def backward(self, dout):
        y = self.y
        return y * (dout - np.sum(dout * y, axis=-1, keepdims=True))


class SigmoidBackwardFromX:
    """Sigmoid whose backward uses the input where it needs the output: ``dout * x * (1 - x)``."""

    def __init__(self):
        self.x = None

    def forward(self, x):
        self.x = x
        return 0.5 * (1 + np.tanh(0.5 * x))

    def backward(self, dout):
        return dout * self.x * (1 - self.x)


class TwoLayerNetWrongBias:
    """Book-1 style TwoLayerNet whose ``b1`` gradient skips the ReLU: summed from the upstream
    gradient of the hidden layer's *output* instead of its pre-activation."""

    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        rng = np.random.default_rng(0)
        self.params = {
            "W1": weight_init_std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }

    def _forward(self, x):
        p = self.params
        pre = x @ p["W1"] + p["b1"]
        h = np.maximum(pre, 0)
        return pre, h, h @ p["W2"] + p["b2"]

    def loss(self, x, t):
        return -np.sum(t * _log_softmax(self._forward(x)[2])) / x.shape[0]

    def gradient(self, x, t):
        p = self.params
        pre, h, logits = self._forward(x)
        dlogits = (np.exp(_log_softmax(logits)) - t) / x.shape[0]
        dh = dlogits @ p["W2"].T
        dpre = dh * (pre > 0)
        return {
            "W1": x.T @ dpre,
            "b1": dh.sum(axis=0),  # the bug: dpre
            "W2": h.T @ dlogits,
            "b2": dlogits.sum(axis=0),
        }
