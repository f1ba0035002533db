"""The references by name, and one cached instance of each, created on first use.

A backend's module is imported only when its reference is first asked for, so ``import reference``
and ``get_reference(...)`` import no framework (the backend imports it when it first computes).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Literal, overload

if TYPE_CHECKING:
    from layer_crosscheck.reference.base import Reference
    from layer_crosscheck.reference.finite_diff import FiniteDifferences

__all__ = ["REFERENCE_NAMES", "get_reference"]

REFERENCE_NAMES: tuple[str, ...] = ("torch", "jax", "fd")

# name -> (module, class); imported on first use so the registry costs nothing at import time.
_BACKENDS: dict[str, tuple[str, str]] = {
    "torch": ("layer_crosscheck.reference.torch_backend", "TorchReference"),
    "jax": ("layer_crosscheck.reference.jax_backend", "JaxReference"),
    "fd": ("layer_crosscheck.reference.finite_diff", "FiniteDifferences"),
}
_INSTANCES: dict[str, Reference | FiniteDifferences] = {}


@overload
def get_reference(name: Literal["fd"]) -> FiniteDifferences: ...
@overload
def get_reference(name: Literal["torch", "jax"]) -> Reference: ...
@overload
def get_reference(name: str) -> Reference | FiniteDifferences: ...
def get_reference(name: str) -> Reference | FiniteDifferences:
    """The cached reference called ``name`` ("torch", "jax" or "fd"); imports no framework."""
    if name not in _BACKENDS:
        raise ValueError(f"unknown reference {name!r}; known references: {', '.join(REFERENCE_NAMES)}")
    if name not in _INSTANCES:
        module_name, class_name = _BACKENDS[name]
        cls = getattr(importlib.import_module(module_name), class_name)
        _INSTANCES[name] = cls()
    return _INSTANCES[name]
