"""Verdicts on layers that follow another known convention (tests/zoo/textbook_cnn.py): exit 1 with
a first line naming the convention and the flags that check it, then exit 0 under those flags. An
interface the harness cannot drive is exit 2, never a disagreement; a TypeError from inside the
class is a finding; planted bugs are never excused. The convention probe needs torch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from layer_crosscheck import impl
from layer_crosscheck.properties import check_layer
from layer_crosscheck.properties.engine.conventions import adapt_to
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.errors import InterfaceError
from layer_crosscheck.properties.engine.registry import get_spec
from layer_crosscheck.properties.engine.results import Run
from tests.helpers import Ran, crosscheck, needs

ZOO = Path(__file__).resolve().parent / "zoo" / "textbook_cnn.py"
RUN = ["--reference", "torch", "--examples", "4", "--seed", "1234", "--shrink-time", "0", "-q"]
#: RUN, as check_layer's arguments
TORCH: dict[str, Any] = {"references": ["torch"], "examples": 4, "seed": 1234, "shrink_seconds": 0}

pytestmark = needs("torch", "the convention probe needs torch")


def check(capsys: pytest.CaptureFixture[str], cls: str, *flags: str) -> Ran:
    return crosscheck(capsys, "check", f"{ZOO}:{cls}", *flags, *RUN)


#: (class, spec it is first checked as, the words its convention line must have, the flags that check it)
CONVENTIONS = [
    ("Dropout", "dropout", "follows the book's non-inverted dropout", "--as dropout_book"),
    (
        "BatchNormalization",
        "batch_norm",
        "follows the book's per-feature batch normalization",
        "--as batch_norm_per_feature --set eps=1e-06",
    ),
    (
        "BatchNormEps6",
        "batch_norm",
        "follows spec batch_norm with eps = 1e-06 instead of 1e-05",
        "--as batch_norm --set eps=1e-06",
    ),
    (
        "BatchNormTrainOnlyBackward",
        "batch_norm_eval",
        "follows no backward in inference mode (train_flg=False)",
        "--as batch_norm_eval_forward",
    ),
]
#: the book's Dropout has no mask= argument: every cell runs against the mask the class draws
NOTE = {"Dropout": "note: Dropout.forward takes no mask=: NumPy's global RNG is seeded"}


@pytest.mark.parametrize(("cls", "spec", "words", "flags"), CONVENTIONS, ids=[c[0] for c in CONVENTIONS])
def test_a_known_convention_is_named_then_passes_under_its_flags(
    capsys: pytest.CaptureFixture[str], cls: str, spec: str, words: str, flags: str
) -> None:
    ran = check(capsys, cls, "--as", spec)
    assert ran.code == 1, ran.out + ran.err
    assert ran.first.startswith(f"CONVENTION: {cls} {words}"), ran.first
    assert ran.first.endswith(f"rerun with crosscheck check {ZOO}:{cls} {flags}"), ran.first
    assert "Traceback" not in ran.out + ran.err
    again = check(capsys, cls, *flags.split())
    assert again.code == 0, again.out + again.err
    assert "CONVENTION" not in again.out and NOTE.get(cls, "") in again.out
    assert " 0 fail, 0 error, 0 vacuous, 0 skip," in again.out  # every cell run, none skipped
    assert f"{cls} agrees with spec {flags.split()[1]} on every property" in again.out


def test_the_recovered_mask_is_the_one_the_class_draws() -> None:
    """The mask handed to the references is what ``np.random.rand(*x.shape) > p`` gives under the
    seed the driver sets before the class's forward: the class's own draw, not a guess."""
    from tests.zoo import textbook_cnn

    spec, note = adapt_to(get_spec("dropout_book"), textbook_cnn.Dropout)
    assert note is not None and spec.construction.numpy_seed is not None and "mask" not in spec.inputs
    np.random.seed(spec.construction.numpy_seed)  # noqa: NPY002 - the global RNG the book's Dropout draws from
    expected = np.random.rand(3, 4) > 0.5  # noqa: NPY002
    assert 0 < expected.sum() < expected.size  # a real mask, neither all kept nor all dropped

    @settings(max_examples=3, database=None)
    @given(st.data())
    def drawn(data: st.DataObject) -> None:
        case = spec.draw(data.draw, np.dtype(np.float64), {"x": (3, 4), "dropout_ratio": 0.5})
        np.testing.assert_array_equal(case["mask"], expected)
        layer = driver_for(spec).build(textbook_cnn.Dropout, case, np.float64)
        out = driver_for(spec).forward(layer, case)
        np.testing.assert_array_equal(out, case["x"] * expected)

    drawn()


def test_a_setting_describes_the_class_and_never_reaches_it() -> None:
    """impl's BatchNormalization uses eps 1e-5: under --set eps=1e-6 it disagrees, and is told that
    it follows the spec's own eps."""
    run = check_layer(impl.BatchNormalization, "batch_norm", settings={"eps": 1e-6}, **TORCH)
    assert not run.ok
    assert run.convention is not None
    assert "follows spec batch_norm with eps = 1e-05 instead of 1e-06" in run.convention


