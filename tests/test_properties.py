"""Every generic property, for every registered spec, against every reference, in both dtypes.

One test body; the registry supplies the cases (properties/engine/matrix.py) and the engine runs
each under the loaded Hypothesis profile. A reference whose framework is not installed is a
visible skip, never a pass.
"""

from __future__ import annotations

import pytest

from layer_crosscheck.properties.engine.explore import run_cell
from layer_crosscheck.properties.engine.matrix import Cell, cells
from layer_crosscheck.properties.frontends.failure import cell_failure
from tests.helpers import installed


@pytest.mark.parametrize("cell", [pytest.param(c, id=c.id, marks=installed(c)) for c in cells()])
def test_property(cell: Cell) -> None:
    result = run_cell(cell)
    if not result.ok:
        raise cell_failure(result) from result.exception
