"""The one driver: a property run under Hypothesis, or replayed on recorded draws.

``pytest`` (tests/test_properties.py), ``crosscheck report`` and ``check``, the pytest plugin,
``replay`` and the planted-bug proofs all call :func:`explore` or :func:`run_cell`; nothing else
in the project runs a property under ``@given``. Every value a property draws is recorded by the
:class:`Draws` it is handed, together with the case it names (``arrays``, ``dout``), so a failure
is shown and replayed exactly as it was seen.
"""

from __future__ import annotations

import contextlib
import re
import time
import traceback
import warnings
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as with_seed
from hypothesis import strategies as st
from hypothesis.errors import Flaky, Unsatisfiable, UnsatisfiedAssumption
from hypothesis.reporting import with_reporter

from layer_crosscheck.properties.engine import sandbox
from layer_crosscheck.properties.engine.cases import draw_case
from layer_crosscheck.properties.engine.compare import Errors
from layer_crosscheck.properties.engine.matrix import SELF, Cell
from layer_crosscheck.properties.engine.results import Case, CellResult, Status
from layer_crosscheck.properties.engine.spec import Arrays, LayerSpec

__all__ = [
    "DEFAULT_EXAMPLES",
    "SHRINK_SECONDS",
    "Draws",
    "Exploration",
    "FloatingPoint",
    "Options",
    "example_cases",
    "explore",
    "first_example",
    "run_cell",
]

#: how NumPy's floating-point warnings are treated while a property runs: "raise" (impl's own
#: layers: overflow, division by zero and invalid operations are bugs; underflow to zero is the
#: correctly rounded result, never an error), "record" (somebody's class: ``1/(1+np.exp(-x))`` overflows at
#: x = -710 and still returns the right value, so the values are judged and the warnings reported
#: as a note), "ignore" (overflow gives inf and NaN, which the comparisons then see)
FloatingPoint = Literal["raise", "record", "ignore"]
DEFAULT_EXAMPLES = 25
#: how long a check may spend shrinking its failures, in all (``schedule.run_cells``; one cell run
#: alone by ``run_cell`` has it to itself), before settling for the smallest examples so far
SHRINK_SECONDS = 2.0

_HEALTH = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
]
T = TypeVar("T")


class Draws:
    """The ``draw`` a property is handed: every value it returns is recorded (to replay the example),
    and ``note`` keeps the case the property names (its arrays, its upstream gradient) for the report."""

    def __init__(self, source: Callable[[st.SearchStrategy[Any]], Any]) -> None:
        self._source = source
        self.values: list[Any] = []
        self.named: dict[str, Any] = {}

    def __call__(self, strategy: st.SearchStrategy[Any]) -> Any:
        value = self._source(strategy)
        self.values.append(value)
        return value

    def note(self, **named: Any) -> None:
        self.named.update(named)

    def case(self) -> Case:
        return Case(dict(self.named.get("arrays") or {}), self.named.get("dout"), list(self.values))


@st.composite
def _hypothesis_draw(draw: st.DrawFn) -> st.DrawFn:
    """Hypothesis's own draw function, for a property to draw from as it goes. ``st.data()``'s
    ``draw`` wraps each call in bookkeeping the engine has no use for (a note of the value for a
    report it silences, a check that the strategy left the ``random`` module alone, a span for
    the explain phase it leaves out): ~25 µs of the ~150 µs a draw costs. The values,
    and their shrinking, are the same; :class:`Draws` records them for the report."""
    return draw


def _replaying(values: Sequence[Any]) -> Callable[[st.SearchStrategy[Any]], Any]:
    """A draw function that hands out recorded values in order instead of drawing."""
    pending = iter(values)

    def next_value(strategy: st.SearchStrategy[Any]) -> Any:
        try:
            return next(pending)
        except StopIteration:
            raise ValueError("the check drew more values than were recorded") from None

    return next_value


@dataclass
class Exploration:
    """How a property fared: its status, the examples that passed and their largest errors, and for
    a failure the exception of the (shrunk) failing example and that example's draws."""

    status: Status
    examples: int = 0
    errors: Errors = field(default_factory=Errors)
    exception: BaseException | None = None
    case: Case | None = None
    #: NumPy's floating-point warnings, each once, under ``fp="record"``
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Options:
    """How a run is made, in one object from the API down to each cell (picklable: it travels to
    worker processes). A cell reads the first four; a run (``schedule.run_matrix``) the references,
    dtypes and jobs too; a check of somebody's class (``api.check_layer``) all of them."""

    examples: int = DEFAULT_EXAMPLES
    seed: int = 0
    #: how long the failures of a run are shrunk, in all (0: the first failing example, unshrunk)
    shrink_seconds: float = SHRINK_SECONDS
    fp: FloatingPoint = "raise"
    #: the references to run (None: every one installed; one named but not installed is an error)
    references: Sequence[str] | None = None
    dtypes: Sequence[Any] = ("float64",)
    #: the shape-set entries to check, by index (None: all)
    shapes: Sequence[int] | None = None
    #: the spec's settings overridden (``{"eps": 1e-6}``)
    settings: Mapping[str, Any] = field(default_factory=dict)
    #: seconds each call into the class may take (None: no limit; ``engine.sandbox``)
    call_timeout: float | None = sandbox.DEFAULT_CALL_TIMEOUT
    #: judge on ordinary magnitudes only (``kinds.ordinary``)
    ordinary_only: bool = False
    #: worker processes: the specs' own layers of a run, or (``check_layer``) a second one for JAX
    jobs: int = 1


