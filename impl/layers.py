"""All seed layers in one place, like the book's ``common/layers.py``.

Each lives in a small module with one job (``nodes``, ``activations``, ``affine``, ``softmax_loss``);
this module only re-exports them so ``from impl.layers import Affine`` works as in the book.
"""

from __future__ import annotations

from ._base import Layer, LayerError
from .activations import Relu, Sigmoid
from .affine import Affine
from .nodes import AddLayer, MulLayer
from .softmax_loss import Softmax, SoftmaxWithLoss

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
]
