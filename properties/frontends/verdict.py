"""``crosscheck check``: the verdict on somebody's class, what a person reads before scrolling
first (the verdict, the hints, the convention it follows instead), then the shape sets it runs on,
its row of the matrix and every disagreement (report.py renders those two), then the verdict
again with the line that repeats the run.
"""

from __future__ import annotations

from layer_crosscheck.properties.engine.results import Run
from layer_crosscheck.properties.frontends.report import (
    cell_name,
    class_names,
    counts,
    failures,
    header,
    indices,
    repeat_line,
    skipped,
    table,
)

__all__ = ["render_check"]


def _fp_note(run: Run) -> list[str]:
    """NumPy's floating-point warnings the class gave: a note, not a verdict (the values decide)."""
    seen = list(dict.fromkeys(w for r in run.results for w in r.warnings))
    if not seen:
        return []
    return [
        "note: the class gave NumPy floating-point warnings; its values were judged all the same "
        "(--strict-fp makes a warning a failure):",
        *(f"    {w}" for w in seen),
        "",
    ]


def _shape_sets(run: Run) -> list[str]:
    """Each shape-set entry of the spec: the class runs on it, raises (and what), or was not asked."""
    if not run.shapes:
        return []
    width = max(len(s.label) for s in run.shapes)
    lines = [
        "",
        "shape sets (each tried once, forward and backward; the cells judge those the class runs on):",
    ]
    for s in run.shapes:
        word = {"runs": "runs", "raises": "RAISES", "not selected": "not selected (--shapes)"}[s.status]
        lines.append(f"  [{s.index}] {s.label:<{width}}  {word}")
        if s.message:
            lines.append(f"        {s.message}")
    return lines


def _raises(run: Run, raised: str, command: str) -> tuple[list[str], str]:
    """When the class raises on a shape set: the ``--shapes`` that checks only those it runs on (a
    layer written for 2-D input, say), and how the values fared on those."""
    runs = indices(s.index for s in run.shapes if s.status == "runs")
    said = f"it raises on shape set(s) {raised}; "
    if not runs:
        return [], said + "it runs on none of the shape sets checked"
    if run.failures:
        values = f"on shape set(s) {runs}, {len(run.failures)} cell(s) failed"
    else:
        n = sum(r.examples for r in run.results)
        values = f"on shape set(s) {runs} it agrees on every property ({n} examples){skipped(run)}"
    advice = (
        f"if your layer is meant only for shape set(s) {runs}, check those alone: {command} --shapes {runs}"
    )
    return [advice], said + values


def _kind(run: Run) -> str:
    """The kind of the finding, as the verdict's first and last lines say it (engine/kinds.py)."""
    spec = f"spec {run.spec}"
    if run.kind == "fragile":
        return f"is FRAGILE at extreme inputs against {spec}"
    if run.kind == "convention":
        return f"differs from {spec} only by a CONVENTION at kinks or ties"
    return f"DISAGREES with {spec}" + (" in the ordinary range" if run.failures else "")


def _fault(run: Run, name: str) -> list[str]:
    """What the first line says is at fault, and why it is that kind."""
    if not run.failures or run.fault is None:
        return []
    fault = f"{name}.{run.fault}"
    if run.kind == "fragile":
        return [
            f"{fault} fails only at extreme inputs: it agrees on ordinary ones ({run.kind_why}; "
            "--ordinary checks those alone)"
        ]
    if run.kind == "convention":
        return [f"{fault} differs only at {run.kind_why} and agrees elsewhere"]
    forward = [r for r in run.results if r.prop == "forward" and r.status not in ("skip", "n/a")]
    forward_ok = bool(forward) and all(r.ok for r in forward)
    half = "; its forward agrees" if forward_ok and run.fault in ("backward", "gradient") else ""
    return [f"{fault} is at fault{half}"]


def _brief(run: Run, top: list[str], raised: str, advice: list[str], again: str) -> list[str]:
    """The report a failing test shows: the verdict and hints (``top``), the floating-point note,
    the first failure with its errors, shrunk input and a compact snippet, and where the rest is."""
    lines = [*top, "", *_fp_note(run)]
    if raised:
        lines += [*_shape_sets(run)[1:], *advice, ""]
    lines += failures(run, first_only=True)
    lines.append(f"{len(run.failures)} failed cell(s) in all; the full report: pytest -v, --crosscheck-full")
    if any(r.seed is not None for r in run.results):  # a run with a crosscheck seed can be repeated
        lines.append(again)
    return lines


def render_check(run: Run, repeat: str | None = None, brief: bool = False) -> str:
    """What ``crosscheck check`` prints; ``repeat`` is the command line with every option, for the
    line that repeats the run. ``brief``: what a failing test shows (40 lines or so)."""
    name = class_names(run.target or "?")
    chain = "--chain " if run.target is not None and "," in run.target else ""
    flags = "".join(f" --set {k}={v!r}" for k, v in run.settings.items())
    command = f"crosscheck check {chain}{run.target} --as {run.spec}{flags}"
    again = repeat_line(run, command, repeat)
    ran = sum(r.status not in ("skip", "n/a") for r in run.results)
    raised = indices(s.index for s in run.shapes if s.status == "raises")
    if run.ok:
        only = "" if run.selected is None else f" on shape set(s) {indices(run.selected)}"
        only += " in the ordinary range (--ordinary)" if run.ordinary else ""
        n = sum(r.examples for r in run.results)
        top = [f"{name} agrees with spec {run.spec}{only}: {ran} cells passed{skipped(run)}"]
        every = f"on every property{only} ({n} examples){skipped(run)}"
        end = [f"{name} agrees with spec {run.spec} {every} - {again}"]
    else:
        why = _fault(run, name)
        why += [f"{len(run.failures)} of {ran} cells failed"] if run.failures else []
        why += [f"it raises on shape set(s) {raised}"] if raised else []
        top = [f"{name} {_kind(run)}: {'; '.join(why)}", *run.hints]
        if run.failures and not run.hints and not brief:  # the brief shows the first failure
            first = run.failures[0]
            said = first.message.splitlines()[0] if first.message else first.status
            top.append(f"first: {cell_name(first)}: {said}")
        advice, verdict = (
            _raises(run, raised, command) if raised else ([], f"{len(run.failures)} cell(s) failed")
        )
        end = [*failures(run), *advice, f"{name} {_kind(run)}: {verdict} - {again}"]
    if run.convention:  # another known convention: the one line a learner needs, first and last
        top = [f"CONVENTION: {run.convention}", "", *top]
        end.append(f"CONVENTION: {run.convention}")
    top += [f"note: {n}" for n in run.notes]
    if brief and not run.ok:
        return "\n".join(_brief(run, top, raised, advice, again)) + "\n"
    lines = [*top, "", *header(run, command), *_shape_sets(run), *table(run), "", counts(run), ""]
    return "\n".join([*lines, *_fp_note(run), *end]) + "\n"
