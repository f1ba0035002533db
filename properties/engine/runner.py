"""Run the properties programmatically under Hypothesis and collect what the matrix shows.

Shared by ``crosscheck report``, ``crosscheck check``, :func:`assert_layer_matches` and the pytest
plugin. Every draw of a run is recorded, so a failure can be replayed exactly, with no search
(:func:`replay`, what the printed reproduction snippet calls).
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import random
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, seed, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, Unsatisfiable, UnsatisfiedAssumption
from hypothesis.reporting import with_reporter

from properties.engine.checks import PROPERTIES, LastCase, check_spec_agreement, draw_case, property_named
from properties.engine.compare import Errors
from properties.engine.drivers import driver_for
from properties.engine.matrix import SELF, Cell, cells
from properties.engine.registry import get_spec
from properties.engine.spec import Arrays, Draw, LayerSpec
from properties.frontends.loader import UsageError, load_target
from reference import REFERENCE_NAMES, get_reference

__all__ = [
    "AGREEMENT",
    "ERRSTATE",
    "Case",
    "CellResult",
    "Run",
    "UsageError",
    "assert_layer_matches",
    "check_layer",
    "replay",
    "run_matrix",
]

#: the property name of the spec's own torch-vs-jax check, and its "reference"
AGREEMENT = "agreement"
BOTH = "torch=jax"
#: the test suite's floating-point policy (tests/conftest.py): overflow, division by zero and
#: invalid operations are failures; underflow to zero is the correctly rounded result.
ERRSTATE: dict[str, Any] = {"over": "raise", "divide": "raise", "invalid": "raise", "under": "ignore"}
DEFAULT_EXAMPLES = 25
#: how long one failing cell may spend shrinking its example before settling for the smallest so far
SHRINK_SECONDS = 10.0

Status = Literal["pass", "fail", "error", "vacuous", "skip", "n/a"]
OK_STATUSES = ("pass", "skip", "n/a")

_HEALTH = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
]


@dataclass
class Case:
    """The (shrunk) failing example: what the check saw, and every draw to replay it."""

    arrays: Arrays
    dout: np.ndarray | None
    draws: list[Any]


@dataclass
class CellResult:
    spec: str
    prop: str
    reference: str
    dtype: str
    status: Status
    errors: Errors = field(default_factory=Errors)
    examples: int = 0
    seconds: float = 0.0
    message: str = ""
    case: Case | None = None
    seed: int | None = None

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    @property
    def id(self) -> str:
        return f"{self.spec}-{self.prop}-{self.reference}-{self.dtype}"


@dataclass
class Run:
    """The results of one ``report`` or ``check``, with what is needed to repeat it."""

    results: list[CellResult]
    seed: int
    examples: int
    references: tuple[str, ...]
    dtypes: tuple[str, ...]
    unavailable: dict[str, str]
    seconds: float = 0.0
    #: the class checked (``check``) as a loadable target; None for the impl layers (``report``)
    target: str | None = None
    spec: str | None = None

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)

    @property
    def failures(self) -> list[CellResult]:
        return [r for r in self.results if not r.ok]


def cell_seed(base: int, cell_id: str) -> int:
    """Each cell's own seed: the same cell gets the same draws in ``report`` and ``check``."""
    return (base + zlib.crc32(cell_id.encode())) % 2**32


def new_seed() -> int:
    return random.SystemRandom().randrange(2**32)


class _Tally:
    def __init__(self) -> None:
        self.examples = 0
        self.errors = Errors()
        self.failed = False
        self.draws: list[Any] = []


@contextlib.contextmanager
def _shrink_deadline(seconds: float) -> Iterator[None]:
    """Bound the time Hypothesis spends shrinking one failure (its own limit is five minutes).

    Hypothesis checks this deadline after every call and then reports the smallest failure found
    so far, which it replays: the reported case always fails for real. The limit is an internal
    of Hypothesis; if a version lacks it, shrinking simply keeps Hypothesis's own limit.
    """
    try:
        from hypothesis.internal.conjecture import engine
    except ImportError:  # pragma: no cover
        yield
        return
    before = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if not isinstance(before, (int, float)):  # pragma: no cover
        yield
        return
    engine.MAX_SHRINKING_SECONDS = seconds  # type: ignore[assignment]
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = before  # type: ignore[assignment]


