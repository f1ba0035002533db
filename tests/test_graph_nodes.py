"""The graph nodes and book-2 layers (properties/specs/graph.py): Embedding accumulates repeated
indices, the unfused Softmax -> CrossEntropyError route equals SoftmaxWithLoss, and a chain of
classes is checked by the same engine as one class (``check_layer([A, B], ...)``, ``crosscheck
check --chain A,B``).

The generic properties of every new spec run in tests/test_properties.py and their bad-input rows
in tests/test_bad_input.py (both generated from the registry); their planted bugs and the book's
way of writing them are judged in tests/test_harness_catches_bugs.py. This file holds the rest.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from layer_crosscheck import impl
from layer_crosscheck.impl import CrossEntropyError, Embedding, LayerError, Softmax, SoftmaxWithLoss
from layer_crosscheck.properties import get_spec
from layer_crosscheck.properties.engine.compare import compare
from layer_crosscheck.properties.engine.tolerances import exact_rtol
from layer_crosscheck.properties.frontends.api import check_layer
from tests.helpers import crosscheck
from tests.test_softmax_jacobian import targets
from tests.zoo import graph_layers as G

ZOO = Path(__file__).resolve().parent / "zoo" / "graph_layers.py"


# ---- Embedding: repeated indices accumulate ------------------------------------------------------


def test_embedding_accumulates_repeated_indices() -> None:
    W = np.arange(6.0).reshape(3, 2)
    idx = np.array([0, 2, 0, 0, 1])
    dout = np.array([[1.0, -1.0], [0.5, 2.0], [3.0, 0.25], [-2.0, 4.0], [7.0, 8.0]])
    layer = Embedding(W)
    np.testing.assert_array_equal(layer.forward(idx), W[idx])
    assert layer.backward(dout) is None
    want = np.array([dout[[0, 2, 3]].sum(axis=0), dout[4], dout[1]])
    np.testing.assert_array_equal(layer.dW, want)
    assert layer.grads[0] is layer.dW
    # the planted bug keeps one row per index: what makes it wrong exactly here
    broken = G.BrokenEmbeddingAssign(W.copy())
    broken.forward(idx)
    broken.backward(dout)
    assert not np.array_equal(broken.grads[0], want)


def test_embedding_float32_and_gradient_in_place() -> None:
    W = np.ones((4, 3), np.float32)
    layer = Embedding(W)
    slot = layer.grads[0]
    out = layer.forward(np.array([3, 3]))
    layer.backward(np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], np.float32))
    assert out.dtype == np.float32 and layer.dW.dtype == np.float32
    assert layer.grads[0] is slot  # an optimizer holding the array sees the new values
    np.testing.assert_array_equal(slot[3], [5.0, 7.0, 9.0])


# ---- Softmax -> CrossEntropyError equals SoftmaxWithLoss -----------------------------------------


def _unfused(x: np.ndarray, t: np.ndarray, dout: float) -> tuple[Any, np.ndarray]:
    softmax, cee = Softmax(), CrossEntropyError()
    loss = cee.forward(softmax.forward(x), t)
    return loss, softmax.backward(cee.backward(dout))


def _fused(x: np.ndarray, t: np.ndarray, dout: float) -> tuple[Any, np.ndarray]:
    layer = SoftmaxWithLoss()
    return layer.forward(x, t), layer.backward(dout)


DOUT = st.sampled_from([1.0, 0.5, -2.0, 3.25])


@given(case=st.sampled_from(["one_hot", "soft", "unnormalized"]).flatmap(targets), dout=DOUT)
@example(case=(np.array([[2.0, 2.0, -1.0]]), np.array([[0.5, 0.5, 0.0]])), dout=-2.0)
def test_full_jacobian_route_equals_the_shortcut(case: tuple[np.ndarray, np.ndarray], dout: float) -> None:
    """Softmax.backward(CrossEntropyError.backward(dout)) == SoftmaxWithLoss.backward(dout) ==
    dout·(y·Σt - t)/N, which is dout·(y - t)/N when each row of t sums to 1."""
    x, t = case
    n = x.shape[0]
    loss, dx = _unfused(x, t, dout)
    fused_loss, fused_dx = _fused(x, t, dout)
    y = impl.softmax(x)
    shortcut = dout * (y * t.sum(axis=1, keepdims=True) - t) / n
    terms = abs(dout) * (1 + float(t.sum(axis=1).max())) / n  # |y·Σt| + |t|: what dx is made of
    rtol = exact_rtol(np.float64, 1 + float(np.abs(x).max()))
    compare(dx, fused_dx, rtol, scale=terms, what="Softmax∘CrossEntropyError backward vs SoftmaxWithLoss")
    compare(dx, shortcut, rtol, scale=terms, what="Softmax∘CrossEntropyError backward vs dout·(y·Σt - t)/N")
    compare(loss, fused_loss, rtol, scale=max(1.0, abs(float(fused_loss))), what="loss")


@given(data=st.data(), dout=DOUT)
def test_labels_route_equals_the_shortcut(data: st.DataObject, dout: float) -> None:
    x, t = data.draw(targets("one_hot"))
    labels = t.argmax(axis=1)
    _, dx = _unfused(x, labels, dout)
    _, fused_dx = _fused(x, labels, dout)
    _, one_hot_dx = _unfused(x, t, dout)
    rtol = exact_rtol(np.float64, 1 + float(np.abs(x).max()))
    scale = 2 * abs(dout) / x.shape[0]
    compare(dx, fused_dx, rtol, scale=scale, what="labels: unfused vs SoftmaxWithLoss")
    compare(dx, one_hot_dx, rtol, scale=scale, what="labels vs one-hot")


# ---- a chain is one class for the one engine -----------------------------------------------------


def test_check_layer_takes_a_chain() -> None:
    run = check_layer(
        [Softmax, CrossEntropyError], "softmax_then_cross_entropy", references=("fd",), examples=8
    )
    assert run.ok, [r.message for r in run.failures]
    assert {r.prop for r in run.results if r.status == "pass"} >= {"fd", "linearity", "state", "no_mutation"}
    impl = Softmax.__module__.rpartition(".")[0]  # layer_crosscheck.impl (impl under mutmut)
    assert run.target == f"{impl}.softmax_loss:Softmax,{impl}.losses:CrossEntropyError"


def test_a_chain_beyond_its_range_is_told_why() -> None:
    """Checked against the fused layer's spec (logits up to ±1e4), softmax rounds to 0 and the
    chain fails, naming the stages and the reason, not with a bare NaN."""
    spec = get_spec("softmax_with_loss")
    one = dataclasses.replace(spec, shapes=(spec.shapes[0],))
    run = check_layer([Softmax, CrossEntropyError], one, references=("fd",), examples=25, shrink_seconds=0)
    assert not run.ok
    messages = " ".join(r.message for r in run.failures)
    assert "Chain(Softmax, CrossEntropyError)" in messages and "fuses them" in messages, messages


def test_cli_chain_of_a_users_file(capsys: pytest.CaptureFixture[str]) -> None:
    chain_arg = f"{ZOO}:BookSoftmax,{ZOO}:BookCrossEntropyError"
    options = ("--reference", "fd", "--examples", "5", "-q")
    done = crosscheck(capsys, "check", "--chain", chain_arg, "--as", "softmax_then_cross_entropy", *options)
    assert done.code == 0, done.out + done.err
    assert "BookSoftmax,BookCrossEntropyError as softmax_then_cross_entropy" in done.out
    assert "--chain" in done.out  # the repeat-this-run line keeps the chain


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        ((f"{ZOO}:BookMatMul", "--chain", f"{ZOO}:BookMatMul,{ZOO}:BookMatMul"), "not both"),
        (("--chain", f"{ZOO}:BookMatMul"), "at least two"),
        ((), ""),
    ],
    ids=["both", "lone", "neither"],
)
def test_cli_chain_usage_errors(capsys: pytest.CaptureFixture[str], argv: tuple[str, ...], says: str) -> None:
    done = crosscheck(capsys, "check", *argv, "--as", "matmul")
    assert done.code == 2 and says in done.err, done.err


# ---- bad input the generated rows do not reach (losses and constructors) ---------------------------


@pytest.mark.parametrize(
    ("run", "says"),
    [
        pytest.param(lambda: CrossEntropyError().forward(np.ones((0, 3)), np.zeros(0, int)),
                     "CrossEntropyError.forward: y has shape (0, 3)", id="cee-empty"),
        pytest.param(lambda: impl.SigmoidWithLoss().forward(np.float64(1.0), 1),
                     "SigmoidWithLoss.forward: x has shape ()", id="bce-scalar"),
        pytest.param(lambda: impl.Repeat(0), "Repeat: repeats must be a whole number >= 1", id="repeat-zero"),
        pytest.param(lambda: impl.Repeat(2, axis=2).forward(np.ones((2, 3))),
                     "Repeat.forward: axis 2 is out of range for x of shape (2, 3)", id="repeat-axis"),
        pytest.param(lambda: impl.Sum(axis=-3).forward(np.ones((2, 3))),
                     "Sum.forward: axis -3 is out of range for x of shape (2, 3)", id="sum-axis"),
        pytest.param(lambda: impl.MatMul(np.ones((3, 2))).forward(np.ones(3)),
                     "MatMul.forward: x has shape (3,)", id="matmul-1d"),
    ],
)  # fmt: skip
def test_bad_input_names_the_layer(run: Any, says: str) -> None:
    with pytest.raises((LayerError, TypeError)) as info:
        run()
    assert says in str(info.value)


def test_sum_sums_the_first_axis_by_default() -> None:
    """Book 2's ``Sum`` node: (N, D) -> (1, D)."""
    assert impl.Sum().forward(np.arange(6.0).reshape(2, 3)).tolist() == [[3.0, 5.0, 7.0]]
