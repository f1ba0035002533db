"""The book's SimpleConvNet: conv - relu - pool(2x2, stride 2) - affine - relu - affine - softmax.

``params`` holds the very arrays the layers hold, so an optimizer updating ``params`` in place
trains the network. ``gradient`` returns copies, so a later call cannot change them under you.
Unlike the book: non-square inputs, floor output sizes (torch's), seeded ``rng``, a ``dtype``,
and ``accuracy`` counts the last partial batch.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

import numpy as np

from ._base import LayerError
from ._network import Network
from .activations import Relu
from .affine import Affine
from .conv import Convolution
from .im2col import conv_output_size, window_int
from .pooling import Pooling

__all__ = ["SimpleConvNet"]

_CONV_DEFAULTS = {"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1}


class SimpleConvNet(Network):
    """``SimpleConvNet(input_dim=(1, 28, 28), conv_param=None, hidden_size=100, output_size=10,
    weight_init_std=0.01, *, rng=None, dtype=np.float64)``.

    ``conv_param`` defaults to the book's ``{'filter_num': 30, 'filter_size': 5, 'pad': 0,
    'stride': 1}``; missing keys take these values.
    """

    param_layers: ClassVar[dict[str, tuple[str, str]]] = {
        "W1": ("Conv1", "W"),
        "b1": ("Conv1", "b"),
        "W2": ("Affine1", "W"),
        "b2": ("Affine1", "b"),
        "W3": ("Affine2", "W"),
        "b3": ("Affine2", "b"),
    }

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
        dt, normal = self._initializer(weight_init_std, rng, dtype)
        self._wire(
            {
                "Conv1": Convolution(normal(fn, C, fs, fs), np.zeros(fn, dt), stride, pad),
                "Relu1": Relu(),
                "Pool1": Pooling(pool_h=2, pool_w=2, stride=2),
                "Affine1": Affine(normal(fn * pool_h * pool_w, hidden_size), np.zeros(hidden_size, dt)),
                "Relu2": Relu(),
                "Affine2": Affine(normal(hidden_size, output_size), np.zeros(output_size, dt)),
            }
        )

    def _check_input(self, x: Any) -> None:
        if np.shape(x)[1:] != self.input_dim or np.ndim(x) != 4:
            raise LayerError(
                f"{type(self).__name__}.predict: x has shape {np.shape(x)}; expected (N, *input_dim) = "
                f"(N, {', '.join(map(str, self.input_dim))})"
            )

    def accuracy(self, x: Any, t: Any, batch_size: int | None = 100) -> float:
        """Fraction of correct predictions, ``batch_size`` examples per forward pass."""
        return super().accuracy(x, t, batch_size)
