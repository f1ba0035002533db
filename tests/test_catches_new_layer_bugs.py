"""Issue 19's layers: each planted bug rejected for its reason, each correct variant (written
another way: loops, the book's code, cs231n's derivation) accepted by every cell that judges a class.

Bugs a consistent forward and backward share (statistics over the wrong axes) are only visible
against torch: their cells skip, naming the framework, where it is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from layer_crosscheck.properties import get_spec, property_named
from layer_crosscheck.properties.engine.explore import SHRINK_SECONDS, Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell, cells
from tests.helpers import installed
from tests.zoo import norm_layers as N

#: (layer, spec, property, reference, a phrase of the rejection)
BUGS = [
    (N.BrokenLayerNormDgammaAveraged, "layer_norm", "batch", "self", "dgamma of the batch vs the sum"),
    (N.BrokenLayerNormDgammaAveraged, "layer_norm", "fd", "fd", "vs finite differences"),
    (N.BrokenLayerNormDxOffByPPM, "layer_norm", "vjp", "torch", "dx vs torch"),
    (N.BrokenLayerNormDxOffByPPM, "layer_norm", "vjp", "jax", "dx vs jax"),
    (N.BrokenGroupNormPerChannel, "group_norm", "forward", "torch", "forward vs torch"),
    (N.BrokenLeakyReluOneAtZero, "leaky_relu", "fd", "fd", "at a kink"),
]


def _cell(spec: str, prop: str, ref: str) -> Cell:
    return Cell(get_spec(spec), property_named(prop), ref, np.float64)


@pytest.mark.parametrize(
    ("layer", "cell", "says"),
    [
        pytest.param(layer, c, says, id=f"{layer.__name__}-{c.id}", marks=installed(c))
        for layer, spec, prop, ref, says in BUGS
        for c in [_cell(spec, prop, ref)]
    ],
)
def test_rejects_planted_bug(layer: type, cell: Cell, says: str) -> None:
    result = run_cell(cell, layer, Options(60, seed=0, shrink_seconds=0, fp="record"))
    assert not result.ok, f"{cell.id} accepted {layer.__name__}"
    assert says in result.message, result.message


CORRECT: list[tuple[type, str]] = [
    (N.LoopLayerNorm, "layer_norm"),
    (N.BookGroupNorm, "group_norm"),
    (N.WhereLeakyRelu, "leaky_relu"),
]


@pytest.mark.parametrize(
    ("layer", "cell"),
    [
        pytest.param(layer, cell, id=f"{layer.__name__}-{cell.id}", marks=installed(cell))
        for layer, name in CORRECT
        for cell in cells(specs=[get_spec(name)], for_class=True)
    ],
)
def test_accepts_correct_layer(layer: type, cell: Cell) -> None:
    result = run_cell(cell, layer, Options(30, seed=0, shrink_seconds=SHRINK_SECONDS, fp="record"))
    assert result.ok, f"{result.status}: {result.message}"
