"""A learner's layers in a package (``relnet/__init__.py``), importing their neighbour relative to
it, as measured in learners' repositories: loaded by path, the file is a module of its package
(``relnet.layers``), so the import resolves (tests/test_binding.py)."""

from .functions import *  # noqa: F403


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        self.out = sigmoid(x)  # noqa: F405
        return self.out

    def backward(self, dout):
        return dout * (1.0 - self.out) * self.out


class SigmoidForgetsOneMinus(Sigmoid):
    """Planted bug: ``dout * out``."""

    def backward(self, dout):
        return dout * self.out
