"""The book's computational-graph nodes (chapter 5.4): multiplication and addition.

They take Python scalars (the apple example: Python numbers in, Python floats out) or arrays of
any broadcastable shapes. A broadcast operand's gradient is summed back to that operand's own
shape, which is what makes ``x + b`` with a bias row ``b`` give ``db = sum over the batch``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import Layer, LayerError, as_float_array, is_python_number

__all__ = ["AddLayer", "MulLayer"]


def _operand(v: Any, where: str, name: str) -> Any:
    """Python numbers stay Python floats (NumPy's weak scalars); anything else becomes a float array."""
    return float(v) if is_python_number(v) else as_float_array(v, where, name)


def _broadcast_shape(x: Any, y: Any, where: str) -> tuple[int, ...]:
    try:
        return np.broadcast_shapes(np.shape(x), np.shape(y))
    except ValueError:
        raise LayerError(
            f"{where}: x of shape {np.shape(x)} and y of shape {np.shape(y)} do not broadcast"
        ) from None


def reduce_to_shape(g: Any, shape: tuple[int, ...]) -> Any:
    """Sum ``g`` over the axes along which an operand of ``shape`` was broadcast (none: ``g`` itself)."""
    g_shape = np.shape(g)
    if g_shape == shape:
        return g
    lead = len(g_shape) - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g_shape[lead + i] != 1
    )
    return np.sum(g, axis=axes, keepdims=True).reshape(shape)[()]


class _Node(Layer):
    """Shared ``forward``/``backward`` bookkeeping of the two-input nodes."""

    def _inputs(self, x: Any, y: Any) -> tuple[Any, Any]:
        where = f"{type(self).__name__}.forward"
        x, y = _operand(x, where, "x"), _operand(y, where, "y")
        _broadcast_shape(x, y, where)
        return x, y

    def _upstream(self, dout: Any) -> Any:
        d = self._check_dout(dout)
        return float(dout) if is_python_number(dout) else d


class MulLayer(_Node):
    """``out = x * y``; ``dx = dout * y`` and ``dy = dout * x`` (each summed to its operand's shape)."""

    def __init__(self) -> None:
        super().__init__()
        self.x: Any = None
        self.y: Any = None

    def forward(self, x: Any, y: Any) -> Any:
        self.x, self.y = self._inputs(x, y)
        with np.errstate(invalid="ignore"):  # inf * 0 -> NaN: inf propagates (see docs/ROBUSTNESS.md)
            return self._remember_output(self.x * self.y)

    def backward(self, dout: Any) -> tuple[Any, Any]:
        g = self._upstream(dout)
        with np.errstate(invalid="ignore"):  # inf * 0 and inf - inf -> NaN: inf propagates
            dx = reduce_to_shape(g * self.y, np.shape(self.x))
            dy = reduce_to_shape(g * self.x, np.shape(self.y))
        return dx, dy


class AddLayer(_Node):
    """``out = x + y``; both gradients are ``dout`` (summed to each operand's shape).

    The two gradients are separate arrays, never the caller's ``dout`` itself, so that a consumer
    updating one in place cannot change the other.
    """

    def __init__(self) -> None:
        super().__init__()
        self._x_shape: tuple[int, ...] = ()
        self._y_shape: tuple[int, ...] = ()

    def forward(self, x: Any, y: Any) -> Any:
        x, y = self._inputs(x, y)
        self._x_shape, self._y_shape = np.shape(x), np.shape(y)
        with np.errstate(invalid="ignore"):  # inf + (-inf) -> NaN: inf propagates
            return self._remember_output(x + y)

    def backward(self, dout: Any) -> tuple[Any, Any]:
        g = self._upstream(dout)
        with np.errstate(invalid="ignore"):  # summing a broadcast inf and -inf -> NaN
            dx = reduce_to_shape(g, self._x_shape)
            dy = reduce_to_shape(g, self._y_shape)
        if dx is g and isinstance(g, np.ndarray):
            dx = g.copy()[()]
        if dy is g and isinstance(g, np.ndarray):
            dy = g.copy()[()]
        return dx, dy
