"""Other known conventions: how a class that follows one is checked, and told so by name.

A spec drives its class one way (``forward(x, train_flg=True, mask=...)``, eps 1e-5, statistics
per channel); a learner's correct class may follow another known convention (the book's dropout
draws its own mask and does not scale; the book's batch norm normalizes per flattened feature with
eps 1e-6; an AdaGrad with eps inside the root). ``adapt_to`` checks a class that draws what the
spec would hand it; when a class fails, ``identify`` tries the spec's ``alternatives`` on a quick
probe, so the verdict names the convention and the flags under which the class is fully checked,
instead of a bare mismatch; it is named only when that full check passes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from layer_crosscheck.properties.engine.checks import property_named
from layer_crosscheck.properties.engine.drivers import driver_for, takes_keyword
from layer_crosscheck.properties.engine.errors import UsageError
from layer_crosscheck.properties.engine.explore import Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell
from layer_crosscheck.properties.engine.registry import get_spec
from layer_crosscheck.properties.engine.results import Run
from layer_crosscheck.properties.engine.schedule import run_matrix
from layer_crosscheck.properties.engine.shapes import probe
from layer_crosscheck.properties.engine.spec import Alternative, LayerSpec
from layer_crosscheck.reference import get_reference

__all__ = ["PROBE_EXAMPLES", "adapt_to", "identify"]

#: examples per shape in the probe of an alternative (a wrong convention fails at once)
PROBE_EXAMPLES = 5


def adapt_to(spec: LayerSpec, cls: Any) -> tuple[LayerSpec, str | None]:
    """The spec a class is checked with, and a note when it is driven differently: a class whose
    forward lacks one of the spec's keyword inputs (and takes no ``**kwargs``) gets the spec's
    ``adapt`` (if it has one); otherwise the call stays as it is and fails as an interface error."""
    forward = getattr(cls, "forward", None)
    if spec.construction.adapt is None or not callable(forward):
        return spec, None
    if all(takes_keyword(forward, k, unknown=True) for k in spec.construction.keyword_inputs):
        return spec, None
    return spec.construction.adapt(spec, cls)


def _which(spec: LayerSpec, alt: Alternative, alt_spec: LayerSpec) -> str:
    """How the verdict names ``alt``: its convention, and the settings it changes."""
    changed = ", ".join(
        f"{k} = {v:g} instead of {spec.conventions.settings[k]:g}"
        for k, v in alt.settings.items()
        if k in spec.conventions.settings and v != spec.conventions.settings[k]
    )
    if alt.spec == spec.name:
        return f"spec {alt.spec} with {changed}"
    name = alt_spec.conventions.name or f"spec {alt.spec}"
    if changed:
        name += f" with {changed}"
    return f"{name} (spec {alt.spec}), not spec {spec.name}"


def _probe(spec: LayerSpec, cls: Any, reference: str, dtype: Any, seed: int) -> bool:
    """The forward property (an optimizer's: its steps) on every shape of ``spec``, a few examples
    each: the values tell conventions apart (scaling, eps, which axes are normalized)."""
    options = Options(PROBE_EXAMPLES, seed, shrink_seconds=0.0, fp="record")
    prop = property_named(driver_for(spec).values)
    cells = (Cell(replace(spec, shapes=(shape,)), prop, reference, dtype) for shape in spec.shapes)
    return all(run_cell(cell, cls, options).ok for cell in cells)


def _passes_in_full(alt_spec: LayerSpec, cls: Any, run: Run, references: Sequence[str], dtype: Any) -> bool:
    """The rerun the verdict would advise passes: the class runs on every shape set of
    ``alt_spec`` and agrees on every cell (a probe of forward alone passes a class whose backward
    is wrong under every eps)."""
    if not all(r.ok for r in probe(alt_spec, cls, dtype)):
        return False
    usable = [r for r in references if r not in run.unavailable]
    options = Options(run.examples, run.seed, 0.0, "record", references=usable, dtypes=[dtype])
    return run_matrix([alt_spec], options, cls=cls).ok


def identify(
    spec: LayerSpec,
    cls: Any,
    run: Run,
    target: str,
    references: Sequence[str],
    dtype: Any,
    seed: int,
    preflight: Callable[[LayerSpec, Any, Any], None],
) -> str | None:
    """The line naming the first of ``spec``'s alternatives that ``cls`` agrees with on a probe
    (None: none does, or no autodiff reference that judges the spec is available).
    ``preflight(spec, cls, dtype)`` raises UsageError for an alternative the class cannot be driven by."""
    judges = [r for r in references if r in ("torch", "jax") and spec.missing(r) is None]
    if run.ok or not (spec.conventions.alternatives or spec.conventions.settings):
        return None  # no other convention to name (and no framework imported to find out)
    usable = [r for r in judges if get_reference(r).unavailable() is None]
    if not usable:
        return None
    name = getattr(cls, "__name__", repr(cls))
    alternatives = spec.conventions.alternatives
    registered = get_spec(spec.name).conventions.settings
    if dict(registered) != dict(spec.conventions.settings):  # run with --set: the spec's own come first
        alternatives = (Alternative(spec.name, dict(registered)), *alternatives)
    # forward agreed, and every failure was the class raising (never a wrong number)
    forward_ok = all(r.ok for r in run.results if r.prop == "forward")
    only_raised = forward_ok and all(r.status == "error" for r in run.failures)
    # an alternative is told apart by the probed property's values: where they agreed with the
    # spec's, it cannot explain the failure, so it is not probed
    probed = driver_for(spec).values
    values_ok = all(r.ok for r in run.results if r.prop == probed)
    for alt in alternatives:
        if (alt.only_if_raises and not only_raised) or (values_ok and not alt.only_if_raises):
            continue
        try:
            alt_spec, _ = adapt_to(get_spec(alt.spec).with_settings(alt.settings), cls)
            if np.dtype(dtype) not in {np.dtype(t) for t in alt_spec.dtypes}:
                continue
            preflight(alt_spec, cls, np.dtype(dtype).type)
        except (UsageError, ValueError):
            continue
        same = dict(alt_spec.conventions.settings) == dict(spec.conventions.settings)
        if alt_spec.name == spec.name and same:
            continue  # the spec just run: naming it would advise the same command
        dt = np.dtype(dtype).type
        if _probe(alt_spec, cls, usable[0], dt, seed) and _passes_in_full(alt_spec, cls, run, references, dt):
            which = _which(spec, alt, alt_spec)
            return f"{name} follows {which}: rerun with crosscheck check {target} {alt.flags()}"
    return None
