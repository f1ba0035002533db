"""The judges' common ground: the autodiff `Reference` interface, its error, input handling.

Only numpy and the standard library are imported here; a framework is imported by its backend the
first time it is needed (`reference.registry`), so ``import reference`` stays cheap.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np

__all__ = [
    "BackendUnavailable",
    "Reference",
    "SpecFn",
    "eager",
    "is_eager",
]

#: ``fn(ns, **arrays)``, written once in the framework's own API (``ns.torch``, ``ns.jnp`` ...).
SpecFn = Callable[..., Any]


def eager(fn: SpecFn) -> SpecFn:
    """Mark a spec function to be run eagerly by the jax reference, never jitted: an optimizer's
    trajectory unrolls one step per drawn step count and bakes in each drawn hyper-parameter, so
    jit would compile anew for nearly every example (seconds) where eager dispatch takes
    milliseconds. It is never differentiated, only evaluated."""
    fn.eager = True  # type: ignore[attr-defined]
    return fn


def is_eager(fn: SpecFn) -> bool:
    """Whether ``fn`` (or the function a ``functools.partial`` binds) is marked `eager`."""
    return bool(getattr(getattr(fn, "func", fn), "eager", False))


class BackendUnavailable(RuntimeError):
    """A reference was asked to compute but its framework cannot be used; the message says why.

    Raised instead of returning something plausible, so a missing framework can never pass a check.
    """


class Reference(abc.ABC):
    """An autodiff judge of a layer's derivatives (see docs/ARCHITECTURE.md, "reference/").

    It evaluates and differentiates a *spec function* ``fn(ns, **arrays)`` written in its
    framework's own API; `reference.lazy.LazyBackend` is the base of the real ones. The
    finite-difference judge is not one of these: see `reference.finite_diff.FiniteDifferences`.
    """

    name: str = ""

    @abc.abstractmethod
    def unavailable(self) -> str | None:
        """None if this reference can compute, else a human reason (e.g. how to install it)."""

    @abc.abstractmethod
    def value(self, fn: SpecFn, arrays: Mapping[str, Any]) -> np.ndarray:
        """``fn(ns, **arrays)`` as a float64 array (0-d for a scalar)."""

    @abc.abstractmethod
    def vjp(
        self, fn: SpecFn, arrays: Mapping[str, Any], wrt: Sequence[str], cotangent: Any
    ) -> dict[str, np.ndarray]:
        """Gradient of ``<cotangent, fn(ns, **arrays)>`` w.r.t. each name in ``wrt`` (float64)."""

    @abc.abstractmethod
    def jacobian(self, fn: SpecFn, arrays: Mapping[str, Any], wrt: Sequence[str]) -> dict[str, np.ndarray]:
        """d fn / d arrays[name] for each name in ``wrt``: shape ``out.shape + arrays[name].shape``."""

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"


# ---- input handling shared by the autodiff backends -------------------------------------------


def as_reference_arrays(arrays: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Fresh, writable copies: floats as float64 (the reference is the truth), ints/bools as int64.

    Copies also mean a read-only caller array never reaches a framework that would warn about it.
    """
    out: dict[str, np.ndarray] = {}
    for name, value in arrays.items():
        a = np.asarray(value)
        if a.dtype.kind == "f":
            out[name] = np.array(a, dtype=np.float64, copy=True)
        elif a.dtype.kind in "iub":
            if a.dtype == np.uint64 and a.size and a.max() > np.iinfo(np.int64).max:
                raise ValueError(f"array {name!r} has uint64 values beyond the int64 range")
            out[name] = np.array(a, dtype=np.int64, copy=True)
        else:
            raise TypeError(f"array {name!r} has dtype {a.dtype}; expected floating, integer or bool")
    return out


def check_wrt(wrt: Sequence[str] | str, arrays: Mapping[str, np.ndarray]) -> tuple[str, ...]:
    """``wrt`` as a tuple of distinct names of floating arrays (a lone string means one name)."""
    names = (wrt,) if isinstance(wrt, str) else tuple(wrt)
    if len(set(names)) != len(names):
        raise ValueError(f"wrt has repeated names: {names}")
    for name in names:
        if name not in arrays:
            raise ValueError(f"wrt names {name!r}, which is not among the arrays {sorted(arrays)}")
        dtype = np.asarray(arrays[name]).dtype
        if dtype.kind != "f":
            raise TypeError(f"cannot differentiate w.r.t. {name!r}: dtype {dtype} is not floating")
    return names


def check_cotangent(cotangent: Any, out_shape: tuple[int, ...]) -> np.ndarray:
    """The cotangent as float64, which must have the output's shape (the message names both)."""
    ct = np.array(cotangent, dtype=np.float64, copy=True)
    check_cotangent_shape(ct.shape, out_shape)
    return ct


def check_cotangent_shape(ct_shape: tuple[int, ...], out_shape: tuple[int, ...]) -> None:
    """ValueError naming both shapes unless the cotangent is shaped like the output."""
    if tuple(ct_shape) != tuple(out_shape):
        raise ValueError(f"cotangent has shape {tuple(ct_shape)} but the output has shape {tuple(out_shape)}")
