"""The book's SimpleConvNet: conv - relu - pool(2x2, stride 2) - affine - relu - affine - softmax.

``params`` holds the very arrays the layers hold, so an optimizer updating ``params`` in place
trains the network. ``gradient`` returns copies, so a later call cannot change them under you.
Unlike the book: non-square inputs, floor output sizes (torch's), seeded ``rng``, a ``dtype``,
and ``accuracy`` counts the last partial batch.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._base import LayerError
from .conv import Convolution
from .im2col import conv_output_size, window_int
from .pooling import Pooling

__all__ = ["SimpleConvNet"]

_CONV_DEFAULTS = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}


class SimpleConvNet:
    """``SimpleConvNet(input_dim=(1, 28, 28), conv_param=None, hidden_size=100, output_size=10,
    weight_init_std=0.01, *, rng=None, dtype=np.float64)``.

    ``conv_param`` defaults to the book's ``{'filter_num': 30, 'filter_size': 5, 'pad': 0,
    'stride': 1}``; missing keys take these values.
    """

    def __init__(
        self,
        input_dim: tuple[int, int, int] = (1, 28, 28),
        conv_param: Mapping[str, int] | None = None,
        hidden_size: int = 100,
        output_size: int = 10,
        weight_init_std: float = 0.01,
        *,
        rng: Any = None,
        dtype: Any = np.float64,
    ) -> None:
        from .layers import Affine, Relu, SoftmaxWithLoss  # the sibling module of the basic layers

        cp = {**_CONV_DEFAULTS, **(conv_param or {})}
        unknown = set(cp) - set(_CONV_DEFAULTS)
        if unknown:
            raise LayerError(f"SimpleConvNet.__init__: unknown conv_param keys {sorted(unknown)}")
        if len(input_dim) != 3:
            raise LayerError(f"SimpleConvNet.__init__: input_dim {tuple(input_dim)} is not (C, H, W)")
        where = "SimpleConvNet.__init__"
        C, H, W = (window_int(d, where, "input_dim", 1) for d in input_dim)
        self.input_dim = (C, H, W)
        fn = window_int(cp["filter_num"], where, "filter_num", 1)
        fs = window_int(cp["filter_size"], where, "filter_size", 1)
        pad = window_int(cp["pad"], where, "pad", 0)
        stride = window_int(cp["stride"], where, "stride", 1)
        hidden_size = window_int(hidden_size, where, "hidden_size", 1)
        output_size = window_int(output_size, where, "output_size", 1)
        conv_h = conv_output_size(H, fs, stride, pad)
        conv_w = conv_output_size(W, fs, stride, pad)
        pool_h, pool_w = conv_h // 2, conv_w // 2  # 2x2 window, stride 2, floor
        if pool_h < 1 or pool_w < 1:
            raise LayerError(
                f"SimpleConvNet.__init__: input_dim {tuple(input_dim)} gives a ({conv_h}, {conv_w}) "
                "convolution output, too small for the 2x2 pooling"
            )
        gen = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
        dt = np.dtype(dtype)

        def normal(*shape: int) -> np.ndarray:
            return (weight_init_std * gen.standard_normal(shape)).astype(dt)

        self.params: dict[str, np.ndarray] = {
            "W1": normal(fn, C, fs, fs),
            "b1": np.zeros(fn, dtype=dt),
            "W2": normal(fn * pool_h * pool_w, hidden_size),
            "b2": np.zeros(hidden_size, dtype=dt),
            "W3": normal(hidden_size, output_size),
            "b3": np.zeros(output_size, dtype=dt),
        }
        p = self.params
        self.layers: OrderedDict[str, Any] = OrderedDict()
        self.layers["Conv1"] = Convolution(p["W1"], p["b1"], stride, pad)
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(p["W2"], p["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(p["W3"], p["b3"])
        self.last_layer = SoftmaxWithLoss()
        self._owners = {"1": "Conv1", "2": "Affine1", "3": "Affine2"}

    def predict(self, x: Any) -> np.ndarray:
        if np.shape(x)[1:] != self.input_dim or np.ndim(x) != 4:
            raise LayerError(
                f"SimpleConvNet.predict: x has shape {np.shape(x)}; expected (N, *input_dim) = "
                f"(N, {', '.join(map(str, self.input_dim))})"
            )
        for layer in self.layers.values():
            x = layer.forward(x)
        return np.asarray(x)

    def loss(self, x: Any, t: Any) -> Any:
        scores = self.predict(x)
        try:
            return self.last_layer.forward(scores, t)
        except (LayerError, TypeError) as e:  # name the network and the caller's shapes too
            raise type(e)(
                f"SimpleConvNet.loss: x has shape {np.shape(x)} and t has shape {np.shape(t)}: {e}"
            ) from e

    def accuracy(self, x: Any, t: Any, batch_size: int = 100) -> float:
        """Fraction of correct predictions; ``t`` holds labels or one-hot rows."""
        x, t = np.asarray(x), np.asarray(t)
        if t.ndim == 2:
            t = np.argmax(t, axis=1)
        if x.ndim == 0 or x.shape[0] == 0 or t.shape != x.shape[:1]:
            raise LayerError(
                f"SimpleConvNet.accuracy: x has shape {x.shape} and t has shape {t.shape}; expected at "
                "least one example and one label (or one-hot row) per example"
            )
        correct = 0
        for i in range(0, x.shape[0], batch_size):
            y = np.argmax(self.predict(x[i : i + batch_size]), axis=1)
            correct += int(np.sum(y == t[i : i + batch_size]))
        return correct / x.shape[0]

    def gradient(self, x: Any, t: Any) -> dict[str, np.ndarray]:
        """Backpropagation; returns copies of the gradients keyed like ``params``."""
        self.loss(x, t)
        dout = self.last_layer.backward(1)  # a Python 1 takes the loss's dtype
        for layer in reversed(self.layers.values()):
            dout = layer.backward(dout)
        grads = {}
        for key in self.params:
            layer = self.layers[self._owners[key[1]]]
            grads[key] = np.array(getattr(layer, "d" + key[0]), copy=True)
        return grads
