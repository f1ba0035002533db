"""Book 2's NegativeSamplingLoss with its own sampler (tests/zoo/book2_word2vec.py): forward(h,
target) draws the negative samples from NumPy's global RNG; spec negative_sampling_loss seeds it
and hands the references what the class's sampler returns after the same seed (``adapt``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layer_crosscheck.properties import get_spec, property_named
from layer_crosscheck.properties.engine.conventions import adapt_to
from layer_crosscheck.properties.engine.errors import UsageError
from layer_crosscheck.properties.engine.explore import SHRINK_SECONDS, Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell, cells
from layer_crosscheck.properties.engine.spec import LayerSpec
from tests.helpers import crosscheck, installed, one_autodiff
from tests.zoo import book2_word2vec as W

SPEC = "negative_sampling_loss"
ZOO = Path(__file__).resolve().parent / "zoo"


def _adapted(cls: type) -> tuple[LayerSpec, str | None]:
    return adapt_to(get_spec(SPEC), cls)


def test_adapted_spec_recovers_the_samples_forward_draws() -> None:
    """The samples in a drawn case are those the class's forward draws after the seed."""
    spec, note = _adapted(W.NegativeSamplingLoss)
    assert note is not None and "seeded before every forward" in note
    assert spec.construction.numpy_seed is not None and spec.construction.init_arrays == ("corpus",)

    @settings(max_examples=5, database=None, deadline=None)
    @given(st.data())
    def run(data: st.DataObject) -> None:
        sizes = data.draw(st.sampled_from(spec.shapes))
        a = spec.draw(data.draw, np.dtype(np.float64), sizes)
        layer = W.NegativeSamplingLoss(a["W"].copy(), a["corpus"], sample_size=int(a["sample_size"]))
        np.random.seed(spec.construction.numpy_seed)  # noqa: NPY002
        layer.forward(a["h"], a["target"])
        used = np.stack([d.embed.idx for d in layer.embed_dot_layers[1:]], axis=1)
        np.testing.assert_array_equal(a["negative_sample"], used)
        assert not np.any(used == a["target"][:, None])

    run()


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param(c, id=c.id, marks=installed(c))
        for c in one_autodiff(cells(specs=[_adapted(W.NegativeSamplingLoss)[0]], for_class=True))
        if np.dtype(c.dtype) == np.float64  # the book's int labels promote float32 to float64
    ],
)
def test_book_class_with_its_sampler_passes(cell: Cell) -> None:
    result = run_cell(
        cell, W.NegativeSamplingLoss, Options(10, seed=0, shrink_seconds=SHRINK_SECONDS, fp="record")
    )
    assert result.ok, f"{result.status}: {result.message}"


@pytest.mark.parametrize("ref", ["torch", "jax"])
def test_missing_positive_term_rejected(ref: str) -> None:
    cell = Cell(
        _adapted(W.BrokenNegativeSamplingLossNoPositive)[0], property_named("forward"), ref, np.float64
    )
    if reason := cell.unavailable():
        pytest.skip(reason)
    result = run_cell(
        cell, W.BrokenNegativeSamplingLossNoPositive, Options(30, seed=0, shrink_seconds=0, fp="record")
    )
    assert not result.ok, f"forward vs {ref} accepted the loss without its positive term"
    assert f"forward vs {ref}" in result.message, result.message


def test_check_from_the_command_line(capsys: pytest.CaptureFixture[str]) -> None:
    target = f"{ZOO / 'book2_word2vec.py'}:NegativeSamplingLoss"
    ran = crosscheck(capsys, "check", target, "--as", SPEC, "--reference", "fd", "--examples", "8", "-q")
    assert ran.code == 0, ran.out
    assert "references get the samples its sampler returns" in ran.out


@pytest.mark.parametrize(
    ("cls", "says"),
    [
        (W.NegativeSamplingLossOwnGenerator, "does not control"),
        (W.NegativeSamplingLossNoSampler, "has no sampler.get_negative_sample(target)"),
    ],
)
def test_unrecoverable_samples_are_a_usage_error(cls: type, says: str) -> None:
    with pytest.raises(UsageError) as info:
        _adapted(cls)
    assert says in str(info.value) and "negative_sample=" in str(info.value)
