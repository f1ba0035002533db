"""Three kinds of finding, told apart: a class that fails a spec may be wrong in the ordinary
range (DISAGREES), right there and wrong only at the extreme magnitudes the strategies draw on
purpose (FRAGILE: the log of an underflowed probability), or right everywhere except exactly at
the spec's kinks and ties, where it follows another convention (CONVENTION: ReLU's gradient at 0,
the full dout to every tied maximum). Which method is at fault (forward or backward) is said too.

The evidence: the failing cells are judged again on variants of the spec, one drawing only
ordinary magnitudes (``ordinary``) and one comparing nothing at a kink (``away_from_kinks``). Only
a class that passes a variant is given its kind; the shrunk failing examples must agree (an
example that is ordinary and away from every kink is a wrong number in the ordinary range).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.checks import property_named
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.explore import Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell
from layer_crosscheck.properties.engine.results import Case, CellResult, Run
from layer_crosscheck.properties.engine.spec import Arrays, LayerSpec, Sample, revise

__all__ = ["Finding", "Kind", "away_from_kinks", "classify", "fault_of", "ordinary"]

Kind = Literal["agrees", "disagrees", "fragile", "convention"]


@dataclass(frozen=True)
class Finding:
    """The kind of a run's finding, the method at fault (``"backward"``) and, for the verdict,
    what the kind rests on."""

    kind: Kind
    fault: str | None = None
    why: str = ""


def _largest(values: Iterable[Any]) -> float:
    """The largest magnitude among the floating arrays (NaN left out; inf counts)."""
    sizes = [0.0]
    for v in values:
        a = np.asarray(v)
        if a.dtype.kind == "f" and a.size:
            finite_or_inf = a[~np.isnan(a)]
            sizes.append(float(np.max(np.abs(finite_or_inf), initial=0.0)))
    return max(sizes)


def _sample_arrays(sample: Sample, settings: Mapping[str, float]) -> Arrays:
    arrays = {
        k: np.asarray(v, np.float64 if np.asarray(v).dtype.kind == "f" else None)
        for k, v in sample.arrays.items()
    }
    return {**arrays, **{k: np.asarray(v) for k, v in settings.items()}}


def _binding(spec: LayerSpec) -> tuple[Sample, ...]:
    """The samples that bind a class brought to be checked (a convention sample binds only the
    spec's own layer, and the variants judge only brought classes)."""
    return tuple(s for s in spec.edges.samples if s.convention is None)


def ordinary(spec: LayerSpec) -> LayerSpec:
    """``spec`` drawing only ordinary magnitudes (``strategies.ordinary_range``), without its fixed
    samples beyond the ordinary range (float32's bound, the smaller: samples serve every dtype)."""

    def draw(d: Any, dtype: np.dtype, sizes: Any) -> Arrays:
        with S.ordinary_range():
            return spec.draw(d, dtype, sizes)

    bound = S.ordinary_bound(np.float32)
    kept = tuple(s for s in _binding(spec) if _largest([*s.arrays.values(), s.dout]) <= bound)
    return revise(spec, draw=draw, edges={"samples": kept})


def _has_kink(spec: LayerSpec, arrays: Arrays) -> bool:
    if spec.kinks.at is None:
        return False
    try:
        return any(np.any(m) for m in spec.kinks.at(arrays, 0.0).values())
    except Exception:  # a sample or case the hook cannot read: not known to be away from kinks
        return True


def away_from_kinks(spec: LayerSpec) -> LayerSpec:
    """``spec`` comparing nothing exactly at a kink or tie: no reference is taken to follow the
    convention there (the gradients at ``kinks(arrays, 0)`` are left out on both sides), no
    convention is required, and the fixed samples that sit on a kink are dropped."""
    if spec.kinks.at is None:
        return spec
    settings = spec.conventions.settings
    kept = tuple(s for s in _binding(spec) if not _has_kink(spec, _sample_arrays(s, settings)))
    return revise(spec, kinks={"references": (), "gradient": None}, edges={"samples": kept})


def _raised_in(r: CellResult) -> str | None:
    """The function a failing cell's class raised in (``describe``'s "(at file:line in forward)")."""
    found = re.search(r" in (\w+)\)$", r.message) if r.status == "error" else None
    return found.group(1) if found else None


def fault_of(spec: LayerSpec, failures: list[CellResult]) -> str:
    """The method at fault: forward (a network's ``loss``) when a forward value disagrees, else
    backward (``gradient``); an optimizer's ``update``: the driver's first or last method."""
    forward = any(
        r.prop == "forward" or ": forward vs" in r.message or _raised_in(r) in ("forward", "loss")
        for r in failures
    )
    methods = driver_for(spec).methods
    return methods[0] if forward else methods[-1]


def _still_failing(
    spec: LayerSpec, cls: Any, failures: list[CellResult], options: Options
) -> list[CellResult]:
    """The failing cells judged again on ``spec`` (a variant): those that fail there too."""
    out = []
    for r in failures:
        prop = property_named(r.prop)
        if prop.applies(spec) is not None:  # e.g. no sample left: nothing to fail
            continue
        dtype = next(t for t in spec.dtypes if np.dtype(t).name == r.dtype)
        again = run_cell(Cell(spec, prop, r.reference, dtype), cls, options)
        if not again.ok:
            out.append(again)
    return out


def _representatives(failures: list[CellResult]) -> list[CellResult]:
    """The failures worth judging again: every disagreement, but an error that the class raised
    alike (same message) in several cells only once, as it is shrunk once (``run_cells``)."""
    seen: set[str] = set()
    out = []
    for r in failures:
        if r.status == "error":
            if r.message in seen:
                continue
            seen.add(r.message)
        out.append(r)
    return out


def _case_arrays(case: Case | None) -> list[Any]:
    return [] if case is None else [*case.arrays.values(), case.dout]


def classify(run: Run, spec: LayerSpec, cls: Any, options: Options) -> Finding:
    """The kind of ``run``'s finding for ``cls`` judged by ``spec`` (the spec the cells ran on),
    the failing cells run again with ``options``, unshrunk."""
    failures = run.failures
    if not failures:
        return Finding("agrees" if run.ok else "disagrees")
    fault = fault_of(spec, failures)
    if not driver_for(spec).told_apart:
        return Finding("disagrees", fault)
    options = replace(options, shrink_seconds=0.0)
    cases = [r.case for r in failures if r.case is not None]
    bound = min(S.ordinary_bound(np.dtype(r.dtype)) for r in failures)
    extreme = any(_largest(_case_arrays(c)) > bound for c in cases)
    kinked = any(_has_kink(spec, c.arrays) for c in cases)
    plain = [c for c in cases if _largest(_case_arrays(c)) <= bound and not _has_kink(spec, c.arrays)]
    if plain or not (extreme or kinked):
        return Finding("disagrees", fault, "a failing example is ordinary and at no kink")
    failures = _representatives(failures)  # only the judging again is per distinct failure
    wrong = _still_failing(ordinary(away_from_kinks(spec)), cls, failures, options)
    if wrong:
        return Finding("disagrees", fault_of(spec, wrong), "it fails on ordinary inputs away from kinks")
    if kinked and not _still_failing(away_from_kinks(spec), cls, failures, options):
        kink = spec.kinks.name or "the spec's kinks"
        return Finding("convention", fault, f"{kink} (the spec's convention: {spec.kinks.convention})")
    if extreme and not _still_failing(ordinary(spec), cls, failures, options):
        return Finding("fragile", fault, f"|values| <= {bound:g}")
    # right only on ordinary inputs away from kinks: fragile, and off at kinks too
    return Finding("fragile", fault, f"|values| <= {bound:g}, away from kinks")
