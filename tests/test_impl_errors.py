"""Bad input fails loudly, naming the layer and the shapes; NaN is not bad input and propagates."""

from __future__ import annotations

import re

import numpy as np
import pytest

from impl import (
    AddLayer,
    Affine,
    LayerError,
    MulLayer,
    Relu,
    Sigmoid,
    Softmax,
    SoftmaxWithLoss,
    TwoLayerNet,
    cross_entropy_error,
    numerical_gradient,
)


def _affine():
    return Affine(np.ones((4, 3)), np.zeros(3))


# (name, make the layer, run forward on a fresh layer); every forward output has shape (2, 3)
# except SoftmaxWithLoss, whose output is the scalar loss.
LAYERS = {
    "MulLayer": (MulLayer, lambda layer: layer.forward(np.ones((2, 3)), np.ones((2, 3)))),
    "AddLayer": (AddLayer, lambda layer: layer.forward(np.ones((2, 3)), np.ones(3))),
    "Relu": (Relu, lambda layer: layer.forward(np.ones((2, 3)))),
    "Sigmoid": (Sigmoid, lambda layer: layer.forward(np.ones((2, 3)))),
    "Affine": (_affine, lambda layer: layer.forward(np.ones((2, 4)))),
    "Softmax": (Softmax, lambda layer: layer.forward(np.ones((2, 3)))),
    "SoftmaxWithLoss": (SoftmaxWithLoss, lambda layer: layer.forward(np.ones((2, 3)), np.array([0, 2]))),
}


@pytest.mark.parametrize("name", LAYERS)
def test_backward_before_forward(name):
    make, _ = LAYERS[name]
    layer = make()

    with pytest.raises(LayerError, match=rf"^{name}\.backward: call forward first"):
        layer.backward(np.ones((2, 3)))


@pytest.mark.parametrize("name", [n for n in LAYERS if n != "SoftmaxWithLoss"])
def test_dout_of_the_wrong_shape(name):
    make, forward = LAYERS[name]
    layer = make()
    forward(layer)

    expected = rf"^{name}\.backward: dout has shape \(3, 2\) but forward produced shape \(2, 3\)"
    with pytest.raises(LayerError, match=expected):
        layer.backward(np.ones((3, 2)))


@pytest.mark.parametrize("dout", [np.ones(1), np.ones((2, 3)), [1.0, 1.0]])
def test_softmax_with_loss_dout_must_be_a_scalar(dout):
    layer = SoftmaxWithLoss()
    layer.forward(np.ones((2, 3)), np.array([0, 2]))

    shape = re.escape(str(np.shape(dout)))
    with pytest.raises(LayerError, match=rf"^SoftmaxWithLoss\.backward: dout has shape {shape} .*shape \(\)"):
        layer.backward(dout)


@pytest.mark.parametrize("dout", [2, 2.0, np.float64(2.0), np.array(2.0)])
def test_softmax_with_loss_accepts_scalar_douts(dout):
    layer = SoftmaxWithLoss()
    layer.forward(np.zeros((2, 2)), np.array([0, 1]))

    dx = layer.backward(dout)

    np.testing.assert_allclose(dx, [[-0.5, 0.5], [0.5, -0.5]])  # 2 * (y - t) / 2


def test_complex_dout_is_a_type_error():
    layer = Relu()
    layer.forward(np.ones(3))

    with pytest.raises(TypeError, match=r"^Relu\.backward: dout has dtype complex128"):
        layer.backward(np.ones(3, dtype=complex))


@pytest.mark.parametrize(
    ("name", "forward"),
    [
        ("Sigmoid", lambda x: Sigmoid().forward(x)),
        ("SoftmaxWithLoss", lambda x: SoftmaxWithLoss().forward(x, 0)),
    ],
)
def test_complex_input_is_a_type_error(name, forward):
    """The message names the layer's own method, not a helper or nothing."""
    with pytest.raises(TypeError, match=rf"^{name}\.forward: x has dtype complex128"):
        forward(np.ones(3, dtype=complex))


