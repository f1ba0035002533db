"""The book's optimizers with torch.optim's exact update formulas, so both agree step by step.

``update(params, grads)`` takes dicts keyed by name and updates each ``params`` array in place (an
array shared with a layer trains that layer); ``grads`` is only read. State lives in the
parameter's dtype, hyperparameters are Python floats, so float32 parameters stay float32.

Where the book differs (see docs/CNN_LAYERS.md for the algebra):

- Momentum: the book keeps ``v = m*v - lr*g; p += v``; torch (``SGD(momentum=m)``) keeps
  ``b = m*b + g; p -= lr*b``. With a constant ``lr``, ``v == -lr*b`` at every step, so the
  parameters agree; we store torch's buffer (``momentum_buffer``).
- AdaGrad: same formula ``p -= lr * g / (sqrt(h) + eps)``; the book's eps is 1e-7, torch's 1e-10.
- Adam: the book folds the bias corrections into ``lr_t = lr*sqrt(1-b2**t)/(1-b1**t)`` and divides
  by ``sqrt(v) + 1e-7``, which is torch's formula with a step-dependent ``eps = 1e-7/sqrt(1-b2**t)``.
  We use torch's ``p -= lr/(1-b1**t) * m / (sqrt(v)/sqrt(1-b2**t) + eps)``, ``eps=1e-8``;
  ``AdamEpsHat`` is the book's form (the property spec ``adam`` is the book's, ``adam_torch`` torch's).
- ``AdaGradEpsInside``: ``sqrt(h + eps)``, a named convention (spec ``adagrad_eps_inside``);
  ``Nesterov``: torch's ``SGD(nesterov=True)`` (spec ``nesterov``).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, MutableMapping

import numpy as np

__all__ = [
    "SGD",
    "AdaGrad",
    "AdaGradEpsInside",
    "Adam",
    "AdamEpsHat",
    "Momentum",
    "Nesterov",
    "RMSprop",
    "RMSpropEpsInside",
    "clip_grads",
]


class _Optimizer:
    def _check(
        self, name: str, value: float, low: float, high: float = np.inf, open_high: bool = False
    ) -> float:
        value = float(value)
        ok = low <= value < high if open_high else low <= value <= high
        if not ok:
            bound = f"[{low}, {high})" if open_high else f">= {low}"
            raise ValueError(f"{type(self).__name__}: {name} must be {bound}, got {value}")
        return value

    def _pairs(
        self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]
    ) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
        """Each parameter with its gradient; a gradient of another shape is an error, not a broadcast."""
        for key, p in params.items():
            g = np.asarray(grads[key])
            if g.shape != np.shape(p):
                raise ValueError(
                    f"{type(self).__name__}.update: grads[{key!r}] has shape {g.shape} but "
                    f"params[{key!r}] has shape {np.shape(p)}"
                )
            yield key, p, g


class SGD(_Optimizer):
    """``p -= lr * g``."""

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = self._check("lr", lr, 0.0)

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        for _, p, g in self._pairs(params, grads):
            p -= self.lr * g


class Momentum(_Optimizer):
    """torch's ``SGD(momentum=m)``: ``b = m*b + g`` (``b = g`` at the first step); ``p -= lr*b``."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9) -> None:
        self.lr = self._check("lr", lr, 0.0)
        self.momentum = self._check("momentum", momentum, 0.0)
        self.momentum_buffer: dict[str, np.ndarray] = {}

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        for key, p, g in self._pairs(params, grads):
            p -= self.lr * self._buffer(key, p, g)

    def _buffer(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        """``key``'s momentum buffer, updated in place by ``g``."""
        b = self.momentum_buffer.get(key)
        if b is None:
            b = self.momentum_buffer[key] = np.array(g, dtype=p.dtype, copy=True)
        else:
            b *= self.momentum
            b += g
        return b


class Nesterov(Momentum):
    """Nesterov momentum, torch's ``SGD(momentum=m, nesterov=True)``: ``b = m*b + g``;
    ``p -= lr*(g + m*b)``, which is ``v = m*v - lr*g; p += m*v - lr*g`` for a constant lr."""

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        for key, p, g in self._pairs(params, grads):
            p -= self.lr * (g + self.momentum * self._buffer(key, p, g))


class AdaGrad(_Optimizer):
    """``h += g*g; p -= lr * (g / (sqrt(h) + eps))`` (torch's ``Adagrad``, eps 1e-10; the book's 1e-7)."""

    def __init__(self, lr: float = 0.01, eps: float = 1e-10) -> None:
        self.lr = self._check("lr", lr, 0.0)
        self.eps = self._check("eps", eps, 0.0)
        self.h: dict[str, np.ndarray] = {}

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        for key, p, g in self._pairs(params, grads):
            h = self.h.setdefault(key, np.zeros_like(p))
            h += g * g
            p -= self.lr * (g / (np.sqrt(h) + self.eps))


class Adam(_Optimizer):
    """torch's ``Adam``: bias-corrected first and second moments, ``eps`` added after the sqrt."""

    def __init__(
        self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8
    ) -> None:
        self.lr = self._check("lr", lr, 0.0)
        self.beta1 = self._check("beta1", beta1, 0.0, 1.0, open_high=True)
        self.beta2 = self._check("beta2", beta2, 0.0, 1.0, open_high=True)
        self.eps = self._check("eps", eps, 0.0)
        self.iter = 0
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        self.iter += 1
        b1, b2 = self.beta1, self.beta2
        step_size = self.lr / (1.0 - b1**self.iter)
        bc2_sqrt = (1.0 - b2**self.iter) ** 0.5
        for key, p, g in self._pairs(params, grads):
            m, v = self._moments(key, p, g)
            p -= step_size * (m / (np.sqrt(v) / bc2_sqrt + self.eps))

    def _moments(self, key: str, p: np.ndarray, g: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The running first and second moments of ``key``'s gradient, updated in place by ``g``."""
        m = self.m.setdefault(key, np.zeros_like(p))
        v = self.v.setdefault(key, np.zeros_like(p))
        m += (1.0 - self.beta1) * (g - m)
        v *= self.beta2
        v += (1.0 - self.beta2) * (g * g)
        return m, v


class AdaGradEpsInside(AdaGrad):
    """AdaGrad with eps inside the square root, ``p -= lr * g / sqrt(h + eps)``: the accumulator
    starts at eps (TensorFlow 1's ``AdagradOptimizer(initial_accumulator_value)``, torch's
    ``Adagrad(initial_accumulator_value=eps, eps=0)``). A named convention, not the book's."""

    def __init__(self, lr: float = 0.01, eps: float = 1e-7) -> None:
        super().__init__(lr, eps)

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        for key, p, g in self._pairs(params, grads):
            h = self.h.setdefault(key, np.full_like(p, self.eps))
            h += g * g
            p -= self.lr * (g / np.sqrt(h))


class AdamEpsHat(Adam):
    """The book's Adam, Kingma & Ba's "efficient" form (their section 2, "epsilon hat"; Keras's
    too): ``lr_t = lr*sqrt(1-b2**t)/(1-b1**t); p -= lr_t * m / (sqrt(v) + eps)``, eps added to the
    uncorrected ``sqrt(v)``. That is torch's ``Adam`` with a step-dependent
    ``eps_t = eps/sqrt(1-b2**t)``; eps defaults to the book's 1e-7."""

    def __init__(
        self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7
    ) -> None:
        super().__init__(lr, beta1, beta2, eps)

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        self.iter += 1
        b1, b2 = self.beta1, self.beta2
        lr_t = self.lr * (1.0 - b2**self.iter) ** 0.5 / (1.0 - b1**self.iter)
        for key, p, g in self._pairs(params, grads):
            m, v = self._moments(key, p, g)
            p -= lr_t * (m / (np.sqrt(v) + self.eps))


class RMSprop(_Optimizer):
    """Book 2's ``RMSprop(lr, decay_rate)``: ``h = decay_rate*h + (1 - decay_rate)*g*g``,
    ``p -= lr * g / (sqrt(h) + eps)``, eps 1e-7 after the root (torch's ``RMSprop(alpha=decay_rate)``,
    whose default eps is 1e-8)."""

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99, eps: float = 1e-7) -> None:
        self.lr = self._check("lr", lr, 0.0)
        self.decay_rate = self._check("decay_rate", decay_rate, 0.0, 1.0)
        self.eps = self._check("eps", eps, 0.0)
        self.h: dict[str, np.ndarray] = {}

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        for key, p, g in self._pairs(params, grads):
            h = self._square_average(key, p, g)
            p -= self.lr * (g / (np.sqrt(h) + self.eps))

    def _square_average(self, key: str, p: np.ndarray, g: np.ndarray) -> np.ndarray:
        h = self.h.setdefault(key, np.zeros_like(p))
        h *= self.decay_rate
        h += (1.0 - self.decay_rate) * (g * g)
        return h


class RMSpropEpsInside(RMSprop):
    """RMSprop with eps inside the root, ``p -= lr * g / sqrt(h + eps)`` (TensorFlow's ``RMSprop``):
    a named convention, not the book's."""

    def update(self, params: MutableMapping[str, np.ndarray], grads: Mapping[str, np.ndarray]) -> None:
        for key, p, g in self._pairs(params, grads):
            h = self._square_average(key, p, g)
            p -= self.lr * (g / np.sqrt(h + self.eps))


def clip_grads(grads: list[np.ndarray], max_norm: float) -> float:
    """Book 2's ``clip_grads``: if the global L2 norm of all gradients exceeds ``max_norm``, scale
    every one in place by ``max_norm / (norm + 1e-6)`` (directions kept); returns the norm before
    (``torch.nn.utils.clip_grad_norm_``)."""
    total = float(np.sqrt(sum(float(np.sum(np.square(g, dtype=np.float64))) for g in grads)))
    rate = max_norm / (total + 1e-6)
    if rate < 1:
        for g in grads:
            g *= g.dtype.type(rate)
    return total
