"""5. Check latency: how long ``crosscheck check`` takes, end to end, for one layer.

Each check is a fresh process (``python -m layer_crosscheck.properties check TARGET --as SPEC``), as a learner
runs it: interpreter start, imports, the references' first use, every cell, and for a failing
check its shrinking, convention probes and hints. Each seed layer is checked twice: a correct class
and one with a planted bug (one that writes into the read-only ``dout``, the same deterministic
error in every cell; or one with wrong numbers). The machine is shared, so every check runs several
times, interleaved, and the table shows the **median** wall time next to the median CPU time (user +
system of the process and its children, which neighbours' load inflates far less than the wall
time). The import rows say where the fixed cost goes.

``python -m benchmarks.check_latency [--tree DIR] [--runs N]`` prints the table for the checkout
in DIR (default: this one), e.g. to measure an older commit side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHECKS", "IMPORTS", "measure", "run"]

ROOT = Path(__file__).resolve().parent.parent
SEED = 1

#: (label, target, spec): seed layers from impl and from the zoo, passing and failing, and the
#: largest network
CHECKS: tuple[tuple[str, str, str | None], ...] = (
    ("Relu (impl), passes", "layer_crosscheck.impl.activations:Relu", "relu"),
    ("ReluWritesIntoDout (zoo file), fails", "tests/zoo/broken.py:ReluWritesIntoDout", "relu"),
    ("Sigmoid (impl), passes", "layer_crosscheck.impl.activations:Sigmoid", "sigmoid"),
    (
        "SigmoidScalesDoutInPlace (zoo file), fails",
        "tests/zoo/mistakes.py:SigmoidScalesDoutInPlace",
        "sigmoid",
    ),
    ("AffineBook2 (zoo file), passes", "tests/zoo/correct.py:AffineBook2", "affine"),
    ("AffineDbAveraged (zoo file), fails", "tests/zoo/broken.py:AffineDbAveraged", "affine"),
    (
        "SoftmaxWithLoss (impl), passes",
        "layer_crosscheck.impl.softmax_loss:SoftmaxWithLoss",
        "softmax_with_loss",
    ),
    (
        "SoftmaxWithLossIgnoresDout (zoo file), fails",
        "tests/zoo/broken.py:SoftmaxWithLossIgnoresDout",
        "softmax_with_loss",
    ),
    (
        "SimpleConvNet (impl), passes",
        "layer_crosscheck.impl.simple_conv_net:SimpleConvNet",
        "simple_conv_net",
    ),
    # whole-file mode (no spec): the book's common/layers.py, its 8 classes in one process
    ("the book's common/layers.py (whole file)", "tests/zoo/book_project/common/layers.py", None),
)
#: (label, python statement): the fixed costs a check pays before its first cell
IMPORTS: tuple[tuple[str, str], ...] = (
    ("interpreter + properties (CLI, specs, Hypothesis)", "import properties.frontends.cli"),
    ("+ import torch", "import properties.frontends.cli, torch"),
    ("+ import jax", "import properties.frontends.cli, jax, jax.numpy"),
)


@dataclass(frozen=True)
class Timed:
    wall: float
    cpu: float
    engine: float | None = None  # the check's own "N cells run ...; X s" (cells only)


def _timed(argv: list[str], tree: Path) -> Timed:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}: {proc.stderr.strip()[-500:]}")
    engine = None
    if "--format" in argv:
        try:
            engine = float(json.loads(proc.stdout)["seconds"])
        except (ValueError, KeyError, TypeError):
            engine = None
    return Timed(wall, cpu, engine)


def measure(
    tree: Path = ROOT, runs: int = 3, only: str | None = None
) -> tuple[list[tuple[str, Timed, int]], list[tuple[str, Timed]]]:
    """Median timings of every check (``only``: those whose label contains it) and import probe in
    ``tree`` (a checkout of this project), the checks interleaved round by round."""
    wanted = [w.strip().lower() for w in (only or "").split(",") if w.strip()]
    chosen = [c for c in CHECKS if not wanted or any(w in c[0].lower() for w in wanted)]
    samples: dict[str, list[Timed]] = {label: [] for label, _, _ in chosen}
    for _ in range(runs):
        for label, target, spec in chosen:
            argv = [
                sys.executable,
                "-m",
                "layer_crosscheck",
                "check",
                target,
                *(["--as", spec] if spec else []),
            ]
            argv += ["--seed", str(SEED), "--format", "json", "-q"]
            samples[label].append(t := _timed(argv, tree))
            print(f"# {label}: wall {t.wall:.2f} s, CPU {t.cpu:.2f} s", file=sys.stderr, flush=True)
    checks = [(label, _median(timings), runs) for label, timings in samples.items()]
    imports = []
    for label, statement in IMPORTS if only is None else ():
        imports.append(
            (label, _median([_timed([sys.executable, "-c", statement], tree) for _ in range(runs)]))
        )
    return checks, imports


#: a watch session in one process: the first check of a copy of tests/zoo/correct.py (ReluWhere),
#: then re-checks, each after a save (the file touched), timed as ``crosscheck watch`` runs them;
#: prints one "wall cpu" line per check
_WATCH = """
import io, os, sys, time
from layer_crosscheck.properties.frontends.api import check_layer
from layer_crosscheck.properties.frontends.watch import watch
path, rounds, times = sys.argv[1], int(sys.argv[2]), []
def check(target, spec):
    wall, cpu = time.perf_counter(), time.process_time()
    ok = check_layer(target, spec, seed=1).ok
    times.append((time.perf_counter() - wall, time.process_time() - cpu))
    os.utime(path, (time.time() + len(times), time.time() + len(times)))
    return ok, ""
