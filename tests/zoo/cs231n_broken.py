"""Planted bugs in CS231n-style function pairs, one namespace per bug, named after it; each must be
rejected (``crosscheck check tests/zoo/cs231n_broken.py:PoolAssignsDx.max_pool --as pooling``).
Each namespace overrides the one function that is wrong and takes the rest from the correct
solutions (tests/zoo/cs231n_layers.py). The first four are the hazards the course's own shapes
never reach: overlapping pooling windows without padding, non-square windows and filters, a
convolution with pad 0, and a dropout keeping the wrong fraction of its units.
"""

# ruff: noqa: NPY002, RUF059

import numpy as np

from tests.zoo import cs231n_layers as ok
from tests.zoo import cs231n_rnn_layers as rnn


def _pool_windows(x, pool_param):
    N, C, H, W = x.shape
    ph, pw, s = pool_param["pool_height"], pool_param["pool_width"], pool_param["stride"]
    return ph, pw, s, 1 + (H - ph) // s, 1 + (W - pw) // s


class PoolAssignsDx:
    """dx assigned, not accumulated: a cell that is the maximum of two overlapping windows gets one."""

    max_pool_forward_naive = staticmethod(ok.max_pool_forward_naive)

    @staticmethod
    def max_pool_backward_naive(dout, cache):
        x, pool_param = cache
        ph, pw, s, OH, OW = _pool_windows(x, pool_param)
        dx = np.zeros_like(x)
        for n in range(x.shape[0]):
            for c in range(x.shape[1]):
                for i in range(OH):
                    for j in range(OW):
                        window = x[n, c, i * s : i * s + ph, j * s : j * s + pw]
                        r, q = np.unravel_index(np.argmax(window), window.shape)
                        dx[n, c, i * s + r, j * s + q] = dout[n, c, i, j]
        return dx


class PoolSquareWindow:
    """pool_height used for the width too: right for square windows only."""

    @staticmethod
    def max_pool_forward_naive(x, pool_param):
        return ok.max_pool_forward_naive(x, {**pool_param, "pool_width": pool_param["pool_height"]})

    @staticmethod
    def max_pool_backward_naive(dout, cache):
        x, pool_param = cache
        return ok.max_pool_backward_naive(dout, (x, {**pool_param, "pool_width": pool_param["pool_height"]}))


class ConvSquareFilter:
    """Each window cut HH wide as well as HH high: right for square filters only."""

    conv_backward_naive = staticmethod(ok.conv_backward_naive)

    @staticmethod
    def conv_forward_naive(x, w, b, conv_param):
        N, C, H, W = x.shape
        F, _, HH, WW = w.shape
        stride, pad = conv_param["stride"], conv_param["pad"]
        H_out, W_out = 1 + (H + 2 * pad - HH) // stride, 1 + (W + 2 * pad - WW) // stride
        xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        out = np.zeros((N, F, H_out, W_out), dtype=x.dtype)
        for n in range(N):
            for f in range(F):
                for i in range(H_out):
                    for j in range(W_out):
                        window = xp[n, :, i * stride : i * stride + HH, j * stride : j * stride + HH]
                        out[n, f, i, j] = np.sum(window[:, :, :WW] * w[f]) + b[f]
        return out, (x, w, b, conv_param)


