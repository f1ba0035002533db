# ruff: noqa: RUF059 - the book unpacks every parameter and shape, used or not
"""Book 2's recurrent layers as learners write them, following the book's interface: ``params`` /
``grads`` lists written in place, the LSTM's gates packed ``[f, g, i, o]``, the GRU's attributes
``Wx``/``Wh``/``dWx``/``dWh`` and its formula, ``stateful``/``set_state``/``reset_state``/``dh``.
One change from the book: arrays take the input's dtype where the book writes ``dtype='f'``, so
the classes run in float64 too. Each must pass its spec. NumPy only, self-contained like a
user's file; the planted bugs are in broken_time.py.
"""

from __future__ import annotations

import numpy as np


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


class RNN:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h_prev):
        Wx, Wh, b = self.params
        h_next = np.tanh(np.dot(h_prev, Wh) + np.dot(x, Wx) + b)
        self.cache = (x, h_prev, h_next)
        return h_next

    def backward(self, dh_next):
        Wx, Wh, b = self.params
        x, h_prev, h_next = self.cache
        dt = dh_next * (1 - h_next**2)
        self.grads[0][...] = np.dot(x.T, dt)
        self.grads[1][...] = np.dot(h_prev.T, dt)
        self.grads[2][...] = np.sum(dt, axis=0)
        return np.dot(dt, Wx.T), np.dot(dt, Wh.T)


class TimeRNN:
    cell = RNN

    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.layers = None
        self.h, self.dh = None, None
        self.stateful = stateful

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        H = Wh.shape[0]
        self.layers = []
        hs = np.empty((N, T, H), dtype=xs.dtype)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=xs.dtype)
        for t in range(T):
            layer = self.cell(*self.params)
            self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        dxs = np.empty((N, T, Wx.shape[0]), dtype=dhs.dtype)
        dh = 0
        grads = [0, 0, 0]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, dh = layer.backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        self.dh = dh
        return dxs

    def set_state(self, h):
        self.h = h

    def reset_state(self):
        self.h = None


class LSTM:
    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.cache = None

    def forward(self, x, h_prev, c_prev):
        Wx, Wh, b = self.params
        N, H = h_prev.shape
        A = np.dot(x, Wx) + np.dot(h_prev, Wh) + b
        f = sigmoid(A[:, :H])
        g = np.tanh(A[:, H : 2 * H])
        i = sigmoid(A[:, 2 * H : 3 * H])
        o = sigmoid(A[:, 3 * H :])
        c_next = f * c_prev + g * i
        h_next = o * np.tanh(c_next)
        self.cache = (x, h_prev, c_prev, i, f, g, o, c_next)
        return h_next, c_next

    def backward(self, dh_next, dc_next):
        Wx, Wh, b = self.params
        x, h_prev, c_prev, i, f, g, o, c_next = self.cache
        tanh_c_next = np.tanh(c_next)
        ds = dc_next + (dh_next * o) * (1 - tanh_c_next**2)
        dc_prev = ds * f
        di = ds * g * i * (1 - i)
        df = ds * c_prev * f * (1 - f)
        do = dh_next * tanh_c_next * o * (1 - o)
        dg = ds * i * (1 - g**2)
        dA = np.hstack((df, dg, di, do))
        self.grads[0][...] = np.dot(x.T, dA)
        self.grads[1][...] = np.dot(h_prev.T, dA)
        self.grads[2][...] = dA.sum(axis=0)
        return np.dot(dA, Wx.T), np.dot(dA, Wh.T), dc_prev


