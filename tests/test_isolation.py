"""Foreign code cannot fool or damage the verdict (properties/engine/sandbox.py): whatever a checked
class does (exit, hang, print, keep state on the class, change directory), the first line of
``crosscheck check`` is the harness's own verdict, the right one, with the right exit status; the
user's directory is left as it was; a crash of crosscheck itself exits 3, never 1.

The classes are tests/zoo/misbehaving.py's. A class that may end the process is checked in a child
process, so a regression fails the test instead of ending pytest.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from layer_crosscheck.properties import check_layer
from layer_crosscheck.properties.engine import checks, sandbox
from layer_crosscheck.properties.frontends import verdict
from tests.helpers import crosscheck, interruptible_children, subprocess_env

MISBEHAVING = Path(__file__).resolve().parent / "zoo" / "misbehaving.py"
FD = ["--reference", "fd", "--examples", "5", "--seed", "3", "--shrink-time", "0.5", "-q"]


def run(cwd: Path, *argv: str) -> subprocess.CompletedProcess[str]:
    """``python -m layer_crosscheck`` in a child process at ``cwd``, bytecode writing left on (as a
    user's Python has it), so a ``__pycache__`` left behind would show."""
    env = {k: v for k, v in subprocess_env().items() if k != "PYTHONDONTWRITEBYTECODE"}
    return subprocess.run(
        [sys.executable, "-m", "layer_crosscheck", *argv],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def check(tmp_path: Path, name: str, *argv: str) -> subprocess.CompletedProcess[str]:
    return run(tmp_path, "check", f"{MISBEHAVING}:{name}", "--as", "relu", *FD, *argv)


def first_line(done: subprocess.CompletedProcess[str]) -> str:
    return done.stdout.splitlines()[0] if done.stdout else ""


@pytest.mark.parametrize(
    ("name", "called"),
    [("ReluExitsInForward", "sys.exit(0)"), ("ReluHardExitsInForward", "os._exit(0)")],
)
def test_an_exit_inside_forward_is_a_named_finding_not_an_exit_0(
    tmp_path: Path, name: str, called: str
) -> None:
    done = check(tmp_path, name)
    assert done.returncode == 1, done.stdout + done.stderr
    assert first_line(done).startswith(f"{name} DISAGREES with spec relu")
    assert f"{name}.forward called {called}: a layer must return its result" in done.stdout


def test_a_hanging_forward_is_stopped_by_the_time_limit_and_named(tmp_path: Path) -> None:
    done = check(tmp_path, "ReluHangs", "--call-timeout", "0.5")
    assert done.returncode == 1, done.stdout + done.stderr
    assert first_line(done).startswith("ReluHangs DISAGREES with spec relu")
    assert "ReluHangs.forward did not return within 0.5 s" in done.stdout
    assert "(at " in done.stdout and "misbehaving.py:" in done.stdout and " in forward)" in done.stdout
    assert "--call-timeout 0.5" in done.stdout.splitlines()[-1]  # the line that repeats the run


def test_the_class_output_is_a_note_and_json_stays_json(tmp_path: Path) -> None:
    done = check(tmp_path, "ReluPrints", "--format", "json")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(done.stdout)
    (note,) = [n for n in report["notes"] if "the class printed" in n]
    assert "forward (" in note and "backward (" in note  # its stdout and its stderr
    assert "backward (" not in done.stderr

    done = check(tmp_path, "ReluPrints")
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.fullmatch(r"ReluPrints agrees with spec relu: \d+ cells passed", first_line(done))
    assert done.stdout.splitlines()[1].startswith("note: the class printed ")


def test_a_mask_kept_on_the_class_fails_with_two_live_instances(capsys: pytest.CaptureFixture[str]) -> None:
    ran = crosscheck(capsys, "check", f"{MISBEHAVING}:ReluMaskOnClass", "--as", "relu", *FD)
    assert ran.code == 1, ran.out
    assert re.fullmatch(r"ReluMaskOnClass DISAGREES with spec relu\b.*[:;] 1 of \d+ cells failed", ran.first)
    assert "first: state: relu dx of an instance after another instance's forward vs alone" in ran.out
    assert "(state kept on the class is shared by every instance)" in ran.out


@pytest.mark.parametrize(
    "name", ["ReluBackwardReturnsTuple", "ReluBackwardReturnsList", "ReluBackwardReturnsNestedList", "ReLU"]
)
def test_correct_classes_pass(capsys: pytest.CaptureFixture[str], name: str) -> None:
    ran = crosscheck(capsys, "check", f"{MISBEHAVING}:{name}", "--as", "relu", *FD)
    assert ran.code == 0, ran.out
    assert re.fullmatch(rf"{name} agrees with spec relu: \d+ cells passed", ran.first), ran.first


def test_a_backward_returning_no_gradient_is_told_what_it_returned(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran = crosscheck(capsys, "check", f"{MISBEHAVING}:ReluBackwardReturnsPair", "--as", "relu", *FD)
    assert ran.code == 1, ran.out
    assert ran.first.startswith("ReluBackwardReturnsPair DISAGREES with spec relu")
    assert (
        "ReluBackwardReturnsPair.backward returned a list of 2 item(s), which neither is nor starts with"
        in (ran.out)
    )
    assert "IndexError" not in ran.out and "crosscheck's own code" not in ran.out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--as", "Relu"], "unknown spec 'Relu'; did you mean 'relu'?"),
        (["--as", "softmaxwithloss"], "did you mean 'softmax_with_loss'?"),
    ],
)
def test_a_misspelt_spec_gets_a_did_you_mean(
    capsys: pytest.CaptureFixture[str], argv: list[str], says: str
) -> None:
    ran = crosscheck(capsys, "check", f"{MISBEHAVING}:ReLU", *argv, *FD)
    assert ran.code == 2 and says in ran.err, ran.err


def test_a_misspelt_class_gets_a_did_you_mean(capsys: pytest.CaptureFixture[str]) -> None:
    ran = crosscheck(capsys, "check", f"{MISBEHAVING}:Relu", "--as", "relu", *FD)
    assert ran.code == 2, ran.err
    assert "misbehaving.py has no class 'Relu'; did you mean 'ReLU'?" in ran.err


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf"])
def test_a_setting_outside_its_domain_is_refused(capsys: pytest.CaptureFixture[str], value: str) -> None:
    ran = crosscheck(
        capsys, "check", f"{MISBEHAVING}:ReLU", "--as", "batch_norm_per_feature", "--set", f"eps={value}"
    )
    assert ran.code == 2, ran.err
    assert "eps" in ran.err and ("finite" in ran.err or "positive" in ran.err), ran.err
    assert ran.out == ""


def test_a_crash_of_crosscheck_in_a_cell_exits_3_not_1(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The harness's own IndexError is a bug in crosscheck, never "the class raised"."""

    def crash(*args: object) -> None:
        raise IndexError("planted in the harness")

    monkeypatch.setattr(checks, "_check_conventions", crash)
    ran = crosscheck(capsys, "check", f"{MISBEHAVING}:ReLU", "--as", "relu", *FD)
    assert ran.code == 3, ran.out + ran.err
    assert "internal error: this is a bug in crosscheck" in ran.err
    assert "IndexError: planted in the harness" in ran.err and "Traceback" in ran.err
    assert ran.out == ""  # no verdict: nothing was decided about the class


def test_a_crash_of_crosscheck_outside_the_cells_exits_3(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: object, **kwargs: object) -> str:
        raise KeyError("planted in the verdict")

    monkeypatch.setattr(verdict, "render_check", crash)
    ran = crosscheck(capsys, "check", f"{MISBEHAVING}:ReLU", "--as", "relu", *FD)
    assert ran.code == 3 and "bug in crosscheck" in ran.err and "planted in the verdict" in ran.err


def test_the_working_directory_is_left_as_it_was(tmp_path: Path) -> None:
    """No ``.hypothesis`` (its database, the literals Hypothesis collects from the user's file), no
    ``__pycache__`` (neither of the target nor of what it imports), and the same directory after."""
    (tmp_path / "helpers_mod.py").write_text(
        "import numpy as np\n\n\ndef relu(x):\n    return np.maximum(x, 0)\n"
    )
    (tmp_path / "mine.py").write_text(
        "from helpers_mod import relu\n\n\nclass Relu:\n"
        "    def forward(self, x):\n        self.x = x\n        return relu(x)\n\n"
        "    def backward(self, dout):\n        return dout * (self.x > 0)\n"
    )
    before = sorted(p.name for p in tmp_path.iterdir())
    done = run(tmp_path, "check", "mine.py:Relu", "--as", "relu", *FD)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_file_that_changes_directory_at_import_moves_neither_cwd_nor_the_next_chain_target(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "softmax_moves.py").write_text(
        "import os\n\nfrom layer_crosscheck.impl import Softmax\n\nos.chdir(os.path.dirname(os.getcwd()))\n"
    )
    (tmp_path / "cee.py").write_text("from layer_crosscheck.impl import CrossEntropyError\n")
    monkeypatch.chdir(tmp_path)
    chain = "softmax_moves.py:Softmax,cee.py:CrossEntropyError"
    ran = crosscheck(capsys, "check", "--chain", chain, "--as", "softmax_then_cross_entropy", *FD)
    assert ran.code == 0, ran.out + ran.err
    assert Path.cwd() == tmp_path


def test_a_forward_that_changes_directory_leaves_the_cwd_restored(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "wanders.py").write_text(
        "import os\n\nfrom layer_crosscheck.impl import Relu as _Relu\n\n\nclass Relu(_Relu):\n"
        "    def forward(self, x):\n        os.chdir(os.sep)\n        return super().forward(x)\n"
    )
    monkeypatch.chdir(tmp_path)
    run_ = check_layer("wanders.py:Relu", "relu", references=["fd"], examples=3, seed=1)
    assert run_.ok and Path.cwd() == tmp_path
    assert not sandbox.active()


def test_ctrl_c_on_report_stops_its_workers_without_tracebacks(tmp_path: Path) -> None:
    """Ctrl-C reaches the whole process group; the workers leave it to the parent, which stops them."""
    argv = ["report", "--jobs", "2", "--reference", "fd", "--dtype", "float64", "--examples", "30"]
    env = {**subprocess_env(), "PYTHONUNBUFFERED": "1"}
    with interruptible_children():
        child = subprocess.Popen(
            [sys.executable, "-m", "layer_crosscheck", *argv],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
    assert child.stderr is not None
    while "[" not in (line := child.stderr.readline()):  # the first finished cell: workers are running
        assert line, "report ended before its first cell"
    os.killpg(child.pid, signal.SIGINT)
    _, err = child.communicate(timeout=300)
    assert child.returncode == 130, err
    assert "crosscheck: interrupted" in err and "Traceback" not in err


# ---- the sandbox itself ---------------------------------------------------------------------------


def test_outside_a_check_a_foreign_call_is_a_plain_call() -> None:
    with pytest.raises(SystemExit):
        sandbox.foreign("Relu.forward", sys.exit, 3)


def test_a_check_leaves_the_process_as_it_found_it() -> None:
    from hypothesis import configuration

    before = (os._exit, signal.getsignal(signal.SIGALRM), sys.dont_write_bytecode, os.getcwd())
    home = getattr(configuration, "__hypothesis_home_directory", None)
    with sandbox.isolated(5.0):
        assert os._exit is not before[0]
        with pytest.raises(sandbox.ForeignExit, match=r"Relu.forward called os._exit\(4\)"):
            sandbox.foreign("Relu.forward", os._exit, 4)
        with pytest.raises(sandbox.ForeignExit, match=r"Relu.forward called sys.exit\('bye'\)"):
            sandbox.foreign("Relu.forward", sys.exit, "bye")
        sandbox.foreign("Relu.forward", os.chdir, os.sep)
        assert os.getcwd() == before[3]
    assert (os._exit, signal.getsignal(signal.SIGALRM), sys.dont_write_bytecode, os.getcwd()) == before
    assert getattr(configuration, "__hypothesis_home_directory", None) == home
    assert not sandbox.active()


def test_a_call_that_timed_out_is_not_made_again_and_others_still_are() -> None:
    calls: list[str] = []

    def hang() -> None:
        calls.append("forward")
        time.sleep(30)

    with sandbox.isolated(0.2):
        with pytest.raises(sandbox.CallTimeout, match=r"Slow.forward did not return within 0.2 s"):
            sandbox.foreign("Slow.forward", hang)
        with pytest.raises(sandbox.CallTimeout, match=r"Slow.forward did not return"):
            sandbox.foreign("Slow.forward", lambda: calls.append("forward again"))
        assert sandbox.foreign("Slow.backward", lambda: calls.append("backward") or 7) == 7
    assert calls == ["forward", "backward"]


def test_the_output_note_shows_the_first_lines_and_counts_the_rest() -> None:
    with sandbox.isolated():
        assert sandbox.output_note() is None
        sandbox.foreign("Chatty.forward", lambda: print("\n".join(f"line {i}" for i in range(25))))
        sandbox.foreign("Chatty.backward", lambda: print("to stderr", file=sys.stderr))
        note = sandbox.output_note()
    assert note is not None and note.startswith("the class printed 26 line(s) while it was checked")
    assert "    line 0\n" in note and "    line 9\n" in note and "line 10" not in note
    assert note.endswith("... (16 more line(s))")


def test_an_exit_is_not_shrunk_and_hypothesis_is_left_as_it_was() -> None:
    """A finding whatever the input (an exit, a hang) stops shrinking at once, for that cell only."""
    from hypothesis.internal.conjecture import engine

    before = engine.MAX_SHRINKING_SECONDS
    run_ = check_layer(f"{MISBEHAVING}:ReluExitsInForward", "relu", references=["fd"], examples=5, seed=3)
    assert not run_.ok
    exits = [r for r in run_.failures if "ReluExitsInForward.forward called sys.exit(0)" in r.message]
    # a cell whose examples never reach x < 0 finds the other bug, dout passed through at x == 0
    assert exits and all(r in exits or "relu dx" in r.message for r in run_.failures)
    assert before == engine.MAX_SHRINKING_SECONDS


def test_a_base_exception_of_the_class_is_a_finding_not_the_end_of_the_check(
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran = crosscheck(capsys, "check", f"{MISBEHAVING}:ReluRaisesBaseException", "--as", "relu", *FD)
    assert ran.code == 1, ran.out + ran.err
    assert ran.first.startswith("ReluRaisesBaseException DISAGREES with spec relu")
    assert "ReluRaisesBaseException.backward raised _Abort, a BaseException but not an Exception" in ran.out
