# ruff: noqa: RUF059 - the book unpacks every parameter and shape, used or not
"""Book 2's recurrent layers with one planted bug each (a class of book2_time.py with the buggy
method replaced): each must be rejected, for its reason (tests/test_recurrent.py)."""

from __future__ import annotations

import numpy as np

from tests.zoo import book2_time as B


class TimeRNNdWhNotAccumulated(B.TimeRNN):
    """Each step's parameter gradients overwrite the sum: only the first step's remain."""

    def backward(self, dhs):
        N, T, H = dhs.shape
        dxs = np.empty((N, T, self.params[0].shape[0]), dtype=dhs.dtype)
        dh = 0
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, dh = layer.backward(dhs[:, t, :] + dh)
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                self.grads[i][...] = grad  # bug: = instead of +=
        self.dh = dh
        return dxs


class TimeRNNDropsNextDh(B.TimeRNN):
    """The next step's dh is dropped: each step sees only its own dhs[:, t]."""

    def backward(self, dhs):
        N, T, H = dhs.shape
        dxs = np.empty((N, T, self.params[0].shape[0]), dtype=dhs.dtype)
        grads = [0, 0, 0]
        dh = 0
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, dh = layer.backward(dhs[:, t, :])  # bug: + dh dropped
            dxs[:, t, :] = dx
            for i, grad in enumerate(layer.grads):
                grads[i] += grad
        for i, grad in enumerate(grads):
            self.grads[i][...] = grad
        self.dh = dh
        return dxs


class TimeRNNStateNotCarried(B.TimeRNN):
    """stateful=True, yet every forward starts from zeros."""

    def forward(self, xs):
        self.h = None  # bug: the carried h is thrown away
        return super().forward(xs)


class TimeRNNCarriesWhenStateless(B.TimeRNN):
    """stateful=False, yet h is carried into the next forward."""

    def forward(self, xs):
        stateful, self.stateful = self.stateful, True  # bug: always carries
        try:
            return super().forward(xs)
        finally:
            self.stateful = stateful


class LSTMIgnoresDcNext(B.LSTM):
    """backward ignores dc_next: ds = dh_next * o * (1 - tanh(c)**2) only."""

    def backward(self, dh_next, dc_next):
        return super().backward(dh_next, np.zeros_like(dc_next))


class LSTMSwapsGateGrads(B.LSTM):
    """di and df swapped in dA (the input gate's derivative sent to the forget gate's block)."""

    def backward(self, dh_next, dc_next):
        Wx, Wh, b = self.params
        x, h_prev, c_prev, i, f, g, o, c_next = self.cache
        tc = np.tanh(c_next)
        ds = dc_next + dh_next * o * (1 - tc**2)
        di = ds * g * i * (1 - i)
        df = ds * c_prev * f * (1 - f)
        do = dh_next * tc * o * (1 - o)
        dg = ds * i * (1 - g**2)
        dA = np.hstack((di, dg, df, do))  # bug: should be (df, dg, di, do)
        self.grads[0][...] = x.T @ dA
        self.grads[1][...] = h_prev.T @ dA
        self.grads[2][...] = dA.sum(axis=0)
        return dA @ Wx.T, dA @ Wh.T, ds * f


class TimeLSTMIgnoresDcNext(B.TimeLSTM):
    """A TimeLSTM built on the cell that ignores dc_next: wrong through time."""

    cell = LSTMIgnoresDcNext
