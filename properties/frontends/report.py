"""``crosscheck report``: a run as the conformance matrix (text, markdown, JSON), its failures as a
person can act on them (the property, the reference, the shrunk input, the errors, a pytest
snippet), and ``crosscheck list``. The matrix and failure blocks are shared with verdict.py.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from layer_crosscheck.properties.engine.checks import PROPERTIES, property_named
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.matrix import SELF
from layer_crosscheck.properties.engine.results import CellResult, Run
from layer_crosscheck.properties.engine.spec import LayerSpec
from layer_crosscheck.properties.frontends.loader import is_file, target_name

__all__ = ["literal", "render", "render_failure", "render_list", "snippet"]

_BLOCK_TITLES = {
    "torch": "torch (PyTorch autograd)",
    "jax": "jax (JAX autodiff)",
    "fd": "fd (finite differences of the layer's own forward)",
    SELF: "self (the layer against itself)",
}


def literal(v: Any) -> str:
    """``v`` as Python source that rebuilds it exactly (arrays with their dtype, floats round-trip)."""
    if isinstance(v, np.ndarray):
        return f"np.array({literal(v.tolist())}, dtype=np.{v.dtype.name})"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k!r}: {literal(x)}" for k, x in v.items()) + "}"
    if isinstance(v, tuple):
        inner = ", ".join(literal(x) for x in v)
        return f"({inner},)" if len(v) == 1 else f"({inner})"
    if isinstance(v, list):
        return "[" + ", ".join(literal(x) for x in v) + "]"
    if isinstance(v, (bool, np.bool_)):
        return repr(bool(v))
    if isinstance(v, (int, np.integer)):
        return repr(int(v))
    if isinstance(v, (float, np.floating)):  # a plain number, not np.float64(...); inf and nan too
        return repr(float(v)) if math.isfinite(v) else f'float("{float(v)}")'
    return repr(v)


def _e(x: float) -> str:
    return "0" if x == 0 else f"{x:.1e}"


#: an error below this fraction of its tolerance is shown as such, not as 1.0e-183
NEGLIGIBLE = 1e-9


def _ratio(x: float) -> str:
    """An error over its tolerance as the matrix shows it: 1 is the verdict's line."""
    return "<1e-9" if 0 < x < NEGLIGIBLE else _e(x)


def _cell(r: CellResult | None, markdown: bool) -> str:
    if r is None:
        return ""
    if r.status in ("n/a", "skip"):
        return r.status
    word = r.status if r.status == "pass" else r.status.upper()
    no_errors = r.status == "error" or (r.status == "fail" and not (r.errors.max_ratio or r.errors.max_rel))
    if markdown:
        errors = "" if no_errors else f" {_ratio(r.errors.max_ratio)} / {_e(r.errors.max_rel)}"
        return f"{word}{errors} n={r.examples}"
    ratio, rel = ("-", "-") if no_errors else (_ratio(r.errors.max_ratio), _e(r.errors.max_rel))
    return f"{word:<7} {ratio:>7} {rel:>7} {r.examples:>3}"


def class_names(target: str) -> str:
    """``Affine`` for ``mine.py:Affine``; ``Softmax,CrossEntropyError`` for a chain."""
    return ",".join(part.rpartition(":")[2].rpartition(".")[2] for part in target.split(","))


def table(run: Run, markdown: bool = False) -> list[str]:
    """One block per reference (a skipped one says why), one row per layer and dtype, one column
    per property judged against that reference."""
    index = {(r.spec, r.dtype, r.reference, r.prop): r for r in run.results}
    rows = list(dict.fromkeys((r.spec, r.dtype) for r in run.results))
    specs = list(dict.fromkeys(s for s, _ in rows))
    rank = {d: i for i, d in enumerate(run.dtypes)}
    rows.sort(key=lambda k: (specs.index(k[0]), rank.get(k[1], 99)))
    labels = {s: s if run.target is None else f"{class_names(run.target)} as {s}" for s in specs}
    width = max([len(label) for label in labels.values()] + [5])

    def row(label: str, dtype: str, cells: list[str]) -> str:
        if markdown:
            return f"| {label} | {dtype} | " + " | ".join(cells) + " |"
        return (f"{label:<{width}}  {dtype:<7}  " + "  ".join(f"{c:<26}" for c in cells)).rstrip()

    lines: list[str] = []
    present = {r.reference for r in run.results}
    for ref in [x for x in (*run.references, SELF) if x in present]:
        judged = {r.prop for r in run.results if r.reference == ref}
        cols = [p.name for p in PROPERTIES if ref in (p.references or (SELF,)) and p.name in judged]
        title = _BLOCK_TITLES.get(ref, ref)
        if ref in run.unavailable:
            title += f": skipped - {run.unavailable[ref]}"
        head = row("layer", "dtype", cols)
        if markdown:
            lines += ["", f"#### {title}", "", head, "|---|---|" + "---|" * len(cols)]
        else:
            lines += ["", title, head, "-" * len(head)]
        for spec, dt in rows:
            cells = [_cell(index.get((spec, dt, ref, c)), markdown) for c in cols]
            if any(cells):
                lines.append(row(labels[spec], dt, cells))
    return lines


