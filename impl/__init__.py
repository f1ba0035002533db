"""NumPy layers from *Deep Learning from Scratch*, with the book's interface and without its bugs.

Pure NumPy and the standard library: importing ``impl`` never imports torch or jax. Every layer
derives from :class:`Layer` (one ``params``/``grads`` store, ``forward`` before ``backward``,
shape-checked ``dout``); bad input raises :class:`LayerError` naming the layer and the shapes.
The two networks derive from :class:`Network` (predict, loss, accuracy, gradient).
"""

from __future__ import annotations

from ._base import Layer, LayerError
from ._network import Network
from .activations import LeakyRelu, Tanh
from .attention import Attention, AttentionWeight, TimeAttention, WeightSum
from .batchnorm import BatchNormalization
from .book2_layers import Embedding, MatMul
from .conv import Convolution
from .dropout import Dropout
from .functions import cross_entropy_error, log_softmax, numerical_gradient, relu, sigmoid, softmax
from .graph_nodes import Exp, Log, Reciprocal, Repeat, Sum
from .im2col import col2im, fold, im2col, unfold
from .layers import AddLayer, Affine, MulLayer, Relu, Sigmoid, Softmax, SoftmaxWithLoss
from .losses import CrossEntropyError, SigmoidWithLoss
from .multi_layer_net import MultiLayerNet, MultiLayerNetExtend
from .normalization import GroupNorm, LayerNorm, SpatialBatchNorm
from .optimizers import (
    SGD,
    AdaGrad,
    AdaGradEpsInside,
    Adam,
    AdamEpsHat,
    Momentum,
    Nesterov,
    RMSprop,
    RMSpropEpsInside,
    clip_grads,
)
from .pooling import Pooling
from .recurrent import GRU, LSTM, RNN, TorchGRU
from .simple_conv_net import SimpleConvNet
from .svm_loss import SVMLoss
from .temporal_softmax_loss import TemporalSoftmaxLoss
from .time_distributed import TimeAffine, TimeDropout, TimeEmbedding, TimeSigmoidWithLoss, TimeSoftmaxWithLoss
from .time_layers import TimeBiLSTM, TimeGRU, TimeLSTM, TimeLSTMFromH0, TimeRNN, TimeRNNFromH0
from .two_layer_net import TwoLayerNet
from .word2vec import EmbeddingDot, NegativeSamplingLoss

__all__ = [
    "GRU",
    "LSTM",
    "RNN",
    "SGD",
    "AdaGrad",
    "AdaGradEpsInside",
    "Adam",
    "AdamEpsHat",
    "AddLayer",
    "Affine",
    "Attention",
    "AttentionWeight",
    "BatchNormalization",
    "Convolution",
    "CrossEntropyError",
    "Dropout",
    "Embedding",
    "EmbeddingDot",
    "Exp",
    "GroupNorm",
    "Layer",
    "LayerError",
    "LayerNorm",
    "LeakyRelu",
    "Log",
    "MatMul",
    "Momentum",
    "MulLayer",
    "MultiLayerNet",
    "MultiLayerNetExtend",
    "NegativeSamplingLoss",
    "Nesterov",
    "Network",
    "Pooling",
    "RMSprop",
    "RMSpropEpsInside",
    "Reciprocal",
    "Relu",
    "Repeat",
    "SVMLoss",
    "Sigmoid",
    "SigmoidWithLoss",
    "SimpleConvNet",
    "Softmax",
    "SoftmaxWithLoss",
    "SpatialBatchNorm",
    "Sum",
    "Tanh",
    "TemporalSoftmaxLoss",
    "TimeAffine",
    "TimeAttention",
    "TimeBiLSTM",
    "TimeDropout",
    "TimeEmbedding",
    "TimeGRU",
    "TimeLSTM",
    "TimeLSTMFromH0",
    "TimeRNN",
    "TimeRNNFromH0",
    "TimeSigmoidWithLoss",
    "TimeSoftmaxWithLoss",
    "TorchGRU",
    "TwoLayerNet",
    "WeightSum",
    "clip_grads",
    "col2im",
    "cross_entropy_error",
    "fold",
    "im2col",
    "log_softmax",
    "numerical_gradient",
    "relu",
    "sigmoid",
    "softmax",
    "unfold",
]
