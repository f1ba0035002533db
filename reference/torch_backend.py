"""PyTorch autograd as a judge: spec functions run on CPU in float64 through ``torch.autograd``.

torch is imported the first time this reference is asked anything (``unavailable()`` or a
computation), never at module import. ``torch.autograd.grad`` rather than ``torch.func.vjp``:
the same reverse mode, but ``torch.func`` imports ``torch._dynamo`` on its first gradient
(1.8 s of a 3 s ``crosscheck check``, see BENCHMARKS.md).
"""

from __future__ import annotations

import contextlib
import types
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import numpy as np

from layer_crosscheck.reference.base import SpecFn, as_reference_arrays, check_cotangent, check_wrt
from layer_crosscheck.reference.lazy import LazyBackend

__all__ = ["TorchReference"]


class TorchReference(LazyBackend):
    """``fn(ns, **arrays)`` with ``ns.torch`` and ``ns.F`` (``torch.nn.functional``)."""

    name = "torch"
    modules = ("torch", "torch.nn.functional")

    def build_namespace(self, *modules: types.ModuleType) -> types.SimpleNamespace:
        torch, functional = modules
        return types.SimpleNamespace(torch=torch, F=functional)

    @contextlib.contextmanager
    def computing(self, ns: types.SimpleNamespace) -> Iterator[None]:
        """Float64 defaults and one intra-op thread while a spec function runs; both restored after.

        Constants a spec function creates (``torch.tensor(0.5)``) are then float64, like jnp's under
        x64. One thread: reference inputs are small, and on a loaded machine (pytest-xdist workers
        on few cores) torch's thread pool stalls for milliseconds per operation waiting for a
        descheduled thread; one thread measured 5-100x faster there, and no slower on an idle one.
        """
        torch = ns.torch
        dtype, threads = torch.get_default_dtype(), torch.get_num_threads()
        torch.set_default_dtype(torch.float64)
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_default_dtype(dtype)
            torch.set_num_threads(threads)

    def _prepare(
        self, arrays: Mapping[str, Any], wrt: Sequence[str] | str
    ) -> tuple[types.SimpleNamespace, dict[str, Any], tuple[str, ...]]:
        ns = self.namespace()
        data = as_reference_arrays(arrays)
        names = check_wrt(wrt, data)
        tensors = {k: ns.torch.from_numpy(v) for k, v in data.items()}  # fresh copies: writable
        return ns, tensors, names

    @staticmethod
    def _bind(fn: SpecFn, ns: types.SimpleNamespace, tensors: dict[str, Any], names: tuple[str, ...]) -> Any:
        """``fn`` as a function of the ``names`` tensors only; the others are closed-over constants."""
        constants = {k: v for k, v in tensors.items() if k not in names}

        def bound(*diff: Any) -> Any:
            return fn(ns, **constants, **dict(zip(names, diff, strict=True)))

        return bound

    @staticmethod
    def _to_numpy(t: Any) -> np.ndarray:
        return np.array(t.detach().cpu().numpy(), dtype=np.float64, copy=True)

    def value(self, fn: SpecFn, arrays: Mapping[str, Any]) -> np.ndarray:
        ns, tensors, _ = self._prepare(arrays, ())
        with self.computing(ns), ns.torch.no_grad():
            out = self._bind(fn, ns, tensors, ())()
        return self._to_numpy(ns.torch.as_tensor(out))

    def vjp(
        self, fn: SpecFn, arrays: Mapping[str, Any], wrt: Sequence[str] | str, cotangent: Any
    ) -> dict[str, np.ndarray]:
        ns, tensors, names = self._prepare(arrays, wrt)
        if not names:
            check_cotangent(cotangent, self.value(fn, arrays).shape)
            return {}
        bound = self._bind(fn, ns, tensors, names)
        with self.computing(ns), ns.torch.enable_grad():
            diff = [tensors[k].requires_grad_(True) for k in names]
            out = bound(*diff)
            ct = check_cotangent(cotangent, tuple(out.shape))
            grads = self._grad(ns, out, diff, ns.torch.from_numpy(ct).to(out.dtype))
        return {k: self._to_numpy(g) for k, g in zip(names, grads, strict=True)}

    @staticmethod
    def _grad(
        ns: types.SimpleNamespace, out: Any, diff: Sequence[Any], ct: Any, *, keep: bool = False
    ) -> list[Any]:
        """``ct``'s vector-Jacobian product with ``out``, per input; zeros where ``out`` does not
        depend on an input (as ``torch.func.vjp`` gives).

        Taken as the gradient of the scalar ``sum(out * ct)``, whose backward hands ``out`` exactly
        ``ct`` (1 * ct): passing ``ct`` as ``grad_outputs`` instead makes torch import sympy for a
        shape check (1.3 s of a check)."""
        if not out.requires_grad:
            return [ns.torch.zeros_like(d) for d in diff]
        total = (out * ct).sum() if ct is not None else out
        grads = ns.torch.autograd.grad(total, diff, retain_graph=keep, allow_unused=True)
        return [ns.torch.zeros_like(d) if g is None else g for g, d in zip(grads, diff, strict=True)]

    def jacobian(
        self, fn: SpecFn, arrays: Mapping[str, Any], wrt: Sequence[str] | str
    ) -> dict[str, np.ndarray]:
        ns, tensors, names = self._prepare(arrays, wrt)
        if not names:
            return {}
        bound = self._bind(fn, ns, tensors, names)
        with self.computing(ns), ns.torch.enable_grad():
            diff = [tensors[k].requires_grad_(True) for k in names]
            out = bound(*diff)
            flat = out.reshape(-1)
            # one backward per output element, each the gradient of that (scalar) element
            rows = [self._grad(ns, flat[i], diff, None, keep=True) for i in range(flat.numel())]
            jac = [
                ns.torch.stack([r[j] for r in rows]).reshape(tuple(out.shape) + tuple(d.shape))
                if rows
                else ns.torch.zeros(tuple(out.shape) + tuple(d.shape), dtype=d.dtype)
                for j, d in enumerate(diff)
            ]
        return {k: self._to_numpy(j) for k, j in zip(names, jac, strict=True)}
