"""The registry of layer specs, by public name (the names ``crosscheck check --as`` accepts).

The built-in specs (``properties.specs``) are imported the first time the registry is read, not
when it is imported: ``import properties.engine.tolerances`` stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from layer_crosscheck.properties.engine.spec import LayerSpec

__all__ = ["SPECS", "get_spec", "register", "unregister"]

_registered: dict[str, LayerSpec] = {}


def _load_builtins() -> None:
    # the spec modules register() themselves on import; once imported, this is a sys.modules lookup
    importlib.import_module("layer_crosscheck.properties.specs")


class _Registry(Mapping[str, LayerSpec]):
    """A read-only view of the registered specs that loads the built-in ones on first read."""

    def __getitem__(self, name: str) -> LayerSpec:
        _load_builtins()
        return _registered[name]

    def __iter__(self) -> Iterator[str]:
        _load_builtins()
        return iter(list(_registered))

    def __len__(self) -> int:
        _load_builtins()
        return len(_registered)

    def __repr__(self) -> str:
        return f"SPECS({', '.join(self)})"


SPECS: Mapping[str, LayerSpec] = _Registry()


def register(spec: LayerSpec) -> LayerSpec:
    """Add a spec; every generic property then runs for it."""
    if spec.name in _registered:
        raise ValueError(f"a spec named {spec.name!r} is already registered")
    _registered[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    """Remove a spec (a test's temporary one)."""
    del _registered[name]


def get_spec(name: str) -> LayerSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise KeyError(f"unknown spec {name!r}; registered: {', '.join(sorted(SPECS))}") from None
