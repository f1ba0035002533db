"""Layers written exactly the textbook way (a learner's own file, loaded by path): correct values,
so every verdict on them must be a pass, whatever NumPy warns along the way."""

import numpy as np


class Sigmoid:
    """The book's Sigmoid: ``1 / (1 + np.exp(-x))`` overflows (a warning) at x < -709 and still
    returns the right value, 0."""

    def __init__(self):
        self.out = None

    def forward(self, x):
        out = 1 / (1 + np.exp(-x))
        self.out = out
        return out

    def backward(self, dout):
        dx = dout * (1.0 - self.out) * self.out
        return dx
