"""``crosscheck check PATH``: every class of a file or folder whose name matches a spec, checked in
one process (torch and jax are imported once), and one table: name, spec, verdict, first reason.

Each item goes through ``check_layer`` as a standalone check would, convention probing included,
with fewer examples and no shrinking by default (a whole file in seconds; each failing row ends
with the line that checks it alone in full). A network that disagrees is taken apart by
``networks.diagnose``: the verdict names its faulty layer.
"""

from __future__ import annotations

import argparse
import inspect
import json
import re
import shlex
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from layer_crosscheck.properties.engine.errors import EXIT_UNFINISHED, Unfinished
from layer_crosscheck.properties.engine.explore import (
    DEFAULT_EXAMPLES,
    SHRINK_SECONDS,
    FloatingPoint,
    Options,
)
from layer_crosscheck.properties.engine.registry import normalised
from layer_crosscheck.properties.engine.results import Run
from layer_crosscheck.properties.engine.schedule import new_seed
from layer_crosscheck.properties.engine.spec import LayerSpec, NetSpec
from layer_crosscheck.properties.frontends.api import check_layer, spec_named
from layer_crosscheck.properties.frontends.discovery import Item, discover, spec_of
from layer_crosscheck.properties.frontends.loader import UsageError, commas, load_target
from layer_crosscheck.properties.frontends.networks import LayerVerdict, diagnose, summary
from layer_crosscheck.properties.frontends.report import cell_name, indices

__all__ = ["WHOLE_FILE_EXAMPLES", "Row", "check_path", "main", "reason_of", "render_rows", "verdict_of"]

#: examples per cell for each item (``--examples`` overrides): the book's Relu and SoftmaxWithLoss,
#: and every planted bug of tests/test_whole_file.py, are caught with these
WHOLE_FILE_EXAMPLES = 10

#: the order of the table: the most specific finding first
_RANK = {
    "DISAGREES": 0,
    "net": 1,
    "FRAGILE": 2,
    "CONVENTION": 3,
    "could not load": 4,
    "UNFINISHED": 5,
    "agrees": 6,
    "no spec": 7,
}


@dataclass
class Row:
    """One item of the table: what was found, the verdict, its first reason, and the run."""

    item: Item
    verdict: str
    reason: str = ""
    run: Run | None = None
    #: a network that disagrees: its layer classes, each checked on its own
    layers: list[LayerVerdict] = field(default_factory=list)

    @property
    def checked(self) -> bool:
        return self.verdict != "no spec"

    @property
    def ok(self) -> bool:
        return self.verdict in ("agrees", "no spec")

    @property
    def rank(self) -> int:
        if isinstance(self.item.spec, NetSpec) and not self.ok:
            return _RANK["net"]
        return _RANK.get(self.verdict, _RANK.get(self.verdict.split()[0], _RANK["DISAGREES"]))


def verdict_of(run: Run) -> str:
    """``agrees``, ``CONVENTION <spec>`` (the spec it follows instead), or the run's kind of
    disagreement (``DISAGREES``, or another kind the run names, e.g. ``FRAGILE``)."""
    if run.ok:
        return "agrees"
    if run.convention:
        followed = re.search(r"--as (\S+)", run.convention)
        return f"CONVENTION {followed.group(1)}" if followed else "CONVENTION"
    kind = getattr(run, "kind", None)  # the kind of finding, where the run names one ("fragile")
    return kind.upper() if isinstance(kind, str) and kind not in ("", "agrees", "disagrees") else "DISAGREES"


