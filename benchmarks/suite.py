"""3. Suite throughput: examples checked per second per reference, the pytest suite's wall time,
JAX's compilation share, and what a persistent compilation cache saves.

``python -m benchmarks.suite --jax-cache DIR`` is the fresh-process probe run twice by ``run``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from benchmarks._timing import fmt_time

__all__ = ["run", "throughput"]

ROOT = Path(__file__).resolve().parent.parent
JAX_COMPILE_EVENTS = (
    "/jax/core/compile/jaxpr_trace_duration",
    "/jax/core/compile/jaxpr_to_mlir_module_duration",
    "/jax/core/compile/backend_compile_duration",
)


def _jax_compile_clock() -> dict[str, float]:
    """Seconds JAX spent tracing, lowering and compiling, summed by jax.monitoring (live dict)."""
    import jax  # noqa: F401  (the listener API lives in jax.monitoring)
    from jax import monitoring

    totals: dict[str, float] = defaultdict(float)

    def listener(event: str, duration: float, **_: Any) -> None:
        if event in JAX_COMPILE_EVENTS:
            totals["compile"] += duration
        elif event == "/jax/compilation_cache/cache_retrieval_time_sec":
            totals["cache_retrieval"] += duration
            totals["cache_hits"] += 1

    monitoring.register_event_duration_secs_listener(listener)
    return totals


def _run_cell(cell: Any, ref: Any, examples: int) -> tuple[int, bool]:
    """Run one cell under Hypothesis; (examples that ran to the end, whether the cell passed)."""
    import numpy as np
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import strategies as st

    checked = 0

    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(data=st.data())
    def body(data: Any) -> None:
        nonlocal checked
        with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
            cell.prop.run(cell.spec, cell.spec.layer, ref, data.draw, cell.dtype)
        checked += 1

    try:
        body()
    except Exception:  # a failing cell is someone else's bug; its examples still count
        return checked, False
    return checked, True


def throughput(references: tuple[str, ...], examples: int) -> dict[str, dict[str, float]]:
    """Run every generic-property cell of each reference under Hypothesis, ``examples`` each."""
    from layer_crosscheck.properties.engine.matrix import cells
    from layer_crosscheck.reference import get_reference

    clock = _jax_compile_clock() if "jax" in references else {}
    result: dict[str, dict[str, float]] = {}
    for name in references:
        ref = get_reference(name)
        if ref.unavailable() is not None:
            continue
        before = clock.get("compile", 0.0)
        checked = failed = 0
        start = time.perf_counter()
        for cell in cells(references=(name,)):
            if cell.reference != name:
                continue
            done, ok = _run_cell(cell, ref, examples)
            checked += done
            failed += not ok
        wall = time.perf_counter() - start
        result[name] = {
            "examples": checked,
            "seconds": wall,
            "failed_cells": failed,
            "compile": clock.get("compile", 0.0) - before if name == "jax" else 0.0,
        }
    if clock:
        result["_jax"] = dict(clock)
    return result


def _pytest_wall(extra: list[str]) -> tuple[float, str]:
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests/", *extra]
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - start
    tail = [line for line in proc.stdout.splitlines() if line.strip()][-1:] or ["(no output)"]
    return wall, tail[0].strip("= ")


def _fresh_jax_probe(cache: str, examples: int) -> dict[str, Any]:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.suite",
        "--jax-cache",
        cache,
        "--examples",
        str(examples),
    ]
    start = time.perf_counter()
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    data: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    data["process_wall"] = time.perf_counter() - start
    return data


def run(quick: bool = False) -> str:
    examples = 5 if quick else 10
    lines = [
        "### 3. Suite throughput",
        "",
        f"Every generic-property cell of `properties.engine.matrix.cells()` for one reference, run under "
        f"Hypothesis with `max_examples={examples}` (derandomized, generate phase only), in one process "
        "(torch, then jax, then fd; JAX's compile time is summed from `jax.monitoring`'s "
        "trace/lower/compile duration events).",
        "",
        "| reference | cells' examples checked | wall | examples / s | of which JAX compiling |",
        "|---|---:|---:|---:|---:|",
    ]
    res = throughput(("torch", "jax", "fd"), examples)
    for name in ("torch", "jax", "fd"):
        if name not in res:
            lines.append(f"| {name} | not installed | | | |")
            continue
        r = res[name]
        share = f"{r['compile']:.1f} s ({r['compile'] / r['seconds']:.0%})" if name == "jax" else "–"
        failed = f" ({int(r['failed_cells'])} cells failing)" if r["failed_cells"] else ""
        lines.append(
            f"| {name} | {int(r['examples'])}{failed} | {r['seconds']:.1f} s | "
            f"{r['examples'] / r['seconds']:.0f} | {share} |"
        )
    lines.append("")

    # the persistent cache: the same jax probe in two fresh processes sharing a new cache directory
    if "jax" in res:
        with tempfile.TemporaryDirectory(prefix="jax-cache-") as cache:
            cold = _fresh_jax_probe(cache, examples)
            warm = _fresh_jax_probe(cache, examples)
        lines += [
            "Persistent compilation cache (`reference.jax_backend.enable_persistent_cache`), the jax "
            "cells above in two fresh processes sharing one new cache directory:",
            "",
            "| run | process wall | jax cells' wall | JAX compile time | cache hits |",
            "|---|---:|---:|---:|---:|",
        ]
        for label, r in (("1st (cold cache)", cold), ("2nd (warm cache)", warm)):
            lines.append(
                f"| {label} | {r['process_wall']:.1f} s | {r['jax']['seconds']:.1f} s | "
                f"{r['jax']['compile']:.1f} s | {int(r['_jax'].get('cache_hits', 0))} |"
            )
        saved = cold["process_wall"] - warm["process_wall"]
        lines += [
            "",
            f"The warm cache saves {saved:.1f} s of {cold['process_wall']:.1f} s per process.",
            "",
        ]

    # the default suite, as a user runs it
    if quick:
        lines += ["(pytest wall times skipped in --quick mode)", ""]
        return "\n".join(lines)
    serial, serial_tail = _pytest_wall([])
    parallel, parallel_tail = _pytest_wall(["-n", "2"])
    lines += [
        "The default suite, `pytest -q -p no:cacheprovider tests/` (Hypothesis `dev` profile):",
        "",
        "| command | wall | result line |",
        "|---|---:|---|",
        f"| `pytest -q -p no:cacheprovider tests/` | {fmt_time(serial)} | {serial_tail} |",
        f"| `… -n 2` | {fmt_time(parallel)} | {parallel_tail} |",
        "",
        f"`-n 2` / serial = **{parallel / serial:.2f}** (see the load average in the machine table).",
        "",
    ]
    return "\n".join(lines)


def _main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--jax-cache", required=True)
    parser.add_argument("--examples", type=int, default=10)
    args = parser.parse_args()
    from layer_crosscheck.reference.jax_backend import enable_persistent_cache

    enable_persistent_cache(args.jax_cache)
    print(json.dumps(throughput(("jax",), args.examples)))


if __name__ == "__main__":
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    _main()
