"""A weight listed twice in ``params`` (book 2's tied weights, its NegativeSamplingLoss): the
harness adds its ``grads`` entries up before comparing (properties/engine/drivers.py,
``_tied_summed``), so correct tied layers pass and one that drops a contribution fails."""

from __future__ import annotations

import numpy as np
import pytest

from layer_crosscheck.properties import get_spec, property_named
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.explore import SHRINK_SECONDS, Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell, cells
from tests.helpers import installed, one_autodiff
from tests.zoo import tied_params as Z

CORRECT = [(Z.TiedNegativeSamplingLoss, "negative_sampling_loss"), (Z.TiedTransposedMatMul, "matmul")]
BROKEN = [
    (Z.BrokenTiedNegativeSamplingLossDropsPositive, "negative_sampling_loss"),
    (Z.BrokenTiedTransposedMatMulDropsTransposed, "matmul"),
]


def test_tied_entries_are_summed_once() -> None:
    """The driver reads one gradient for the one parameter: the sum of the entries listing it."""
    W = np.arange(6.0).reshape(2, 3)
    layer = Z.TiedTransposedMatMul(W)
    layer.forward(np.ones((1, 2)))
    layer.backward(np.ones((1, 3)))
    grads = driver_for(get_spec("matmul")).param_grads(layer)
    np.testing.assert_array_equal(grads["W"], np.ones((2, 3)))  # x.T @ dout, half from each entry


@pytest.mark.parametrize(
    ("layer", "cell"),
    [
        pytest.param(layer, cell, id=f"{layer.__name__}-{cell.id}", marks=installed(cell))
        for layer, name in CORRECT
        for cell in one_autodiff(cells(specs=[get_spec(name)], for_class=True))
        if np.dtype(cell.dtype) == np.float64
    ],
)
def test_correct_tied_layer_passes(layer: type, cell: Cell) -> None:
    result = run_cell(cell, layer, Options(20, seed=0, shrink_seconds=SHRINK_SECONDS, fp="record"))
    assert result.ok, f"{result.status}: {result.message}"


@pytest.mark.parametrize(("layer", "spec"), BROKEN, ids=[b[0].__name__ for b in BROKEN])
def test_dropped_contribution_fails(layer: type, spec: str) -> None:
    cell = Cell(get_spec(spec), property_named("fd"), "fd", np.float64)
    result = run_cell(cell, layer, Options(40, seed=0, shrink_seconds=0, fp="record"))
    assert not result.ok, f"fd accepted {layer.__name__}"
    assert "vs finite differences" in result.message, result.message
