"""The computational-graph nodes that derive Softmax-with-Loss step by step (book 1, appendix A;
book 2, 1.3.4): ``exp``, the division node ``1/x``, ``log``, and book 2's ``Repeat`` and ``Sum``.

Each is its own layer, so a learner can check every node of the derivation on its own. NaN and
inf propagate as in NumPy, torch and jax (``log(0) = -inf``, ``1/0 = inf``, ``log(-1) = NaN``)
without a warning: they are values, not errors.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, as_float_array

__all__ = ["Exp", "Log", "Reciprocal", "Repeat", "Sum"]


class Exp(Layer):
    """``exp(x)``; backward ``dout * out`` from the stored output (no second exp)."""

    def __init__(self) -> None:
        super().__init__()
        self.out: Any = None

    def forward(self, x: Any) -> Any:
        # over: exp(x) beyond the dtype's range is inf, the correctly rounded limit; under: 0
        with np.errstate(over="ignore", under="ignore"):
            self.out = np.exp(as_float_array(x, "Exp.forward"))
        return self._remember_output(self.out)

    def backward(self, dout: Any) -> Any:
        d = self._check_dout(dout)
        # over/under: as forward; invalid: an inf dout times exp(-inf) = 0 is NaN, which propagates
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            return d * self.out


class Reciprocal(Layer):
    """The division node ``1 / x``; backward ``-dout * out**2`` (= ``-dout / x**2``)."""

    def __init__(self) -> None:
        super().__init__()
        self.out: Any = None

    def forward(self, x: Any) -> Any:
        x = as_float_array(x, "Reciprocal.forward")
        with np.errstate(divide="ignore", over="ignore", under="ignore"):  # 1/0 = inf, 1/tiny = inf
            self.out = np.reciprocal(x)
        return self._remember_output(self.out)

    def backward(self, dout: Any) -> Any:
        d = self._check_dout(dout)
        y = self.out
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):  # inf·0 -> NaN propagates
            return -d * (y * y)


class Log(Layer):
    """``log(x)``; backward ``dout / x``. ``log(0) = -inf`` and ``log(x < 0) = NaN``, as in torch."""

    def __init__(self) -> None:
        super().__init__()
        self.x: Any = None

    def forward(self, x: Any) -> Any:
        self.x = as_float_array(x, "Log.forward")
        with np.errstate(divide="ignore", invalid="ignore"):
            return self._remember_output(np.log(self.x))

    def backward(self, dout: Any) -> Any:
        d = self._check_dout(dout)
        with np.errstate(divide="ignore", over="ignore", under="ignore", invalid="ignore"):
            return d / self.x


def _axis(axis: Any, ndim: int, where: str, shape: tuple[int, ...]) -> int:
    if not -ndim <= axis < ndim:
        raise LayerError(f"{where}: axis {axis} is out of range for x of shape {shape}")
    return int(axis) % ndim


class Repeat(Layer):
    """Book 2's Repeat node: ``np.repeat(x, repeats, axis)`` (each slice copied ``repeats`` times in
    place: a (1, D) row becomes (N, D)); backward sums each group of copies back into its slice."""

    def __init__(self, repeats: int = 2, axis: int = 0) -> None:
        super().__init__()
        if int(repeats) != repeats or repeats < 1:
            raise LayerError(f"Repeat: repeats must be a whole number >= 1, got {repeats!r}")
        self.repeats, self.axis = int(repeats), int(axis)
        self._x_shape: tuple[int, ...] = ()
        self._at = 0

    def forward(self, x: Any) -> np.ndarray:
        x = as_float_array(x, "Repeat.forward")
        self._at = _axis(self.axis, x.ndim, "Repeat.forward", x.shape)
        self._x_shape = x.shape
        return self._remember_output(np.repeat(x, self.repeats, axis=self._at))

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        a, shape = self._at, self._x_shape
        grouped = d.reshape(*shape[:a], shape[a], self.repeats, *shape[a + 1 :])
        with np.errstate(invalid="ignore"):  # inf + (-inf) among copies -> NaN propagates
            return grouped.sum(axis=a + 1)


class Sum(Layer):
    """Book 2's Sum node: ``np.sum(x, axis, keepdims=True)`` ((N, D) -> (1, D) for axis 0);
    backward copies ``dout`` to every summed element (``np.repeat`` along the axis)."""

    def __init__(self, axis: int = 0) -> None:
        super().__init__()
        self.axis = int(axis)
        self._x_shape: tuple[int, ...] = ()
        self._at = 0

    def forward(self, x: Any) -> np.ndarray:
        x = as_float_array(x, "Sum.forward")
        self._at = _axis(self.axis, x.ndim, "Sum.forward", x.shape)
        self._x_shape = x.shape
        with np.errstate(invalid="ignore"):  # inf + (-inf) -> NaN propagates
            return self._remember_output(np.sum(x, axis=self._at, keepdims=True))

    def backward(self, dout: Any) -> np.ndarray:
        d = self._check_dout(dout)
        return np.repeat(d, self._x_shape[self._at], axis=self._at)
