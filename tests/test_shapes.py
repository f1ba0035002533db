"""Results per shape set: a class that raises on some entries of its spec's ``shapes`` is told which
(and why), and judged on the others; never a matrix of ERROR cells (tests/zoo/textbook_shapes.py).

Exit codes: 1 if the class raises on any shape set checked or any value disagrees; ``--shapes``
restricted to the shape sets it runs on gives 0 for a correct class. Judged against finite
differences, so these run without torch or jax.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from layer_crosscheck.properties import check_layer
from layer_crosscheck.properties.engine.explore import example_cases
from layer_crosscheck.properties.engine.registry import SPECS
from layer_crosscheck.properties.engine.shapes import probe
from tests.helpers import crosscheck

ZOO = Path(__file__).resolve().parent / "zoo"
TEXTBOOK = ZOO / "textbook_shapes.py"
BROKEN = ZOO / "broken.py"
FD = ["--reference", "fd", "--examples", "5", "--seed", "7", "--shrink-time", "1", "-q"]


def shape_lines(out: str) -> dict[str, str]:
    """``[i]`` -> that shape set's line in the report."""
    return {line.split("]")[0].strip() + "]": line for line in out.splitlines() if line.startswith("  [")}


#: (zoo file, class, spec, shape sets it runs on, what it raises on the others)
TWO_D_ONLY = [
    (TEXTBOOK, "AffineBook1", "affine", "0,1", "ValueError: shapes (3,2,2,2) and (8,3) not aligned"),
    (BROKEN, "AffineNoReshape", "affine", "0,1", "ValueError: shapes (3,2,2,2) and (8,3) not aligned"),
    (
        TEXTBOOK,
        "SimpleConvNetSquare",
        "simple_conv_net",
        "1",
        "params['W2'] has shape (8, 4), expected (4, 4)",
    ),
]


@pytest.mark.parametrize(
    ("path", "name", "spec", "runs", "raises"), TWO_D_ONLY, ids=[c[1] for c in TWO_D_ONLY]
)
def test_a_shape_set_the_class_raises_on_is_named_the_rest_judged_and_alone_passes(
    capsys: pytest.CaptureFixture[str], path: Path, name: str, spec: str, runs: str, raises: str
) -> None:
    ran = crosscheck(capsys, "check", f"{path}:{name}", "--as", spec, *FD)
    assert ran.code == 1, ran.out
    lines = shape_lines(ran.out)
    running = {int(i) for i in runs.split(",")}
    for i in range(len(SPECS[spec].shapes)):
        assert lines[f"[{i}]"].rstrip().endswith("runs" if i in running else "RAISES"), ran.out
    assert raises in ran.out
    assert " 0 fail, 0 error, 0 vacuous," in ran.out  # the values were judged, on the shapes it runs on
    assert f"check those alone: crosscheck check {path}:{name} --as {spec} --shapes {runs}" in ran.out
    last = ran.out.splitlines()[-1]
    assert f"{name} DISAGREES with spec {spec}: it raises on shape set(s)" in last
    assert f"on shape set(s) {runs} it agrees on every property" in last

    alone = crosscheck(capsys, "check", f"{path}:{name}", "--as", spec, "--shapes", runs, *FD)
    assert alone.code == 0, alone.out
    assert "not selected (--shapes)" in alone.out and "RAISES" not in alone.out
    assert f"{name} agrees with spec {spec} on every property on shape set(s) {runs}" in alone.out
    assert f"--shapes {runs}" in alone.out.splitlines()[-1]  # the repeat command keeps the restriction


def test_shapes_it_raises_on_still_fail_when_chosen(capsys: pytest.CaptureFixture[str]) -> None:
    ran = crosscheck(capsys, "check", f"{TEXTBOOK}:AffineBook1", "--as", "affine", "--shapes", "2", *FD)
    assert ran.code == 1, ran.out
    assert shape_lines(ran.out)["[2]"].rstrip().endswith("RAISES")
    assert "it runs on none of the shape sets checked" in ran.out


def test_restricting_shapes_does_not_hide_a_value_bug(capsys: pytest.CaptureFixture[str]) -> None:
    """A bias gradient averaged instead of summed is wrong on 2-D input too."""
    ran = crosscheck(capsys, "check", f"{BROKEN}:AffineDbAveraged", "--as", "affine", "--shapes", "0,1", *FD)
    assert ran.code == 1, ran.out
    assert "AffineDbAveraged DISAGREES with spec affine in the ordinary range: " in ran.out
    assert "cell(s) failed" in ran.out


def test_writing_into_an_input_is_not_mistaken_for_a_shape_it_cannot_take() -> None:
    """The probe hands over writable copies: the book's Relu (``dout[mask] = 0``) runs on every
    shape set, and the cells catch the write."""
    run = check_layer(
        f"{BROKEN}:ReluWritesIntoDout", "relu", references=("fd",), examples=5, seed=7, shrink_seconds=1
    )
    assert [s.status for s in run.shapes] == ["runs"] * len(SPECS["relu"].shapes)
    assert not run.ok and any(r.prop == "no_mutation" for r in run.failures)


def test_check_layer_and_json_report_each_shape_set(capsys: pytest.CaptureFixture[str]) -> None:
    run = check_layer(f"{TEXTBOOK}:AffineBook1", "affine", references=("fd",), examples=5, seed=7)
    assert [s.status for s in run.shapes] == ["runs", "runs", "raises"]
    assert run.shapes[2].label == "x: 4-D (3, 2, 2, 2) square"
    assert not run.ok and not run.failures
    assert check_layer(
        f"{TEXTBOOK}:AffineBook1", "affine", references=("fd",), examples=5, seed=7, shapes=(0, 1)
    ).ok
    ran = crosscheck(capsys, "check", f"{TEXTBOOK}:AffineBook1", "--as", "affine", "--format", "json", *FD)
    data = json.loads(ran.out)
    assert ran.code == 1 and data["ok"] is False
    assert [(s["index"], s["status"]) for s in data["shapes"]] == [(0, "runs"), (1, "runs"), (2, "raises")]
    assert "not aligned" in data["shapes"][2]["message"]


@pytest.mark.parametrize(
    ("shapes", "says"),
    [("3", "--shapes 3: spec affine has shape sets 0 to 2"), ("x", "--shapes 'x' is not a whole number")],
)
def test_a_shape_set_that_does_not_exist_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], shapes: str, says: str
) -> None:
    ran = crosscheck(capsys, "check", f"{TEXTBOOK}:AffineBook1", "--as", "affine", "--shapes", shapes)
    assert ran.code == 2 and ran.out == ""
    assert says in ran.err and len(ran.err.strip().splitlines()) == 1


@pytest.mark.parametrize("spec", list(SPECS), ids=list(SPECS))
def test_impl_runs_on_every_shape_set_of_its_spec(spec: str) -> None:
    results = probe(SPECS[spec], SPECS[spec].layer)
    assert [(s.status, s.message) for s in results] == [("runs", "")] * len(SPECS[spec].shapes)


def test_every_image_spec_has_a_square_shape_set() -> None:
    """A learner's network written for square images (the book's) must be checkable on some entry."""
    images = {
        name: [c["x"].shape for c in example_cases(spec) if np.ndim(c.get("x")) == 4]
        for name, spec in SPECS.items()
    }
    images = {name: shapes for name, shapes in images.items() if shapes}
    assert {"convolution", "pooling", "simple_conv_net"} <= set(images)
    not_square = [name for name, shapes in images.items() if not any(h == w for *_, h, w in shapes)]
    assert not not_square, {name: images[name] for name in not_square}
