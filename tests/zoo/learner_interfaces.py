"""Learners' layers whose interface differs from the book's in the ways measured in learners'
repositories (issue 18): the training flag under another name or by position, constructor
parameters named otherwise, an empty ``grads`` list beside ``dgamma``/``dbeta``. The harness must
bind each (tests/test_binding.py): the correct ones pass, each planted bug gets a named verdict,
none is refused as an interface the spec cannot drive.
"""

import numpy as np


class _BatchNorm:
    """Per-channel batch normalization (statistics over every axis but 1, as torch), eps 1e-5;
    the subclasses differ only in how forward takes the training flag."""

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma, self.beta, self.momentum = gamma, beta, momentum
        self.running_mean = np.zeros_like(gamma) if running_mean is None else running_mean
        self.running_var = np.ones_like(gamma) if running_var is None else running_var
        self.dgamma = self.dbeta = None

    def _forward(self, x, train):
        axes = (0, *range(2, x.ndim))
        self.shape = (1, -1) + (1,) * (x.ndim - 2)
        self.axes, self.train = axes, train
        if train:
            mu = x.mean(axis=axes, keepdims=True)
            var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
            m = self.momentum  # the book's running average, of the biased variance
            self.running_mean = m * self.running_mean + (1 - m) * mu.reshape(-1)
            self.running_var = m * self.running_var + (1 - m) * var.reshape(-1)
        else:
            mu, var = self.running_mean.reshape(self.shape), self.running_var.reshape(self.shape)
        self.std = np.sqrt(var + 1e-5)
        self.xn = (x - mu) / self.std
        return self.gamma.reshape(self.shape) * self.xn + self.beta.reshape(self.shape)

    def backward(self, dout):
        self.dbeta = dout.sum(axis=self.axes)
        self.dgamma = (dout * self.xn).sum(axis=self.axes)
        dxn = dout * self.gamma.reshape(self.shape)
        if self.train:
            dxn_xn = (dxn * self.xn).mean(axis=self.axes, keepdims=True)
            dxn = dxn - dxn.mean(axis=self.axes, keepdims=True) - self.xn * dxn_xn
        return dxn / self.std


class BatchNormTrain(_BatchNorm):
    """``forward(x, train=True)``."""

    def forward(self, x, train=True):
        return self._forward(x, train)


class BatchNormIsTrain(_BatchNorm):
    """``forward(x, is_train)``: the flag by position, no default."""

    def forward(self, x, is_train):
        return self._forward(x, is_train)


class BatchNormTrainFlag(_BatchNorm):
    """``forward(x, train_flag=True)``."""

    def forward(self, x, train_flag=True):
        return self._forward(x, train_flag)


class BatchNormTrainNoCentering(BatchNormTrain):
    """Planted bug: backward drops the mean of the upstream gradient (the batch mean's path)."""

    def backward(self, dout):
        dx = super().backward(dout)
        dxn = dout * self.gamma.reshape(self.shape)
        return dx + dxn.mean(axis=self.axes, keepdims=True) / self.std


class BatchNormEmptyGrads(_BatchNorm):
    """Book 2's ``params``/``grads`` skeleton left empty, the gradients in ``dgamma``/``dbeta``."""

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        super().__init__(gamma, beta, momentum, running_mean, running_var)
        self.params, self.grads = [gamma, beta], []

    def forward(self, x, train_flg=True):
        return self._forward(x, train_flg)


class BatchNormEmptyGradsSwapped(BatchNormEmptyGrads):
    """Planted bug: dgamma and dbeta swapped."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.dgamma, self.dbeta = self.dbeta, self.dgamma
        return dx


class Pooling:
    """Max pooling written with loops, the constructor's parameters named in full
    (``pool_height, pool_width, stride, pad``); -inf padding, the first maximum takes the gradient."""

    def __init__(self, pool_height, pool_width, stride=1, pad=0):
        self.pool_height = pool_height
        self.pool_width = pool_width
        self.stride = stride
        self.pad = pad

    def forward(self, x):
        N, C, H, W = x.shape
        ph, pw, s, p = self.pool_height, self.pool_width, self.stride, self.pad
        xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf)
        out_h, out_w = (H + 2 * p - ph) // s + 1, (W + 2 * p - pw) // s + 1
        out = np.empty((N, C, out_h, out_w), dtype=x.dtype)
        self.arg_max = np.empty((N, C, out_h, out_w), dtype=int)
        for i in range(out_h):
            for j in range(out_w):
                window = xp[:, :, i * s : i * s + ph, j * s : j * s + pw].reshape(N, C, -1)
                self.arg_max[:, :, i, j] = np.argmax(window, axis=2)
                out[:, :, i, j] = np.max(window, axis=2)
        self.x_shape = x.shape
        return out

    def backward(self, dout):
        N, C, H, W = self.x_shape
        s, p = self.stride, self.pad
        dxp = np.zeros((N, C, H + 2 * p, W + 2 * p), dtype=dout.dtype)
        n, c = np.indices((N, C))
        for i in range(dout.shape[2]):
            for j in range(dout.shape[3]):
                r, q = np.divmod(self.arg_max[:, :, i, j], self.pool_width)
                self._route(dxp, (n, c, i * s + r, j * s + q), dout[:, :, i, j])
        return dxp[:, :, p : p + H, p : p + W]

    def _route(self, dxp, where, grad):
        np.add.at(dxp, where, grad)  # overlapping windows add up


class PoolingOverwritesOverlaps(Pooling):
    """Planted bug: a cell chosen by two overlapping windows keeps only the last one's gradient."""

    def _route(self, dxp, where, grad):
        dxp[where] = grad


class DropoutIsTraining:
    """The book's non-inverted dropout with ``forward(x, is_training=True)``."""

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, is_training=True):
        if is_training:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio  # noqa: NPY002 - the book's RNG
            return x * self.mask
        return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        return dout * self.mask


class DropoutP(DropoutIsTraining):
    """The constructor's ratio named ``p`` (torch's name), in the book's place."""

    def __init__(self, p=0.5):
        super().__init__(p)
