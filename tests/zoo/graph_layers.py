"""Graph nodes and book-2 layers as learners write them: each ``Book*`` class is right, written the
book's way, and must be accepted; each ``Broken*`` class has one planted bug that the checks must
reject (a ``Book*`` class with the buggy method replaced, where there is one). NumPy only,
self-contained, like a user's file.
"""

from __future__ import annotations

import numpy as np

# ---- correct, written the book's way --------------------------------------------------------------


class BookEmbedding:
    """Book 2, chapter 4: ``dW[word_id] += dout[i]`` in a loop over the (1-D) indices."""

    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.idx = None

    def forward(self, idx):
        (W,) = self.params
        self.idx = idx
        out = W[idx]
        return out

    def backward(self, dout):
        (dW,) = self.grads
        dW[...] = 0
        for i, word_id in enumerate(self.idx):
            dW[word_id] += dout[i]
        return None


class BookMatMul:
    """Book 2, chapter 1's MatMul, verbatim but for the names."""

    def __init__(self, W):
        self.params = [W]
        self.grads = [np.zeros_like(W)]
        self.x = None

    def forward(self, x):
        (W,) = self.params
        out = np.dot(x, W)
        self.x = x
        return out

    def backward(self, dout):
        (W,) = self.params
        dx = np.dot(dout, W.T)
        dW = np.dot(self.x.T, dout)
        self.grads[0][...] = dW
        return dx


class BookSoftmax:
    """Book 2, chapter 1's Softmax layer (max-subtracted)."""

    def __init__(self):
        self.params, self.grads = [], []
        self.out = None

    def forward(self, x):
        x = x - x.max(axis=1, keepdims=True)
        x = np.exp(x)
        x /= x.sum(axis=1, keepdims=True)
        self.out = x
        return self.out

    def backward(self, dout):
        dx = self.out * dout
        sumdx = np.sum(dx, axis=1, keepdims=True)
        dx -= self.out * sumdx
        return dx


class BookCrossEntropyError:
    """Cross-entropy of probabilities as its own layer, one-hot targets: ``-t / y * dout / N``."""

    def __init__(self):
        self.params, self.grads = [], []
        self.y = self.t = None

    def forward(self, y, t):
        self.y, self.t = y, t
        return -np.sum(t * np.log(y)) / y.shape[0]

    def backward(self, dout=1):
        return -self.t / self.y * dout / self.y.shape[0]


# ---- broken ---------------------------------------------------------------------------------------


class BrokenEmbeddingAssign(BookEmbedding):
    """``dW[idx] = dout``: a fancy-index assignment keeps only the last row of a repeated index."""

    def backward(self, dout):
        dW = self.grads[0]
        dW[...] = 0
        dW[self.idx] = dout  # the bug: np.add.at(dW, self.idx, dout)
        return None


class BrokenEmbeddingPlusEquals(BookEmbedding):
    """``dW[idx] += dout``: buffered, so a repeated index is still counted once."""

    def backward(self, dout):
        dW = self.grads[0]
        dW[...] = 0
        dW[self.idx] += dout  # the bug: np.add.at(dW, self.idx, dout)
        return None


class BrokenCEEIgnoresDout(BookCrossEntropyError):
    """Cross-entropy whose backward drops its upstream gradient (right only for dout = 1)."""

    def backward(self, dout=1):
        return -self.t / self.y / self.y.shape[0]  # the bug: * dout


class BrokenCEENoMean(BookCrossEntropyError):
    """Cross-entropy whose backward forgets the forward's division by the batch size."""

    def backward(self, dout=1):
        return -self.t / self.y * dout  # the bug: / N


class BrokenExpFromInput:
    """exp's backward computed as ``dout * x`` instead of ``dout * exp(x)``."""

    def forward(self, x):
        self.x = x
        return np.exp(x)

    def backward(self, dout):
        return dout * self.x  # the bug


class BrokenReciprocalSign:
    """The division node's backward without its minus sign: ``dout / x**2``."""

    def forward(self, x):
        self.out = 1 / x
        return self.out

    def backward(self, dout):
        return dout * self.out**2  # the bug: -dout * out**2


class BrokenLogBackward:
    """log's backward as ``dout * x`` (the derivative of x**2 / 2, not of log)."""

    def forward(self, x):
        self.x = x
        return np.log(x)

    def backward(self, dout):
        return dout * self.x  # the bug: dout / x


class BrokenRepeatMean:
    """Repeat's backward averages the copies instead of summing them."""

    def __init__(self, repeats=2, axis=0):
        self.repeats, self.axis = repeats, axis

    def forward(self, x):
        self.shape = x.shape
        return np.repeat(x, self.repeats, axis=self.axis)

    def backward(self, dout):
        a = self.axis % len(self.shape)
        grouped = dout.reshape(*self.shape[:a], self.shape[a], self.repeats, *self.shape[a + 1 :])
        return grouped.mean(axis=a + 1)  # the bug: sum


class BrokenSumBackwardOnce:
    """Sum's backward puts dout on the first summed element only, not on every one."""

    def __init__(self, axis=0):
        self.axis = axis

    def forward(self, x):
        self.shape = x.shape
        return np.sum(x, axis=self.axis, keepdims=True)

    def backward(self, dout):
        dx = np.zeros(self.shape, dtype=np.result_type(dout))
        index = [slice(None)] * len(self.shape)
        index[self.axis] = slice(0, 1)
        dx[tuple(index)] = dout  # the bug: np.repeat(dout, n, axis)
        return dx


class BrokenMatMulMeanGrad(BookMatMul):
    """MatMul whose dW is averaged over the batch: book-2 SGD then takes 1/N-sized steps."""

    def backward(self, dout):
        self.grads[0][...] = self.x.T @ dout / len(self.x)  # the bug: no / N
        return dout @ self.params[0].T


class BrokenSigmoidWithLossNoMean:
    """Book 2's SigmoidWithLoss with the batch division missing from backward."""

    def __init__(self):
        self.params, self.grads = [], []

    def forward(self, x, t):
        self.t = t
        self.y = 1 / (1 + np.exp(-x))
        return np.sum(np.logaddexp(0, x) - t * x) / x.shape[0]

    def backward(self, dout=1):
        return (self.y - self.t) * dout  # the bug: / batch_size