@contextlib.contextmanager
def _shrink_deadline(seconds: float | None) -> Iterator[None]:
    """Bound the time Hypothesis spends shrinking one failure (its own limit is five minutes).

    No public setting does this: ``MAX_SHRINKING_SECONDS`` is an internal that tests/test_engine.py
    checks exists (without it, shrinking keeps Hypothesis's limit). The smallest failure found by
    the deadline is replayed, so the reported case always fails for real.
    """
    from hypothesis.internal.conjecture import engine

    before = getattr(engine, "MAX_SHRINKING_SECONDS", None)
    if seconds is None or not isinstance(before, (int, float)):
        yield
        return
    engine.MAX_SHRINKING_SECONDS = seconds  # type: ignore[assignment]
    try:
        yield
    finally:
        engine.MAX_SHRINKING_SECONDS = before  # type: ignore[assignment]


def _shrink_no_more() -> None:
    """Within ``_shrink_deadline``: the shrinking about to start stops at once."""
    from hypothesis.internal.conjecture import engine

    if isinstance(getattr(engine, "MAX_SHRINKING_SECONDS", None), (int, float)):
        engine.MAX_SHRINKING_SECONDS = 0


@contextlib.contextmanager
def _floating_point(fp: FloatingPoint, seen: list[str]) -> Iterator[None]:
    """NumPy's floating-point policy while a property runs (see ``FloatingPoint``)."""
    if fp != "record":
        with np.errstate(all=fp, under="ignore"):
            yield
        return
    with np.errstate(all="warn", under="ignore"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", RuntimeWarning)
        try:
            yield
        finally:
            for w in caught:
                text = f"{w.category.__name__}: {w.message} (at {Path(w.filename).name}:{w.lineno})"
                if issubclass(w.category, RuntimeWarning) and text not in seen:
                    seen.append(text)


def explore(
    body: Callable[[Draws], Errors | None],
    *,
    examples: int | None = None,
    seed: int | None = None,
    shrink_seconds: float | None = SHRINK_SECONDS,
    derandomize: bool | None = None,
    replay: Sequence[Any] | None = None,
    key: str = "property",
    fp: FloatingPoint = "raise",
) -> Exploration:
    """Run ``body(draw)`` under Hypothesis and say how it fared.

    Unset options come from the loaded Hypothesis profile (``examples``, ``derandomize``, its
    database, keyed by ``key``), so under pytest the suite's profile governs. ``shrink_seconds=0``
    reports the first failing example unshrunk; ``None`` keeps Hypothesis's own limit.
    ``replay`` runs the body once on recorded draws, with no search. ``fp``: NumPy's floating-point
    policy meanwhile (``FloatingPoint``).
    """
    outcome = Exploration("pass")
    failed: list[Draws] = []

    def run(draw: st.DrawFn) -> None:
        draws = Draws(draw if replay is None else _replaying(replay))
        try:
            errors = body(draws)
        except UnsatisfiedAssumption:
            raise
        except Exception as exc:
            failed.append(draws)  # the last failing call is Hypothesis's replay of the shrunk example
            if shrink_seconds and isinstance(exc, sandbox.WHATEVER_THE_INPUT):
                _shrink_no_more()  # a hang or an exit: no smaller example says more
            raise
        if not failed:  # the generation phase; shrinking runs are not counted
            outcome.examples += 1
            outcome.errors |= errors or Errors()

    # the example database keeps each cell's own failures
    run.__name__ = run.__qualname__ = re.sub(r"\W", "_", key)
    base = settings()
    overrides: dict[str, Any] = {
        "deadline": None,
        "print_blob": False,
        "report_multiple_bugs": False,
        "suppress_health_check": _HEALTH,
        "verbosity": Verbosity.normal,
    }
    if examples is not None:
        overrides["max_examples"] = examples
    if derandomize is not None:
        overrides["derandomize"] = derandomize
    if seed is not None or sandbox.active():
        # a given seed means exactly these draws, nothing saved before; a check of somebody's
        # class leaves no database behind where they work
        overrides["database"] = None
    # no explain phase: what it finds is printed by Hypothesis's reporter, silenced here, and it
    # traces every line of every shrinking run (sys.settrace before 3.12), about doubling its cost
    left_out = {Phase.explain} | ({Phase.shrink} if shrink_seconds == 0 else set())
    overrides["phases"] = [p for p in base.phases if p not in left_out]
    if replay is not None:  # one run on the recorded values; Hypothesis is there for ``assume``
        overrides.update(max_examples=1, phases=[Phase.generate], database=None, derandomize=True)
    test = given(_hypothesis_draw())(settings(base, **overrides)(run))
    # each cell its own examples: Hypothesis keys its database, and seeds a derandomized run, by a
    # digest of the test's source, which is this function's ``run`` for every cell (so every cell
    # drew the same choices under ``derandomize``, and replayed the others' saved failures)
    test._hypothesis_internal_database_key = key.encode()  # type: ignore[attr-defined]
    if seed is None and overrides.get("derandomize", base.derandomize):
        seed = zlib.crc32(key.encode())
    if seed is not None:
        test = with_seed(seed)(test)
    with (
        _floating_point(fp, outcome.warnings),
        _shrink_deadline(shrink_seconds or None),
        with_reporter(lambda text: None),  # what Hypothesis would print reaches the result instead
    ):
        try:
            test()
        except Unsatisfiable:
            outcome.status = "vacuous"
        except Exception as exc:
            outcome.status = "fail" if isinstance(exc, (AssertionError, Flaky)) else "error"
            outcome.exception = exc
            outcome.case = failed[-1].case() if failed else None
            outcome.errors = getattr(exc, "errors", None) or Errors()
    return outcome


def first_example(make: Callable[[Draws], T], key: str, fp: FloatingPoint = "raise") -> T:
    """``make(draw)`` on Hypothesis's simplest draw (one example, no search): for a case of the
    right shapes, or a one-off try of a class. Raises what ``make`` raised."""
    made: list[T] = []
    outcome = explore(
        lambda draw: made.append(make(draw)), examples=1, derandomize=True, shrink_seconds=0, key=key, fp=fp
    )
    if outcome.exception is not None:
        raise outcome.exception
    if not made:
        raise ValueError(f"{key}: Hypothesis rejected every draw, so there is no example")
    return made[-1]


def example_cases(spec: LayerSpec, dtype: Any = np.float64) -> list[Arrays]:
    """One valid case per shape entry of ``spec`` (Hypothesis's simplest draw), as writable arrays:
    for tests that need a case of the right shapes but no search (tests/test_bad_input.py)."""
    cases = first_example(
        lambda draw: [draw_case(spec, draw, dtype, sizes)[0] for sizes in spec.shapes], f"example_{spec.name}"
    )
    return [{k: np.array(v) for k, v in case.items()} for case in cases]


def describe(exc: BaseException, status: Status) -> str:
    """A failure as one message: a disagreement's own text; anything else with its type and the
    deepest frame outside NumPy (where the layer, or the harness, raised)."""
    text = str(exc).strip() or type(exc).__name__
    if status != "error" and isinstance(exc, AssertionError):
        return text
    first_run = getattr(exc, "exceptions", None)  # Hypothesis's FlakyFailure carries them
    if isinstance(exc, Flaky) and first_run:
        first = first_run[0]
        return (
            "the verdict is not reproducible: an example failed and then passed when run again (a "
            "class that is not deterministic, such as unseeded randomness, or state kept between "
            f"calls); the failure it first gave: {describe(first, 'fail')}"
        )
    text = f"{type(exc).__name__}: {text}"
    if sandbox.harness_crash(exc):
        why = "a bug in crosscheck, or a value from the class it did not expect: please report it"
        text = f"crosscheck's own code raised, not the class ({why}): {text}"
    numpy_dir = str(Path(np.__file__).parent)
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if not f.filename.startswith(numpy_dir) and f.filename != sandbox.__file__  # its time limit
    ]
    if not frames:
        return text
    path = Path(frames[-1].filename)
    with contextlib.suppress(ValueError):  # a file under the working directory: its relative path
        path = path.relative_to(Path.cwd())
    return f"{text} (at {path}:{frames[-1].lineno} in {frames[-1].name})"


