"""Correct layers written the textbook way for fewer shapes than their spec draws: each must get a
per-shape verdict (which shape sets run, which raise and why), never a matrix of ERROR cells.

``SimpleConvNetSquare`` reuses impl's layers (a learner's file imports their own ``common.layers``).
"""

from collections import OrderedDict

import numpy as np

from layer_crosscheck.impl import Affine, Convolution, Pooling, Relu, SoftmaxWithLoss


class AffineBook1:
    """The book's chapter-5 Affine: ``np.dot(x, W)`` and no reshape, so only a 2-D batch (N, D)
    goes through; an image batch (N, C, H, W) raises in ``np.dot``."""

    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.x = x
        out = np.dot(x, self.W) + self.b
        return out

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        return dx


class SimpleConvNetSquare:
    """The book's chapter-7 SimpleConvNet: the hidden layer is sized from ``input_dim[1]`` alone
    (``conv_output_size = (input_size - filter_size + 2*pad) / stride + 1``), so it is right for
    square images whose convolution output is even, and wrong-sized for any other."""

    def __init__(
        self,
        input_dim=(1, 28, 28),
        conv_param={"filter_num": 30, "filter_size": 5, "pad": 0, "stride": 1},  # noqa: B006 (the book's)
        hidden_size=100,
        output_size=10,
        weight_init_std=0.01,
    ):
        filter_num = conv_param["filter_num"]
        filter_size = conv_param["filter_size"]
        filter_pad = conv_param["pad"]
        filter_stride = conv_param["stride"]
        input_size = input_dim[1]
        conv_output_size = (input_size - filter_size + 2 * filter_pad) / filter_stride + 1
        pool_output_size = int(filter_num * (conv_output_size / 2) * (conv_output_size / 2))

        # the book's legacy global generator (NPY002); the check overwrites the weights anyway
        shape1 = (filter_num, input_dim[0], filter_size, filter_size)
        self.params = {}
        self.params["W1"] = weight_init_std * np.random.randn(*shape1)  # noqa: NPY002
        self.params["b1"] = np.zeros(filter_num)
        self.params["W2"] = weight_init_std * np.random.randn(pool_output_size, hidden_size)  # noqa: NPY002
        self.params["b2"] = np.zeros(hidden_size)
        self.params["W3"] = weight_init_std * np.random.randn(hidden_size, output_size)  # noqa: NPY002
        self.params["b3"] = np.zeros(output_size)

        self.layers = OrderedDict()
        self.layers["Conv1"] = Convolution(
            self.params["W1"], self.params["b1"], conv_param["stride"], conv_param["pad"]
        )
        self.layers["Relu1"] = Relu()
        self.layers["Pool1"] = Pooling(pool_h=2, pool_w=2, stride=2)
        self.layers["Affine1"] = Affine(self.params["W2"], self.params["b2"])
        self.layers["Relu2"] = Relu()
        self.layers["Affine2"] = Affine(self.params["W3"], self.params["b3"])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        return self.last_layer.forward(y, t)

    def gradient(self, x, t):
        self.loss(x, t)
        dout = 1
        dout = self.last_layer.backward(dout)
        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)
        grads = {}
        grads["W1"], grads["b1"] = self.layers["Conv1"].dW, self.layers["Conv1"].db
        grads["W2"], grads["b2"] = self.layers["Affine1"].dW, self.layers["Affine1"].db
        grads["W3"], grads["b3"] = self.layers["Affine2"].dW, self.layers["Affine2"].db
        return grads