def reason_of(run: Run) -> str:
    """The first reason, in a few words: the convention it follows, a hint for a known textbook
    mistake, the shape sets it raises on, or the first failing cell's first line."""
    if run.ok:
        return ""
    if run.convention:  # "X follows NAME (spec S), not spec T: rerun with crosscheck check X --as S ..."
        head, _, rerun = run.convention.partition(": rerun with ")
        follows = head.partition(" follows ")[2] or head
        flags = rerun.partition(" --as ")[2]
        name = follows.rpartition(" (spec ")[0] or follows
        return f"{name}: rerun with --as {flags}" if flags else name
    if run.hints:
        return run.hints[0].removeprefix("hint: ").split(" (")[0]
    raised = [s for s in run.shapes if s.status == "raises"]
    if raised:
        return f"raises on shape set(s) {indices(s.index for s in raised)}: {raised[0].message}"
    first = run.failures[0]
    said = first.message.splitlines()[0] if first.message else first.status
    said = said.rstrip(".")
    said = said if said.startswith(f"{first.spec} ") else f"{cell_name(first)}: {said}"
    why = getattr(run, "kind_why", "")  # what a kind of finding rests on ("|values| <= 100")
    return f"{said} ({why})" if why else said


def _key(cls: Any, spec: LayerSpec) -> tuple[Any, ...]:
    """A class by its source (the book's ``common.layers.Relu`` imported by ``ch05`` is the class
    ``common/layers.py`` defines): checked once per spec however often it is found."""
    try:
        where: Any = inspect.getsourcefile(cls)
    except (TypeError, OSError):  # a class made at run time (a finder's), or a built-in
        where = None
    return (where or id(cls), getattr(cls, "__qualname__", repr(cls)), spec.name)


def check_path(
    items: Sequence[Item],
    mapping: Mapping[str, LayerSpec],
    options: Options,
    progress: Callable[[int, int, Row, float], None] | None = None,
) -> list[Row]:
    """A row per item, in the order found; each matched item checked once, in this process, with
    ``options`` (``check_layer``'s, the same for every item)."""
    runs: dict[tuple[Any, ...], Run] = {}

    def check(target: Any, spec: LayerSpec) -> Run:
        cls = load_target(target) if isinstance(target, str) else target
        key = _key(cls, spec)
        if key not in runs:
            runs[key] = check_layer(target, spec, options)
        return runs[key]

    todo = [i for i in items if i.spec is not None and not i.error]
    # layers before nets: a net's layers are then found checked, under their own file's name
    todo.sort(key=lambda i: isinstance(i.spec, NetSpec))
    rows = {id(i): Row(i, "could not load", i.error) if i.error else Row(i, "no spec") for i in items}
    for n, item in enumerate(todo, 1):
        started = time.perf_counter()
        rows[id(item)] = _row(item, mapping, check)
        if progress is not None:
            progress(n, len(todo), rows[id(item)], time.perf_counter() - started)
    return [rows[id(i)] for i in items]


def _row(item: Item, mapping: Mapping[str, LayerSpec], check: Callable[[Any, LayerSpec], Run]) -> Row:
    """The row of an item that has a spec and was loaded: its check, and a net's diagnosis."""
    assert item.spec is not None
    try:
        run = check(item.target, item.spec)
    except Unfinished as exc:  # the assignment's stub: one row, not a failure
        return Row(item, "UNFINISHED", str(exc))
    except UsageError as exc:
        return Row(item, "could not load", str(exc))
    row = Row(item, verdict_of(run), reason_of(run), run)
    if isinstance(item.spec, NetSpec) and not run.ok and not run.convention:
        cls = load_target(item.target) if isinstance(item.target, str) else item.target
        row.layers = diagnose(item.spec, cls, lambda c, n: spec_of(c, n, mapping), check)
        if any(v.faulty for v in row.layers):
            row.reason = summary(row.layers, reason_of)
        elif row.layers:
            where = "the net's own code" + (
                "" if all(v.spec for v in row.layers) else " or a layer without a spec"
            )
            row.reason = (
                f"its layers: {summary(row.layers, reason_of)}; so the fault is in {where}: {row.reason}"
            )
    return row


def _rerun(row: Row, again: str) -> str:
    """The command that checks one row's item alone, in full (shrunk failures, the matrix)."""
    assert row.run is not None and row.item.spec is not None
    target = row.run.target or ""
    return f"crosscheck check {shlex.quote(target)} --as {row.item.spec.name}{again}"


