"""The optimizer property: ``update(params, grads)`` step by step against the framework's optimizer.

An optimizer case holds the initial parameters by name, each step's gradients as ``"<name>@<step>"``
and the hyper-parameters. A class that departs from its spec but follows another known form
exactly is named by the spec's ``alternatives`` (``engine.conventions.identify``), as a layer is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from layer_crosscheck.properties.engine.compare import Errors, Mismatch, compare
from layer_crosscheck.properties.engine.drivers import Driver, takes_keyword
from layer_crosscheck.properties.engine.sandbox import foreign
from layer_crosscheck.properties.engine.spec import Arrays, Draw, LayerSpec
from layer_crosscheck.properties.engine.tolerances import exact_rtol

__all__ = ["GRAD_MARK", "OptimizerDriver", "check_optimizer", "optimizer_layout"]

#: an optimizer case names step t's gradient of parameter p ``"p@t"``
GRAD_MARK = "@"


def optimizer_layout(arrays: Arrays) -> tuple[list[str], int]:
    """An optimizer case's parameter names (in order: those with a step-1 gradient) and number of steps."""
    names = [k for k in arrays if f"{k}{GRAD_MARK}1" in arrays]
    steps = max((int(k.rpartition(GRAD_MARK)[2]) for k in arrays if GRAD_MARK in k), default=0)
    return names, steps


class OptimizerDriver(Driver):
    """An optimizer: ``update(params, grads)`` once per step with the case's gradients.

    ``params`` must be updated in place, as the book does (``params[key] -= ...``): a network's
    layers share those arrays, so a parameter rebound to a new array no longer trains its layer.
    In place, a parameter also keeps its dtype. ``grads`` must only be read."""

    def build(self, cls: Any, arrays: Arrays, dtype: Any) -> Any:
        """The hyper-parameters by keyword; a setting (eps) only if the constructor takes it: the
        book's AdaGrad and Adam hard-code their eps, which the setting then describes."""
        settings = {k: v for k, v in self.spec.settings.items() if takes_keyword(cls, k, unknown=False)}
        return foreign(getattr(cls, "__name__", "?"), cls, **self.init_kwargs(arrays), **settings)

    def run(self, optimizer: Any, arrays: Arrays, dtype: Any) -> list[Arrays]:
        """The parameters after each step (copies), from writable copies of the case's arrays."""
        name = type(optimizer).__name__
        names, steps = optimizer_layout(arrays)
        params = {n: np.array(arrays[n], dtype=dtype, copy=True) for n in names}
        owned = dict(params)
        trajectory = []
        for t in range(1, steps + 1):
            grads = {n: np.array(arrays[f"{n}{GRAD_MARK}{t}"], dtype=dtype, copy=True) for n in names}
            before = {n: g.copy() for n, g in grads.items()}
            returned = foreign(f"{name}.update", optimizer.update, params, grads)
            for n in names:
                if params.get(n) is not owned[n]:
                    raise Mismatch(
                        f"{name}.update rebinds params[{n!r}] to a new array at step {t} instead of "
                        "updating it in place (params[key] -= ...): a network's layers share the "
                        "arrays in params, so a rebound parameter no longer trains its layer"
                    )
                if not np.array_equal(grads[n], before[n], equal_nan=True):
                    raise Mismatch(
                        f"{name}.update wrote into grads[{n!r}] at step {t}; grads must only be read"
                    )
            if set(params) != set(names):
                raise Mismatch(f"{name}.update changed the keys of params at step {t}: {sorted(params)}")
            moved = any(np.any(grads[n] != 0) for n in names)
            if returned is not None and moved and all(np.array_equal(params[n], arrays[n]) for n in names):
                raise Mismatch(
                    f"{name}.update returned {type(returned).__name__} and left params unchanged: "
                    "update(params, grads) must update the arrays in params in place"
                )
            trajectory.append({n: params[n].copy() for n in names})
        return trajectory


def _reference_steps(ref: Any, spec: LayerSpec, arrays: Arrays) -> list[Arrays]:
    """The reference's parameters after each step (row 0: the initial ones), split by name."""
    fn, ref_arrays = spec.bind(ref.name, arrays)
    names, _ = optimizer_layout(ref_arrays)
    sizes = [arrays[n].size for n in names]
    out = [{n: np.asarray(arrays[n], np.float64) for n in names}]
    for row in ref.value(fn, ref_arrays):
        parts = np.split(row, np.cumsum(sizes)[:-1])
        out.append({n: p.reshape(arrays[n].shape) for n, p in zip(names, parts, strict=True)})
    return out


def check_optimizer(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """``update(params, grads)`` for a drawn number of steps agrees with the framework's optimizer
    after every step, every parameter in order (the first departure is the one reported); params
    are updated in place, grads left untouched.

    Errors in a parameter after step t are judged against the largest value it took in steps 0..t
    (the reference's), since each step's rounding is eps times the parameter and the update it adds."""
    from layer_crosscheck.properties.engine.checks import (
        draw_case,  # checks lists this property, so imports us
    )

    arrays, _ = draw_case(spec, draw, dtype)
    drv = OptimizerDriver(spec)
    got = drv.run(drv.build(cls, arrays, dtype), arrays, dtype)
    want = _reference_steps(ref, spec, arrays)
    rtol = exact_rtol(dtype)
    errors = Errors()
    for t, params in enumerate(got, start=1):
        for name, value in params.items():
            scale = max(float(np.max(np.abs(w[name]), initial=0.0)) for w in want[: t + 1])
            what = f"{spec.name} departs from {ref.name}.optim at step {t} of {len(got)}, param {name!r}"
            errors |= compare(value, want[t][name], rtol, scale=scale, dtype=dtype, what=what)
    return errors
