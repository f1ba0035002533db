"""The harness as a library: check somebody's class against a spec, assert it in a test, replay a
recorded failure. The ``crosscheck`` command and the pytest plugin are built on these."""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np

from layer_crosscheck.properties.engine import sandbox
from layer_crosscheck.properties.engine.cases import draw_case
from layer_crosscheck.properties.engine.chain import chain
from layer_crosscheck.properties.engine.checks import property_named
from layer_crosscheck.properties.engine.conventions import adapt_to, identify
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.errors import InterfaceError, UsageError, did_you_mean
from layer_crosscheck.properties.engine.explore import Options, explore, first_example
from layer_crosscheck.properties.engine.function_pair import FunctionPair, as_layer, audit
from layer_crosscheck.properties.engine.kinds import classify, ordinary
from layer_crosscheck.properties.engine.matrix import SELF, cells
from layer_crosscheck.properties.engine.registry import SPECS, get_spec
from layer_crosscheck.properties.engine.results import CellResult, Run, ShapeResult
from layer_crosscheck.properties.engine.schedule import (
    new_seed,
    resolve_dtypes,
    resolve_references,
    run_cells,
    run_matrix,
)
from layer_crosscheck.properties.engine.shapes import probe, restrict, select, unreached
from layer_crosscheck.properties.engine.spec import LayerSpec
from layer_crosscheck.properties.frontends.hints import find_hints
from layer_crosscheck.properties.frontends.loader import (
    commas,
    load_target,
    one_line,
    target_name,
)
from layer_crosscheck.reference import REFERENCE_NAMES, get_reference

__all__ = ["assert_layer_matches", "check_layer", "check_options", "pending_notes", "preflight", "replay"]

#: notes of passing ``assert_layer_matches`` calls (NumPy floating-point warnings the class gave),
#: until the pytest plugin collects them after each test and shows each once at the end
pending_notes: list[str] = []


def preflight(spec: LayerSpec, cls: Any, dtype: Any = np.float64) -> None:
    """UsageError unless ``cls`` has the spec's methods and takes the spec's calls (build, forward,
    backward) on one drawn example: a class the checks cannot even drive is not a finding. What
    the class's own code raises inside forward or backward is left to the checks."""
    name = getattr(cls, "__name__", repr(cls))
    drv = driver_for(spec)
    methods = drv.methods
    missing = [m for m in methods if not callable(getattr(cls, m, None))]
    if missing:
        raise UsageError(
            f"{name} has no method {' or '.join(missing)}; spec {spec.name} drives {' and '.join(methods)}"
        )
    call = name

    def build(draw: Any) -> None:
        nonlocal call
        arrays, _ = draw_case(spec, draw, dtype)
        call = drv.shown(name, arrays)
        try:
            layer = drv.build(cls, arrays, dtype)
        except InterfaceError as exc:
            raise UsageError(f"{name} cannot be built as spec {spec.name} builds it: {exc}") from None
        try:
            out = drv.forward(layer, arrays)
            if spec.modes.backward and drv.takes_dout:
                dout = np.linspace(-1.0, 2.0, out.size).reshape(out.shape).astype(out.dtype)
                drv.backward(layer, dout, arrays)
        except InterfaceError as exc:
            raise UsageError(str(exc)) from None
        except Exception:  # the class's own failure: a finding for the checks, not for preflight
            pass

    try:
        first_example(build, f"preflight-{spec.name}", fp="record")
    except UsageError:
        raise
    except Exception as exc:
        raise UsageError(
            f"{name} cannot be built as spec {spec.name} builds it, {call}: {one_line(exc)}"
        ) from None


def load_layer(layer: Any) -> Any:
    """The class to check: a class, a ``file.py:Class`` / ``module:Class`` target, or a chain of
    them (a list, or targets joined by commas) composed into one class by ``engine.chain``."""
    if isinstance(layer, str) and "," in layer:
        layer = commas(layer)
    if isinstance(layer, (list, tuple)):
        if len(layer) < 2:
            raise UsageError(f"a chain needs at least two layer classes, got {len(layer)}")
        return chain(*(load_target(x) if isinstance(x, str) else x for x in layer))
    return load_target(layer) if isinstance(layer, str) else layer


