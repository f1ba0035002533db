"""The public functions' contracts at their edges: cross_entropy_error's classes and dtype
promotion, numerical_gradient's refusals and its step that rounds to zero.

Their everyday values are judged by the property suite through the layers built on them; these
are the cases no layer reaches (found by mutation testing, docs/ROBUSTNESS.md section 6).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from impl import cross_entropy_error, numerical_gradient
from tests.helpers import raises_naming

F32, F64 = np.float32, np.float64


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
        -(np.log(0.75) + np.log(0.5)) / 2, rel=float(np.finfo(y_dtype).eps) * 8
    )  # log(y) is taken in y's dtype


def _changing_shape(non_scalar_on: str) -> Callable[[np.ndarray], Any]:
    """A loss returning a 1-element array on the ``plus`` or the ``minus`` evaluation only."""
    calls = {"n": 0}

    def f(_: np.ndarray) -> Any:
        calls["n"] += 1
        plus = calls["n"] % 2 == 1  # numerical_gradient evaluates x+h, then x-h
        return np.array([1.0]) if (plus == (non_scalar_on == "plus")) else 1.0

    return f


@pytest.mark.parametrize("non_scalar_on", ["plus", "minus"])
def test_numerical_gradient_refuses_a_non_scalar_loss(non_scalar_on: str) -> None:
    """Either evaluation returning an array is an error (float() of a 1-element array would pass)."""
    with raises_naming(TypeError, "numerical_gradient", "f must return a scalar", "got shape") as info:
        numerical_gradient(_changing_shape(non_scalar_on), np.zeros(2))
    if non_scalar_on == "plus":
        assert "got shape (1,)" in str(info.value)


@pytest.mark.parametrize(
    ("x", "message"),
    [
        ([1.0, 2.0], "got list"),
        (np.arange(3), "got ndarray of dtype int64"),
    ],
)
def test_numerical_gradient_needs_a_float_array(x: Any, message: str) -> None:
    with raises_naming(TypeError, "numerical_gradient", "x must be a float ndarray", message):
        numerical_gradient(lambda a: 0.0, x)


def test_numerical_gradient_is_nan_where_the_step_rounds_to_zero() -> None:
    """At 1e300 the step h = 1e-4 is far below the spacing of floats: x+h == x-h, no estimate."""
    x = np.array([1e300, 1.0])
    grad = numerical_gradient(lambda a: float(a[1]) * 3.0, x)
    assert np.isnan(grad[0]) and grad[1] == pytest.approx(3.0)