def _details(row: Row, again: str) -> list[str]:
    """A failing row, short: what failed, the hints, each layer of a net, the line to rerun it."""
    where = f"{row.item.path}:{row.item.name}"
    if row.run is None:
        return [f"{row.item.name} ({where}): {row.verdict}: {row.reason}"]
    run = row.run
    spec = row.item.spec.name if row.item.spec else "?"
    ran = sum(r.status not in ("skip", "n/a") for r in run.results)
    runs = indices(s.index for s in run.shapes if s.status == "runs")
    failed = (
        f"{len(run.failures)} of {ran} cells failed" if run.failures else f"it agrees on shape set(s) {runs}"
    )
    lines = [f"{row.item.name} ({where}, spec {spec}): {row.verdict}: {failed}"]
    if run.convention:  # the line that names it ends with the flags that check it in full
        lines.append(f"    CONVENTION: {run.convention}")
    else:
        lines += [f"    {h}" for h in run.hints] or [f"    first: {reason_of(run)}"]
    for v in row.layers:
        names = ", ".join(f"'{n}'" for n in v.names)
        if v.run is not None:
            said = verdict_of(v.run) + (f": {reason_of(v.run)}" if not v.run.ok else "")
            lines.append(
                f"    layer {names} ({v.cls.__name__}, spec {v.spec.name if v.spec else '?'}): {said}"
            )
        else:
            lines.append(f"    layer {names} ({v.cls.__name__}): {v.error or 'no spec'}")
    if run.convention:
        return lines
    if runs and any(s.status == "raises" for s in run.shapes):
        again += f" --shapes {runs}"  # what checks a layer meant only for the shapes it runs on
    lines.append(f"    alone, in full: {_rerun(row, again)}")
    return lines


def _table(rows: Sequence[Row]) -> list[str]:
    files = len({r.item.path for r in rows}) > 1
    head = ["name", *(["file"] if files else []), "spec", "verdict", "first reason"]
    body = [
        [
            r.item.name,
            *([r.item.path] if files else []),
            r.item.spec.name if r.item.spec else "-",
            r.verdict,
            r.reason,
        ]
        for r in rows
    ]
    widths = [max(len(line[i]) for line in [head, *body]) for i in range(len(head) - 1)]
    return [
        "  ".join([*(c.ljust(w) for c, w in zip(line, widths, strict=False)), line[-1]]).rstrip()
        for line in [head, *body]
    ]


def render_rows(rows: Sequence[Row], path: str, seconds: float, repeat: str, again: str) -> str:
    """The table (most specific finding first), the details of the failing rows, the summary."""
    ordered = sorted(rows, key=lambda r: r.rank)
    checked = [r for r in rows if r.checked]
    agree = sum(r.ok for r in checked)
    said = f"{agree} of {len(checked)} checked item(s) agree"
    if len(checked) > agree:
        said += f", {len(checked) - agree} do not"
    unmatched = len(rows) - len(checked)
    if unmatched:
        said += f"; {unmatched} class(es) without a spec (--as Name=spec maps one)"
    if not rows:
        said = "no class found"
    details = [line for r in ordered if not r.ok for line in ["", *_details(r, again)]]
    end = f"crosscheck check {path}: {said} ({seconds:.1f} s) - repeat with {repeat}"
    return "\n".join([*_table(ordered), *details, "", end]) + "\n"


def _as_json(rows: Sequence[Row], path: str, seed: int, seconds: float) -> str:
    def layer(v: LayerVerdict) -> dict[str, Any]:
        verdict = verdict_of(v.run) if v.run is not None else ("could not load" if v.error else "no spec")
        reason = reason_of(v.run) if v.run is not None else v.error
        spec = v.spec.name if v.spec else None
        return {"names": v.names, "class": v.cls.__name__, "spec": spec, "verdict": verdict, "reason": reason}

    items = [
        {
            "name": r.item.name,
            "file": r.item.path,
            "spec": r.item.spec.name if r.item.spec else None,
            "verdict": r.verdict,
            "reason": r.reason,
            "layers": [layer(v) for v in r.layers],
        }
        for r in rows
    ]
    ok = all(r.ok for r in rows)
    return (
        json.dumps(
            {"path": path, "seed": seed, "seconds": round(seconds, 2), "ok": ok, "items": items}, indent=2
        )
        + "\n"
    )


