"""``crosscheck``: list the specs, run the conformance report, check your own layer class.

Exit status: 0 everything agrees; 1 a disagreement (of any kind: in the ordinary range, fragile at
extreme inputs, a convention at kinks or ties; ``check --ordinary`` judges the ordinary range
alone), or the class raised on a shape set checked
(``check --shapes`` restricts them), or it follows another known convention (named first, with
the ``--as``/``--set`` flags under which it is fully checked); 2 a usage error (one line on stderr),
an interface the spec cannot drive included; 3 crosscheck itself crashed (a bug in crosscheck,
with its traceback), never reported as a disagreement; 4 a CS231n function still the assignment's
stub (``UNFINISHED: ...``). Progress goes to stderr, so stdout can be piped; what the checked
class prints is captured and shown as a note.
"""

from __future__ import annotations

import argparse
import math
import shlex
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

from layer_crosscheck.properties.engine.errors import EXIT_UNFINISHED, Unfinished
from layer_crosscheck.properties.engine.explore import DEFAULT_EXAMPLES, SHRINK_SECONDS, Options
from layer_crosscheck.properties.engine.registry import SPECS
from layer_crosscheck.properties.engine.results import CellResult
from layer_crosscheck.properties.engine.sandbox import DEFAULT_CALL_TIMEOUT
from layer_crosscheck.properties.engine.schedule import default_jobs, new_seed, run_matrix
from layer_crosscheck.properties.frontends.api import check_layer, spec_named
from layer_crosscheck.properties.frontends.loader import UsageError, commas

__all__ = ["HARNESS_CRASH", "main"]

#: the exit status of a crash of crosscheck itself (0 agrees, 1 disagrees, 2 usage error)
HARNESS_CRASH = 3


