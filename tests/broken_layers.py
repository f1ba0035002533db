"""Layer variants for proving that the engine bites: planted bugs it must reject, and correct layers
written differently from impl/ that it must accept.

Each broken variant is impl's class with exactly one bug planted (most are the book's own, or the
ones people make when transcribing it); each correct variant computes the same function another way,
or exposes its gradients in the other style the drivers understand (a ``grads`` list, or ``dW``/``db``
attributes). tests/test_harness_catches_bugs.py says which property catches which bug.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import impl

__all__ = [
    "AffineBiasMean",
    "AffineBook1",
    "AffineBook2",
    "AffineDxOffByOnePPM",
    "ReluGradOneAtZero",
    "ReluWhere",
    "ReluWritesIntoDout",
    "SigmoidBackwardFromInput",
    "SigmoidViaTanh",
    "SoftmaxDiagonalBackward",
    "SoftmaxExplicitJacobian",
    "SoftmaxNoMaxSubtraction",
    "SoftmaxWithLossBookLog",
    "SoftmaxWithLossIgnoresDout",
    "SoftmaxWithLossNoMean",
    "TwoLayerNetWrongBias",
]


# ---- broken: each must be rejected ---------------------------------------------------------------


class AffineBiasMean(impl.Affine):
    """db averaged over the batch instead of summed."""

    def backward(self, dout: Any) -> np.ndarray:
        dx = super().backward(dout)
        self.grads[1][...] = np.mean(dout, axis=0)
        return dx


class AffineDxOffByOnePPM(impl.Affine):
    """dx off by one part in a million: only tight float64 tolerances see it."""

    def backward(self, dout: Any) -> np.ndarray:
        return super().backward(dout) * (1 + 1e-6)


class SoftmaxDiagonalBackward(impl.Softmax):
    """Keeps only the Jacobian's diagonal y(1 - y), as if softmax were elementwise like sigmoid."""

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        y = self.out
        assert y is not None
        with np.errstate(under="ignore"):
            return d * y * (1 - y)


class SoftmaxNoMaxSubtraction(impl.Softmax):
    """exp(x) / sum(exp(x)) without subtracting the row maximum: overflows at large logits."""

    def forward(self, x: Any) -> np.ndarray:
        e = np.exp(x)
        self.out = e / e.sum(axis=-1, keepdims=True)
        return self._remember_output(self.out)


class ReluWritesIntoDout(impl.Relu):
    """The book's ``dout[self.mask] = 0; dx = dout``: the caller's upstream gradient is overwritten."""

    def backward(self, dout: Any) -> np.ndarray:
        self._check_dout(dout)
        assert self.mask is not None
        dout[self.mask] = 0
        return dout


class ReluGradOneAtZero(impl.Relu):
    """Gradient 1 at x == 0 (``mask = x < 0``), against the declared convention (0, like torch and jax)."""

    def forward(self, x: Any) -> np.ndarray:
        out = super().forward(x)
        self.mask = np.asarray(x) < 0
        return out


class SigmoidBackwardFromInput(impl.Sigmoid):
    """``dout * x * (1 - x)``: the derivative formula applied to the input instead of the output."""

    def forward(self, x: Any) -> Any:
        self.x = np.asarray(x)
        return super().forward(x)

    def backward(self, dout: Any) -> Any:
        d = self._check_dout(dout)
        return d * self.x * (1 - self.x)


class SoftmaxWithLossNoMean(impl.SoftmaxWithLoss):
    """The gradient of the *mean* loss without its 1/N: N times too large."""

    def backward(self, dout: Any = 1) -> np.ndarray:
        assert self.y is not None
        n = self.y.shape[0] if self.y.ndim == 2 else 1
        return super().backward(dout) * n


class SoftmaxWithLossIgnoresDout(impl.SoftmaxWithLoss):
    """The book's ``backward(self, dout=1)`` returning ``(y - t) / N`` whatever dout is."""

    def backward(self, dout: Any = 1) -> np.ndarray:
        self._check_dout(dout)
        return super().backward(1)


class SoftmaxWithLossBookLog(impl.SoftmaxWithLoss):
    """The book's ``cross_entropy_error``: ``-sum(t * log(y + 1e-7)) / N`` (the forward is off; the
    backward is the exact ``(y - t) / N``, which is no longer the forward's derivative)."""

    def forward(self, x: Any, t: Any) -> Any:
        super().forward(x, t)
        assert self.y is not None
        y = self.y
        n = y.shape[0] if y.ndim == 2 else 1
        self.loss = y.dtype.type(-np.sum(np.asarray(t) * np.log(y + 1e-7)) / n)
        return self._remember_output(self.loss)


class TwoLayerNetWrongBias(impl.TwoLayerNet):
    """``Affine(W2, b1)`` for the second layer: b1 is added twice and b2 is never used.

    Only buildable when hidden_size == output_size (otherwise b1 does not fit W2).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.layers["Affine2"] = impl.Affine(self.params["W2"], self.params["b1"])


# ---- correct, written differently: each must be accepted -----------------------------------------


class SigmoidViaTanh(impl.Sigmoid):
    """σ(x) = (1 + tanh(x / 2)) / 2; backward from the output as usual."""

    def forward(self, x: Any) -> Any:
        x = np.asarray(x)
        self.out = 0.5 * (1 + np.tanh(x / 2))
        return self._remember_output(self.out)


class SoftmaxExplicitJacobian(impl.Softmax):
    """Backward through the full Jacobian diag(y) - y yᵀ of each row (any leading axes), then Jᵀ · dout."""

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        y = self.out
        assert y is not None
        with np.errstate(under="ignore"):
            jac = y[..., :, None] * np.eye(y.shape[-1], dtype=y.dtype) - y[..., :, None] * y[..., None, :]
            return np.einsum("...ij,...i->...j", jac, d)


class ReluWhere:
    """max(x, 0) and its backward with ``np.where``, keeping ``x`` instead of a mask; no base class."""

    def __init__(self) -> None:
        self.x: np.ndarray | None = None

    def forward(self, x: Any) -> np.ndarray:
        self.x = np.asarray(x)
        return np.where(self.x > 0, self.x, self.x.dtype.type(0))

    def backward(self, dout: Any) -> np.ndarray:
        assert self.x is not None
        dout = np.asarray(dout)
        return np.where(self.x > 0, dout, dout.dtype.type(0))


class AffineBook2:
    """Book 2 (``common/layers.py``) style: ``params`` and ``grads`` lists only, no dW/db attributes."""

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x: np.ndarray | None = None
        self.x_shape: tuple[int, ...] = ()

    def forward(self, x: np.ndarray) -> np.ndarray:
        W, b = self.params
        self.x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return self.x @ W + b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        W, _ = self.params
        assert self.x is not None
        self.grads[0][...] = self.x.T @ dout
        self.grads[1][...] = np.sum(dout, axis=0)
        return (dout @ W.T).reshape(self.x_shape)


class AffineBook1:
    """Book 1 (chapter 5.6) style: ``W``/``b`` and ``dW``/``db`` attributes, no lists."""

    def __init__(self, W: np.ndarray, b: np.ndarray) -> None:
        self.W = W
        self.b = b
        self.x: np.ndarray | None = None
        self.original_x_shape: tuple[int, ...] = ()
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.original_x_shape = x.shape
        self.x = x.reshape(x.shape[0], -1)
        return np.dot(self.x, self.W) + self.b

    def backward(self, dout: np.ndarray) -> np.ndarray:
        assert self.x is not None
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx.reshape(*self.original_x_shape)