class TimeLSTM:
    cell = LSTM

    def __init__(self, Wx, Wh, b, stateful=False):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]
        self.layers = None
        self.h, self.c = None, None
        self.dh = None
        self.stateful = stateful

    def forward(self, xs):
        Wx, Wh, b = self.params
        N, T, D = xs.shape
        H = Wh.shape[0]
        self.layers = []
        hs = np.empty((N, T, H), dtype=xs.dtype)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=xs.dtype)
        if not self.stateful or self.c is None:
            self.c = np.zeros((N, H), dtype=xs.dtype)
        for t in range(T):
            layer = self.cell(*self.params)
            self.h, self.c = layer.forward(xs[:, t, :], self.h, self.c)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        Wx, Wh, b = self.params
        N, T, H = dhs.shape
        dxs = np.empty((N, T, Wx.shape[0]), dtype=dhs.dtype)
        dh, dc = 0, 0
        grads = [0, 0, 0]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, dh, dc = layer.backward(dhs[:, t, :] + dh, dc)
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        self.dh = dh
        return dxs

    def set_state(self, h, c=None):
        self.h, self.c = h, c

    def reset_state(self):
        self.h, self.c = None, None


class GRU:
    """The book's GRU: attributes, no bias, ``r`` applied before the matmul."""

    def __init__(self, Wx, Wh):
        self.Wx, self.Wh = Wx, Wh
        self.dWx, self.dWh = None, None
        self.cache = None

    def forward(self, x, h_prev):
        H = self.Wh.shape[0]
        Wxz, Wxr, Wxh = self.Wx[:, :H], self.Wx[:, H : 2 * H], self.Wx[:, 2 * H :]
        Whz, Whr, Whh = self.Wh[:, :H], self.Wh[:, H : 2 * H], self.Wh[:, 2 * H :]
        z = sigmoid(np.dot(x, Wxz) + np.dot(h_prev, Whz))
        r = sigmoid(np.dot(x, Wxr) + np.dot(h_prev, Whr))
        h_hat = np.tanh(np.dot(x, Wxh) + np.dot(r * h_prev, Whh))
        self.cache = (x, h_prev, z, r, h_hat)
        return (1 - z) * h_prev + z * h_hat

    def backward(self, dh_next):
        H = self.Wh.shape[0]
        Wxz, Wxr, Wxh = self.Wx[:, :H], self.Wx[:, H : 2 * H], self.Wx[:, 2 * H :]
        Whz, Whr, Whh = self.Wh[:, :H], self.Wh[:, H : 2 * H], self.Wh[:, 2 * H :]
        x, h_prev, z, r, h_hat = self.cache
        dt = dh_next * z * (1 - h_hat**2)
        dWhh = np.dot((r * h_prev).T, dt)
        dhr = np.dot(dt, Whh.T)
        dWxh = np.dot(x.T, dt)
        dx = np.dot(dt, Wxh.T)
        dh_prev = dh_next * (1 - z) + r * dhr
        dt = dh_next * (h_hat - h_prev) * z * (1 - z)
        dWhz, dWxz = np.dot(h_prev.T, dt), np.dot(x.T, dt)
        dh_prev += np.dot(dt, Whz.T)
        dx += np.dot(dt, Wxz.T)
        dt = dhr * h_prev * r * (1 - r)
        dWhr, dWxr = np.dot(h_prev.T, dt), np.dot(x.T, dt)
        dh_prev += np.dot(dt, Whr.T)
        dx += np.dot(dt, Wxr.T)
        self.dWx = np.hstack((dWxz, dWxr, dWxh))
        self.dWh = np.hstack((dWhz, dWhr, dWhh))
        return dx, dh_prev


