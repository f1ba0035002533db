"""Run every benchmark and write the results into BENCHMARKS.md (between its result markers).

python -m benchmarks            # everything (~4-5 minutes on 2 cores)
python -m benchmarks --quick    # fewer repeats, no pytest wall times (~1 minute)
python -m benchmarks --print    # print the results instead of writing BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

# one BLAS thread before NumPy loads (threadpoolctl enforces it again below)
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MKL_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "BENCHMARKS.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats; skip the pytest wall times")
    parser.add_argument("--print", dest="print_only", action="store_true", help="do not write BENCHMARKS.md")
    parser.add_argument(
        "--only", nargs="*", choices=["gradcheck", "layers", "suite", "fd_step", "check_latency"]
    )
    args = parser.parse_args(argv)

    from benchmarks import check_latency, fd_step, gradcheck, layer_speed, suite
    from benchmarks._timing import THREADS, blas_threads, machine_description

    sections = {
        "gradcheck": gradcheck,
        "layers": layer_speed,
        "suite": suite,
        "fd_step": fd_step,
        "check_latency": check_latency,
    }
    chosen = args.only or list(sections)
    start = time.perf_counter()
    machine = machine_description()
    parts: list[str] = []
    with blas_threads(THREADS) as limited:
        for name in chosen:
            t0 = time.perf_counter()
            print(f"[benchmarks] {name} ...", file=sys.stderr, flush=True)
            parts.append(sections[name].run(quick=args.quick))
            print(
                f"[benchmarks] {name} done in {time.perf_counter() - t0:.0f} s",
                file=sys.stderr,
                flush=True,
            )
    total = time.perf_counter() - start
    machine["load average at end"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    machine["BLAS threads"] = f"{THREADS} ({limited}); torch.set_num_threads({THREADS})"
    machine["whole run"] = f"{total:.0f} s" + (" (--quick)" if args.quick else "")
    table = ["| | |", "|---|---|", *(f"| {k} | {v} |" for k, v in machine.items())]
    body = "\n".join(["### Machine", "", *table, "", *parts])
    if args.print_only:
        print(body)
        return 0
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in text or END not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    DOC.write_text(f"{head}{START}\n\n{body}\n{END}{tail}")
    print(f"[benchmarks] wrote {DOC.relative_to(ROOT)} in {total:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
