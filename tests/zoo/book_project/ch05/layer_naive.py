# coding: utf-8
# ruff: noqa  (the book's own style, kept as learners have it)
# The book's ch05/layer_naive.py ("Deep Learning from Scratch", vol. 1): the multiplication and
# addition nodes of section 5.4.


class MulLayer:
    def __init__(self):
        self.x = None
        self.y = None

    def forward(self, x, y):
        self.x = x
        self.y = y
        out = x * y

        return out

    def backward(self, dout):
        dx = dout * self.y  # swap x and y
        dy = dout * self.x

        return dx, dy


class AddLayer:
    def __init__(self):
        pass

    def forward(self, x, y):
        out = x + y

        return out

    def backward(self, dout):
        dx = dout * 1
        dy = dout * 1

        return dx, dy
