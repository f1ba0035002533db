"""``crosscheck check`` on a learner's own project: the book's files load as they are (star imports
of their neighbours, run from the project root), target errors come back before anything heavy is
imported, and failures read as a person needs them: identical ones once, plain numbers, named
``None`` returns, hint lines for known textbook mistakes. Against finite differences only: no torch
or jax needed.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from layer_crosscheck.properties import check_layer
from layer_crosscheck.properties.engine.compare import Mismatch, compare
from layer_crosscheck.properties.engine.tolerances import exact_rtol
from tests.helpers import crosscheck as in_process
from tests.helpers import subprocess_env

ZOO = Path(__file__).resolve().parent / "zoo"
BOOK = ZOO / "book_project"
MISTAKES = ZOO / "mistakes.py"
FD = ["--reference", "fd", "--examples", "8", "--seed", "7", "--shrink-time", "1", "-q"]

#: the installed console script's situation: the script's own directory is first on sys.path, not
#: the working directory (``python -m`` would put it there and hide a loader that relies on it);
#: and a run against finite differences, or a target error, imports neither torch nor jax (jax
#: only to derive the tolerance of a comparison that failed without it: scales.judged)
RUNNER = (
    "import sys\n"
    "from layer_crosscheck.properties.frontends.cli import main\n"
    "code = main(sys.argv[1:])\n"
    "heavy = {'torch', 'jax'} & set(sys.modules)\n"
    "assert not heavy, heavy\n"
    "sys.exit(code)\n"
)


def python(*argv: str, cwd: Path = BOOK) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *argv], cwd=cwd, env=subprocess_env(), capture_output=True, text=True, timeout=300
    )


def crosscheck(tmp_path: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """The command as the installed console script runs it, from the book's project root."""
    runner = tmp_path / "crosscheck_runner.py"
    runner.write_text(RUNNER)
    return python(str(runner), *argv)


def check(capsys: pytest.CaptureFixture[str], target: str, spec: str, *argv: str) -> tuple[int, str]:
    """``crosscheck check`` in this process: the exit status and stdout."""
    ran = in_process(capsys, "check", target, "--as", spec, *argv, *FD)
    return ran.code, ran.out


def head(out: str, n: int = 2) -> list[str]:
    return out.splitlines()[:n]


# ---- the book's project, run from its root -------------------------------------------------------


@pytest.mark.parametrize(("target", "spec"), [("Affine", "affine"), ("Sigmoid", "sigmoid")])
def test_book_correct_layers_pass_from_the_project_root(tmp_path: Path, target: str, spec: str) -> None:
    done = crosscheck(tmp_path, "check", f"common/layers.py:{target}", "--as", spec, *FD)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(rf"{target} agrees with spec {spec}: \d+ cells passed", head(done.stdout, 1)[0])
    assert "hint:" not in done.stdout


def test_book_relu_loads_and_is_told_to_copy_dout(tmp_path: Path) -> None:
    done = crosscheck(tmp_path, "check", "common/layers.py:Relu", "--as", "relu", *FD)
    assert done.returncode == 1, done.stdout + done.stderr
    first, hint = head(done.stdout)
    kind = "DISAGREES with spec relu in the ordinary range"
    assert re.fullmatch(rf"Relu {kind}: Relu.backward is at fault; (\d+) of \1 cells failed", first), first
    assert hint.startswith("hint: Relu.backward writes into dout") and hint.endswith(
        "copy dout first (dx = dout.copy())"
    )
    # five identical read-only errors: one block and a count
    assert done.stdout.count("ValueError: assignment destination is read-only") == 1
    assert re.search(r"\.\.\. \(same error in \d+ more cells: ", done.stdout)
    assert "(at common/layers.py:" in done.stdout  # where the class raised, relative to the project
    # the snippet names the file as the command did, relative to the working directory
    assert "        'common/layers.py:Relu'," in done.stdout and str(BOOK) not in done.stdout


def test_book_softmax_with_loss_gets_both_of_its_hints(tmp_path: Path) -> None:
    done = crosscheck(tmp_path, "check", "common/layers.py:SoftmaxWithLoss", "--as", "softmax_with_loss", *FD)
    assert done.returncode == 1, done.stdout + done.stderr
    lines = head(done.stdout, 3)
    assert lines[0].startswith("SoftmaxWithLoss DISAGREES with spec softmax_with_loss")
    assert lines[1].startswith("hint: SoftmaxWithLoss.backward ignores dout")
    assert lines[2].startswith("hint: a `+1e-7` inside log?")


