"""The book's two-layer network (chapter 5.7): Affine -> Relu -> Affine -> SoftmaxWithLoss."""

from __future__ import annotations

import math
from typing import Any, ClassVar

import numpy as np

from ._base import LayerError
from ._network import Network
from .activations import Relu
from .affine import Affine

__all__ = ["TwoLayerNet"]


class TwoLayerNet(Network):
    """``input -> Affine1 -> Relu1 -> Affine2 -> SoftmaxWithLoss``.

    ``params`` holds W1, b1, W2, b2 (weights ``weight_init_std * N(0, 1)``, biases zero) and the
    layers hold the *same* arrays, so an in-place update ``net.params['W1'] -= lr * g`` trains the
    network (rebinding ``net.params['W1'] = ...`` would not). ``rng`` is None, an int seed or a
    ``np.random.Generator``; ``dtype`` (float64 by default, or float32) is the parameters' dtype.
    """

    param_layers: ClassVar[dict[str, tuple[str, str]]] = {
        "W1": ("Affine1", "W"),
        "b1": ("Affine1", "b"),
        "W2": ("Affine2", "W"),
        "b2": ("Affine2", "b"),  # b2, not b1 (book erratum)
    }

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
        dt, normal = self._initializer(weight_init_std, rng, dtype)
        self._wire(
            {
                "Affine1": Affine(normal(input_size, hidden_size), np.zeros(hidden_size, dt)),
                "Relu1": Relu(),
                "Affine2": Affine(normal(hidden_size, output_size), np.zeros(output_size, dt)),
            }
        )

    def _check_input(self, x: Any) -> None:
        d = self.params["W1"].shape[0]
        shape = np.shape(x)
        if len(shape) < 2 or math.prod(shape[1:]) != d:
            raise LayerError(
                f"{type(self).__name__}.predict: x has shape {shape}; expected a batch (N, {d}) "
                f"for input_size {d}"
            )