def test_affine_input_size_must_match_w():
    layer = Affine(np.ones((4, 3)), np.zeros(3))

    expects = r"W has shape \(4, 3\) and expects 4$"  # W.shape[0] features, not W.shape[1]
    with pytest.raises(LayerError, match=r"^Affine\.forward: x has shape \(2, 5\).*" + expects):
        layer.forward(np.ones((2, 5)))
    with pytest.raises(LayerError, match=r"^Affine\.forward: x has shape \(2, 2, 3\).*" + expects):
        layer.forward(np.ones((2, 2, 3)))  # 6 values per example


def test_affine_needs_a_batch_axis():
    layer = Affine(np.ones((4, 3)), np.zeros(3))

    expected = r"^Affine\.forward: x has shape \(4,\).* with 4 values each for W of shape \(4, 3\)"
    with pytest.raises(LayerError, match=expected):
        layer.forward(np.ones(4))


@pytest.mark.parametrize(("w_shape", "b_shape"), [((4, 3), (4,)), ((4, 3), (1, 3)), ((12,), (3,))])
def test_affine_parameters_must_fit(w_shape, b_shape):
    w, b = re.escape(str(w_shape)), re.escape(str(b_shape))
    with pytest.raises(LayerError, match=rf"^Affine: W has shape {w} and b has shape {b}"):
        Affine(np.ones(w_shape), np.zeros(b_shape))


def test_affine_flattens_image_batches_and_restores_dx_shape():
    layer = Affine(np.ones((4, 3)), np.zeros(3))

    out = layer.forward(np.ones((2, 1, 2, 2)))
    dx = layer.backward(np.ones((2, 3)))

    assert out.shape == (2, 3)
    assert layer.x.shape == (2, 4) and layer.original_x_shape == (2, 1, 2, 2)
    assert dx.shape == (2, 1, 2, 2)


@pytest.mark.parametrize(("label", "index"), [(3, 1), (-1, 1), (7, 0)])
def test_label_out_of_range(label, index):
    t = np.array([0, 0])
    t[index] = label
    layer = SoftmaxWithLoss()

    expected = rf"^SoftmaxWithLoss\.forward: label t\[{index}\] = {label} is out of range .*\(2, 3\)"
    with pytest.raises(LayerError, match=expected):
        layer.forward(np.zeros((2, 3)), t)


def test_scalar_label_out_of_range_for_one_example():
    with pytest.raises(LayerError, match=r"^SoftmaxWithLoss\.forward: label t = 3 is out of range .*\(3,\)"):
        SoftmaxWithLoss().forward(np.zeros(3), 3)


def test_wrong_number_of_labels():
    expected = r"^SoftmaxWithLoss\.forward: t has 3 labels \(shape \(3,\)\) but x has 2 rows \(shape \(2, 4\)"
    with pytest.raises(LayerError, match=expected):
        SoftmaxWithLoss().forward(np.zeros((2, 4)), np.array([0, 1, 2]))


def test_float_labels_are_rejected():
    expected = r"^SoftmaxWithLoss\.forward: t has shape \(2,\) and dtype float64: labels must.*\(2, 3\)"
    with pytest.raises(LayerError, match=expected):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), np.array([0.0, 1.0]))


@pytest.mark.parametrize(
    "t", [np.zeros((2, 4)), np.zeros(4), np.ones(4, dtype=bool)], ids=["dense", "float-1d", "bool-1d"]
)
def test_dense_targets_must_match_x(t):
    """Only integer t of the wrong length is reported as a label count; float or bool t is not labels."""
    shape = re.escape(str(t.shape))
    expected = rf"^SoftmaxWithLoss\.forward: t has shape {shape} but x has shape \(2, 3\); expected integer"
    with pytest.raises(LayerError, match=expected):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), t)


