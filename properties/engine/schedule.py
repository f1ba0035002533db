"""Which cells a run has, and where they run: in this process, or spread over worker processes
(grouped by spec and reference, so a worker's JAX compilations are reused)."""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import random
import signal
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import replace
from typing import Any

import numpy as np

from layer_crosscheck.properties.engine.checks import PROPERTIES, property_named
from layer_crosscheck.properties.engine.errors import UsageError
from layer_crosscheck.properties.engine.explore import Options, run_cell
from layer_crosscheck.properties.engine.matrix import SELF, Cell, cells
from layer_crosscheck.properties.engine.registry import SPECS, modules_of
from layer_crosscheck.properties.engine.results import CellResult, Run
from layer_crosscheck.properties.engine.spec import LayerSpec, NetSpec
from layer_crosscheck.reference import REFERENCE_NAMES, get_reference

#: seconds of shrinking a run's failures always gets, however fast they were found
SHRINK_FLOOR = 0.5
#: the shrinking budget as a share of the time finding the failures took
SHRINK_SHARE = 0.5

__all__ = ["default_jobs", "new_seed", "resolve_dtypes", "resolve_references", "run_cells", "run_matrix"]


def new_seed() -> int:
    return random.SystemRandom().randrange(2**32)


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def resolve_references(
    requested: Sequence[str] | None, elsewhere: Iterable[str] = ()
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The references to run and why any cannot; asking by name for one that cannot run is an error
    (a run that silently left it out would look like a pass). Those ``elsewhere`` (run in another
    process) are not imported here to find out."""
    names = tuple(requested) if requested else REFERENCE_NAMES
    unknown = [n for n in names if n not in REFERENCE_NAMES]
    if unknown:
        raise UsageError(f"unknown reference {unknown[0]!r}; known: {', '.join(REFERENCE_NAMES)}")
    here = [n for n in names if n not in set(elsewhere)]
    unavailable = {n: r for n in here if (r := get_reference(n).unavailable()) is not None}
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


def _not_applicable(
    spec: LayerSpec, references: Sequence[str], dtypes: Sequence[np.dtype[Any]]
) -> list[CellResult]:
    names = [np.dtype(t).name for t in spec.dtypes if np.dtype(t) in dtypes]
    return [
        CellResult(spec.name, prop.name, ref, name, "n/a", message=reason)
        for prop in PROPERTIES
        if prop.listed_when_na and (reason := prop.applies(spec)) is not None
        for ref in prop.references or (SELF,)
        if ref == SELF or ref in references
        for name in names
    ]


def run_cells(
    work: Sequence[Cell],
    cls: Any,
    options: Options,
    deliver: Callable[[int, CellResult], None] | None = None,
) -> list[CellResult]:
    """Run ``work`` with one shrinking budget for all of it (``options.shrink_seconds``).

    Every cell first runs unshrunk, so each failure is found at the cost of a passing cell. Then
    the failures are shrunk, one after another, within what is left of the budget, which is half
    of what finding them took (at least ``SHRINK_FLOOR``): what a failing check pays beyond a
    passing one (its derived scales' first JAX import, the convention probes, the hints) then
    still leaves it within twice a passing one; Hypothesis's shrinker makes most of its progress
    early. A class that
    raised the same error (type, message, where) in several cells is shrunk in the first of them
    only, and the others report it with their own first failing example. ``deliver(i, result)``
    hears of each cell as it is settled."""
    quick = replace(options, shrink_seconds=0.0)
    results: list[CellResult] = []
    failed: list[int] = []
    started = time.perf_counter()
    for i, cell in enumerate(work):
        results.append(run_cell(cell, cls, quick))
        if results[i].ok or options.shrink_seconds == 0:
            if deliver is not None:
                deliver(i, results[i])
        else:
            failed.append(i)
    found = time.perf_counter() - started
    deadline = time.perf_counter() + min(options.shrink_seconds, max(found * SHRINK_SHARE, SHRINK_FLOOR))
    shrunk: set[str] = set()
    for i in failed:
        first = results[i]
        raised = first.message if first.status == "error" else None
        left = deadline - time.perf_counter()
        if raised not in shrunk and left > 0:
            again = run_cell(work[i], cls, replace(options, shrink_seconds=left))
            again.seconds += first.seconds
            if again.status == first.status:  # a flaky failure keeps the example that was seen
                results[i] = again
            if raised is not None:
                shrunk.add(raised)
        if deliver is not None:
            deliver(i, results[i])
    return results


def _work(keys: list[tuple[str, str, str, str]], options: Options) -> list[CellResult] | None:
    """In a worker process: run these cells of built-in specs (None: the worker does not know one)."""
    work = []
    for spec_name, prop, ref, dtype in keys:
        spec = SPECS.get(spec_name)
        if spec is None:
            return None
        dt = next(t for t in spec.dtypes if np.dtype(t).name == dtype)
        work.append(Cell(spec, property_named(prop), ref, dt))
    return run_cells(work, None, options)


def _in_parallel(
    groups: list[list[int]],
    work: list[Cell],
    options: Options,
    deliver: Callable[[int, CellResult], None],
) -> None:
    """Run groups of cells in spawned processes, which import the modules that registered their
    specs; a group whose spec a fresh process does not have (one registered at run time) runs here."""
    ctx = multiprocessing.get_context("spawn")  # never fork a process that may hold torch/jax threads
    modules = modules_of(cell.spec.name for cell in work)
    pool = ProcessPoolExecutor(
        max_workers=options.jobs, mp_context=ctx, initializer=_start_worker, initargs=(modules,)
    )
    try:
        futures = {pool.submit(_work, [work[i].key for i in g], options): g for g in groups}
        for future in as_completed(futures):
            group = futures[future]
            results = future.result()
            if results is None:
                results = run_cells([work[i] for i in group], None, options)
            for i, r in zip(group, results, strict=True):
                deliver(i, r)
    except BaseException:
        _stop(pool)
        raise
    pool.shutdown()


def _start_worker(modules: Sequence[str]) -> None:
    """In a worker: the specs' modules imported; Ctrl-C, which reaches the whole process group,
    left to the parent, which stops the workers."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    for module in modules:
        with contextlib.suppress(ImportError):  # its specs are then run by the parent
            importlib.import_module(module)


def _stop(pool: ProcessPoolExecutor) -> None:
    """Stop the workers now (Ctrl-C, an error): a running cell is not waited for."""
    terminate = getattr(pool, "terminate_workers", None)  # Python 3.14
    if terminate is not None:
        terminate()
        return
    # before shutdown, which forgets them; a private attribute up to Python 3.13
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        process.terminate()
    pool.shutdown(wait=False, cancel_futures=True)


def run_matrix(
    specs: Iterable[LayerSpec],
    options: Options,
    *,
    cls: Any = None,
    progress: Callable[[int, int, CellResult], None] | None = None,
    away: Callable[[], tuple[str | None, list[CellResult]] | None] | None = None,
    away_reference: str | None = None,
) -> Run:
    """Every cell of ``specs`` for the class ``cls`` (else each spec's own layer, and then the
    spec's own torch-vs-jax agreement too), on ``options``' references and dtypes. A reference
    that cannot run gives "skip".

    ``options.shrink_seconds``: how long the failures of a class (of each worker's group of cells)
    are shrunk, in all. ``jobs`` > 1 runs the specs' own layers in that many worker processes.
    ``fp``: NumPy's floating-point warnings raise (impl's layers), or are recorded and reported
    (somebody's class). ``away``: the cells of ``away_reference`` are run by another process, with
    the same options; ``away()`` waits for its (reason the reference cannot run, or None; results
    in cell order), or None when that process could not run them: they run here then.
    """
    specs = list(specs)
    elsewhere = () if away is None or away_reference is None else (away_reference,)
    refs, unavailable = resolve_references(options.references, elsewhere)
    dts = resolve_dtypes(options.dtypes)
    run = Run([], options.seed, options.examples, refs, tuple(d.name for d in dts), unavailable)
    work = cells(specs, refs, dts, for_class=cls is not None)
    results: dict[int, CellResult] = {}  # by index in ``work``, in the order they finish

    def deliver(i: int, r: CellResult) -> None:
        results[i] = r
        if progress is not None:
            progress(len(results), len(work), r)

    started = time.perf_counter()
    runnable: dict[tuple[str, str], list[int]] = {}
    far = [i for i, cell in enumerate(work) if cell.reference in elsewhere]
    for i, cell in enumerate(work):
        if i in far:
            continue
        reason = cell.unavailable()
        if reason is not None:
            deliver(i, CellResult(*cell.key, "skip", message=reason))
        else:
            runnable.setdefault((cell.spec.name, cell.reference), []).append(i)
    groups = list(runnable.values())
    if options.jobs > 1 and cls is None and len(groups) > 1:
        # networks first: they are the longest, and should not be left for last
        groups.sort(key=lambda g: not isinstance(work[g[0]].spec, NetSpec))
        _in_parallel(groups, work, options, deliver)
    else:
        indices = [i for group in groups for i in group]
        run_cells([work[i] for i in indices], cls, options, lambda k, r: deliver(indices[k], r))
    got = away() if away is not None and far else None
    if got is not None and got[0] is not None:
        run.unavailable[work[far[0]].reference] = got[0]
        got = (None, [CellResult(*work[i].key, "skip", message=got[0]) for i in far])
    if got is not None and [r.key for r in got[1]] == [work[i].key for i in far]:
        for i, r in zip(far, got[1], strict=True):
            deliver(i, r)
    elif far:  # not run elsewhere after all
        reason = work[far[0]].unavailable()
        if reason is not None:
            run.unavailable[work[far[0]].reference] = reason
        run_cells([work[i] for i in far], cls, options, lambda k, r: deliver(far[k], r))
    run.results = [results[i] for i in sorted(results)]
    for spec in specs:
        run.results.extend(_not_applicable(spec, refs, dts))
    run.seconds = time.perf_counter() - started
    return run
