"""A layer spec: everything the generic checks need to know about one layer, in one place.

A contributor who adds a layer writes one ``LayerSpec`` (about twenty lines) and registers it;
every generic property then runs for it with no new test code (see CONTRIBUTING.md).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from hypothesis import strategies as st

__all__ = ["Arrays", "Draw", "LayerSpec", "Sizes"]

Arrays = dict[str, np.ndarray]
Sizes = Mapping[str, Any]
Draw = Callable[[st.SearchStrategy[Any]], Any]


def _well_conditioned(arrays: Arrays) -> float:
    return 1.0


@dataclass(frozen=True)
class LayerSpec:
    """How to build, feed and judge one layer.

    ``torch`` and ``jax`` are the layer's pure math written once in each framework's own API,
    as ``fn(ns, **arrays)``; ``ns`` carries the framework modules (``ns.torch``, ``ns.F``;
    ``ns.jax``, ``ns.jnp``, ``ns.nn``, ``ns.lax``), so that a spec imports neither.
    """

    name: str
    layer: Callable[..., Any]
    summary: str
    inputs: tuple[str, ...]
    shapes: tuple[Sizes, ...]
    draw: Callable[[Draw, np.dtype, Sizes], Arrays]
    torch: Callable[..., Any]
    jax: Callable[..., Any]
    params: tuple[str, ...] = ()
    #: inputs that are not differentiated (labels, targets; a network's data)
    constants: tuple[str, ...] = ()
    #: "layer": forward(*inputs)/backward(dout); "net": loss(*inputs)/gradient(*inputs) through `params`
    kind: Literal["layer", "net"] = "layer"
    #: the constructor's positional arguments for a "net", from the drawn parameter arrays
    net_args: Callable[[Arrays], tuple[int, ...]] | None = None
    #: elements within ``margin`` of a point where the layer is not differentiable
    kinks: Callable[[Arrays, float], dict[str, np.ndarray]] | None = None
    #: the gradient the layer's convention prescribes exactly at its kinks: {name: (mask, value)}
    at_kinks: Callable[[Arrays], dict[str, tuple[np.ndarray, float]]] | None = None
    convention: str = ""
    #: the example lies within rounding of a kink at an *intermediate* value (e.g. a hidden
    #: pre-activation): exact references may then legitimately take either side, so it is skipped
    ambiguous: Callable[[Arrays], bool] | None = None
    #: the layer acts on each row (first axis) independently
    row_wise: bool = False
    cond: Callable[[Arrays], float] = _well_conditioned
    #: the size of the terms a gradient is made of, at upstream gradient ``dout``: when the
    #: gradient is smaller than its terms by cancellation, its rounding error is not.
    grad_scale: Callable[[Arrays, np.ndarray], float] | None = None
    init_kwargs: Mapping[str, Any] = field(default_factory=dict)
    dtypes: tuple[type, ...] = (np.float64, np.float32)

    @property
    def wrt(self) -> tuple[str, ...]:
        """The arrays whose gradients the layer must produce: differentiable inputs, then parameters."""
        return tuple(i for i in self.inputs if i not in self.constants) + self.params

    def math(self, backend: str) -> Callable[..., Any]:
        """The spec's function for an autodiff backend ('torch' or 'jax')."""
        return {"torch": self.torch, "jax": self.jax}[backend]

    def describe(self) -> dict[str, Any]:
        """What ``crosscheck list`` shows."""
        return {
            "name": self.name,
            "layer": getattr(self.layer, "__name__", repr(self.layer)),
            "summary": self.summary,
            "inputs": list(self.inputs),
            "params": list(self.params),
            "constants": list(self.constants),
            "shapes": [dict(s) for s in self.shapes],
            "kinks": self.convention or "none (smooth)",
            "dtypes": [np.dtype(t).name for t in self.dtypes],
        }