# ---- interface mismatches: exit 2, one line, never a disagreement --------------------------------


@pytest.mark.parametrize(
    ("cls", "spec", "message"),
    [
        (
            "DropoutNoTrainFlag",
            "dropout",
            "DropoutNoTrainFlag.forward() does not accept train_flg= (nor train_flag=, train=, "
            "is_train=, training=, is_training=, train_mode=, nor a positional parameter after x): "
            "the dropout spec calls forward(x, train_flg=...)",
        ),
        (
            "DropoutOtherConstructor",
            "dropout",
            "DropoutOtherConstructor() does not accept dropout_ratio= (nor the positional parameter "
            "in its place in (dropout_ratio)): the dropout spec calls "
            "DropoutOtherConstructor(dropout_ratio=...)",
        ),
        ("DropoutOwnGenerator", "dropout", "the mask cannot be recovered: let forward accept mask="),
    ],
)
def test_an_interface_the_spec_cannot_drive_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], cls: str, spec: str, message: str
) -> None:
    ran = check(capsys, cls, "--as", spec)
    assert ran.code == 2, ran.out + ran.err
    assert ran.out == ""
    assert len(ran.err.splitlines()) == 1 and message in ran.err, ran.err


def test_a_type_error_inside_the_class_is_a_finding(capsys: pytest.CaptureFixture[str]) -> None:
    ran = check(capsys, "BatchNormTypeErrorInside", "--as", "batch_norm")
    assert ran.code == 1, ran.err
    assert "ERROR (the class raised)" in ran.out and "does not accept" not in ran.out + ran.err


def test_the_driver_tells_its_own_call_from_the_class_raising() -> None:
    class Takes:
        def forward(self, x):
            raise TypeError("inside")

    drv = driver_for(get_spec("dropout"))
    with pytest.raises(InterfaceError, match=r"Takes.forward\(\) does not accept mask="):
        drv.forward(Takes(), {"x": np.ones(2), "mask": np.ones(2, bool), "dropout_ratio": 0.5})
    with pytest.raises(TypeError, match="inside"):
        driver_for(get_spec("relu")).forward(Takes(), {"x": np.ones(2)})


# ---- planted bugs: never excused as a convention -------------------------------------------------


@pytest.mark.parametrize(
    ("cls", "spec", "not_said"),
    [
        ("DropoutIgnoringMaskInBackward", "dropout_book", "CONVENTION"),
        # a wrong inference-mode backward is not called a missing one
        ("BatchNormWrongEvalBackward", "batch_norm_eval", "no backward in inference mode"),
    ],
)
def test_a_wrong_backward_is_caught_not_excused(
    capsys: pytest.CaptureFixture[str], cls: str, spec: str, not_said: str
) -> None:
    ran = check(capsys, cls, "--as", spec)
    assert ran.code == 1
    assert not_said not in ran.out
    assert f"FAIL: {spec}, property vjp vs torch" in ran.out


def _reproduces(run: Run) -> str:
    """The first failure's snippet, after checking that running it fails."""
    from layer_crosscheck.properties.frontends.report import snippet

    code = snippet(run, run.failures[0])
    namespace: dict[str, Any] = {}
    exec(compile(code, "snippet", "exec"), namespace)
    test = next(v for k, v in namespace.items() if k.startswith("test_"))
    with pytest.raises(AssertionError):
        test()
    return code


def test_the_snippet_replays_under_the_same_settings_and_interface() -> None:
    """A failure under ``--set`` or with a recovered mask reproduces: the snippet carries the
    settings, and replay drives the class as check did."""
    run = check_layer(f"{ZOO}:BatchNormalization", "batch_norm_per_feature", settings={"eps": 1e-7}, **TORCH)
    assert run.convention is not None
    assert "follows spec batch_norm_per_feature with eps = 1e-06 instead of 1e-07" in run.convention
    assert "settings={'eps': 1e-07}" in _reproduces(run)
    _reproduces(check_layer(f"{ZOO}:DropoutIgnoringMaskInBackward", "dropout_book", **TORCH))
