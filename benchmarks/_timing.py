"""Timing helpers shared by the benchmarks: interleaved rounds, medians, ratios, the machine.

The machine is shared (2 cores, other people's test runs), so absolute times drift. Contenders are
therefore timed *side by side*: every round times each contender once (the order rotates from round
to round), and the report is the median over rounds of each contender, plus ratios of medians.
"""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Timing",
    "blas_threads",
    "calibrate",
    "fmt_time",
    "interleaved",
    "machine_description",
    "median_time",
]

#: threads for NumPy's BLAS and for torch: 1, so that both do the same work on one core and the
#: second core absorbs the neighbours' load (set in run_all before anything computes)
THREADS = 1


@dataclass(frozen=True)
class Timing:
    """Per-call seconds of each round; ``median`` is what the tables show."""

    samples: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def spread(self) -> float:
        """Interquartile range relative to the median (how noisy the machine was)."""
        if len(self.samples) < 4:
            return 0.0
        q = statistics.quantiles(self.samples, n=4)
        return (q[2] - q[0]) / self.median


def _once(fn: Callable[[], Any], number: int) -> float:
    start = time.perf_counter()
    for _ in range(number):
        fn()
    return (time.perf_counter() - start) / number


def calibrate(fn: Callable[[], Any], target: float = 0.004) -> int:
    """How many calls make one timing of about ``target`` seconds (at least 1)."""
    fn()  # warm-up: caches, lazy imports, first-call allocation
    per_call = _once(fn, 1)
    number = 1
    while per_call * number < target and number < 1_000_000:
        number *= 2
        per_call = _once(fn, number)
    return number


def interleaved(
    contenders: Mapping[str, Callable[[], Any]], repeats: int = 15, target: float = 0.004
) -> dict[str, Timing]:
    """Median-ready per-call times; each round runs every contender once, in rotating order."""
    numbers = {name: calibrate(fn, target) for name, fn in contenders.items()}
    names = list(contenders)
    samples: dict[str, list[float]] = {n: [] for n in names}
    for r in range(repeats):
        k = r % len(names)
        for name in names[k:] + names[:k]:
            samples[name].append(_once(contenders[name], numbers[name]))
    return {n: Timing(tuple(s)) for n, s in samples.items()}


def median_time(fn: Callable[[], Any], repeats: int = 3) -> Timing:
    """For slow single calls (seconds): ``repeats`` calls, no calibration."""
    return Timing(tuple(_once(fn, 1) for _ in range(repeats)))


def fmt_time(seconds: float) -> str:
    if seconds >= 1:
        return f"{seconds:.2f} s"
    if seconds >= 1e-3:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds * 1e6:.1f} µs"


@contextlib.contextmanager
def blas_threads(n: int) -> Iterator[str]:
    """Limit NumPy's BLAS (and OpenMP) pools to ``n`` threads; yields what was limited."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # without threadpoolctl the env var set by run_all still applies
        yield f"OPENBLAS_NUM_THREADS={os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}"
        return
    with threadpool_limits(limits=n):
        yield f"threadpoolctl limits={n}"


def _lscpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return platform.processor() or "unknown CPU"
    fields = dict(line.split(":", 1) for line in out.splitlines() if ":" in line)
    model = fields.get("Model name", "unknown CPU").strip()
    hyper = fields.get("Hypervisor vendor", "").strip()
    return f"{model}" + (f" ({hyper} guest)" if hyper else "")


def machine_description() -> dict[str, str]:
    """The rows of BENCHMARKS.md's machine table."""
    import numpy as np

    rows = {
        "CPU (lscpu)": _lscpu_model(),
        "cores": str(os.cpu_count()),
        "load average at start": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "OS": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "numpy": np.__version__,
    }
    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]  # type: ignore[index]
        rows["numpy BLAS"] = f"{blas.get('name')} {blas.get('version')}"
    except Exception:  # show_config's layout is not a stable API
        pass
    for mod in ("torch", "jax", "hypothesis", "pytest"):
        try:
            rows[mod] = __import__(mod).__version__
        except ImportError:
            rows[mod] = "not installed"
    return rows
