"""The book's Dropout and BatchNormalization (``common/layers.py``), verbatim, and two learners'
batch norms that follow other known conventions. None of these is wrong; each follows a convention
the default specs do not, and ``crosscheck check`` must say which by name (tests/test_conventions.py).
At the end, planted bugs and interface mismatches for which no convention may be claimed.
"""

# The book's code is kept verbatim (legacy np.random, unused unpacked sizes, its parentheses).
# ruff: noqa: NPY002, RUF059, UP034

import numpy as np


class Dropout:
    """The book's Dropout: no ``mask`` argument (it draws its own from NumPy's global RNG), and
    non-inverted: nothing is scaled in training, the output is scaled by ``1 - p`` at inference."""

    def __init__(self, dropout_ratio=0.5):
        self.dropout_ratio = dropout_ratio
        self.mask = None

    def forward(self, x, train_flg=True):
        if train_flg:
            self.mask = np.random.rand(*x.shape) > self.dropout_ratio
            return x * self.mask
        else:
            return x * (1.0 - self.dropout_ratio)

    def backward(self, dout):
        return dout * self.mask


class BatchNormalization:
    """The book's BatchNormalization: a 4-D input is flattened to (N, C*H*W) and each of those
    features normalized on its own (gamma has shape (C*H*W,)); eps is ``10e-7``, i.e. 1e-6."""

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma = gamma
        self.beta = beta
        self.momentum = momentum
        self.input_shape = None  # Conv層の場合は4次元、全結合層の場合は2次元

        # テスト時に使用する平均と分散
        self.running_mean = running_mean
        self.running_var = running_var

        # backward時に使用する中間データ
        self.batch_size = None
        self.xc = None
        self.std = None
        self.dgamma = None
        self.dbeta = None

    def forward(self, x, train_flg=True):
        self.input_shape = x.shape
        if x.ndim != 2:
            N, C, H, W = x.shape
            x = x.reshape(N, -1)

        out = self.__forward(x, train_flg)

        return out.reshape(*self.input_shape)

    def __forward(self, x, train_flg):
        if self.running_mean is None:
            N, D = x.shape
            self.running_mean = np.zeros(D)
            self.running_var = np.zeros(D)

        if train_flg:
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc**2, axis=0)
            std = np.sqrt(var + 10e-7)
            xn = xc / std

            self.batch_size = x.shape[0]
            self.xc = xc
            self.xn = xn
            self.std = std
            self.running_mean = self.momentum * self.running_mean + (1 - self.momentum) * mu
            self.running_var = self.momentum * self.running_var + (1 - self.momentum) * var
        else:
            xc = x - self.running_mean
            xn = xc / ((np.sqrt(self.running_var + 10e-7)))

        out = self.gamma * xn + self.beta
        return out

    def backward(self, dout):
        if dout.ndim != 2:
            N, C, H, W = dout.shape
            dout = dout.reshape(N, -1)

        dx = self.__backward(dout)

        dx = dx.reshape(*self.input_shape)
        return dx

    def __backward(self, dout):
        dbeta = dout.sum(axis=0)
        dgamma = np.sum(self.xn * dout, axis=0)
        dxn = self.gamma * dout
        dxc = dxn / self.std
        dstd = -np.sum((dxn * self.xc) / (self.std * self.std), axis=0)
        dvar = 0.5 * dstd / self.std
        dxc += (2.0 / self.batch_size) * self.xc * dvar
        dmu = np.sum(dxc, axis=0)
        dx = dxc - dmu / self.batch_size

        self.dgamma = dgamma
        self.dbeta = dbeta

        return dx


