"""Textbook-style classes (tests/zoo/textbook_layers.py) get the verdict a learner expects: the
values decide, and NumPy's floating-point warnings are a note unless ``--strict-fp`` is given."""

from __future__ import annotations

from pathlib import Path

import pytest

from properties.frontends.cli import main

PLAIN_SIGMOID = f"{Path(__file__).resolve().parent / 'zoo' / 'textbook_layers.py'}:Sigmoid"
#: finite differences and the self properties only, so this runs without torch or jax; the
#: extremes (±1e4) are in every strategy, so exp(-x) overflows within the first examples
FD = ["--reference", "fd", "--examples", "8", "--seed", "3", "-q"]


def test_plain_exp_sigmoid_passes_with_a_warning_note(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", PLAIN_SIGMOID, "--as", "sigmoid", *FD])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "note: the class gave NumPy floating-point warnings" in out
    assert "overflow encountered in exp (at textbook_layers.py:" in out
    assert "agrees with spec sigmoid on every property" in out


def test_strict_fp_makes_the_warning_a_failure(capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["check", PLAIN_SIGMOID, "--as", "sigmoid", "--strict-fp", *FD])
    out = capsys.readouterr().out
    assert code == 1, out
    assert "FloatingPointError: overflow encountered in exp" in out
