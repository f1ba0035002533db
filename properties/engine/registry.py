"""The registry of layer specs, by public name (the names ``crosscheck check --as`` accepts).

The built-in specs (``properties.specs``) are imported the first time the registry is read, not
when it is imported: ``import properties.engine.tolerances`` stays cheap.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterator, Mapping

from layer_crosscheck.properties.engine.spec import LayerSpec

__all__ = ["ALIASES", "SPECS", "get_spec", "normalised", "register", "spec_for_name", "unregister"]

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
