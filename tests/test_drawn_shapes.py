"""Shapes drawn, not listed: a spec with ``drawn_sizes`` draws rank and sizes for torch, finite
differences and the self properties, while JAX (one compilation per shape) keeps its fixed shapes.

The proof: a softmax written for (N, C) input only (tests/zoo/drawn_shapes.py, the book's) passes
the book's ``softmax`` spec and is rejected by ``softmax_nd``, with finite differences alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from properties import get_spec, property_named
from properties.engine.checks import draw_case
from properties.engine.explore import DEFAULT_EXAMPLES, Options, run_cell
from properties.engine.matrix import Cell
from tests.zoo.drawn_shapes import SoftmaxBook2D


def _run(spec: str, prop: str, ref: str, seed: int):  # type: ignore[no-untyped-def]
    cell = Cell(get_spec(spec), property_named(prop), ref, np.float64)
    return run_cell(cell, SoftmaxBook2D, Options(DEFAULT_EXAMPLES, seed=seed, shrink_seconds=0, fp="record"))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_softmax_for_2d_only_is_rejected_when_ranks_are_drawn(seed: int) -> None:
    result = _run("softmax_nd", "fd", "fd", seed)
    assert not result.ok, "fd accepted a softmax that normalises a 3-D input over all its elements"
    assert "vs finite differences" in result.message, result.message


@pytest.mark.parametrize(
    ("prop", "ref"), [("fd", "fd"), ("jacobian", "fd"), ("linearity", "self"), ("batch", "self")]
)
def test_softmax_for_2d_only_passes_the_books_spec(prop: str, ref: str) -> None:
    result = _run("softmax", prop, ref, 0)
    assert result.ok, result.message


def _ranks(fixed_shapes: bool) -> set[int]:
    spec = get_spec("softmax_nd")
    seen: set[int] = set()

    @settings(
        max_examples=60,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(st.data())
    def draw(data: st.DataObject) -> None:
        arrays, sizes = draw_case(spec, data.draw, np.float64, fixed_shapes=fixed_shapes)
        assert arrays["x"].shape == sizes["shape"]
        if fixed_shapes:
            assert sizes in spec.shapes  # JAX: only the listed shapes, each compiled once
        seen.add(arrays["x"].ndim)

    draw()
    return seen


def test_drawn_sizes_cover_every_rank_but_jax_keeps_the_listed_shapes() -> None:
    assert _ranks(fixed_shapes=False) == {1, 2, 3, 4}
    assert _ranks(fixed_shapes=True) == {len(s["shape"]) for s in get_spec("softmax_nd").shapes}


def test_only_jax_cells_keep_the_fixed_shapes() -> None:
    from properties.engine.checks import _fixed_shapes
    from reference import get_reference

    assert _fixed_shapes(get_reference("jax"))
    assert not any(_fixed_shapes(r) for r in (get_reference("torch"), get_reference("fd"), None))