class _ChannelBatchNorm:
    """Per-channel batch normalization (statistics over every axis but 1, as torch), eps given."""

    eps = 1e-5

    def __init__(self, gamma, beta, momentum=0.9, running_mean=None, running_var=None):
        self.gamma, self.beta, self.momentum = gamma, beta, momentum
        self.running_mean = np.zeros_like(gamma) if running_mean is None else running_mean
        self.running_var = np.ones_like(gamma) if running_var is None else running_var
        self.dgamma = self.dbeta = None
        self.train = None

    def _shape(self, x):
        return (0, *range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)

    def forward(self, x, train_flg=True):
        axes, shape = self._shape(x)
        if train_flg:
            mu = x.mean(axis=axes, keepdims=True)
            var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
            m = self.momentum  # the book's running average, of the biased variance
            self.running_mean = m * self.running_mean + (1 - m) * mu.reshape(-1)
            self.running_var = m * self.running_var + (1 - m) * var.reshape(-1)
        else:
            mu, var = self.running_mean.reshape(shape), self.running_var.reshape(shape)
        self.std = np.sqrt(var + self.eps)
        self.xn = (x - mu) / self.std
        self.train = train_flg
        return self.gamma.reshape(shape) * self.xn + self.beta.reshape(shape)

    def backward(self, dout):
        axes, shape = self._shape(dout)
        self.dbeta = dout.sum(axis=axes)
        self.dgamma = (dout * self.xn).sum(axis=axes)
        dxn = dout * self.gamma.reshape(shape)
        dxn_xn = (dxn * self.xn).mean(axis=axes, keepdims=True)
        dxn = dxn - dxn.mean(axis=axes, keepdims=True) - self.xn * dxn_xn
        return dxn / self.std


class BatchNormEps6(_ChannelBatchNorm):
    """Per channel, like torch, but with eps = 1e-6 instead of torch's 1e-5."""

    eps = 1e-6


class BatchNormTrainOnlyBackward(_ChannelBatchNorm):
    """Per channel, eps 1e-5, and no backward in inference mode (only training is differentiated)."""

    def backward(self, dout):
        if not self.train:
            raise NotImplementedError("backward is only defined in training mode")
        return super().backward(dout)


# ---- planted bugs: a convention must never be claimed for these (tests/test_conventions.py) ----


class DropoutIgnoringMaskInBackward(Dropout):
    """The book's Dropout with a bug: backward passes every gradient through, dropped units too."""

    def backward(self, dout):
        return dout


class BatchNormWrongEvalBackward(_ChannelBatchNorm):
    """An inference-mode backward that forgets to divide by the running std: a wrong number, not a
    missing backward, so "no backward in inference mode" must not be claimed for it."""

    def backward(self, dout):
        if self.train:
            return super().backward(dout)
        axes, shape = self._shape(dout)
        self.dbeta = dout.sum(axis=axes)
        self.dgamma = (dout * self.xn).sum(axis=axes)
        return dout * self.gamma.reshape(shape)


class DropoutOwnGenerator(Dropout):
    """Draws its mask from an unseeded Generator of its own: np.random.seed cannot reproduce it."""

    def __init__(self, dropout_ratio=0.5):
        super().__init__(dropout_ratio)
        self.rng = np.random.default_rng()

    def forward(self, x, train_flg=True):
        self.mask = self.rng.random(x.shape) > self.dropout_ratio
        return x * self.mask


class DropoutNoTrainFlag(Dropout):
    """A dropout whose forward takes no ``train_flg``: an interface the specs cannot drive."""

    def forward(self, x):
        self.mask = np.random.rand(*x.shape) > self.dropout_ratio
        return x * self.mask


class DropoutOtherConstructor(Dropout):
    """A constructor that takes ``p`` by keyword only, not the book's ``dropout_ratio``: neither
    the name nor the position binds (a positional ``p`` is bound: tests/test_binding.py)."""

    def __init__(self, *, p=0.5):
        super().__init__(p)


class BatchNormTypeErrorInside(_ChannelBatchNorm):
    """A TypeError raised inside the class's own forward (not by the harness's call): a finding."""

    def forward(self, x, train_flg=True):
        return super().forward(x, train_flg) + None



