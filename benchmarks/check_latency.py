"""5. Check latency: how long ``crosscheck check`` takes, end to end, for one layer.

Each check is a fresh process (``python -m layer_crosscheck.properties check TARGET --as SPEC``), as a learner
runs it: interpreter start, imports, the references' first use, every cell. The machine is shared,
so every check runs several times and the table shows the **minimum** wall time (the least
disturbed run) next to the CPU time of that run (user + system of the process and its children,
which neighbours' load inflates far less than the wall time). The import rows say where the
fixed cost goes.

``python -m benchmarks.check_latency [--tree DIR] [--runs N]`` prints the table for the checkout
in DIR (default: this one), e.g. to measure an older commit side by side.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CHECKS", "IMPORTS", "measure", "run"]

ROOT = Path(__file__).resolve().parent.parent
SEED = 1

#: (label, target, spec): seed layers from impl and from the zoo, and the largest network
CHECKS: tuple[tuple[str, str, str | None], ...] = (
    ("Relu (impl)", "layer_crosscheck.impl.activations:Relu", "relu"),
    ("AffineBook2 (zoo file)", "tests/zoo/correct.py:AffineBook2", "affine"),
    ("SoftmaxWithLoss (impl)", "layer_crosscheck.impl.softmax_loss:SoftmaxWithLoss", "softmax_with_loss"),
    ("SimpleConvNet (impl)", "layer_crosscheck.impl.simple_conv_net:SimpleConvNet", "simple_conv_net"),
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


def measure(tree: Path = ROOT, runs: int = 3) -> tuple[list[tuple[str, Timed, int]], list[tuple[str, Timed]]]:
    """Min-wall timings of every check and import probe in ``tree`` (a checkout of this project)."""
    checks = []
    for label, target, spec in CHECKS:
        argv = [sys.executable, "-m", "properties", "check", target, *(["--as", spec] if spec else [])]
        argv += ["--seed", str(SEED), "--format", "json", "-q"]
        timings = [_timed(argv, tree) for _ in range(runs)]
        checks.append((label, min(timings, key=lambda t: t.wall), runs))
    imports = []
    for label, statement in IMPORTS:
        timings = [_timed([sys.executable, "-c", statement], tree) for _ in range(runs)]
        imports.append((label, min(timings, key=lambda t: t.wall)))
    return checks, imports


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def table(checks: list[tuple[str, Timed, int]], imports: list[tuple[str, Timed]]) -> list[str]:
    lines = [
        "| check (default examples, float64, seed 1) | wall, min of runs | CPU of that run | cells, wall |",
        "|---|---:|---:|---:|",
    ]
    for label, t, runs in checks:
        engine = f"{t.engine:.1f} s" if t.engine is not None else "-"
        lines.append(f"| {label} | {t.wall:.1f} s (n={runs}) | {t.cpu:.1f} s | {engine} |")
    lines += ["", "| fixed cost (fresh process) | wall, min | CPU |", "|---|---:|---:|"]
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
    parser.add_argument("--runs", type=int, default=3, help="runs per check (the minimum is shown)")
    args = parser.parse_args(argv)
    load_before = _load()
    checks, imports = measure(args.tree.resolve(), args.runs)
    print(f"tree {args.tree}; load before {load_before}, after {_load()}")
    print("\n".join(table(checks, imports)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
