"""Correct layers written differently from ``impl``: ``crosscheck check`` must accept each (exit 0).

A rejection here is a false alarm, which counts as a failure of the harness just like a miss.
"""

from __future__ import annotations

import numpy as np


def log_softmax(x):
    z = x - np.max(x, axis=-1, keepdims=True)
    return z - np.log(np.sum(np.exp(z), axis=-1, keepdims=True))


class ReluWhere:
    """ReLU with ``np.where`` and no stored mask: gradient 0 at x == 0."""

    def __init__(self):
        self.x = None

    def forward(self, x):
        self.x = x
        return np.where(x > 0, x, 0)

    def backward(self, dout):
        return np.where(self.x > 0, dout, 0)


class SigmoidTanh:
    """Sigmoid through tanh, ``(1 + tanh(x / 2)) / 2``: no exp, so nothing can overflow."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = 0.5 * (1 + np.tanh(0.5 * x))
        return self.out

    def backward(self, dout):
        return dout * self.out * (1 - self.out)


class SoftmaxJacobian:
    """Softmax whose backward builds each row's Jacobian ``diag(y) - y y^T`` explicitly (any leading
    axes), then multiplies: ``dx = J^T dout``."""

    def __init__(self):
        self.y = None

    def forward(self, x):
        e = np.exp(x - np.max(x, axis=-1, keepdims=True))
        self.y = e / np.sum(e, axis=-1, keepdims=True)
        return self.y

    def backward(self, dout):
        y = self.y
        with np.errstate(under="ignore"):  # y_i * y_j of two tiny probabilities rounds to 0: fine
            jacobian = (
                y[..., :, None] * np.eye(y.shape[-1], dtype=y.dtype) - y[..., :, None] * y[..., None, :]
            )
            return np.einsum("...ij,...i->...j", jacobian, dout)


class AffineBook1:
    """The book-1 Affine (5.6.2): ``W``, ``b``, ``dW``, ``db`` attributes; N-d inputs flattened."""

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)


class AffineBook2:
    """Book-2 style Affine: ``params``/``grads`` lists, gradients written in place (``[...] =``)."""

    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None
        self.shape = None

    def forward(self, x):
        W, b = self.params
        self.shape = x.shape
        self.x = x.reshape(len(x), -1)
        return np.matmul(self.x, W) + b

    def backward(self, dout):
        W, _ = self.params
        self.grads[0][...] = np.matmul(self.x.T, dout)
        self.grads[1][...] = dout.sum(axis=0)
        return np.matmul(dout, W.T).reshape(self.shape)


class SoftmaxWithLossLabels:
    """Book-2 style loss (empty ``params``/``grads``) taking integer labels or one-hot targets."""

    def __init__(self):
        self.params, self.grads = [], []
        self.y = self.t = None

    def forward(self, x, t):
        if t.size == x.size:  # one-hot rows -> labels (exact for one-hot targets)
            t = t.argmax(axis=1)
        logp = log_softmax(x)
        self.y, self.t = np.exp(logp), t
        return -np.mean(logp[np.arange(len(t)), t])

    def backward(self, dout=1):
        dx = self.y.copy()
        dx[np.arange(len(self.t)), self.t] -= 1
        return dx * dout / len(self.t)


class TwoLayerNetBook1:
    """Book-1 style TwoLayerNet: a ``params`` dict, ``loss(x, t)`` and ``gradient(x, t)`` by
    backpropagation, with the loss from log-softmax (no ``+ 1e-7``)."""

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
        return -np.sum(t * log_softmax(self._forward(x)[2])) / x.shape[0]

    def gradient(self, x, t):
        p = self.params
        pre, h, logits = self._forward(x)
        dlogits = (np.exp(log_softmax(logits)) - t) / x.shape[0]
        dpre = (dlogits @ p["W2"].T) * (pre > 0)
        return {"W1": x.T @ dpre, "b1": dpre.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}


class AddLayerBook:
    """The book's AddLayer (book 1, 5.4.1): ``dx = dout * 1`` gives each input its own new array."""

    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        dx = dout * 1
        dy = dout * 1
        return dx, dy


class BatchNormBiasedRunningVar:
    """Per-channel batch norm as CS231n and the book average it: ``running_var`` from the batch's
    biased variance (``np.var``), not torch's unbiased one: a convention, not a bug."""

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None, eps=1e-5):
        self.gamma, self.beta, self.momentum, self.eps = gamma, beta, momentum, eps
        self.running_mean = np.zeros_like(gamma) if running_mean is None else running_mean.copy()
        self.running_var = np.ones_like(gamma) if running_var is None else running_var.copy()

    def forward(self, x, train_flg=True):
        axes = (0, *range(2, x.ndim))
        shape = (1, -1) + (1,) * (x.ndim - 2)
        if train_flg:
            mu, var = x.mean(axis=axes), x.var(axis=axes)
            m = self.momentum
            self.running_mean = m * self.running_mean + (1 - m) * mu
            self.running_var = m * self.running_var + (1 - m) * var
        else:
            mu, var = self.running_mean, self.running_var
        self.train_flg = train_flg
        self.std = np.sqrt(var + self.eps).reshape(shape)
        self.xn = (x - mu.reshape(shape)) / self.std
        return self.gamma.reshape(shape) * self.xn + self.beta.reshape(shape)

    def backward(self, dout):
        axes = (0, *range(2, dout.ndim))
        shape = (1, -1) + (1,) * (dout.ndim - 2)
        self.dbeta = dout.sum(axis=axes)
        self.dgamma = (dout * self.xn).sum(axis=axes)
        dxn = dout * self.gamma.reshape(shape)
        if self.train_flg:
            dxn = (
                dxn
                - dxn.mean(axis=axes, keepdims=True)
                - self.xn * (dxn * self.xn).mean(axis=axes, keepdims=True)
            )
        return dxn / self.std
