"""Render a run as the conformance matrix (text, markdown, JSON) and its failures as a person
can act on them: the property, the reference, the shrunk input, the errors and a pytest snippet.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from properties.engine.checks import PROPERTIES, property_named
from properties.engine.matrix import SELF
from properties.engine.results import CellResult, Run, ShapeResult
from properties.engine.spec import LayerSpec

__all__ = ["literal", "render", "render_check", "render_failure", "render_list", "snippet"]

_BLOCK_TITLES = {
    "torch": "torch (PyTorch autograd)",
    "jax": "jax (JAX autodiff)",
    "fd": "fd (finite differences of the layer's own forward)",
    SELF: "self (the layer against itself)",
}


# ---- values as Python source ------------------------------------------------------------------


def _number(v: Any) -> str:
    if isinstance(v, (bool, np.bool_)):
        return repr(bool(v))
    if isinstance(v, (int, np.integer)):
        return repr(int(v))
    f = float(v)
    return repr(f) if math.isfinite(f) else f'float("{f}")'


def _nested(v: Any) -> str:
    if isinstance(v, list):
        return "[" + ", ".join(_nested(x) for x in v) + "]"
    return _number(v)


def literal(v: Any) -> str:
    """``v`` as Python source that rebuilds it exactly (arrays with their dtype, floats round-trip)."""
    if isinstance(v, np.ndarray):
        return f"np.array({_nested(v.tolist())}, dtype=np.{v.dtype.name})"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {literal(x)}" for k, x in v.items()) + "}"
    if isinstance(v, tuple):
        inner = ", ".join(literal(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(literal(x) for x in v) + "]"
    if isinstance(v, (int, float, np.generic)):
        return _number(v)
    return repr(v)


# ---- the matrix ---------------------------------------------------------------------------------


def _e(x: float) -> str:
    return "0" if x == 0 else f"{x:.1e}"


def _cell(r: CellResult | None, markdown: bool = False) -> str:
    if r is None:
        return ""
    if r.status in ("n/a", "skip"):
        return r.status
    word = {"pass": "pass", "fail": "FAIL", "error": "ERROR", "vacuous": "VACUOUS"}[r.status]
    if r.status == "error" or (r.status == "fail" and r.errors.max_abs == 0 and r.errors.max_rel == 0):
        return f"{word} n={r.examples}" if markdown else f"{word:<7} {'-':>7} {'-':>7} {r.examples:>3}"
    if markdown:
        return f"{word} {_e(r.errors.max_abs)} / {_e(r.errors.max_rel)} n={r.examples}"
    return f"{word:<7} {_e(r.errors.max_abs):>7} {_e(r.errors.max_rel):>7} {r.examples:>3}"


def _columns(run: Run, reference: str) -> list[str]:
    """The properties judged against ``reference`` that this run has cells for."""
    present = {r.prop for r in run.results if r.reference == reference}
    return [p.name for p in PROPERTIES if reference in (p.references or (SELF,)) and p.name in present]


def _blocks(run: Run) -> list[str]:
    present = {r.reference for r in run.results}
    order = [*run.references, SELF]
    return [ref for ref in order if ref in present]


def _rows(run: Run) -> list[tuple[str, str]]:
    seen: dict[tuple[str, str], None] = {}
    for r in run.results:
        seen.setdefault((r.spec, r.dtype), None)
    dtype_rank = {d: i for i, d in enumerate(run.dtypes)}
    specs = list(dict.fromkeys(r.spec for r in run.results))
    return sorted(seen, key=lambda k: (specs.index(k[0]), dtype_rank.get(k[1], 99)))


def _index(run: Run) -> dict[tuple[str, str, str, str], CellResult]:
    return {(r.spec, r.dtype, r.reference, r.prop): r for r in run.results}


def _block_title(run: Run, ref: str) -> str:
    title = _BLOCK_TITLES.get(ref, ref)
    if ref in run.unavailable:
        return f"{title}: skipped - {run.unavailable[ref]}"
    return title


def _label(run: Run, spec: str) -> str:
    if run.target is not None:
        return f"{_class_names(run.target)} as {spec}"
    return spec


def _table(run: Run) -> list[str]:
    idx = _index(run)
    rows = _rows(run)
    lines: list[str] = []
    width = max([len(_label(run, s)) for s, _ in rows] + [5])
    for ref in _blocks(run):
        cols = _columns(run, ref)
        lines += ["", _block_title(run, ref)]
        head = f"{'layer':<{width}}  {'dtype':<7}  " + "  ".join(f"{c:<26}" for c in cols)
        lines += [head.rstrip(), "-" * len(head.rstrip())]
        for spec, dt in rows:
            cells = [_cell(idx.get((spec, dt, ref, c))) for c in cols]
            if not any(cells):
                continue
            lines.append(
                (f"{_label(run, spec):<{width}}  {dt:<7}  " + "  ".join(f"{c:<26}" for c in cells)).rstrip()
            )
    return lines


def _markdown(run: Run) -> list[str]:
    idx = _index(run)
    lines: list[str] = []
    for ref in _blocks(run):
        cols = _columns(run, ref)
        lines += ["", f"#### {_block_title(run, ref)}", ""]
        lines.append("| layer | dtype | " + " | ".join(cols) + " |")
        lines.append("|---|---|" + "---|" * len(cols))
        for spec, dt in _rows(run):
            cells = [_cell(idx.get((spec, dt, ref, c)), markdown=True) for c in cols]
            if any(cells):
                lines.append(f"| {_label(run, spec)} | {dt} | " + " | ".join(cells) + " |")
    return lines


def _counts(run: Run) -> str:
    statuses = ["pass", "fail", "error", "vacuous", "skip", "n/a"]
    n = {s: sum(r.status == s for r in run.results) for s in statuses}
    ran = sum(n[s] for s in statuses[:4])
    return f"{ran} cells run: " + ", ".join(f"{n[s]} {s}" for s in statuses) + f"; {run.seconds:.1f} s"


def _header(run: Run, command: str) -> list[str]:
    return [
        f"{command}: {run.examples} examples per cell, dtypes {', '.join(run.dtypes)}, seed {run.seed}",
        "cell: status, largest absolute error, largest relative error |got - ref| / |ref| (over the "
        "elements where |ref| is at least 1e-3 of the largest; a reference of zeros has none: inf in "
        "a FAIL), examples that passed; a FAIL shows its failing example's errors. FAIL: the values "
        "disagree; ERROR: the class raised",
    ]


def _repeat(run: Run, command: str, repeat: str | None = None) -> str:
    """The line that repeats the run: ``repeat`` as the command line gave it (every option), else
    rebuilt from the run."""
    if repeat is not None:
        return f"repeat this run exactly: {repeat}"
    from reference import REFERENCE_NAMES

    flag = "--crosscheck-" if command.startswith("pytest") else "--"  # the plugin's options
    dtypes = ",".join(run.dtypes)
    shapes = "" if run.selected is None else f" {flag}shapes {_indices(run.selected)}"
    refs = "" if run.references == REFERENCE_NAMES else f" {flag}reference {','.join(run.references)}"
    return (
        f"repeat this run exactly: {command} {flag}seed {run.seed} {flag}examples {run.examples} "
        f"{flag}dtype {dtypes}{refs}{shapes}"
    )


def _skipped(run: Run) -> str:
    skipped = [r for r in run.results if r.status == "skip"]
    refs = dict.fromkeys(r.reference for r in skipped)  # not installed, or declined by the spec
    return f" ({len(skipped)} cells skipped: {', '.join(refs)} not available)" if skipped else ""


def _verdict(run: Run) -> str:
    return ("ALL AGREE" if run.ok else "DISAGREEMENTS FOUND") + _skipped(run)


def render(
    run: Run, fmt: str = "table", command: str = "crosscheck report", repeat: str | None = None
) -> str:
    """The conformance matrix of ``run`` in ``fmt`` ("table", "markdown" or "json")."""
    if fmt == "json":
        return json.dumps(_as_json(run), indent=2) + "\n"
    body = _markdown(run) if fmt == "markdown" else _table(run)
    lines = _header(run, command) + body + ["", _counts(run)]
    if run.failures:
        lines += ["", *_failures(run)]
    lines += ["", f"{_verdict(run)} - {_repeat(run, command, repeat)}"]
    return "\n".join(lines) + "\n"


# ---- failures -----------------------------------------------------------------------------------


def _class_names(target: str) -> str:
    """``Affine`` for ``mine.py:Affine``; ``Softmax,CrossEntropyError`` for a chain."""
    return ",".join(part.rpartition(":")[2].rpartition(".")[2] for part in target.split(","))


def _judges_spec(r: CellResult) -> bool:
    return property_named(r.prop).judges == "spec"


def _target(run: Run, r: CellResult) -> str:
    if run.target is not None:
        return run.target
    from properties.engine.registry import get_spec
    from properties.frontends.loader import target_name

    layer = get_spec(r.spec).layer
    stages = getattr(layer, "stages_classes", None)  # a chain (engine.chain): its classes, joined
    return ",".join(target_name(c) for c in stages) if stages else target_name(layer)


def _snippet_target(target: str) -> str:
    """A file target relative to the working directory (the snippet runs from there, as the command
    did); absolute only for a file outside it. A chain's targets each so."""
    if "," in target:
        return ",".join(_snippet_target(part) for part in target.split(","))
    module_part, _, attr = target.rpartition(":")
    if module_part.endswith(".py") or "/" in module_part:
        path = Path(module_part).expanduser().resolve()
        try:
            return f"{path.relative_to(Path.cwd().resolve()).as_posix()}:{attr}"
        except ValueError:
            return f"{path}:{attr}"
    return target