def _target(layer: Any, cls: Any) -> str:
    """How the run names what it checked: the user's own words, or an importable ``module:Class``."""
    if isinstance(layer, (list, tuple)):
        return ",".join(x if isinstance(x, str) else target_name(x) for x in layer)
    return layer if isinstance(layer, str) else target_name(cls)


def spec_named(spec: str | LayerSpec) -> LayerSpec:
    """The registered spec ``spec`` names; UsageError for a name that is not registered."""
    if isinstance(spec, LayerSpec):
        return spec
    try:
        return get_spec(spec)
    except KeyError as exc:
        close = did_you_mean(spec, SPECS)  # the close name first, not after forty others
        message = f"unknown spec {spec!r}{close} (see crosscheck list)" if close else exc.args[0]
        raise UsageError(message) from None


def _expect_judges(spec: LayerSpec, refs: Sequence[str], dtypes: Sequence[Any]) -> None:
    """UsageError when none of ``refs`` judges a class against ``spec`` (an optimizer against
    finite differences): a run in which nothing is checked must not read as agreement."""
    work = cells([spec], refs, dtypes, for_class=True)
    if any(all(spec.missing(r) is None for r in c.references) for c in work):
        return
    why = dict.fromkeys(m for c in work for r in c.references if (m := spec.missing(r)) is not None)
    judges = sorted({c.reference for c in cells([spec], for_class=True) if spec.missing(c.reference) is None})
    raise UsageError(
        f"spec {spec.name} has no property judged against {', '.join(refs)}"
        + (f" ({'; '.join(why)})" if why else "")
        + f"; its references: {', '.join(judges)}"
    )


@dataclass
class _Prepared:
    """What a check judges: the class, the spec asked for and the one it is checked with (adapted to
    its interface), the shape sets tried and the spec restricted to those the class runs on."""

    cls: Any
    asked: LayerSpec
    spec: LayerSpec
    note: str | None
    chosen: tuple[int, ...]
    per_shape: list[ShapeResult]
    running: list[int]
    judged: LayerSpec
    dtypes: tuple[np.dtype[Any], ...]
    references: tuple[str, ...]
    pair_notes: list[str] = field(default_factory=list)


def _prepare(layer: Any, spec: str | LayerSpec, options: Options, elsewhere: Sequence[str] = ()) -> _Prepared:
    # the target first: a missing file or class is reported before any reference is resolved
    cls = load_layer(layer)
    s = spec_named(spec)
    if options.settings:
        try:
            s = s.with_settings(options.settings)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    pair_notes: list[str] = []
    if isinstance(cls, FunctionPair):  # CS231n's f_forward/f_backward, driven as a layer
        cls, s, pair_notes = as_layer(cls, s)
    refs, _ = resolve_references(options.references, elsewhere)
    dts = resolve_dtypes(options.dtypes)
    missing = [d.name for d in dts if d not in {np.dtype(t) for t in s.dtypes}]
    if missing:
        raise UsageError(f"spec {s.name} is not defined for {missing[0]}")
    _expect_judges(s, refs, dts)
    asked = s
    s, note = adapt_to(s, cls)
    chosen = select(s, options.shapes)
    per_shape = probe(s, cls, dts[0].type, chosen)
    running = [r.index for r in per_shape if r.status == "runs"]
    # judged on the entries the class runs on; if it runs on none, on all chosen (every cell shows why)
    judged = restrict(s, running or chosen)
    if options.ordinary_only:
        judged = ordinary(judged)
    preflight(judged, cls, dts[0].type)
    return _Prepared(cls, asked, s, note, chosen, per_shape, running, judged, dts, refs, pair_notes)


def _cells_elsewhere(
    reference: str, layer: Any, spec: str, options: Options
) -> tuple[str | None, list[CellResult]] | None:
    """In a spawned process: the cells of ``reference`` of a check, prepared as ``check_layer``
    prepares them (the class loaded from its target, its calls guarded alike), with the same
    options; or the reason the reference cannot run; None if the check cannot be prepared (it then
    raises in its own process)."""
    reason = get_reference(reference).unavailable()  # the framework's import, first and apart
    if reason is not None:
        return reason, []
    others = tuple(n for n in REFERENCE_NAMES if n != reference)  # not imported here: not run here
    with sandbox.isolated(options.call_timeout):
        try:
            p = _prepare(layer, spec, options, others)
        except UsageError:
            return None
        work = cells([p.judged], REFERENCE_NAMES, p.dtypes, for_class=True)
        return None, run_cells([c for c in work if c.reference == reference], p.cls, options)


