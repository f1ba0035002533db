"""The ``crosscheck`` command: every zoo class judged right (false alarms fail like misses), exit
codes 0/1/2, the reproduction snippet reproduces, and the report shows what did not run.

In this process but for one test of the console script and ``python -m layer_crosscheck.properties``; against
finite differences, so they run without torch, but for two that skip visibly without it.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from layer_crosscheck.properties import check_layer, replay
from layer_crosscheck.properties.engine.registry import get_spec, register, unregister
from layer_crosscheck.properties.engine.spec import LayerSpec
from layer_crosscheck.properties.frontends.cli import _parser, _repeat_command
from layer_crosscheck.reference import get_reference
from tests.helpers import ROOT, Ran, crosscheck, reference_or_skip, subprocess_env

IMPL = "layer_crosscheck.impl"

ZOO = Path(__file__).resolve().parent / "zoo"
SEED = "1234"  # fixed: every verdict below is deterministic
FD = ["--reference", "fd", "--seed", SEED, "--shrink-time", "1", "-q"]


# ---- the zoo ------------------------------------------------------------------------------------

#: (class, spec, properties that must be among the failures)
#: (class, spec, properties that catch it, the kind of finding: properties/engine/kinds.py)
BROKEN = [
    ("ReluWritesIntoDout", "relu", ["no_mutation"], "DISAGREES with"),
    ("AffineDbAveraged", "affine", ["fd", "batch"], "DISAGREES with"),
    ("AffineAccumulatesGrads", "affine", ["state"], "DISAGREES with"),
    ("SoftmaxWithLossIgnoresDout", "softmax_with_loss", ["fd", "linearity"], "DISAGREES with"),
    # exp overflows only beyond 709: right on ordinary logits
    ("SoftmaxNoMaxSubtraction", "softmax", ["fd"], "is FRAGILE at extreme inputs against"),
    ("SigmoidBackwardFromInput", "sigmoid", ["fd"], "DISAGREES with"),
    ("TwoLayerNetGradSkipsRelu", "two_layer_net", ["fd"], "DISAGREES with"),
]

CORRECT = [
    ("ReluWhere", "relu"),
    ("SigmoidTanh", "sigmoid"),
    ("SoftmaxJacobian", "softmax"),
    ("AffineBook1", "affine"),
    ("AffineBook2", "affine"),
    ("SoftmaxWithLossLabels", "softmax_with_loss_labels"),
    ("SoftmaxWithLossLabels", "softmax_with_loss"),
    ("TwoLayerNetBook1", "two_layer_net"),
]


@pytest.mark.parametrize(("name", "spec", "caught_by", "kind"), BROKEN, ids=[b[0] for b in BROKEN])
def test_broken_layer_is_rejected(
    capsys: pytest.CaptureFixture[str], name: str, spec: str, caught_by: list[str], kind: str
) -> None:
    ran = crosscheck(capsys, "check", f"{ZOO / 'broken.py'}:{name}", "--as", spec, "--examples", "15", *FD)
    assert ran.code == 1, ran.out
    assert f"{name} {kind} spec {spec}" in ran.out
    for prop in caught_by:
        assert f"{spec}, property {prop} vs" in ran.out, f"{prop} did not catch {name}:\n{ran.out}"
    assert "shrunk input:" in ran.out
    assert "from layer_crosscheck.properties import replay" in ran.out


@pytest.mark.parametrize(("name", "spec"), CORRECT, ids=[f"{c[0]}-{c[1]}" for c in CORRECT])
def test_correct_layer_is_accepted(capsys: pytest.CaptureFixture[str], name: str, spec: str) -> None:
    ran = crosscheck(capsys, "check", f"{ZOO / 'correct.py'}:{name}", "--as", spec, "--examples", "15", *FD)
    assert ran.code == 0, ran.out
    assert f"{name} agrees with spec {spec} on every property" in ran.out
    assert " 0 fail, 0 error, 0 vacuous," in ran.out


def test_module_target_and_float32(capsys: pytest.CaptureFixture[str]) -> None:
    """``package.module:Class`` works too; ``--dtype`` adds float32 (``check`` defaults to float64)."""
    ran = crosscheck(
        capsys, "check", IMPL + ":Tanh", "--as", "tanh", "--dtype", "float64,float32", "--examples", "5", *FD
    )
    assert ran.code == 0, ran.out
    assert "Tanh as tanh  float64" in ran.out and "Tanh as tanh  float32" in ran.out


# ---- exit 2: usage errors, one line, no traceback ----------------------------------------------


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["check", IMPL + ":Relu", "--as", "nonesuch"], "unknown spec 'nonesuch'"),
        (["check", "no/such/file.py:Relu", "--as", "relu"], "file not found"),
        (["check", f"{ZOO / 'correct.py'}:Nonesuch", "--as", "relu"], "has no class 'Nonesuch'"),
        (["check", "no_such_module_xyz:Relu", "--as", "relu"], "module not found"),
        (["check", "layer_crosscheck.impl.layers", "--as", "relu"], "must look like"),
        (["check", f"{ZOO / 'correct.py'}:ReluWhere", "--as", "affine"], "cannot be built as spec affine"),
        (["check", f"{ZOO / 'correct.py'}:AffineBook1", "--as", "relu"], "cannot be built as spec relu"),
        (["check", "layer_crosscheck.impl:relu", "--as", "relu"], "has no method forward or backward"),
        (["check", IMPL + ":Relu", "--as", "relu", "--reference", "tf"], "unknown reference 'tf'"),
        (["check", IMPL + ":Relu", "--as", "relu", "--dtype", "int8"], "not a floating dtype"),
        (["check", IMPL + ":Relu", "--as", "relu", "--examples", "0"], "must be at least 1"),
        (
            ["check", IMPL + ":Dropout", "--as", "dropout", "--set", "eps=1e-6"],
            "dropout has no setting 'eps'",
        ),
        (["report", "--spec", "nonesuch"], "unknown spec 'nonesuch'"),
        (["frobnicate"], "invalid choice"),
        ([], "choose a command"),
    ],
)
def test_usage_error_exits_2_with_one_line(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    ran = crosscheck(capsys, *argv)
    assert ran.code == 2
    assert says in ran.err
    lines = [line for line in ran.err.splitlines() if not line.startswith("usage:")]
    assert len(lines) == 1, ran.err
    assert "Traceback" not in ran.err and ran.out == ""


# ---- the real command line ----------------------------------------------------------------------


def _run(argv: list[str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=ROOT, env=subprocess_env(), capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize(
    ("script", "target", "code", "says"),
    [
        (True, "tests.zoo.correct:ReluWhere", 0, "ReluWhere agrees with spec relu"),
        (False, "tests/zoo/broken.py:ReluWritesIntoDout", 1, "ReluWritesIntoDout DISAGREES with spec relu"),
    ],
    ids=["console-script", "python-m-properties"],
)
def test_the_real_command_line_exit_codes(script: bool, target: str, code: int, says: str) -> None:
    command = [sys.executable, "-m", "layer_crosscheck"]
    if script:
        found = shutil.which("crosscheck", path=str(Path(sys.executable).parent))
        if found is None:
            pytest.skip(
                "the crosscheck console script is not installed next to this Python (pip install -e .)"
            )
        command = [found]
    done = _run([*command, "check", target, "--as", "relu", "--examples", "5", *FD])
    assert done.returncode == code, done.stdout + done.stderr
    assert says in done.stdout
    usage = _run([*command, "check", target, "--as", "nonesuch"])
    assert usage.returncode == 2
    assert usage.stderr.strip().count("\n") == 0 and "Traceback" not in usage.stderr


# ---- the reproduction snippet -------------------------------------------------------------------


def _snippet_test(text: str) -> Any:
    """The test function of a reproduction snippet, compiled here: it runs from the directory
    crosscheck ran in, as the snippet says."""
    namespace: dict[str, Any] = {}
    exec(compile(text, "test_repro.py", "exec"), namespace)
    (test,) = (v for k, v in namespace.items() if k.startswith("test_"))
    return test


def test_snippet_reproduces_the_failure_and_passes_once_fixed(capsys: pytest.CaptureFixture[str]) -> None:
    broken = f"{ZOO / 'broken.py'}:AffineDbAveraged"
    ran = crosscheck(capsys, "check", broken, "--as", "affine", "--examples", "15", *FD)
    assert ran.code == 1
    start = ran.out.index("---8<---\n") + len("---8<---\n")
    text = ran.out[start : ran.out.index("---8<---", start)]
    assert "np.array(" in text and "dtype=np.float64" in text
    with pytest.raises(AssertionError):
        _snippet_test(text)()
    # the same draws against a correct class pass: the snippet tests the layer, not a canned failure
    _snippet_test(text.replace("broken.py:AffineDbAveraged", "correct.py:AffineBook1"))()


def test_shrink_budget_keeps_the_failure_real() -> None:
    """With no shrink budget at all, the case reported still fails when replayed."""
    run = check_layer(
        f"{ZOO / 'broken.py'}:AffineDbAveraged",
        "affine",
        references=("fd",),
        examples=15,
        seed=3,
        shrink_seconds=0.0,
    )
    failure = next(r for r in run.failures if r.prop == "batch")
    assert failure.case is not None
    with pytest.raises(AssertionError):
        replay(
            run.target,
            spec="affine",
            property="batch",
            reference="self",
            dtype="float64",
            draws=failure.case.draws,
        )


# ---- the report ---------------------------------------------------------------------------------


def report(capsys: pytest.CaptureFixture[str], spec: str, *argv: str) -> Ran:
    """``crosscheck report --spec spec`` in this process (``--jobs 1`` unless ``argv`` says otherwise)."""
    return crosscheck(capsys, "report", "--spec", spec, "--jobs", "1", *argv)


def test_report_formats(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out = tmp_path / "matrix.json"
    ran = report(
        capsys, "relu,two_layer_net", "--examples", "3", "--format", "json", "--output", str(out), *FD
    )
    assert ran.code == 0, out.read_text()
    data = json.loads(out.read_text())
    assert data["ok"] is True and data["seed"] == int(SEED)
    statuses = {(r["spec"], r["property"], r["reference"], r["dtype"]): r["status"] for r in data["results"]}
    assert statuses[("relu", "fd", "fd", "float32")] == "pass"
    assert statuses[("two_layer_net", "linearity", "self", "float64")] == "n/a"
    assert all(r["examples"] > 0 for r in data["results"] if r["status"] == "pass")
    ran = report(capsys, "relu", "--examples", "3", "--format", "markdown", *FD)
    assert "| layer | dtype | fd | jacobian |" in ran.out and "| relu | float32 | pass" in ran.out


def test_seed_repeats_the_run_and_a_random_seed_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--examples", "5", "--format", "json", "--reference", "fd"]
    runs = [report(capsys, "sigmoid", *argv, "--seed", "99", "-q") for _ in range(2)]
    strip = [
        [{k: v for k, v in r.items() if k != "seconds"} for r in json.loads(x.out)["results"]] for x in runs
    ]
    assert strip[0] == strip[1]
    ran = report(capsys, "sigmoid", *argv)
    seed = json.loads(ran.out)["seed"]
    assert f"seed {seed} (random; repeat with --seed)" in ran.err


@pytest.mark.parametrize(
    "command",
    [
        "check --chain a.py:A,b.py:B --as s --set eps=1e-6 --set p=0.5 --strict-fp",
        "check 'a b.py:A' --as s --shapes 0,2 --format json --shrink-time 2.5",
        "report --spec relu,tanh --reference fd --dtype float32 --jobs 3",
        "report --examples 7 --format markdown --output 'out file.md' -q",
    ],
)
def test_the_repeat_command_gives_back_every_option(command: str) -> None:
    """Parsed again, the command line the repeat line shows is the run's own (the seed drawn made
    explicit)."""
    args = _parser().parse_args(shlex.split(command))
    again = _parser().parse_args(shlex.split(_repeat_command(args, 42))[1:])
    assert vars(again) == {**vars(args), "seed": 42}


@contextmanager
def registered(spec: LayerSpec) -> Iterator[None]:
    register(spec)
    try:
        yield
    finally:
        unregister(spec.name)


def test_vacuous_cell_is_not_a_pass(capsys: pytest.CaptureFixture[str]) -> None:
    """A spec with one-row batches only: the batch property rejects every example."""
    one_row = dataclasses.replace(get_spec("relu"), name="relu_one_row", shapes=({"shape": (1, 5)},))
    with registered(one_row):
        ran = report(capsys, "relu_one_row", "--dtype", "float64", "--examples", "3", *FD)
    assert ran.code == 1
    assert "VACUOUS" in ran.out and "every drawn example was rejected" in ran.out


def test_missing_backend_is_shown_as_skipped_never_passed(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    torch = get_reference("torch")
    monkeypatch.setattr(type(torch), "unavailable", lambda self: "torch is not installed (pip install torch)")
    argv = ["--dtype", "float64", "--examples", "2", "--seed", SEED, "-q"]
    data = json.loads(report(capsys, "relu", *argv, "--format", "json").out)
    torch_cells = [r for r in data["results"] if "torch" in r["reference"]]
    assert torch_cells and all(r["status"] == "skip" for r in torch_cells)
    assert data["references"]["torch"] == "torch is not installed (pip install torch)"
    table = report(capsys, "relu", *argv, "--reference", "fd")
    assert "torch" not in table.out.split("\n\n", 1)[1].split("cells run")[0]
    assert crosscheck(capsys, "check", IMPL + ":Relu", "--as", "relu", "--reference", "torch").code == 2


def test_list_shows_every_public_spec_and_numbers_its_shape_sets(capsys: pytest.CaptureFixture[str]) -> None:
    ran = crosscheck(capsys, "list")
    assert ran.code == 0
    public = (
        "mul add relu sigmoid affine softmax softmax_with_loss softmax_with_loss_labels two_layer_net tanh"
    )
    for name in public.split():
        assert f"\n{name}  (" in "\n" + ran.out
    assert "kinks: gradient 0 at x == 0" in ran.out and "parameters: W, b" in ran.out
    assert "shapes (check --shapes picks by index):" in ran.out and "      [2] x=(3, 2, 2, 2), M=3" in ran.out
    described = json.loads(crosscheck(capsys, "list", "--format", "json").out)
    assert {d["name"] for d in described} >= set(public.split())


def test_inconsistent_spec_is_reported(capsys: pytest.CaptureFixture[str]) -> None:
    """A spec whose jax math differs from its torch math fails its own agreement cell; a worker
    process, which does not know a spec registered at run time, hands it back to run here."""
    for name in ("torch", "jax"):
        reference_or_skip(name)
    wrong = dataclasses.replace(
        get_spec("sigmoid"), name="sigmoid_inconsistent", jax=lambda J, x: J.nn.sigmoid(x * 1.001)
    )
    argv = ["--dtype", "float64", "--examples", "3", "--seed", SEED, "-q"]
    with registered(wrong):
        ran = report(capsys, "sigmoid_inconsistent", *argv, "--jobs", "2")
    assert ran.code == 1
    assert "FAIL: sigmoid_inconsistent, its torch and jax math, float64" in ran.out
    sane = report(capsys, "sigmoid", *argv)
    assert sane.code == 0, sane.out
