"""Book 2's layers beyond chapter 1 (*Deep Learning from Scratch 2*): the time-distributed ones of
``common/time_layers.py`` (chapters 5-6).

Their names are a public contract. Tolerances are derived from each spec's own math
(``derive_scales``, properties/engine/scales.py): none writes a scale hook.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from layer_crosscheck.impl import (
    TimeAffine,
    TimeDropout,
    TimeEmbedding,
    TimeSigmoidWithLoss,
    TimeSoftmaxWithLoss,
)
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.registry import register
from layer_crosscheck.properties.engine.spec import Arrays, Draw, LayerSpec, Sample, Sizes
from layer_crosscheck.properties.specs import cnn, seed

IGNORE = -1  # TimeSoftmaxWithLoss's ignore_label, torch's ignore_index here


def _ints(draw: Draw, shape: tuple[int, ...], low: int, high: int) -> np.ndarray:
    return draw(hnp.arrays(np.int64, shape, elements=st.integers(low, high)))


def _time_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    """Whatever of xs (scores, vectors or word ids), ts (labels), W and b the entry sizes."""
    N, T = s["N"], s["T"]
    a: Arrays = {}
    if "ids" in s:  # word ids into W (V, D)
        a["xs"] = _ints(draw, (N, T), 0, s["V"] - 1)
        a["W"] = draw(S.array(dtype, (s["V"], s["D"])))
    elif "M" in s:  # vectors through W (D, M), b (M,)
        a["xs"] = draw(S.array(dtype, (N, T, s["D"])))
        a["W"], a["b"] = draw(S.array(dtype, (s["D"], s["M"]))), draw(S.array(dtype, (s["M"],)))
    elif "V" in s:  # scores over V classes, labels with ignored steps, never all ignored
        a["xs"] = draw(S.array(dtype, (N, T, s["V"]), seed.LOGIT_EXTREME))
        ts = _ints(draw, (N, T), IGNORE, s["V"] - 1)
        a["ts"] = ts if np.any(ts != IGNORE) else np.where(np.arange(ts.size).reshape(ts.shape) == 0, 0, ts)
    else:  # binary scores and 0/1 labels
        a["xs"] = draw(S.array(dtype, (N, T), seed.LOGIT_EXTREME))
        a["ts"] = _ints(draw, (N, T), 0, 1)
    return a


register(
    LayerSpec(
        name="time_embedding",
        layer=TimeEmbedding,
        summary="book 2's TimeEmbedding: W[xs] for word ids xs (N, T), dW accumulated over batch and steps",
        inputs=("xs",),
        constants=("xs",),
        params=("W",),
        shapes=({"N": 2, "T": 3, "V": 4, "D": 2, "ids": 1}, {"N": 1, "T": 5, "V": 2, "D": 3, "ids": 1}),
        draw=_time_draw,
        torch=lambda T, xs, W: T.F.embedding(xs, W),
        jax=lambda J, xs, W: J.jnp.take(W, xs, axis=0),
        derive_scales=True,
        row_wise=True,
    )
)

register(
    LayerSpec(
        name="time_affine",
        layer=TimeAffine,
        summary="book 2's TimeAffine: xs (N, T, D) @ W + b at every step, dW and db summed over N and T",
        inputs=("xs",),
        params=("W", "b"),
        shapes=({"N": 2, "T": 3, "D": 4, "M": 2}, {"N": 1, "T": 2, "D": 3, "M": 3}),
        draw=_time_draw,
        torch=lambda T, xs, W, b: T.F.linear(xs, W.T, b),
        jax=lambda J, xs, W, b: J.jnp.matmul(xs, W, precision=J.lax.Precision.HIGHEST) + b,
        derive_scales=True,
        row_wise=True,
    )
)


def _tswl_jax(J: Any, xs: Any, ts: Any) -> Any:
    kept = ts != IGNORE
    logp = J.jnp.take_along_axis(J.nn.log_softmax(xs, axis=-1), J.jnp.where(kept, ts, 0)[..., None], axis=-1)
    return -J.jnp.sum(J.jnp.where(kept, logp[..., 0], 0.0)) / J.jnp.sum(kept)


register(
    LayerSpec(
        name="time_softmax_with_loss",
        layer=TimeSoftmaxWithLoss,
        summary="book 2's TimeSoftmaxWithLoss: cross-entropy of softmax(xs) (N, T, V) with labels ts (N, T), "
        "the mean over the steps whose label is not ignore_label -1 (left out of the count too)",
        inputs=("xs", "ts"),
        constants=("ts",),
        shapes=({"N": 2, "T": 3, "V": 3}, {"N": 1, "T": 4, "V": 2}),
        draw=_time_draw,
        torch=lambda T, xs, ts: T.F.cross_entropy(
            xs.reshape(-1, xs.shape[-1]), ts.reshape(-1), ignore_index=IGNORE
        ),
        jax=_tswl_jax,
        derive_scales=True,
        samples=(
            Sample("one step counted", {"xs": [[[2.0, -1.0], [5.0, 1.0]]], "ts": np.array([[IGNORE, 1]])}),
            Sample(
                "huge logits, one ignored",
                {"xs": [[[1e4, -1e4], [-1e4, 1e4]]], "ts": np.array([[1, IGNORE]])},
            ),
        ),
    )
)

register(
    LayerSpec(
        name="time_sigmoid_with_loss",
        layer=TimeSigmoidWithLoss,
        summary="book 2's TimeSigmoidWithLoss: binary cross-entropy of sigmoid(xs) with 0/1 labels, "
        "both (N, T), the mean over N * T",
        inputs=("xs", "ts"),
        constants=("ts",),
        shapes=({"N": 2, "T": 3}, {"N": 1, "T": 4}),
        draw=_time_draw,
        torch=lambda T, xs, ts: T.F.binary_cross_entropy_with_logits(xs, ts.to(xs.dtype)),
        jax=lambda J, xs, ts: -J.jnp.mean(ts * J.nn.log_sigmoid(xs) + (1 - ts) * J.nn.log_sigmoid(-xs)),
        derive_scales=True,
    )
)

register(
    replace(
        cnn._DROPOUT,
        name="time_dropout",
        layer=TimeDropout,
        summary="book 2's TimeDropout: inverted dropout x * mask / (1 - p) of (N, T, D), forward(xs) "
        "with a train_flg attribute; the mask given (or, without mask=, read from a seeded np.random)",
        forward_kwargs={},
        shapes=(
            {"x": (2, 3, 2), "dropout_ratio": 0.5},
            {"x": (1, 4, 3), "dropout_ratio": 0.2},
            {"x": (2, 2, 2), "dropout_ratio": 0.0},
        ),
        alternatives=(),
    )
)
