# ruff: noqa: SIM118  (the book's own `for key in params.keys()`)
"""Optimizers with planted bugs, each a learner's plausible slip from the book's
common/optimizer.py (tests/zoo/textbook_optim.py, whose ``update`` each replaces); every one must
be rejected by the ``optimizer`` property, with the step and parameter where it departs
(tests/test_optimizer_specs.py). Plus correct optimizers written in other known conventions, which
must be told so by name."""

import numpy as np

from tests.zoo import textbook_optim as book


class MomentumSignError(book.Momentum):
    """``v = -m*v - lr*g``: the sign of the velocity's memory flipped; right at step 1 only."""

    def update(self, params, grads):
        if self.v is None:
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.v[key] = -self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class AdaGradNoAccumulation(book.AdaGrad):
    """``h = g*g`` instead of ``h += g*g``: forgets the past; right at step 1 only."""

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] = grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class AdamNoBiasCorrection(book.Adam):
    """``lr_t = lr``: no bias correction, so the first steps are ~10x too small."""

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key] ** 2 - self.v[key])
            params[key] -= self.lr * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


class SGDRebinds(book.SGD):
    """``params[key] = params[key] - lr*g``: right values, but a new array each step, so a network
    whose layers share the arrays in ``params`` never trains."""

    def update(self, params, grads):
        for key in params.keys():
            params[key] = params[key] - self.lr * grads[key]


class SGDWritesGrads(book.SGD):
    """Scales the gradient in place (``grads[key] *= lr``) before using it."""

    def update(self, params, grads):
        for key in params.keys():
            grads[key] *= self.lr
            params[key] -= grads[key]


class AdaGradEpsInside(book.AdaGrad):
    """A correct AdaGrad with eps inside the square root: a named convention, not the book's."""

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / np.sqrt(self.h[key] + 1e-7)


class AdaGradTorchEps(book.AdaGrad):
    """A correct AdaGrad with torch.optim.Adagrad's default eps 1e-10, not the book's 1e-7."""

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-10)


class AdamTorchEps(book.Adam):
    """A correct Adam written as torch.optim.Adam (eps 1e-8 on the bias-corrected sqrt(v)):
    a named convention, not the book's."""

    def update(self, params, grads):
        if self.m is None:
            self.m = {key: np.zeros_like(val) for key, val in params.items()}
            self.v = {key: np.zeros_like(val) for key, val in params.items()}
        self.iter += 1
        for key in params.keys():
            self.m[key] = self.beta1 * self.m[key] + (1 - self.beta1) * grads[key]
            self.v[key] = self.beta2 * self.v[key] + (1 - self.beta2) * grads[key] ** 2
            m_hat = self.m[key] / (1 - self.beta1**self.iter)
            v_hat = self.v[key] / (1 - self.beta2**self.iter)
            params[key] -= self.lr * m_hat / (np.sqrt(v_hat) + 1e-8)


class SGDReturnsNew(book.SGD):
    """Returns new parameters and leaves ``params`` alone (a functional style the book's training
    loop, which ignores the return value, never sees)."""

    def update(self, params, grads):
        return {key: params[key] - self.lr * grads[key] for key in params}
