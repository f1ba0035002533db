"""Every generic property, for every registered spec, against every reference, in both dtypes.

One test body; the registry supplies the cases (properties/engine/matrix.py) and the engine runs
each under the loaded Hypothesis profile. A reference whose framework is not installed is a
visible skip, never a pass. Where torch and jax both judge a spec, jax's cells are ``exhaustive``
(``--exhaustive``; tox's py311 environment): torch's cells judge the class, and the ``agreement``
cells the spec's jax math against its torch math, in the default suite.
"""

from __future__ import annotations

import pytest

from layer_crosscheck.properties.engine.explore import run_cell
from layer_crosscheck.properties.engine.matrix import Cell, cells
from layer_crosscheck.properties.frontends.failure import cell_failure
from tests.helpers import installed, second_autodiff


def _marks(cell: Cell) -> list[pytest.MarkDecorator]:
    return installed(cell) + ([pytest.mark.exhaustive] if second_autodiff(cell) else [])


@pytest.mark.parametrize("cell", [pytest.param(c, id=c.id, marks=_marks(c)) for c in cells()])
def test_property(cell: Cell) -> None:
    __tracebackhide__ = True  # the failure names the cell and the layer; this frame adds nothing
    result = run_cell(cell)
    if not result.ok:
        raise cell_failure(result) from result.exception