def snippet(run: Run, r: CellResult) -> str:
    """A standalone pytest file that reproduces failure ``r`` (it fails until the layer is fixed)."""
    assert r.case is not None
    target = _snippet_target(_target(run, r))
    draws = "\n".join(f"            {literal(d)}," for d in r.case.draws)
    name = f"test_{r.spec}_{r.prop}_{r.reference.replace('=', '_')}_{r.dtype}"
    against = "its torch and jax math" if _judges_spec(r) else f"{r.prop} vs {r.reference}"
    seed = "" if r.seed is None else f" (crosscheck seed {run.seed})"
    settings = f"\n        settings={run.settings!r}," if run.settings else ""
    return f'''"""Reproduces a crosscheck disagreement: {target}, spec {r.spec}, {against}, {r.dtype}.

The recorded draws are the shrunk failing example{seed}; run with pytest from the
directory crosscheck ran in.
"""

import numpy as np

from properties import replay


def {name}() -> None:
    replay(
        {target!r},
        spec={r.spec!r},
        property={r.prop!r},
        reference={r.reference!r},
        dtype={r.dtype!r},
        draws=[
{draws}
        ],{settings}
    )
'''


def _indent(text: str, prefix: str = "    ") -> str:
    return "\n".join(prefix + line if line else line for line in text.splitlines())


