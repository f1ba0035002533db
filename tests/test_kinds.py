"""The three kinds of finding (properties/engine/kinds.py) on CS231n-style classes
(tests/zoo/cs231n_kinds.py): DISAGREES in the ordinary range, FRAGILE at extreme inputs, a
CONVENTION at kinks or ties, each with the method at fault on the first line; every kind exits 1,
and a fragile class checked with ``--ordinary`` exits 0. Needs torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from layer_crosscheck import impl
from layer_crosscheck.properties import check_layer
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.explore import explore
from layer_crosscheck.properties.engine.kinds import away_from_kinks, ordinary
from layer_crosscheck.properties.engine.registry import get_spec
from layer_crosscheck.properties.frontends.verdict import render_check
from tests.helpers import crosscheck, needs
from tests.zoo import broken, correct
from tests.zoo import cs231n_kinds as Z

ZOO = Path(__file__).resolve().parent / "zoo" / "cs231n_kinds.py"
TORCH: dict[str, Any] = {"references": ["torch", "fd"], "examples": 10, "seed": 7, "shrink_seconds": 1}

pytestmark = needs("torch", "the verdict's kinds are judged against torch")

#: (class, spec, kind, method at fault, words of the first line)
KINDS = [
    (
        Z.SoftmaxLossLogOfProbs,
        "softmax_with_loss_labels",
        "fragile",
        "forward",
        "is FRAGILE at extreme inputs",
    ),
    (Z.ReluGradOneAtZero, "relu", "convention", "backward", "differs only at x == 0"),
    (Z.MaxPoolTiesAllGetDout, "pooling", "convention", "backward", "tied maxima"),
    (Z.AffineBackwardAveragesDw, "affine", "disagrees", "backward", "its forward agrees"),
    (
        Z.AffineForwardNoBias,
        "affine",
        "disagrees",
        "forward",
        "DISAGREES with spec affine in the ordinary range",
    ),
    (broken.ReluGradOneAtZero, "relu", "convention", "backward", "only by a CONVENTION at kinks or ties"),
]


@pytest.mark.parametrize(("cls", "spec", "kind", "fault", "words"), KINDS, ids=[k[0].__name__ for k in KINDS])
def test_the_first_line_names_the_kind_and_the_method_at_fault(
    cls: Any, spec: str, kind: str, fault: str, words: str
) -> None:
    run = check_layer(cls, spec, **TORCH)
    assert not run.ok
    assert (run.kind, run.fault) == (kind, fault)
    first = render_check(run).splitlines()[0]
    assert first.startswith(f"{cls.__name__} ") and f"{cls.__name__}.{fault}" in first
    assert words in first


@pytest.mark.parametrize(
    ("cls", "spec"),
    [(impl.Relu, "relu"), (correct.ReluWhere, "relu"), (impl.Pooling, "pooling")],
)
def test_correct_classes_agree(cls: Any, spec: str) -> None:
    run = check_layer(cls, spec, **TORCH)
    assert run.ok and run.kind == "agrees" and run.fault is None


def test_a_fragile_class_exits_1_and_0_with_ordinary(capsys: pytest.CaptureFixture[str]) -> None:
    args = ["check", f"{ZOO}:SoftmaxLossLogOfProbs", "--as", "softmax_with_loss_labels"]
    flags = ["--reference", "torch", "--examples", "10", "--seed", "7", "--shrink-time", "1", "-q"]
    fragile = crosscheck(capsys, *args, *flags)
    assert fragile.code == 1 and "--ordinary checks those alone" in fragile.out
    checked = crosscheck(capsys, *args, *flags, "--ordinary")
    assert checked.code == 0, checked.out
    assert "agrees with spec softmax_with_loss_labels in the ordinary range" in checked.out
    assert "--ordinary" in checked.out.splitlines()[-1]  # the line that repeats the run keeps it


def test_wrong_math_in_the_ordinary_range_fails_with_ordinary_too(capsys: pytest.CaptureFixture[str]) -> None:
    flags = [
        "--reference",
        "torch",
        "--examples",
        "10",
        "--seed",
        "7",
        "--shrink-time",
        "0",
        "-q",
        "--ordinary",
    ]
    ran = crosscheck(capsys, "check", f"{ZOO}:AffineBackwardAveragesDw", "--as", "affine", *flags)
    assert ran.code == 1 and "DISAGREES with spec affine in the ordinary range" in ran.out


def test_the_ordinary_draw_is_bounded_and_reaches_the_bound() -> None:
    spec = ordinary(get_spec("softmax_with_loss_labels"))
    bound = S.ordinary_bound("float64")
    drawn = []

    def body(draw: Any) -> None:
        drawn.append(spec.draw(draw, np.dtype("float64"), spec.shapes[1])["x"])

    explore(body, examples=50, seed=3, derandomize=False)
    sizes = [float(abs(x).max()) for x in drawn]
    assert max(sizes) <= bound and max(sizes) == bound
    samples = spec.edges.samples
    assert all(max(abs(v) for s in sm.arrays.values() for v in np.ravel(s)) <= 10 for sm in samples)


def test_away_from_kinks_leaves_the_kinks_out_for_every_reference() -> None:
    spec = away_from_kinks(get_spec("relu"))
    assert spec.kinks.references == () and spec.kinks.gradient is None
    assert all(s.convention is None for s in spec.edges.samples)
    assert away_from_kinks(get_spec("affine")) is get_spec("affine")  # no kinks: the spec itself


BOOK_CNN = Path(__file__).resolve().parent / "zoo" / "textbook_cnn.py"
QUICK = ["--examples", "10", "--seed", "7", "--shrink-time", "0", "-q"]


def test_no_convention_is_named_unless_a_rerun_under_it_passes(capsys: pytest.CaptureFixture[str]) -> None:
    """A backward dividing by sqrt(var), not sqrt(var + eps): its forward agrees under every eps,
    so a forward probe passes each alternative; the full rerun fails, and nothing is named (not the
    command just run either)."""
    for flags in (["--as", "batch_norm"], ["--as", "batch_norm_per_feature", "--set", "eps=1e-6"]):
        ran = crosscheck(
            capsys,
            "check",
            f"{BOOK_CNN}:BatchNormalizationNoEpsInBackward",
            *flags,
            "--reference",
            "torch",
            *QUICK,
        )
        assert ran.code == 1, ran.out
        assert "CONVENTION" not in ran.out and "follows" not in ran.out
        assert "DISAGREES with spec batch_norm" in ran.out.splitlines()[0]


def test_every_hazard_has_a_shape_set_of_its_own() -> None:
    """Overlapping windows without padding, and padding: a class that raises on one is still
    checked on the other."""
    from layer_crosscheck.properties.engine.registry import SPECS

    with_hazards = [s for s in SPECS.values() if s.hazards]
    assert {"convolution", "pooling"} <= {s.name for s in with_hazards}
    for spec in with_hazards:
        for name, reaches in spec.hazards.items():
            others = [r for n, r in spec.hazards.items() if n != name]
            alone = [s for s in spec.shapes if reaches(s) and not any(r(s) for r in others)]
            assert alone, f"spec {spec.name}: no shape set has {name} alone"


def test_the_shapes_advice_keeps_the_overlap_that_a_col2im_assigning_gets_wrong(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A book Pooling raising on padding: told to check shape sets 0,4 (the overlap without
    padding); a col2im that assigns instead of adding fails there, the right one passes."""
    flags = ["--as", "pooling", "--reference", "torch", *QUICK]
    for cls, code in (("PoolingCol2imAssigns", 1), ("Pooling", 0)):
        ran = crosscheck(capsys, "check", f"{BOOK_CNN}:{cls}", *flags)
        assert ran.code == 1 and "--shapes 0,4" in ran.out, ran.out
        assert "no shape set it runs on has padding" in ran.out
        again = crosscheck(capsys, "check", f"{BOOK_CNN}:{cls}", *flags, "--shapes", "0,4")
        assert again.code == code, again.out