def counts(run: Run) -> str:
    statuses = ["pass", "fail", "error", "vacuous", "skip", "n/a"]
    n = {s: sum(r.status == s for r in run.results) for s in statuses}
    ran = sum(n[s] for s in statuses[:4])
    return f"{ran} cells run: " + ", ".join(f"{n[s]} {s}" for s in statuses) + f"; {run.seconds:.1f} s"


def header(run: Run, command: str) -> list[str]:
    return [
        f"{command}: {run.examples} examples per cell, dtypes {', '.join(run.dtypes)}, seed {run.seed}",
        "cell: status, largest error / tolerance |got - ref| / (rtol (|ref| + scale) + atol) (what the "
        "verdict judged: at most 1 passes), largest relative error |got - ref| / |ref| (over the "
        "elements where |ref| is at least 1e-3 of the largest; a reference of zeros has none: inf in "
        "a FAIL), examples that passed; a FAIL shows its failing example's errors. FAIL: the values "
        "disagree; ERROR: the class raised",
    ]


def indices(values: Iterable[int]) -> str:
    return ",".join(str(i) for i in values)


def repeat_line(run: Run, command: str, repeat: str | None = None) -> str:
    """The line that repeats the run: ``repeat`` as the command line gave it (every option), else
    rebuilt from the run."""
    if repeat is None:
        from layer_crosscheck.reference import REFERENCE_NAMES

        flag = "--crosscheck-" if command.startswith("pytest") else "--"  # the plugin's options
        refs = "" if run.references == REFERENCE_NAMES else f" {flag}reference {','.join(run.references)}"
        shapes = "" if run.selected is None else f" {flag}shapes {indices(run.selected)}"
        repeat = (
            f"{command} {flag}seed {run.seed} {flag}examples {run.examples} "
            f"{flag}dtype {','.join(run.dtypes)}{refs}{shapes}"
        )
    return f"repeat this run exactly: {repeat}"


def skipped(run: Run) -> str:
    cells = [r for r in run.results if r.status == "skip"]
    why = dict.fromkeys(r.message or f"{r.reference} not available" for r in cells)  # not installed, declined
    return f" ({len(cells)} cells skipped: {'; '.join(why)})" if cells else ""


def render(
    run: Run, fmt: str = "table", command: str = "crosscheck report", repeat: str | None = None
) -> str:
    """The conformance matrix of ``run`` in ``fmt`` ("table", "markdown" or "json")."""
    if fmt == "json":
        return json.dumps(_as_json(run), indent=2) + "\n"
    lines = [*header(run, command), *table(run, fmt == "markdown"), "", counts(run)]
    if run.failures:
        lines += ["", *failures(run)]
    verdict = "ALL AGREE" if run.ok else "DISAGREEMENTS FOUND"
    lines += ["", f"{verdict}{skipped(run)} - {repeat_line(run, command, repeat)}"]
    return "\n".join(lines) + "\n"


def _judges_spec(r: CellResult) -> bool:
    # a cell of no generic property (a CS231n pair's audit, engine/function_pair.py) judges the class
    return r.prop in {p.name for p in PROPERTIES} and property_named(r.prop).judges == "spec"


def layer_target(run: Run, r: CellResult) -> str:
    """The checked class as a loadable target (the spec's own layer when the run has no target)."""
    if run.target is not None:
        return run.target
    from layer_crosscheck.properties.engine.registry import get_spec

    layer = get_spec(r.spec).layer
    stages = getattr(layer, "stages_classes", None)  # a chain (engine.chain): its classes, joined
    return ",".join(target_name(c) for c in stages) if stages else target_name(layer)


def _snippet_target(target: str) -> str:
    """A file target relative to the working directory (the snippet runs from there, as the command
    did); absolute only for a file outside it. A chain's targets each so."""
    if "," in target:
        return ",".join(_snippet_target(part) for part in target.split(","))
    module_part, _, attr = target.rpartition(":")
    if is_file(module_part):
        path = Path(module_part).expanduser().resolve()
        try:
            return f"{path.relative_to(Path.cwd().resolve()).as_posix()}:{attr}"
        except ValueError:
            return f"{path}:{attr}"
    return target