def _two_processes(layer: Any, spec: Any, options: Options) -> bool:
    """Whether the JAX cells run in a second process, beside this one (torch, finite differences,
    the class's own properties): both references by default, a target the second process can
    load (``file.py:Class`` or ``module:Class``), a registered spec, and a second CPU."""
    target = layer if isinstance(layer, (list, tuple)) else [layer]
    return (
        options.jobs > 1
        and options.references is None
        and isinstance(spec, str)
        and all(isinstance(t, str) for t in target)
        and {"torch", "jax"} <= set(REFERENCE_NAMES)
    )


def check_options(options: Options | None = None, **given: Any) -> Options:
    """``options`` (default: a check's, floating-point warnings recorded, a new seed) with the
    keyword arguments of ``check_layer`` it was called with: any field of :class:`Options`,
    ``strict_fp`` (True: ``fp="raise"``) and ``seed=None`` (a new seed)."""
    known = {f.name for f in fields(Options)} | {"strict_fp"}
    unknown = sorted(set(given) - known)
    if unknown:
        raise TypeError(f"unknown option {unknown[0]!r}; the options are {', '.join(sorted(known))}")
    if "strict_fp" in given:
        given["fp"] = "raise" if given.pop("strict_fp") else "record"
    if given.get("seed", 0) is None:
        del given["seed"]
    return replace(options or Options(seed=new_seed(), fp="record"), **given)


def check_layer(
    layer: Any,
    spec: str | LayerSpec,
    options: Options | None = None,
    *,
    progress: Callable[[int, int, CellResult], None] | None = None,
    **given: Any,
) -> Run:
    """Every property of ``spec`` for somebody's class ``layer``: a class, a ``file.py:Class`` /
    ``module:Class`` target, or a chain of them (``[Softmax, CrossEntropyError]``: forward in order,
    backward in reverse). How: ``options`` (:class:`~properties.engine.explore.Options`), or its
    fields by keyword (``examples=10, references=["fd"], settings={"eps": 1e-6}``; see
    ``check_options``). UsageError if it cannot be done as asked, an interface the spec cannot
    drive included.

    A class that disagrees but follows one of the spec's ``alternatives`` gets ``run.convention``,
    naming it and the flags that check it fully (the run still fails: it disagrees with the spec).
    NumPy floating-point warnings from the class are reported and its values judged
    (``1/(1+np.exp(-x))`` overflows at x = -710 and is still right); ``strict_fp`` fails on them.
    Each chosen shape-set entry (``shapes``: indices) is tried once first (``run.shapes``); the cells
    judge those the class runs on, and one it raises on fails the run without erroring every cell.
    Every call into the class is guarded (``engine.sandbox``): ``sys.exit`` and ``os._exit`` are
    findings, each call has ``call_timeout`` seconds (None: no limit), what it prints is a note,
    nothing is written under the working directory. The harness's own crash is raised, never
    reported as a disagreement. ``jobs`` > 1: a target given as text, checked against both
    autodiff references, has its JAX cells run in a second process started first, so that
    importing and running JAX overlaps importing and running torch here (the results are the
    same); a script that asks for it needs ``if __name__ == "__main__":`` around its calls, as
    every spawned process does."""
    options = check_options(options, **given)
    with sandbox.isolated(options.call_timeout):
        return _check(layer, spec, options, progress)


