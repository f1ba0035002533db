"""The pytest plugin: ``assert_layer_matches`` in anyone's tests, and ``--crosscheck-report``.

The option is exercised in a separate pytest run (a fresh process, as a user would run it); that
run also shows loading the plugin imports neither torch nor jax.
"""

from __future__ import annotations

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
