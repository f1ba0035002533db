"""The book's fully connected networks of chapter 6 (``common/multi_layer_net.py`` and
``common/multi_layer_net_extend.py``): any number of hidden layers, ReLU or sigmoid, He / Xavier /
fixed initial weights, L2 weight decay, and (the extended one) batch normalization and dropout.

The weight decay is part of the loss, ``0.5 * lambda * sum(W**2)`` over every weight matrix (not
the biases, nor gamma and beta), so ``gradient`` adds ``lambda * W`` to each ``dW``; the book's
first release forgot that term in ``MultiLayerNet.gradient``.
"""

from __future__ import annotations

import math
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ._base import LayerError
from ._network import Network
from .activations import Relu, Sigmoid
from .affine import Affine
from .batchnorm import BatchNormalization
from .dropout import Dropout

__all__ = ["MultiLayerNet", "MultiLayerNetExtend"]

_ACTIVATIONS: Mapping[str, type] = {"relu": Relu, "sigmoid": Sigmoid}
#: the book's BatchNormalization uses ``sqrt(var + 10e-7)``
BOOK_BN_EPS = 1e-6


def _init_scale(weight_init_std: Any, fan_in: int, where: str) -> float:
    """The book's rule: 'relu'/'he' gives sqrt(2 / fan_in), 'sigmoid'/'xavier' sqrt(1 / fan_in), a
    number is the standard deviation itself."""
    name = str(weight_init_std).lower()
    if name in ("relu", "he"):
        return math.sqrt(2.0 / fan_in)
    if name in ("sigmoid", "xavier"):
        return math.sqrt(1.0 / fan_in)
    try:
        return float(weight_init_std)
    except (TypeError, ValueError):
        raise LayerError(
            f"{where}: weight_init_std must be 'relu', 'he', 'sigmoid', 'xavier' or a number; "
            f"got {weight_init_std!r}"
        ) from None


class MultiLayerNet(Network):
    """``MultiLayerNet(input_size, hidden_size_list, output_size, activation='relu',
    weight_init_std='relu', weight_decay_lambda=0, *, rng=None, dtype=float64)``.

    Layers ``Affine1, Activation_function1, ..., Affine{L+1}``, then SoftmaxWithLoss; ``params``
    holds ``W1, b1, ..., W{L+1}, b{L+1}``, the very arrays of the layers (in-place updates train).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: Any = "relu",
        weight_decay_lambda: float = 0,
        *,
        rng: int | np.random.Generator | None = None,
        dtype: Any = np.float64,
    ) -> None:
        where = f"{type(self).__name__}.__init__"
        if activation not in _ACTIVATIONS:
            raise LayerError(f"{where}: activation must be 'relu' or 'sigmoid'; got {activation!r}")
        self.input_size, self.output_size = int(input_size), int(output_size)
        self.hidden_size_list = [int(h) for h in hidden_size_list]
        self.hidden_layer_num = len(self.hidden_size_list)
        self.activation = activation
        self.weight_decay_lambda = float(weight_decay_lambda)
        self._dtype, normal = self._initializer(1.0, rng, dtype)
        sizes = [self.input_size, *self.hidden_size_list, self.output_size]
        layers: OrderedDict[str, Any] = OrderedDict()
        for i in range(1, len(sizes)):
            scale = _init_scale(weight_init_std, sizes[i - 1], where)
            W = (scale * normal(sizes[i - 1], sizes[i])).astype(self._dtype)
            layers[f"Affine{i}"] = Affine(W, np.zeros(sizes[i], self._dtype))
            if i < len(sizes) - 1:
                self._hidden_layers(layers, i, sizes[i])
        self._wire(layers)

    def _hidden_layers(self, layers: OrderedDict[str, Any], i: int, size: int) -> None:
        """The layers after hidden affine ``i``: its activation."""
        layers[f"Activation_function{i}"] = _ACTIVATIONS[self.activation]()

    def _param_map(self) -> Mapping[str, tuple[str, str]]:
        keys: dict[str, tuple[str, str]] = {}
        for i in range(1, self.hidden_layer_num + 2):
            keys[f"W{i}"], keys[f"b{i}"] = (f"Affine{i}", "W"), (f"Affine{i}", "b")
        return keys

    def _check_input(self, x: Any) -> None:
        shape = np.shape(x)
        if len(shape) < 2 or math.prod(shape[1:]) != self.input_size:
            raise LayerError(
                f"{type(self).__name__}.predict: x has shape {shape}; expected a batch "
                f"(N, {self.input_size}) for input_size {self.input_size}"
            )

    def _weight_decay(self) -> Any:
        """``0.5 * lambda * sum(W**2)`` over the weight matrices, in their dtype (0 without decay)."""
        lam = self.weight_decay_lambda
        weights = [self.params[f"W{i}"] for i in range(1, self.hidden_layer_num + 2)]
        return sum(0.5 * lam * np.sum(W * W) for W in weights) if lam else 0

    def loss(self, x: Any, t: Any) -> Any:
        """Mean cross-entropy plus the weight decay ``0.5 * lambda * sum(W**2)``."""
        return super().loss(x, t) + self._weight_decay()

    def gradient(self, x: Any, t: Any) -> dict[str, np.ndarray]:
        """Backpropagation; each ``dW`` has the weight decay's ``lambda * W`` added."""
        grads = super().gradient(x, t)
        if self.weight_decay_lambda:
            for i in range(1, self.hidden_layer_num + 2):
                grads[f"W{i}"] += self.weight_decay_lambda * self.params[f"W{i}"]
        return grads