def _mapping(text: str | None) -> dict[str, LayerSpec]:
    """``--as Name=spec[,Name=spec]``: the specs for classes whose names match none."""
    mapping = {}
    for part in commas(text or ""):
        name, sep, spec = part.partition("=")
        if not sep or not name.strip() or not spec.strip():
            raise UsageError(
                f"--as {part!r}: a file or folder takes --as Name=spec (e.g. --as MyRelu=relu); "
                f"to check one class: path/to/file.py:ClassName --as {part}"
            )
        mapping[name.strip()] = spec_named(spec.strip())
    return mapping


def _refuse(args: argparse.Namespace) -> None:
    one = "check one class alone (path/to/file.py:ClassName --as SPEC)"
    if args.settings:
        raise UsageError(f"--set changes one spec's setting: {one}")
    if args.shapes:
        raise UsageError(f"--shapes picks one spec's shape sets: {one}")


def _repeat(args: argparse.Namespace, seed: int, examples: int) -> tuple[str, str]:
    """The line that repeats the whole run, and the options every rerun of one item repeats."""
    again = f" --seed {seed} --examples {examples}"
    if args.reference:
        again += f" --reference {','.join(args.reference)}"
    if args.dtype != ["float64"]:
        again += f" --dtype {','.join(args.dtype)}"
    if args.strict_fp:
        again += " --strict-fp"
    given = f" --as {shlex.quote(args.spec)}" if args.spec else ""
    return f"crosscheck check {shlex.quote(args.target)}{given}{again}", again


def main(args: argparse.Namespace) -> int:
    """``crosscheck check PATH`` from the command line's arguments; the exit status (0: every item
    checked agrees; 1: one does not, or could not be loaded; 2: a usage error)."""
    path = Path(args.target)
    if not path.exists():
        raise UsageError(
            f"no file or folder {args.target}: a target must look like path/to/file.py:ClassName or "
            "package.module:ClassName, or name a file or folder (every class in it is checked)"
        )
    _refuse(args)
    mapping = _mapping(args.spec)
    items = discover(path, mapping)
    found = {normalised(i.name) for i in items}
    missing = [n for n in mapping if normalised(n) not in found]
    if missing:
        raise UsageError(f"--as {missing[0]}=...: {args.target} has no class named {missing[0]!r}")
    seed = args.seed if args.seed is not None else new_seed()
    examples = WHOLE_FILE_EXAMPLES if args.examples == DEFAULT_EXAMPLES else args.examples
    shrink = 0.0 if args.shrink_time == SHRINK_SECONDS else args.shrink_time
    fp: FloatingPoint = "raise" if args.strict_fp else "record"
    options = Options(examples, seed, shrink, fp, references=args.reference, dtypes=args.dtype)
    repeat, again = _repeat(args, seed, examples)

    def show(i: int, n: int, row: Row, seconds: float) -> None:
        if i == 1:
            given = "given" if args.seed is not None else "random; repeat with --seed"
            print(f"crosscheck check {args.target}: seed {seed} ({given})", file=sys.stderr, flush=True)
        spec = row.item.spec.name if row.item.spec else "-"
        print(
            f"[{i:>{len(str(n))}}/{n}] {row.item.name} ({spec}) {row.verdict} {seconds:.2f}s",
            file=sys.stderr,
            flush=True,
        )

    started = time.perf_counter()
    rows = check_path(items, mapping, options, None if args.quiet else show)
    seconds = time.perf_counter() - started
    if args.format == "json":
        sys.stdout.write(_as_json(rows, args.target, seed, seconds))
    else:
        sys.stdout.write(render_rows(rows, args.target, seconds, repeat, again))
    if any(r.checked for r in rows) and all(r.ok or r.verdict == "UNFINISHED" for r in rows):
        return 0 if all(r.ok for r in rows) else EXIT_UNFINISHED  # stubs left, nothing wrong
    return 1