def snippet(run: Run, r: CellResult, compact: bool = False) -> str:
    """A standalone pytest file that reproduces failure ``r`` (it fails until the layer is fixed);
    ``compact``: without the docstring, the call's arguments on one line (the brief report)."""
    assert r.case is not None
    target = _snippet_target(layer_target(run, r))
    draws = "\n".join(f"            {literal(d)}," for d in r.case.draws)
    name = f"test_{r.spec}_{r.prop}_{r.reference.replace('=', '_')}_{r.dtype}"
    against = "its torch and jax math" if _judges_spec(r) else f"{r.prop} vs {r.reference}"
    seed = "" if r.seed is None else f" (crosscheck seed {run.seed})"
    settings = f"\n        settings={run.settings!r}," if run.settings else ""
    if compact:
        settings = f" settings={run.settings!r}," if run.settings else ""
        call = (
            f"{target!r}, spec={r.spec!r}, property={r.prop!r}, reference={r.reference!r}, "
            f"dtype={r.dtype!r},{settings} draws=["
        )
        rows = "\n".join(f"        {literal(d)}," for d in r.case.draws)
        return (
            "import numpy as np\nfrom layer_crosscheck.properties import replay\n\n"
            f"def {name}() -> None:\n    replay({call}\n{rows}\n    ])\n"
        )
    return f'''"""Reproduces a crosscheck disagreement: {target}, spec {r.spec}, {against}, {r.dtype}.

The recorded draws are the shrunk failing example{seed}; run with pytest from the
directory crosscheck ran in.
"""

import numpy as np

from layer_crosscheck.properties import replay


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


def _failure(run: Run, r: CellResult, with_snippet: bool, compact: bool = False) -> list[str]:
    what = "its torch and jax math" if _judges_spec(r) else f"property {r.prop} vs {r.reference}"
    status = {"fail": "FAIL", "error": "ERROR (the class raised)", "vacuous": "VACUOUS"}[r.status]
    message = "\n".join("    " + line if line else line for line in r.message.splitlines())
    lines = [f"{status}: {r.spec}, {what}, {r.dtype}", message]
    if r.case is not None:
        lines.append("  shrunk input:")
        lines += [f"    {k} = {literal(v)}" for k, v in r.case.arrays.items()]
        if r.case.dout is not None:
            lines.append(f"    dout = {literal(r.case.dout)}")
        if r.errors.max_ratio or r.errors.max_rel:
            lines.append(
                f"  errors: {r.errors.max_ratio:.3g} times the tolerance; largest absolute "
                f"{r.errors.max_abs:.3g}, largest relative {r.errors.max_rel:.3g}"
            )
        if with_snippet and compact:
            lines += ["  reproduce with pytest (save as a test_*.py file):", snippet(run, r, True).rstrip()]
        elif with_snippet:
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


def cell_name(r: CellResult) -> str:
    return r.prop if r.reference == SELF else f"{r.prop} vs {r.reference}"


def failures(run: Run, first_only: bool = False) -> list[str]:
    """Every failure, identical ones (same layer, dtype, status and message) once with a count;
    the reproduction snippet for the first failure of each layer and dtype. ``first_only``: the
    first of them alone, its snippet compact (the brief report)."""
    groups: dict[tuple[str, str, str, str], list[CellResult]] = {}
    for r in run.failures:
        groups.setdefault((r.spec, r.dtype, r.status, r.message), []).append(r)
    lines: list[str] = []
    snipped: set[tuple[str, str]] = set()
    for r, *more in groups.values():
        first = (r.spec, r.dtype) not in snipped and r.case is not None
        if first:
            snipped.add((r.spec, r.dtype))
        block = _failure(run, r, first, compact=first_only)
        if more:
            word = "error" if r.status == "error" else "failure"
            cells = "cell" if len(more) == 1 else "cells"
            block[2:2] = [
                f"  ... (same {word} in {len(more)} more {cells}: {', '.join(cell_name(m) for m in more)})"
            ]
        lines += block
        if first_only:
            break
    return lines


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
            "max_error_over_tolerance": r.errors.max_ratio,
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
            "kind": run.kind,
            "fault": run.fault,
            "notes": run.notes,
            "hints": run.hints,
            "seconds": round(run.seconds, 3),
            **({"shapes": [dataclasses.asdict(s) for s in run.shapes]} if run.shapes else {}),
            "results": results,
        }
    )


def render_list(specs: Iterable[LayerSpec], fmt: str = "table") -> str:
    described = [{**s.describe(), "calls": driver_for(s).calling_forms()} for s in specs]
    if fmt == "json":
        return json.dumps(described, indent=2) + "\n"
    lines: list[str] = []
    for d in described:
        inputs = ", ".join(f"{i} (not differentiated)" if i in d["constants"] else i for i in d["inputs"])
        lines += [f"{d['name']}  ({d['layer']}): {d['summary']}", f"    inputs: {inputs}"]
        if d["params"]:
            lines.append(f"    parameters: {', '.join(d['params'])}")
        if d.get("outputs"):
            lines.append(f"    outputs: {', '.join(d['outputs'])} (one upstream gradient each)")
        lines.append("    shapes (check --shapes picks by index):")
        for i, shape in enumerate(d["shapes"]):
            lines.append(f"      [{i}] " + ", ".join(f"{k}={v}" for k, v in shape.items()))
        lines += [f"    kinks: {d['kinks']}", f"    dtypes: {', '.join(d['dtypes'])}"]
        if d.get("settings"):
            lines.append(f"    settings (--set): {', '.join(f'{k}={v!r}' for k, v in d['settings'].items())}")
        if d.get("alternatives"):
            lines.append(f"    other known conventions: {'; '.join(d['alternatives'])}")
        if d.get("calls"):
            lines += ["    calls (what the class must accept):", *(f"      {c}" for c in d["calls"])]
    return "\n".join(lines) + "\n"
