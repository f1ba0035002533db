"""The registry of layer specs, by public name (the names ``crosscheck check --as`` accepts).

The engine imports no specs: the spec modules register into it when they are imported, and the
front-ends import the built-in ones (``properties.specs``), as ``properties.SPECS`` does.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from types import MappingProxyType

from layer_crosscheck.properties.engine.spec import LayerSpec

__all__ = [
    "ALIASES",
    "SPECS",
    "get_spec",
    "modules_of",
    "normalised",
    "register",
    "spec_for_name",
    "unregister",
]

_registered: dict[str, LayerSpec] = {}
#: the module each spec was registered from, which registers it again when imported (a worker)
_modules: dict[str, str] = {}
#: the registered specs, read-only, in the order they were registered
SPECS: Mapping[str, LayerSpec] = MappingProxyType(_registered)


def register(spec: LayerSpec) -> LayerSpec:
    """Add a spec; every generic property then runs for it."""
    if spec.name in _registered:
        raise ValueError(f"a spec named {spec.name!r} is already registered")
    _registered[spec.name] = spec
    _modules[spec.name] = sys._getframe(1).f_globals.get("__name__", "")
    return spec


def modules_of(names: Iterable[str]) -> tuple[str, ...]:
    """The modules that registered the specs ``names``, in the order they registered (a spawned
    worker imports them to have those specs)."""
    wanted = set(names)
    return tuple(dict.fromkeys(m for n, m in _modules.items() if n in wanted))


def unregister(name: str) -> None:
    """Remove a spec (a test's temporary one)."""
    del _registered[name]
    _modules.pop(name, None)


def get_spec(name: str) -> LayerSpec:
    try:
        return SPECS[name]
    except KeyError:
        raise KeyError(f"unknown spec {name!r}; registered: {', '.join(sorted(SPECS))}") from None


#: other class names for a registered spec's layer, as learners and frameworks name it (whole-file
#: mode matches them like the layer's own class name): one table, so a spec's variants made with
#: ``replace`` (``batch_norm_eval``) inherit none
ALIASES: Mapping[str, str] = {
    "Mul": "mul",
    "Multiply": "mul",
    "Add": "add",
    "Linear": "affine",
    "Dense": "affine",
    "FullyConnected": "affine",
    "SoftmaxLoss": "softmax_with_loss",
    "SoftmaxCrossEntropy": "softmax_with_loss",
    "Conv": "convolution",
    "Conv2d": "convolution",
    "Convolution2D": "convolution",
    "MaxPooling": "pooling",
    "MaxPool": "pooling",
    "MaxPool2d": "pooling",
    "Pool": "pooling",
    "BatchNorm": "batch_norm",
    "BatchNorm1d": "batch_norm",
    "BatchNorm2d": "batch_norm",
    "SigmoidLoss": "sigmoid_with_loss",
    "Adam": "adam",  # the book's Adam (impl's class of that name is torch's convention, adam_torch)
}


def normalised(name: str) -> str:
    """A class name as whole-file mode compares it: ``ReLU``, ``relu`` and ``Re_lu`` are one name."""
    return name.replace("_", "").lower()


def spec_for_name(name: str) -> LayerSpec | None:
    """The spec a class called ``name`` is checked against when a whole file is: the one
    ``ALIASES`` names, else, of the specs whose layer class has that name, the one named like the
    class, or the one with the shortest name: a layer's base spec, which its variants' names extend
    (``dropout``, not ``dropout_eval`` or ``dropout_book``); None if none."""
    key = normalised(name)
    alias = next((spec for a, spec in ALIASES.items() if normalised(a) == key), None)
    if alias is not None:
        return get_spec(alias)
    named = [s for s in SPECS.values() if normalised(getattr(s.layer, "__name__", "")) == key]
    same = [s for s in named if normalised(s.name) == key]  # SoftmaxWithLoss: softmax_with_loss
    return same[0] if same else min(named, key=lambda s: len(s.name), default=None)
