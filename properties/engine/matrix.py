"""The conformance matrix: which (spec, property, reference, dtype) cells exist.

Shared by the pytest suite (one test per cell) and the ``crosscheck`` command (one row per spec),
so that both always run the same checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from layer_crosscheck.properties.engine.checks import PROPERTIES, Property
from layer_crosscheck.properties.engine.registry import SPECS
from layer_crosscheck.properties.engine.spec import LayerSpec
from layer_crosscheck.reference import REFERENCE_NAMES, get_reference

__all__ = ["SELF", "Cell", "cells"]

#: the "reference" column of properties that judge a layer against itself
SELF = "self"


@dataclass(frozen=True)
class Cell:
    spec: LayerSpec
    prop: Property
    reference: str
    dtype: Any

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Spec, property, reference and dtype by name (what a ``CellResult`` starts with)."""
        return (self.spec.name, self.prop.name, self.reference, np.dtype(self.dtype).name)

    @property
    def id(self) -> str:
        return "-".join(self.key)

    @property
    def references(self) -> tuple[str, ...]:
        """Every reference the cell computes with."""
        own = () if self.reference == SELF else (self.reference,)
        return own + self.prop.needs

    def unavailable(self) -> str | None:
        """Why the cell cannot run here (a reference not installed, or one the spec declines), or None."""
        reasons = [r for n in self.references if (r := self.spec.missing(n)) is not None]
        reasons += [r for n in self.references if (r := get_reference(n).unavailable()) is not None]
        return "; ".join(reasons) or None

    def __repr__(self) -> str:
        return f"Cell({self.id})"


def cells(
    specs: Iterable[LayerSpec] | None = None,
    references: Sequence[str] = REFERENCE_NAMES,
    dtypes: Sequence[Any] | None = None,
    *,
    for_class: bool = False,
) -> list[Cell]:
    """Every applicable cell, in a stable order; not-applicable properties are left out.

    ``for_class``: the cells that judge somebody's class (not those that judge the spec itself).
    """
    wanted = None if dtypes is None else {np.dtype(d) for d in dtypes}
    out = []
    for spec in specs if specs is not None else SPECS.values():
        spec_dtypes = [d for d in spec.dtypes if wanted is None or np.dtype(d) in wanted]
        for prop in PROPERTIES:
            if prop.applies(spec) is not None or (for_class and prop.judges == "spec"):
                continue
            for ref in prop.references or (SELF,):
                for dtype in spec_dtypes[:1] if prop.judges == "spec" else spec_dtypes:
                    cell = Cell(spec, prop, ref, dtype)
                    if all(r in references for r in cell.references):
                        out.append(cell)
    return out
