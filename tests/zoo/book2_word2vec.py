"""Book 2's ``ch04/negative_sampling_layer.py`` as written: ``UnigramSampler`` and the
``NegativeSamplingLoss(W, corpus, power, sample_size)`` that draws its negative samples with it
from NumPy's global RNG inside ``forward(h, target)``, listing ``W`` once per EmbeddingDot. It
builds on the book's EmbeddingDot (tests/zoo/book2_layers.py) and on a SigmoidWithLoss whose loss
is exact (``logaddexp``): the book's ``log(y + 1e-7)`` is a finding of its own (time_sigmoid_with_loss).
Last, a planted bug (tests/test_negative_sampling.py)."""

# ruff: noqa: NPY002, B905
from __future__ import annotations

import collections

import numpy as np

from tests.zoo.book2_layers import EmbeddingDot

GPU = False


class SigmoidWithLoss:
    """Book 2's, with the loss ``logaddexp(0, x) - t * x`` (no ``+ 1e-7``)."""

    def __init__(self):
        self.params, self.grads = [], []
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = 1 / (1 + np.exp(-x))
        self.loss = np.sum(np.logaddexp(0, x) - t * x) / len(t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        return (self.y - self.t) * dout / batch_size


class UnigramSampler:
    def __init__(self, corpus, power, sample_size):
        self.sample_size = sample_size
        self.vocab_size = None
        self.word_p = None

        counts = collections.Counter()
        for word_id in corpus:
            counts[word_id] += 1

        vocab_size = len(counts)
        self.vocab_size = vocab_size

        self.word_p = np.zeros(vocab_size)
        for i in range(vocab_size):
            self.word_p[i] = counts[i]

        self.word_p = np.power(self.word_p, power)
        self.word_p /= np.sum(self.word_p)

    def get_negative_sample(self, target):
        batch_size = target.shape[0]

        if not GPU:
            negative_sample = np.zeros((batch_size, self.sample_size), dtype=np.int32)

            for i in range(batch_size):
                p = self.word_p.copy()
                target_idx = target[i]
                p[target_idx] = 0
                p /= p.sum()
                negative_sample[i, :] = np.random.choice(
                    self.vocab_size, size=self.sample_size, replace=False, p=p
                )
        else:
            negative_sample = np.random.choice(
                self.vocab_size, size=(batch_size, self.sample_size), replace=True, p=self.word_p
            )

        return negative_sample


class NegativeSamplingLoss:
    def __init__(self, W, corpus, power=0.75, sample_size=5):
        self.sample_size = sample_size
        self.sampler = UnigramSampler(corpus, power, sample_size)
        self.loss_layers = [SigmoidWithLoss() for _ in range(sample_size + 1)]
        self.embed_dot_layers = [EmbeddingDot(W) for _ in range(sample_size + 1)]

        self.params, self.grads = [], []
        for layer in self.embed_dot_layers:
            self.params += layer.params
            self.grads += layer.grads

    def forward(self, h, target):
        batch_size = target.shape[0]
        negative_sample = self.sampler.get_negative_sample(target)

        score = self.embed_dot_layers[0].forward(h, target)
        correct_label = np.ones(batch_size, dtype=np.int32)
        loss = self.loss_layers[0].forward(score, correct_label)

        negative_label = np.zeros(batch_size, dtype=np.int32)
        for i in range(self.sample_size):
            negative_target = negative_sample[:, i]
            score = self.embed_dot_layers[1 + i].forward(h, negative_target)
            loss += self.loss_layers[1 + i].forward(score, negative_label)

        return loss

    def backward(self, dout=1):
        dh = 0
        for l0, l1 in zip(self.loss_layers, self.embed_dot_layers):
            dscore = l0.backward(dout)
            dh += l1.backward(dscore)

        return dh


# ---- planted -----------------------------------------------------------------------------------


class BrokenNegativeSamplingLossNoPositive(NegativeSamplingLoss):
    """The positive pair's term is left out of the loss, and so of the gradients (y - t = 0)."""

    def forward(self, h, target):
        loss = super().forward(h, target)
        positive = self.loss_layers[0]
        positive.t = positive.y  # backward: y - t = 0
        return loss - positive.loss


class NegativeSamplingLossOwnGenerator(NegativeSamplingLoss):
    """Right, but its sampler draws from an unseeded Generator of its own: np.random.seed cannot
    reproduce its samples, so they cannot be recovered (a usage error, never a disagreement)."""

    def __init__(self, W, corpus, power=0.75, sample_size=5):
        super().__init__(W, corpus, power, sample_size)
        rng = np.random.default_rng()
        vocab = self.sampler.vocab_size
        self.sampler.get_negative_sample = lambda target: np.stack(
            [rng.choice(np.setdiff1d(np.arange(vocab), [t]), size=sample_size, replace=False) for t in target]
        )


class NegativeSamplingLossNoSampler(NegativeSamplingLoss):
    """Draws its samples inside forward with nothing to ask for them again."""

    def __init__(self, W, corpus, power=0.75, sample_size=5):
        super().__init__(W, corpus, power, sample_size)
        self.draw_samples = self.sampler.get_negative_sample
        del self.sampler

    def forward(self, h, target):
        self.sampler = type("Hidden", (), {"get_negative_sample": staticmethod(self.draw_samples)})
        try:
            return super().forward(h, target)
        finally:
            del self.sampler