def _where(exc: BaseException) -> str:
    """The deepest frame outside NumPy: where the layer (or the harness) raised."""
    numpy_dir = str(Path(np.__file__).parent)
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not f.filename.startswith(numpy_dir)]
    if not frames:
        return ""
    f = frames[-1]
    return f" (at {f.filename}:{f.lineno} in {f.name})"


def _explore(
    body: Callable[[Draw], Errors], examples: int, seed_value: int, shrink_seconds: float
) -> tuple[Status, Any]:
    """Run ``body`` under Hypothesis; return the status and the tally, or the tally and the final
    exception (raised by Hypothesis's last replay of the shrunk example, whose draws the tally holds)."""
    tally = _Tally()

    @seed(seed_value)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=False,
        print_blob=False,
        report_multiple_bugs=False,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=_HEALTH,
        verbosity=Verbosity.normal,
    )
    @given(st.data())
    def explore(data: st.DataObject) -> None:
        draws: list[Any] = []

        def draw(strategy: st.SearchStrategy[Any]) -> Any:
            value = data.draw(strategy)
            draws.append(value)
            return value

        try:
            errors = body(draw)
        except UnsatisfiedAssumption:
            raise
        except Exception:
            tally.failed = True
            tally.draws = draws  # the last failing call: after shrinking, Hypothesis's final replay
            raise
        if not tally.failed:  # the generation phase; shrinking runs are not counted
            tally.examples += 1
            tally.errors |= errors

    with np.errstate(**ERRSTATE), _shrink_deadline(shrink_seconds), with_reporter(_silent):
        try:
            explore()
        except Unsatisfiable:
            return "vacuous", tally
        except Exception as exc:
            return ("fail" if isinstance(exc, (AssertionError, Flaky)) else "error"), (tally, exc)
    return "pass", tally


def _silent(text: object) -> None:
    """Hypothesis's own printed reports: everything it has to say reaches the result instead."""


@dataclass(frozen=True)
class Options:
    """How hard each cell is tried (picklable: it travels to worker processes)."""

    examples: int = DEFAULT_EXAMPLES
    seed: int = 0
    shrink_seconds: float = SHRINK_SECONDS


def _run(body: Callable[[Draw], Errors], ids: tuple[str, str, str, str], options: Options) -> CellResult:
    spec, prop, ref, dtype = ids
    result = CellResult(spec, prop, ref, dtype, "pass", seed=options.seed)
    started = time.perf_counter()
    status, outcome = _explore(
        body, options.examples, cell_seed(options.seed, result.id), options.shrink_seconds
    )
    result.seconds = time.perf_counter() - started
    result.status = status
    if status == "pass":
        result.examples, result.errors = outcome.examples, outcome.errors
    elif status == "vacuous":
        result.message = "every drawn example was rejected as uninformative: nothing was checked"
    else:
        tally, exc = outcome
        result.examples = tally.examples
        result.errors = getattr(exc, "errors", None) or Errors()
        text = str(exc).strip() or type(exc).__name__
        if status == "error" or not isinstance(exc, AssertionError):
            text = f"{type(exc).__name__}: {text}{_where(exc)}"
        result.message = text
        result.case = Case(dict(LastCase.arrays), LastCase.dout, list(tally.draws))
    return result


def run_cell(cell: Cell, cls: Any, options: Options) -> CellResult:
    """One cell of the matrix: ``cell.prop`` for class ``cls`` against ``cell.reference``."""
    ref = None if cell.reference == SELF else get_reference(cell.reference)
    ids = (cell.spec.name, cell.prop.name, cell.reference, np.dtype(cell.dtype).name)
    return _run(lambda draw: cell.prop.run(cell.spec, cls, ref, draw, cell.dtype), ids, options)


def run_agreement(spec: LayerSpec, dtype: Any, options: Options) -> CellResult:
    """The spec checked against itself: its torch and jax versions agree."""
    t, j = get_reference("torch"), get_reference("jax")
    ids = (spec.name, AGREEMENT, BOTH, np.dtype(dtype).name)
    return _run(lambda draw: check_spec_agreement(spec, t, j, draw, dtype), ids, options)