class ConvPadSlice:
    """dx cut out of the padded gradient with ``pad:-pad``: empty when pad is 0."""

    conv_forward_naive = staticmethod(ok.conv_forward_naive)

    @staticmethod
    def conv_backward_naive(dout, cache):
        x, w, b, conv_param = cache
        pad = conv_param["pad"]
        dx, dw, db = ok.conv_backward_naive(dout, cache)
        dxp = np.pad(dx, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
        return dxp[:, :, pad:-pad, pad:-pad], dw, db


class DropoutKeepsDropFraction:
    """``rand > p`` keeps a unit with probability 1 - p, scaled by 1/p: its values agree with the
    mask it drew, only the fraction of units it keeps is wrong."""

    dropout_backward = staticmethod(ok.dropout_backward)

    @staticmethod
    def dropout_forward(x, dropout_param):
        p = dropout_param["p"]
        np.random.seed(dropout_param["seed"])
        mask = (np.random.rand(*x.shape) > p) / p
        return x * mask, (dropout_param, mask)


class DropoutPIsDropProbability:
    """The 2016 template's convention: p drops a unit, so kept units are scaled by 1 / (1 - p)."""

    dropout_backward = staticmethod(ok.dropout_backward)

    @staticmethod
    def dropout_forward(x, dropout_param):
        p = dropout_param["p"]
        np.random.seed(dropout_param["seed"])
        keep = 1 - p
        mask = (np.random.rand(*x.shape) < keep) / keep if keep > 0 else np.zeros(x.shape)
        return x * mask, (dropout_param, mask)


class AffineNoReshape:
    """``x.dot(w)``: raises on an image batch (N, C, H, W)."""

    affine_backward = staticmethod(ok.affine_backward)

    @staticmethod
    def affine_forward(x, w, b):
        return x.dot(w) + b, (x, w, b)


class AffineDbAveraged:
    """db averaged over the batch instead of summed."""

    affine_forward = staticmethod(ok.affine_forward)

    @staticmethod
    def affine_backward(dout, cache):
        dx, dw, db = ok.affine_backward(dout, cache)
        return dx, dw, np.mean(dout, axis=0)


class AffineGradsSwapped:
    """(dw, dx, db): the gradients out of the forward's order (caught on a square W)."""

    affine_forward = staticmethod(ok.affine_forward)

    @staticmethod
    def affine_backward(dout, cache):
        dx, dw, db = ok.affine_backward(dout, cache)
        return dw, dx, db


class ReluWritesDout:
    """``dout[x <= 0] = 0; return dout``: writes into the upstream gradient."""

    relu_forward = staticmethod(ok.relu_forward)

    @staticmethod
    def relu_backward(dout, cache):
        dout[cache <= 0] = 0
        return dout


class ReluIgnoresDout:
    """``dx = x > 0``: the local gradient alone."""

    relu_forward = staticmethod(ok.relu_forward)

    @staticmethod
    def relu_backward(dout, cache):
        return (cache > 0).astype(dout.dtype)


class BatchnormUnbiasedVar:
    """x.var(ddof=1): the unbiased variance in training."""

    batchnorm_backward = staticmethod(ok.batchnorm_backward)

    @staticmethod
    def batchnorm_forward(x, gamma, beta, bn_param):
        eps = bn_param.get("eps", 1e-5)
        mu, var = x.mean(axis=0), x.var(axis=0, ddof=1)
        std = np.sqrt(var + eps)
        xhat = (x - mu) / std
        return gamma * xhat + beta, (xhat, gamma, std)


class BatchnormAltMissingTerm:
    """batchnorm_backward_alt without the ``xhat * dgamma`` term (the variance's path)."""

    batchnorm_forward = staticmethod(ok.batchnorm_forward)

    @staticmethod
    def batchnorm_backward_alt(dout, cache):
        xhat, gamma, std = cache
        N = dout.shape[0]
        dbeta, dgamma = dout.sum(axis=0), np.sum(dout * xhat, axis=0)
        return gamma / (N * std) * (N * dout - dbeta), dgamma, dbeta


class SpatialBatchnormNoTranspose:
    """(N, C, H, W) reshaped to (-1, C) without moving C last: channels mixed up."""

    @staticmethod
    def spatial_batchnorm_forward(x, gamma, beta, bn_param):
        out, cache = ok.batchnorm_forward(x.reshape(-1, x.shape[1]), gamma, beta, bn_param)
        return out.reshape(x.shape), cache

    @staticmethod
    def spatial_batchnorm_backward(dout, cache):
        dx, dgamma, dbeta = ok.batchnorm_backward_alt(dout.reshape(-1, dout.shape[1]), cache)
        return dx.reshape(dout.shape), dgamma, dbeta


class SoftmaxLossWritesX:
    """``x -= np.max(x, axis=1, keepdims=True)``: shifts the caller's scores in place."""

    @staticmethod
    def softmax_loss(x, y):
        x -= np.max(x, axis=1, keepdims=True)
        return ok.softmax_loss(x, y)


class SoftmaxLossNoMean:
    """The loss and dx summed over the batch, not averaged."""

    @staticmethod
    def softmax_loss(x, y):
        loss, dx = ok.softmax_loss(x, y)
        return loss * x.shape[0], dx * x.shape[0]


class SvmLossMarginAtLabel:
    """The label's own margin (always 1) left in the loss."""

    @staticmethod
    def svm_loss(x, y):
        loss, dx = ok.svm_loss(x, y)
        return loss + 1.0, dx


class SvmLossNoLabelGradient:
    """dx without ``-num_pos`` at the label."""

    @staticmethod
    def svm_loss(x, y):
        N = x.shape[0]
        margins = np.maximum(0, x - x[np.arange(N), y][:, None] + 1.0)
        margins[np.arange(N), y] = 0
        return np.sum(margins) / N, (margins > 0) / N


class ReturnsNone:
    """affine_backward as the template leaves it, without its banner: dx, dw, db still None."""

    affine_forward = staticmethod(ok.affine_forward)

    @staticmethod
    def affine_backward(dout, cache):
        dx, dw, db = None, None, None
        return dx, dw, db


class BatchnormRunningUnbiased:
    """The running variance averaged from the unbiased batch variance (torch's convention): out is
    right, the next test-mode forward is not the course's."""

    batchnorm_backward = staticmethod(ok.batchnorm_backward)

    @staticmethod
    def batchnorm_forward(x, gamma, beta, bn_param):
        out, cache = ok.batchnorm_forward(x, gamma, beta, {**bn_param})
        if bn_param["mode"] == "train":
            m, n = 0.9, x.shape[0]
            bn_param["running_mean"] = m * bn_param.get("running_mean", 0) + (1 - m) * x.mean(axis=0)
            bn_param["running_var"] = m * bn_param.get("running_var", 0) + (1 - m) * x.var(axis=0) * n / (
                n - 1
            )
        return out, cache


class BatchnormRunningNotStored:
    """The running averages computed into locals and never written back into bn_param."""

    batchnorm_backward = staticmethod(ok.batchnorm_backward)

    @staticmethod
    def batchnorm_forward(x, gamma, beta, bn_param):
        running = {k: bn_param.pop(k) for k in ("running_mean", "running_var") if k in bn_param}
        out, cache = ok.batchnorm_forward(x, gamma, beta, bn_param)
        bn_param.pop("running_mean"), bn_param.pop("running_var")
        bn_param.update(running)
        return out, cache


class BatchnormTestUsesBatchStats:
    """Test mode normalized by the batch's own statistics instead of bn_param's running ones."""

    batchnorm_backward = staticmethod(ok.batchnorm_backward)

    @staticmethod
    def batchnorm_forward(x, gamma, beta, bn_param):
        return ok.batchnorm_forward(x, gamma, beta, {**bn_param, "mode": "train"})


class LayernormTemplate:
    """layernorm as the assignment hands it out: only `pass` between TODO and END OF YOUR CODE."""

    @staticmethod
    def layernorm_forward(x, gamma, beta, ln_param):
        """Forward pass for layer normalization (the template, not yet done)."""
        out, cache = None, None
        eps = ln_param.get("eps", 1e-5)
        ###########################################################################
        # TODO: Implement the training-time forward pass for layer norm.          #
        ###########################################################################
        # *****START OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****

        pass

        # *****END OF YOUR CODE (DO NOT DELETE/MODIFY THIS LINE)*****
        ###########################################################################
        #                             END OF YOUR CODE                            #
        ###########################################################################
        del eps
        return out, cache

    @staticmethod
    def layernorm_backward(dout, cache):
        """Backward pass for layer normalization (the template, not yet done)."""
        dx, dgamma, dbeta = None, None, None
        return dx, dgamma, dbeta


class LayernormDropsVarianceTerm:
    """layernorm_backward without the term through the row's variance: dx centred, not projected."""

    layernorm_forward = staticmethod(ok.layernorm_forward)

    @staticmethod
    def layernorm_backward(dout, cache):
        xhat, gamma, std = cache
        dxhat = dout * gamma
        dx = (dxhat - dxhat.mean(axis=1, keepdims=True)) / std
        return dx, np.sum(dout * xhat, axis=0), dout.sum(axis=0)


def _channels(a, rows, cols):
    """Axis 1 of ``a`` read as (rows, cols) and transposed: every rows-th channel side by side."""
    N, C = a.shape[:2]
    return a.reshape(N, rows, cols, *a.shape[2:]).swapaxes(1, 2).reshape(a.shape)


class SpatialGroupnormStridedGroups:
    """Groups of every G-th channel (x.reshape(N, C // G, G, H, W)) instead of G contiguous ones:
    self-consistent, so only the values against torch and jax tell."""

    @staticmethod
    def spatial_groupnorm_forward(x, gamma, beta, G, gn_param):
        K = x.shape[1] // G
        out, cache = ok.spatial_groupnorm_forward(
            _channels(x, K, G), _channels(gamma, K, G), _channels(beta, K, G), G, gn_param
        )
        return _channels(out, G, K), (cache, K, G)

    @staticmethod
    def spatial_groupnorm_backward(dout, cache):
        cache, K, G = cache
        grads = ok.spatial_groupnorm_backward(_channels(dout, K, G), cache)
        return tuple(_channels(g, G, K) for g in grads)


class RnnStepDbAveraged:
    """rnn_step_backward's db averaged over the batch instead of summed."""

    rnn_step_forward = staticmethod(rnn.rnn_step_forward)

    @staticmethod
    def rnn_step_backward(dnext_h, cache):
        dx, dprev_h, dWx, dWh, db = rnn.rnn_step_backward(dnext_h, cache)
        return dx, dprev_h, dWx, dWh, db / dnext_h.shape[0]


class LstmStepCellGradientSkipsForget:
    """lstm_step_backward passes the cell's gradient back unscaled by the forget gate: dprev_c = dc."""

    lstm_step_forward = staticmethod(rnn.lstm_step_forward)

    @staticmethod
    def lstm_step_backward(dnext_h, dnext_c, cache):
        dx, dprev_h, _, dWx, dWh, db = rnn.lstm_step_backward(dnext_h, dnext_c, cache)
        *_, o, _, next_c = cache
        dc = dnext_c + dnext_h * o * (1 - np.tanh(next_c) ** 2)
        return dx, dprev_h, dc, dWx, dWh, db


class WordEmbeddingAssignsRows:
    """word_embedding_backward with dW[x] = dout: a word used twice keeps only its last gradient."""

    word_embedding_forward = staticmethod(rnn.word_embedding_forward)

    @staticmethod
    def word_embedding_backward(dout, cache):
        x, W_shape = cache
        dW = np.zeros(W_shape, dtype=dout.dtype)
        dW[x] = dout
        return dW


class TemporalAffineDbLastStep:
    """temporal_affine_backward's db summed over the batch of the last time step only."""

    temporal_affine_forward = staticmethod(rnn.temporal_affine_forward)

    @staticmethod
    def temporal_affine_backward(dout, cache):
        dx, dw, _ = rnn.temporal_affine_backward(dout, cache)
        return dx, dw, dout[:, -1].sum(axis=0)


class TemporalSoftmaxLossMaskIgnoredInDx:
    """temporal_softmax_loss masks the loss but not dx: padding still gets a gradient."""

    @staticmethod
    def temporal_softmax_loss(x, y, mask):
        loss, dx = rnn.temporal_softmax_loss(x, y, np.ones_like(mask))
        masked, _ = rnn.temporal_softmax_loss(x, y, mask)
        return masked, dx


class RnnBackwardDropsCarriedGradient:
    """rnn_backward feeds each step only its own dh[:, t]: the gradient carried back from later
    steps is dropped (and dh0 is the first step's alone)."""

    rnn_forward = staticmethod(rnn.rnn_forward)

    @staticmethod
    def rnn_backward(dh, cache):
        T = dh.shape[1]
        steps = [rnn.rnn_step_backward(dh[:, t, :], cache[t]) for t in range(T)]
        dx = np.stack([s[0] for s in steps], axis=1)
        return dx, steps[0][1], *(sum(s[k] for s in steps) for k in (2, 3, 4))


class LstmBackwardDropsCellGradient:
    """lstm_backward hands each step a zero dnext_c: the cell state's gradient never flows back."""

    lstm_forward = staticmethod(rnn.lstm_forward)

    @staticmethod
    def lstm_backward(dh, cache):
        N, T, H = dh.shape
        dx, dprev_h, grads = [None] * T, np.zeros((N, H)), []
        for t in reversed(range(T)):
            dx[t], dprev_h, _, *g = rnn.lstm_step_backward(dh[:, t, :] + dprev_h, np.zeros((N, H)), cache[t])
            grads.append(g)
        return np.stack(dx, axis=1), dprev_h, *(sum(g[k] for g in grads) for k in range(3))
