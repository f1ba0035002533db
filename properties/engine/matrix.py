"""The conformance matrix: which (spec, property, reference, dtype) cells exist.

Shared by the pytest suite (one test per cell) and the ``crosscheck`` command (one row per spec),
so that both always run the same checks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from properties.engine.checks import PROPERTIES, Property
from properties.engine.registry import SPECS
from properties.engine.spec import LayerSpec

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
    def id(self) -> str:
        return f"{self.spec.name}-{self.prop.name}-{self.reference}-{np.dtype(self.dtype).name}"

    def __repr__(self) -> str:
        return f"Cell({self.id})"


def cells(
    specs: Iterable[LayerSpec] | None = None,
    references: Sequence[str] = ("torch", "jax", "fd"),
    dtypes: Sequence[Any] | None = None,
) -> list[Cell]:
    """Every applicable cell, in a stable order; not-applicable properties are left out."""
    out = []
    for spec in specs if specs is not None else SPECS.values():
        for prop in PROPERTIES:
            if prop.applies(spec) is not None:
                continue
            for ref in prop.references or (SELF,):
                if ref != SELF and ref not in references:
                    continue
                for dtype in spec.dtypes:
                    if dtypes is None or np.dtype(dtype) in {np.dtype(d) for d in dtypes}:
                        out.append(Cell(spec, prop, ref, dtype))
    return out