def resolve_references(requested: Sequence[str] | None) -> tuple[tuple[str, ...], dict[str, str]]:
    """The references to run and why any cannot; asking by name for one that cannot run is an error
    (a run that silently left it out would look like a pass)."""
    names = tuple(requested) if requested else REFERENCE_NAMES
    unknown = [n for n in names if n not in REFERENCE_NAMES]
    if unknown:
        raise UsageError(f"unknown reference {unknown[0]!r}; known: {', '.join(REFERENCE_NAMES)}")
    unavailable = {n: r for n in names if (r := get_reference(n).unavailable()) is not None}
    if requested and unavailable:
        name, reason = next(iter(unavailable.items()))
        raise UsageError(f"--reference {name}: {reason}")
    return names, unavailable


def resolve_dtypes(requested: Sequence[Any]) -> tuple[np.dtype[Any], ...]:
    out = []
    for d in requested:
        try:
            dt = np.dtype(d)
        except TypeError:
            raise UsageError(f"unknown dtype {d!r}; use float64 or float32") from None
        if dt.kind != "f":
            raise UsageError(f"dtype {dt.name} is not a floating dtype; use float64 or float32")
        out.append(dt)
    return tuple(out)


def _spec_dtypes(spec: LayerSpec, dtypes: Sequence[np.dtype[Any]]) -> list[np.dtype[Any]]:
    return [np.dtype(t) for t in spec.dtypes if np.dtype(t) in dtypes]


def _not_applicable(
    spec: LayerSpec, references: Sequence[str], dtypes: Sequence[np.dtype[Any]]
) -> list[CellResult]:
    out = []
    for prop in PROPERTIES:
        reason = prop.applies(spec)
        if reason is None:
            continue
        for ref in prop.references or (SELF,):
            if ref == SELF or ref in references:
                for dt in _spec_dtypes(spec, dtypes):
                    out.append(CellResult(spec.name, prop.name, ref, dt.name, "n/a", message=reason))
    return out


#: one unit of work: (spec, property name or AGREEMENT, reference, dtype name)
Job = tuple[LayerSpec, str, str, str]


def _run_job(job: Job, cls: Any, options: Options) -> CellResult:
    spec, prop, ref, dtype = job
    if prop == AGREEMENT:
        return run_agreement(spec, np.dtype(dtype).type, options)
    dt = next(t for t in spec.dtypes if np.dtype(t).name == dtype)
    return run_cell(
        Cell(spec, property_named(prop), ref, dt), cls if cls is not None else spec.layer, options
    )


def _work(spec_name: str, keys: list[tuple[str, str, str]], options: Options) -> list[CellResult] | None:
    """In a worker process: run these cells of a built-in spec (None: the worker does not know it)."""
    from properties.engine.registry import SPECS

    spec = SPECS.get(spec_name)
    if spec is None:
        return None
    return [_run_job((spec, *key), None, options) for key in keys]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def _in_parallel(
    groups: list[list[int]],
    jobs: list[Job],
    options: Options,
    workers: int,
    deliver: Callable[[int, CellResult], None],
) -> None:
    """Run groups of jobs (one spec and reference each, so a worker's JAX compilations are reused)
    in spawned processes; a group whose spec a fresh process does not have runs here."""
    ctx = multiprocessing.get_context("spawn")  # never fork a process that may hold torch/jax threads
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx)
    try:
        futures = {
            pool.submit(_work, jobs[g[0]][0].name, [jobs[i][1:] for i in g], options): g for g in groups
        }
        for future in as_completed(futures):
            group = futures[future]
            results = future.result()
            if results is None:
                results = [_run_job(jobs[i], None, options) for i in group]
            for i, r in zip(group, results, strict=True):
                deliver(i, r)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()


