"""The worked examples of the book (chapter 5), computed with our layers and checked number by number."""

from __future__ import annotations

import numpy as np
import pytest

from layer_crosscheck.impl import (
    AddLayer,
    Affine,
    MulLayer,
    Relu,
    SoftmaxWithLoss,
    TwoLayerNet,
)
from layer_crosscheck.properties import mnist
from layer_crosscheck.properties.engine.compare import compare
from layer_crosscheck.properties.engine.tolerances import exact_rtol, fd_step_rtol, floor, rounding_rtol
from tests.helpers import built, two_operand_specs

F64 = np.float64
#: the step of the book's numerical_gradient (impl/functions.py)
BOOK_STEP = 1e-4


class _SubAffine(Affine):
    """A subclassed first layer: TwoLayerNet.gradient must call its own backward."""


def test_buy_apple():
    apple, apple_num, tax = 100, 2, 1.1
    mul_apple_layer = MulLayer()
    mul_tax_layer = MulLayer()

    apple_price = mul_apple_layer.forward(apple, apple_num)
    price = mul_tax_layer.forward(apple_price, tax)

    dprice = 1
    dapple_price, dtax = mul_tax_layer.backward(dprice)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)

    assert (price, dapple, dapple_num, dtax) == pytest.approx((220, 2.2, 110, 200), rel=rounding_rtol(F64))


def test_buy_apple_orange():
    apple, apple_num = 100, 2
    orange, orange_num = 150, 3
    tax = 1.1
    mul_apple_layer = MulLayer()
    mul_orange_layer = MulLayer()
    add_apple_orange_layer = AddLayer()
    mul_tax_layer = MulLayer()

    apple_price = mul_apple_layer.forward(apple, apple_num)
    orange_price = mul_orange_layer.forward(orange, orange_num)
    all_price = add_apple_orange_layer.forward(apple_price, orange_price)
    price = mul_tax_layer.forward(all_price, tax)

    dprice = 1
    dall_price, dtax = mul_tax_layer.backward(dprice)
    dapple_price, dorange_price = add_apple_orange_layer.backward(dall_price)
    dorange, dorange_num = mul_orange_layer.backward(dorange_price)
    dapple, dapple_num = mul_apple_layer.backward(dapple_price)

    got = (price, dall_price, dapple_num, dapple, dorange, dorange_num, dtax)
    assert got == pytest.approx((715, 1.1, 110, 2.2, 3.3, 165, 650), rel=rounding_rtol(F64))


@pytest.mark.parametrize("spec", two_operand_specs(), ids=lambda s: s.name)
def test_python_numbers_in_python_floats_out(spec):
    """The apple example's contract: plain Python floats, not NumPy scalars (np.float64 is a float too)."""
    layer = built(spec.name)

    out = layer.forward(100, 2)
    dx, dy = layer.backward(1)

    assert type(out) is float and type(dx) is float and type(dy) is float


def _summed_back(g, shape):
    """The gradient of an operand of ``shape`` broadcast to ``g``'s shape: every output element
    adds its ``g`` to the one operand element it came from (an oracle independent of ``impl``)."""
    size = int(np.prod(shape))
    source = np.broadcast_to(np.arange(size).reshape(shape), g.shape)
    return np.bincount(source.ravel(), weights=g.ravel(), minlength=size).reshape(shape)


