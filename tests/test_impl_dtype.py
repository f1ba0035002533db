"""float32 stays float32 (and the dtypes NumPy promotion gives where they are mixed), sigmoid's tail
keeps its precision, cross_entropy_error is exact, and AddLayer's gradients are arrays of their own.

The cells of tests/test_properties.py check every layer's output and gradient dtypes in both
dtypes and that no layer writes into its inputs or dout; these are what they do not reach."""

from __future__ import annotations

import numpy as np
import pytest

from layer_crosscheck.impl import (
    AddLayer,
    Affine,
    MulLayer,
    SoftmaxWithLoss,
    TwoLayerNet,
    cross_entropy_error,
    log_softmax,
    numerical_gradient,
    relu,
    sigmoid,
    softmax,
)
from layer_crosscheck.properties.engine.compare import compare
from layer_crosscheck.properties.engine.tolerances import exact_rtol, fd_step_rtol, rounding_rtol

F32, F64 = np.float32, np.float64
#: the step of the book's numerical_gradient (impl/functions.py)
BOOK_STEP = 1e-4


def _data(shape, dtype=F32, seed=0):
    return np.random.default_rng(seed).standard_normal(shape).astype(dtype)


@pytest.mark.parametrize(
    ("layer_cls", "y"),
    [(MulLayer, _data((5,), seed=1)), (AddLayer, _data((5,), seed=1)), (MulLayer, 1.1)],
    ids=["mul-broadcast", "add-broadcast", "mul-python-float"],
)
def test_float32_nodes_with_broadcasting_and_a_python_scalar(layer_cls, y):
    """y broadcast over x gets a gradient of y's shape; a Python float is weak: it does not upcast."""
    layer = layer_cls()
    out = layer.forward(_data((4, 5)), y)
    dx, dy = layer.backward(_data((4, 5), seed=2))
    assert out.dtype == F32 and dx.dtype == F32 and np.result_type(dy) == F32
    assert dx.shape == (4, 5) and np.shape(dy) == np.shape(y)


@pytest.mark.parametrize(
    "t", [np.array([0, 3, 1]), np.eye(4, dtype=F32)[[0, 3, 1]], np.eye(4, dtype=np.int64)[[0, 3, 1]]]
)
@pytest.mark.parametrize("dout", [1, 1.0, F32(1.0), np.array(1.0, F32)])
def test_float32_softmax_with_loss(t, dout):
    layer = SoftmaxWithLoss()
    loss = layer.forward(_data((3, 4)), t)
    dx = layer.backward(dout)
    assert np.result_type(loss) == F32 and np.ndim(loss) == 0
    assert layer.y.dtype == F32 and dx.dtype == F32


@pytest.mark.parametrize("t", [np.array([0, 3, 1]), np.eye(4, dtype=F32)[[0, 3, 1]]])
def test_float64_dout_promotes_the_float32_loss_gradient(t):
    """A float64 NumPy ``dout`` is not weak (NEP 50): dx comes back in float64, ``y - t`` (float32)
    times ``dout / N`` (float64)."""
    layer = SoftmaxWithLoss()
    layer.forward(_data((3, 4)), t)
    dx = layer.backward(np.float64(0.3))
    dense = np.eye(4)[[0, 3, 1]]
    expected = (layer.y - dense.astype(F32)).astype(np.float64) * (np.float64(0.3) / 3)
    assert dx.dtype == np.float64
    np.testing.assert_allclose(dx, expected, rtol=rounding_rtol(F64), atol=0)


def test_float32_two_layer_net():
    net = TwoLayerNet(6, 5, 3, rng=0, dtype=F32)
    x, t = _data((4, 6), seed=1), np.array([0, 1, 2, 1])

    loss = net.loss(x, t)
    grads = net.gradient(x, t)
    numerical = net.numerical_gradient(x, t)

    assert np.result_type(loss) == F32 and net.predict(x).dtype == F32
    assert all(net.params[k].dtype == F32 for k in ("W1", "b1", "W2", "b2"))
    assert all(grads[k].dtype == F32 and numerical[k].dtype == F32 for k in grads)


def test_float32_functions():
    x = _data((3, 4))
    for f in (sigmoid, relu, softmax, log_softmax):
        assert f(x).dtype == F32, f.__name__
    assert np.result_type(cross_entropy_error(softmax(x), np.array([0, 1, 3]))) == F32


