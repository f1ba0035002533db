"""Extreme logits: softmax, log_softmax, SoftmaxWithLoss (loss and gradient) and sigmoid are finite,
accurate and warning-free with *every* NumPy floating-point error raised, underflow included (the
layers silence it locally where 0 is the right answer). See docs/ROBUSTNESS.md.

The oracle is an independent log-sum-exp in ``np.longdouble`` (80-bit on x86) of the same inputs;
the tolerance is ``exact_rtol(dtype, 1 + max|x|)`` (an error of ``eps·|x|`` in a logit is a
relative error of that size in the output). Both dtypes are held to it up to ±1e4
(``LOGIT_EXTREME``); float32 is also finite up to its max, where ``x - max`` may overflow to
``-inf`` (``|x| > max/2``) and ``exp(-inf) = 0`` is the correctly rounded probability.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from layer_crosscheck.impl import (
    Sigmoid,
    Softmax,
    SoftmaxWithLoss,
    cross_entropy_error,
    log_softmax,
    sigmoid,
    softmax,
)
from layer_crosscheck.properties import get_spec
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.compare import compare
from layer_crosscheck.properties.engine.tolerances import exact_rtol, floor, rounding_rtol
from layer_crosscheck.properties.specs.seed import LOGIT_EXTREME

DTYPES = [np.float64, np.float32]
SHAPES = [(1, 1), (1, 5), (3, 4), (2, 2), (4, 7)]
LD = np.longdouble
F32_MAX = float(np.finfo(np.float32).max)


# ------------------------------------------------------------------------------------ the oracle


# (underflow in the oracles is ignored, as everywhere outside the errstate(all="raise") blocks)
def _log_softmax_oracle(x: np.ndarray) -> np.ndarray:
    z = x.astype(LD)
    s = z - z.max(axis=-1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=-1, keepdims=True))


def _softmax_oracle(x: np.ndarray) -> np.ndarray:
    return np.exp(_log_softmax_oracle(x))


def _sigmoid_oracle(x: np.ndarray) -> np.ndarray:
    z = x.astype(LD)
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _assert_close(
    actual: Any,
    expected: np.ndarray,
    dtype: Any,
    cond: float,
    *,
    elementwise: bool = False,
    scale: float = 0.0,
) -> None:
    """Norm-wise (or, with ``elementwise``, element-wise relative) closeness, the tolerance table's rule."""
    a = np.asarray(actual, dtype=LD)
    e = np.asarray(expected, dtype=LD)
    rtol = exact_rtol(dtype, cond)
    size = np.abs(e) if elementwise else np.abs(e) + np.max(np.abs(e), initial=0.0)
    bound = rtol * (size + scale) + floor(dtype)
    err = np.abs(a - e)
    assert (err <= bound).all(), f"max error {float(np.max(err - bound))} over the bound (rtol {rtol:.3g})"


def _cond(x: np.ndarray) -> float:
    return 1.0 + float(np.max(np.abs(x), initial=0.0))


def _logits(dtype: Any, extreme: float = LOGIT_EXTREME) -> st.SearchStrategy[np.ndarray]:
    return st.sampled_from(SHAPES).flatmap(lambda shape: S.array(dtype, shape, extreme=extreme))


# ----------------------------------------------------------------------- accuracy up to ±1e4


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_softmax_and_log_softmax_are_accurate(dtype: Any, data: st.DataObject) -> None:
    x = data.draw(_logits(dtype), label="x")
    dout = data.draw(S.cotangent(dtype, x.shape), label="dout")
    layer = Softmax()
    with np.errstate(all="raise"):
        p, logp, layer_p = softmax(x), log_softmax(x), layer.forward(x)
        dx = layer.backward(dout)
    assert p.dtype == dtype and logp.dtype == dtype and layer_p.dtype == dtype and dx.dtype == dtype
    assert np.isfinite(p).all() and np.isfinite(logp).all() and np.isfinite(dx).all()
    assert (p >= 0).all() and (p <= 1).all() and (logp <= 0).all()
    p_exact = _softmax_oracle(x)
    _assert_close(p, p_exact, dtype, _cond(x))
    np.testing.assert_array_equal(layer_p, p)
    _assert_close(logp, _log_softmax_oracle(x), dtype, _cond(x))
    expected = p_exact * (dout.astype(LD) - np.sum(dout.astype(LD) * p_exact, axis=-1, keepdims=True))
    # y * (dout - sum(dout * y)) is made of terms up to |dout|: its rounding is eps * |dout| even
    # where the gradient itself cancels to ~0 (the spec's ``dout_scale``)
    _assert_close(dx, expected, dtype, _cond(x), scale=float(np.max(np.abs(dout))))