def test_book_network_loads_its_star_imports(tmp_path: Path) -> None:
    """ch05/two_layer_net.py imports ``common.layers`` from the project root: it loads (not exit 2)
    and is judged; its loss carries the book's ``log(y + 1e-7)``, so it disagrees."""
    done = crosscheck(tmp_path, "check", "ch05/two_layer_net.py:TwoLayerNet", "--as", "two_layer_net", *FD)
    assert done.returncode == 1, done.stdout + done.stderr
    first, hint = head(done.stdout, 2)
    assert first.startswith("TwoLayerNet DISAGREES with spec two_layer_net")
    assert hint.startswith("hint: a `+1e-7` inside log? TwoLayerNet's loss is off by")


def test_sys_path_is_restored_after_check_layer(monkeypatch: pytest.MonkeyPatch) -> None:
    """The book's network appends ``os.pardir`` to sys.path itself; both that and the roots the
    loader adds are gone afterwards."""
    monkeypatch.chdir(BOOK)
    before = list(sys.path)
    run = check_layer(
        "ch05/two_layer_net.py:TwoLayerNet",
        "two_layer_net",
        references=("fd",),
        examples=2,
        seed=1,
        shrink_seconds=0,
    )
    assert run.results
    assert sys.path == before
    check_layer("common/layers.py:Affine", "affine", references=("fd",), examples=2, seed=1)
    assert sys.path == before


# ---- target errors: exit 2, one line, nothing heavy imported --------------------------------------


@pytest.mark.parametrize(
    ("target", "says"),
    [
        ("common/nonesuch.py:Relu", "file not found: common/nonesuch.py"),
        ("common/layers.py:Nonesuch", "common/layers.py has no class 'Nonesuch'"),
        ("{tmp}/broken_syntax.py:Relu", "SyntaxError"),
    ],
    ids=["missing-file", "missing-class", "syntax-error"],
)
def test_target_errors_exit_2_before_torch_or_jax(tmp_path: Path, target: str, says: str) -> None:
    (tmp_path / "broken_syntax.py").write_text("class Relu:\n    def forward(self, x)\n        return x\n")
    done = crosscheck(tmp_path, "check", target.format(tmp=tmp_path), "--as", "relu")
    assert done.returncode == 2, done.stdout + done.stderr
    assert says in done.stderr
    assert done.stderr.strip().count("\n") == 0 and "Traceback" not in done.stderr and done.stdout == ""


# ---- the mistakes zoo: one hint each, and no other ------------------------------------------------

MISTAKE_HINTS = [
    (MISTAKES, "SigmoidScalesDoutInPlace", "sigmoid", "copy dout first (dx = dout.copy())"),
    (MISTAKES, "SoftmaxWithLossLogEpsilon", "softmax_with_loss", "a `+1e-7` inside log?"),
    (ZOO / "broken.py", "SoftmaxWithLossIgnoresDout", "softmax_with_loss", "backward ignores dout"),
    (MISTAKES, "SigmoidWithLossBook", "sigmoid_with_loss", "a `+1e-7` inside log?"),
    (MISTAKES, "ReluForwardWritesIntoX", "relu", "forward writes into its input x"),
]


@pytest.mark.parametrize(("path", "name", "spec", "hint"), MISTAKE_HINTS, ids=[m[1] for m in MISTAKE_HINTS])
def test_textbook_mistake_gets_its_hint_and_no_other(
    capsys: pytest.CaptureFixture[str], path: Path, name: str, spec: str, hint: str
) -> None:
    code, out = check(capsys, f"{path}:{name}", spec)
    assert code == 1, out
    hints = [line for line in out.splitlines() if line.startswith("hint:")]
    assert len(hints) == 1 and hint in hints[0], out
    assert out.splitlines()[1] == hints[0]


@pytest.mark.parametrize(
    ("name", "method", "name_returned"),
    [("ReluForwardNoReturn", "forward", "out"), ("ReluBackwardNoReturn", "backward", "dx")],
)
def test_a_method_returning_none_is_told_so(
    capsys: pytest.CaptureFixture[str], name: str, method: str, name_returned: str
) -> None:
    code, out = check(capsys, f"{MISTAKES}:{name}", "relu")
    assert code == 1, out
    said = f"{name}.{method} returned None: did you forget `return {name_returned}`?"
    assert out.splitlines()[1].endswith(said)
    assert out.count(f"    {said}") == 1 and re.search(r"\(same failure in \d+ more cells: ", out)