def run_cell(cell: Cell, cls: Any = None, options: Options | None = None) -> CellResult:
    """One cell of the matrix: ``cell.prop`` for class ``cls`` (default: the spec's own layer)
    against ``cell.reference``. Without ``options`` the loaded Hypothesis profile decides."""
    from layer_crosscheck.reference import get_reference

    ref = None if cell.reference == SELF else get_reference(cell.reference)
    layer = cell.spec.layer if cls is None else cls
    chosen: dict[str, Any] = {}
    if options is not None:
        # each cell's own seed: the same cell gets the same draws in ``report`` and ``check``
        seed = (options.seed + zlib.crc32(cell.id.encode())) % 2**32
        chosen = {"examples": options.examples, "shrink_seconds": options.shrink_seconds, "fp": options.fp}
        chosen.update(seed=seed, derandomize=False)
    started = time.perf_counter()
    outcome = explore(
        lambda draw: cell.prop.run(cell.spec, layer, ref, draw, cell.dtype), key=cell.id, **chosen
    )
    seconds = time.perf_counter() - started
    message = ""
    if outcome.status == "vacuous":
        message = "every drawn example was rejected as uninformative: nothing was checked"
    elif outcome.exception is not None:
        message = describe(outcome.exception, outcome.status)
    base = None if options is None else options.seed
    return CellResult(*cell.key, **vars(outcome), seconds=seconds, message=message, seed=base)
