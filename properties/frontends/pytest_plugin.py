"""pytest plugin (entry point ``pytest11``): the cross-check harness inside anyone's test suite.

* ``from layer_crosscheck.properties import assert_layer_matches`` in any test: your class against a spec.
* ``pytest --crosscheck-report``: the conformance matrix of the impl layers after the run; a
  disagreement fails the run.
* A failing check shows the brief report (verdict, hints, the first failure, its shrunk input, a
  snippet), not Hypothesis's traceback; ``-v`` or ``--crosscheck-full`` adds the full report and
  pytest's own traceback. NumPy floating-point warnings of passing checks are listed once at the end.

Loading it is cheap and cannot fail a run that does not use it: it imports only pytest; the
harness (and through it torch or jax) is imported only when asked for.
"""

from __future__ import annotations

import sys
from collections.abc import Generator
from typing import Any

import pytest


def commas(text: str) -> list[str]:
    """A comma-separated option value (the plugin imports nothing of the harness until asked)."""
    return [part.strip() for part in text.split(",") if part.strip()]


__all__ = ["pytest_addoption", "pytest_runtest_makereport", "pytest_sessionfinish", "pytest_terminal_summary"]

#: the finished report (a Run), or a one-line usage error
_run_key = pytest.StashKey[Any]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("crosscheck", "layer cross-check (crosscheck report)")
    group.addoption(
        "--crosscheck-report",
        action="store_true",
        help="print the conformance matrix of the registered layers at the end; a disagreement fails the run",
    )
    group.addoption("--crosscheck-spec", type=commas, help="comma-separated spec names (default: all)")
    group.addoption(
        "--crosscheck-reference", type=commas, help="comma-separated references (default: torch,jax,fd)"
    )
    group.addoption("--crosscheck-examples", type=int, default=25, help="examples per cell (default 25)")
    group.addoption(
        "--crosscheck-dtype", type=commas, default=["float64", "float32"], help="comma-separated dtypes"
    )
    group.addoption("--crosscheck-seed", type=int, help="repeat a report exactly")
    group.addoption(
        "--crosscheck-full",
        action="store_true",
        help="a failing check shows its full report and traceback (as -v does), not the brief one",
    )


#: a user property of a test's report: a note of a passing check (its floating-point warnings)
_NOTE = "crosscheck note"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, None]:
    """A failing check (an exception with ``crosscheck_full``) shows its brief report with the test's
    line, short traceback style, no chained Hypothesis exceptions; ``-v`` or ``--crosscheck-full``:
    pytest's own traceback and the full report as a section. The notes of passing checks ride on the
    report (as user properties, which travel from xdist workers)."""
    report = (yield).get_result()
    config = item.config
    full = getattr(call.excinfo.value, "crosscheck_full", None) if call.excinfo is not None else None
    if isinstance(full, str) and report.failed:
        if config.getoption("crosscheck_full") or config.getoption("verbose") > 0:
            report.sections.append(("crosscheck: the full report", full))
        elif config.getoption("tbstyle") in ("auto", "short"):
            excinfo = call.excinfo
            assert excinfo is not None
            excinfo.traceback = excinfo.traceback.cut(path=item.path)
            report.longrepr = excinfo.getrepr(style="short", chain=False)
    api = sys.modules.get("layer_crosscheck.properties.frontends.api")  # imported only if a test used it
    notes = getattr(api, "pending_notes", None)
    if notes:
        report.user_properties += [(_NOTE, n) for n in notes]
        notes.clear()


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Run the report once (on the controller under xdist) and fail the run if anything disagrees."""
    config = session.config
    if not config.getoption("crosscheck_report") or hasattr(config, "workerinput"):  # an xdist worker
        return
    from layer_crosscheck.properties.engine.explore import Options
    from layer_crosscheck.properties.engine.registry import SPECS
    from layer_crosscheck.properties.engine.schedule import new_seed, run_matrix
    from layer_crosscheck.properties.frontends.api import spec_named
    from layer_crosscheck.properties.frontends.loader import UsageError

    try:
        names = config.getoption("crosscheck_spec")
        specs = [spec_named(n) for n in names] if names else list(SPECS.values())
        seed = config.getoption("crosscheck_seed")
        options = Options(
            config.getoption("crosscheck_examples"),
            new_seed() if seed is None else seed,
            references=config.getoption("crosscheck_reference"),
            dtypes=config.getoption("crosscheck_dtype"),
        )
        run: Any = run_matrix(specs, options)
    except UsageError as exc:
        run = f"crosscheck: error: {exc}"
    config.stash[_run_key] = run
    if (isinstance(run, str) or not run.ok) and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _notes(terminalreporter: Any) -> None:
    """Each note of the passing checks once, with the first test that gave it."""
    notes: dict[str, str] = {}
    for reports in terminalreporter.stats.values():
        for report in reports:
            for name, value in getattr(report, "user_properties", ()):
                if name == _NOTE:
                    notes.setdefault(value, report.nodeid)
    if notes:
        terminalreporter.section("crosscheck notes")
        for note, nodeid in notes.items():
            terminalreporter.write_line(f"note: {note} ({nodeid})")


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    _notes(terminalreporter)
    run = config.stash.get(_run_key, None)
    if run is None:
        return
    terminalreporter.section("crosscheck report")
    if isinstance(run, str):
        terminalreporter.write_line(run, red=True)
        return
    from layer_crosscheck.properties.frontends.report import render

    for line in render(run, "table", command="pytest --crosscheck-report").rstrip().splitlines():
        terminalreporter.write_line(line)