# ---- readable numbers, the repeat line ------------------------------------------------------------


def test_values_print_as_plain_numbers(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(capsys, f"{ZOO / 'broken.py'}:SigmoidBackwardFromInput", "sigmoid")
    assert code == 1, out
    assert "largest absolute error" in out
    assert "np.float64(" not in out and "np.int64(" not in out
    assert re.search(r"at \(\d+(, \d+)*\): got -?\d", out), out


RTOL = exact_rtol(np.float64)


def test_relative_error_only_where_the_reference_is_not_tiny() -> None:
    """An error the norm-wise tolerance accepts, next to a reference element of 1e-20, is not shown
    as a relative error of 1e+3; against a reference of zeros, accepted round-off has no relative
    size and a failure is infinitely off."""
    errors = compare(np.array([2.0, 1e-20 + 1e-17]), np.array([2.0, 1e-20]), RTOL, what="t")
    assert errors.max_rel == 0.0 and errors.max_abs == pytest.approx(1e-17)
    assert compare(np.array([0.0, 1e-310]), np.zeros(2), RTOL, what="t").max_rel == 0.0
    with pytest.raises(Mismatch) as failure:
        compare(np.array([0.0, 1e-300]), np.zeros(2), RTOL, what="t")
    assert failure.value.errors is not None and failure.value.errors.max_rel == np.inf
    assert "largest relative error" not in str(failure.value)


def test_the_matrix_shows_the_error_the_verdict_judged() -> None:
    """exp(700) with a round-off error of 1e+290 passes: the cell shows that error over its
    tolerance (the verdict's number, at most 1), never the absolute 1e+290 beside "pass"; a failure
    is as many times its tolerance as it is off."""
    from layer_crosscheck.properties.engine.results import CellResult, Run
    from layer_crosscheck.properties.frontends.report import render

    ref = np.exp(np.array([700.0, 1.0, -3.0]))
    errors = compare(ref * (1 + 4e-16), ref, RTOL, what="exp")
    assert errors.max_abs > 1e280 and 0 < errors.max_ratio < 0.01
    with pytest.raises(Mismatch) as failure:
        compare(ref * 1.5, ref, RTOL, what="exp")
    assert failure.value.errors is not None and failure.value.errors.max_ratio > 1e11
    cell = CellResult("exp", "forward", "torch", "float64", "pass", errors, examples=3)
    text = render(Run([cell], 1, 3, ("torch",), ("float64",), {}))
    row = next(line for line in text.splitlines() if line.startswith("exp "))
    assert f"pass    {errors.max_ratio:.1e}" in row and "e+2" not in row, row


def test_repeat_line_keeps_as_and_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, out = check(capsys, f"{MISTAKES}:SigmoidScalesDoutInPlace", "sigmoid", "--strict-fp")
    assert code == 1, out
    repeat = out.rstrip().splitlines()[-1].split("repeat this run exactly: ", 1)[1]
    assert repeat == (
        f"crosscheck check {MISTAKES}:SigmoidScalesDoutInPlace --as sigmoid --reference fd --seed 7 "
        "--examples 8 --dtype float64 --shrink-time 1 --strict-fp -q"
    )


# ---- assert_layer_matches in somebody's test suite ------------------------------------------------


def test_assert_layer_matches_hides_its_own_frames(tmp_path: Path) -> None:
    from layer_crosscheck.properties.frontends.api import assert_layer_matches

    assert "__tracebackhide__" in assert_layer_matches.__code__.co_varnames
    (tmp_path / "test_mine.py").write_text(
        "from layer_crosscheck.properties import assert_layer_matches\n\n"
        "def test_relu():\n"
        f"    assert_layer_matches({str(BOOK / 'common' / 'layers.py') + ':Relu'!r}, 'relu',\n"
        "                         references=('fd',), examples=5, seed=1, shrink_seconds=0)\n"
    )
    done = python("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_mine.py", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Relu DISAGREES with spec relu" in done.stdout
    assert "test_mine.py:4" in done.stdout
    assert "frontends/api.py" not in done.stdout and "def assert_layer_matches" not in done.stdout
