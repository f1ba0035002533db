"""The book's chapter-6 networks (tests/zoo/textbook_nets.py) with one planted bug each: each must
be rejected, for its reason (tests/test_multi_layer_net.py)."""

from __future__ import annotations

import numpy as np

from tests.zoo import textbook_cnn
from tests.zoo import textbook_nets as B


class MultiLayerNetNoDecayGradient(B.MultiLayerNet):
    """The book's first release: the loss carries the weight decay, the gradient forgets ``lambda * W``."""

    def gradient(self, x, t):
        grads = super().gradient(x, t)
        for idx in range(1, self.hidden_layer_num + 2):
            grads[f"W{idx}"] = self.layers[f"Affine{idx}"].dW
        return grads


class _GammaAveraged(textbook_cnn.BatchNormalization):
    """The book's batch norm whose ``dgamma`` is averaged over the batch instead of summed."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.dgamma = np.mean(self.xn * dout, axis=0)
        return dx


class MultiLayerNetExtendGammaGradAveraged(B.MultiLayerNetExtend):
    """Every batch norm's ``dgamma = mean(xn * dout)``: not summed over the batch."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for idx in range(1, self.hidden_layer_num + 1):
            if f"BatchNorm{idx}" in self.layers:
                gamma, beta = self.params[f"gamma{idx}"], self.params[f"beta{idx}"]
                self.layers[f"BatchNorm{idx}"] = _GammaAveraged(gamma, beta)


class MultiLayerNetExtendNoDecayGradient(B.MultiLayerNetExtend):
    """The extended net with the weight decay's ``lambda * W`` left out of ``dW``."""

    def gradient(self, x, t):
        grads = super().gradient(x, t)
        for idx in range(1, self.hidden_layer_num + 2):
            grads[f"W{idx}"] = self.layers[f"Affine{idx}"].dW
        return grads


class MultiLayerNetExtendDropoutIgnoredInBackward(B.MultiLayerNetExtend):
    """Dropout's backward passes the gradient of dropped units through (the masks matter only
    where the spec's shape set has use_dropout, so this is caught there alone)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for key in self.layers:
            if key.startswith("Dropout"):
                self.layers[key] = textbook_cnn.DropoutIgnoringMaskInBackward(self.layers[key].dropout_ratio)
