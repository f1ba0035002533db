"""The pytest plugin: ``assert_layer_matches`` in anyone's tests, and ``--crosscheck-report``.

The option is exercised in a separate pytest run (a fresh process, as a user would run it); that
run also shows loading the plugin imports neither torch nor jax.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from layer_crosscheck import properties
from layer_crosscheck.properties import assert_layer_matches
from layer_crosscheck.properties.frontends.loader import UsageError, load_target
from layer_crosscheck.reference import get_reference
from tests.helpers import plugin_args, subprocess_env

ZOO = Path(__file__).resolve().parent / "zoo"


def test_assert_layer_matches_is_exported_and_accepts_a_correct_class() -> None:
    assert "assert_layer_matches" in properties.__all__
    affine_grads = load_target(f"{ZOO / 'correct.py'}:AffineBook2")  # a class object, as a user passes it
    assert_layer_matches(affine_grads, spec="affine", references=("fd",), examples=10, seed=1)


def test_assert_layer_matches_raises_the_check_report() -> None:
    with pytest.raises(AssertionError) as failure:
        assert_layer_matches(
            f"{ZOO / 'broken.py'}:AffineDbAveraged",
            spec="affine",
            references=("fd",),
            examples=15,
            seed=1,
            shrink_seconds=1,
        )
    text = str(failure.value)
    assert "AffineDbAveraged DISAGREES with spec affine" in text
    assert "shrunk input:" in text and "from layer_crosscheck.properties import replay" in text


def test_assert_layer_matches_refuses_a_reference_it_cannot_run(monkeypatch: pytest.MonkeyPatch) -> None:
    torch = get_reference("torch")
    monkeypatch.setattr(type(torch), "unavailable", lambda self: "torch is not installed (pip install torch)")
    with pytest.raises(UsageError, match="torch is not installed"):
        assert_layer_matches("layer_crosscheck.impl:Relu", spec="relu", references=("torch",))


def _pytest(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_user.py").write_text(
        "import sys\n\ndef test_nothing_heavy_loaded():\n    assert not {'torch', 'jax'} & set(sys.modules)\n"
    )
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *plugin_args(), *args],
        cwd=tmp_path,
        env=subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_plugin_loads_cheaply_and_report_is_off_by_default(tmp_path: Path) -> None:
    done = _pytest(tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "crosscheck report" not in done.stdout


def test_crosscheck_report_option_prints_the_matrix(tmp_path: Path) -> None:
    args = ["--crosscheck-report", "--crosscheck-spec", "relu", "--crosscheck-reference", "fd"]
    done = _pytest(tmp_path, *args, "--crosscheck-examples", "3", "--crosscheck-seed", "5")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "crosscheck report" in done.stdout
    assert "relu   float64" in done.stdout and "ALL AGREE" in done.stdout
    bad = _pytest(tmp_path, *args[:2], "nonesuch")
    assert bad.returncode == 1
    assert "unknown spec 'nonesuch'" in bad.stdout


#: a learner's test file: two planted bugs, a correct class that overflows in exp (a note, once,
#: though two tests give it), and a registry cell of a planted layer (tests/test_properties.py's body)
USER_TESTS = f"""
import dataclasses

import pytest

from layer_crosscheck.properties import assert_layer_matches
from layer_crosscheck.properties.engine.matrix import cells
from layer_crosscheck.properties.engine.registry import get_spec, register
from tests import test_properties  # its test function, not collected here
from tests.zoo.broken import AffineDbAveraged

ZOO = {str(ZOO)!r}
FAST = dict(references=("fd",), examples=8, seed=3, shrink_seconds=1)


def test_relu():
    assert_layer_matches(ZOO + "/broken.py:ReluWritesIntoDout", spec="relu", **FAST)


def test_affine():
    assert_layer_matches(ZOO + "/broken.py:AffineDbAveraged", spec="affine", **FAST)


@pytest.mark.parametrize("again", [1, 2])
def test_sigmoid(again):
    assert_layer_matches(ZOO + "/textbook_layers.py:Sigmoid", spec="sigmoid", **FAST)


PLANTED = register(dataclasses.replace(get_spec("affine"), name="affine_planted", layer=AffineDbAveraged))


@pytest.mark.parametrize("cell", [c for c in cells([PLANTED], ("fd",), ("float64",)) if c.prop.name == "fd"])
def test_cell(cell):
    test_properties.test_property(cell)
"""


def _sections(out: str) -> dict[str, list[str]]:
    """Each failure section of a pytest run, by test name: its lines after the ``___ name ___`` rule."""
    failures = out.split(" FAILURES ", 1)[1].split(" short test summary info ", 1)[0]
    parts = re.split(r"^_{3,} (\S+?)(?:\[.*\])? _{3,}$", failures, flags=re.MULTILINE)
    return {name: body.strip("\n").splitlines() for name, body in zip(parts[1::2], parts[2::2], strict=True)}


def _in_order(lines: list[str], *marks: str) -> None:
    at = [next((i for i, line in enumerate(lines) if mark in line), -1) for mark in marks]
    assert -1 not in at and at == sorted(at), (marks, at, "\n".join(lines))


def test_a_failing_check_reads_in_forty_lines(tmp_path: Path) -> None:
    (tmp_path / "test_learner.py").write_text(USER_TESTS)
    done = _pytest(tmp_path, "-p", "no:randomly", "test_learner.py")
    assert done.returncode == 1, done.stdout + done.stderr
    sections = _sections(done.stdout)
    assert sorted(sections) == ["test_affine", "test_cell", "test_relu"], done.stdout
    for name, lines in sections.items():
        assert len(lines) <= 40, f"{name}: {len(lines)} lines\n" + "\n".join(lines)
        assert not any("hypothesis" in line.lower() or "Falsifying" in line for line in lines), name
    relu = sections["test_relu"]
    _in_order(relu, "DISAGREES", "hint: ", "ERROR (the class raised)", "shrunk input", "replay(")
    _in_order(sections["test_affine"], "DISAGREES", "FAIL: affine", "errors:", "replay(", "pytest -v")
    _in_order(sections["test_cell"], "DISAGREES with spec affine_planted", "FAIL:", "shrunk input", "replay(")
    after = done.stdout.split(" crosscheck notes ", 1)[1].splitlines()[1:]
    notes = [line for line in after if line.startswith("note: ")]
    assert len(notes) == 1 and "overflow encountered in exp" in notes[0], done.stdout


def test_the_full_report_comes_with_an_option(tmp_path: Path) -> None:
    (tmp_path / "test_learner.py").write_text(USER_TESTS)
    done = _pytest(tmp_path, "-p", "no:randomly", "test_learner.py", "-k", "affine", "--crosscheck-full")
    lines = _sections(done.stdout)["test_affine"]
    assert len(lines) > 40
    full = (" crosscheck: the full report ", "shape sets", "FAIL: affine, property jacobian")
    _in_order(lines, "DISAGREES", *full)
