"""The checks bite: planted bugs are rejected, correct layers written differently are accepted.

Each broken variant (tests/zoo/broken.py, and the graph nodes' in tests/zoo/graph_layers.py) names
the property expected to catch it and a phrase of the rejection, so it is rejected for the right
reason; all of those are finite-difference or self properties, so the proof runs without torch or
jax. A correct variant must pass every cell that judges a class, against one autodiff reference
(tests/helpers.py's ``one_autodiff``): a false alarm fails just like a miss.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

from layer_crosscheck.impl import Softmax
from layer_crosscheck.properties import get_spec, property_named
from layer_crosscheck.properties.engine.chain import chain
from layer_crosscheck.properties.engine.explore import SHRINK_SECONDS, FloatingPoint, Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell, cells
from tests.helpers import installed, one_autodiff, profile_examples
from tests.zoo import broken as B
from tests.zoo import correct as C
from tests.zoo import graph_layers as G

# ---- broken variants: each rejected, by the property named ---------------------------------------


@dataclasses.dataclass(frozen=True)
class Bug:
    layer: type
    spec: str
    by: tuple[str, str]  #: (property, reference) expected to reject it
    says: str  #: a phrase of the rejection: rejected for the right reason
    #: "raise": the suite's FP policy (conftest); "ignore": overflow gives inf/NaN instead of raising
    fp: FloatingPoint = "raise"

    @property
    def cell(self) -> Cell:
        return Cell(get_spec(self.spec), property_named(self.by[0]), self.by[1], np.float64)


def catches(layer: type, spec: str, *, by: tuple[str, str], says: str, **kw: Any) -> Any:
    """A planted bug and the (property, reference) that must reject it: finite differences or the
    layer itself, never torch or jax, so no proof can be skipped."""
    assert by[1] in ("fd", "self"), f"{layer.__name__}: prove it with fd or self, which always run"
    bug = Bug(layer, spec, by, says, **kw)
    suffix = "" if bug.fp == "raise" else f"-fp_{bug.fp}"
    return pytest.param(bug, id=f"{layer.__name__}-{spec}-{by[0]}{suffix}")


BUGS = [
    catches(
        B.AffineDbAveraged, "affine", by=("batch", "self"), says="db of the batch vs the sum over its rows"
    ),
    catches(B.AffineAccumulatesGrads, "affine", by=("state", "self"), says="second backward vs first"),
    catches(B.AffineNoReshape, "affine", by=("fd", "fd"), says="not aligned"),
    catches(B.AffineDxOffByOnePPM, "affine", by=("fd", "fd"), says="vs finite differences"),
    catches(B.SoftmaxDiagonalBackward, "softmax", by=("fd", "fd"), says="vs finite differences"),
    catches(B.SoftmaxNoMaxSubtraction, "softmax", by=("fd", "fd"), says="FloatingPointError"),
    # without FP traps the NaN rows reach the comparisons (fd and the self properties cannot see them)
    catches(B.SoftmaxNoMaxSubtraction, "softmax", by=("jacobian", "fd"), says="NaN", fp="ignore"),
    catches(B.ReluWritesIntoDout, "relu", by=("no_mutation", "self"), says="backward wrote into dout"),
    catches(B.ReluGradOneAtZero, "relu", by=("fd", "fd"), says="at a kink"),
    catches(B.SigmoidBackwardFromInput, "sigmoid", by=("fd", "fd"), says="vs finite differences"),
    catches(B.SoftmaxWithLossNoMean, "softmax_with_loss", by=("fd", "fd"), says="vs finite differences"),
    catches(B.SoftmaxWithLossIgnoresDout, "softmax_with_loss", by=("linearity", "self"), says="backward("),
    catches(B.SoftmaxWithLossBookLog, "softmax_with_loss", by=("fd", "fd"), says="vs finite differences"),
    catches(B.TwoLayerNetB1IntoAffine2, "two_layer_net", by=("fd", "fd"), says="vs finite differences"),
    catches(B.TwoLayerNetGradSkipsRelu, "two_layer_net", by=("fd", "fd"), says="vs finite differences"),
    catches(B.TwoLayerNetDbAveraged, "two_layer_net", by=("fd", "fd"), says="vs finite differences"),
    catches(B.TwoLayerNetLossGradOffByPPM, "two_layer_net", by=("fd", "fd"), says="vs finite differences"),
    catches(B.AffineRebindsGrads, "affine", by=("aliasing", "self"), says="rebinds grads[0] (dW)"),
    catches(B.AddLayerReturnsDoutTwice, "add", by=("aliasing", "self"), says="returns dout itself"),
]


# the graph nodes (book 2), judged as ``crosscheck check`` judges a learner's class: on its values
GRAPH_BUGS = [
    catches(layer, spec, by=by, says=says, fp="record")
    for layer, spec, by, says in [
        (G.BrokenEmbeddingAssign, "embedding", ("fd", "fd"), "vs finite differences"),
        (G.BrokenEmbeddingPlusEquals, "embedding", ("jacobian", "fd"), "Jacobian"),
        (G.BrokenEmbeddingAssign, "embedding", ("batch", "self"), "the sum over its rows"),
        (G.BrokenCEEIgnoresDout, "cross_entropy_error", ("linearity", "self"), "backward("),
        (G.BrokenCEENoMean, "cross_entropy_error", ("fd", "fd"), "vs finite differences"),
        (G.BrokenCEENoMean, "cross_entropy_error", ("jacobian", "fd"), "Jacobian"),
        (G.BrokenExpFromInput, "exp", ("fd", "fd"), "vs finite differences"),
        (G.BrokenReciprocalSign, "reciprocal", ("fd", "fd"), "vs finite differences"),
        (G.BrokenLogBackward, "log", ("fd", "fd"), "vs finite differences"),
        (G.BrokenRepeatMean, "repeat", ("fd", "fd"), "vs finite differences"),
        (G.BrokenSumBackwardOnce, "sum", ("jacobian", "fd"), "Jacobian"),
        (G.BrokenMatMulMeanGrad, "matmul", ("batch", "self"), "the sum over its rows"),
        (G.BrokenSigmoidWithLossNoMean, "sigmoid_with_loss", ("fd", "fd"), "vs finite differences"),
        (
            chain(Softmax, G.BrokenCEEIgnoresDout),
            "softmax_then_cross_entropy",
            ("linearity", "self"),
            "backward(",
        ),
    ]
]


@pytest.mark.parametrize("bug", BUGS + GRAPH_BUGS)
def test_engine_rejects_broken_layer(bug: Bug) -> None:
    """The engine every front-end uses, with a fixed seed and no shrinking: the first failing
    example is the verdict (shrinking a planted bug's example costs seconds and proves nothing more)."""
    result = run_cell(bug.cell, bug.layer, Options(60, seed=0, shrink_seconds=0, fp=bug.fp))
    assert not result.ok, f"{bug.by[0]} vs {bug.by[1]} accepted {bug.layer.__name__}"
    assert bug.says in result.message, result.message


# ---- correct variants: each accepted by every applicable cell (one autodiff reference) ------------
# Under ``crosscheck check``'s default floating-point policy ("record": a NumPy warning is a note,
# the values are judged): the textbook ``dout * (1 - y) * y`` warns at inf * 0 and is still right.

CORRECT: list[tuple[type, str]] = [
    (C.SigmoidTanh, "sigmoid"),
    (C.SoftmaxJacobian, "softmax"),
    (C.ReluWhere, "relu"),
    (C.AffineBook2, "affine"),
    (C.AffineBook1, "affine"),
    (C.AddLayerBook, "add"),
    (G.BookEmbedding, "embedding"),
    (G.BookMatMul, "matmul"),
]


@pytest.mark.parametrize(
    ("layer", "cell"),
    [
        pytest.param(layer, cell, id=f"{layer.__name__}-{cell.id}", marks=installed(cell))
        for layer, name in CORRECT
        for cell in one_autodiff(cells(specs=[get_spec(name)], for_class=True))
    ],
)
def test_engine_accepts_correct_layer(layer: type, cell: Cell) -> None:
    options = Options(profile_examples(), seed=0, shrink_seconds=SHRINK_SECONDS, fp="record")
    result = run_cell(cell, layer, options)
    assert result.ok, f"{result.status}: {result.message}"
