"""Softmax's full Jacobian, written out: J = diag(y) - y yᵀ for each row y = softmax(x).

impl's backward is Jᵀ·dout (the softmax jacobian cells of tests/test_properties.py compare the
Jacobian impl's backward builds with torch's and jax's ``jacrev``, so J is theirs too); and
chaining J with the cross-entropy gradient -t/y gives the SoftmaxWithLoss shortcut y - t exactly
when each row of t sums to 1, and y·Σt - t otherwise (which is what impl's SoftmaxWithLoss
computes, over N).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from layer_crosscheck import impl
from layer_crosscheck.properties import get_spec
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.compare import compare
from layer_crosscheck.properties.engine.tolerances import exact_rtol
from layer_crosscheck.properties.specs.seed import LOGIT_EXTREME

SPEC = get_spec("softmax")
SHAPES = tuple(s["shape"] for s in SPEC.shapes)  # the softmax spec's sizes
SMALL_LOGIT = 30.0  # softmax(x) >= e**-60 / C > 0, so -t / y is finite

# ---- the Jacobian, and Jᵀ·v, written out -------------------------------------------------------


def softmax_jacobian(y: np.ndarray) -> np.ndarray:
    """(N, C, C): diag(y[n]) - outer(y[n], y[n]) for each row."""
    return np.stack([np.diag(row) - np.outer(row, row) for row in y])


def transpose_times(jac: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Jᵀ·v row by row."""
    return np.stack([j.T @ row for j, row in zip(jac, v, strict=True)])


def size_of_terms(y: np.ndarray, v: np.ndarray) -> float:
    """How large the terms summed in Jᵀ·v are (J's entries are differences of diag(y) + y yᵀ): its
    rounding is relative to this, not to the result."""
    terms = np.stack([np.diag(row) + np.outer(row, row) for row in y])
    return float(transpose_times(terms, np.abs(v)).max(initial=0.0))


def logits(extreme: float) -> st.SearchStrategy[np.ndarray]:
    """(N, C) logits in one of the spec's sizes, with exact ties, zeros and ±extreme among them."""
    return st.sampled_from(SHAPES).flatmap(lambda shape: S.array(np.float64, shape, extreme))


# ---- impl's backward is Jᵀ·dout ----------------------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@given(data=st.data())
def test_backward_is_jacobian_transpose_times_dout(dtype: Any, data: st.DataObject) -> None:
    x = data.draw(logits(LOGIT_EXTREME)).astype(dtype)
    dout = data.draw(S.cotangent(dtype, x.shape))  # never constant: Jᵀ·(c·1) = 0 proves nothing
    layer = impl.Softmax()
    y = layer.forward(x)
    dx = layer.backward(dout)

    y64, dout64 = y.astype(np.float64), dout.astype(np.float64)
    want = transpose_times(softmax_jacobian(y64), dout64)

    assert dx.dtype == dtype
    terms = size_of_terms(y64, dout64)
    compare(dx, want, exact_rtol(dtype), scale=terms, dtype=dtype, what="Softmax.backward vs Jᵀ·dout")


@given(x=logits(LOGIT_EXTREME), c=st.sampled_from([1.0, -2.0, 0.5]))
def test_constant_dout_is_vacuous(x: np.ndarray, c: float) -> None:
    """Why drawn upstream gradients are never constant: every row of J sums to 0."""
    layer = impl.Softmax()
    y = layer.forward(x)
    dout = np.full(x.shape, c)
    dx = layer.backward(dout)

    want = transpose_times(softmax_jacobian(y), dout)

    terms = size_of_terms(y, dout)
    zero = np.zeros(x.shape)
    compare(want, zero, exact_rtol(np.float64), scale=terms, what="Jᵀ·(c·1)")
    compare(dx, zero, exact_rtol(np.float64), scale=terms, what="Softmax.backward(c·1)")


# ---- chaining J with the cross-entropy gradient -t/y ---------------------------------------------


