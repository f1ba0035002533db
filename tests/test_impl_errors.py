"""Error messages and edge cases of the seed layers and public functions that neither the property
cells nor tests/test_bad_input.py's table (backward before forward, a dout of the wrong shape,
complex, NaN and inf, bad labels, operands that do not broadcast, each spec's ``bad_inputs``) reach:
among them cross_entropy_error's classes and dtype promotion, numerical_gradient's refusals and its
step that rounds to zero (found by mutation testing, docs/ROBUSTNESS.md section 6).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from layer_crosscheck.impl import (
    Affine,
    AttentionWeight,
    LayerError,
    SoftmaxWithLoss,
    TimeSigmoidWithLoss,
    TwoLayerNet,
    cross_entropy_error,
    numerical_gradient,
)
from layer_crosscheck.properties.engine.tolerances import rounding_rtol
from tests.helpers import raises_naming, raising

F32, F64 = np.float32, np.float64
READ_ONLY = np.ones(3)
READ_ONLY.flags.writeable = False


def _changing_shape(non_scalar_on: str) -> Callable[[np.ndarray], Any]:
    """A loss returning a 1-element array on the ``plus`` or the ``minus`` evaluation only (float()
    of a 1-element array would pass); numerical_gradient evaluates x+h, then x-h."""
    plus_minus = [np.array([1.0]), 1.0] if non_scalar_on == "plus" else [1.0, np.array([1.0])]
    values = itertools.cycle(plus_minus)
    return lambda _: next(values)


def _affine() -> Affine:
    return Affine(np.ones((4, 3)), np.zeros(3))


ERRORS = [
    # the layer's own method, not a helper or nothing
    raising("SoftmaxWithLoss-complex", lambda: SoftmaxWithLoss().forward(np.ones(3, dtype=complex), 0),
            TypeError, "SoftmaxWithLoss.forward", "x has dtype complex128"),
    # a time layer names its own argument, xs
    raising("TimeSigmoidWithLoss-complex",
            lambda: TimeSigmoidWithLoss().forward(np.ones((2, 3), dtype=complex), np.zeros((2, 3), int)),
            TypeError, "TimeSigmoidWithLoss.forward", "xs has dtype complex128"),
    # the argument that is not real is named, as the signature names it
    raising("AttentionWeight-complex-h",
            lambda: AttentionWeight().forward(np.ones((2, 3, 4)), np.ones((2, 4), dtype=complex)),
            TypeError, "AttentionWeight.forward", "h has dtype complex128"),
    # W.shape[0] features, not W.shape[1]; a (2, 2, 3) batch has 6 values per example
    *(raising(f"Affine-x{shape}", lambda shape=shape: _affine().forward(np.ones(shape)), LayerError,
              "Affine.forward", shape, "W has shape (4, 3) and expects 4")
      for shape in ((2, 5), (2, 2, 3))),
    # b must be (M,) for W of shape (D, M); the bad-input row "W and b that do not fit" has a b of the
    # wrong length, these a b with a batch axis and a W that is not 2-D
    *(raising(f"Affine-W{w}-b{b}", lambda w=w, b=b: Affine(np.ones(w), np.zeros(b)), LayerError, "Affine",
              f"W has shape {w}", f"b has shape {b}")
      for w, b in (((4, 3), (1, 3)), ((12,), (3,)))),
    raising("SoftmaxWithLoss-scalar-label", lambda: SoftmaxWithLoss().forward(np.zeros(3), 3), LayerError,
            "SoftmaxWithLoss.forward", "label t = 3 is out of range", (3,)),
    # only integer t of the wrong length is reported as a label count; float or bool t is not labels
    *(raising(f"SoftmaxWithLoss-{t.dtype}-1d", lambda t=t: SoftmaxWithLoss().forward(np.zeros((2, 3)), t),
              LayerError, "SoftmaxWithLoss.forward", f"t has shape {t.shape}", (2, 3), "integer")
      for t in (np.zeros(4), np.ones(4, dtype=bool))),
    raising("cross_entropy_error-count", lambda: cross_entropy_error(np.full((2, 3), 1 / 3), np.array([0])),
            LayerError, "cross_entropy_error", "t has 1 labels", (1,), (2, 3)),
    # the network's caller passed x and t, so the message shows both of their shapes, then the layer's
    *(raising(f"TwoLayerNet-loss-t{t.shape}",
              lambda t=t: TwoLayerNet(4, 3, 2, rng=0).loss(np.ones((2, 4)), t), exc,
              "TwoLayerNet.loss", (2, 4), f"t has shape {t.shape}", "SoftmaxWithLoss.forward:")
      for t, exc in ((np.array([0, 1, 0]), LayerError), (np.array(["a", "b"]), TypeError))),
    raising("TwoLayerNet-int-dtype", lambda: TwoLayerNet(4, 3, 2, dtype=np.int64), TypeError, "TwoLayerNet",
            "dtype must be a float dtype", "int64"),
    raising("numerical_gradient-read-only", lambda: numerical_gradient(lambda x: 0.0, READ_ONLY), ValueError,
            "numerical_gradient", (3,), "read-only"),
    *(raising(f"numerical_gradient-{got}", lambda x=x: numerical_gradient(lambda a: 0.0, x), TypeError,
              "numerical_gradient", "x must be a float ndarray", got)
      for x, got in (([1.0, 2.0], "got list"), (np.arange(3), "got ndarray of dtype int64"))),
    # either evaluation returning an array is an error
    *(raising(f"numerical_gradient-non-scalar-{on}",
              lambda on=on: numerical_gradient(_changing_shape(on), np.zeros(2)),
              TypeError, "numerical_gradient", "f must return a scalar", got)
      for on, got in (("plus", "got shape (1,)"), ("minus", "got shape"))),
]  # fmt: skip


@pytest.mark.parametrize(("call", "exc", "where", "fields"), ERRORS)
def test_errors_name_the_argument(
    call: Callable[[], Any], exc: type[Exception], where: str, fields: tuple[Any, ...]
) -> None:
    with raises_naming(exc, where, *fields):
        call()


def test_affine_flattens_image_batches_and_restores_dx_shape() -> None:
    layer = _affine()
    out = layer.forward(np.ones((2, 1, 2, 2)))
    dx = layer.backward(np.array([[0.5, -1.0, 2.0], [1.5, 0.25, -3.0]]))
    assert out.shape == (2, 3)
    assert layer.x.shape == (2, 4) and layer.original_x_shape == (2, 1, 2, 2)
    assert dx.shape == (2, 1, 2, 2)


def test_cross_entropy_of_one_class_is_zero() -> None:
    """C = 1 is a valid (if dull) problem: the only class has probability 1, the loss is 0."""
    assert cross_entropy_error(np.ones((2, 1)), np.array([0, 0])) == 0.0
    assert cross_entropy_error(np.ones((2, 1)), np.ones((2, 1))) == 0.0


@pytest.mark.parametrize(
    ("y_dtype", "t_dtype", "expected"), [(F32, F64, F64), (F64, F32, F64), (F32, F32, F32)]
)
def test_cross_entropy_with_dense_targets_follows_numpy_promotion(
    y_dtype: Any, t_dtype: Any, expected: Any
) -> None:
    y = np.array([[0.25, 0.75], [0.5, 0.5]], y_dtype)
    t = np.array([[0.0, 1.0], [0.5, 0.5]], t_dtype)
    loss = cross_entropy_error(y, t)
    assert np.result_type(loss) == expected
    assert loss == pytest.approx(
        -(np.log(0.75) + np.log(0.5)) / 2, rel=rounding_rtol(y_dtype)
    )  # log(y) is taken in y's dtype


def test_numerical_gradient_restores_x_when_f_raises() -> None:
    x = np.array([1.0, 2.0])

    def f(_: np.ndarray) -> float:
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0])


def test_numerical_gradient_is_nan_where_the_step_rounds_to_zero() -> None:
    """At 1e300 the step h = 1e-4 is far below the spacing of floats: x+h == x-h, no estimate."""
    grad = numerical_gradient(lambda a: float(a[1]) * 3.0, np.array([1e300, 1.0]))
    assert np.isnan(grad[0]) and grad[1] == pytest.approx(3.0)