class TimeGRU:
    def __init__(self, Wx, Wh, stateful=False):
        self.Wx, self.Wh = Wx, Wh
        self.dWx, self.dWh = None, None
        self.layers = None
        self.h, self.dh = None, None
        self.stateful = stateful

    def forward(self, xs):
        N, T, D = xs.shape
        H = self.Wh.shape[0]
        self.layers = []
        hs = np.empty((N, T, H), dtype=xs.dtype)
        if not self.stateful or self.h is None:
            self.h = np.zeros((N, H), dtype=xs.dtype)
        for t in range(T):
            layer = GRU(self.Wx, self.Wh)
            self.h = layer.forward(xs[:, t, :], self.h)
            hs[:, t, :] = self.h
            self.layers.append(layer)
        return hs

    def backward(self, dhs):
        N, T, H = dhs.shape
        dxs = np.empty((N, T, self.Wx.shape[0]), dtype=dhs.dtype)
        self.dWx, self.dWh = 0, 0
        dh = 0
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, dh = layer.backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            self.dWx += layer.dWx
            self.dWh += layer.dWh
        self.dh = dh
        return dxs

    def set_state(self, h):
        self.h = h

    def reset_state(self):
        self.h = None


class TimeBiLSTM:
    def __init__(self, Wx1, Wh1, b1, Wx2, Wh2, b2, stateful=False):
        self.forward_lstm = TimeLSTM(Wx1, Wh1, b1, stateful)
        self.backward_lstm = TimeLSTM(Wx2, Wh2, b2, stateful)
        self.params = self.forward_lstm.params + self.backward_lstm.params
        self.grads = self.forward_lstm.grads + self.backward_lstm.grads

    def forward(self, xs):
        o1 = self.forward_lstm.forward(xs)
        o2 = self.backward_lstm.forward(xs[:, ::-1])
        return np.concatenate((o1, o2[:, ::-1]), axis=2)

    def backward(self, dhs):
        H = dhs.shape[2] // 2
        dxs1 = self.forward_lstm.backward(dhs[:, :, :H])
        dxs2 = self.backward_lstm.backward(dhs[:, ::-1, H:])
        return dxs1 + dxs2[:, ::-1]


# ---- correct, written differently ----------------------------------------------------------------


class LSTMPerGate:
    """An LSTM cell with one weight slice per gate and a loop over the gates (no packed matmul)."""

    GATES = ("f", "g", "i", "o")

    def __init__(self, Wx, Wh, b):
        self.params = [Wx, Wh, b]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh), np.zeros_like(b)]

    def _slices(self):
        H = self.params[1].shape[0]
        return {k: slice(j * H, (j + 1) * H) for j, k in enumerate(self.GATES)}

    def forward(self, x, h_prev, c_prev):
        Wx, Wh, b = self.params
        act = {}
        for k, s in self._slices().items():
            a = x @ Wx[:, s] + h_prev @ Wh[:, s] + b[s]
            act[k] = np.tanh(a) if k == "g" else sigmoid(a)
        c = act["f"] * c_prev + act["g"] * act["i"]
        self.saved = (x, h_prev, c_prev, act, np.tanh(c))
        return act["o"] * np.tanh(c), c

    def backward(self, dh_next, dc_next):
        Wx, Wh, b = self.params
        x, h_prev, c_prev, act, tc = self.saved
        ds = dc_next + dh_next * act["o"] * (1 - tc * tc)
        upstream = {"f": ds * c_prev, "g": ds * act["i"], "i": ds * act["g"], "o": dh_next * tc}
        dx, dh = 0, 0
        for k, s in self._slices().items():
            y = act[k]
            da = upstream[k] * ((1 - y * y) if k == "g" else y * (1 - y))
            self.grads[0][:, s] = x.T @ da
            self.grads[1][:, s] = h_prev.T @ da
            self.grads[2][s] = da.sum(axis=0)
            dx = dx + da @ Wx[:, s].T
            dh = dh + da @ Wh[:, s].T
        return dx, dh, ds * act["f"]