class MultiLayerNetExtend(MultiLayerNet):
    """``MultiLayerNetExtend(input_size, hidden_size_list, output_size, activation='relu',
    weight_init_std='relu', weight_decay_lambda=0, use_dropout=False, dropout_ration=0.5,
    use_batchnorm=False, *, rng=None, dtype=float64, bn_eps=1e-6)``.

    After each hidden affine: ``BatchNorm{i}`` (params ``gamma{i}``, ``beta{i}``; the book's eps
    1e-6), the activation, ``Dropout{i}`` (the book's: not scaled in training, ``x * (1 - p)`` at
    test time). ``predict(x, train_flg=False)``, ``loss(x, t, train_flg=False)``; ``gradient``
    differentiates the training loss. Dropout masks are drawn as the book draws them,
    ``np.random.rand(*x.shape) > dropout_ration`` from NumPy's global RNG, so ``np.random.seed``
    fixes them (and ``numerical_gradient`` reuses one set of masks for every evaluation).
    """

    def __init__(
        self,
        input_size: int,
        hidden_size_list: Sequence[int],
        output_size: int,
        activation: str = "relu",
        weight_init_std: Any = "relu",
        weight_decay_lambda: float = 0,
        use_dropout: bool = False,
        dropout_ration: float = 0.5,
        use_batchnorm: bool = False,
        *,
        rng: int | np.random.Generator | None = None,
        dtype: Any = np.float64,
        bn_eps: float = BOOK_BN_EPS,
    ) -> None:
        self.use_dropout, self.dropout_ration = bool(use_dropout), float(dropout_ration)
        self.use_batchnorm, self.bn_eps = bool(use_batchnorm), float(bn_eps)
        super().__init__(
            input_size,
            hidden_size_list,
            output_size,
            activation,
            weight_init_std,
            weight_decay_lambda,
            rng=rng,
            dtype=dtype,
        )

    def _hidden_layers(self, layers: OrderedDict[str, Any], i: int, size: int) -> None:
        if self.use_batchnorm:
            gamma, beta = np.ones(size, self._dtype), np.zeros(size, self._dtype)
            layers[f"BatchNorm{i}"] = BatchNormalization(gamma, beta, eps=self.bn_eps)
        super()._hidden_layers(layers, i, size)
        if self.use_dropout:
            layers[f"Dropout{i}"] = Dropout(self.dropout_ration, inverted=False)

    def _param_map(self) -> Mapping[str, tuple[str, str]]:
        keys = dict(super()._param_map())
        if self.use_batchnorm:
            for i in range(1, self.hidden_layer_num + 1):
                keys[f"gamma{i}"], keys[f"beta{i}"] = (f"BatchNorm{i}", "gamma"), (f"BatchNorm{i}", "beta")
        return keys

    def predict(self, x: Any, train_flg: bool = False) -> np.ndarray:
        """Scores before the softmax; batch statistics and dropout masks when ``train_flg``."""
        self._check_input(x)
        for layer in self.layers.values():
            if isinstance(layer, Dropout) and train_flg:
                mask = np.random.rand(*np.shape(x)) > layer.dropout_ratio  # noqa: NPY002 - the book's draw
                x = layer.forward(x, True, mask=mask)
            elif isinstance(layer, (Dropout, BatchNormalization)):
                x = layer.forward(x, bool(train_flg))
            else:
                x = layer.forward(x)
        return np.asarray(x)

    def loss(self, x: Any, t: Any, train_flg: bool = False) -> Any:
        """Mean cross-entropy of ``predict(x, train_flg)`` plus the weight decay."""
        scores = self.predict(x, train_flg)
        try:
            ce = self.last_layer.forward(scores, t)
        except (LayerError, TypeError) as e:  # name the network and the caller's shapes too
            raise type(e)(
                f"{type(self).__name__}.loss: x has shape {np.shape(x)} and t has shape {np.shape(t)}: {e}"
            ) from e
        return ce + self._weight_decay()

    def _train_loss(self, x: Any, t: Any) -> Any:
        return self.loss(x, t, train_flg=True)

    def numerical_gradient(self, x: Any, t: Any) -> dict[str, np.ndarray]:
        """Central differences of the training loss, every evaluation under the same dropout masks
        (NumPy's global RNG restored before each): the masks ``gradient`` would draw from here."""
        state = np.random.get_state()  # noqa: NPY002 - the RNG the book's dropout draws from
        loss = self._train_loss

        def same_masks(x: Any, t: Any) -> Any:
            np.random.set_state(state)  # noqa: NPY002
            return loss(x, t)

        self._train_loss = same_masks  # type: ignore[method-assign]
        try:
            return super().numerical_gradient(x, t)
        finally:
            del self._train_loss
            np.random.set_state(state)  # noqa: NPY002
