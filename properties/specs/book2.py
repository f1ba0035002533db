"""Book 2's layers beyond chapter 1 (*Deep Learning from Scratch 2*): the time-distributed ones of
``common/time_layers.py`` (chapters 5-6), word2vec's ``EmbeddingDot`` and ``NegativeSamplingLoss``
(chapter 4) and attention (chapter 8).

Their names are a public contract. Tolerances are derived from each spec's own math
(``derive_scales``, properties/engine/scales.py): none writes a scale hook.
"""

from __future__ import annotations

import contextlib
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from layer_crosscheck.impl import (
    Attention,
    AttentionWeight,
    EmbeddingDot,
    NegativeSamplingLoss,
    TimeAffine,
    TimeAttention,
    TimeDropout,
    TimeEmbedding,
    TimeSigmoidWithLoss,
    TimeSoftmaxWithLoss,
    WeightSum,
    clip_grads,
)
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.errors import UsageError
from layer_crosscheck.properties.engine.registry import register
from layer_crosscheck.properties.engine.sandbox import foreign
from layer_crosscheck.properties.engine.spec import (
    Arrays,
    BadInput,
    Construction,
    Draw,
    Edges,
    LayerSpec,
    Modes,
    Numerics,
    Sample,
    Sizes,
    revise,
)
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


def _with_ts(a: Arrays, ts: np.ndarray) -> Arrays:
    return {**a, "ts": ts}


#: labels both time losses refuse by name: not integers, not one per step
_TIME_LABELS_BAD = (
    BadInput("float labels", lambda a: _with_ts(a, a["ts"].astype(np.float64)), TypeError),
    BadInput(
        "labels of the wrong shape",
        lambda a: _with_ts(a, np.zeros((a["ts"].shape[0], a["ts"].shape[1] + 1), int)),
    ),
)


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
        numerics=Numerics(derive_scales=True),
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
        numerics=Numerics(derive_scales=True),
        row_wise=True,
        edges=Edges(
            bad_inputs=(
                BadInput(
                    "xs with a feature too many for W",
                    lambda a: {**a, "xs": np.ones((*a["xs"].shape[:2], a["W"].shape[0] + 1))},
                ),
                BadInput(
                    "xs without a time axis",
                    lambda a: {**a, "xs": np.ones((a["xs"].shape[0], a["W"].shape[0]))},
                ),
                BadInput("W and b that do not fit", lambda a: {**a, "b": np.zeros(a["W"].shape[1] + 1)}),
                BadInput("W not 2-D", lambda a: {**a, "W": np.ones(a["W"].shape[:1]), "b": np.zeros(())}),
            )
        ),
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
        numerics=Numerics(derive_scales=True),
        edges=Edges(
            bad_inputs=(
                BadInput("xs without a class axis", lambda a: {**a, "xs": np.zeros(a["ts"].shape)}),
                BadInput(
                    "a label equal to V", lambda a: _with_ts(a, np.full(a["ts"].shape, a["xs"].shape[2]))
                ),
                BadInput(
                    "a negative label other than ignore_label",
                    lambda a: _with_ts(a, np.full(a["ts"].shape, -2)),
                ),
                *_TIME_LABELS_BAD,
            ),
            samples=(
                Sample(
                    "one step counted", {"xs": [[[2.0, -1.0], [5.0, 1.0]]], "ts": np.array([[IGNORE, 1]])}
                ),
                Sample(
                    "huge logits, one ignored",
                    {"xs": [[[1e4, -1e4], [-1e4, 1e4]]], "ts": np.array([[1, IGNORE]])},
                ),
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
        torch=lambda T, xs, ts: seed.bce_logits_torch(T, xs, ts).mean(),
        jax=lambda J, xs, ts: -J.jnp.mean(ts * J.nn.log_sigmoid(xs) + (1 - ts) * J.nn.log_sigmoid(-xs)),
        numerics=Numerics(derive_scales=True),
        edges=Edges(
            bad_inputs=(
                BadInput("xs of rank 3", lambda a: {**a, "xs": np.zeros((*a["xs"].shape, 1))}),
                BadInput(
                    "an empty batch",
                    lambda a: {
                        "xs": np.zeros((0, a["xs"].shape[1])),
                        "ts": np.zeros((0, a["xs"].shape[1]), int),
                    },
                ),
                *_TIME_LABELS_BAD,
            )
        ),
    )
)

