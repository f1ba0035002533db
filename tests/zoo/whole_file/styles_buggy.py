"""The classes of ``styles_correct.py`` with one planted bug each: ``crosscheck check`` on this
file must reject every one by name, and say which layer of the net is at fault."""

from __future__ import annotations

from tests.zoo.whole_file import styles_correct as good


class ReLU(good.ReLU):
    def backward(self, dout):
        return dout * (self.x >= 0)  # the bug: gradient 1 at x == 0


class Sigmoid(good.Sigmoid):
    def forward(self, x):
        self.x = x
        return super().forward(x)

    def backward(self, dout):
        return dout * self.x * (1 - self.x)  # the bug: from the input, not the output


class Linear(good.Linear):
    def backward(self, dout):
        dx = super().backward(dout)
        self.grads[1][...] /= len(dout)  # the bug: db averaged over the batch, not summed
        return dx


class SoftmaxLoss(good.SoftmaxLoss):
    def backward(self, dout=1):
        return dout * (self.y - self.t)  # the bug: not divided by the batch size


class TwoLayerNet(good.TwoLayerNet):
    """The correct net holding the buggy Linear: only its layer check can say where the fault is."""

    def __init__(self, input_size, hidden_size, output_size):
        super().__init__(input_size, hidden_size, output_size)
        p = self.params
        self.layers = [Linear(p["W1"], p["b1"]), good.ReLU(), Linear(p["W2"], p["b2"])]
