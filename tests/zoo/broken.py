"""Broken layers: each has exactly one bug, named by the class, that the harness must catch.

Most are written as a learner writes them (NumPy only, book-1 ``dW``/``db`` attributes or book-2
``params``/``grads`` lists), so ``crosscheck check tests/zoo/broken.py:Class`` (from the repository
root) judges them like a user's file; several are a class of correct.py, or impl's layer, with the
buggy method replaced. Everything else in each class is right, so a rejection is for the planted
bug: tests/test_harness_catches_bugs.py says which property catches which, tests/test_cli.py runs
some through the command line, and benchmarks/gradcheck.py times the network ones.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from layer_crosscheck import impl
from tests.zoo import correct

# ---- Relu -----------------------------------------------------------------------------------------


class ReluWritesIntoDout:
    """The book's Relu (book 1, 5.5.1): ``dout[self.mask] = 0`` writes into the caller's array."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        dx = dout
        return dx


class ReluGradOneAtZero(impl.Relu):
    """Gradient 1 at x == 0 (``mask = x < 0``), against the declared convention (0, like torch and jax)."""

    def forward(self, x: Any) -> np.ndarray:
        out = super().forward(x)
        self.mask = np.asarray(x) < 0
        return out


# ---- Sigmoid --------------------------------------------------------------------------------------


class SigmoidBackwardFromInput(correct.SigmoidTanh):
    """Sigmoid whose backward uses the input where it needs the output: ``dout * x * (1 - x)``."""

    def forward(self, x):
        self.x = x
        return super().forward(x)

    def backward(self, dout):
        return dout * self.x * (1 - self.x)


# ---- Affine ---------------------------------------------------------------------------------------


class AffineDbAveraged(correct.AffineBook1):
    """Book-1 style Affine whose bias gradient is averaged over the batch instead of summed."""

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.mean(dout, axis=0)  # the bug: a sum over the batch
        return dx.reshape(*self.original_x_shape)


class AffineAccumulatesGrads(correct.AffineBook2):
    """Book-2 style Affine that adds into ``grads`` instead of overwriting them: a second backward
    (or a second batch) sees the sum of both."""

    def backward(self, dout):
        W, _ = self.params
        self.grads[0] += self.x.T @ dout  # the bug: `[...] =`, not `+=`
        self.grads[1] += dout.sum(axis=0)
        return (dout @ W.T).reshape(self.shape)


class AffineNoReshape:
    """The book-2 Affine: no reshape, so an image batch (N, C, H, W) cannot go through it."""

    def __init__(self, W, b):
        self.params = [W, b]
        self.grads = [np.zeros_like(W), np.zeros_like(b)]
        self.x = None

    def forward(self, x):
        W, b = self.params
        self.x = x
        return np.dot(x, W) + b

    def backward(self, dout):
        W, _ = self.params
        self.grads[0][...] = np.dot(self.x.T, dout)
        self.grads[1][...] = np.sum(dout, axis=0)
        return np.dot(dout, W.T)


class AffineDxOffByOnePPM(impl.Affine):
    """dx off by one part in a million: only tight float64 tolerances see it."""

    def backward(self, dout: Any) -> np.ndarray:
        return super().backward(dout) * (1 + 1e-6)


# ---- Softmax --------------------------------------------------------------------------------------


class SoftmaxNoMaxSubtraction:
    """``exp(x) / sum(exp(x))``: overflows for logits past ~710."""

    def __init__(self):
        self.y = None

    def forward(self, x):
        e = np.exp(x)
        self.y = e / np.sum(e, axis=-1, keepdims=True)
        return self.y

    def backward(self, dout):
        y = self.y
        return y * (dout - np.sum(dout * y, axis=-1, keepdims=True))


class SoftmaxDiagonalBackward(impl.Softmax):
    """Keeps only the Jacobian's diagonal y(1 - y), as if softmax were elementwise like sigmoid."""

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        y = self.out
        assert y is not None
        with np.errstate(under="ignore"):
            return d * y * (1 - y)