@pytest.mark.parametrize(
    ("x_shape", "y_shape"),
    [
        ((2, 3), (1, 3)),
        ((2, 3), (3,)),
        ((3, 1), (1, 4)),
        ((4, 1, 3), (2, 1)),
        ((1, 2, 3), (2, 1)),
        ((2, 1, 1), (3, 1)),
        ((2, 3), ()),
        ((), (2, 3)),
        ((2, 3), (2, 3)),
    ],
)
@pytest.mark.parametrize(
    ("make", "op", "local_grads"),
    [(MulLayer, np.multiply, lambda d, x, y: (d * y, d * x)), (AddLayer, np.add, lambda d, x, y: (d, d))],
    ids=["MulLayer", "AddLayer"],
)
def test_broadcast_gradients_are_summed_back_to_each_operand(make, op, local_grads, x_shape, y_shape):
    """A broadcast operand gets the sum of the gradients of every output element it fed."""
    gen = np.random.default_rng(0)
    x, y = gen.standard_normal(x_shape), gen.standard_normal(y_shape)
    out_shape = np.broadcast_shapes(x_shape, y_shape)
    dout = gen.standard_normal(out_shape)
    layer = make()

    out = layer.forward(x, y)
    dx, dy = layer.backward(dout)

    np.testing.assert_array_equal(out, op(x, y))
    gx, gy = local_grads(dout, x, y)
    assert np.shape(dx) == x_shape and np.shape(dy) == y_shape
    compare(dx, _summed_back(np.broadcast_to(gx, out_shape), x_shape), exact_rtol(F64), what="dx")
    compare(dy, _summed_back(np.broadcast_to(gy, out_shape), y_shape), exact_rtol(F64), what="dy")


def test_bias_broadcast_through_affine():
    X = np.array([[0, 0, 0], [10, 10, 10]], dtype=float)
    W = np.eye(3)  # X @ W == X: the layer's output is exactly the broadcast sum
    B = np.array([1, 2, 3], dtype=float)
    affine = Affine(W, B)

    Y = affine.forward(X)
    dY = np.array([[1, 2, 3], [4, 5, 6]], dtype=float)
    dX = affine.backward(dY)

    np.testing.assert_array_equal(Y, [[1, 2, 3], [11, 12, 13]])
    np.testing.assert_array_equal(affine.db, [5, 7, 9])
    np.testing.assert_array_equal(affine.dW, X.T @ dY)
    np.testing.assert_array_equal(dX, dY)
    assert affine.grads[1] is affine.db


def test_relu_mask():
    x = np.array([[1.0, -0.5], [-2.0, 3.0]])
    relu = Relu()

    out = relu.forward(x)

    np.testing.assert_array_equal(relu.mask, [[False, True], [True, False]])
    np.testing.assert_array_equal(out, [[1.0, 0.0], [0.0, 3.0]])
    at_zero = Relu()
    at_zero.forward(np.array([0.0, -0.0]))
    np.testing.assert_array_equal(at_zero.backward(np.array([2.5, -1.5])), [0.0, 0.0])  # 0 at 0, like torch


@pytest.mark.parametrize(
    ("y", "expected"),
    [
        ([0.3, 0.2, 0.5], [0.3, -0.8, 0.5]),
        ([0.01, 0.99, 0.0], [0.01, -0.01, 0.0]),
    ],
)
def test_softmax_with_loss_sends_back_y_minus_t(y, expected):
    t = np.array([0, 1, 0])
    with np.errstate(divide="ignore"):
        logits = np.log(np.array(y))
    logits[np.isneginf(logits)] = -1e4  # softmax of these logits is y again; y = 0 needs a finite logit
    layer = SoftmaxWithLoss()

    layer.forward(logits[np.newaxis, :], t[np.newaxis, :])  # one example: N = 1, no division
    dx = layer.backward(1)

    np.testing.assert_allclose(layer.y[0], y, rtol=exact_rtol(F64), atol=floor(F64))
    compare(dx[0], expected, exact_rtol(F64), what="dx")


def test_gradient_check_on_mnist():
    try:
        (x_train, t_train), _ = mnist.load_mnist(normalize=True, one_hot_label=True)
    except mnist.MnistUnavailable as exc:
        pytest.skip(f"no MNIST digits: {exc}")
    network = TwoLayerNet(input_size=784, hidden_size=50, output_size=10, rng=0)
    x_batch, t_batch = x_train[:3], t_train[:3]

    grad_numerical = network.numerical_gradient(x_batch, t_batch)
    grad_backprop = network.gradient(x_batch, t_batch)

    diffs = {key: float(np.mean(np.abs(grad_backprop[key] - grad_numerical[key]))) for key in grad_numerical}
    print("mean |backprop - numerical|:", ", ".join(f"{k}:{v:.3g}" for k, v in diffs.items()))
    assert set(diffs) == {"W1", "b1", "W2", "b2"}
    for key, diff in diffs.items():
        assert diff < fd_step_rtol(F64, BOOK_STEP), key