def _check(
    layer: Any,
    spec: str | LayerSpec,
    options: Options,
    progress: Callable[[int, int, CellResult], None] | None,
) -> Run:
    pool = None
    away = None
    if _two_processes(layer, spec, options):
        pool = multiprocessing.get_context("spawn").Pool(1)  # never fork torch/jax threads
        pending = pool.apply_async(_cells_elsewhere, ("jax", layer, spec, options))

        def away() -> tuple[str | None, list[CellResult]] | None:
            try:
                return pending.get()
            except Exception:  # the second process failed: the cells run here instead
                return None

    try:
        elsewhere = () if away is None else ("jax",)
        p = _prepare(layer, spec, options, elsewhere)
        run = run_matrix([p.judged], options, cls=p.cls, progress=progress, away=away, away_reference="jax")
    finally:
        if pool is not None:
            pool.terminate()  # done, or abandoned on an error: no process is left behind
            pool.join()
    cls, s = p.cls, p.spec
    run.target = _target(layer, cls)
    run.spec = s.name
    run.shapes = p.per_shape
    run.selected = None if options.shapes is None else p.chosen
    run.settings = dict(options.settings)
    run.notes = [*p.pair_notes, *([p.note] if p.note else [])]
    run.results += audit(cls, s)
    _raise_harness_crash(run, p.per_shape)
    run.notes += unreached(s, p.chosen, p.running)
    run.ordinary = options.ordinary_only
    finding = classify(run, p.judged, cls, options)
    run.kind, run.fault, run.kind_why = finding.kind, finding.fault, finding.why
    if not run.ok:
        run.convention = identify(
            p.asked, cls, run, run.target, p.references, p.dtypes[0], run.seed, preflight
        )
    # an audit of a CS231n pair names the convention its values follow instead ("CONVENTION: ...")
    tag = "CONVENTION: "
    named = (r.message.removeprefix(tag) for r in run.failures if r.message.startswith(tag))
    run.convention = run.convention or next(named, None)
    run.hints = find_hints(run, s, cls)
    run.notes += filter(None, [sandbox.output_note()])
    return run


def _raise_harness_crash(run: Run, shapes: Sequence[ShapeResult]) -> None:
    """The first exception of the harness's own code in a cell, raised, when no failure is the
    class's (in a cell or a shape set): the run cannot be a verdict on the class (a bug in
    crosscheck, exit 3)."""
    first = run.failures[0].exception if run.failures else None
    if first is None or not all(s.ok for s in shapes):
        return
    if all(sandbox.harness_crash(r.exception) for r in run.failures):
        raise first


def assert_layer_matches(layer: Any, spec: str, options: Options | None = None, **given: Any) -> None:
    """Assert that ``layer`` (your class) agrees with the registered ``spec`` on every property and
    shape set (or those ``shapes`` picks, by index as ``crosscheck list`` shows them); AssertionError
    with the report ``crosscheck check`` prints, brief (the full one under ``pytest -v``: the
    plugin reads the exception's ``crosscheck_full``). ``references=None``: every installed
    reference (one named but not installed is an error, not a silent pass). ``ordinary_only``:
    ordinary magnitudes only (``--ordinary``: a class fragile only at extreme inputs passes).
    ``options`` and keywords as for ``check_layer``, and ``dtype`` (one, or several). Not for use
    inside a ``@given`` test."""
    __tracebackhide__ = True  # pytest shows the caller's line, not the harness's frames
    if "dtype" in given:
        dtype = given.pop("dtype")
        given["dtypes"] = (dtype,) if isinstance(dtype, (str, type, np.dtype)) else tuple(dtype)
    try:
        run = check_layer(layer, spec, options, **given)
    except UsageError as exc:  # raised afresh here: its traceback stops at the (hidden) frame above
        raise UsageError(str(exc)) from None
    if not run.ok:
        from layer_crosscheck.properties.frontends.failure import run_failure

        raise run_failure(run)
    from layer_crosscheck.properties.frontends.report import class_names

    for w in dict.fromkeys(w for r in run.results for w in r.warnings):
        pending_notes.append(
            f"{class_names(run.target or '?')} gave a NumPy floating-point warning; its values were "
            f"judged all the same (strict_fp=True makes a warning a failure): {w}"
        )


def replay(
    target: Any,
    *,
    spec: str,
    property: str,
    reference: str,
    dtype: str,
    draws: Sequence[Any],
    settings: Mapping[str, Any] | None = None,
) -> None:
    """Run one property once on recorded draws: raises what the check raised, or returns.
    ``target`` (a class, a ``file.py:Class`` / ``module:Class`` string, or a chain of them) is
    driven as ``check_layer`` drives it (``settings``, a spec adapted to its interface)."""
    __tracebackhide__ = True
    s = get_spec(spec).with_settings(settings or {})
    prop = property_named(property)
    dt = np.dtype(dtype).type
    cls = load_layer(target)
    if isinstance(cls, FunctionPair):
        cls, s, _ = as_layer(cls, s)
    s, _ = adapt_to(s, cls)
    ref = None if reference == SELF else get_reference(reference)
    outcome = explore(lambda draw: prop.run(s, cls, ref, draw, dt), replay=draws)
    if outcome.exception is not None:
        raise outcome.exception
