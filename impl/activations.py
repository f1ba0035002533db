"""Elementwise activation layers: ``Relu`` and ``Sigmoid`` (the book's chapter 5.5), and ``Tanh``.

Neither writes into its input or into ``dout`` (the book's ``out[self.mask] = 0`` and
``dout[self.mask] = 0`` would corrupt a caller's read-only or reused array). NaN and inf propagate.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, as_float_array
from .functions import relu_array, sigmoid_array

__all__ = ["LeakyRelu", "Relu", "Sigmoid", "Tanh"]


class Relu(Layer):
    """``max(x, 0)``. ``mask`` is True where ``x <= 0`` (as in the book), so the gradient at 0 is 0
    (the PyTorch/JAX convention). A NaN input has mask False: it passes NaN forward and ``dout`` back.
    """

    def __init__(self) -> None:
        super().__init__()
        self.mask: np.ndarray | None = None

    def forward(self, x: Any) -> np.ndarray:
        out, self.mask = relu_array(as_float_array(x, "Relu.forward"))
        return self._remember_output(out)

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        assert self.mask is not None  # set by forward
        return np.where(self.mask, np.zeros((), d.dtype), d)


class Sigmoid(Layer):
    """Logistic function; ``out`` is kept for the backward pass ``dout * out * (1 - out)``.

    The forward pass never overflows and keeps full relative precision in both tails
    (σ(-50) = 1.93e-22, σ(-1e4) = 0 without a warning).
    """

    def __init__(self) -> None:
        super().__init__()
        self.out: Any = None

    def forward(self, x: Any) -> Any:
        self.out = sigmoid_array(as_float_array(x, "Sigmoid.forward"))
        return self._remember_output(self.out)

    def backward(self, dout: Any) -> Any:
        d = self._check_dout(dout)
        y = self.out
        # under: σ'(x) ~ 1e-320 in the far tail rounds to 0 (correct); invalid: an inf dout times
        # a saturated σ'(x) = 0 is NaN, which propagates
        with np.errstate(under="ignore", invalid="ignore"):
            return d * y * (1 - y)


class Tanh(Layer):
    """``tanh(x)``, with backward ``dout * (1 - out**2)`` from the stored output (no second tanh).

    Added as CONTRIBUTING.md's worked example: this class plus one spec in properties/specs.py.
    """

    def __init__(self) -> None:
        super().__init__()
        self.out: Any = None

    def forward(self, x: Any) -> Any:
        self.out = np.tanh(as_float_array(x, "Tanh.forward"))
        return self._remember_output(self.out)

    def backward(self, dout: Any) -> Any:
        d = self._check_dout(dout)
        y = self.out
        # as Sigmoid: under: y*y for |y| < 1e-154, or a tiny dout times the slope, rounds to 0
        # (correct); invalid: an inf dout times a saturated slope 1 - 1 = 0 is NaN, which propagates
        with np.errstate(under="ignore", invalid="ignore"):
            return d * (1 - y * y)


class LeakyRelu(Layer):
    """``x`` where ``x > 0``, else ``alpha * x`` (``torch.nn.functional.leaky_relu``). At ``x == 0``
    the gradient is ``alpha * dout`` (torch's and jax's side of the kink); NaN passes NaN both ways.
    """

    def __init__(self, alpha: float = 0.01) -> None:
        super().__init__()
        self.alpha = float(alpha)
        self.mask: np.ndarray | None = None

    def forward(self, x: Any) -> np.ndarray:
        x = as_float_array(x, "LeakyRelu.forward")
        self.mask = x <= 0
        return self._remember_output(np.where(self.mask, x * self.alpha, x))

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        assert self.mask is not None  # set by forward
        return np.where(self.mask, d * self.alpha, d)