register(
    revise(
        cnn._DROPOUT,
        name="time_dropout",
        layer=TimeDropout,
        summary="book 2's TimeDropout: inverted dropout x * mask / (1 - p) of (N, T, D), forward(xs) "
        "with a train_flg attribute; the mask given (or, without mask=, read from a seeded np.random)",
        construction={"forward_kwargs": {}},
        modes={
            "eval": None,  # test mode is a train_flg attribute the book's models set, not a forward flag
        },
        shapes=(
            {"x": (2, 3, 2), "dropout_ratio": 0.5},
            {"x": (1, 4, 3), "dropout_ratio": 0.2},
            {"x": (2, 2, 2), "dropout_ratio": 0.0},
        ),
        conventions={"alternatives": ()},
    )
)


# --------------------------------------------------------------------------- word2vec (chapter 4)


def _w2v_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    """h (N, D), W (V, D), word ids; the negative samples (N, K) handed to forward (``negative_sample=``)."""
    N, V, D = s["N"], s["V"], s["D"]
    # scores of the loss move by |W| per unit of h (and |h| per unit of W): up to 3 each, so that the
    # loss curves on a unit scale where finite differences can judge it
    size = 3.0 if "K" in s else 10.0
    a = {"h": draw(S.array(dtype, (N, D), size)), "W": draw(S.array(dtype, (V, D), size))}
    if "K" in s:
        neg = _ints(draw, (N, s["K"]), 0, V - 1)
        return {**a, "target": _ints(draw, (N,), 0, V - 1), "negative_sample": neg, "sample_size": s["K"]}
    return {**a, "idx": _ints(draw, (N,), 0, V - 1)}


#: word2vec's layers refuse an h that does not fit W
_H_BAD = BadInput(
    "h with a feature too many for W", lambda a: {**a, "h": np.ones((a["h"].shape[0], a["h"].shape[1] + 1))}
)

_W2V_SHAPES = ({"N": 3, "V": 2, "D": 3}, {"N": 1, "V": 4, "D": 2}, {"N": 4, "V": 3, "D": 2})

register(
    LayerSpec(
        name="embedding_dot",
        layer=EmbeddingDot,
        summary="book 2's EmbeddingDot: out[n] = W[idx[n]] . h[n], dW accumulated over repeated ids",
        inputs=("h", "idx"),
        constants=("idx",),
        params=("W",),
        shapes=_W2V_SHAPES,
        draw=_w2v_draw,
        torch=lambda T, h, idx, W: (T.F.embedding(idx, W) * h).sum(-1),
        jax=lambda J, h, idx, W: J.jnp.sum(J.jnp.take(W, idx, axis=0) * h, axis=-1),
        numerics=Numerics(derive_scales=True),
        row_wise=True,
        edges=Edges(
            bad_inputs=(
                _H_BAD,
                BadInput(
                    "an id equal to V", lambda a: {**a, "idx": np.full(a["idx"].shape, a["W"].shape[0])}
                ),
            )
        ),
    )
)


def _nsl_torch(T: Any, h: Any, target: Any, negative_sample: Any, W: Any, sample_size: int) -> Any:
    bce = seed.bce_logits_torch
    pos = (T.F.embedding(target, W) * h).sum(-1)
    neg = (T.F.embedding(negative_sample, W) * h[:, None, :]).sum(-1)
    return (bce(T, pos, T.torch.ones_like(pos)).sum() + bce(T, neg, T.torch.zeros_like(neg)).sum()) / len(h)


def _nsl_jax(J: Any, h: Any, target: Any, negative_sample: Any, W: Any, sample_size: int) -> Any:
    pos = J.jnp.sum(J.jnp.take(W, target, axis=0) * h, axis=-1)
    neg = J.jnp.sum(J.jnp.take(W, negative_sample, axis=0) * h[:, None, :], axis=-1)
    return (J.jnp.sum(J.nn.softplus(-pos)) + J.jnp.sum(J.nn.softplus(neg))) / h.shape[0]


#: NumPy's global seed before every forward of a NegativeSamplingLoss that draws its own samples
NSL_SEED = 20_180_701


def _nsl_with_corpus(fn: Any) -> Any:
    """The math of a loss whose constructor took a corpus: the corpus is no input of the math."""

    def math(ns: Any, *, corpus: Any = None, **a: Any) -> Any:
        return fn(ns, **a)

    return math


