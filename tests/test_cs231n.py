"""CS231n's function pairs (``out, cache = f_forward(...)``, ``f_backward(dout, cache)``) checked by
the one engine against the existing specs: the course's correct solutions (tests/zoo/cs231n_layers.py)
pass, each planted bug (tests/zoo/cs231n_broken.py) is rejected by the property named, and a stub
is reported as unfinished, never as a failure."""

from __future__ import annotations

import importlib.util

import pytest

from layer_crosscheck.properties.engine.errors import Unfinished, UsageError
from layer_crosscheck.properties.engine.function_pair import FunctionPair, find_function_pairs, pair_call
from layer_crosscheck.properties.engine.registry import get_spec
from layer_crosscheck.properties.frontends.api import check_layer
from layer_crosscheck.properties.frontends.cli import main
from layer_crosscheck.properties.frontends.loader import load_target
from layer_crosscheck.properties.frontends.verdict import render_check
from tests.helpers import autodiff_for
from tests.zoo import cs231n_layers as ok

LAYERS = "tests/zoo/cs231n_layers.py"
RNN_LAYERS = "tests/zoo/cs231n_rnn_layers.py"
BROKEN = "tests/zoo/cs231n_broken.py"
HAS_TORCH = importlib.util.find_spec("torch") is not None

# (pair, spec): every pair of the course's solutions, with the spec that judges it
PAIRS = [
    ("affine", "affine"),
    ("relu", "relu"),
    ("batchnorm", "batch_norm"),
    ("batchnorm", "batch_norm_eval_forward"),  # mode 'test', bn_param's running statistics
    ("batchnorm_alt", "batch_norm"),
    ("spatial_batchnorm", "batch_norm"),
    ("dropout", "dropout"),
    ("conv", "convolution"),
    ("max_pool", "pooling"),
    ("softmax_loss", "softmax_loss"),
    ("svm_loss", "svm_loss"),
    ("layernorm", "layer_norm"),
    ("spatial_groupnorm", "group_norm"),
]


@pytest.mark.parametrize(
    ("target", "forward", "backward"),
    [
        ("affine", "affine_forward", "affine_backward"),
        ("affine_forward", "affine_forward", "affine_backward"),
        ("conv", "conv_forward_naive", "conv_backward_naive"),
        ("max_pool", "max_pool_forward_naive", "max_pool_backward_naive"),
        ("batchnorm_alt", "batchnorm_forward", "batchnorm_backward_alt"),
        ("softmax_loss", "softmax_loss", None),
    ],
)
def test_a_target_names_the_pair(target: str, forward: str, backward: str | None) -> None:
    pair = load_target(f"{LAYERS}:{target}")
    assert isinstance(pair, FunctionPair)
    assert pair.forward.__name__ == forward
    assert (pair.backward and pair.backward.__name__) == backward


def test_a_namespace_holds_a_pair_and_a_missing_one_is_a_usage_error() -> None:
    pair = load_target(f"{BROKEN}:PoolAssignsDx.max_pool")
    assert isinstance(pair, FunctionPair) and pair.backward is not None
    assert pair.backward.__qualname__ == "PoolAssignsDx.max_pool_backward_naive"
    with pytest.raises(UsageError, match="no class 'rnn_step'"):
        load_target(f"{LAYERS}:rnn_step")


def test_whole_file_mode_finds_every_pair_in_definition_order() -> None:
    found = find_function_pairs(ok)
    assert [name for name, _, _ in found] == [
        "affine",
        "relu",
        "batchnorm",
        "batchnorm_alt",
        "dropout",
        "conv",
        "max_pool",
        "spatial_batchnorm",
        "svm_loss",
        "softmax_loss",
        "layernorm",
        "spatial_groupnorm",
    ]
    assert dict((n, b) for n, _, b in found)["batchnorm_alt"] is ok.batchnorm_backward_alt


