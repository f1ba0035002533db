"""The registry of layer specs, by public name (the names ``crosscheck check --as`` accepts)."""

from __future__ import annotations

from properties.spec import LayerSpec

__all__ = ["SPECS", "get_spec", "register"]

SPECS: dict[str, LayerSpec] = {}


def register(spec: LayerSpec) -> LayerSpec:
    """Add a spec; every generic property then runs for it."""
    if spec.name in SPECS:
        raise ValueError(f"a spec named {spec.name!r} is already registered")
    SPECS[spec.name] = spec
    return spec


def get_spec(name: str) -> LayerSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise KeyError(f"unknown spec {name!r}; registered: {', '.join(sorted(SPECS))}") from None
