"""Book 2's attention (chapter 8, ``ch08/attention_layer.py``): ``WeightSum``, ``AttentionWeight``,
``Attention`` and ``TimeAttention``, with the book's interface (``params = grads = []``, backward
returning one gradient per input) and vectorised: ``TimeAttention`` is
``softmax(hs_dec @ hs_enc^T) @ hs_enc`` over all decoder steps at once, not a loop of layers.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, as_float_array
from .functions import softmax_array

__all__ = ["Attention", "AttentionWeight", "TimeAttention", "WeightSum"]


def _hs(hs: Any, where: str, name: str = "hs") -> np.ndarray:
    a = as_float_array(hs, where, name)
    if a.ndim != 3:
        raise LayerError(f"{where}: {name} has shape {a.shape}; expected (N, T, H)")
    return a


def _softmax_backward(a: np.ndarray, da: np.ndarray) -> np.ndarray:
    """The scores' gradient from the softmax's output ``a`` and its gradient, over the last axis."""
    with np.errstate(under="ignore"):
        return a * (da - np.sum(da * a, axis=-1, keepdims=True))


class WeightSum(Layer):
    """``c = sum_t a[:, t] * hs[:, t, :]``: hs (N, T, H), weights a (N, T); backward ``(dhs, da)``."""

    def __init__(self) -> None:
        super().__init__()
        self.cache: tuple[np.ndarray, np.ndarray] | None = None

    def forward(self, hs: Any, a: Any) -> np.ndarray:
        where = "WeightSum.forward"
        hs = _hs(hs, where)
        a = as_float_array(a, where, "a")
        if a.shape != hs.shape[:2]:
            raise LayerError(
                f"{where}: a has shape {a.shape} but hs has shape {hs.shape}; expected {hs.shape[:2]}"
            )
        self.cache = (hs, a)
        with np.errstate(invalid="ignore"):  # inf * 0 -> NaN: inf propagates
            return self._remember_output(np.einsum("nth,nt->nh", hs, a))

    def backward(self, dc: Any) -> tuple[np.ndarray, np.ndarray]:
        d = self._check_dout(dc)
        assert self.cache is not None  # set by forward
        hs, a = self.cache
        with np.errstate(invalid="ignore"):
            return d[:, None, :] * a[..., None], np.einsum("nth,nh->nt", hs, d)


class AttentionWeight(Layer):
    """``a = softmax_t(sum_h hs[:, t, :] * h)``: how much each step of hs (N, T, H) matches h (N, H);
    backward ``(dhs, dh)``."""

    def __init__(self) -> None:
        super().__init__()
        self.cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def forward(self, hs: Any, h: Any) -> np.ndarray:
        where = f"{type(self).__name__}.forward"
        hs = _hs(hs, where)
        h = as_float_array(h, where, "h")
        if h.shape != (hs.shape[0], hs.shape[2]):
            raise LayerError(f"{where}: h has shape {h.shape} but hs has shape {hs.shape}; expected (N, H)")
        with np.errstate(invalid="ignore"):
            a = softmax_array(np.einsum("nth,nh->nt", hs, h), where)
        self.cache = (hs, h, a)
        return self._remember_output(a)

    def backward(self, da: Any) -> tuple[np.ndarray, np.ndarray]:
        d = self._check_dout(da)
        assert self.cache is not None  # set by forward
        hs, h, a = self.cache
        with np.errstate(invalid="ignore"):
            ds = _softmax_backward(a, d)
            return ds[..., None] * h[:, None, :], np.einsum("nt,nth->nh", ds, hs)


class Attention(AttentionWeight):
    """The context ``c = WeightSum(hs, AttentionWeight(hs, h))`` (N, H); the weights are kept in
    ``attention_weight`` as in the book; backward ``(dhs, dh)``, dhs through both paths."""

    def __init__(self) -> None:
        super().__init__()
        self.attention_weight: np.ndarray | None = None

    def forward(self, hs: Any, h: Any) -> np.ndarray:
        a = super().forward(hs, h)
        self.attention_weight = a
        hs = self.cache[0] if self.cache else hs
        with np.errstate(invalid="ignore"):
            return self._remember_output(np.einsum("nth,nt->nh", hs, a))

    def backward(self, dout: Any) -> tuple[np.ndarray, np.ndarray]:
        d = self._check_dout(dout)
        assert self.cache is not None  # set by forward
        hs, h, a = self.cache
        with np.errstate(invalid="ignore"):
            ds = _softmax_backward(a, np.einsum("nth,nh->nt", hs, d))
            dhs = d[:, None, :] * a[..., None] + ds[..., None] * h[:, None, :]
            return dhs, np.einsum("nt,nth->nh", ds, hs)


class TimeAttention(Layer):
    """Attention of every decoder step over the encoder's: ``softmax(hs_dec @ hs_enc^T) @ hs_enc``,
    hs_enc (N, Te, H), hs_dec (N, Td, H) -> (N, Td, H); weights kept per step in
    ``attention_weights`` (a list of (N, Te), as the book); backward ``(dhs_enc, dhs_dec)``."""

    def __init__(self) -> None:
        super().__init__()
        self.cache: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        self.attention_weights: list[np.ndarray] | None = None

    def forward(self, hs_enc: Any, hs_dec: Any) -> np.ndarray:
        where = "TimeAttention.forward"
        enc, dec = _hs(hs_enc, where, "hs_enc"), _hs(hs_dec, where, "hs_dec")
        if enc.shape[0] != dec.shape[0] or enc.shape[2] != dec.shape[2]:
            raise LayerError(
                f"{where}: hs_enc has shape {enc.shape} and hs_dec {dec.shape}; expected the same N and H"
            )
        with np.errstate(invalid="ignore"):  # inf * 0 -> NaN: inf propagates
            A = softmax_array(dec @ enc.transpose(0, 2, 1), where)  # (N, Td, Te)
        self.cache = (enc, dec, A)
        self.attention_weights = [A[:, t, :] for t in range(A.shape[1])]
        with np.errstate(invalid="ignore"):
            return self._remember_output(A @ enc)

    def backward(self, dout: Any) -> tuple[np.ndarray, np.ndarray]:
        d = self._check_dout(dout)
        assert self.cache is not None  # set by forward
        enc, dec, A = self.cache
        with np.errstate(invalid="ignore"):
            dS = _softmax_backward(A, d @ enc.transpose(0, 2, 1))
            return A.transpose(0, 2, 1) @ d + dS.transpose(0, 2, 1) @ dec, dS @ enc