def _rows(shape: tuple[int, int]) -> st.SearchStrategy[np.ndarray]:
    """Non-negative (N, C) targets with every row sum positive; exact 0, 1/2 and 1 are common."""
    elements = st.one_of(st.floats(0.0, 1.0, allow_subnormal=False), st.sampled_from([0.0, 0.5, 1.0]))
    return hnp.arrays(np.float64, shape, elements=elements).filter(lambda t: bool(np.all(t.sum(axis=1) > 0)))


@st.composite
def targets(draw: st.DrawFn, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Logits in ±30 and targets: one-hot or soft rows summing to 1, or rows that do not."""
    x = draw(logits(SMALL_LOGIT))
    n, c = x.shape
    if kind == "one_hot":
        return x, S.one_hot(draw(S.labels(n, c)), c, np.float64)
    t = draw(_rows((n, c)))
    t = t / t.sum(axis=1, keepdims=True)
    if kind == "soft":
        return x, t
    # rows summing to s in [0.1, 0.9] or [1.1, 3]: at least 0.1 away from 1
    sums = draw(hnp.arrays(np.float64, (n, 1), elements=st.one_of(st.floats(0.1, 0.9), st.floats(1.1, 3.0))))
    return x, t * sums


def _chain(x: np.ndarray, t: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """y and Jᵀ·(-t/y): the gradient of -Σ t log softmax(x), per row, by the chain rule; and
    SoftmaxWithLoss.backward must be that over N, whatever the rows of t sum to."""
    y = impl.softmax(x)
    assert np.all(y > 0)
    g = -t / y
    chained, terms = transpose_times(softmax_jacobian(y), g), size_of_terms(y, g)
    layer, n = impl.SoftmaxWithLoss(), x.shape[0]
    layer.forward(x, t)
    what = "SoftmaxWithLoss.backward vs Jᵀ·(-t/y)/N"
    compare(layer.backward(1.0), chained / n, exact_rtol(np.float64), scale=terms / n, what=what)
    return y, chained, terms


@given(case=st.sampled_from(["one_hot", "soft"]).flatmap(targets))
@example(case=(np.array([[2.0, 2.0, -1.0]]), np.array([[0.5, 0.5, 0.0]])))  # tied logits, tied target
def test_chain_rule_gives_y_minus_t_when_rows_sum_to_one(case: tuple[np.ndarray, np.ndarray]) -> None:
    x, t = case
    y, chained, terms = _chain(x, t)

    shortcut = y - t

    compare(chained, shortcut, exact_rtol(np.float64), scale=terms, what="Jᵀ·(-t/y) vs y - t")


@given(case=targets("unnormalized"))
def test_chain_rule_is_not_y_minus_t_when_rows_do_not_sum_to_one(case: tuple[np.ndarray, np.ndarray]) -> None:
    x, t = case
    y, chained, terms = _chain(x, t)

    shortcut = y - t
    right = y * t.sum(axis=1, keepdims=True) - t

    assert float(np.abs(chained - shortcut).max()) > 1e-3  # y·(Σt - 1): at least 0.1 / C somewhere
    compare(chained, right, exact_rtol(np.float64), scale=terms, what="Jᵀ·(-t/y) vs y·Σt - t")


@given(
    x=hnp.arrays(np.float64, (2, 2, 3), elements=st.floats(-50, 50)), dout=S.cotangent(np.float64, (2, 2, 3))
)
def test_leading_axes_are_rows(x: np.ndarray, dout: np.ndarray) -> None:
    """Softmax, log_softmax and the layer work on the last axis of any rank: a (2, 2, 3) batch is
    its four rows of 3, forward and backward (the specs draw (N, C) only, the book's shape)."""
    rows, drows = x.reshape(-1, 3), dout.reshape(-1, 3)
    layer, flat = impl.Softmax(), impl.Softmax()
    y, dx = layer.forward(x), layer.backward(dout)
    y_rows, dx_rows = flat.forward(rows), flat.backward(drows)
    np.testing.assert_array_equal(y, y_rows.reshape(x.shape))
    np.testing.assert_array_equal(dx, dx_rows.reshape(x.shape))
    np.testing.assert_array_equal(impl.softmax(x), impl.softmax(rows).reshape(x.shape))
    np.testing.assert_array_equal(impl.log_softmax(x), impl.log_softmax(rows).reshape(x.shape))
