"""A forward that returns several arrays (LSTM: ``h_next, c_next``), carried as one array.

A spec that declares ``outputs`` has its layer's forward, and its torch and jax math, return one
array per name, all of one shape; the engine stacks them on a new last axis, so every property
(its drawn cotangent, Jacobian rows, batch rows, finite differences) applies unchanged, with a
drawn cotangent for every output. The layer's backward is handed the slices back, one upstream
gradient per output (``backward(dh_next, dc_next)``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import numpy as np

__all__ = ["pairs", "split", "stack", "stacked_math"]


class Outputs(Protocol):
    """What these functions read of a spec: its name and its outputs' names (a protocol, so that
    this module, which spec.py imports, needs nothing of spec.py)."""

    @property
    def name(self) -> str: ...

    @property
    def outputs(self) -> tuple[str, ...]: ...


def stack(spec: Outputs, value: Any, owner: str, error: Callable[[str], Exception]) -> np.ndarray:
    """The class's outputs as one array; ``error(message)`` when it returned the wrong number of
    arrays or arrays of different shapes (naming each output and its shape)."""
    names = spec.outputs
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        got = f"{len(value)} values" if isinstance(value, (tuple, list)) else type(value).__name__
        raise error(f"{owner}.forward returned {got}; the {spec.name} spec expects ({', '.join(names)})")
    parts = [np.asarray(v) for v in value]
    if len({p.shape for p in parts}) > 1:
        shapes = ", ".join(f"{n} {p.shape}" for n, p in zip(names, parts, strict=True))
        raise error(f"{owner}.forward returned outputs of different shapes: {shapes}")
    return np.stack(parts, axis=-1)


def split(spec: Outputs, dout: np.ndarray) -> list[np.ndarray]:
    """The upstream gradient of each output (read-only views when ``dout`` is read-only)."""
    if not spec.outputs:
        return [dout]
    return [dout[..., i] for i in range(len(spec.outputs))]


def pairs(spec: Outputs, got: np.ndarray, want: np.ndarray) -> Iterator[tuple[str, np.ndarray, np.ndarray]]:
    """(`` name``, got, want) per output, for messages that name the output that differs; one
    pair named ``""`` for a single output, or when the shapes do not fit the stacking."""
    n = len(spec.outputs)
    if not n or np.shape(got) != np.shape(want) or np.ndim(want) == 0 or np.shape(want)[-1] != n:
        yield "", got, want
        return
    for i, name in enumerate(spec.outputs):
        yield f" {name}", got[..., i], want[..., i]


@functools.cache
def stacked_math(backend: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    """``fn``'s tuple of outputs stacked on a last axis in ``backend``'s own API; cached, so the
    JAX reference, which compiles once per function object, compiles once."""
    if backend == "torch":
        return lambda ns, **a: ns.torch.stack(tuple(fn(ns, **a)), dim=-1)
    return lambda ns, **a: ns.jnp.stack(tuple(fn(ns, **a)), axis=-1)
