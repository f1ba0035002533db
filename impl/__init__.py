"""NumPy layers from *Deep Learning from Scratch*, with the book's interface and without its bugs.

Pure NumPy and the standard library: importing ``impl`` never imports torch or jax. Every layer
derives from :class:`Layer` (one ``params``/``grads`` store, ``forward`` before ``backward``,
shape-checked ``dout``); bad input raises :class:`LayerError` naming the layer and the shapes.
"""

from __future__ import annotations

from ._base import Layer, LayerError
from .functions import cross_entropy_error, log_softmax, numerical_gradient, relu, sigmoid, softmax
from .layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, Softmax, SoftmaxWithLoss
from .two_layer_net import TwoLayerNet

__all__ = [
    "AddLayer",
    "Affine",
    "Layer",
    "LayerError",
    "MulLayer",
    "Relu",
    "Sigmoid",
    "Softmax",
    "SoftmaxWithLoss",
    "TwoLayerNet",
    "cross_entropy_error",
    "log_softmax",
    "numerical_gradient",
    "relu",
    "sigmoid",
    "softmax",
]
