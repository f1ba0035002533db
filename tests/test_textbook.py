"""Textbook-style classes (tests/zoo/textbook_layers.py) get the verdict a learner expects: the
values decide, and NumPy's floating-point warnings are a note unless ``--strict-fp`` is given."""

from __future__ import annotations

import pytest

from tests.helpers import ROOT, crosscheck

#: finite differences and the self properties only, so this runs without torch or jax; the
#: extremes (±1e4) are in every strategy, so exp(-x) overflows within the first examples
CHECK = ["check", f"{ROOT}/tests/zoo/textbook_layers.py:Sigmoid", "--as", "sigmoid", "--reference", "fd"]
FD = ["--examples", "8", "--seed", "3", "-q"]


def test_plain_exp_sigmoid_passes_with_a_warning_note(capsys: pytest.CaptureFixture[str]) -> None:
    ran = crosscheck(capsys, *CHECK, *FD)
    assert ran.code == 0, ran.out
    assert "note: the class gave NumPy floating-point warnings" in ran.out
    assert "overflow encountered in exp (at textbook_layers.py:" in ran.out
    assert "agrees with spec sigmoid on every property" in ran.out


def test_strict_fp_makes_the_warning_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    ran = crosscheck(capsys, *CHECK, "--strict-fp", *FD)
    assert ran.code == 1, ran.out
    assert "FloatingPointError: overflow encountered in exp" in ran.out
