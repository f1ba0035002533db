"""Results per shape set: which entries of ``LayerSpec.shapes`` a class runs on.

A learner's Affine written for 2-D input (the book's ``np.dot(x, W)``) raises on the spec's image
batch; judged on every entry, every cell would be ERROR and nothing else would be learnt. So each
entry is first tried once (one example, forward and backward, through the engine's ``explore``),
the entries the class raises on are reported by name, and the cells are judged on the others.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np

from layer_crosscheck.properties.engine import sandbox
from layer_crosscheck.properties.engine.cases import draw_case, draw_dout
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.errors import UsageError
from layer_crosscheck.properties.engine.explore import Draws, describe, first_example
from layer_crosscheck.properties.engine.results import ShapeResult
from layer_crosscheck.properties.engine.spec import Arrays, LayerSpec

__all__ = ["describe_entry", "probe", "restrict", "select", "unreached"]


def describe_entry(spec: LayerSpec, arrays: Arrays) -> str:
    """A readable label for one shape-set entry, from an example of it: each floating input's
    dimensions and shape (``square`` when an image's height equals its width), then the
    hyper-parameters, e.g. ``x: 4-D (2, 1, 6, 6) square; stride=1, pad=0``."""
    parts = []
    for name in spec.described_arrays(arrays):
        a = np.asarray(arrays[name])
        if a.dtype.kind != "f":
            continue
        square = " square" if a.ndim == 4 and a.shape[-1] == a.shape[-2] else ""
        parts.append(f"{name}: {a.ndim}-D {tuple(a.shape)}{square}")
    hyper = ", ".join(f"{k}={np.asarray(arrays[k]).item()}" for k in spec.construction.hyper)
    return "; ".join([", ".join(parts), hyper] if hyper else [", ".join(parts)])


def select(spec: LayerSpec, indices: Sequence[Any] | None) -> tuple[int, ...]:
    """The entries asked for (``--shapes 0,2``; None: all), checked against the spec."""
    n = len(spec.shapes)
    if indices is None:
        return tuple(range(n))
    chosen = set()
    for item in indices:
        try:
            i = int(item)
        except (TypeError, ValueError):
            raise UsageError(f"--shapes {item!r} is not a whole number") from None
        if not 0 <= i < n:
            raise UsageError(
                f"--shapes {i}: spec {spec.name} has shape sets 0 to {n - 1} (see crosscheck list)"
            )
        chosen.add(i)
    if not chosen:
        raise UsageError("--shapes names no shape set")
    return tuple(sorted(chosen))


def _run_once(spec: LayerSpec, cls: Any, dtype: Any, arrays: Arrays, draw: Draws) -> None:
    """Build, forward and backward on one example. Writable copies and no floating-point policy:
    this asks only whether the class takes the shapes; writing into an input, warnings and values
    are the cells' business."""
    copies = {k: np.array(v, copy=True) for k, v in arrays.items()}
    dout = lambda shape: np.array(draw_dout(spec, draw, dtype, shape), copy=True)  # noqa: E731
    driver_for(spec).run_once(cls, copies, dtype, dout)


def probe(
    spec: LayerSpec, cls: Any, dtype: Any = np.float64, selected: Sequence[int] | None = None
) -> list[ShapeResult]:
    """Every entry of ``spec.shapes``, tried on its simplest example (one ``explore``): "runs" or
    "raises" (with the error) for the ``selected`` ones (default all), "not selected" for the rest."""
    chosen = select(spec, selected)

    def body(draw: Draws) -> list[ShapeResult]:
        results = []
        for i, sizes in enumerate(spec.shapes):
            arrays, _ = draw_case(spec, draw, dtype, sizes)
            label = describe_entry(spec, arrays)
            if i not in chosen:
                results.append(ShapeResult(i, label, "not selected"))
                continue
            try:
                _run_once(spec, cls, dtype, arrays, draw)
            except Exception as exc:  # whatever the class raises on these shapes is the finding
                if sandbox.harness_crash(exc):  # not the class's: the harness's own crash
                    raise
                message = " ".join(describe(exc, "error").split())
                results.append(ShapeResult(i, label, "raises", message))
            else:
                results.append(ShapeResult(i, label, "runs"))
        return results

    # an exception escaping is the spec's own draw failing: not the class's doing
    return first_example(body, f"shapes-{spec.name}", fp="ignore")


def restrict(spec: LayerSpec, indices: Sequence[int]) -> LayerSpec:
    """``spec`` drawing from the entries ``indices`` only (the same spec if that is all of them).
    Its fixed ``samples`` are kept: they are small 2-D edge cases, not shape sets."""
    if tuple(indices) == tuple(range(len(spec.shapes))):
        return spec
    return dataclasses.replace(spec, shapes=tuple(spec.shapes[i] for i in indices))


def unreached(spec: LayerSpec, chosen: Sequence[int], running: Sequence[int]) -> list[str]:
    """A note per known hazard (``LayerSpec.hazards``) that a chosen entry reaches but none of the
    entries the class runs on does: checked on those alone, the hazard would go unchecked."""
    notes = []
    for hazard, reaches in spec.hazards.items():
        if any(reaches(spec.shapes[i]) for i in running):
            continue
        only = [i for i in chosen if reaches(spec.shapes[i])]
        if only and running:
            sets = ",".join(str(i) for i in only)
            notes.append(
                f"no shape set it runs on has {hazard}: only shape set(s) {sets}, which it raises on, "
                f"do: spec {spec.name} is not checked with {hazard} here"
            )
    return notes