@pytest.mark.parametrize(("dtype", "gap"), [(np.float64, -720.0), (np.float32, -100.0)])
def test_subnormal_probabilities_are_quiet(dtype: Any, gap: float) -> None:
    """exp(gap) is subnormal, and dividing it by a row total of 2 rounds (NumPy flags underflow):
    the layers must round it quietly, as the oracle does, not raise."""
    x = np.array([[0.0, 0.0, gap]], dtype)
    with np.errstate(all="raise"):
        p, logp, layer_p = softmax(x), log_softmax(x), Softmax().forward(x)
    assert 0 < p[0, 2] < np.finfo(dtype).tiny
    _assert_close(p, _softmax_oracle(x), dtype, _cond(x))
    _assert_close(logp, _log_softmax_oracle(x), dtype, _cond(x))
    np.testing.assert_array_equal(layer_p, p)


@pytest.mark.parametrize("layer", [Sigmoid, Softmax])
def test_backward_through_subnormal_outputs_is_quiet(layer: Any) -> None:
    """Subnormal outputs (sigmoid(-720), softmax with a -720 gap) times an ordinary upstream
    gradient give products that round, without an error or warning (saturated outputs meeting an
    infinite dout: tests/test_layer_contracts.py's quiet rows)."""
    x = np.array([[0.0, 0.0, -720.0]])
    dout = np.array([[0.1, 0.2, 0.3]])  # inexact products: NumPy flags the subnormal results
    with np.errstate(all="raise"):
        net = layer()
        y = net.forward(x)
        dx = net.backward(dout)
    yl, dl = y.astype(LD), dout.astype(LD)
    expected = dl * yl * (1 - yl) if layer is Sigmoid else yl * (dl - (dl * yl).sum(axis=-1, keepdims=True))
    assert 0 < abs(dx[0, 2]) < np.finfo(np.float64).tiny
    _assert_close(dx, expected, np.float64, _cond(x))


