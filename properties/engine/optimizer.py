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
#: whose optimizers each reference's column runs
OPTIMIZER_LIBRARY = {"torch": "torch.optim", "jax": "optax"}


def optimizer_layout(arrays: Arrays) -> tuple[list[str], int]:
    """An optimizer case's parameter names (those with a step-1 gradient), sorted, and its number of
    steps. Sorted, not in the case's order: the jax reference receives the arrays by keyword in
    sorted order, and every reference must concatenate its parameters alike."""
    names = sorted(k for k in arrays if f"{k}{GRAD_MARK}1" in arrays)
    steps = max((int(k.rpartition(GRAD_MARK)[2]) for k in arrays if GRAD_MARK in k), default=0)
    return names, steps


def _wants_lists(exc: BaseException) -> bool:
    """Whether what ``update`` raised on dicts says it indexes by position (book 2's
    ``params[i] for i in range(len(params))``): a KeyError of an integer, an IndexError, or a
    TypeError (book 2's ``for param in params`` over a dict gives its keys, strings)."""
    if isinstance(exc, KeyError):
        return bool(exc.args) and isinstance(exc.args[0], int)
    return isinstance(exc, (IndexError, TypeError))


class _FirstUpdateRaised(Exception):
    """``update`` raised at step 1 (carries what it raised), so another container may be tried."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class OptimizerDriver(Driver):
    """An optimizer: ``update(params, grads)`` once per step with the case's gradients.

    ``params`` and ``grads`` are dicts by name (book 1: ``params[key]``); a class whose first
    ``update`` raises on dicts as one that indexes by position does (``_wants_lists``) is run again,
    fresh, on lists in the case's parameter order (book 2: ``params[i]``), and judged on that run;
    if it raises on lists too, a KeyError of an integer reports the lists' error (the class indexes
    by position), anything else the dicts' one.

    ``params`` must be updated in place, as the books do (``params[key] -= ...``): a network's
    layers share those arrays, so a parameter rebound to a new array no longer trains its layer.
    In place, a parameter also keeps its dtype. ``grads`` must only be read."""

    def build(self, cls: Any, arrays: Arrays, dtype: Any) -> Any:
        """The hyper-parameters by keyword; a setting (eps) only if the constructor takes it: the
        book's AdaGrad and Adam hard-code their eps, which the setting then describes."""
        settings = {k: v for k, v in self.spec.settings.items() if takes_keyword(cls, k, unknown=False)}
        return foreign(getattr(cls, "__name__", "?"), cls, **self.init_kwargs(arrays), **settings)

    def trajectory(self, cls: Any, arrays: Arrays, dtype: Any) -> list[Arrays]:
        """The parameters after each step of a fresh instance, on dicts or, for a class that
        indexes by position, on lists."""
        try:
            return self.run(self.build(cls, arrays, dtype), arrays, dtype, first_raises=True)
        except _FirstUpdateRaised as on_dicts:
            if not _wants_lists(on_dicts.error):
                raise on_dicts.error from None
            try:
                return self.run(self.build(cls, arrays, dtype), arrays, dtype, lists=True, first_raises=True)
            except _FirstUpdateRaised as on_lists:
                positional = isinstance(on_dicts.error, KeyError)
                raise (on_lists if positional else on_dicts).error from None

    def run(
        self, optimizer: Any, arrays: Arrays, dtype: Any, *, lists: bool = False, first_raises: bool = False
    ) -> list[Arrays]:
        """The parameters after each step (copies), from writable copies of the case's arrays,
        handed as dicts by name or (``lists``) as lists in the case's order. ``first_raises``:
        what step 1's ``update`` raises comes wrapped in ``_FirstUpdateRaised``."""
        name = type(optimizer).__name__
        names, steps = optimizer_layout(arrays)
        keys: list[Any] = list(range(len(names))) if lists else names
        shown = {k: f"[{k}] ({n!r})" if lists else f"[{n!r}]" for k, n in zip(keys, names, strict=True)}

        def pack(values: list[np.ndarray]) -> Any:
            return values if lists else dict(zip(names, values, strict=True))

        params = pack([np.array(arrays[n], dtype=dtype, copy=True) for n in names])
        owned = [params[k] for k in keys]
        trajectory = []
        for t in range(1, steps + 1):
            grads = pack([np.array(arrays[f"{n}{GRAD_MARK}{t}"], dtype=dtype, copy=True) for n in names])
            before = [grads[k].copy() for k in keys]
            try:
                returned = foreign(f"{name}.update", optimizer.update, params, grads)
            except Exception as exc:
                if first_raises and t == 1:
                    raise _FirstUpdateRaised(exc) from exc
                raise
            if len(params) != len(keys) if lists else set(params) != set(keys):
                what = f"length of params to {len(params)}" if lists else f"keys of params to {list(params)}"
                raise Mismatch(f"{name}.update changed the {what} at step {t}")
            for k, mine, was in zip(keys, owned, before, strict=True):
                if params[k] is not mine:
                    raise Mismatch(
                        f"{name}.update rebinds params{shown[k]} to a new array at step {t} instead of "
                        "updating it in place (params[key] -= ...): a network's layers share the "
                        "arrays in params, so a rebound parameter no longer trains its layer"
                    )
                if not np.array_equal(grads[k], was, equal_nan=True):
                    raise Mismatch(
                        f"{name}.update wrote into grads{shown[k]} at step {t}; grads must only be read"
                    )
            moved = any(np.any(grads[k] != 0) for k in keys)
            if (
                returned is not None
                and moved
                and all(np.array_equal(params[k], arrays[n]) for k, n in zip(keys, names, strict=True))
            ):
                raise Mismatch(
                    f"{name}.update returned {type(returned).__name__} and left params unchanged: "
                    "update(params, grads) must update the arrays in params in place"
                )
            trajectory.append({n: params[k].copy() for k, n in zip(keys, names, strict=True)})
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
    got = drv.trajectory(cls, arrays, dtype)
    want = _reference_steps(ref, spec, arrays)
    rtol = exact_rtol(dtype)
    library = OPTIMIZER_LIBRARY.get(ref.name, ref.name)
    errors = Errors()
    for t, params in enumerate(got, start=1):
        for name, value in params.items():
            scale = max(float(np.max(np.abs(w[name]), initial=0.0)) for w in want[: t + 1])
            what = f"{spec.name} departs from {library} at step {t} of {len(got)}, param {name!r}"
            errors |= compare(value, want[t][name], rtol, scale=scale, dtype=dtype, what=what)
    return errors
