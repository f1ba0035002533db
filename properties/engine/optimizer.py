"""The optimizer property: ``update(params, grads)`` step by step against the framework's optimizer.

An optimizer case holds the initial parameters by name, each step's gradients as ``"<name>@<step>"``
and the hyper-parameters. A class that departs from its spec but follows another known form
exactly is named by the spec's ``alternatives`` (``engine.conventions.identify``), as a layer is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from layer_crosscheck.properties.engine.cases import draw_case
from layer_crosscheck.properties.engine.compare import Errors, compare
from layer_crosscheck.properties.engine.drivers import OptimizerDriver
from layer_crosscheck.properties.engine.spec import Arrays, Draw, LayerSpec, optimizer_layout
from layer_crosscheck.properties.engine.tolerances import exact_rtol

__all__ = ["check_optimizer"]

#: whose optimizers each reference's column runs
OPTIMIZER_LIBRARY = {"torch": "torch.optim", "jax": "optax"}


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
