"""Book 2's sequence layers: a recurrent cell run over the time axis of ``xs`` (N, T, D).

``stateful=True`` carries the last hidden state (and an LSTM's cell) into the next ``forward``
(truncated BPTT: ``backward`` stops at the block's start and leaves the gradient with respect to
its initial state in ``dh``); ``set_state`` sets it, ``reset_state`` restores the zero state.
With ``stateful=False`` every ``forward`` starts from zeros.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from ._base import Layer, LayerError, Param, as_float_array
from .recurrent import GRU, LSTM, RNN

__all__ = ["TimeBiLSTM", "TimeGRU", "TimeLSTM", "TimeLSTMFromH0", "TimeRNN", "TimeRNNFromH0"]


class _TimeLayer(Layer):
    """The loop over time shared by the three sequence layers; ``cell`` is the step's class and
    ``states`` how many state arrays it carries (an LSTM's h and c)."""

    cell: Any = RNN
    states = 1
    Wx, Wh = Param(0), Param(1)
    dWx, dWh = Param(0, grad=True), Param(1, grad=True)

    def __init__(self, *params: Any, stateful: bool = False, time_major: bool = False) -> None:
        super().__init__(*params)
        self.stateful = stateful
        #: xs and hs as torch's default (T, N, ...) rather than the book's (N, T, ...)
        self.time_major = time_major
        self.H = self.Wh.shape[0] if np.ndim(self.Wh) == 2 else 0
        self.cell(*self.params)  # checks the weights' shapes
        self.state: list[np.ndarray] | None = None
        self.layers: list[Any] = []
        self.dh: np.ndarray | None = None

    @property
    def h(self) -> np.ndarray | None:
        return None if self.state is None else self.state[0]

    def forward(self, xs: Any) -> np.ndarray:
        name = type(self).__name__
        xs = as_float_array(xs, f"{name}.forward", "xs")
        if xs.ndim != 3 or xs.shape[2] != self.Wx.shape[0]:
            raise LayerError(
                f"{name}.forward: xs has shape {xs.shape}; "
                f"expected (N, T, {self.Wx.shape[0]}) for Wx {self.Wx.shape}"
            )
        if self.time_major:
            xs = np.swapaxes(xs, 0, 1)
        N, T, _ = xs.shape
        dtype = np.result_type(xs, *self.params)
        if not self.stateful or self.state is None:
            self.state = [np.zeros((N, self.H), dtype) for _ in range(self.states)]
        elif self.state[0].shape != (N, self.H):
            raise LayerError(
                f"{name}.forward: the carried state has shape {self.state[0].shape}; xs {xs.shape}"
            )
        hs = np.empty((N, T, self.H), dtype)
        self.layers = []
        for t in range(T):
            layer = self.cell(*self.params)
            out = layer.forward(xs[:, t, :], *self.state)
            self.state = list(out) if self.states > 1 else [out]
            hs[:, t, :] = self.state[0]
            self.layers.append(layer)
        return self._remember_output(np.swapaxes(hs, 0, 1) if self.time_major else hs)

    def backward(self, dhs: Any) -> np.ndarray:
        d = self._check_dout(dhs)
        if self.time_major:
            d = np.swapaxes(d, 0, 1)
        N, T, _ = d.shape
        dxs = np.empty((N, T, self.Wx.shape[0]), d.dtype if d.dtype.kind == "f" else np.float64)
        dstate = [np.zeros((N, self.H), dxs.dtype) for _ in range(self.states)]
        grads = [np.zeros_like(g) for g in self.grads]
        for t in reversed(range(T)):
            layer = self.layers[t]
            dx, *dstate = layer.backward(d[:, t, :] + dstate[0], *dstate[1:])
            dxs[:, t, :] = dx
            for total, g in zip(grads, layer.grads, strict=True):
                total += g
        self._store_grads(*grads)
        self.dh = dstate[0]
        return np.swapaxes(dxs, 0, 1) if self.time_major else dxs

    def set_state(self, h: Any, *rest: Any) -> None:
        self.state = [as_float_array(s, f"{type(self).__name__}.set_state", "h") for s in (h, *rest)]
        if len(self.state) < self.states:  # book 2's TimeLSTM.set_state(h, c=None): c starts at 0
            self.state += [np.zeros_like(self.state[0])] * (self.states - len(self.state))

    def reset_state(self) -> None:
        self.state = None


class TimeRNN(_TimeLayer):
    """``RNN`` over time: ``TimeRNN(Wx, Wh, b, stateful=False)``, ``forward(xs) -> hs``
    (``time_major=True``: torch's default layout, xs (T, N, D))."""

    b, db = Param(2), Param(2, grad=True)

    def __init__(self, Wx: Any, Wh: Any, b: Any, stateful: bool = False, *, time_major: bool = False) -> None:
        super().__init__(Wx, Wh, b, stateful=stateful, time_major=time_major)


class TimeLSTM(_TimeLayer):
    """``LSTM`` over time (gates ``[f, g, i, o]``): ``TimeLSTM(Wx, Wh, b, stateful=False)``; the
    cell state ``c`` is carried with ``h`` (``set_state(h, c=None)``)."""

    cell = LSTM
    states = 2
    b, db = Param(2), Param(2, grad=True)

    def __init__(self, Wx: Any, Wh: Any, b: Any, stateful: bool = False, *, time_major: bool = False) -> None:
        super().__init__(Wx, Wh, b, stateful=stateful, time_major=time_major)

    @property
    def c(self) -> np.ndarray | None:
        return None if self.state is None else self.state[1]

    def set_state(self, h: Any, c: Any = None) -> None:
        super().set_state(h, *(() if c is None else (c,)))


class TimeGRU(_TimeLayer):
    """The book's ``GRU`` over time: ``TimeGRU(Wx, Wh, stateful=False)`` (no bias)."""

    cell = GRU

    def __init__(self, Wx: Any, Wh: Any, stateful: bool = False) -> None:
        super().__init__(Wx, Wh, stateful=stateful)


class TimeBiLSTM(Layer):
    """Two ``TimeLSTM``: one over ``xs``, one over ``xs`` reversed in time; ``hs`` is both, joined on
    the last axis (N, T, 2H). ``params`` are the first's ``[Wx, Wh, b]`` then the second's."""

    def __init__(
        self, Wx1: Any, Wh1: Any, b1: Any, Wx2: Any, Wh2: Any, b2: Any, stateful: bool = False
    ) -> None:
        super().__init__()
        self.forward_lstm = TimeLSTM(Wx1, Wh1, b1, stateful)
        self.backward_lstm = TimeLSTM(Wx2, Wh2, b2, stateful)
        self.params = self.forward_lstm.params + self.backward_lstm.params
        self.grads = self.forward_lstm.grads + self.backward_lstm.grads

    def forward(self, xs: Any) -> np.ndarray:
        xs = as_float_array(xs, "TimeBiLSTM.forward", "xs")
        o1 = self.forward_lstm.forward(xs)
        o2 = self.backward_lstm.forward(xs[:, ::-1])[:, ::-1]
        return self._remember_output(np.concatenate((o1, o2), axis=2))

    def backward(self, dhs: Any) -> np.ndarray:
        d = self._check_dout(dhs)
        H = self.forward_lstm.H
        dxs = self.forward_lstm.backward(d[:, :, :H])
        return dxs + self.backward_lstm.backward(d[:, ::-1, H:])[:, ::-1]


class _FromH0:
    """The initial state an input, as CS231n's ``rnn_forward(x, h0, ...)``/``lstm_forward``:
    ``forward(xs, h0) -> hs`` (an LSTM's c starts at 0), ``backward(dhs) -> (dxs, dh0)``."""

    def forward(self, xs: Any, h0: Any) -> np.ndarray:
        name = type(self).__name__
        h0 = as_float_array(h0, f"{name}.forward", "h0")
        N = np.shape(xs)[0] if np.ndim(xs) else 0
        if h0.shape != (N, self.H):  # type: ignore[attr-defined]
            raise LayerError(
                f"{name}.forward: h0 has shape {h0.shape}; expected ({N}, {self.H}) "  # type: ignore[attr-defined]
                f"for xs {np.shape(xs)} and Wh {self.Wh.shape}"  # type: ignore[attr-defined]
            )
        self.set_state(h0)  # type: ignore[attr-defined]
        return super().forward(xs)  # type: ignore[misc]

    def backward(self, dhs: Any) -> tuple[np.ndarray, np.ndarray]:
        dxs = super().backward(dhs)  # type: ignore[misc]
        assert self.dh is not None  # type: ignore[attr-defined]
        return dxs, self.dh  # type: ignore[attr-defined]


class TimeRNNFromH0(_FromH0, TimeRNN):  # type: ignore[misc]  # forward(xs, h0): the point
    """``TimeRNN`` from a given h0: CS231n's ``rnn_forward(x, h0, Wx, Wh, b)``."""

    def __init__(self, Wx: Any, Wh: Any, b: Any) -> None:
        super().__init__(Wx, Wh, b, stateful=True)


class TimeLSTMFromH0(_FromH0, TimeLSTM):  # type: ignore[misc]  # forward(xs, h0): the point
    """``TimeLSTM`` from a given h0 (c0 = 0), gates packed in ``order``: CS231n's
    ``lstm_forward(x, h0, Wx, Wh, b)`` with ``order="ifog"``."""

    def __init__(self, Wx: Any, Wh: Any, b: Any, order: str = "fgio") -> None:
        super().__init__(Wx, Wh, b, stateful=True)
        cell: Any = functools.partial(LSTM, order=order)
        cell(*self.params)  # checks the order
        self.cell = cell