# ---- SoftmaxWithLoss ------------------------------------------------------------------------------


class SoftmaxWithLossIgnoresDout:
    """The book's ``backward(self, dout=1)``: ``(y - t) / batch_size``, whatever ``dout`` is."""

    def __init__(self):
        self.y = self.t = None

    def forward(self, x, t):
        logp = correct.log_softmax(x)
        self.y, self.t = np.exp(logp), t
        return -np.sum(t * logp) / x.shape[0]

    def backward(self, dout=1):
        return (self.y - self.t) / self.t.shape[0]  # the bug: not multiplied by dout


class SoftmaxWithLossNoMean(impl.SoftmaxWithLoss):
    """The gradient of the *mean* loss without its 1/N: N times too large."""

    def backward(self, dout: Any = 1) -> np.ndarray:
        assert self.y is not None
        n = self.y.shape[0] if self.y.ndim == 2 else 1
        return super().backward(dout) * n


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


# ---- TwoLayerNet ----------------------------------------------------------------------------------


class TwoLayerNetGradSkipsRelu(correct.TwoLayerNetBook1):
    """Book-1 style TwoLayerNet whose ``b1`` gradient skips the ReLU: summed from the upstream
    gradient of the hidden layer's *output* instead of its pre-activation."""

    def gradient(self, x, t):
        p = self.params
        pre, h, logits = self._forward(x)
        dlogits = (np.exp(correct.log_softmax(logits)) - t) / x.shape[0]
        dh = dlogits @ p["W2"].T
        dpre = dh * (pre > 0)
        return {
            "W1": x.T @ dpre,
            "b1": dh.sum(axis=0),  # the bug: dpre
            "W2": h.T @ dlogits,
            "b2": dlogits.sum(axis=0),
        }


class TwoLayerNetB1IntoAffine2(impl.TwoLayerNet):
    """The book's erratum ``Affine(W2, b1)``, made to fit any hidden_size >= output_size: Affine2 adds
    ``b1[:C]`` (a view of b1) instead of ``b2``. Each layer's backward is right; the gradients are
    credited to the wrong parameters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c = self.params["b2"].shape[0]
        self.layers["Affine2"] = impl.Affine(self.params["W2"], self.params["b1"][:c])


class _AffineDbMean(impl.Affine):
    def backward(self, dout: Any) -> np.ndarray:
        dx = super().backward(dout)
        self.grads[1][...] /= np.asarray(dout).shape[0]  # db = mean over the batch, not the sum
        return dx


class TwoLayerNetDbAveraged(impl.TwoLayerNet):
    """Both Affine layers average ``db`` over the batch instead of summing it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in (1, 2):
            self.layers[f"Affine{i}"] = _AffineDbMean(self.params[f"W{i}"], self.params[f"b{i}"])


class _LossGradOffByPPM(impl.SoftmaxWithLoss):
    def backward(self, dout: Any = 1) -> np.ndarray:
        return super().backward(dout) * (1 + 1e-6)


class TwoLayerNetLossGradOffByPPM(impl.TwoLayerNet):
    """The loss's backward is off by one part in a million (a wrong constant), so is every gradient."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_layer = _LossGradOffByPPM()


# ---- state that outlives a call: grads lists, aliased gradients, test mode --------------------------


class AffineRebindsGrads(correct.AffineBook2):
    """``self.grads[0] = dW`` rebinds the list entry: an optimizer holding ``grads[0]`` (book 2's
    Trainer collects them once) keeps updating with the stale zeros. Every value is right."""

    def backward(self, dout):
        W, _ = self.params
        self.grads[0] = np.matmul(self.x.T, dout)
        self.grads[1][...] = dout.sum(axis=0)
        return np.matmul(dout, W.T).reshape(self.shape)


class AddLayerReturnsDoutTwice:
    """``return dout, dout``: both inputs get the caller's own array, so a layer downstream that
    writes into its gradient in place changes the other one (and dout)."""

    def forward(self, x, y):
        return x + y

    def backward(self, dout):
        return dout, dout
