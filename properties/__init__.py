"""The cross-check engine (``properties.engine``), the layer specs (``properties.specs``) and its
front-ends (``properties.frontends``: the ``crosscheck`` command, the pytest plugin, the API).

Importing this package loads nothing: each name below is imported on first use, and the built-in
specs register the first time the registry is read. Neither torch nor jax is imported until a
reference computes something.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "PROPERTIES",
    "SPECS",
    "LayerSpec",
    "Property",
    "assert_layer_matches",
    "check_layer",
    "get_spec",
    "property_named",
    "register",
    "replay",
]

_HOME = {
    "PROPERTIES": "properties.engine.checks",
    "Property": "properties.engine.checks",
    "property_named": "properties.engine.checks",
    "SPECS": "properties.engine.registry",
    "get_spec": "properties.engine.registry",
    "register": "properties.engine.registry",
    "LayerSpec": "properties.engine.spec",
    "assert_layer_matches": "properties.frontends.api",
    "check_layer": "properties.frontends.api",
    "replay": "properties.frontends.api",
}


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module 'properties' has no attribute {name!r}")
    return getattr(importlib.import_module(_HOME[name]), name)


def __dir__() -> list[str]:
    return sorted(__all__)
