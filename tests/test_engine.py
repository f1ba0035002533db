"""The one driver (properties/engine/explore.py): what it records is the example Hypothesis
reports, a replay reproduces it, and the Hypothesis internal it bounds shrinking with exists."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.database import InMemoryExampleDatabase
from hypothesis.extra import numpy as hnp

from layer_crosscheck.properties.engine.compare import Errors
from layer_crosscheck.properties.engine.explore import Draws, describe, explore


def _too_big(draw: Draws) -> Errors:
    x = draw(hnp.arrays(np.float64, (4,)))
    draw.note(arrays={"x": x})
    assert not np.any(np.abs(x) > 3), f"too big: {x.tolist()}"
    return Errors()


@pytest.mark.parametrize("shrink_seconds", [10.0, 0.0])
def test_recorded_case_is_the_one_hypothesis_reports(shrink_seconds: float) -> None:
    """After a failure Hypothesis replays its final example once more and raises from it; the draws
    recorded then (and the case noted) are that example: the exception reported is theirs."""
    out = explore(_too_big, examples=50, seed=7, shrink_seconds=shrink_seconds)
    assert out.status == "fail" and out.case is not None and out.exception is not None
    drawn = out.case.draws[0]
    assert str(out.exception).startswith(f"too big: {drawn.tolist()}")
    assert np.array_equal(out.case.arrays["x"], drawn)
    assert np.sum(np.abs(drawn) > 3) >= 1


@pytest.fixture
def database() -> Iterator[InMemoryExampleDatabase]:
    """The loaded profile with an example database in memory, for one test (not derandomized:
    a seeded run, as ``ci``'s derandomized cells are, saves nothing)."""
    db, before = InMemoryExampleDatabase(), settings.get_current_profile_name()
    settings.register_profile("engine_test_database", parent=settings(), database=db, derandomize=False)
    settings.load_profile("engine_test_database")
    try:
        yield db
    finally:
        settings.load_profile(before)


def test_each_key_keeps_its_own_failures(database: InMemoryExampleDatabase) -> None:
    """Hypothesis keys its database by the test's source, which is ``explore``'s one ``run`` for
    every cell: the engine keys it by the cell instead, so a cell replays its own failures only."""
    for key in ("relu-vjp-torch-float64", "affine-fd-fd-float64"):
        assert explore(_too_big, examples=20, seed=None, shrink_seconds=0, key=key).status == "fail"
    assert {b"relu-vjp-torch-float64", b"affine-fd-fd-float64"} <= set(database.data)


def test_derandomized_keys_draw_their_own_examples() -> None:
    """Derandomized (the ``ci`` and ``mutation`` profiles), each cell is seeded by its key, not by
    the one source all cells share: two cells draw different examples, a cell the same ones again."""

    def drawn(key: str) -> list[list[float]]:
        seen: list[list[float]] = []
        explore(
            lambda draw: seen.append(draw(hnp.arrays(np.float64, (3,))).tolist()),
            examples=8,
            derandomize=True,
            key=key,
        )
        return seen

    assert drawn("a") == drawn("a") != drawn("b")


def test_replay_raises_what_the_example_raised_and_passes_otherwise() -> None:
    big, small = np.array([0.0, 4.0, 0.0, 0.0]), np.zeros(4)
    failed = explore(_too_big, replay=[big])
    assert failed.status == "fail" and "too big" in str(failed.exception)
    assert explore(_too_big, replay=[small]).status == "pass"
    short = explore(_too_big, replay=[])
    assert short.status == "error" and "drew more values than were recorded" in str(short.exception)


def test_a_verdict_that_changes_between_runs_is_named_with_the_failure_it_first_gave() -> None:
    """A body failing only on its first call (a nondeterministic class, or state the harness kept):
    Hypothesis's FlakyFailure is described as such, with the first failure's own text."""
    calls: list[int] = []

    def first_call_fails(draw: Draws) -> Errors:
        draw(st.integers(0, 3))
        calls.append(1)
        assert len(calls) > 1, "dx off on the first call"
        return Errors()

    out = explore(first_call_fails, examples=5, seed=3)
    text = describe(out.exception, out.status)
    assert "not reproducible" in text and "dx off on the first call" in text, text


def test_every_example_is_counted_and_vacuous_runs_are_not_passes() -> None:
    def rejects(draw: Any) -> Errors:
        from hypothesis import assume

        assume(False)
        return Errors()  # pragma: no cover

    def draws_one(draw: Any) -> Errors:
        draw(st.integers(0, 10**6))
        return Errors()

    assert explore(draws_one, examples=7, seed=1).examples == 7
    assert explore(rejects, examples=5, seed=1).status == "vacuous"


def test_recorded_warnings_are_reported_and_values_still_judged() -> None:
    def overflows(draw: Any) -> Errors:
        assert float(np.exp(np.float64(1000.0))) == np.inf
        return Errors()

    out = explore(overflows, examples=1, seed=1, fp="record")
    assert out.status == "pass" and any("overflow" in w for w in out.warnings), out.warnings
    assert explore(overflows, examples=1, seed=1, fp="raise").status == "error"


def test_shrink_deadline_internal_exists() -> None:
    """The shrink bound (``--shrink-time``) sets Hypothesis's ``MAX_SHRINKING_SECONDS``, an
    internal: on a Hypothesis without it this fails, rather than the bound silently doing nothing."""
    from hypothesis.internal.conjecture import engine

    assert isinstance(engine.MAX_SHRINKING_SECONDS, (int, float))


def test_an_error_raised_alike_in_several_cells_is_shrunk_once_and_reported_in_each(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A class that writes into the read-only ``dout`` raises the same error in every cell that
    calls its backward: each of those cells reports it, and only the first is shrunk (the
    check's shrinking budget is not spent again on the same error)."""
    from layer_crosscheck.properties.engine import schedule
    from layer_crosscheck.properties.engine.explore import Options
    from layer_crosscheck.properties.engine.registry import get_spec
    from tests.zoo.broken import ReluWritesIntoDout

    shrunk: list[str] = []
    run_cell = schedule.run_cell

    def counting(cell: Any, cls: Any, options: Any) -> Any:
        if options.shrink_seconds > 0:  # a shrink, kept short: the budget is never what stops one
            shrunk.append(cell.id)
            options = replace(options, shrink_seconds=0.05)
        return run_cell(cell, cls, options)

    monkeypatch.setattr(schedule, "run_cell", counting)
    options = Options(5, seed=1, shrink_seconds=600, references=["fd"], dtypes=("float64", "float32"))
    run = schedule.run_matrix([get_spec("relu")], options, cls=ReluWritesIntoDout)
    raised = [r for r in run.results if "assignment destination is read-only" in r.message]
    assert len(raised) >= 3 and all(r.status == "error" and r.case is not None for r in raised), run.results
    assert len({r.message for r in raised}) == 1
    assert [s for s in shrunk if s in {r.id for r in raised}] == [raised[0].id]


def test_a_large_array_draws_and_its_failing_example_prints() -> None:
    """One integer choice per 200 elements: a single one for 240 elements would pass Python's
    4,300-digit limit when Hypothesis prints the falsifying example, crashing the harness."""
    import numpy as np
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from layer_crosscheck.properties.engine import strategies as S

    @settings(max_examples=5, database=None)
    @given(st.data())
    def fails(data: st.DataObject) -> None:
        a = data.draw(S.cotangent(np.float64, (2, 2, 6, 10)))
        assert a.shape == (2, 2, 6, 10)
        raise AssertionError("planted")

    with pytest.raises(AssertionError, match="planted"):
        fails()
