"""Known textbook mistakes, one planted in each otherwise right class, for the hint lines of
``crosscheck check`` (properties/frontends/hints.py; tests/test_cli_usability.py).

NumPy only (one a class of correct.py with its backward replaced), like a learner's file given as
``path/to/file.py:Class``. The book's backward that ignores dout is broken.py's
SoftmaxWithLossIgnoresDout.
"""

import numpy as np

from tests.zoo import correct


class SigmoidScalesDoutInPlace(correct.SigmoidTanh):
    """Right values, but ``dout *= ...`` rescales the caller's upstream gradient in place."""

    def backward(self, dout):
        dout *= (1.0 - self.out) * self.out
        return dout


class SoftmaxWithLossLogEpsilon:
    """The book's ``cross_entropy_error``: ``log(y + 1e-7)`` (the loss is off by ~1e-7 / y); the
    backward is right and reads dout."""

    def __init__(self):
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = np.exp(correct.log_softmax(x))
        return -np.sum(t * np.log(self.y + 1e-7)) / x.shape[0]

    def backward(self, dout=1):
        return dout * (self.y - self.t) / self.t.shape[0]


class ReluForwardNoReturn:
    """``forward`` computes ``out`` and forgets to return it."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx


class ReluBackwardNoReturn:
    """``backward`` computes ``dx`` and forgets to return it."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