# The book's TwoLayerNet listing, with its errata fixed: the layers share the params arrays,
# Affine2 gets b2, gradients are handed out as copies, numerical_gradient leaves params as they were.


def test_two_layer_net_layers_share_the_params():
    net = TwoLayerNet(4, 3, 2, rng=np.random.default_rng(0))

    assert list(net.layers) == ["Affine1", "Relu1", "Affine2"]
    assert net.layers["Affine1"].W is net.params["W1"] and net.layers["Affine1"].b is net.params["b1"]
    assert net.layers["Affine2"].W is net.params["W2"] and net.layers["Affine2"].b is net.params["b2"]
    assert net.lastLayer is net.last_layer
    np.testing.assert_array_equal(net.params["b1"], 0.0)
    np.testing.assert_array_equal(net.params["b2"], 0.0)


@pytest.mark.parametrize("as_generator", [False, True])
def test_two_layer_net_default_weights_are_0_01_standard_normal(as_generator):
    """The book's default weight_init_std = 0.01 scales draws of N(0, 1) from the given generator
    (or one seeded with the given seed: the same network)."""
    net = TwoLayerNet(100, 50, 10, rng=np.random.default_rng(8) if as_generator else 8)
    gen = np.random.default_rng(8)

    np.testing.assert_array_equal(net.params["W1"], 0.01 * gen.standard_normal((100, 50)))
    np.testing.assert_array_equal(net.params["W2"], 0.01 * gen.standard_normal((50, 10)))
    assert np.std(net.params["W1"]) == pytest.approx(0.01, rel=0.05)


@pytest.mark.parametrize("one_hot", [False, True])
def test_two_layer_net_accuracy_is_the_fraction_correct(one_hot):
    """3 of 4 right is 0.75: neither the count nor the fraction wrong (0.25)."""
    net = TwoLayerNet(2, 2, 2)
    for key in ("W1", "W2"):
        net.params[key][...] = np.eye(2)  # in place: scores = relu(x), the layers share the arrays
    x = np.array([[1.0, 0.0], [0.0, 1.0], [2.0, 1.0], [1.0, 3.0]])  # predicted classes 0, 1, 0, 1
    t = np.array([0, 1, 0, 0])

    assert net.accuracy(x, np.eye(2)[t] if one_hot else t) == 0.75


@pytest.mark.parametrize(("first_layer", "backward_calls"), [(Affine, 0), (_SubAffine, 1)])
def test_two_layer_net_gradient_first_layer(monkeypatch, first_layer, backward_calls):
    """Our own Affine1 skips its dx (a discarded matrix product); a subclass keeps its own backward.
    Both give the same parameter gradients as an untouched network."""
    x, t = np.random.default_rng(10).standard_normal((5, 4)), np.array([0, 1, 2, 1, 0])
    expected = TwoLayerNet(4, 6, 3, weight_init_std=1.0, rng=9).gradient(x, t)
    net = TwoLayerNet(4, 6, 3, weight_init_std=1.0, rng=9)
    first = net.layers["Affine1"] = first_layer(net.params["W1"], net.params["b1"])
    calls = []

    def backward(dout):
        calls.append(dout)
        return first_layer.backward(first, dout)

    monkeypatch.setattr(first, "backward", backward)
    grads = net.gradient(x, t)

    assert len(calls) == backward_calls
    assert set(grads) == set(expected)
    for key in expected:
        np.testing.assert_array_equal(grads[key], expected[key])


def test_two_layer_net_trains_by_in_place_updates():
    net = TwoLayerNet(4, 8, 3, weight_init_std=0.5, rng=1)
    x = np.random.default_rng(2).standard_normal((6, 4))
    t = np.array([0, 1, 2, 0, 1, 2])
    first = net.loss(x, t)

    for _ in range(50):
        grads = net.gradient(x, t)
        for key in ("W1", "b1", "W2", "b2"):
            net.params[key] -= 0.5 * grads[key]

    assert net.loss(x, t) < first / 2
    assert net.accuracy(x, t) == net.accuracy(x, np.eye(3)[t])