class BatchNormalizationNoEpsInBackward(BatchNormalization):
    """The book's BatchNormalization whose backward divides by ``sqrt(var)``, not ``sqrt(var + eps)``
    (the forward keeps eps): NaN on a constant feature, gradients off by ~eps/var elsewhere. Its
    forward agrees under every eps, so a forward probe passes for any of them; no convention may be
    claimed, since a rerun under each still fails."""

    def _BatchNormalization__backward(self, dout):
        self.std = np.sqrt(np.mean(self.xc**2, axis=0))
        return super()._BatchNormalization__backward(dout)


def _im2col(x, fh, fw, stride):
    """The book's ``im2col`` (common/util.py) without padding: one row per window."""
    N, C, H, W = x.shape
    oh, ow = (H - fh) // stride + 1, (W - fw) // stride + 1
    col = np.zeros((N, C, fh, fw, oh, ow), dtype=x.dtype)
    for y in range(fh):
        y_max = y + stride * oh
        for x_ in range(fw):
            x_max = x_ + stride * ow
            col[:, :, y, x_, :, :] = x[:, :, y:y_max:stride, x_:x_max:stride]
    return col.transpose(0, 4, 5, 1, 2, 3).reshape(N * oh * ow, -1)


def _col2im(col, shape, fh, fw, stride, add=True):
    """The book's ``col2im``: overlapping windows add their gradients (``add=False``: assigned)."""
    N, C, H, W = shape
    oh, ow = (H - fh) // stride + 1, (W - fw) // stride + 1
    col = col.reshape(N, oh, ow, C, fh, fw).transpose(0, 3, 4, 5, 1, 2)
    img = np.zeros(shape, dtype=col.dtype)
    for y in range(fh):
        y_max = y + stride * oh
        for x_ in range(fw):
            x_max = x_ + stride * ow
            if add:
                img[:, :, y:y_max:stride, x_:x_max:stride] += col[:, :, y, x_, :, :]
            else:
                img[:, :, y:y_max:stride, x_:x_max:stride] = col[:, :, y, x_, :, :]
    return img


class Pooling:
    """The book's Pooling through im2col/col2im, written for unpadded input: it raises on pad > 0."""

    add = True

    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        if pad:
            raise ValueError("Pooling: padding is not supported")
        self.pool_h, self.pool_w, self.stride = pool_h, pool_w, stride
        self.x = self.arg_max = None

    def forward(self, x):
        N, C, H, W = x.shape
        out_h = (H - self.pool_h) // self.stride + 1
        out_w = (W - self.pool_w) // self.stride + 1
        col = _im2col(x, self.pool_h, self.pool_w, self.stride).reshape(-1, self.pool_h * self.pool_w)
        self.x, self.arg_max = x, np.argmax(col, axis=1)
        return np.max(col, axis=1).reshape(N, out_h, out_w, C).transpose(0, 3, 1, 2)

    def backward(self, dout):
        dout = dout.transpose(0, 2, 3, 1)
        size = self.pool_h * self.pool_w
        dmax = np.zeros((dout.size, size), dtype=dout.dtype)
        dmax[np.arange(self.arg_max.size), self.arg_max.flatten()] = dout.flatten()
        dcol = dmax.reshape(dout.shape[0] * dout.shape[1] * dout.shape[2], -1)  # a row per window
        return _col2im(dcol, self.x.shape, self.pool_h, self.pool_w, self.stride, add=self.add)


class PoolingCol2imAssigns(Pooling):
    """The book's Pooling with a col2im that assigns instead of adding: wrong wherever windows
    overlap (a cell that is the maximum of two windows keeps one window's gradient)."""

    add = False


class DropoutTwoDOnly(Dropout):
    """The book's Dropout written for (N, D) input (``N, D = x.shape``): it raises on a 4-D batch.
    Its mask is drawn by itself (no ``mask=``), so the spec recovers the mask by calling forward,
    which must not end the run on the shape sets it raises on."""

    def forward(self, x, train_flg=True):
        N, D = x.shape
        return super().forward(x, train_flg)