_NSL_TORCH_CORPUS, _NSL_JAX_CORPUS = _nsl_with_corpus(_nsl_torch), _nsl_with_corpus(_nsl_jax)


def _corpus(draw: Draw, V: int) -> np.ndarray:
    """Word ids holding every id of the vocabulary (the book's UnigramSampler sizes it by the ids it
    counts) and a few drawn more, shuffled: the unigram distribution is drawn too."""
    extra = _ints(draw, (draw(st.integers(0, 2 * V)),), 0, V - 1)
    ids = np.concatenate([np.arange(V), extra])
    return ids[draw(st.permutations(range(len(ids))))]


def _sampler_of(layer: Any) -> Any:
    """The method that draws a layer's negative samples: the book's ``sampler.get_negative_sample``
    (a UnigramSampler), or the layer's own ``get_negative_sample``; None if it has neither."""
    for owner in (getattr(layer, "sampler", None), layer):
        fn = getattr(owner, "get_negative_sample", None)
        if callable(fn):
            return fn
    return None


def _nsl_grad_scale(a: Arrays, dout: np.ndarray) -> float:
    """Each of the 1 + K scores' gradients is ``(y - t) / N`` (the book's form): y and t are near 1
    where a score saturates, so its rounding is of their size, not of the (tiny) difference the
    stable reference math computes; times |h| or |W| and summed over the scores."""
    n = max(a["h"].shape[0], 1)
    k = 1 + int(np.asarray(a["sample_size"]).item())
    size = max(float(np.max(np.abs(a["h"]), initial=0.0)), float(np.max(np.abs(a["W"]), initial=0.0)))
    return 2.0 * k * size * float(np.max(np.abs(dout), initial=0.0)) / n


