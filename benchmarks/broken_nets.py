"""Planted bugs for the gradient-checking benchmark: small TwoLayerNet subclasses, each wrong in
one way a hand-written backward pass goes wrong."""

from __future__ import annotations

from typing import Any

import numpy as np

from impl import Affine, SoftmaxWithLoss, TwoLayerNet

__all__ = ["BUGS", "B1IntoAffine2", "DbAveraged", "LossGradOffByPpm"]


class B1IntoAffine2(TwoLayerNet):
    """The book's erratum, made to fit 784-50-10: Affine2 adds ``b1[:10]`` (a view of b1) instead of
    ``b2``. Each layer's backward is right; the gradients are credited to the wrong parameters."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        c = self.params["b2"].shape[0]
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b1"][:c])


class _AffineDbMean(Affine):
    def backward(self, dout: Any) -> np.ndarray:
        dx = super().backward(dout)
        self.grads[1][...] /= np.asarray(dout).shape[0]  # db = mean over the batch, not the sum
        return dx


class DbAveraged(TwoLayerNet):
    """Both Affine layers average ``db`` over the batch instead of summing it."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i in (1, 2):
            self.layers[f"Affine{i}"] = _AffineDbMean(self.params[f"W{i}"], self.params[f"b{i}"])


class _LossOffByPpm(SoftmaxWithLoss):
    def backward(self, dout: Any = 1) -> np.ndarray:
        return super().backward(dout) * (1 + 1e-6)


class LossGradOffByPpm(TwoLayerNet):
    """The loss's backward is off by one part in a million (a wrong constant), so is every gradient."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.last_layer = _LossOffByPpm()


#: name in the table -> class
BUGS: dict[str, type[TwoLayerNet]] = {
    "none (correct net)": TwoLayerNet,
    "b1 wired into Affine2": B1IntoAffine2,
    "db averaged, not summed": DbAveraged,
    "every gradient ×(1+1e-6)": LossGradOffByPpm,
}