def _failure(run: Run, r: CellResult, with_snippet: bool) -> list[str]:
    what = "its torch and jax math" if _judges_spec(r) else f"property {r.prop} vs {r.reference}"
    status = {"fail": "FAIL", "error": "ERROR (the class raised)", "vacuous": "VACUOUS"}[r.status]
    lines = [f"{status}: {r.spec}, {what}, {r.dtype}", _indent(r.message)]
    if r.case is not None:
        lines.append("  shrunk input:")
        lines += [f"    {k} = {literal(v)}" for k, v in r.case.arrays.items()]
        if r.case.dout is not None:
            lines.append(f"    dout = {literal(r.case.dout)}")
        if r.errors.max_abs or r.errors.max_rel:
            lines.append(
                f"  errors: largest absolute {r.errors.max_abs:.3g}, largest relative {r.errors.max_rel:.3g}"
            )
        if with_snippet:
            lines += [
                "  reproduce with pytest (save as a test_*.py file):",
                "---8<---",
                snippet(run, r).rstrip(),
                "---8<---",
            ]
    return [*lines, ""]


def render_failure(r: CellResult) -> str:
    """One failed cell as the test suite shows it: the failure, its shrunk input, the snippet."""
    run = Run([r], r.seed or 0, r.examples, (r.reference,), (r.dtype,), {})
    return "\n".join(_failure(run, r, r.case is not None))


def _same(r: CellResult) -> tuple[str, str, str, str]:
    return (r.spec, r.dtype, r.status, r.message)


