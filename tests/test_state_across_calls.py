"""State that outlives one forward/backward pair: test mode judged against the reference's eval
mode (``eval_mode``), and the object identities of ``aliasing`` (planted bugs in
tests/test_harness_catches_bugs.py), each shown on classes written the books' way."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from layer_crosscheck.impl import BatchNormalization, Dropout
from layer_crosscheck.properties import get_spec, property_named
from layer_crosscheck.properties.engine.explore import Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell
from layer_crosscheck.properties.frontends.loader import load_target
from tests.zoo import broken_state as B
from tests.zoo import correct as C

BOOK_DROPOUT = load_target(f"{Path(__file__).parent / 'zoo' / 'textbook_cnn.py'}:Dropout")
#: a learner's inverted dropout (not impl's own, which the specs build with their layer_kwargs)
InvertedDropout = type("InvertedDropout", (Dropout,), {})


def _eval_cell(spec: str, reference: str = "torch") -> Cell:
    pytest.importorskip(reference)
    return Cell(get_spec(spec), property_named("eval_mode"), reference, np.float64)


@pytest.mark.parametrize(
    ("layer", "spec"),
    [(Dropout, "dropout"), (BOOK_DROPOUT, "dropout_book"), (Dropout, "batch_norm")],
    ids=["inverted-identity", "book-times-1-p", "batch-norm-running-stats"],
)
def test_test_mode_agrees_with_the_reference_eval_mode(layer: type, spec: str) -> None:
    if spec == "batch_norm":
        from layer_crosscheck.impl import BatchNormalization as layer
    result = run_cell(_eval_cell(spec), layer, Options(20, seed=0, shrink_seconds=0, fp="record"))
    assert result.ok, result.message


@pytest.mark.parametrize(
    ("layer", "spec", "says"),
    [
        (B.DropoutScalesInBothModes, "dropout", "dropout_eval forward vs torch"),
        (BOOK_DROPOUT, "dropout", "dropout_eval forward vs torch"),  # x * (1 - p) is not the identity
        # the identity is not x * (1 - p)
        (InvertedDropout, "dropout_book", "dropout_book_eval forward vs torch"),
    ],
    ids=["scales-in-both-modes", "book-checked-as-inverted", "inverted-checked-as-book"],
)
def test_a_test_mode_that_departs_is_rejected_by_name(layer: type, spec: str, says: str) -> None:
    result = run_cell(_eval_cell(spec), layer, Options(20, seed=0, shrink_seconds=0, fp="record"))
    assert not result.ok and says in result.message, result.message


def test_eval_mode_is_a_column_of_the_specs_with_a_test_mode_only() -> None:
    with_eval = {n for n in ("dropout", "dropout_book", "batch_norm") if get_spec(n).modes.eval is not None}
    assert with_eval == {"dropout", "dropout_book", "batch_norm"}
    assert property_named("eval_mode").applies(get_spec("relu")) == "the spec has no test mode of its own"


def _running_cell(reference: str = "torch") -> Cell:
    pytest.importorskip(reference)
    return Cell(get_spec("batch_norm"), property_named("running_stats"), reference, np.float64)


@pytest.mark.parametrize(
    "layer", [BatchNormalization, C.BatchNormBiasedRunningVar], ids=["unbiased-torch", "biased-np-var"]
)
def test_running_statistics_follow_torch_under_the_matching_momentum(layer: type) -> None:
    """torch's unbiased running variance (impl's) and the biased one (the book's, CS231n's) both pass."""
    result = run_cell(_running_cell(), layer, Options(25, seed=0, shrink_seconds=0, fp="record"))
    assert result.ok, result.message


@pytest.mark.parametrize(
    ("layer", "says"),
    [
        (B.BatchNormTorchMomentum, "running_mean after"),  # 1 - m where m belongs
        (B.BatchNormBatchStatsAtTest, "test-mode output after"),
    ],
    ids=["swapped-momentum", "batch-statistics-at-test"],
)
def test_running_statistics_bugs_are_rejected_by_name(layer: type, says: str) -> None:
    result = run_cell(_running_cell(), layer, Options(25, seed=0, shrink_seconds=0, fp="record"))
    assert not result.ok and says in result.message, result.message
