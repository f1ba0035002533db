"""Book 2's layers (*Deep Learning from Scratch 2*) written the way the book writes them, in its
own layout (``common/layers.py``, ``common/time_layers.py``, ``ch04/negative_sampling_layer.py``,
``ch08/attention_layer.py``), NumPy only; re-typed, names as in the book. Where the book has a real
bug it is kept and named in the class's docstring (tests/test_catches_new_layer_bugs.py proves each
is caught for its reason); ``Loop*`` classes are correct layers written another way; ``Broken*``
classes carry one planted bug each.
"""

# ruff: noqa: B905, NPY002, RUF059, SIM118
from __future__ import annotations

import numpy as np

from tests.zoo.graph_layers import BookSoftmax as Softmax  # book 2's common/layers.py Softmax

# ---- common/functions.py and common/layers.py, what the time layers build on ----------------------


def softmax(x):
    if x.ndim == 2:
        x = x - x.max(axis=1, keepdims=True)
        x = np.exp(x)
        x /= x.sum(axis=1, keepdims=True)
    elif x.ndim == 1:
        x = x - np.max(x)
        x = np.exp(x) / np.sum(np.exp(x))
    return x


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class Embedding:
    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.idx = None

    def forward(self, idx):
        (W,) = self.params
        self.idx = idx
        return W[idx]

    def backward(self, dout):
        (dW,) = self.grads
        dW[...] = 0
        np.add.at(dW, self.idx, dout)
        return None


class SigmoidWithLoss:
    """Book 2's: the loss through ``cross_entropy_error``, whose ``log(y + 1e-7)`` is off by up to
    1e-7 / y (a real bug: time_sigmoid_with_loss's forward vs torch rejects it)."""

    def __init__(self):
        self.params, self.grads = [], []
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = 1 / (1 + np.exp(-x))
        self.loss = cross_entropy_error(np.c_[1 - self.y, self.y], self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        return (self.y - self.t) * dout / batch_size


# ---- common/time_layers.py -------------------------------------------------------------------------


class TimeEmbedding:
    """Book 2's, one Embedding per step. Its ``dtype='f'`` buffer makes every output float32 (a real
    bug for float64 input: forward's dtype check rejects it); in float32 it is right."""

    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.layers = None
        self.W = W

    def forward(self, xs):
        N, T = xs.shape
        V, D = self.W.shape
        out = np.empty((N, T, D), dtype="f")
        self.layers = []
        for t in range(T):
            layer = Embedding(self.W)
            out[:, t, :] = layer.forward(xs[:, t])
            self.layers.append(layer)
        return out

    def backward(self, dout):
        N, T, D = dout.shape
        grad = 0
        for t in range(T):
            layer = self.layers[t]
            layer.backward(dout[:, t, :])
            grad += layer.grads[0]
        self.grads[0][...] = grad
        return None


class TimeAffine:
    """Book 2's, reshaped to one matrix product: right as written."""

    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x):
        N, T, D = x.shape
        W, b = self.params
        rx = x.reshape(N * T, -1)
        out = np.dot(rx, W) + b
        self.x = x
        return out.reshape(N, T, -1)

    def backward(self, dout):
        x = self.x
        N, T, D = x.shape
        W, b = self.params
        dout = dout.reshape(N * T, -1)
        rx = x.reshape(N * T, -1)
        db = np.sum(dout, axis=0)
        dW = np.dot(rx.T, dout)
        dx = np.dot(dout, W.T)
        dx = dx.reshape(*x.shape)
        self.grads[0][...] = dW
        self.grads[1][...] = db
        return dx


class TimeSoftmaxWithLoss:
    """Book 2's. Two real bugs: ``backward`` writes into its cached softmax (``dx = ys; dx[...] -= 1;
    dx *= dout; dx /= ...``), so a second backward differs from the first; and ``log(softmax)`` is
    -inf where softmax rounds to 0 (logits ±1e4)."""

    def __init__(self):
        self.params, self.grads = [], []
        self.cache = None
        self.ignore_label = -1

    def forward(self, xs, ts):
        N, T, V = xs.shape
        if ts.ndim == 3:
            ts = ts.argmax(axis=2)
        mask = ts != self.ignore_label
        xs = xs.reshape(N * T, V)
        ts = ts.reshape(N * T)
        mask = mask.reshape(N * T)
        ys = softmax(xs)
        ls = np.log(ys[np.arange(N * T), ts])
        ls *= mask
        loss = -np.sum(ls)
        loss /= mask.sum()
        self.cache = (ts, ys, mask, (N, T, V))
        return loss

    def backward(self, dout=1):
        ts, ys, mask, (N, T, V) = self.cache
        dx = ys
        dx[np.arange(N * T), ts] -= 1
        dx *= dout
        dx /= mask.sum()
        dx *= mask[:, np.newaxis]
        return dx.reshape((N, T, V))


