"""Book 2's recurrent layers: the planted bugs of tests/zoo/broken_time.py are each rejected, by
the property named and for its reason; the book-style classes of tests/zoo/book2_time.py (and
correct ones written differently) pass every cell that judges a class (against one autodiff
reference: tests/helpers.py's ``one_autodiff``); the multi-output and
stateful machinery says what is wrong in a learner's words."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from layer_crosscheck.impl import LSTM, LayerError, TimeLSTM
from layer_crosscheck.properties import get_spec, property_named
from layer_crosscheck.properties.engine.explore import Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell, cells
from layer_crosscheck.reference import get_reference
from tests.helpers import crosscheck, installed, one_autodiff
from tests.zoo import book2_time as B
from tests.zoo import broken_time as X

ZOO = str(Path(__file__).parent / "zoo" / "book2_time.py")
#: (class, spec, (property, reference), a phrase of the rejection)
BUGS = [
    (X.TimeRNNdWhNotAccumulated, "time_rnn", ("fd", "fd"), "vs finite differences"),
    (X.TimeRNNdWhNotAccumulated, "time_rnn", ("vjp", "torch"), "time_rnn dW"),
    (X.TimeRNNDropsNextDh, "time_rnn", ("fd", "fd"), "vs finite differences"),
    (X.TimeRNNStateNotCarried, "time_rnn", ("stateful", "torch"), "stateful blocks of"),
    (X.TimeRNNCarriesWhenStateless, "time_rnn", ("stateful", "torch"), "stateful=False"),
    (X.TimeRNNCarriesWhenStateless, "time_rnn", ("state", "self"), "after two forwards vs one"),
    (X.LSTMIgnoresDcNext, "lstm", ("fd", "fd"), "vs finite differences"),
    (X.LSTMIgnoresDcNext, "lstm", ("vjp", "torch"), "lstm dx vs torch"),
    (X.LSTMSwapsGateGrads, "lstm", ("fd", "fd"), "vs finite differences"),
    (X.TimeLSTMIgnoresDcNext, "time_lstm", ("fd", "fd"), "vs finite differences"),
]


def _cell(spec: str, prop: str, ref: str) -> Cell:
    return Cell(get_spec(spec), property_named(prop), ref, np.float64)


@pytest.mark.parametrize(
    ("layer", "cell", "says"),
    [
        pytest.param(layer, c, says, id=f"{layer.__name__}-{spec}-{by[0]}-{by[1]}", marks=installed(c))
        for layer, spec, by, says in BUGS
        for c in [_cell(spec, *by)]
    ],
)
def test_planted_bug_rejected(layer: type, cell: Cell, says: str) -> None:
    result = run_cell(cell, layer, Options(40, seed=0, shrink_seconds=0, fp="record"))
    assert not result.ok, f"{cell.prop.name} vs {cell.reference} accepted {layer.__name__}"
    assert says in result.message, result.message


CORRECT = [
    (B.RNN, "rnn"),
    (B.LSTM, "lstm"),
    (B.GRU, "gru"),
    (B.TimeRNN, "time_rnn"),
    (B.TimeLSTM, "time_lstm"),
    (B.TimeGRU, "time_gru"),
    (B.TimeBiLSTM, "time_bi_lstm"),
    (B.LSTMPerGate, "lstm"),
    (B.TimeRNNVectorised, "time_rnn"),
    (B.TorchStyleGRU, "gru_torch"),
    (B.LSTMTorchGateOrder, "lstm_ifgo"),
    (B.TimeLSTMTimeMajor, "time_lstm_time_major"),
]


@pytest.mark.parametrize(
    ("layer", "cell"),
    [
        pytest.param(layer, cell, id=f"{layer.__name__}-{cell.id}", marks=installed(cell))
        for layer, name in CORRECT
        for cell in one_autodiff(cells(specs=[get_spec(name)], for_class=True))
    ],
)
def test_book_style_layer_accepted(layer: type, cell: Cell) -> None:
    """Ten examples a cell: these classes run every cell of their spec against one autodiff
    reference (``one_autodiff``; a sequence's Jacobian is one backward per element of hs), and a
    false alarm shows on the first few."""
    result = run_cell(cell, layer, Options(10, seed=0, shrink_seconds=0, fp="record"))
    assert result.ok, f"{result.status}: {result.message}"


class _OneOutput(B.LSTM):
    def forward(self, x, h_prev, c_prev):  # type: ignore[no-untyped-def]
        return super().forward(x, h_prev, c_prev)[0]


def test_multi_output_forward_that_returns_one_array_is_told_so() -> None:
    result = run_cell(_cell("lstm", "fd", "fd"), _OneOutput, Options(3, seed=0, shrink_seconds=0))
    assert "_OneOutput.forward returned ndarray; the lstm spec expects (h_next, c_next)" in result.message


class _NoReset(B.TimeRNN):
    reset_state = None  # type: ignore[assignment]


@pytest.mark.parametrize("cell", [_cell("time_rnn", "stateful", "torch")], ids=["stateful-torch"])
def test_stateful_layer_without_reset_state_is_told_so(cell: Cell) -> None:
    if cell.unavailable():
        pytest.skip(cell.unavailable())
    result = run_cell(cell, _NoReset, Options(3, seed=0, shrink_seconds=0))
    assert "_NoReset has no reset_state()" in result.message


def test_stateful_property_only_for_sequence_specs() -> None:
    prop = property_named("stateful")
    assert prop.applies(get_spec("time_lstm")) is None
    assert prop.applies(get_spec("lstm")) == "not a stateful sequence layer"


@pytest.mark.parametrize(
    ("cls", "spec", "words", "alternative"),
    [
        ("TorchStyleGRU", "gru", "follows torch's GRU formula", "gru_torch"),
        ("LSTMTorchGateOrder", "lstm", "follows torch's LSTM gate order [i, f, g, o]", "lstm_ifgo"),
        ("TimeLSTMTimeMajor", "time_lstm", "follows torch's time-major LSTM layout", "time_lstm_time_major"),
    ],
)
def test_torch_layout_is_a_named_convention(
    capsys: pytest.CaptureFixture[str], cls: str, spec: str, words: str, alternative: str
) -> None:
    if (reason := get_reference("torch").unavailable()) is not None:
        pytest.skip(reason)
    target = f"{ZOO}:{cls}"
    few = ("--reference", "torch", "--examples", "5")
    ran = crosscheck(capsys, "check", target, "--as", spec, *few)
    assert ran.code == 1, ran.out + ran.err
    assert ran.first.startswith(f"CONVENTION: {cls} {words}"), ran.first
    assert ran.first.endswith(f"rerun with crosscheck check {target} --as {alternative}"), ran.first
    again = crosscheck(capsys, "check", target, "--as", alternative, *few)
    assert again.code == 0, again.out + again.err


def test_book_float32_layer_is_pointed_at_float32(capsys: pytest.CaptureFixture[str]) -> None:
    target = f"{ZOO}:TimeLSTMFloat32"
    few = ("--as", "time_lstm", "--reference", "fd", "--examples", "3")
    ran = crosscheck(capsys, "check", target, *few)
    assert ran.code == 1
    assert "hint: TimeLSTMFloat32 returns float32 whatever its input (book 2 writes dtype='f')" in ran.out
    assert crosscheck(capsys, "check", target, *few, "--dtype", "float32").code == 0


def _lstm(H: int = 2, D: int = 3) -> LSTM:
    return LSTM(np.zeros((D, 4 * H)), np.zeros((H, 4 * H)), np.zeros(4 * H))


def test_lstm_backward_refuses_bad_upstream_gradients() -> None:
    """The generic bad-input rows hand backward one dout; an LSTM takes two, so its rows are here."""
    with pytest.raises(LayerError, match=r"LSTM\.backward: call forward first"):
        _lstm().backward(np.ones((2, 2)), np.ones((2, 2)))
    layer = _lstm()
    layer.forward(np.ones((2, 3)), np.zeros((2, 2)), np.zeros((2, 2)))
    with pytest.raises(LayerError, match=r"dout has shape \(2, 3\) but forward produced shape \(2, 2\)"):
        layer.backward(np.ones((2, 2)), np.ones((2, 3)))


def test_stateful_time_layer_refuses_a_carried_state_of_another_batch() -> None:
    layer = TimeLSTM(*_lstm().params, stateful=True)
    layer.forward(np.ones((2, 4, 3)))
    with pytest.raises(
        LayerError, match=r"TimeLSTM\.forward: the carried state has shape \(2, 2\); xs \(3, 4, 3\)"
    ):
        layer.forward(np.ones((3, 4, 3)))
    layer.reset_state()
    assert layer.forward(np.ones((3, 4, 3))).shape == (3, 4, 2)