def test_float64_is_the_default_and_integers_become_float64():
    net = TwoLayerNet(3, 4, 2, rng=1)
    assert all(p.dtype == np.float64 for p in net.params.values())
    assert net.predict(np.array([[1, 2, 3]])).dtype == np.float64
    assert sigmoid(np.array([True, False])).dtype == np.float64


@pytest.mark.parametrize(("w_dtype", "b_dtype"), [(F32, F32), (np.float64, np.float64), (F32, np.float64)])
def test_affine_dtypes_follow_numpy_promotion(w_dtype, b_dtype):
    """float32 in, float32 out; float32 x @ W plus a float64 b is float64 (the bias must not be added
    in place into a float32 product); gradients keep each parameter's own dtype."""
    w, b, x = _data((6, 3), w_dtype, seed=1), _data((3,), b_dtype, seed=2), _data((2, 1, 2, 3), seed=3)
    layer = Affine(w, b)
    out = layer.forward(x)
    dx = layer.backward(_data((2, 3), seed=4))
    assert out.dtype == np.result_type(F32, w_dtype, b_dtype) and dx.dtype == np.result_type(F32, w_dtype)
    expected = x.reshape(2, 6).astype(np.float64) @ w.astype(np.float64) + b
    compare(out, expected, rounding_rtol(F32), what="out")
    assert layer.dW.dtype == w_dtype and layer.db.dtype == b_dtype
    assert [g.dtype for g in layer.grads] == [w_dtype, b_dtype]


@pytest.mark.parametrize(("x_dtype", "t_dtype"), [(F32, np.float64), (np.float64, F32)])
def test_softmax_with_loss_dense_targets_follow_numpy_promotion(x_dtype, t_dtype):
    """Float targets are not cast to x's dtype: loss and dx take the promoted dtype (float64 here)."""
    x, t = _data((3, 4), x_dtype), np.eye(4, dtype=t_dtype)[[0, 3, 1]]
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    dx = layer.backward()
    x64 = x.astype(np.float64)
    logp = x64 - x64.max(axis=1, keepdims=True)
    logp -= np.log(np.exp(logp).sum(axis=1, keepdims=True))
    assert np.result_type(loss) == np.float64 and dx.dtype == np.float64
    assert loss == pytest.approx(-(t * logp).sum() / 3, rel=exact_rtol(x_dtype, 1 + float(np.abs(x64).max())))


def test_numerical_gradient_keeps_dtype_and_restores_x():
    x = _data((2, 3))
    before = x.copy()

    grad = numerical_gradient(lambda a: float(np.sum(a.astype(np.float64) ** 2)), x)

    assert grad.dtype == F32
    np.testing.assert_array_equal(x, before)
    compare(grad, 2 * x, fd_step_rtol(F32, BOOK_STEP), what="grad")


def test_sigmoid_keeps_full_precision_in_the_negative_tail():
    assert sigmoid(-50.0) == pytest.approx(1.9287498479639178e-22, rel=rounding_rtol(F64), abs=0)


def test_cross_entropy_error_is_exact():
    with np.errstate(all="raise"):
        zero_term = cross_entropy_error(np.array([0.0, 1.0]), np.array([0.0, 1.0]))  # 0 * log(0) is 0
        impossible = cross_entropy_error(np.array([0.0, 1.0]), np.array([1.0, 0.0]))  # log(0) where t = 1
        labels = cross_entropy_error(np.array([[0.5, 0.5], [0.25, 0.75]]), np.array([0, 1]))
    assert zero_term == 0.0
    assert impossible == np.inf
    assert labels == pytest.approx(-(np.log(0.5) + np.log(0.75)) / 2, rel=rounding_rtol(F64))


def test_add_layer_gradients_are_independent_arrays():
    dout = np.arange(6.0).reshape(2, 3)
    layer = AddLayer()
    layer.forward(np.zeros((2, 3)), np.zeros((2, 3)))

    dx, dy = layer.backward(dout)

    assert dx is not dout and dy is not dout and dx is not dy
    assert not np.shares_memory(dx, dout) and not np.shares_memory(dy, dout)
