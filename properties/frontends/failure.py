"""A failing test's exception: an AssertionError with the brief report as its message (what pytest
shows by default) and the full one as ``crosscheck_full``, for ``pytest -v`` or ``--crosscheck-full``
(the plugin reads the attribute by name, so loading the plugin imports nothing of the harness)."""

from __future__ import annotations

from layer_crosscheck.properties.engine.results import CellResult, Run
from layer_crosscheck.properties.frontends.report import layer_target, render_failure
from layer_crosscheck.properties.frontends.verdict import render_check

__all__ = ["cell_failure", "disagreement", "run_failure"]


def disagreement(brief: str, full: str) -> AssertionError:
    """The class disagrees with its spec: ``str()`` is the brief report, ``crosscheck_full`` the rest
    (a plain AssertionError, so pytest and ``pytest.raises`` see what they always saw)."""
    exc = AssertionError(brief)
    exc.crosscheck_full = full  # type: ignore[attr-defined]
    return exc


def run_failure(run: Run) -> AssertionError:
    """``assert_layer_matches``'s failure: the check report, brief and full."""
    return disagreement(render_check(run, brief=True).rstrip(), render_check(run))


def cell_failure(r: CellResult) -> AssertionError:
    """A registry cell's failure (tests/test_properties.py): the verdict on its layer, the hints the
    evidence settles, the failure, its shrunk input and a snippet; the full cell report for ``-v``."""
    from layer_crosscheck.properties.engine.registry import get_spec
    from layer_crosscheck.properties.frontends.hints import find_hints

    spec = get_spec(r.spec)
    run = Run([r], r.seed or 0, r.examples, (r.reference,), (r.dtype,), {})
    run.target = layer_target(run, r)
    run.spec = spec.name
    run.hints = find_hints(run, spec, spec.layer)
    return disagreement(render_check(run, brief=True).rstrip(), render_failure(r))