def _nsl_drawing_its_own_samples(spec: LayerSpec, cls: Any) -> tuple[LayerSpec, str]:
    """The spec for a NegativeSamplingLoss whose forward takes no ``negative_sample`` (the book's
    ``NegativeSamplingLoss(W, corpus, power, sample_size)`` draws them with its
    ``UnigramSampler.get_negative_sample(target)`` from NumPy's global RNG): a drawn corpus goes to
    the constructor, NumPy's RNG is seeded before every forward, and the references get the
    samples its sampler returns after the same seed. UsageError if it has no such sampler, or if
    ``np.random.seed`` does not fix what it draws."""
    adapted = revise(
        spec,
        inputs=("h", "target"),
        constants=("target",),
        construction={
            "keyword_inputs": (),
            "init_arrays": ("corpus",),
            "numpy_seed": NSL_SEED,
            "adapt": None,
        },
        torch=_NSL_TORCH_CORPUS,
        jax=_NSL_JAX_CORPUS,
    )
    drv = driver_for(adapted)
    name = getattr(cls, "__name__", repr(cls))
    no_sampler = UsageError(
        f"{name}.forward takes no negative_sample= and {name} has no sampler.get_negative_sample(target) "
        f"(the book's UnigramSampler) nor get_negative_sample(target) to recover the samples it draws: "
        f"let forward accept negative_sample= (N, sample_size) word ids, as spec {spec.name} passes them"
    )

    def samples_of(a: Arrays, dtype: Any) -> np.ndarray:
        sample = _sampler_of(drv.build(cls, a, dtype))
        if sample is None:
            raise no_sampler
        np.random.seed(NSL_SEED)  # noqa: NPY002 - the global RNG the book's sampler draws from
        return np.asarray(foreign(f"{name}.get_negative_sample", sample, a["target"]))

    sizes = spec.shapes[0]
    V, K = sizes["V"], sizes["K"]
    case = {
        "W": np.ones((V, sizes["D"])),
        "corpus": np.arange(V),
        "target": np.zeros(3, np.int64),
        "sample_size": K,
    }
    try:
        same = np.array_equal(samples_of(case, np.float64), samples_of(case, np.float64))
    except UsageError:
        raise
    except Exception:  # the class raises on this case: the shape probe reports it, not a traceback
        same = True
    if not same:
        raise UsageError(
            f"{name}.forward takes no negative_sample= and draws its samples from an RNG that np.random.seed "
            f"does not control, so they cannot be recovered: let forward accept negative_sample=, as spec "
            f"{spec.name} passes them"
        )

    def draw(d: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
        a = {**spec.draw(d, dtype, s), "corpus": _corpus(d, s["V"])}
        # a class raising here keeps the drawn samples: its own forward says so where it is run
        with contextlib.suppress(Exception):
            a["negative_sample"] = samples_of(a, dtype)
        return a

    note = (
        f"{name}.forward takes no negative_sample=: it gets a drawn corpus, NumPy's global RNG is seeded "
        "before every forward, and the references get the samples its sampler returns after that seed"
    )
    return replace(adapted, draw=draw), note


register(
    LayerSpec(
        name="negative_sampling_loss",
        layer=NegativeSamplingLoss,
        summary="book 2's NegativeSamplingLoss: BCE of the target's score against 1 plus, per negative "
        "sample, of its score against 0, each the mean over N; forward(h, target, negative_sample=), or "
        "(the book's) forward(h, target) drawing them by its own sampler under a seeded np.random",
        inputs=("h", "target", "negative_sample"),
        constants=("target", "negative_sample"),
        construction=Construction(
            keyword_inputs=("negative_sample",), hyper=("sample_size",), adapt=_nsl_drawing_its_own_samples
        ),
        params=("W",),
        shapes=(
            {"N": 2, "V": 4, "D": 3, "K": 2},
            {"N": 1, "V": 3, "D": 2, "K": 1},
            {"N": 3, "V": 5, "D": 2, "K": 3},
        ),
        draw=_w2v_draw,
        torch=_nsl_torch,
        jax=_nsl_jax,
        numerics=Numerics(grad_scale=_nsl_grad_scale, derive_scales=True),
        edges=Edges(
            bad_inputs=(
                _H_BAD,
                BadInput(
                    "a target equal to V",
                    lambda a: {**a, "target": np.full(a["target"].shape, a["W"].shape[0])},
                ),
                BadInput("an empty batch (h is checked first)", lambda a: {**a, "h": a["h"][:0]}),
            )
        ),
    )
)


# --------------------------------------------------------------------------- attention (chapter 8)


def _att_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    """Two drawn arrays named and sized by the entry (``{"hs": (N, T, H), "a": (N, T)}``)."""
    return {k: draw(S.array(dtype, v)) for k, v in s.items()}


def _sdpa_torch(T: Any, q: Any, kv: Any) -> Any:
    return T.F.scaled_dot_product_attention(q, kv, kv, scale=1.0)


def _sdpa_jax(J: Any, q: Any, kv: Any) -> Any:
    """softmax(q kv^T) kv written out: jax.nn.dot_product_attention takes its softmax in float32."""
    hi = J.lax.Precision.HIGHEST
    a = J.nn.softmax(J.jnp.einsum("nsh,nth->nst", q, kv, precision=hi), axis=-1)
    return J.jnp.einsum("nst,nth->nsh", a, kv, precision=hi)


_ATT_SHAPES = ({"hs": (2, 3, 2), "h": (2, 2)}, {"hs": (1, 4, 3), "h": (1, 3)}, {"hs": (3, 2, 2), "h": (3, 2)})

register(
    LayerSpec(
        name="weight_sum",
        layer=WeightSum,
        summary="book 2's WeightSum: c = sum_t a[:, t] * hs[:, t, :], backward (dhs, da)",
        inputs=("hs", "a"),
        shapes=({"hs": (2, 3, 2), "a": (2, 3)}, {"hs": (1, 4, 3), "a": (1, 4)}),
        draw=_att_draw,
        torch=lambda T, hs, a: T.torch.einsum("nth,nt->nh", hs, a),
        jax=lambda J, hs, a: J.jnp.einsum("nth,nt->nh", hs, a, precision=J.lax.Precision.HIGHEST),
        numerics=Numerics(derive_scales=True),
        row_wise=True,
    )
)

register(
    LayerSpec(
        name="attention_weight",
        layer=AttentionWeight,
        summary="book 2's AttentionWeight: softmax over t of hs[:, t, :] . h, backward (dhs, dh)",
        inputs=("hs", "h"),
        shapes=_ATT_SHAPES,
        draw=_att_draw,
        torch=lambda T, hs, h: T.F.softmax(T.torch.einsum("nth,nh->nt", hs, h), dim=-1),
        jax=lambda J, hs, h: J.nn.softmax(
            J.jnp.einsum("nth,nh->nt", hs, h, precision=J.lax.Precision.HIGHEST), axis=-1
        ),
        numerics=Numerics(derive_scales=True),
        row_wise=True,
    )
)

register(
    LayerSpec(
        name="attention",
        layer=Attention,
        summary="book 2's Attention: the context WeightSum(hs, AttentionWeight(hs, h)), backward (dhs, dh)",
        inputs=("hs", "h"),
        shapes=_ATT_SHAPES,
        draw=_att_draw,
        torch=lambda T, hs, h: _sdpa_torch(T, h[:, None, :], hs)[:, 0, :],
        jax=lambda J, hs, h: _sdpa_jax(J, h[:, None, :], hs)[:, 0, :],
        numerics=Numerics(derive_scales=True),
        row_wise=True,
    )
)

register(
    LayerSpec(
        name="time_attention",
        layer=TimeAttention,
        summary="book 2's TimeAttention: Attention(hs_enc, hs_dec[:, t]) at every decoder step, i.e. "
        "softmax(hs_dec @ hs_enc^T) @ hs_enc; backward (dhs_enc, dhs_dec)",
        inputs=("hs_enc", "hs_dec"),
        shapes=({"hs_enc": (2, 3, 2), "hs_dec": (2, 2, 2)}, {"hs_enc": (1, 2, 3), "hs_dec": (1, 3, 3)}),
        draw=_att_draw,
        torch=lambda T, hs_enc, hs_dec: _sdpa_torch(T, hs_dec, hs_enc),
        jax=lambda J, hs_enc, hs_dec: _sdpa_jax(J, hs_dec, hs_enc),
        numerics=Numerics(derive_scales=True),
        row_wise=True,
        edges=Edges(
            bad_inputs=(
                BadInput(
                    "hs_dec with another H",
                    lambda a: {**a, "hs_dec": np.ones((*a["hs_dec"].shape[:2], a["hs_dec"].shape[2] + 1))},
                ),
                BadInput(
                    "hs_dec of another batch",
                    lambda a: {**a, "hs_dec": np.ones((a["hs_dec"].shape[0] + 1, *a["hs_dec"].shape[1:]))},
                ),
            )
        ),
    )
)


# --------------------------------------------------------------------------- clip_grads (common/util.py)


class ClipGrads:
    """``clip_grads`` driven as a layer: ``forward(g1, g2)`` clips copies of the two gradients in
    place, as the book's trainer does, and returns them flattened and concatenated."""

    def __init__(self, max_norm: float, clip: Any = clip_grads) -> None:
        self.max_norm, self.clip = max_norm, clip

    def forward(self, g1: np.ndarray, g2: np.ndarray) -> np.ndarray:
        grads = [np.array(g1, copy=True), np.array(g2, copy=True)]
        self.clip(grads, self.max_norm)
        return np.concatenate([g.reshape(-1) for g in grads])


def _clip_torch(T: Any, g1: Any, g2: Any, max_norm: float) -> Any:
    params = [T.torch.nn.Parameter(T.torch.zeros_like(g)) for g in (g1, g2)]
    for p, g in zip(params, (g1, g2), strict=True):
        p.grad = g.clone()
    T.torch.nn.utils.clip_grad_norm_(params, max_norm)
    return T.torch.cat([p.grad.reshape(-1) for p in params])


register(
    LayerSpec(
        name="clip_grads",
        layer=ClipGrads,
        summary="book 2's clip_grads(grads, max_norm): every gradient scaled in place by "
        "max_norm / (norm + 1e-6) when their global L2 norm exceeds max_norm; vs clip_grad_norm_",
        inputs=("g1", "g2"),
        construction=Construction(hyper=("max_norm",)),
        shapes=(
            {"g1": (2, 3), "g2": (4,), "max_norm": 1.0},
            {"g1": (3,), "g2": (2, 2), "max_norm": 5.0},
            {"g1": (1, 2), "g2": (3,), "max_norm": 1e3},
        ),
        draw=lambda draw, dtype, s: {
            **_att_draw(draw, dtype, {k: s[k] for k in ("g1", "g2")}),
            "max_norm": s["max_norm"],
        },
        torch=_clip_torch,
        jax=lambda J, g1, g2, max_norm: NotImplemented,
        declined={
            "jax": "jax has no clip_grad_norm_ of its own to compare with (optax.clip_by_global_norm "
            "clips by max_norm / norm, without torch's and the book's 1e-6)"
        },
        modes=Modes(backward=False),
    )
)