class TimeRNNVectorised:
    """A TimeRNN with attributes (``Wx``, ``dWx``, ...: no lists), time-major inside, and the
    parameter gradients summed over every step at once (``einsum``), not step by step."""

    def __init__(self, Wx, Wh, b, stateful=False):
        self.Wx, self.Wh, self.b = Wx, Wh, b
        self.stateful, self.h, self.dh = stateful, None, None

    def forward(self, xs):
        steps = np.swapaxes(xs, 0, 1)  # (T, N, D)
        N, H = xs.shape[0], self.Wh.shape[0]
        h = self.h if self.stateful and self.h is not None else np.zeros((N, H), xs.dtype)
        self.h0 = h
        hs = []
        for x in steps:
            h = np.tanh(h @ self.Wh + x @ self.Wx + self.b)
            hs.append(h)
        self.h, self.steps, self.hs = h, steps, np.stack(hs)
        return np.swapaxes(self.hs, 0, 1)

    def backward(self, dhs):
        d_steps = np.swapaxes(dhs, 0, 1)
        prev = np.concatenate((self.h0[None], self.hs[:-1]))
        dts = np.empty_like(self.hs)
        dh = np.zeros_like(self.h0)
        for t in reversed(range(len(dts))):
            dts[t] = (d_steps[t] + dh) * (1 - self.hs[t] ** 2)
            dh = dts[t] @ self.Wh.T
        self.dWx = np.einsum("tnd,tnh->dh", self.steps, dts)
        self.dWh = np.einsum("tnk,tnh->kh", prev, dts)
        self.db = dts.sum(axis=(0, 1))
        self.dh = dh
        return np.swapaxes(dts @ self.Wx.T, 0, 1)

    def set_state(self, h):
        self.h = h

    def reset_state(self):
        self.h = None


class TorchStyleGRU:
    """A GRU written the way torch computes it (gates [r, z, n], ``r`` after the matmul, ``z``
    keeping h), in the book's interface GRU(Wx, Wh): follows gru_torch, not gru."""

    def __init__(self, Wx, Wh):
        self.params = [Wx, Wh]
        self.grads = [np.zeros_like(Wx), np.zeros_like(Wh)]

    def forward(self, x, h):
        Wx, Wh = self.params
        H = Wh.shape[0]
        gx, gh = x @ Wx, h @ Wh
        r = sigmoid(gx[:, :H] + gh[:, :H])
        z = sigmoid(gx[:, H : 2 * H] + gh[:, H : 2 * H])
        n = np.tanh(gx[:, 2 * H :] + r * gh[:, 2 * H :])
        self.saved = (x, h, r, z, n, gh[:, 2 * H :])
        return (1 - z) * n + z * h

    def backward(self, dout):
        Wx, Wh = self.params
        x, h, r, z, n, hn = self.saved
        dn = dout * (1 - z) * (1 - n * n)
        dr = dn * hn * r * (1 - r)
        dz = dout * (h - n) * z * (1 - z)
        dgx, dgh = np.hstack((dr, dz, dn)), np.hstack((dr, dz, dn * r))
        self.grads[0][...] = x.T @ dgx
        self.grads[1][...] = h.T @ dgh
        return dgx @ Wx.T, dgh @ Wh.T + dout * z


class LSTMTorchGateOrder(LSTMPerGate):
    """An LSTM with torch's gate packing [i, f, g, o]: follows lstm_ifgo, not lstm."""

    GATES = ("i", "f", "g", "o")


class TimeLSTMFloat32(TimeLSTM):
    """The book's own ``dtype='f'``: hs and the gradients are float32 whatever the input. Right in
    float32; in a float64 cell the verdict says so and names ``--dtype float32``."""

    def forward(self, xs):
        return super().forward(xs.astype("f")).astype("f")

    def backward(self, dhs):
        return super().backward(dhs.astype("f")).astype("f")


class TimeLSTMTimeMajor(TimeLSTM):
    """torch's default layout: xs (T, N, D) -> hs (T, N, H); follows time_lstm_time_major."""

    def forward(self, xs):
        return super().forward(xs.transpose(1, 0, 2)).transpose(1, 0, 2)

    def backward(self, dhs):
        return super().backward(dhs.transpose(1, 0, 2)).transpose(1, 0, 2)