def _cell_name(r: CellResult) -> str:
    return r.prop if r.reference == SELF else f"{r.prop} vs {r.reference}"


def _failures(run: Run) -> list[str]:
    """Every failure, identical ones (same layer, dtype, status and message) once with a count;
    the reproduction snippet for the first failure of each layer and dtype."""
    groups: dict[tuple[str, str, str, str], list[CellResult]] = {}
    for r in run.failures:
        groups.setdefault(_same(r), []).append(r)
    lines: list[str] = []
    snipped: set[tuple[str, str]] = set()
    for same in groups.values():
        r, more = same[0], same[1:]
        first = (r.spec, r.dtype) not in snipped and r.case is not None
        if first:
            snipped.add((r.spec, r.dtype))
        block = _failure(run, r, first)
        if more:
            word = "error" if r.status == "error" else "failure"
            cells = "cell" if len(more) == 1 else "cells"
            block[2:2] = [
                f"  ... (same {word} in {len(more)} more {cells}: {', '.join(_cell_name(m) for m in more)})"
            ]
        lines += block
    return lines


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


def _indices(indices: Iterable[int]) -> str:
    return ",".join(str(i) for i in indices)


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


def _shape_verdict(run: Run, name: str, command: str, repeat: str | None = None) -> list[str]:
    """The verdict when the class raises on a shape set: which ones, how the values fared on the
    others, and the ``--shapes`` that checks only those (a layer written for 2-D input, say)."""
    raised = _indices(s.index for s in run.shapes if s.status == "raises")
    runs = [s.index for s in run.shapes if s.status == "runs"]
    bad = len(run.failures)
    if not runs:
        values = "it runs on none of the shape sets checked"
    elif bad:
        values = f"on shape set(s) {_indices(runs)}, {bad} cell(s) failed"
    else:
        n = sum(r.examples for r in run.results)
        values = f"on shape set(s) {_indices(runs)} it agrees on every property ({n} examples){_skipped(run)}"
    lines = []
    if runs:
        chain = "--chain " if run.target is not None and "," in run.target else ""
        target = f"crosscheck check {chain}{run.target} --as {run.spec} --shapes {_indices(runs)}"
        lines.append(
            f"if your layer is meant only for shape set(s) {_indices(runs)}, check those alone: {target}"
        )
    lines.append(
        f"{name} DISAGREES with spec {run.spec}: it raises on shape set(s) {raised}; {values} - "
        f"{_repeat(run, command, repeat)}"
    )
    return lines


def render_check(run: Run, repeat: str | None = None) -> str:
    """What ``crosscheck check`` prints: the convention the class follows if it is another known one
    (one line, first), the verdict and the hints for known textbook mistakes, the
    shape sets the class runs on, the layer's row of the matrix, every disagreement (identical ones
    once), and the line that repeats the run (``repeat``: the command line with every option)."""
    name = _class_names(run.target or "?")
    chained = run.target is not None and "," in run.target
    flags = "".join(f" --set {k}={v!r}" for k, v in run.settings.items())
    command = f"crosscheck check {'--chain ' if chained else ''}{run.target} --as {run.spec}{flags}"
    ran = sum(r.status not in ("skip", "n/a") for r in run.results)
    raised = _indices(s.index for s in run.shapes if s.status == "raises")
    if not run.ok:  # the verdict and the hints first: what a person reads before scrolling
        why = [f"{len(run.failures)} of {ran} cells failed"] if run.failures else []
        why += [f"it raises on shape set(s) {raised}"] if raised else []
        top = [f"{name} DISAGREES with spec {run.spec}: {'; '.join(why)}", *run.hints]
        if run.failures and not run.hints:
            first = run.failures[0]
            said = first.message.splitlines()[0] if first.message else first.status
            top.append(f"first: {_cell_name(first)}: {said}")
    else:
        only = "" if run.selected is None else f" on shape set(s) {_indices(run.selected)}"
        top = [f"{name} agrees with spec {run.spec}{only}: {ran} cells passed{_skipped(run)}"]
    if run.convention:  # another known convention: the one line a learner needs, first
        top = [f"CONVENTION: {run.convention}", "", *top]
    top += [f"note: {n}" for n in run.notes]
    lines = [*top, "", *_header(run, command), *_shape_sets(run), *_table(run), "", _counts(run), ""]
    lines += _fp_note(run)
    if any(not s.ok for s in run.shapes):
        lines += _failures(run)
        lines += _shape_verdict(run, name, command, repeat)
        if run.convention:
            lines.append(f"CONVENTION: {run.convention}")
    elif run.failures:
        lines += _failures(run)
        bad = len(run.failures)
        lines.append(
            f"{name} DISAGREES with spec {run.spec}: {bad} cell(s) failed - {_repeat(run, command, repeat)}"
        )
        if run.convention:
            lines.append(f"CONVENTION: {run.convention}")
    else:
        n = sum(r.examples for r in run.results)
        only = "" if run.selected is None else f" on shape set(s) {_indices(run.selected)}"
        lines.append(
            f"{name} agrees with spec {run.spec} on every property{only} ({n} examples){_skipped(run)} - "
            f"{_repeat(run, command, repeat)}"
        )
    return "\n".join(lines) + "\n"


