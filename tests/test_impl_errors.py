"""Error messages and edge cases of the seed layers that the bad-input table does not generate.

tests/test_bad_input.py has one row per (layer, case) for backward before forward, a dout of the
wrong shape, complex input and dout, NaN and inf, labels out of range, of the wrong count or dtype,
operands that do not broadcast and each spec's ``bad_inputs``; the cases here are the rest.
"""

from __future__ import annotations

import numpy as np
import pytest

from impl import (
    AddLayer,
    Affine,
    LayerError,
    MulLayer,
    SoftmaxWithLoss,
    TwoLayerNet,
    cross_entropy_error,
    numerical_gradient,
)
from tests.helpers import raises_naming


@pytest.mark.parametrize("dout", [2, 2.0, np.float64(2.0), np.array(2.0)])
def test_softmax_with_loss_accepts_scalar_douts(dout):
    layer = SoftmaxWithLoss()
    layer.forward(np.zeros((2, 2)), np.array([0, 1]))

    dx = layer.backward(dout)

    np.testing.assert_allclose(dx, [[-0.5, 0.5], [0.5, -0.5]])  # 2 * (y - t) / 2


def test_softmax_with_loss_complex_input_is_a_type_error():
    """The message names the layer's own method, not a helper or nothing."""
    with raises_naming(TypeError, "SoftmaxWithLoss.forward", "x has dtype complex128"):
        SoftmaxWithLoss().forward(np.ones(3, dtype=complex), 0)


def test_affine_input_size_must_match_w():
    layer = Affine(np.ones((4, 3)), np.zeros(3))

    # W.shape[0] features, not W.shape[1]
    with raises_naming(LayerError, "Affine.forward", (2, 5), "W has shape (4, 3) and expects 4"):
        layer.forward(np.ones((2, 5)))
    with raises_naming(LayerError, "Affine.forward", (2, 2, 3), "W has shape (4, 3) and expects 4"):
        layer.forward(np.ones((2, 2, 3)))  # 6 values per example


@pytest.mark.parametrize(("w_shape", "b_shape"), [((4, 3), (1, 3)), ((12,), (3,))])
def test_affine_parameters_must_fit(w_shape, b_shape):
    """b must be (M,) for W of shape (D, M); the bad-input row "W and b that do not fit" has a b of
    the wrong length, these a b with a batch axis and a W that is not 2-D."""
    with raises_naming(LayerError, "Affine", f"W has shape {w_shape}", f"b has shape {b_shape}"):
        Affine(np.ones(w_shape), np.zeros(b_shape))


def test_affine_flattens_image_batches_and_restores_dx_shape():
    layer = Affine(np.ones((4, 3)), np.zeros(3))

    out = layer.forward(np.ones((2, 1, 2, 2)))
    dx = layer.backward(np.ones((2, 3)))

    assert out.shape == (2, 3)
    assert layer.x.shape == (2, 4) and layer.original_x_shape == (2, 1, 2, 2)
    assert dx.shape == (2, 1, 2, 2)


def test_scalar_label_out_of_range_for_one_example():
    with raises_naming(LayerError, "SoftmaxWithLoss.forward", "label t = 3 is out of range", (3,)):
        SoftmaxWithLoss().forward(np.zeros(3), 3)


@pytest.mark.parametrize("t", [np.zeros(4), np.ones(4, dtype=bool)], ids=["float-1d", "bool-1d"])
def test_dense_targets_must_match_x(t):
    """Only integer t of the wrong length is reported as a label count; float or bool t is not labels."""
    with raises_naming(LayerError, "SoftmaxWithLoss.forward", f"t has shape {t.shape}", (2, 3), "integer"):
        SoftmaxWithLoss().forward(np.zeros((2, 3)), t)


def test_cross_entropy_error_counts_labels():
    y = np.full((2, 3), 1 / 3)
    with raises_naming(LayerError, "cross_entropy_error", "t has 1 labels", (1,), (2, 3)):
        cross_entropy_error(y, np.array([0]))


@pytest.mark.parametrize("operand", ["x", "y"])
@pytest.mark.parametrize(
    "bad", [np.ones(3, dtype=complex), np.array(["a", "b", "c"])], ids=["complex", "str"]
)
@pytest.mark.parametrize("make", [MulLayer, AddLayer])
def test_non_real_operand_is_a_type_error_naming_it(make, bad, operand):
    """The message names the layer's method and which operand (x or y) was not real."""
    args = {"x": np.ones(3), "y": np.ones(3), operand: bad}
    with raises_naming(TypeError, f"{make.__name__}.forward", f"{operand} has dtype {bad.dtype}"):
        make().forward(args["x"], args["y"])


@pytest.mark.parametrize(
    ("t", "error"),
    [(np.array([0, 1, 0]), LayerError), (np.array(["a", "b"]), TypeError)],
    ids=["count", "str"],
)
def test_two_layer_net_loss_names_x_and_t_shapes(t, error):
    """The network's caller passed x and t, so the message shows both of their shapes, then the
    layer's own message."""
    net = TwoLayerNet(4, 3, 2, rng=0)
    with raises_naming(
        error, "TwoLayerNet.loss", (2, 4), f"t has shape {t.shape}", "SoftmaxWithLoss.forward:"
    ):
        net.loss(np.ones((2, 4)), t)


def test_numerical_gradient_needs_a_writable_array():
    """(A list or integer x: tests/test_functions.py.)"""
    frozen = np.ones(3)
    frozen.flags.writeable = False
    with raises_naming(ValueError, "numerical_gradient", (3,), "read-only"):
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
    with raises_naming(TypeError, "TwoLayerNet", "dtype must be a float dtype", "int64"):
        TwoLayerNet(4, 3, 2, dtype=np.int64)


# inf * 0 and inf + (-inf) are data, not errors: NaN, silently (the bad-input rows put NaN and inf
# in x and dout; these pin the products and sums that turn inf into NaN)


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
