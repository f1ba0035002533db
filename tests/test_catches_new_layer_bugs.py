"""Issue 19's layers: each planted bug rejected for its reason, each correct variant (written
another way: loops, the book's code, cs231n's derivation) accepted by every cell that judges a class
against one autodiff reference (tests/helpers.py's ``one_autodiff``), driven as ``crosscheck check``
drives it (a dropout drawing its own mask: ``adapt_to``).

Bugs a consistent forward and backward share (statistics over the wrong axes) are only visible
against torch: their cells skip, naming the framework, where it is not installed.
"""

from __future__ import annotations

import numpy as np
import pytest

from layer_crosscheck.properties import get_spec, property_named
from layer_crosscheck.properties.engine.conventions import adapt_to
from layer_crosscheck.properties.engine.explore import SHRINK_SECONDS, Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell, cells
from layer_crosscheck.properties.specs.book2 import ClipGrads
from tests.helpers import installed, one_autodiff, profile_examples
from tests.zoo import book2_layers as B2
from tests.zoo import norm_layers as N


class BookClipGrads(ClipGrads):
    def __init__(self, max_norm: float) -> None:
        super().__init__(max_norm, B2.clip_grads)


class BrokenClipEachGrad(ClipGrads):
    def __init__(self, max_norm: float) -> None:
        super().__init__(max_norm, B2.clip_each_grad)


#: (layer, spec, property, reference, a phrase of the rejection)
BUGS = [
    (N.BrokenLayerNormDgammaAveraged, "layer_norm", "batch", "self", "dgamma of the batch vs the sum"),
    (N.BrokenLayerNormDgammaAveraged, "layer_norm", "fd", "fd", "vs finite differences"),
    (N.BrokenLayerNormDxOffByPPM, "layer_norm", "vjp", "torch", "dx vs torch"),
    (N.BrokenLayerNormDxOffByPPM, "layer_norm", "vjp", "jax", "dx vs jax"),
    (N.BrokenGroupNormPerChannel, "group_norm", "forward", "torch", "forward vs torch"),
    (N.BrokenLeakyReluOneAtZero, "leaky_relu", "fd", "fd", "at a kink"),
    # the book's own bugs (tests/zoo/book2_layers.py says which)
    (B2.TimeEmbedding, "time_embedding", "forward", "torch", "has dtype float32; expected float64"),
    (B2.TimeSoftmaxWithLoss, "time_softmax_with_loss", "state", "self", "second backward vs first"),
    (B2.TimeSigmoidWithLoss, "time_sigmoid_with_loss", "forward", "torch", "forward vs torch"),
    (B2.TimeSigmoidWithLoss, "time_sigmoid_with_loss", "no_mutation", "self", "backward wrote into dout"),
    (B2.NegativeSamplingLoss, "negative_sampling_loss", "forward", "torch", "requires corpus"),
    # planted: consistent forward and backward, so only the reference sees them
    (B2.BrokenNegativeSamplingLossNoPositive, "negative_sampling_loss", "forward", "torch", "vs torch"),
    (BrokenClipEachGrad, "clip_grads", "forward", "torch", "vs torch"),
    (
        B2.BrokenTimeSoftmaxWithLossCountsIgnored,
        "time_softmax_with_loss",
        "forward",
        "torch",
        "forward vs torch",
    ),
]


def _cell(spec: str, prop: str, ref: str) -> Cell:
    return Cell(get_spec(spec), property_named(prop), ref, np.float64)


@pytest.mark.parametrize(
    ("layer", "cell", "says"),
    [
        pytest.param(layer, c, says, id=f"{layer.__name__}-{c.id}", marks=installed(c))
        for layer, spec, prop, ref, says in BUGS
        for c in [_cell(spec, prop, ref)]
    ],
)
def test_rejects_planted_bug(layer: type, cell: Cell, says: str) -> None:
    result = run_cell(cell, layer, Options(60, seed=0, shrink_seconds=0, fp="record"))
    assert not result.ok, f"{cell.id} accepted {layer.__name__}"
    assert says in result.message, result.message


#: (layer, spec, the dtypes it is right in: None for all)
CORRECT: list[tuple[type, str, str | None]] = [
    (N.LoopLayerNorm, "layer_norm", None),
    (N.BookGroupNorm, "group_norm", None),
    (N.WhereLeakyRelu, "leaky_relu", None),
    (B2.TimeAffine, "time_affine", None),
    (B2.TimeDropout, "time_dropout", None),
    (B2.TimeEmbedding, "time_embedding", "float32"),  # its dtype='f' buffer: float32 out
    (B2.LoopTimeSoftmaxWithLoss, "time_softmax_with_loss", None),
    (B2.EmbeddingDot, "embedding_dot", None),
    (B2.LoopNegativeSamplingLoss, "negative_sampling_loss", None),
    (B2.WeightSum, "weight_sum", None),
    (B2.AttentionWeight, "attention_weight", None),
    (B2.Attention, "attention", None),
    (B2.TimeAttention, "time_attention", None),
    (BookClipGrads, "clip_grads", None),
    (B2.RMSprop, "rmsprop", None),
]


@pytest.mark.parametrize(
    ("layer", "cell"),
    [
        pytest.param(layer, cell, id=f"{layer.__name__}-{cell.id}", marks=installed(cell))
        for layer, name, dtype in CORRECT
        for cell in one_autodiff(cells(specs=[adapt_to(get_spec(name), layer)[0]], for_class=True))
        if dtype is None or np.dtype(cell.dtype).name == dtype
    ],
)
def test_accepts_correct_layer(layer: type, cell: Cell) -> None:
    options = Options(profile_examples(), seed=0, shrink_seconds=SHRINK_SECONDS, fp="record")
    result = run_cell(cell, layer, options)
    assert result.ok, f"{result.status}: {result.message}"
