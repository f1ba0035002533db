"""What TwoLayerNet and SimpleConvNet share: the layer loop, loss, accuracy and gradients.

A subclass declares once, in ``param_layers``, which layer attribute each ``params`` entry is.
``params`` is read out of the layers through that map (so both hold the same arrays and a bias
cannot be wired into the wrong layer, the book's ``Affine(W2, b1)`` erratum), and ``gradient``
reads each gradient back through it (``"d" + attribute``, the book's ``dW``/``db``).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import numpy as np

from ._base import LayerError
from .affine import Affine
from .functions import numerical_gradient
from .softmax_loss import SoftmaxWithLoss

__all__ = ["Network"]


class Network:
    """``layers`` run in order, then ``last_layer`` (SoftmaxWithLoss).

    A subclass declares ``param_layers``, implements ``_check_input`` and builds its layers from
    ``_initializer``'s draws, then hands them to ``_wire``. Layers are looked up by name on every
    call, so a layer replaced in ``layers`` is the one used (and credited with the gradients).
    """

    #: params key -> (name in ``layers``, the attribute of that layer holding the parameter)
    param_layers: ClassVar[Mapping[str, tuple[str, str]]] = {}

    params: dict[str, np.ndarray]
    layers: OrderedDict[str, Any]
    last_layer: SoftmaxWithLoss

    def _initializer(
        self, weight_init_std: float, rng: Any, dtype: Any
    ) -> tuple[np.dtype[Any], Callable[..., np.ndarray]]:
        """``(dtype, normal)``; ``normal(*shape)`` is ``weight_init_std * N(0, 1)`` drawn from ``rng``."""
        dt = np.dtype(dtype)
        if dt.kind != "f":  # integer weights would be copied to float64 by the layers: no longer shared
            raise TypeError(
                f"{type(self).__name__}: dtype must be a float dtype (float32 or float64); got {dt}"
            )
        gen = np.random.default_rng(rng)  # a Generator is used as is

        def normal(*shape: int) -> np.ndarray:
            return (weight_init_std * gen.standard_normal(shape)).astype(dt)

        return dt, normal

    def _wire(self, layers: Mapping[str, Any]) -> None:
        """Keep the layers and take ``params`` from them: the very arrays, so in-place updates train."""
        self.layers = OrderedDict(layers)
        self.last_layer = SoftmaxWithLoss()
        self.params = {key: getattr(self.layers[n], attr) for key, (n, attr) in self._param_map().items()}

    def _param_map(self) -> Mapping[str, tuple[str, str]]:
        """``param_layers``; a network whose layers depend on its sizes (MultiLayerNet) builds its own."""
        return self.param_layers

    def _train_loss(self, x: Any, t: Any) -> Any:
        """The loss ``gradient`` differentiates: ``loss(x, t)``, in training mode where there is one."""
        return self.loss(x, t)

    def _check_input(self, x: Any) -> None:
        """Raise a LayerError naming ``<Class>.predict`` and the shapes if ``x`` does not fit."""
        raise NotImplementedError

    @property
    def lastLayer(self) -> SoftmaxWithLoss:
        """The book's name for ``last_layer``."""
        return self.last_layer

    def predict(self, x: Any) -> np.ndarray:
        """Scores (logits) before the softmax, shape (N, output_size)."""
        self._check_input(x)
        for layer in self.layers.values():
            x = layer.forward(x)
        return np.asarray(x)

    def loss(self, x: Any, t: Any) -> Any:
        """Mean cross-entropy of the batch; ``t`` is labels (N,) or one-hot (N, output_size)."""
        scores = self.predict(x)
        try:
            return self.last_layer.forward(scores, t)
        except (LayerError, TypeError) as e:  # name the network and the caller's shapes too
            raise type(e)(
                f"{type(self).__name__}.loss: x has shape {np.shape(x)} and t has shape {np.shape(t)}: {e}"
            ) from e

    def accuracy(self, x: Any, t: Any, batch_size: int | None = None) -> float:
        """Fraction of examples whose highest score is the target class (labels or one-hot ``t``),
        predicted ``batch_size`` examples at a time (None: all at once); a last partial batch counts.
        """
        x, t = np.asarray(x), np.asarray(t)
        labels = np.argmax(t, axis=1) if t.ndim == 2 else t
        if x.ndim == 0 or x.shape[0] == 0 or labels.shape != x.shape[:1]:
            raise LayerError(
                f"{type(self).__name__}.accuracy: x has shape {x.shape} and t has shape {t.shape}; "
                "expected at least one example and one label (or one-hot row) per example"
            )
        n = x.shape[0]
        step = n if batch_size is None else batch_size
        correct = 0
        for i in range(0, n, step):
            y = np.argmax(self.predict(x[i : i + step]), axis=1)
            correct += int(np.sum(y == labels[i : i + step]))
        return correct / n

    def numerical_gradient(self, x: Any, t: Any) -> dict[str, np.ndarray]:
        """Central differences (h = 1e-4) of the loss, perturbing each parameter in place.

        Slow (two forward passes per parameter element); every parameter is unchanged afterwards.
        """

        def loss_w(_: np.ndarray) -> Any:
            return self._train_loss(x, t)

        return {key: numerical_gradient(loss_w, self.params[key]) for key in self._param_map()}

    def gradient(self, x: Any, t: Any) -> dict[str, np.ndarray]:
        """Backpropagation. Returns *copies*: the layers overwrite their gradient arrays in place,
        so handing out the live arrays would let the next call change a kept result.
        """
        self._train_loss(x, t)
        dout = self.last_layer.backward(1)  # a Python 1 takes the loss's dtype
        first, *rest = self.layers.values()
        for layer in reversed(rest):
            dout = layer.backward(dout)
        if type(first) is Affine:  # exactly ours: its dx (the data's gradient) would be discarded
            first.backward_params(dout)
        else:  # any other first layer (a Convolution, a subclassed Affine) runs its own backward
            first.backward(dout)
        return {
            key: np.array(getattr(self.layers[name], "d" + attr), copy=True)
            for key, (name, attr) in self._param_map().items()
        }