def test_two_layer_net_gradient_returns_copies():
    net = TwoLayerNet(4, 3, 2, weight_init_std=1.0, rng=3)
    x = np.random.default_rng(4).standard_normal((5, 4))
    kept = net.gradient(x, np.zeros(5, dtype=int))
    kept_values = {k: v.copy() for k, v in kept.items()}

    net.gradient(x, np.ones(5, dtype=int))

    affine1, affine2 = net.layers["Affine1"], net.layers["Affine2"]
    live = {"W1": affine1.dW, "b1": affine1.db, "W2": affine2.dW, "b2": affine2.db}
    for key in kept:
        np.testing.assert_array_equal(kept[key], kept_values[key])
        assert not np.shares_memory(kept[key], live[key])
        assert not np.array_equal(kept[key], live[key])  # the second call really changed them


def test_two_layer_net_numerical_gradient_leaves_params_unchanged():
    net = TwoLayerNet(3, 4, 2, weight_init_std=1.0, rng=5)
    x, t = np.random.default_rng(6).standard_normal((2, 3)), np.array([1, 0])
    before = {k: v.copy() for k, v in net.params.items()}

    numerical = net.numerical_gradient(x, t)
    backprop = net.gradient(x, t)

    for key in before:
        np.testing.assert_array_equal(net.params[key], before[key])
        compare(numerical[key], backprop[key], fd_step_rtol(F64, BOOK_STEP), what=key)


def test_softmax_with_loss_on_one_example_keeps_its_shape():
    x = np.log(np.array([0.3, 0.2, 0.5]))
    layer = SoftmaxWithLoss()

    loss_label = layer.forward(x, 1)
    dx_label = layer.backward()
    loss_one_hot = layer.forward(x, np.array([0.0, 1.0, 0.0]))
    dx_one_hot = layer.backward()

    assert loss_label == pytest.approx(-np.log(0.2), rel=rounding_rtol(F64)) and loss_one_hot == loss_label
    assert dx_label.shape == (3,) and layer.y.shape == (3,)
    np.testing.assert_allclose(dx_label, [0.3, -0.8, 0.5], rtol=rounding_rtol(F64))
    np.testing.assert_array_equal(dx_one_hot, dx_label)


@pytest.mark.parametrize(
    ("x", "t", "dout", "loss", "dx"),
    [
        # sure of class 1, but it is class 0: the book's log(y + 1e-7) would say 16.1
        pytest.param([[0.0, 1000.0]], [0], 1, 1000.0, [[-1.0, 1.0]], id="confident-mistake"),
        # 0 * log(0) is 0 here, not NaN: a class with target 0 and logit -inf adds nothing
        pytest.param([[0.0, -np.inf]], [[1.0, 0.0]], 1, 0.0, [[0.0, 0.0]], id="zero-target-where-y-is-0"),
        # y = (0.5, 0.5) and targets weighing 2 in all: -(0.5 + 1.5) * log(0.5), dout * (2 * y - t)
        pytest.param([[0.0, 0.0]], [[0.5, 1.5]], 3.0, 2 * np.log(2), [[1.5, -1.5]], id="targets-sum-to-2"),
    ],
)
def test_softmax_with_loss_beyond_one_hot_and_finite_logs(x, t, dout, loss, dx):
    layer = SoftmaxWithLoss()

    assert layer.forward(np.array(x), np.array(t)) == pytest.approx(loss, rel=rounding_rtol(F64), abs=0)
    np.testing.assert_array_equal(layer.backward(dout), dx)


@pytest.mark.parametrize(
    ("attr", "store", "index"),
    [("W", "params", 0), ("b", "params", 1), ("dW", "grads", 0), ("db", "grads", 1)],
)
def test_param_assignment_rebinds_the_store(attr, store, index):
    """layer.W = a (or layer.dW = a) rebinds params[i] (grads[i]): one store, never a stale copy."""
    layer = Affine(np.ones((4, 3)), np.zeros(3))
    other = "grads" if store == "params" else "params"
    new = np.full_like(getattr(layer, attr), 2.0)

    setattr(layer, attr, new)

    assert getattr(layer, store)[index] is new and getattr(layer, attr) is new
    assert getattr(layer, other)[index] is not new
