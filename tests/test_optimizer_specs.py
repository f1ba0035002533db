"""The optimizer specs (properties/specs/optim.py): the book's own optimizers pass, each planted bug
is rejected with the step and parameter where it departs from torch.optim and from optax, and a
correct optimizer written in another known convention is told that convention's name."""

from __future__ import annotations

import dataclasses
import importlib.util
import re
from pathlib import Path

import numpy as np
import pytest

from layer_crosscheck.impl import Relu
from layer_crosscheck.properties.engine.checks import PROPERTIES
from layer_crosscheck.properties.engine.errors import UsageError
from layer_crosscheck.properties.engine.matrix import cells
from layer_crosscheck.properties.engine.registry import SPECS, get_spec
from layer_crosscheck.properties.engine.results import Run
from layer_crosscheck.properties.frontends.api import check_layer, preflight
from layer_crosscheck.properties.frontends.cli import main
from layer_crosscheck.reference import get_reference
from tests.helpers import crosscheck, needs

ZOO = Path(__file__).parent / "zoo"
BOOK, BROKEN = ZOO / "textbook_optim.py", ZOO / "broken_optim.py"
OPTIMIZER_SPECS = ("sgd", "momentum", "nesterov", "adagrad", "adagrad_eps_inside", "adam", "adam_torch")
OPTIMIZER_SPECS += ("rmsprop", "rmsprop_eps_inside")
DEPARTS = re.compile(r"departs from (?:torch\.optim|optax) at step (\d+) of \d+, param '(\w+)'")
#: each reference's own optimizer library, which its column needs
LIBRARY = {"torch": "torch", "jax": "optax"}

#: jax missing (or hidden by ``--without jax``): asking for its column is then refused for that reason
_NEEDS_JAX = needs("jax", "the jax column needs jax itself (optax aside)")


def _check(target: str, spec: str, dtypes: tuple[str, ...] = ("float64",), reference: str = "torch") -> Run:
    pytest.importorskip(LIBRARY[reference])
    return check_layer(
        target, spec, references=(reference,), dtypes=dtypes, examples=15, seed=0, shrink_seconds=2.0
    )


def _failure(run: Run, reference: str = "torch") -> str:
    assert not run.ok, "the planted bug was not caught"
    (failure,) = run.failures
    assert (failure.prop, failure.reference, failure.status) == ("optimizer", reference, "fail"), failure
    return failure.message


@pytest.mark.parametrize(
    ("cls", "spec"), [("SGD", "sgd"), ("Momentum", "momentum"), ("AdaGrad", "adagrad"), ("Adam", "adam")]
)
def test_the_books_optimizers_pass(cls: str, spec: str) -> None:
    run = _check(f"{BOOK}:{cls}", spec, ("float64", "float32"))
    assert run.ok, [r.message for r in run.failures]
    assert {r.status for r in run.results if r.prop == "optimizer"} == {"pass"}


PLANTED = [
    ("MomentumSignError", "momentum", 2),  # -m*v is +m*v's value while v is 0
    ("AdaGradNoAccumulation", "adagrad", 2),  # h = g*g is h += g*g from h = 0
    ("AdamNoBiasCorrection", "adam", 1),  # lr_t = lr is 10x too small at once
]


@pytest.mark.parametrize(
    ("cls", "spec", "first_step", "reference"),
    [(*case, "torch") for case in PLANTED]
    + [(*case, "jax") for case in PLANTED if get_spec(case[1]).missing("jax") is None],
)
def test_planted_bug_departs_at_a_named_step_and_param(
    cls: str, spec: str, first_step: int, reference: str
) -> None:
    run = _check(f"{BROKEN}:{cls}", spec, reference=reference)
    message = _failure(run, reference)
    found = DEPARTS.search(message)
    assert found, message
    step, param = int(found.group(1)), found.group(2)
    assert step >= first_step, message  # a bug invisible at step 1 cannot be reported there
    assert param in {n for shapes in get_spec(spec).shapes for n in shapes}
    assert "largest absolute error" in message
    assert run.convention is None  # a bug, not a convention


@pytest.mark.parametrize(
    ("cls", "words"),
    [
        ("SGDRebinds", "rebinds params['"),
        ("SGDWritesGrads", "wrote into grads['"),
        ("SGDReturnsNew", "returned dict and left params unchanged"),
    ],
)
def test_sgd_must_update_in_place_and_only_read_grads(cls: str, words: str) -> None:
    message = _failure(_check(f"{BROKEN}:{cls}", "sgd"))
    assert words in message, message
    assert "at step 1" in message or "must update the arrays in params in place" in message, message


