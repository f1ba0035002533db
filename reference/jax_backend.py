"""JAX autodiff as a judge: spec functions run jitted, on CPU, with x64 enabled.

Eager JAX pays ~0.4 s per new shape; a jitted function compiles once per shape and then costs
microseconds, so each (fn, kind, argument names, wrt) is wrapped in ``jax.jit`` once and reused.
jax is imported the first time this reference is asked anything, never at module import.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import types
from collections import OrderedDict
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from reference.base import (
    BackendUnavailable,
    Reference,
    SpecFn,
    as_reference_arrays,
    check_cotangent,
    check_cotangent_shape,
    check_wrt,
    get_reference,
    import_reason,
)

__all__ = ["JaxReference", "enable_persistent_cache"]

# Bounded so that spec functions made afresh per call (lambdas) cannot grow the cache forever.
_MAX_JITTED = 1024


class JaxReference(Reference):
    """``fn(ns, **arrays)`` with ``ns.jax``, ``ns.jnp``, ``ns.nn`` (``jax.nn``) and ``ns.lax``."""

    name = "jax"

    def __init__(self) -> None:
        self._ns: types.SimpleNamespace | None = None
        self._reason: str | None = None
        self._tried = False
        self._jitted: OrderedDict[Hashable, Callable[..., Any]] = OrderedDict()

    def _load(self) -> None:
        if self._tried:
            return
        self._tried = True
        os.environ.setdefault("JAX_PLATFORMS", "cpu")  # before the import: no probing for GPUs
        try:
            jax = importlib.import_module("jax")
            # x64 before any array exists, else jnp silently computes in float32.
            jax.config.update("jax_enable_x64", True)
            jnp = importlib.import_module("jax.numpy")
            if jnp.zeros(()).dtype != np.float64:
                self._reason = "jax could not enable float64 (jax_enable_x64 had no effect)"
                return
        except Exception as exc:  # a broken install must surface as a reason, not a crash later
            self._reason = import_reason("jax", exc)
            return
        self._ns = types.SimpleNamespace(jax=jax, jnp=jnp, nn=jax.nn, lax=jax.lax)

    def unavailable(self) -> str | None:
        """Imports jax once to find out; the reason says how to install it if it is missing."""
        self._load()
        return self._reason

    def _namespace(self) -> types.SimpleNamespace:
        self._require()
        assert self._ns is not None
        return self._ns

    def _compiled(self, fn: SpecFn, kind: str, names: tuple[str, ...], wrt: tuple[str, ...]) -> Any:
        """The jitted ``kind`` of ``fn``, taking the arrays positionally in ``names`` order."""
        key = (fn, kind, names, wrt)
        jitted = self._jitted.get(key)
        if jitted is not None:
            self._jitted.move_to_end(key)
            return jitted
        ns = self._namespace()
        jax = ns.jax
        argnums = tuple(range(len(wrt)))

        def split(args: tuple[Any, ...]) -> tuple[Callable[..., Any], list[Any]]:
            given = dict(zip(names, args, strict=True))
            constants = {k: v for k, v in given.items() if k not in wrt}

            def bound(*diff: Any) -> Any:
                return fn(ns, **constants, **dict(zip(wrt, diff, strict=True)))

            return bound, [given[k] for k in wrt]

        def value(*args: Any) -> Any:
            bound, diff = split(args)
            return bound(*diff)

        def vjp(ct: Any, *args: Any) -> Any:
            bound, diff = split(args)
            out, pullback = jax.vjp(bound, *diff)
            # Shapes are static while tracing: checked once per shape, free afterwards.
            check_cotangent_shape(ct.shape, out.shape)
            return pullback(ct.astype(out.dtype))

        def jacobian(*args: Any) -> Any:
            bound, diff = split(args)
            return jax.jacrev(bound, argnums=argnums)(*diff)

        jitted = jax.jit({"value": value, "vjp": vjp, "jacobian": jacobian}[kind])
        self._jitted[key] = jitted
        if len(self._jitted) > _MAX_JITTED:
            self._jitted.popitem(last=False)
        return jitted

    @staticmethod
    def _to_numpy(a: Any) -> np.ndarray:
        return np.asarray(a).astype(np.float64, copy=True)

    def value(self, fn: SpecFn, arrays: Mapping[str, Any]) -> np.ndarray:
        data = as_reference_arrays(arrays)
        names = tuple(sorted(data))
        out = self._compiled(fn, "value", names, ())(*(data[k] for k in names))
        return self._to_numpy(out)

    def vjp(
        self, fn: SpecFn, arrays: Mapping[str, Any], wrt: Sequence[str] | str, cotangent: Any
    ) -> dict[str, np.ndarray]:
        data = as_reference_arrays(arrays)
        wrt_names = check_wrt(wrt, data)
        if not wrt_names:
            check_cotangent(cotangent, self.value(fn, arrays).shape)
            return {}
        names = tuple(sorted(data))
        ct = np.array(cotangent, dtype=np.float64, copy=True)
        grads = self._compiled(fn, "vjp", names, wrt_names)(ct, *(data[k] for k in names))
        return {k: self._to_numpy(g) for k, g in zip(wrt_names, grads, strict=True)}

    def jacobian(
        self, fn: SpecFn, arrays: Mapping[str, Any], wrt: Sequence[str] | str
    ) -> dict[str, np.ndarray]:
        data = as_reference_arrays(arrays)
        wrt_names = check_wrt(wrt, data)
        if not wrt_names:
            return {}
        names = tuple(sorted(data))
        jac = self._compiled(fn, "jacobian", names, wrt_names)(*(data[k] for k in names))
        return {k: self._to_numpy(j) for k, j in zip(wrt_names, jac, strict=True)}


def enable_persistent_cache(path: str | os.PathLike[str]) -> None:
    """Keep compiled XLA programs in ``path`` across processes (benchmarks; call before compiling).

    The thresholds go to 0 so that even the small, fast-compiling spec functions are cached;
    options an older jax lacks are skipped.
    """
    ref = get_reference("jax")
    reason = ref.unavailable()
    if reason is not None:
        raise BackendUnavailable(reason)
    jax = importlib.import_module("jax")
    jax.config.update("jax_compilation_cache_dir", os.fspath(path))
    for option in (
        "jax_persistent_cache_min_compile_time_secs",
        "jax_persistent_cache_min_entry_size_bytes",
    ):
        with contextlib.suppress(AttributeError, KeyError, ValueError, TypeError):
            jax.config.update(option, 0)