def test_a_dropout_drawing_its_own_mask_that_raises_on_a_shape_set_is_a_finding(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Its mask is recovered by calling forward inside the draw; a shape set it raises on is
    reported by the probe (exit 1), never a traceback, and ``--shapes 0`` checks the others."""
    flags = ["--as", "dropout_book", "--reference", "torch", *QUICK]
    ran = crosscheck(capsys, "check", f"{BOOK_CNN}:DropoutTwoDOnly", *flags)
    assert ran.code == 1 and "it raises on shape set(s) 1" in ran.out.splitlines()[0], ran.out
    assert "too many values to unpack" in ran.out
    only = crosscheck(capsys, "check", f"{BOOK_CNN}:DropoutTwoDOnly", *flags, "--shapes", "0")
    assert only.code == 0, only.out


def test_an_adagrad_with_cs231n_eps_is_told_its_eps() -> None:
    from tests.zoo.textbook_optim import AdaGradEps8

    run = check_layer(AdaGradEps8, "adagrad", references=["torch"], examples=5, seed=7, shrink_seconds=0)
    assert not run.ok and run.fault == "update"
    assert run.convention is not None and "eps = 1e-08 instead of 1e-07" in run.convention
    assert "--as adagrad --set eps=1e-08" in run.convention
    fixed = check_layer(
        AdaGradEps8,
        "adagrad",
        references=["torch"],
        examples=5,
        seed=7,
        shrink_seconds=0,
        settings={"eps": 1e-8},
    )
    assert fixed.ok


def test_assert_layer_matches_takes_the_ordinary_range_and_json_says_the_kind(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from layer_crosscheck.properties import assert_layer_matches

    quick = {"references": ["torch"], "examples": 10, "seed": 7, "shrink_seconds": 0}
    with pytest.raises(AssertionError, match="is FRAGILE at extreme inputs"):
        assert_layer_matches(Z.SoftmaxLossLogOfProbs, "softmax_with_loss_labels", **quick)
    assert_layer_matches(Z.SoftmaxLossLogOfProbs, "softmax_with_loss_labels", ordinary_only=True, **quick)
    flags = ["--as", "relu", "--reference", "torch", *QUICK, "--format", "json"]
    ran = crosscheck(capsys, "check", f"{ZOO}:ReluGradOneAtZero", *flags)
    assert ran.code == 1 and '"kind": "convention"' in ran.out and '"fault": "backward"' in ran.out


def test_an_error_raised_alike_in_many_cells_is_judged_again_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """A write into the read-only ``dout`` raises the same error in every cell: classifying it
    reruns one cell per range, not every failing cell (a failing check then costs about what a
    passing one does)."""
    from layer_crosscheck.properties.engine import kinds

    reruns: list[str] = []
    real = kinds.run_cell
    counted = lambda cell, *a, **k: reruns.append(cell.prop) or real(cell, *a, **k)  # noqa: E731
    monkeypatch.setattr(kinds, "run_cell", counted)
    result = check_layer(broken.ReluWritesIntoDout, "relu", **TORCH)
    failed = [r for r in result.results if not r.ok]
    distinct = {r.message for r in failed}  # the error, and no_mutation's own finding
    assert len(failed) > 2 * len(distinct)
    assert result.kind == "disagrees" and len(reruns) <= len(distinct), reruns