@pytest.mark.parametrize(
    ("target", "spec", "words", "flags"),
    [
        (
            f"{BROKEN}:AdaGradEpsInside",
            "adagrad",
            "AdaGrad with eps inside the square root",
            "--as adagrad_eps_inside",
        ),
        (
            f"{BROKEN}:AdaGradTorchEps",
            "adagrad",
            "spec adagrad with eps = 1e-10 instead of 1e-07",
            "--as adagrad --set eps=1e-10",
        ),
        (f"{BROKEN}:AdamTorchEps", "adam", "torch.optim.Adam's eps", "--as adam_torch"),
        ("layer_crosscheck.impl:Adam", "adam", "torch.optim.Adam's eps", "--as adam_torch"),
        (f"{BOOK}:Adam", "adam_torch", "the book's epsilon-hat Adam", "--as adam"),
        ("layer_crosscheck.impl:Nesterov", "momentum", "Nesterov momentum", "--as nesterov"),
    ],
)
def test_another_convention_is_named_and_passes_under_its_flags(
    target: str, spec: str, words: str, flags: str
) -> None:
    """The book's Adam and torch's differ by more than rounding (so each fails the other's spec),
    but the run names the convention and the flags under which the class passes; the failure still
    says where it departs."""
    run = _check(target, spec)
    assert DEPARTS.search(_failure(run))
    assert run.convention is not None and f"follows {words}" in run.convention, run.convention
    assert run.convention.endswith(f"rerun with crosscheck check {target} {flags}"), run.convention
    assert main(["check", target, *flags.split(), "--reference", "torch", "--examples", "15", "-q"]) == 0


def test_layer_properties_do_not_apply_to_optimizers_and_optax_judges_the_jax_column() -> None:
    pytest.importorskip("torch")
    run = check_layer(f"{BOOK}:SGD", "sgd", examples=5, seed=0)
    by_prop = {(r.prop, r.reference): r for r in run.results}
    for prop in PROPERTIES:
        if prop.name == "optimizer":
            continue
        for r in (r for (p, _), r in by_prop.items() if p == prop.name):
            assert r.status == "n/a" and "an optimizer has no forward/backward" in r.message, r
    jax = by_prop[("optimizer", "jax")]
    if (missing := get_reference("jax").unavailable()) is not None:  # jax itself (--without jax)
        assert jax.status == "skip" and missing in jax.message, jax
    elif importlib.util.find_spec("optax") is None:
        assert jax.status == "skip" and "optax is not installed" in jax.message
    else:
        assert jax.status == "pass", jax.message
    assert by_prop[("optimizer", "torch")].status == "pass"


@_NEEDS_JAX
def test_a_missing_optax_is_a_visible_skip_that_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    absent = "optax_not_installed_here"
    spec = dataclasses.replace(get_spec("sgd"), requires={"jax": (absent,)})
    (cell,) = (c for c in cells([spec], ("jax",)) if c.prop.name == "optimizer" and c.dtype == np.float64)
    assert cell.unavailable() == f"{absent} is not installed (pip install {absent})"
    with pytest.raises(UsageError, match=rf"{absent} is not installed.*its references: torch$"):
        check_layer(f"{BOOK}:SGD", spec, references=("jax",), examples=1)


def test_the_optimizer_property_applies_to_optimizer_specs_only() -> None:
    optimizer_cells = {c.spec.name for c in cells() if c.prop.name == "optimizer"}
    assert optimizer_cells == set(OPTIMIZER_SPECS)
    assert [n for n in SPECS if SPECS[n].kind == "optimizer"] == list(OPTIMIZER_SPECS)


def test_a_class_without_update_is_a_usage_error() -> None:
    """Asked before any reference is needed: runs without torch."""
    with pytest.raises(UsageError, match="has no method update; spec sgd drives update"):
        preflight(get_spec("sgd"), Relu)


def test_the_book_takes_no_eps_so_eps_is_assumed_and_passed_only_when_taken() -> None:
    """The book's AdaGrad() hard-codes eps 1e-7; impl's AdaGrad(eps=...) is handed the spec's."""
    from layer_crosscheck.properties.engine.drivers import driver_for
    from layer_crosscheck.properties.engine.explore import example_cases
    from tests.zoo import textbook_optim

    spec = get_spec("adagrad")
    case = example_cases(spec)[0]
    assert driver_for(spec).build(spec.layer, case, np.float64).eps == 1e-7
    assert not hasattr(driver_for(spec).build(textbook_optim.AdaGrad, case, np.float64), "eps")


def test_the_command_says_where_a_users_optimizer_departs(capsys: pytest.CaptureFixture[str]) -> None:
    """``crosscheck check my_optim.py:Adam --as adam``: exit 0 for the book's Adam, 1 for a bug."""
    pytest.importorskip("torch")
    argv = ["--as", "adam", "--reference", "torch", "--examples", "10", "--seed", "0"]
    argv += ["--shrink-time", "2", "-q"]
    assert crosscheck(capsys, "check", f"{BOOK}:Adam", *argv).code == 0
    bad = crosscheck(capsys, "check", f"{BROKEN}:AdamNoBiasCorrection", *argv)
    assert bad.code == 1 and DEPARTS.search(bad.out), bad.out


@pytest.mark.parametrize(
    ("spec", "reference"),
    [("sgd", "fd"), pytest.param("adagrad", "jax", marks=_NEEDS_JAX)],
)
def test_a_run_where_nothing_judges_the_optimizer_is_a_usage_error(spec: str, reference: str) -> None:
    """Finite differences have nothing to say about an optimizer, and optax has no book AdaGrad
    (eps after the root): a run with only those must not read as agreement."""
    with pytest.raises(UsageError, match=f"spec {spec} has no property judged against {reference}.*torch"):
        check_layer(f"{BROKEN}:SGDRebinds", spec, references=(reference,), examples=1)