def test_loss_backward_through_subnormal_probabilities_is_quiet() -> None:
    """The loss's ``(y - t) * dout / N``: a subnormal probability times dout / N rounds, quietly."""
    layer = SoftmaxWithLoss()
    with np.errstate(all="raise"):
        layer.forward(np.array([[0.0, 0.0, -720.0]]), np.array([0]))
        dx = layer.backward(0.3)
    assert 0 < dx[0, 2] < np.finfo(np.float64).tiny
    expected = (layer.y.astype(LD) - np.array([[1, 0, 0]], LD)) * LD(0.3)
    _assert_close(dx, expected, np.float64, 1.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("targets", ["labels", "one_hot"])
@given(data=st.data())
def test_softmax_with_loss_is_exact_at_extreme_logits(dtype: Any, targets: str, data: st.DataObject) -> None:
    x = data.draw(_logits(dtype), label="x")
    n, c = x.shape
    labels = data.draw(S.labels(n, c), label="labels")
    t = labels if targets == "labels" else S.one_hot(labels, c, dtype)
    layer = SoftmaxWithLoss()
    with np.errstate(all="raise"):
        loss = layer.forward(x, t)
        dx = layer.backward()
    assert np.result_type(loss) == dtype and dx.dtype == dtype
    assert np.isfinite(loss) and np.isfinite(dx).all()
    logp = _log_softmax_oracle(x)
    expected_loss = -logp[np.arange(n), labels].mean()
    # judged as the loss's forward cell judges it: the spec's conditioning and value scale
    spec = get_spec("softmax_with_loss_labels" if targets == "labels" else "softmax_with_loss")
    case = {"x": x, "t": t}
    scale = max(abs(float(expected_loss)), spec.numerics.value_scale(case))
    rtol = exact_rtol(dtype, spec.numerics.cond(case))
    compare(loss, expected_loss, rtol, scale=scale, dtype=dtype, what="loss")
    expected_dx = (np.exp(logp) - np.eye(c, dtype=LD)[labels]) / n
    # (y - t)/N rounds relative to its terms, |t|/N = 1/N, even where it cancels to ~0 (as the
    # softmax test's scale=max|dout|); found by the thorough profile at a 1e-10 logit gap
    _assert_close(dx, expected_dx, dtype, _cond(x), scale=1.0 / n)


@pytest.mark.parametrize("dtype", DTYPES)
@given(data=st.data())
def test_sigmoid_keeps_relative_precision_in_both_tails(dtype: Any, data: st.DataObject) -> None:
    x = data.draw(_logits(dtype), label="x")
    dout = data.draw(S.cotangent(dtype, x.shape), label="dout")
    layer = Sigmoid()
    with np.errstate(all="raise"):
        y, y_layer = sigmoid(x), layer.forward(x)
        dx = layer.backward(dout)
    assert y.dtype == dtype and dx.dtype == dtype
    assert np.isfinite(y).all() and np.isfinite(dx).all() and ((y >= 0) & (y <= 1)).all()
    np.testing.assert_array_equal(y_layer, y)
    # element-wise relative accuracy: sigma(-50) = 1.9e-22 keeps its digits (cond of sigma is ~|x|)
    _assert_close(y, _sigmoid_oracle(x), dtype, _cond(x), elementwise=True)


# ------------------------------------------------------------- float32: finite up to its max


@given(data=st.data())
def test_float32_is_finite_and_quiet_up_to_its_largest_value(data: st.DataObject) -> None:
    x = data.draw(_logits(np.float32, extreme=F32_MAX), label="x")
    n, c = x.shape
    labels = data.draw(S.labels(n, c), label="labels")
    with np.errstate(all="raise"):
        p, logp, s = softmax(x), log_softmax(x), sigmoid(x)
        layer = SoftmaxWithLoss()
        loss = layer.forward(x, labels)
        dx = layer.backward()
    assert p.dtype == logp.dtype == s.dtype == dx.dtype == np.float32
    assert np.isfinite(p).all() and np.isfinite(s).all() and np.isfinite(dx).all()
    assert not np.isnan(logp).any() and not np.isnan(loss)  # -inf / +inf only where the exact value overflows
    np.testing.assert_allclose(p.sum(axis=-1, dtype=np.float64), 1.0, rtol=rounding_rtol(np.float32, c))
    # where the exact log-probability fits in float32 it is finite
    exact = _log_softmax_oracle(x)
    fits = exact >= -F32_MAX
    assert np.isfinite(logp[fits]).all()


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_extremes_themselves(dtype: Any) -> None:
    """Logits of exactly ±1e4: saturated values that are exact, finite gradients, no warning."""
    big = dtype(LOGIT_EXTREME)
    x = np.array([[big, -big, 0], [-big, -big, big], [-big, big, -745], [-big, -big, -big]], dtype=dtype)
    dout = np.linspace(-1.0, 2.0, x.size).reshape(x.shape).astype(dtype)
    with np.errstate(all="raise"):
        p, logp, s = softmax(x), log_softmax(x), sigmoid(x)
        grads = []
        for layer in (Sigmoid(), Softmax()):
            layer.forward(x)
            grads.append(layer.backward(dout))
        loss_layer = SoftmaxWithLoss()
        loss = loss_layer.forward(x, np.array([1, 0, 2, 0]))
        grads.append(loss_layer.backward())
        ce = cross_entropy_error(p[:3], np.array([0, 2, 1]))  # the top class of each row: probability 1
    for a in (p, logp, s, loss, ce, *grads):
        assert np.isfinite(a).all()
    np.testing.assert_array_equal(p[:3].max(axis=-1), 1)
    np.testing.assert_array_equal(p[0], [1, 0, 0])
    np.testing.assert_allclose(p[3], 1 / 3, rtol=rounding_rtol(dtype))
    # exact, not -inf and not log(1e-7)
    np.testing.assert_array_equal(logp[0], [0, -2 * LOGIT_EXTREME, -LOGIT_EXTREME])
    np.testing.assert_array_equal(s[0], [1, 0, 0.5])
    assert ce == 0.0
    # confident mistakes cost their logit gap: 2e4 + 2e4 + (1e4 + 745) + log(3), over 4 examples
    expected = (4 * LOGIT_EXTREME + LOGIT_EXTREME + 745 + np.log(3)) / 4
    np.testing.assert_allclose(loss, expected, rtol=exact_rtol(dtype, 1 + LOGIT_EXTREME))
