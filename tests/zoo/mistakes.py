"""Known textbook mistakes, one planted in each otherwise right class, for the hint lines of
``crosscheck check`` (properties/frontends/hints.py; tests/test_cli_usability.py).

NumPy only (one a class of correct.py with its backward replaced), like a learner's file given as
``path/to/file.py:Class``. The book's backward that ignores dout is broken.py's
SoftmaxWithLossIgnoresDout.
"""

import numpy as np

from tests.zoo import correct
from tests.zoo.book_project.common.functions import cross_entropy_error  # the book's, with + 1e-7


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


class SigmoidWithLossBook:
    """Book 2's SigmoidWithLoss: the loss through ``cross_entropy_error(np.c_[1 - y, y], t)``, so a
    ``+1e-7`` inside log; the backward is right."""

    def __init__(self):
        self.params, self.grads = [], []
        self.y = self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = 1 / (1 + np.exp(-x))
        return cross_entropy_error(np.c_[1 - self.y, self.y], self.t)

    def backward(self, dout=1):
        return (self.y - self.t) * dout / self.t.shape[0]


class ReluForwardWritesIntoX:
    """``x[x <= 0] = 0`` in forward: right values, but the caller's input is overwritten."""

    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = x <= 0
        x[self.mask] = 0
        return x

    def backward(self, dout):
        dx = dout.copy()
        dx[self.mask] = 0
        return dx