watch(path + ":ReluWhere", "relu", check, out=io.StringIO(), poll=0.01, rounds=rounds)
print("\\n".join(f"{w} {c}" for w, c in times))
"""


def warm_rechecks(tree: Path = ROOT, rounds: int = 6) -> tuple[Timed, Timed]:
    """The first check and the median re-check of a ``crosscheck watch`` session (zoo ReluWhere)."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "relu.py"
        path.write_text((tree / "tests" / "zoo" / "correct.py").read_text())
        env = {**os.environ, "PYTHONPATH": str(tree)}
        argv = [sys.executable, "-c", _WATCH, str(path), str(rounds)]
        proc = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, check=True)
    times = [tuple(map(float, line.split())) for line in proc.stdout.strip().splitlines()[-rounds:]]
    first = Timed(*times[0])
    again = Timed(statistics.median(t[0] for t in times[1:]), statistics.median(t[1] for t in times[1:]))
    return first, again


def _median(timings: list[Timed]) -> Timed:
    """The median wall time and, separately, the median CPU time of ``timings``."""
    engines = [t.engine for t in timings if t.engine is not None]
    return Timed(
        statistics.median(t.wall for t in timings),
        statistics.median(t.cpu for t in timings),
        statistics.median(engines) if engines else None,
    )


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def table(checks: list[tuple[str, Timed, int]], imports: list[tuple[str, Timed]]) -> list[str]:
    lines = [
        "| check (default examples, float64, seed 1) | wall, median | CPU, median | cells, wall |",
        "|---|---:|---:|---:|",
    ]
    for label, t, runs in checks:
        engine = f"{t.engine:.1f} s" if t.engine is not None else "-"
        lines.append(f"| {label} | {t.wall:.1f} s (n={runs}) | {t.cpu:.1f} s | {engine} |")
    if imports:
        lines += ["", "| fixed cost (fresh process) | wall, median | CPU, median |", "|---|---:|---:|"]
    for label, t in imports:
        lines.append(f"| {label} | {t.wall:.2f} s | {t.cpu:.2f} s |")
    return lines


def run(quick: bool = False) -> str:
    """The section for BENCHMARKS.md."""
    runs = 2 if quick else 3
    load_before = _load()
    checks, imports = measure(ROOT, runs)
    return "\n".join(
        [
            "### 5. Check latency (`crosscheck check`, a fresh process per run)",
            "",
            f"Load average before: {load_before}; after: {_load()}. Goal on an idle 2-core machine: "
            "a seed layer in <= 3 s, SimpleConvNet in <= 15 s, the book's common/layers.py whole in <= 30 s.",
            "",
            *table(checks, imports),
            "",
        ]
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--tree", type=Path, default=ROOT, help="the checkout to measure (default: this one)")
    parser.add_argument("--runs", type=int, default=3, help="runs per check (the median is shown)")
    parser.add_argument(
        "--only",
        metavar="TEXT",
        help="only the checks whose label contains TEXT (comma-separated: any of them)",
    )
    parser.add_argument(
        "--watch", metavar="N", type=int, default=0, help="also time a watch session of N checks"
    )
    args = parser.parse_args(argv)
    load_before = _load()
    checks, imports = measure(args.tree.resolve(), args.runs, args.only)
    print(f"tree {args.tree}; load before {load_before}, after {_load()}")
    print("\n".join(table(checks, imports)))
    if args.watch:
        first, again = warm_rechecks(args.tree.resolve(), args.watch)
        print("\n| `crosscheck watch` (one process, ReluWhere) | wall | CPU |\n|---|---:|---:|")
        print(f"| first check | {first.wall:.2f} s | {first.cpu:.2f} s |")
        print(
            f"| re-check after a save (median of {args.watch - 1}) | {again.wall:.2f} s | {again.cpu:.2f} s |"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
