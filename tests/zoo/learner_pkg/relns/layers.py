"""As ``relnet/layers.py``, in a directory without ``__init__.py`` (a namespace package):
loaded by path as ``relns.layers``."""

from .functions import sigmoid


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out