class _Parser(argparse.ArgumentParser):
    """argparse, with its usage errors on one line like every other usage error here."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def _number(kind: Callable[[str], Any], what: str, least: float | None = None) -> Callable[[str], Any]:
    def parse(text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if least is not None and not value >= least:  # `not >=`: NaN is refused too
            raise argparse.ArgumentTypeError(f"must be at least {least}")
        return value

    return parse


_positive = _number(int, "a whole number", 1)
_seconds = _number(float, "a number of seconds", 0)
_seed = _number(int, "a whole number")


def _setting(text: str) -> tuple[str, float]:
    key, sep, value = text.partition("=")
    if not sep or not key.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not KEY=VALUE (e.g. eps=1e-6)")
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a number (in {text!r})") from None
    if not math.isfinite(number):
        raise argparse.ArgumentTypeError(f"{text!r}: a setting must be a finite number")
    return key.strip(), number


def _run_options(p: argparse.ArgumentParser, default_dtypes: str) -> None:
    p.add_argument(
        "--reference",
        metavar="NAMES",
        type=commas,
        help="comma-separated references among torch,jax,fd (default: all; one that is not "
        "installed is shown as skipped, one named here that is not installed is an error)",
    )
    p.add_argument(
        "--examples",
        metavar="N",
        type=_positive,
        default=DEFAULT_EXAMPLES,
        help="examples per cell (default %(default)s)",
    )
    p.add_argument(
        "--seed",
        metavar="S",
        type=_seed,
        help="repeat a run exactly (default: a random seed, printed)",
    )
    p.add_argument(
        "--dtype",
        metavar="DTYPES",
        type=commas,
        default=commas(default_dtypes),
        help=f"comma-separated dtypes (default {default_dtypes})",
    )
    p.add_argument(
        "--shrink-time",
        type=_seconds,
        default=SHRINK_SECONDS,
        metavar="SECONDS",
        help="the most time spent shrinking the failures to simpler examples, in all (default "
        "%(default)s; never more than half of what finding them took, nor less than 0.5 s); an "
        "error the class raises alike in several cells is shrunk once",
    )
    p.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="crosscheck",
        description="Cross-check NumPy layers against PyTorch, JAX and finite differences.",
    )
    sub = parser.add_subparsers(dest="command", metavar="{list,report,check,watch}")

    p = sub.add_parser("list", help="the registered specs: parameters, input shapes, kinks")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(func=_list)

    p = sub.add_parser("report", help="every property of every impl layer against every reference")
    _run_options(p, "float64,float32")
    p.add_argument("--format", choices=("table", "markdown", "json"), default="table")
    p.add_argument("--output", metavar="FILE", type=Path, help="write the matrix to FILE instead of stdout")
    p.add_argument("--spec", metavar="NAMES", type=commas, help="comma-separated spec names (default: all)")
    p.add_argument(
        "--jobs",
        metavar="N",
        type=_positive,
        default=default_jobs(),
        help="worker processes (default: one per CPU, here %(default)s; 1 runs everything in this process)",
    )
    p.set_defaults(func=_report)

    p = sub.add_parser("check", help="check your own layer class against a registered spec")
    p.add_argument(
        "target",
        nargs="?",
        help="path/to/file.py:ClassName or package.module:ClassName; or a file or folder alone: "
        "every class in it whose name matches a spec (Relu, BatchNorm, ...), in one table",
    )
    p.add_argument(
        "--chain",
        metavar="A,B",
        type=commas,
        help="instead of one target, comma-separated targets checked as one layer: forward through "
        "A then B (B also gets the remaining inputs, e.g. targets), backward through B then A",
    )
    p.add_argument(
        "--as",
        dest="spec",
        metavar="SPEC",
        help="a spec name (see crosscheck list); for a file or folder, Name=spec[,Name=spec] for "
        "classes whose names match no spec",
    )
    _run_options(p, "float64")
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.add_argument(
        "--set",
        dest="settings",
        metavar="KEY=VALUE",
        type=_setting,
        action="append",
        default=[],
        help="check under another value of one of the spec's settings, e.g. --set eps=1e-6 "
        "(see crosscheck list); repeatable",
    )
    p.add_argument(
        "--strict-fp",
        action="store_true",
        help="treat NumPy floating-point warnings (overflow, invalid, divide) as failures; by default "
        "they are reported as a note and the values are judged",
    )
    p.add_argument(
        "--call-timeout",
        type=_seconds,
        default=DEFAULT_CALL_TIMEOUT,
        metavar="SECONDS",
        help="the time limit of each call into your class (constructor, forward, backward, ...; "
        "default %(default)s, 0: none); a call that exceeds it is reported by name",
    )
    p.add_argument(
        "--shapes",
        metavar="INDICES",
        type=commas,
        help="comma-separated shape sets to check, by index as `crosscheck list` and the report "
        "number them (default: all; a shape set the class raises on fails the check)",
    )
    p.add_argument(
        "--ordinary",
        action="store_true",
        help="draw ordinary magnitudes only (|x| <= 100 in float64, 10 in float32), as --shapes "
        "does for shapes: a class that is FRAGILE at extreme inputs and right here exits 0",
    )
    p.set_defaults(func=_check)

    p = sub.add_parser("watch", help="check a class again on every save of its file")
    p.add_argument("target", help="path/to/file.py:ClassName, or path/to/file.py with one layer class")
    p.add_argument("--as", dest="spec", metavar="SPEC", help="a spec name (default: the class's name)")
    _run_options(p, "float64")
    p.set_defaults(func=_watch)
    return parser


def _progress(args: argparse.Namespace, command: str, seed: int) -> Any:
    """One line per finished cell on stderr, after a first line with the seed (printed once the
    request is known to be valid, so a usage error stays a single line)."""
    if args.quiet:
        return None
    given = "given" if args.seed is not None else "random; repeat with --seed"
    announce = f"{command}: seed {seed} ({given})"

    def show(i: int, n: int, r: CellResult) -> None:
        if i == 1:
            print(announce, file=sys.stderr, flush=True)
        width = len(str(n))
        word = r.status if r.ok else r.status.upper()
        print(f"[{i:>{width}}/{n}] {r.id:<48} {word:<7} {r.seconds:6.2f}s", file=sys.stderr, flush=True)

    return show


def _repeat_command(args: argparse.Namespace, seed: int) -> str:
    """The command line that repeats this run exactly: the target or chain, ``--as``/``--spec`` and
    every option given (``--seed``, ``--examples`` and ``--dtype`` always, so the draws are the same)."""
    parts = ["crosscheck", args.command]
    if args.command == "check":
        parts += [args.target] if args.chain is None else ["--chain", ",".join(args.chain)]
        parts += ["--as", args.spec]
        for key, value in args.settings:
            parts += ["--set", f"{key}={value!r}"]
    elif args.spec:
        parts += ["--spec", ",".join(args.spec)]
    if args.reference:
        parts += ["--reference", ",".join(args.reference)]
    parts += ["--seed", str(seed), "--examples", str(args.examples), "--dtype", ",".join(args.dtype)]
    if args.shrink_time != SHRINK_SECONDS:
        parts += ["--shrink-time", f"{args.shrink_time:g}"]
    if getattr(args, "strict_fp", False):
        parts.append("--strict-fp")
    if getattr(args, "shapes", None):
        parts += ["--shapes", ",".join(args.shapes)]
    if getattr(args, "call_timeout", DEFAULT_CALL_TIMEOUT) != DEFAULT_CALL_TIMEOUT:
        parts += ["--call-timeout", f"{args.call_timeout:g}"]
    if getattr(args, "ordinary", False):
        parts.append("--ordinary")
    if getattr(args, "jobs", None) not in (None, default_jobs()):
        parts += ["--jobs", str(args.jobs)]
    if args.format != "table":
        parts += ["--format", args.format]
    if getattr(args, "output", None) is not None:
        parts += ["--output", str(args.output)]
    if args.quiet:
        parts.append("-q")
    return " ".join(shlex.quote(p) for p in parts)


def _list(args: argparse.Namespace) -> int:
    from layer_crosscheck.properties.frontends.report import render_list

    sys.stdout.write(render_list(SPECS.values(), args.format))
    return 0


def _report(args: argparse.Namespace) -> int:
    from layer_crosscheck.properties.frontends.report import render

    specs = [spec_named(n) for n in args.spec] if args.spec else list(SPECS.values())
    seed = args.seed if args.seed is not None else new_seed()
    options = Options(
        args.examples, seed, args.shrink_time, references=args.reference, dtypes=args.dtype, jobs=args.jobs
    )
    run = run_matrix(specs, options, progress=_progress(args, "crosscheck report", seed))
    text = render(run, args.format, repeat=_repeat_command(args, seed))
    if args.output is not None:
        try:
            args.output.write_text(text)
        except OSError as exc:
            raise UsageError(f"cannot write {args.output}: {exc.strerror or exc}") from None
        verdict = "all agree" if run.ok else f"{len(run.failures)} cell(s) disagree"
        print(f"crosscheck report: wrote {args.output} ({verdict})", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0 if run.ok else 1


def _check(args: argparse.Namespace) -> int:
    from layer_crosscheck.properties.frontends.report import render
    from layer_crosscheck.properties.frontends.verdict import render_check

    if (args.target is None) == (args.chain is None):
        raise UsageError("name one target, or a chain with --chain A,B (not both)")
    if args.chain is None and ":" not in args.target:  # a file or folder: every class in it
        from layer_crosscheck.properties.frontends import whole_file

        return whole_file.main(args)
    if args.spec is None:
        raise UsageError("the following arguments are required: --as (a file or folder alone needs none)")
    target = args.target if args.chain is None else args.chain
    shown = args.target if args.chain is None else f"--chain {','.join(args.chain)}"
    seed = args.seed if args.seed is not None else new_seed()
    options = Options(
        args.examples,
        seed,
        args.shrink_time,
        "raise" if args.strict_fp else "record",
        references=args.reference,
        dtypes=args.dtype,
        shapes=args.shapes,
        settings=dict(args.settings),
        call_timeout=args.call_timeout,
        ordinary_only=args.ordinary,
        jobs=default_jobs(),
    )
    run = check_layer(target, args.spec, options, progress=_progress(args, f"crosscheck check {shown}", seed))
    if args.format == "json":
        sys.stdout.write(render(run, "json"))
    else:
        sys.stdout.write(render_check(run, repeat=_repeat_command(args, seed)))
    return 0 if run.ok else 1


def _watch(args: argparse.Namespace) -> int:
    from layer_crosscheck.properties.frontends.verdict import render_check
    from layer_crosscheck.properties.frontends.watch import watch

    seed = args.seed if args.seed is not None else new_seed()
    print(f"crosscheck watch: seed {seed} for every check", file=sys.stderr, flush=True)

    def check(target: str, spec: str) -> tuple[bool, str]:
        args.target, args.chain, args.settings, args.format = target, None, [], "table"
        args.command, args.spec, args.strict_fp, args.shapes = "check", spec, False, None
        options = Options(args.examples, seed, args.shrink_time, "record", args.reference, args.dtype)
        run = check_layer(target, spec, options)
        return run.ok, render_check(run, repeat=_repeat_command(args, seed))

    return watch(args.target, args.spec, check, references=args.reference)


def main(argv: Sequence[str] | None = None) -> int:
    """The console script; returns the exit status (0 agree, 1 disagree, 2 usage error, 3 a crash of
    crosscheck itself)."""
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or a usage error argparse already printed (2)
        return exc.code if isinstance(exc.code, int) else 2
    if args.command is None:
        parser.print_usage(sys.stderr)
        print("crosscheck: error: choose a command: list, report or check", file=sys.stderr)
        return 2
    try:
        return int(args.func(args))
    except Unfinished as exc:  # the assignment's stub: neither agreement nor a disagreement
        print(f"UNFINISHED: {exc}")
        return EXIT_UNFINISHED
    except UsageError as exc:
        print(f"crosscheck {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("crosscheck: interrupted", file=sys.stderr)
        return 130
    except Exception:  # the harness's own failure: never exit 1, which reads as "disagrees"
        print(
            f"crosscheck {args.command}: internal error: this is a bug in crosscheck, not a verdict "
            "on your code; please report it with this traceback:",
            file=sys.stderr,
        )
        traceback.print_exc(file=sys.stderr)
        return HARNESS_CRASH