def test_softmax_with_loss_needs_rows_of_logits():
    with pytest.raises(LayerError, match=r"^SoftmaxWithLoss\.forward: x has shape \(2, 3, 4\)"):
        SoftmaxWithLoss().forward(np.zeros((2, 3, 4)), np.zeros((2, 3, 4)))
    with pytest.raises(LayerError, match=r"^SoftmaxWithLoss\.forward: x has shape \(0, 3\)"):
        SoftmaxWithLoss().forward(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_string_targets_are_a_type_error():
    with pytest.raises(TypeError, match=r"^SoftmaxWithLoss\.forward: t has dtype <U1"):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), np.array(["a", "b"]))


def test_cross_entropy_error_checks_labels_too():
    y = np.full((2, 3), 1 / 3)
    with pytest.raises(LayerError, match=r"^cross_entropy_error: label t\[0\] = 5 is out of range.*\(2, 3\)"):
        cross_entropy_error(y, np.array([5, 0]))
    with pytest.raises(LayerError, match=r"^cross_entropy_error: t has 1 labels \(shape \(1,\)\) .*\(2, 3\)"):
        cross_entropy_error(y, np.array([0]))
    with pytest.raises(LayerError, match=r"^cross_entropy_error: y has shape \(2, 3, 1\)"):
        cross_entropy_error(y[..., None], np.array([0, 1]))


@pytest.mark.parametrize("operand", ["x", "y"])
@pytest.mark.parametrize(
    "bad", [np.ones(3, dtype=complex), np.array(["a", "b", "c"])], ids=["complex", "str"]
)
@pytest.mark.parametrize("make", [MulLayer, AddLayer])
def test_non_real_operand_is_a_type_error_naming_it(make, bad, operand):
    """The message names the layer's method and which operand (x or y) was not real."""
    args = {"x": np.ones(3), "y": np.ones(3), operand: bad}
    expected = rf"^{make.__name__}\.forward: {operand} has dtype {re.escape(str(bad.dtype))}; expected real"
    with pytest.raises(TypeError, match=expected):
        make().forward(args["x"], args["y"])


@pytest.mark.parametrize(
    ("t", "error"),
    [(np.array([0, 1, 0]), LayerError), (np.array(["a", "b"]), TypeError)],
    ids=["count", "str"],
)
def test_two_layer_net_loss_names_x_and_t_shapes(t, error):
    """The network's caller passed x and t, so the message shows both of their shapes."""
    net = TwoLayerNet(4, 3, 2, rng=0)
    shape = re.escape(str(t.shape))
    expected = rf"^TwoLayerNet\.loss: x has shape \(2, 4\) and t has shape {shape}: SoftmaxWithLoss\.forward:"
    with pytest.raises(error, match=expected):
        net.loss(np.ones((2, 4)), t)


def test_mul_layer_operands_must_broadcast():
    with pytest.raises(LayerError, match=r"^MulLayer\.forward: x of shape \(2, 3\) and y of shape \(2,\)"):
        MulLayer().forward(np.ones((2, 3)), np.ones(2))


def test_numerical_gradient_needs_a_writable_float_array():
    with pytest.raises(TypeError, match=r"^numerical_gradient: x must be a float ndarray.*got list"):
        numerical_gradient(lambda x: 0.0, [1.0, 2.0])
    with pytest.raises(TypeError, match=r"^numerical_gradient: .*of dtype int64"):
        numerical_gradient(lambda x: 0.0, np.arange(3))
    frozen = np.ones(3)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match=r"^numerical_gradient: x of shape \(3,\) is read-only"):
        numerical_gradient(lambda x: 0.0, frozen)


def test_numerical_gradient_restores_x_when_f_raises():
    x = np.array([1.0, 2.0])
    before = x.copy()

    def f(_):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, before)


def test_two_layer_net_dtype_must_be_float():
    with pytest.raises(TypeError, match=r"^TwoLayerNet: dtype must be a float dtype.*int64"):
        TwoLayerNet(4, 3, 2, dtype=np.int64)


# NaN is data, not an error: it flows through forward and backward, silently (no warning).