def run_matrix(
    specs: Iterable[LayerSpec],
    *,
    cls: Any = None,
    references: Sequence[str] | None = None,
    dtypes: Sequence[Any] = ("float64", "float32"),
    examples: int = DEFAULT_EXAMPLES,
    seed: int | None = None,
    agreement: bool = True,
    jobs: int = 1,
    shrink_seconds: float = SHRINK_SECONDS,
    progress: Callable[[int, int, CellResult], None] | None = None,
) -> Run:
    """Every cell of ``specs`` (the class ``cls``, else each spec's own layer), plus each spec's
    torch-vs-jax agreement (in the first dtype) when both are asked for. A reference that cannot
    run gives "skip".

    ``jobs`` > 1 runs the specs' own layers in that many worker processes.
    """
    specs = list(specs)
    refs, unavailable = resolve_references(references)
    dts = resolve_dtypes(dtypes)
    options = Options(examples, new_seed() if seed is None else seed, shrink_seconds)
    run = Run([], options.seed, examples, refs, tuple(d.name for d in dts), unavailable)
    work: list[Job] = []
    for spec in specs:
        work += [(spec, c.prop.name, c.reference, np.dtype(c.dtype).name) for c in cells([spec], refs, dts)]
        if agreement and {"torch", "jax"} <= set(refs) and _spec_dtypes(spec, dts):
            # once per spec: both references compute in float64 whatever the drawn dtype
            work.append((spec, AGREEMENT, BOTH, _spec_dtypes(spec, dts)[0].name))
    results: list[CellResult | None] = [None] * len(work)
    done = 0

    def deliver(i: int, r: CellResult) -> None:
        nonlocal done
        results[i], done = r, done + 1
        if progress is not None:
            progress(done, len(work), r)

    started = time.perf_counter()
    runnable: dict[tuple[str, str], list[int]] = {}
    for i, (spec, prop, ref, dt) in enumerate(work):
        needs = ("torch", "jax") if prop == AGREEMENT else (ref,)
        missing = [unavailable[n] for n in needs if n in unavailable]
        if missing:
            deliver(i, CellResult(spec.name, prop, ref, dt, "skip", message="; ".join(missing)))
        else:
            runnable.setdefault((spec.name, ref), []).append(i)
    groups = list(runnable.values())
    if jobs > 1 and cls is None and len(groups) > 1:
        # networks first: they are the longest, and should not be left for last
        groups.sort(key=lambda g: work[g[0]][0].kind != "net")
        _in_parallel(groups, work, options, jobs, deliver)
    else:
        for group in groups:
            for i in group:
                deliver(i, _run_job(work[i], cls, options))
    run.results = [r for r in results if r is not None]
    for spec in specs:
        run.results.extend(_not_applicable(spec, refs, dts))
    run.seconds = time.perf_counter() - started
    return run


def _describe_call(spec: LayerSpec, cls: Any, arrays: Arrays) -> str:
    name = getattr(cls, "__name__", repr(cls))
    if spec.kind == "net" and spec.net_args is not None:
        return f"{name}({', '.join(str(a) for a in spec.net_args(arrays))})"
    kwargs = [f"{k}=..." for k in driver_for(spec).init_kwargs(arrays)]
    return f"{name}({', '.join([*spec.params, *kwargs])})"


def preflight(spec: LayerSpec, cls: Any, dtype: Any = np.float64) -> None:
    """UsageError unless ``cls`` has the spec's methods and can be built the way the spec builds
    its layer (tried on one drawn example): a class the checks cannot even drive is not a finding."""
    name = getattr(cls, "__name__", repr(cls))
    methods = ("loss", "gradient") if spec.kind == "net" else ("forward", "backward")
    missing = [m for m in methods if not callable(getattr(cls, m, None))]
    if missing:
        raise UsageError(
            f"{name} has no method {' or '.join(missing)}; spec {spec.name} drives {' and '.join(methods)}"
        )
    calls: list[str] = []

    @settings(
        max_examples=1, phases=[Phase.generate], database=None, deadline=None, suppress_health_check=_HEALTH
    )
    @given(st.data())
    def build(data: st.DataObject) -> None:
        arrays, _ = draw_case(spec, data.draw, dtype)
        calls.append(_describe_call(spec, cls, arrays))
        driver_for(spec).build(cls, arrays, dtype)

    try:
        with np.errstate(**ERRSTATE):
            build()
    except Exception as exc:
        call = calls[-1] if calls else name
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise UsageError(
            f"{name} cannot be built as spec {spec.name} builds it, {call}: {type(exc).__name__}: {reason}"
        ) from None