class TimeDropout:
    """Book 2's: draws its own mask from ``np.random.rand``, inverted scaling; right as written."""

    def __init__(self, dropout_ratio=0.5):
        self.params, self.grads = [], []
        self.dropout_ratio = dropout_ratio
        self.mask = None
        self.train_flg = True

    def forward(self, xs):
        if self.train_flg:
            flg = np.random.rand(*xs.shape) > self.dropout_ratio
            scale = 1 / (1.0 - self.dropout_ratio)
            self.mask = flg.astype(np.float32) * scale
            return xs * self.mask
        return xs

    def backward(self, dout):
        return dout * self.mask


class TimeSigmoidWithLoss:
    """Book 2's, one SigmoidWithLoss per step. Real bugs: the ``+1e-7`` of cross_entropy_error, and
    ``dout *= 1/T`` writes into the caller's upstream gradient (raises on a read-only one)."""

    def __init__(self):
        self.params, self.grads = [], []
        self.xs_shape = None
        self.layers = None

    def forward(self, xs, ts):
        N, T = xs.shape
        self.xs_shape = xs.shape
        self.layers = []
        loss = 0
        for t in range(T):
            layer = SigmoidWithLoss()
            loss += layer.forward(xs[:, t], ts[:, t])
            self.layers.append(layer)
        return loss / T

    def backward(self, dout=1):
        N, T = self.xs_shape
        dxs = np.empty(self.xs_shape, dtype="f")
        dout *= 1 / T
        for t in range(T):
            layer = self.layers[t]
            dxs[:, t] = layer.backward(dout)
        return dxs


# ---- correct variants written another way, and planted bugs -----------------------------------------


class LoopTimeSoftmaxWithLoss:
    """Right, per step: log-softmax of each (N, V) slice, ignored steps masked, the mean over the
    counted ones; nothing cached is written to."""

    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, xs, ts):
        N, T, V = xs.shape
        self.ys, self.ts, self.count = [], ts, int(np.sum(ts != -1))
        loss = 0.0
        for t in range(T):
            s = xs[:, t, :] - xs[:, t, :].max(axis=1, keepdims=True)
            logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
            self.ys.append(np.exp(logp))
            kept = ts[:, t] != -1
            loss -= np.sum(logp[np.arange(N), np.where(kept, ts[:, t], 0)] * kept)
        return loss / self.count

    def backward(self, dout=1):
        N, T = self.ts.shape
        dxs = np.zeros((N, T, self.ys[0].shape[1]), dtype=self.ys[0].dtype)
        for t in range(T):
            kept = self.ts[:, t] != -1
            dx = self.ys[t].copy()
            dx[np.arange(N), np.where(kept, self.ts[:, t], 0)] -= 1
            dxs[:, t, :] = dx * kept[:, None] * dout / self.count
        return dxs


class BrokenTimeSoftmaxWithLossCountsIgnored(LoopTimeSoftmaxWithLoss):
    """Ignored steps add nothing to the sum but are counted in the mean (``/ (N * T)``)."""

    def forward(self, xs, ts):
        loss = super().forward(xs, ts) * self.count
        self.count = ts.size
        return loss / self.count


# ---- ch04/negative_sampling_layer.py ----------------------------------------------------------------


class EmbeddingDot:
    """Book 2's: right as written."""

    def __init__(self, W):
        self.embed = Embedding(W)
        self.params = self.embed.params
        self.grads = self.embed.grads
        self.cache = None

    def forward(self, h, idx):
        target_W = self.embed.forward(idx)
        out = np.sum(target_W * h, axis=1)
        self.cache = (h, target_W)
        return out

    def backward(self, dout):
        h, target_W = self.cache
        dout = dout.reshape(dout.shape[0], 1)
        dtarget_W = dout * h
        self.embed.backward(dtarget_W)
        return dout * target_W


class NegativeSamplingLoss:
    """Book 2's, but for its sampler (``UnigramSampler(corpus, ...)``, drawn inside ``forward``): its
    constructor requires ``corpus``, which the spec does not pass (samples are handed to forward),
    so it is an interface error, named as such; it also lists ``W`` once per EmbeddingDot."""

    def __init__(self, W, corpus, power=0.75, sample_size=5):
        self.sample_size = sample_size
        self.loss_layers = [SigmoidWithLoss() for _ in range(sample_size + 1)]
        self.embed_dot_layers = [EmbeddingDot(W) for _ in range(sample_size + 1)]
        self.params, self.grads = [], []
        for layer in self.embed_dot_layers:
            self.params += layer.params
            self.grads += layer.grads


class LoopNegativeSamplingLoss:
    """Right, written with one EmbeddingDot per sample (the book's layout), samples handed in, the
    loss by ``logaddexp`` and the K + 1 partial dW summed into one gradient."""

    def __init__(self, W, sample_size=5):
        self.params, self.grads = [W], [np.zeros_like(W)]
        self.layers = [EmbeddingDot(W) for _ in range(sample_size + 1)]

    def forward(self, h, target, negative_sample):
        N = len(target)
        self.ys, self.labels, loss = [], [1] + [0] * negative_sample.shape[1], 0.0
        for layer, ids, label in zip(self.layers, [target, *negative_sample.T], self.labels):
            s = layer.forward(h, ids)
            loss += np.sum(np.logaddexp(0, s) - label * s) / N
            self.ys.append(1 / (1 + np.exp(-s)))
        return loss

    def backward(self, dout=1):
        dh = 0
        self.grads[0][...] = 0
        for layer, y, label in zip(self.layers, self.ys, self.labels):
            dh = dh + layer.backward((y - label) * dout / len(y))
            self.grads[0] += layer.grads[0]
        return dh