def test_nan_propagates_through_elementwise_layers():
    x = np.array([[np.nan, 1.0, -1.0]])
    for layer in (Relu(), Sigmoid()):
        out = layer.forward(x)
        dx = layer.backward(np.array([[np.nan, 1.0, 1.0]]))

        assert np.isnan(out[0, 0]) and np.isfinite(out[0, 1:]).all(), type(layer).__name__
        assert np.isnan(dx[0, 0]) and np.isfinite(dx[0, 1:]).all(), type(layer).__name__


def test_nan_propagates_through_mul_and_add():
    for layer in (MulLayer(), AddLayer()):
        out = layer.forward(np.array([np.nan, 1.0]), np.array([2.0, 3.0]))
        dx, dy = layer.backward(np.array([1.0, np.nan]))

        assert np.isnan(out[0]) and np.isfinite(out[1])
        assert np.isnan(dx[1]) and np.isnan(dy[1])


def test_nan_propagates_through_affine():
    layer = Affine(np.ones((2, 2)), np.zeros(2))

    out = layer.forward(np.array([[np.nan, 1.0], [1.0, 1.0]]))
    dx = layer.backward(np.ones((2, 2)))

    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()
    assert np.isnan(layer.dW[0]).all() and np.isfinite(layer.dW[1]).all()
    assert np.isfinite(dx).all()  # dx = dout @ W.T does not involve x


def test_nan_propagates_through_softmax_layers():
    x = np.array([[np.nan, 0.0, 1.0], [0.0, 1.0, 2.0]])
    softmax = Softmax()
    out = softmax.forward(x)
    dx = softmax.backward(np.ones((2, 3)))
    assert np.isnan(out[0]).all() and np.isfinite(out[1]).all()
    assert np.isnan(dx[0]).all() and np.isfinite(dx[1]).all()

    loss_layer = SoftmaxWithLoss()
    loss = loss_layer.forward(x, np.array([1, 2]))
    dx = loss_layer.backward()
    assert np.isnan(loss)
    assert np.isnan(dx[0]).all() and np.isfinite(dx[1]).all()


@pytest.mark.parametrize(
    ("x", "dout", "nan_in"),
    [([[np.inf, 1.0]], [[1.0, 1.0]], "out"), ([[1.0, 1.0]], [[np.inf, 1.0]], "dx")],
    ids=["forward-inf*0", "backward-inf*0"],
)
def test_inf_propagates_as_nan_through_affine(x, dout, nan_in):
    """An inf meeting W's zero in ``x @ W`` or ``dout @ W.T`` gives NaN silently, even under
    the suite's invalid="raise"."""
    layer = Affine(np.array([[0.0, 1.0], [1.0, 1.0]]), np.zeros(2))
    out = layer.forward(np.array(x))
    dx = layer.backward(np.array(dout))

    assert np.isnan({"out": out, "dx": dx}[nan_in]).any()


@pytest.mark.parametrize(
    ("make", "x", "y", "dout", "nan_in"),
    [
        (MulLayer, [np.inf, 1.0], [0.0, 2.0], [1.0, 1.0], "out"),
        (MulLayer, [np.inf, 1.0], [1.0, 2.0], [0.0, 1.0], "dy"),
        (AddLayer, [np.inf, 1.0], [-np.inf, 2.0], [1.0, 1.0], "out"),
        (AddLayer, [0.0, 0.0], [0.0], [np.inf, -np.inf], "dy"),
    ],
    ids=["mul-forward-inf*0", "mul-backward-0*inf", "add-forward-inf-inf", "add-backward-sum-inf-inf"],
)
def test_inf_propagates_as_nan_through_mul_and_add(make, x, y, dout, nan_in):
    """inf * 0 and inf + (-inf) give NaN silently, even under the suite's invalid="raise"."""
    layer = make()
    out = layer.forward(np.array(x), np.array(y))
    dx, dy = layer.backward(np.array(dout))

    assert np.isnan({"out": out, "dx": dx, "dy": dy}[nan_in]).any()