def check_layer(
    layer: Any,
    spec: str | LayerSpec,
    *,
    references: Sequence[str] | None = None,
    dtypes: Sequence[Any] = ("float64",),
    examples: int = DEFAULT_EXAMPLES,
    seed: int | None = None,
    shrink_seconds: float = SHRINK_SECONDS,
    progress: Callable[[int, int, CellResult], None] | None = None,
) -> Run:
    """Every property of ``spec`` for somebody's class ``layer`` (a class or a ``file.py:Class`` /
    ``module:Class`` target); UsageError if it cannot be done as asked."""
    s = spec if isinstance(spec, LayerSpec) else _spec(spec)
    resolve_references(references)
    dts = resolve_dtypes(dtypes)
    missing = [d.name for d in dts if d not in {np.dtype(t) for t in s.dtypes}]
    if missing:
        raise UsageError(f"spec {s.name} is not defined for {missing[0]}")
    cls = load_target(layer) if isinstance(layer, str) else layer
    preflight(s, cls, dts[0].type)
    run = run_matrix(
        [s],
        cls=cls,
        references=references,
        dtypes=dts,
        examples=examples,
        seed=seed,
        agreement=False,
        shrink_seconds=shrink_seconds,
        progress=progress,
    )
    run.target = layer if isinstance(layer, str) else _importable(cls)
    run.spec = s.name
    return run


def _spec(name: str) -> LayerSpec:
    try:
        return get_spec(name)
    except KeyError as exc:
        raise UsageError(str(exc.args[0])) from None


def _importable(cls: Any) -> str:
    from properties.frontends.loader import target_name

    return target_name(cls)


def assert_layer_matches(
    layer: Any,
    spec: str,
    *,
    references: Sequence[str] | None = None,
    examples: int = DEFAULT_EXAMPLES,
    dtype: Any = "float64",
    seed: int | None = None,
    shrink_seconds: float = SHRINK_SECONDS,
) -> None:
    """Assert that ``layer`` (your class) agrees with the registered ``spec`` on every property.

    ``references=None`` uses every installed reference; naming one that is not installed is an
    error rather than a silent pass. Raises AssertionError with the report ``crosscheck check`` prints.
    Call it from a plain test, not from inside a Hypothesis ``@given`` test.
    """
    dtypes = (dtype,) if isinstance(dtype, (str, type, np.dtype)) else tuple(dtype)
    run = check_layer(
        layer,
        spec,
        references=references,
        dtypes=dtypes,
        examples=examples,
        seed=seed,
        shrink_seconds=shrink_seconds,
    )
    if not run.ok:
        from properties.frontends.report import render_check

        raise AssertionError(render_check(run))


def replay(
    target: Any,
    *,
    spec: str,
    property: str,
    reference: str,
    dtype: str,
    draws: Sequence[Any],
) -> None:
    """Run one property once on recorded draws: raises what the check raised, or returns.

    ``target`` is a class or a ``file.py:Class`` / ``module:Class`` string (as the snippet has it).
    It runs inside a one-example Hypothesis test because the checks call ``assume``; the values
    come from ``draws``, never from Hypothesis.
    """
    s = get_spec(spec)
    dt = np.dtype(dtype).type
    cls = None if property == AGREEMENT else load_target(target) if isinstance(target, str) else target
    ref = None if reference in (SELF, BOTH) else get_reference(reference)

    def run() -> None:
        pending = iter(draws)

        def draw(strategy: Any) -> Any:
            try:
                return next(pending)
            except StopIteration:
                raise ValueError("the check drew more values than were recorded") from None

        with np.errstate(**ERRSTATE):
            if property == AGREEMENT:
                check_spec_agreement(s, get_reference("torch"), get_reference("jax"), draw, dt)
            else:
                property_named(property).run(s, cls, ref, draw, dt)

    @settings(
        max_examples=1,
        phases=[Phase.generate],
        database=None,
        deadline=None,
        derandomize=True,
        suppress_health_check=_HEALTH,
        verbosity=Verbosity.quiet,
    )
    @given(st.just(None))
    def once(_: None) -> None:
        run()

    once()
