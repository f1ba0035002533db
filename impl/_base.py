"""What every layer shares: one parameter/gradient store, dtype policy and input checks.

Parameters live in ``self.params`` and their gradients in ``self.grads`` (the book's second
volume). The book's first-volume attributes (``layer.W``, ``layer.dW``) are descriptors that
read the same lists, so there is one mechanism, not two copies that could drift apart.
Gradients are written *in place* into ``self.grads`` so that an optimizer holding references
to those arrays always sees the newest values.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np

__all__ = ["Layer", "LayerError", "Param", "as_float_array", "is_python_number"]


class LayerError(ValueError):
    """Bad input to a layer; the message names the layer and the shapes involved."""


class Param:
    """``layer.W`` is ``layer.params[i]``; with ``grad=True``, ``layer.dW`` is ``layer.grads[i]``."""

    def __init__(self, index: int, *, grad: bool = False) -> None:
        self.index = index
        self.grad = grad

    @overload
    def __get__(self, obj: None, owner: type) -> Param: ...
    @overload
    def __get__(self, obj: Layer, owner: type) -> np.ndarray: ...
    def __get__(self, obj: Layer | None, owner: type) -> Any:
        if obj is None:
            return self
        store = obj.grads if self.grad else obj.params
        return store[self.index]

    def __set__(self, obj: Layer, value: np.ndarray) -> None:
        store = obj.grads if self.grad else obj.params
        store[self.index] = value


def as_float_array(x: Any, where: str, name: str = "x") -> np.ndarray:
    """Floating arrays pass through untouched (no copy); integers and bools become float64.

    Anything else (complex, object, strings) is a clear ``TypeError`` naming the layer.
    """
    a = np.asarray(x)
    if a.dtype.kind == "f":
        return a
    if a.dtype.kind in "iub":
        return a.astype(np.float64)
    raise TypeError(f"{where}: {name} has dtype {a.dtype}; expected real numbers (float32 or float64)")


def is_python_number(v: Any) -> bool:
    """A plain Python ``int``/``float`` (not a NumPy scalar).

    NumPy treats these as "weak": ``float32_array * 0.5`` stays float32, whereas a 0-d float64
    array or ``np.float64`` would upcast it. Layers keep such values as Python floats so that a
    default ``dout=1`` or the book's ``MulLayer`` apple example never changes a dtype.
    """
    return isinstance(v, (int, float)) and not isinstance(v, np.generic)


class Layer:
    """Base class: ``params``/``grads`` lists, the forward-before-backward and ``dout`` checks."""

    def __init__(self, *params: Any) -> None:
        name = type(self).__name__
        self.params: list[np.ndarray] = [
            as_float_array(p, name, f"parameter {i}") for i, p in enumerate(params)
        ]
        self.grads: list[np.ndarray] = [np.zeros_like(p) for p in self.params]
        self._out_shape: tuple[int, ...] | None = None
        self._out_dtype: np.dtype[Any] = np.dtype(np.float64)

    def _remember_output(self, out: Any) -> Any:
        self._out_shape = np.shape(out)
        self._out_dtype = np.result_type(out)
        return out

    def _check_dout(self, dout: Any) -> np.ndarray:
        """The upstream gradient must exist after a forward pass and match its output's shape."""
        name = type(self).__name__
        if self._out_shape is None:
            raise LayerError(f"{name}.backward: call forward first")
        if is_python_number(dout) and self._out_dtype.kind == "f":
            # A Python number is weak in NumPy: it takes the output's dtype (the default
            # ``dout=1`` of a float32 loss must not turn its gradients into float64).
            d = np.asarray(dout, dtype=self._out_dtype)
        else:
            d = as_float_array(dout, f"{name}.backward", "dout")
        if d.shape != self._out_shape:
            raise LayerError(
                f"{name}.backward: dout has shape {d.shape} but forward produced shape {self._out_shape}"
            )
        return d

    def _store_grads(self, *grads: np.ndarray) -> None:
        """Write gradients in place, in each parameter's own dtype (as torch's ``.grad`` does)."""
        for slot, g in zip(self.grads, grads, strict=True):
            slot[...] = g
