"""The book's two-layer network (chapter 5.7): Affine -> Relu -> Affine -> SoftmaxWithLoss."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

import numpy as np

from ._base import LayerError
from .activations import Relu
from .affine import Affine
from .functions import numerical_gradient
from .softmax_loss import SoftmaxWithLoss

__all__ = ["TwoLayerNet"]

# where backprop leaves each parameter's gradient
_PARAM_LAYERS = {
    "W1": ("Affine1", "dW"),
    "b1": ("Affine1", "db"),
    "W2": ("Affine2", "dW"),
    "b2": ("Affine2", "db"),
}


class TwoLayerNet:
    """``input -> Affine1 -> Relu1 -> Affine2 -> SoftmaxWithLoss``.

    ``params`` holds W1, b1, W2, b2 (weights ``weight_init_std * N(0, 1)``, biases zero) and the
    layers hold the *same* arrays, so an in-place update ``net.params['W1'] -= lr * g`` trains the
    network (rebinding ``net.params['W1'] = ...`` would not). ``rng`` is None, an int seed or a
    ``np.random.Generator``; ``dtype`` (float64 by default, or float32) is the parameters' dtype.
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        *,
        rng: int | np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"TwoLayerNet: dtype must be a float dtype (float32 or float64); got {dt}")
        gen = np.random.default_rng(rng)
        self.params: dict[str, np.ndarray] = {
            "W1": (weight_init_std * gen.standard_normal((input_size, hidden_size))).astype(dt),
            "b1": np.zeros(hidden_size, dt),
            "W2": (weight_init_std * gen.standard_normal((hidden_size, output_size))).astype(dt),
            "b2": np.zeros(output_size, dt),
        }
        self.layers: OrderedDict[str, Any] = OrderedDict()
        self.layers["Affine1"] = Affine(self.params["W1"], self.params["b1"])
        self.layers["Relu1"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W2"], self.params["b2"])  # b2, not b1 (book erratum)
        self.last_layer = SoftmaxWithLoss()

    @property
    def lastLayer(self) -> SoftmaxWithLoss:
        """The book's name for ``last_layer``."""
        return self.last_layer

    def predict(self, x: Any) -> np.ndarray:
        """Scores (logits) before the softmax, shape (N, output_size)."""
        d = self.params["W1"].shape[0]
        shape = np.shape(x)
        if len(shape) < 2 or math.prod(shape[1:]) != d:
            raise LayerError(
                f"TwoLayerNet.predict: x has shape {shape}; expected a batch (N, {d}) for input_size {d}"
            )
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x: Any, t: Any) -> Any:
        """Mean cross-entropy of the batch; ``t`` is labels (N,) or one-hot (N, output_size)."""
        scores = self.predict(x)
        try:
            return self.last_layer.forward(scores, t)
        except (LayerError, TypeError) as e:  # name the network and the caller's shapes too
            raise type(e)(
                f"TwoLayerNet.loss: x has shape {np.shape(x)} and t has shape {np.shape(t)}: {e}"
            ) from e

    def accuracy(self, x: Any, t: Any) -> float:
        """Fraction of examples whose highest score is the target class (labels or one-hot ``t``)."""
        y = np.argmax(self.predict(x), axis=1)
        t = np.asarray(t)
        labels = np.argmax(t, axis=1) if t.ndim == 2 else t
        if labels.shape != y.shape or y.size == 0:
            raise LayerError(
                f"TwoLayerNet.accuracy: x has shape {np.shape(x)} and t has shape {t.shape}; expected at "
                f"least one example and labels ({y.size},) or one-hot rows ({y.size}, C)"
            )
        return float(np.sum(y == labels)) / float(y.size)

    def numerical_gradient(self, x: Any, t: Any) -> dict[str, np.ndarray]:
        """Central differences (h = 1e-4) of the loss, perturbing each parameter in place.

        Slow (two forward passes per parameter); every parameter is unchanged afterwards.
        """

        def loss_w(_: np.ndarray) -> Any:
            return self.loss(x, t)

        return {key: numerical_gradient(loss_w, self.params[key]) for key in ("W1", "b1", "W2", "b2")}

    def gradient(self, x: Any, t: Any) -> dict[str, np.ndarray]:
        """Backpropagation. Returns a fresh dict of *copies*: the layers update their gradient arrays
        in place, so handing out the live arrays would let the next call overwrite a kept result.
        """
        self.loss(x, t)
        dout = self.last_layer.backward(1)
        first, *rest = self.layers.values()
        for layer in reversed(rest):
            dout = layer.backward(dout)
        if type(first) is Affine:  # exactly ours: its dx (the data's gradient) would be discarded
            first.backward_params(dout)
        else:  # a replaced or subclassed first layer keeps its own backward
            first.backward(dout)
        return {
            key: getattr(self.layers[layer_name], attr).copy()
            for key, (layer_name, attr) in _PARAM_LAYERS.items()
        }
