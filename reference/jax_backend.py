"""JAX autodiff as a judge: spec functions run jitted, on CPU, in float64.

Eager JAX pays ~0.4 s per new shape; a jitted function compiles once per shape and then costs
microseconds, so each (fn, kind, argument names, wrt) is wrapped in ``jax.jit`` once and reused.
jax is imported the first time this reference is asked anything, never at module import.

Nothing here changes jax for the rest of the process: float64 (``jax_enable_x64``) and the CPU
device are scoped to each computation (`JaxReference.computing`), not set in ``os.environ`` or
``jax.config``. A function jitted under x64 is traced, compiled and called under x64 alike.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import types
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from layer_crosscheck.reference.base import (
    BackendUnavailable,
    SpecFn,
    as_reference_arrays,
    check_cotangent,
    check_cotangent_shape,
    check_wrt,
    is_eager,
)
from layer_crosscheck.reference.lazy import LazyBackend
from layer_crosscheck.reference.registry import get_reference

__all__ = ["JaxReference", "enable_persistent_cache", "x64"]

# Bounded so that spec functions made afresh per call (lambdas) cannot grow the cache forever.
_MAX_JITTED = 1024


def x64(jax: types.ModuleType) -> contextlib.AbstractContextManager[Any]:
    """A context enabling ``jax_enable_x64`` in this thread only, restoring the setting on exit.

    Newer jax (0.8 on, by its changelog; 0.10 checked) exports the config state ``jax.enable_x64``,
    called with a value to give a context; older jax (0.4.30 on; 0.6.2 checked) has only
    ``jax.experimental.enable_x64()``, which newer jax removed. Either way the setting is
    thread-local and part of jit's cache key, so what is traced under it must be called under it.
    """
    state = getattr(jax, "enable_x64", None)
    if state is not None:
        return state(True)
    experimental = importlib.import_module("jax.experimental")
    return experimental.enable_x64()


class JaxReference(LazyBackend):
    """``fn(ns, **arrays)`` with ``ns.jax``, ``ns.jnp``, ``ns.nn`` (``jax.nn``) and ``ns.lax``."""

    name = "jax"
    modules = ("jax", "jax.numpy")

    def __init__(self) -> None:
        super().__init__()
        self._jitted: OrderedDict[Hashable, Callable[..., Any]] = OrderedDict()
        self._cpu: Any = None

    def build_namespace(self, *modules: types.ModuleType) -> types.SimpleNamespace:
        jax, jnp = modules
        ns = types.SimpleNamespace(jax=jax, jnp=jnp, nn=jax.nn, lax=jax.lax)
        self._cpu = jax.devices("cpu")[0]
        try:
            with self.computing(ns):
                float64 = jnp.zeros(()).dtype == np.float64
        except AttributeError as exc:  # neither spelling of the x64 context
            raise BackendUnavailable(f"jax {jax.__version__} has no scoped x64 context: {exc}") from exc
        if not float64:
            raise BackendUnavailable(f"jax {jax.__version__} could not enable float64 (x64) in a scope")
        return ns

    @contextlib.contextmanager
    def computing(self, ns: types.SimpleNamespace) -> Iterator[None]:
        """Float64 and the CPU device for this thread while a computation runs, restored after."""
        with x64(ns.jax), ns.jax.default_device(self._cpu):
            yield

    def _compiled(
        self, ns: types.SimpleNamespace, fn: SpecFn, kind: str, names: tuple[str, ...], wrt: tuple[str, ...]
    ) -> Any:
        """The jitted ``kind`` of ``fn``, taking the arrays positionally in ``names`` order.

        Call it within `computing`: it is traced and compiled at its first call, under x64.
        """
        key = (fn, kind, names, wrt)
        jitted = self._jitted.get(key)
        if jitted is not None:
            self._jitted.move_to_end(key)
            return jitted
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
        ns, data = self.namespace(), as_reference_arrays(arrays)
        names = tuple(sorted(data))
        with self.computing(ns):
            if is_eager(fn):
                return self._to_numpy(fn(ns, **data))
            out = self._compiled(ns, fn, "value", names, ())(*(data[k] for k in names))
            return self._to_numpy(out)

    def vjp(
        self, fn: SpecFn, arrays: Mapping[str, Any], wrt: Sequence[str] | str, cotangent: Any
    ) -> dict[str, np.ndarray]:
        ns, data = self.namespace(), as_reference_arrays(arrays)
        wrt_names = check_wrt(wrt, data)
        if not wrt_names:
            check_cotangent(cotangent, self.value(fn, arrays).shape)
            return {}
        names = tuple(sorted(data))
        ct = np.array(cotangent, dtype=np.float64, copy=True)
        with self.computing(ns):
            grads = self._compiled(ns, fn, "vjp", names, wrt_names)(ct, *(data[k] for k in names))
            return {k: self._to_numpy(g) for k, g in zip(wrt_names, grads, strict=True)}

    def jacobian(
        self, fn: SpecFn, arrays: Mapping[str, Any], wrt: Sequence[str] | str
    ) -> dict[str, np.ndarray]:
        ns, data = self.namespace(), as_reference_arrays(arrays)
        wrt_names = check_wrt(wrt, data)
        if not wrt_names:
            return {}
        names = tuple(sorted(data))
        with self.computing(ns):
            jac = self._compiled(ns, fn, "jacobian", names, wrt_names)(*(data[k] for k in names))
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