# ---- JSON ---------------------------------------------------------------------------------------


def _jsonable(v: Any) -> Any:
    if isinstance(v, np.ndarray):
        return _jsonable(v.tolist())
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _jsonable(x) for k, x in v.items()}
    if isinstance(v, (float, np.floating)):
        f = float(v)
        return f if math.isfinite(f) else str(f)
    if isinstance(v, np.generic):
        return v.item()
    return v


def _as_json(run: Run) -> dict[str, Any]:
    results = []
    for r in run.results:
        item: dict[str, Any] = {
            "spec": r.spec,
            "property": r.prop,
            "reference": r.reference,
            "dtype": r.dtype,
            "status": r.status,
            "max_abs": r.errors.max_abs,
            "max_rel": r.errors.max_rel,
            "examples": r.examples,
            "seconds": round(r.seconds, 3),
            "message": r.message,
        }
        if r.case is not None:
            item["input"] = {**r.case.arrays, **({"dout": r.case.dout} if r.case.dout is not None else {})}
            item["snippet"] = snippet(run, r)
        results.append(item)
    return _jsonable(
        {
            "ok": run.ok,
            "seed": run.seed,
            "examples": run.examples,
            "dtypes": list(run.dtypes),
            "references": {n: run.unavailable.get(n, "available") for n in run.references},
            "target": run.target,
            "settings": run.settings,
            "convention": run.convention,
            "notes": run.notes,
            "hints": run.hints,
            "seconds": round(run.seconds, 3),
            **({"shapes": [_shape_json(s) for s in run.shapes]} if run.shapes else {}),
            "results": results,
        }
    )


def _shape_json(s: ShapeResult) -> dict[str, Any]:
    return {"index": s.index, "label": s.label, "status": s.status, "message": s.message}


# ---- crosscheck list ----------------------------------------------------------------------------


def render_list(specs: Iterable[LayerSpec], fmt: str = "table") -> str:
    described = [s.describe() for s in specs]
    if fmt == "json":
        return json.dumps(described, indent=2) + "\n"
    lines: list[str] = []
    for d in described:
        lines.append(f"{d['name']}  ({d['layer']}): {d['summary']}")
        lines.append(f"    inputs: {_names(d['inputs'], d['constants'])}")
        if d["params"]:
            lines.append(f"    parameters: {', '.join(d['params'])}")
        lines.append("    shapes (check --shapes picks by index):")
        lines += [f"      [{i}] {_shape(s)}" for i, s in enumerate(d["shapes"])]
        lines.append(f"    kinks: {d['kinks']}")
        lines.append(f"    dtypes: {', '.join(d['dtypes'])}")
        if d.get("settings"):
            lines.append(f"    settings (--set): {', '.join(f'{k}={v!r}' for k, v in d['settings'].items())}")
        if d.get("alternatives"):
            lines.append(f"    other known conventions: {'; '.join(d['alternatives'])}")
    return "\n".join(lines) + "\n"


def _names(inputs: Sequence[str], constants: Sequence[str]) -> str:
    return ", ".join(f"{i} (not differentiated)" if i in constants else i for i in inputs)


def _shape(s: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in s.items())
