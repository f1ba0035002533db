"""The cross-check engine (``properties.engine``), the layer specs (``properties.specs``) and its
front-ends (``properties.frontends``: the ``crosscheck`` command, the pytest plugin, the API).

Importing this package loads nothing: each name below is imported on first use, the built-in
specs with it (the engine's registry imports none). Neither torch nor jax is imported until a
reference computes something.
"""

from __future__ import annotations

import importlib
from typing import Any

#: each public name, by the module it is imported from on first use
_HOME = {
    name: module
    for module, names in {
        "layer_crosscheck.properties.engine.checks": ("PROPERTIES", "Property", "property_named"),
        "layer_crosscheck.properties.engine.registry": ("SPECS", "get_spec", "register"),
        "layer_crosscheck.properties.engine.spec": ("LayerSpec",),
        "layer_crosscheck.properties.frontends.api": ("assert_layer_matches", "check_layer", "replay"),
    }.items()
    for name in names
}
__all__ = sorted(_HOME)


def __getattr__(name: str) -> Any:
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    importlib.import_module("layer_crosscheck.properties.specs")  # the built-in specs register
    return getattr(importlib.import_module(_HOME[name]), name)


def __dir__() -> list[str]:
    return __all__
