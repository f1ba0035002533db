"""A network that disagrees with its spec: which of its layers is at fault.

A net's check says only that its loss or gradients are off. The book's nets (TwoLayerNet,
MultiLayerNet, SimpleConvNet, book 2's models) hold their layers in a dict or list plus a loss
layer, so the net is built as its spec builds it, its layers are read off the instance, and each
layer class is checked on its own against the spec its name matches, as a standalone check would.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.explore import example_cases
from layer_crosscheck.properties.engine.results import Run
from layer_crosscheck.properties.engine.spec import LayerSpec
from layer_crosscheck.properties.frontends.loader import UsageError

__all__ = ["LOSS_ATTRIBUTES", "LayerVerdict", "diagnose", "layers_of", "summary"]

#: where the book (``lastLayer``), impl (``last_layer``) and book 2 (``loss_layer``) keep the loss
LOSS_ATTRIBUTES = ("lastLayer", "last_layer", "loss_layer")


@dataclass
class LayerVerdict:
    """One layer class of a net: the net's names for its instances, the spec its name matches
    (None: no spec), the run of its own check, or why it could not be checked."""

    cls: Any
    names: list[str] = field(default_factory=list)
    spec: LayerSpec | None = None
    run: Run | None = None
    error: str = ""

    @property
    def faulty(self) -> bool:
        return bool(self.error) or (self.run is not None and not self.run.ok)


def layers_of(net: Any) -> list[tuple[str, Any]]:
    """The net's layers by the names it gives them (``layers`` as a dict, or ``layers[i]`` of a
    list), then its loss layer, each instance once."""
    store = getattr(net, "layers", None)
    if isinstance(store, Mapping):
        found = [(str(k), v) for k, v in store.items()]
    elif isinstance(store, (list, tuple)):
        found = [(f"layers[{i}]", v) for i, v in enumerate(store)]
    else:
        found = []
    for attr in LOSS_ATTRIBUTES:
        try:
            layer = getattr(net, attr, None)
        except Exception:  # a property of the user's that raises: that attribute holds no layer
            continue
        if layer is not None and all(layer is not other for _, other in found):
            found.append((attr, layer))
    return found


def diagnose(
    spec: LayerSpec,
    cls: Any,
    spec_of: Callable[[Any, str], LayerSpec | None],
    check: Callable[[Any, LayerSpec], Run],
) -> list[LayerVerdict]:
    """Each layer class of a net built as ``spec`` builds it (its first example), in the order the
    net holds them, with ``check(layer_cls, layer_spec)``'s run; empty if the net holds no
    layers it exposes. ``spec_of(cls, name)`` matches a layer class to its spec."""
    try:
        net = driver_for(spec).build(cls, example_cases(spec)[0], np.float64)
    except Exception:  # the user's constructor raised: the net's own check has said so already
        return []
    verdicts: dict[Any, LayerVerdict] = {}
    for name, layer in layers_of(net):
        verdicts.setdefault(type(layer), LayerVerdict(type(layer))).names.append(name)
    for v in verdicts.values():
        v.spec = spec_of(v.cls, v.cls.__name__)
        if v.spec is None:
            continue
        try:
            v.run = check(v.cls, v.spec)
        except UsageError as exc:  # the layer alone cannot be driven as its spec drives it
            v.error = f"could not be checked: {exc}"
    return list(verdicts.values())


def _names(v: LayerVerdict) -> str:
    return ", ".join(f"'{n}'" for n in v.names)


def summary(verdicts: list[LayerVerdict], reason: Callable[[Run], str]) -> str:
    """One line: each faulty layer with its first reason (the first named first), then those that agree."""
    faulty = [
        f"layer {_names(v)} ({v.cls.__name__}): "
        + (reason(v.run).removeprefix(f"{v.cls.__name__}.") if v.run is not None else v.error)
        for v in verdicts
        if v.faulty
    ]
    agree = [_names(v) for v in verdicts if v.run is not None and v.run.ok]
    unmatched = [f"{_names(v)} ({v.cls.__name__})" for v in verdicts if v.spec is None]
    parts = faulty + ([f"{', '.join(agree)} agree"] if agree else [])
    parts += [f"no spec for {', '.join(unmatched)}"] if unmatched else []
    return "; ".join(parts)
