"""Shapes drawn, not listed: a spec with ``drawn_sizes`` draws rank and sizes for torch, finite
differences and the self properties, while JAX (one compilation per shape) keeps its fixed shapes.

The proof: a softmax written for (N, C) input only (tests/zoo/drawn_shapes.py, the book's) passes
the book's ``softmax`` spec and is rejected by ``softmax_nd``, with finite differences alone.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import strategies as st

from layer_crosscheck.properties import get_spec, property_named
from layer_crosscheck.properties.engine.cases import draw_case
from layer_crosscheck.properties.engine.explore import DEFAULT_EXAMPLES, Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell
from tests.helpers import draws
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


LISTED_RANKS = {len(sizes["shape"]) for sizes in get_spec("softmax_nd").shapes}


@pytest.mark.parametrize(("fixed_shapes", "ranks"), [(False, {1, 2, 3, 4}), (True, LISTED_RANKS)])
def test_drawn_sizes_cover_every_rank_but_jax_keeps_the_listed_shapes(
    fixed_shapes: bool, ranks: set[int]
) -> None:
    spec = get_spec("softmax_nd")

    @st.composite
    def case(draw: st.DrawFn) -> tuple[dict[str, np.ndarray], dict[str, object]]:
        return draw_case(spec, draw, np.float64, fixed_shapes=fixed_shapes)

    cases = draws(case(), 60)
    assert all(arrays["x"].shape == sizes["shape"] for arrays, sizes in cases)
    # JAX: only the listed shapes, each compiled once
    assert not fixed_shapes or all(sizes in spec.shapes for _, sizes in cases)
    assert {arrays["x"].ndim for arrays, _ in cases} == ranks


def test_only_jax_cells_keep_the_fixed_shapes() -> None:
    from layer_crosscheck.properties.engine.checks import _fixed_shapes
    from layer_crosscheck.reference import get_reference

    assert _fixed_shapes(get_reference("jax"))
    assert not any(_fixed_shapes(r) for r in (get_reference("torch"), get_reference("fd"), None))