class BrokenNegativeSamplingLossNoPositive(LoopNegativeSamplingLoss):
    """The positive pair's term is left out: only the negative samples are scored."""

    def forward(self, h, target, negative_sample):
        loss = super().forward(h, target, negative_sample)
        s = np.sum(self.layers[0].cache[1] * h, axis=1)
        self.ys[0] = np.ones_like(self.ys[0])  # y - 1 = 0: no gradient from the positive pair either
        return loss - np.sum(np.logaddexp(0, s) - s) / len(target)


# ---- ch08/attention_layer.py ------------------------------------------------------------------------


class WeightSum:
    """Book 2's: right as written."""

    def __init__(self):
        self.params, self.grads = [], []
        self.cache = None

    def forward(self, hs, a):
        N, T, H = hs.shape
        ar = a.reshape(N, T, 1)
        c = np.sum(hs * ar, axis=1)
        self.cache = (hs, ar)
        return c

    def backward(self, dc):
        hs, ar = self.cache
        N, T, H = hs.shape
        dt = dc.reshape(N, 1, H).repeat(T, axis=1)
        dar = dt * hs
        dhs = dt * ar
        da = np.sum(dar, axis=2)
        return dhs, da


class AttentionWeight:
    """Book 2's: right as written."""

    def __init__(self):
        self.params, self.grads = [], []
        self.softmax = Softmax()
        self.cache = None

    def forward(self, hs, h):
        N, T, H = hs.shape
        hr = h.reshape(N, 1, H)
        s = np.sum(hs * hr, axis=2)
        a = self.softmax.forward(s)
        self.cache = (hs, hr)
        return a

    def backward(self, da):
        hs, hr = self.cache
        N, T, H = hs.shape
        ds = self.softmax.backward(da)
        dt = ds.reshape(N, T, 1).repeat(H, axis=2)
        dhs = dt * hr
        dhr = dt * hs
        dh = np.sum(dhr, axis=1)
        return dhs, dh


class Attention:
    """Book 2's: right as written."""

    def __init__(self):
        self.params, self.grads = [], []
        self.attention_weight_layer = AttentionWeight()
        self.weight_sum_layer = WeightSum()
        self.attention_weight = None

    def forward(self, hs, h):
        a = self.attention_weight_layer.forward(hs, h)
        out = self.weight_sum_layer.forward(hs, a)
        self.attention_weight = a
        return out

    def backward(self, dout):
        dhs0, da = self.weight_sum_layer.backward(dout)
        dhs1, dh = self.attention_weight_layer.backward(da)
        return dhs0 + dhs1, dh


class TimeAttention:
    """Book 2's, one Attention per decoder step: right as written."""

    def __init__(self):
        self.params, self.grads = [], []
        self.layers = None
        self.attention_weights = None

    def forward(self, hs_enc, hs_dec):
        N, T, H = hs_dec.shape
        out = np.empty_like(hs_dec)
        self.layers = []
        self.attention_weights = []
        for t in range(T):
            layer = Attention()
            out[:, t, :] = layer.forward(hs_enc, hs_dec[:, t, :])
            self.layers.append(layer)
            self.attention_weights.append(layer.attention_weight)
        return out

    def backward(self, dout):
        N, T, H = dout.shape
        dhs_enc = 0
        dhs_dec = np.empty_like(dout)
        for t in range(T):
            layer = self.layers[t]
            dhs, dh = layer.backward(dout[:, t, :])
            dhs_enc += dhs
            dhs_dec[:, t, :] = dh
        return dhs_enc, dhs_dec


# ---- common/util.py's clip_grads, and RMSprop --------------------------------------------------------


def clip_grads(grads, max_norm):
    """Book 2's: right as written."""
    total_norm = 0
    for grad in grads:
        total_norm += np.sum(grad**2)
    total_norm = np.sqrt(total_norm)
    rate = max_norm / (total_norm + 1e-6)
    if rate < 1:
        for grad in grads:
            grad *= rate


def clip_each_grad(grads, max_norm):
    """Planted: each gradient clipped by its own norm, so the directions of the whole change."""
    for grad in grads:
        rate = max_norm / (np.sqrt(np.sum(grad**2)) + 1e-6)
        if rate < 1:
            grad *= rate


class RMSprop:
    """RMSprop as book 1 writes it (``params``/``grads`` dicts; book 2's is the same update over
    lists): right as written, eps 1e-7 after the root."""

    def __init__(self, lr=0.01, decay_rate=0.99):
        self.lr = lr
        self.decay_rate = decay_rate
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.zeros_like(val)
        for key in params.keys():
            self.h[key] *= self.decay_rate
            self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
