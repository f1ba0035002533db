"""Every generic property, for every registered spec, against every reference, in both dtypes.

One test body; the registry supplies the cases (see properties/engine/matrix.py). A reference whose
framework is not installed is a visible skip, never a pass.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from properties.engine.matrix import SELF, Cell, cells
from reference import get_reference


def _param(cell: Cell) -> object:
    reason = None if cell.reference == SELF else get_reference(cell.reference).unavailable()
    marks = [pytest.mark.skip(reason=reason)] if reason else []
    return pytest.param(cell, id=cell.id, marks=marks)


@pytest.mark.parametrize("cell", [_param(c) for c in cells()])
@given(data=st.data())
def test_property(cell: Cell, data: st.DataObject) -> None:
    reference = None if cell.reference == SELF else get_reference(cell.reference)
    cell.prop.run(cell.spec, cell.spec.layer, reference, data.draw, cell.dtype)
