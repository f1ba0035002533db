"""Classes that misbehave towards the harness rather than (only) getting the math wrong: they end
the process, hang, flood stdout, keep state on the class, change the working directory. Whatever
they do, ``crosscheck check``'s first line must be its own verdict, and the right one
(tests/test_isolation.py). NumPy only, like a learner's file given as ``path/to/file.py:Class``.

Each wrong one is a ReLU (``--as relu``); the correct ones beside them must still pass. NumPy
only but for the right ReLU they start from (correct.py's), like mistakes.py.
"""

import os
import sys
import time

import numpy as np

from tests.zoo.correct import ReluWhere as _Relu  # right, on the instance: each below changes one thing


class ReluExitsInForward(_Relu):
    """A debugging ``sys.exit(0)`` left in forward, and a wrong gradient (dout passed through)."""

    def forward(self, x):
        out = super().forward(x)
        if np.any(x < 0):
            sys.exit(0)
        return out

    def backward(self, dout):
        return dout.copy()


class ReluHardExitsInForward(_Relu):
    """``os._exit(0)`` in forward: the process ends at once, no ``finally`` runs."""

    def forward(self, x):
        os._exit(0)


class _Abort(BaseException):
    """A home-made "stop everything": no ``except Exception`` catches it."""


class ReluRaisesBaseException(_Relu):
    """backward raises a BaseException that is not an Exception (nor SystemExit)."""

    def backward(self, dout):
        raise _Abort("giving up")


class ReluHangs(_Relu):
    """A forward that never returns (a ``while`` waiting for a condition that never comes)."""

    def forward(self, x):
        while True:
            time.sleep(0.05)


class ReluPrints(_Relu):
    """A right ReLU that prints its shapes on every call (debugging left in)."""

    def forward(self, x):
        print("forward", x.shape)
        return super().forward(x)

    def backward(self, dout):
        print("backward", dout.shape, file=sys.stderr)
        return super().backward(dout)


class ReluMaskOnClass:
    """Keeps its mask on the class, not the instance: every single-instance check passes, but two
    ReLUs in one network share one mask, and the first one's backward uses the second's."""

    mask = None

    def forward(self, x):
        ReluMaskOnClass.mask = x <= 0
        out = x.copy()
        out[ReluMaskOnClass.mask] = 0
        return out

    def backward(self, dout):
        dx = dout.copy()
        dx[ReluMaskOnClass.mask] = 0
        return dx


class ReluBackwardReturnsTuple(_Relu):
    """backward returns ``dx, None`` (a two-input layer's habit) for a one-input layer. Right."""

    def backward(self, dout):
        return super().backward(dout), None


class ReluBackwardReturnsList(_Relu):
    """backward returns ``[dx]`` (book 2's list of gradients): one gradient, in a list. Right."""

    def backward(self, dout):
        return [super().backward(dout)]


class ReluBackwardReturnsNestedList(_Relu):
    """backward returns ``dx.tolist()``: the right values as nested lists. Right (it was told of a
    shape mismatch, and the harness's own IndexError was called the class raising)."""

    def backward(self, dout):
        return super().backward(dout).tolist()


class ReluBackwardReturnsPair(_Relu):
    """backward returns the gradient summed two ways, ``[dx.sum(0), dx.sum(1)]``: no gradient for x."""

    def backward(self, dout):
        dx = super().backward(dout)
        return [dx.sum(axis=0), dx.sum(axis=1)]


class ReLU(_Relu):
    """Right, under the capitalisation PyTorch uses: ``--as`` is still ``relu``."""
