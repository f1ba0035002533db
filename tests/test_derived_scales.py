"""Derived tolerances (``Numerics.derive_scales``, properties/engine/scales.py) are no looser than
needed: every spec whose scales are derived still rejects its own layer with ``dx`` one part in a
million off, against each exact reference and against finite differences, in float64.

The specs are read from the registry, so a spec converted to derived scales is covered here without
being listed. A spec differentiating parameters only (an embedding: no ``dx``) has nothing to plant.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from layer_crosscheck.properties import property_named
from layer_crosscheck.properties.engine.explore import Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell
from layer_crosscheck.properties.engine.registry import SPECS
from layer_crosscheck.properties.engine.spec import LayerSpec
from tests.helpers import installed

PPM = 1e-6


def _dx_off_by_ppm(spec: LayerSpec) -> type:
    """``spec``'s own layer (with its ``layer_kwargs``), its first input gradient (``dx``) ``1 + PPM``
    times too large."""

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        super(cls, self).__init__(*args, **{**spec.construction.layer_kwargs, **kwargs})

    def backward(self: Any, *args: Any, **kwargs: Any) -> Any:
        grads = super(cls, self).backward(*args, **kwargs)
        if isinstance(grads, tuple):
            return (grads[0] * (1 + PPM), *grads[1:])
        return grads * (1 + PPM)

    cls = type(f"{spec.layer.__name__}DxOffByPPM", (spec.layer,), {"__init__": init, "backward": backward})
    return cls


def _derived() -> list[LayerSpec]:
    """Specs that derive their scales and differentiate an input through a layer's backward."""
    return [
        s
        for s in SPECS.values()
        if s.numerics.derive_scales and s.kind == "layer" and isinstance(s.layer, type)
        if any(i not in s.constants for i in s.inputs)
    ]


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param(c, id=c.id, marks=installed(c))
        for spec in _derived()
        for prop, ref in (("vjp", "torch"), ("vjp", "jax"), ("fd", "fd"))
        for c in [Cell(spec, property_named(prop), ref, np.float64)]
    ],
)
def test_rejects_dx_off_by_one_ppm(cell: Cell) -> None:
    layer = _dx_off_by_ppm(cell.spec)
    result = run_cell(cell, layer, Options(60, seed=0, shrink_seconds=0, fp="record"))
    assert not result.ok, f"{cell.id} accepted {layer.__name__}"
    wanted = next(i for i in cell.spec.inputs if i not in cell.spec.constants)
    # finite differences judge dx at a kink by the declared convention, which the bug breaks too
    says = (
        ("vs finite differences", "at a kink")
        if cell.reference == "fd"
        else (f"d{wanted} vs {cell.reference}",)
    )
    assert any(s in result.message for s in says), result.message
