"""Book 2's recurrent cells (chapters 5 and 6, appendix C): one time step each.

``RNN``: ``h_next = tanh(h_prev @ Wh + x @ Wx + b)``. ``LSTM``: ``A = x @ Wx + h_prev @ Wh + b``
packed as the book packs it, ``[f, g, i, o]`` (torch packs ``[i, f, g, o]``), ``c_next = f*c_prev
+ g*i``, ``h_next = o*tanh(c_next)``. ``GRU``: the book's formula, without bias and with the reset
gate applied *before* the matmul, ``h_hat = tanh(x @ Wxh + (r*h_prev) @ Whh)``, and ``h_next =
(1-z)*h_prev + z*h_hat`` (torch: ``r*(h @ Whn + b_hn)`` and ``z`` weighting ``h_prev``), packed
``[z, r, h]``. Parameters in ``params``/``grads`` (gradients written in place), ``Wx``/``dWx``
attributes over the same lists. The matrix products run with "invalid" ignored, as Affine's
do: inf in an input gives NaN, which propagates, and some BLAS kernels (OpenBLAS's SkylakeX
gemm) flag "invalid" for a product with an inf operand even where no inf * 0 occurs.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, Param, as_float_array
from .functions import sigmoid_array

__all__ = ["GRU", "LSTM", "RNN", "TorchGRU", "check_step", "check_weights"]


def check_weights(where: str, Wx: np.ndarray, Wh: np.ndarray, b: np.ndarray | None, gates: int) -> int:
    """``H``, after checking ``Wx`` (D, gates*H), ``Wh`` (H, gates*H) and ``b`` (gates*H,)."""
    H = Wh.shape[0] if Wh.ndim == 2 else -1
    width = (gates * H,)
    shapes = f"Wx {Wx.shape}, Wh {Wh.shape}" + ("" if b is None else f", b {b.shape}")
    fits = Wx.ndim == 2 and Wx.shape[1:] == width and Wh.shape[1:] == width
    if not fits or (b is not None and b.shape != width):
        raise LayerError(
            f"{where}: {shapes} do not fit; expected (D, {gates}H), (H, {gates}H) and ({gates}H,)"
        )
    return H


def check_step(
    where: str, x: Any, h: Any, Wx: np.ndarray, H: int, name: str = "h_prev"
) -> tuple[np.ndarray, np.ndarray]:
    """``x`` (N, D) and the state ``h`` (N, H) as float arrays, or an error naming their shapes."""
    x, h = as_float_array(x, where), as_float_array(h, where, name)
    if x.ndim != 2 or x.shape[1] != Wx.shape[0] or h.shape != (x.shape[0], H):
        raise LayerError(
            f"{where}: x {x.shape} and {name} {h.shape} do not fit Wx {Wx.shape}; "
            f"expected (N, {Wx.shape[0]}) and (N, {H})"
        )
    return x, h


class RNN(Layer):
    """One step of the vanilla RNN; ``backward(dh_next) -> (dx, dh_prev)``."""

    Wx, Wh, b = Param(0), Param(1), Param(2)
    dWx, dWh, db = Param(0, grad=True), Param(1, grad=True), Param(2, grad=True)

    def __init__(self, Wx: Any, Wh: Any, b: Any) -> None:
        super().__init__(Wx, Wh, b)
        self.H = check_weights("RNN", self.Wx, self.Wh, self.b, 1)
        self.cache: Any = None

    def forward(self, x: Any, h_prev: Any) -> np.ndarray:
        x, h_prev = check_step("RNN.forward", x, h_prev, self.Wx, self.H)
        with np.errstate(invalid="ignore"):  # inf in an operand -> NaN: inf propagates
            h_next = np.tanh(h_prev @ self.Wh + x @ self.Wx + self.b)
        self.cache = (x, h_prev, h_next)
        return self._remember_output(h_next)

    def backward(self, dh_next: Any) -> tuple[np.ndarray, np.ndarray]:
        d = self._check_dout(dh_next)
        x, h_prev, h_next = self.cache
        dt = d * (1 - h_next**2)
        with np.errstate(invalid="ignore"):  # inf in an operand -> NaN: inf propagates
            self._store_grads(x.T @ dt, h_prev.T @ dt, dt.sum(axis=0))
            return dt @ self.Wx.T, dt @ self.Wh.T


class LSTM(Layer):
    """One LSTM step, gates packed ``[f, g, i, o]``; ``forward(x, h_prev, c_prev) -> (h_next,
    c_next)``, ``backward(dh_next, dc_next) -> (dx, dh_prev, dc_prev)``."""

    Wx, Wh, b = Param(0), Param(1), Param(2)
    dWx, dWh, db = Param(0, grad=True), Param(1, grad=True), Param(2, grad=True)

    def __init__(self, Wx: Any, Wh: Any, b: Any, order: str = "fgio") -> None:
        super().__init__(Wx, Wh, b)
        self.H = check_weights("LSTM", self.Wx, self.Wh, self.b, 4)
        if sorted(order) != sorted("fgio"):
            raise LayerError(f"LSTM: order {order!r} is not a permutation of 'fgio'")
        #: where each gate's block sits (torch's order is "ifgo")
        self.block = {k: order.index(k) for k in "fgio"}
        self.cache: Any = None

    def forward(self, x: Any, h_prev: Any, c_prev: Any) -> tuple[np.ndarray, np.ndarray]:
        x, h_prev = check_step("LSTM.forward", x, h_prev, self.Wx, self.H)
        _, c_prev = check_step("LSTM.forward", x, c_prev, self.Wx, self.H, "c_prev")
        H = self.H
        with np.errstate(invalid="ignore"):  # inf in an operand -> NaN: inf propagates
            A = x @ self.Wx + h_prev @ self.Wh + self.b
        f, g, i, o = (A[:, self.block[k] * H : (self.block[k] + 1) * H] for k in "fgio")
        f, g, i, o = sigmoid_array(f), np.tanh(g), sigmoid_array(i), sigmoid_array(o)
        c_next = f * c_prev + g * i
        tanh_c = np.tanh(c_next)
        h_next = o * tanh_c
        self.cache = (x, h_prev, c_prev, f, g, i, o, tanh_c)
        self._remember_output(h_next)
        return h_next, c_next

    def backward(self, dh_next: Any, dc_next: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        dh, dc = self._check_dout(dh_next), self._check_dout(dc_next)
        x, h_prev, c_prev, f, g, i, o, tanh_c = self.cache
        ds = dc + dh * o * (1 - tanh_c**2)
        d_gate = {
            "f": ds * c_prev * f * (1 - f),
            "g": ds * i * (1 - g**2),
            "i": ds * g * i * (1 - i),
            "o": dh * tanh_c * o * (1 - o),
        }
        dA = np.hstack([d_gate[k] for k in sorted(d_gate, key=self.block.__getitem__)])
        with np.errstate(invalid="ignore"):  # inf in an operand -> NaN: inf propagates
            self._store_grads(x.T @ dA, h_prev.T @ dA, dA.sum(axis=0))
            return dA @ self.Wx.T, dA @ self.Wh.T, ds * f


class GRU(Layer):
    """One GRU step, the book's formula (no bias, ``r`` before the matmul), packed ``[z, r, h]``;
    ``backward(dh_next) -> (dx, dh_prev)``."""

    Wx, Wh = Param(0), Param(1)
    dWx, dWh = Param(0, grad=True), Param(1, grad=True)

    def __init__(self, Wx: Any, Wh: Any) -> None:
        super().__init__(Wx, Wh)
        self.H = check_weights("GRU", self.Wx, self.Wh, None, 3)
        self.cache: Any = None

    def forward(self, x: Any, h_prev: Any) -> np.ndarray:
        x, h_prev = check_step("GRU.forward", x, h_prev, self.Wx, self.H)
        H, Wx, Wh = self.H, self.Wx, self.Wh
        with np.errstate(invalid="ignore"):  # inf in an operand -> NaN: inf propagates
            zr = sigmoid_array(x @ Wx[:, : 2 * H] + h_prev @ Wh[:, : 2 * H])
            z, r = zr[:, :H], zr[:, H:]
            h_hat = np.tanh(x @ Wx[:, 2 * H :] + (r * h_prev) @ Wh[:, 2 * H :])
        h_next = (1 - z) * h_prev + z * h_hat
        self.cache = (x, h_prev, z, r, h_hat)
        return self._remember_output(h_next)

    def backward(self, dh_next: Any) -> tuple[np.ndarray, np.ndarray]:
        d = self._check_dout(dh_next)
        x, h_prev, z, r, h_hat = self.cache
        H, Wx, Wh = self.H, self.Wx, self.Wh
        dt = d * z * (1 - h_hat**2)  # through h_hat's tanh
        with np.errstate(invalid="ignore"):  # inf in an operand -> NaN: inf propagates
            drh = dt @ Wh[:, 2 * H :].T  # gradient of r * h_prev
            dzr = np.hstack((d * (h_hat - h_prev) * z * (1 - z), drh * h_prev * r * (1 - r)))
            dWx = np.hstack((x.T @ dzr, x.T @ dt))
            dWh = np.hstack((h_prev.T @ dzr, (r * h_prev).T @ dt))
            self._store_grads(dWx, dWh)
            dx = dzr @ Wx[:, : 2 * H].T + dt @ Wx[:, 2 * H :].T
            dh_prev = d * (1 - z) + drh * r + dzr @ Wh[:, : 2 * H].T
        return dx, dh_prev


class TorchGRU(Layer):
    """torch's GRU formula (``torch.nn.GRUCell(bias=False)``) in the book's interface
    ``GRU(Wx, Wh)``: gates packed ``[r, z, n]``, ``n = tanh(x @ Wxn + r*(h_prev @ Whn))`` (``r``
    after the matmul), ``h_next = (1-z)*n + z*h_prev`` (``z`` keeps the old state)."""

    Wx, Wh = Param(0), Param(1)
    dWx, dWh = Param(0, grad=True), Param(1, grad=True)

    def __init__(self, Wx: Any, Wh: Any) -> None:
        super().__init__(Wx, Wh)
        self.H = check_weights("TorchGRU", self.Wx, self.Wh, None, 3)
        self.cache: Any = None

    def forward(self, x: Any, h_prev: Any) -> np.ndarray:
        x, h_prev = check_step("TorchGRU.forward", x, h_prev, self.Wx, self.H)
        H = self.H
        with np.errstate(invalid="ignore"):  # inf in an operand -> NaN: inf propagates
            gx, gh = x @ self.Wx, h_prev @ self.Wh
        rz = sigmoid_array(gx[:, : 2 * H] + gh[:, : 2 * H])
        r, z = rz[:, :H], rz[:, H:]
        n = np.tanh(gx[:, 2 * H :] + r * gh[:, 2 * H :])
        self.cache = (x, h_prev, r, z, n, gh[:, 2 * H :])
        return self._remember_output((1 - z) * n + z * h_prev)

    def backward(self, dh_next: Any) -> tuple[np.ndarray, np.ndarray]:
        d = self._check_dout(dh_next)
        x, h_prev, r, z, n, hn = self.cache
        dn = d * (1 - z) * (1 - n**2)
        dr = dn * hn * r * (1 - r)
        dz = d * (h_prev - n) * z * (1 - z)
        dgx = np.hstack((dr, dz, dn))
        dgh = np.hstack((dr, dz, dn * r))
        with np.errstate(invalid="ignore"):  # inf in an operand -> NaN: inf propagates
            self._store_grads(x.T @ dgx, h_prev.T @ dgh)
            return dgx @ self.Wx.T, dgh @ self.Wh.T + d * z