@pytest.mark.parametrize(
    ("target", "says"),
    [
        (
            f"{BROKEN}:LayernormTemplate.layernorm",
            "layernorm_forward is unfinished: its body still holds the template's TODO",
        ),
        (f"{BROKEN}:ReturnsNone.affine", "affine_backward is unfinished: it returned None for dx"),
    ],
)
def test_a_stub_is_unfinished_not_a_failure(
    target: str, says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = "affine" if "affine" in target else "layer_norm"
    with pytest.raises(Unfinished, match=says):
        check_layer(target, spec, references=("fd",), examples=2)
    assert main(["check", target, "--as", spec, "--reference", "fd", "-q"]) == 4
    assert capsys.readouterr().out.startswith(f"UNFINISHED: {says}")


@pytest.mark.parametrize(
    ("target", "spec"), [("conv", "affine"), ("affine", "softmax_loss"), ("relu", "affine")]
)
def test_a_pair_under_a_spec_it_cannot_take_is_a_usage_error(target: str, spec: str) -> None:
    with pytest.raises(UsageError, match=f"cannot be checked as spec {spec} .*; try --as "):
        check_layer(f"{LAYERS}:{target}", spec, references=("fd",), examples=2)


def test_a_solution_keeping_the_banners_is_not_unfinished() -> None:
    from layer_crosscheck.properties.engine.function_pair import unfinished
    from tests.zoo.cs231n_broken import LayernormTemplate

    assert unfinished(ok.affine_forward) is None
    assert unfinished(ok.batchnorm_forward) is None
    assert unfinished(ok.layernorm_forward) is None
    assert unfinished(LayernormTemplate.layernorm_forward) is not None


# assignment 3's rnn_layers.py: the LSTM step packs its gates [i, f, o, g]
RNN_PAIRS = [
    ("rnn_step", "rnn"),
    ("lstm_step", "lstm_ifog"),
    ("word_embedding", "embedding"),
    ("temporal_affine", "time_affine"),
    ("temporal_softmax_loss", "temporal_softmax_loss"),
    ("rnn", "time_rnn_h0"),
    ("lstm", "time_lstm_ifog_h0"),
]


@pytest.mark.parametrize(
    ("target", "spec"),
    [(f"{LAYERS}:{p}", s) for p, s in PAIRS] + [(f"{RNN_LAYERS}:{p}", s) for p, s in RNN_PAIRS],
    ids=[p for p, _ in PAIRS + RNN_PAIRS],
)
def test_the_course_solutions_agree(target: str, spec: str) -> None:
    """Finite differences and one autodiff reference (``autodiff_for``: a false alarm fails like a
    miss); the course's shape sets."""
    refs = [r for r in (autodiff_for(get_spec(spec)), "fd") if r is not None]
    run = check_layer(target, spec, references=refs, examples=10, seed=231)
    assert run.ok, [(r.id, r.message.splitlines()[:1]) for r in run.failures]
    assert all(s.status == "runs" for s in run.shapes)


def test_the_course_shape_sets_keep_its_size_contract() -> None:
    """Exact division, and pooling without padding: the course's code may assume both."""
    for name in ("conv", "max_pool"):
        call = pair_call(name)
        assert call is not None and call.shapes is not None
        for s in call.shapes:
            window = s["W"][2:] if name == "conv" else (s["pool_h"], s["pool_w"])
            assert name == "conv" or s["pad"] == 0
            for size, k in zip(s["x"][2:], window, strict=True):
                assert (size + 2 * s["pad"] - k) % s["stride"] == 0, s


# (namespace.pair, spec, properties any of which must reject it)
BUGS = [
    ("PoolAssignsDx.max_pool", "pooling", {"vjp", "fd", "jacobian"}),
    ("PoolSquareWindow.max_pool", "pooling", {"forward", "fd"}),
    ("ConvSquareFilter.conv", "convolution", {"shapes", "forward", "fd"}),  # raises on a 3x2 filter
    ("ConvPadSlice.conv", "convolution", {"shapes", "vjp", "fd"}),  # an empty dx (wrong shape) at pad 0
    ("DropoutKeepsDropFraction.dropout", "dropout", {"kept_fraction"}),
    ("DropoutPIsDropProbability.dropout", "dropout", {"forward", "kept_fraction"}),
    ("AffineNoReshape.affine", "affine", {"shapes"}),
    ("AffineDbAveraged.affine", "affine", {"fd", "batch"}),
    ("AffineGradsSwapped.affine", "affine", {"shapes", "fd"}),
    ("ReluWritesDout.relu", "relu", {"no_mutation", "fd"}),
    ("ReluIgnoresDout.relu", "relu", {"fd", "linearity"}),
    ("BatchnormUnbiasedVar.batchnorm", "batch_norm", {"forward", "fd"}),
    ("BatchnormAltMissingTerm.batchnorm_alt", "batch_norm", {"fd"}),
    ("BatchnormRunningUnbiased.batchnorm", "batch_norm", {"running_stats"}),
    ("BatchnormRunningNotStored.batchnorm", "batch_norm", {"running_stats"}),
    ("BatchnormTestUsesBatchStats.batchnorm", "batch_norm_eval_forward", {"forward"}),
    ("SpatialBatchnormNoTranspose.spatial_batchnorm", "batch_norm", {"forward", "fd"}),
    ("SoftmaxLossWritesX.softmax_loss", "softmax_loss", {"no_mutation", "fd", "forward"}),
    ("SoftmaxLossNoMean.softmax_loss", "softmax_loss", {"forward", "fd"}),
    ("SvmLossMarginAtLabel.svm_loss", "svm_loss", {"forward"}),
    ("SvmLossNoLabelGradient.svm_loss", "svm_loss", {"fd"}),
    ("LayernormDropsVarianceTerm.layernorm", "layer_norm", {"fd"}),
    ("SpatialGroupnormStridedGroups.spatial_groupnorm", "group_norm", {"forward"}),
    ("RnnStepDbAveraged.rnn_step", "rnn", {"fd", "batch"}),
    ("LstmStepCellGradientSkipsForget.lstm_step", "lstm_ifog", {"fd"}),
    ("WordEmbeddingAssignsRows.word_embedding", "embedding", {"vjp", "samples", "fd"}),
    ("TemporalAffineDbLastStep.temporal_affine", "time_affine", {"fd", "vjp"}),
    ("TemporalSoftmaxLossMaskIgnoredInDx.temporal_softmax_loss", "temporal_softmax_loss", {"fd", "vjp"}),
    ("RnnBackwardDropsCarriedGradient.rnn", "time_rnn_h0", {"fd", "vjp"}),
    ("LstmBackwardDropsCellGradient.lstm", "time_lstm_ifog_h0", {"fd", "vjp"}),
]


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed: a forward vs torch proves some of these")
@pytest.mark.parametrize(("target", "spec", "by"), BUGS, ids=[t.split(".")[0] for t, _, _ in BUGS])
def test_each_planted_bug_is_rejected(target: str, spec: str, by: set[str]) -> None:
    # shrinking cannot change whether a bug is found, only the example shown: none is read here
    run = check_layer(
        f"{BROKEN}:{target}", spec, references=("torch", "fd"), examples=10, seed=231, shrink_seconds=0
    )
    assert not run.ok
    rejected = {r.prop for r in run.failures} | ({"shapes"} if any(not s.ok for s in run.shapes) else set())
    assert rejected & by, f"{target} rejected by {rejected}, expected one of {by}"
    first_line = render_check(run).splitlines()[0]
    assert first_line.startswith(("CONVENTION: ", f"{target.split('.')[1]} DISAGREES with spec {spec}"))


@pytest.mark.skipif(
    not HAS_TORCH, reason="torch is not installed: the running averages are judged against it"
)
def test_dropout_with_p_as_the_drop_probability_is_named_as_that_convention() -> None:
    run = check_layer(
        f"{BROKEN}:DropoutPIsDropProbability.dropout", "dropout", references=("fd",), examples=2
    )
    assert not run.ok
    assert run.convention is not None and "as the probability of DROPPING a unit" in run.convention


@pytest.mark.skipif(
    not HAS_TORCH, reason="torch is not installed: the running averages are judged against it"
)
def test_the_running_averages_name_the_convention_they_follow() -> None:
    run = check_layer(
        f"{BROKEN}:BatchnormRunningUnbiased.batchnorm", "batch_norm", references=("fd",), examples=2
    )
    [cell] = [r for r in run.results if r.prop == "running_stats"]
    assert cell.status == "fail"
    assert cell.message.startswith(
        "CONVENTION: bn_param's running averages use the batch's unbiased variance"
    )


@pytest.mark.skipif(
    not HAS_TORCH, reason="torch is not installed: the gate order is told by a forward vs torch"
)
def test_the_course_lstm_under_the_books_gate_order_is_named_as_its_convention() -> None:
    run = check_layer(f"{RNN_LAYERS}:lstm_step", "lstm", references=("torch", "fd"), examples=5, seed=231)
    assert not run.ok
    assert (
        run.convention is not None
        and "CS231n's LSTM gate order [i, f, o, g] (spec lstm_ifog)" in run.convention
    )
