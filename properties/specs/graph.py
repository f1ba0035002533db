"""The computational-graph specs: the nodes that derive Softmax-with-Loss step by step (exp, the
division node 1/x, log; book 2's Repeat and Sum), book 2's MatMul, Embedding and SigmoidWithLoss,
and CrossEntropyError as a layer of its own, alone and chained after Softmax.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from layer_crosscheck.impl import (
    CrossEntropyError,
    Embedding,
    Exp,
    Log,
    MatMul,
    Reciprocal,
    Repeat,
    SigmoidWithLoss,
    Softmax,
    Sum,
)
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.chain import chain
from layer_crosscheck.properties.engine.registry import register
from layer_crosscheck.properties.engine.spec import (
    Arrays,
    BadInput,
    Construction,
    Draw,
    Edges,
    Kinks,
    LayerSpec,
    Numerics,
    Sample,
    Sizes,
    revise,
)
from layer_crosscheck.properties.specs import seed
from layer_crosscheck.properties.specs.cnn import hyper_draw

#: below this distance from the pole at 0, central differences' truncation error of log and 1/x
#: (relative ``h**2 / x**2``) outgrows their tolerance (``2**6 * h**2``): autodiff judges those
POLE_MARGIN = 0.25
FD_TOP = 1e3
#: Softmax-then-CrossEntropyError is exact to rounding while softmax(x) > 0: logits within ±30
CHAIN_LOGIT = 30.0


def exp_extreme(dtype: Any) -> float:
    """The largest |x| drawn for exp: exp(x) times an upstream gradient up to 64 stays finite."""
    return float(math.floor(float(np.log(np.finfo(dtype).max)) - math.log(64.0)))  # 705, 84: exact


def near_zero(dtype: Any) -> float:
    """The smallest magnitude drawn for log and 1/x: ``tiny**(1/4)`` (1.2e-77, 3.3e-10 in float32),
    where their derivatives ``1/x`` and ``1/x**2`` stay far from overflow."""
    return float(np.finfo(dtype).tiny) ** 0.25


def _magnitudes(dtype: Any, least: float, most: float) -> st.SearchStrategy[float]:
    """Positive floats of ``dtype`` in [least, most]: moderate ones, log-uniform ones across the
    whole range, and the ends themselves."""
    cast = np.dtype(dtype).type
    lo, hi = float(cast(least)), float(cast(most))
    mixed = st.one_of(
        st.floats(POLE_MARGIN, min(4.0, hi)).map(lambda v: float(cast(v))),
        st.floats(math.log10(lo), math.log10(hi)).map(lambda e: float(cast(10.0**e))),
        st.sampled_from([lo, hi, 1.0, 0.5]),
    )
    return mixed.filter(lambda v: lo <= v <= hi)


def _positive(draw: Draw, dtype: Any, shape: tuple[int, ...], most: float | None = None) -> np.ndarray:
    top = float(np.finfo(dtype).max) ** 0.25 if most is None else most
    return draw(hnp.arrays(np.dtype(dtype), shape, elements=_magnitudes(dtype, near_zero(dtype), top)))


def _signed(draw: Draw, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    signs = draw(hnp.arrays(np.int8, shape, elements=st.sampled_from([-1, 1])))
    return (_positive(draw, dtype, shape) * signs).astype(dtype)


def _pole(a: Arrays, margin: float) -> dict[str, np.ndarray]:
    """Where finite differences are left out: near the pole, and beyond ``FD_TOP`` (a step of
    ``h`` vanishes next to |x| = 1e11, and the function is nearly flat there anyway)."""
    size = np.abs(a["x"])
    return {"x": (size < max(margin, POLE_MARGIN)) | (size > FD_TOP)}


register(
    LayerSpec(
name="exp",
layer=Exp,
summary="the exp node: exp(x), drawn up to log(max) - log(64), backward dout * out",
inputs=("x",),
shapes=seed.TENSOR_SHAPES,
draw=lambda draw, dtype, s: {"x": draw(S.array(dtype, s["shape"], exp_extreme(dtype)))},
torch=lambda T, x: T.torch.exp(x),
jax=lambda J, x: J.jnp.exp(x),
row_wise=True,
edges=Edges(samples=(Sample("near overflow, and exp(-inf) under an infinite dout", {"x": [[80.0, -1e4, 0.0]]},
                        dout=[[0.5, float("inf"), 1.0]]),)),
)
)  # fmt: skip

_RECIPROCAL = LayerSpec(
    name="reciprocal",
    layer=Reciprocal,
    summary="the division node: 1 / x, |x| from tiny**(1/4) to max**(1/4)",
    inputs=("x",),
    shapes=seed.TENSOR_SHAPES,
    draw=lambda draw, dtype, s: {"x": _signed(draw, dtype, s["shape"])},
    torch=lambda T, x: T.torch.reciprocal(x),
    jax=lambda J, x: J.jnp.reciprocal(x),
    kinks=Kinks(
        at=_pole,
        convention=f"pole at 0: finite differences check {POLE_MARGIN} <= |x| <= {FD_TOP:g}; "
        "torch and jax all x",
    ),
    row_wise=True,
    edges=Edges(domain_positive=("x",)),
)
register(_RECIPROCAL)
register(
    replace(
        _RECIPROCAL,
        name="log",
        layer=Log,
        summary="the log node: log(x), x from tiny**(1/4) to max**(1/4), backward dout / x",
        draw=lambda draw, dtype, s: {"x": _positive(draw, dtype, s["shape"])},
        torch=lambda T, x: T.torch.log(x),
        jax=lambda J, x: J.jnp.log(x),
    )
)


register(
    LayerSpec(
        name="repeat",
        layer=Repeat,
        summary="book 2's Repeat node: np.repeat(x, repeats, axis), backward sums the copies",
        inputs=("x",),
        construction=Construction(hyper=("repeats", "axis")),
        # the book's (1, D) -> (N, D) along axis 0; batches (N >= 2) repeat along a later axis
        shapes=(
            {"x": (1, 4), "repeats": 3, "axis": 0},
            {"x": (2, 3), "repeats": 2, "axis": 1},
            {"x": (3, 2, 2), "repeats": 2, "axis": -1},
        ),
        draw=hyper_draw("repeats", "axis"),
        torch=lambda T, x, repeats, axis: T.torch.repeat_interleave(x, repeats, dim=axis),
        jax=lambda J, x, repeats, axis: J.jnp.repeat(x, repeats, axis=axis),
        numerics=Numerics(derive_scales=True),
        row_wise=True,
    )
)


register(
    LayerSpec(
        name="sum",
        layer=Sum,
        summary="book 2's Sum node: np.sum(x, axis, keepdims=True), backward repeats dout",
        inputs=("x",),
        construction=Construction(hyper=("axis",)),
        shapes=({"x": (3, 4), "axis": 0}, {"x": (1, 5), "axis": 0}, {"x": (2, 3, 2), "axis": 1}),
        draw=hyper_draw("axis"),
        torch=lambda T, x, axis: T.torch.sum(x, dim=axis, keepdim=True),
        jax=lambda J, x, axis: J.jnp.sum(x, axis=axis, keepdims=True),
        numerics=Numerics(derive_scales=True),
    )
)


def _matmul_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    return {"x": draw(S.array(dtype, (s["N"], s["D"]))), "W": draw(S.array(dtype, (s["D"], s["H"])))}


register(
    LayerSpec(
        name="matmul",
        layer=MatMul,
        summary="book 2's MatMul: x @ W, params [W], grads [dW]",
        inputs=("x",),
        params=("W",),
        shapes=({"N": 2, "D": 3, "H": 4}, {"N": 1, "D": 5, "H": 2}, {"N": 3, "D": 2, "H": 3}),
        draw=_matmul_draw,
        torch=lambda T, x, W: T.torch.matmul(x, W),
        jax=lambda J, x, W: J.jnp.matmul(x, W, precision=J.lax.Precision.HIGHEST),
        numerics=Numerics(derive_scales=True),
        row_wise=True,
        edges=Edges(
            bad_inputs=(
                BadInput(
                    "x with the wrong number of features",
                    lambda a: {**a, "x": np.ones((a["x"].shape[0], a["W"].shape[0] + 1))},
                ),
                BadInput("W not a matrix", lambda a: {**a, "W": np.ones(a["W"].shape[:1])}),
            )
        ),
    )
)


def _embedding_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    idx = draw(hnp.arrays(np.int64, s["idx"], elements=st.integers(0, s["V"] - 1)))
    return {"idx": idx, "W": draw(S.array(dtype, (s["V"], s["D"])))}


register(
    LayerSpec(
name="embedding",
layer=Embedding,
summary="book 2's Embedding: W[idx], dW accumulated with np.add.at (repeated indices)",
inputs=("idx",),
constants=("idx",),
params=("W",),
# more indices than rows of W: every draw of the first and third repeats an index. 1-D
# indices, as in the book (its loop over `enumerate(idx)` is right for those only)
shapes=({"idx": (4,), "V": 3, "D": 2}, {"idx": (1,), "V": 4, "D": 3}, {"idx": (6,), "V": 2, "D": 2}),
draw=_embedding_draw,
torch=lambda T, idx, W: T.F.embedding(idx, W),
jax=lambda J, idx, W: J.jnp.take(W, idx, axis=0),
numerics=Numerics(derive_scales=True),
row_wise=True,
edges=Edges(samples=(
            Sample("one index three times", {"idx": np.array([1, 1, 1]), "W": [[1.0, -2.0], [3.0, 0.5]]}),
            Sample("interleaved repeats", {"idx": np.array([0, 2, 2, 0]), "W": [[1.0], [2.0], [4.0]]}),
        ), bad_inputs=(
            BadInput("index out of range", lambda a: {**a, "idx": np.full(a["idx"].shape, a["W"].shape[0])}),
            BadInput("float indices", lambda a: {**a, "idx": a["idx"].astype(np.float64)}, TypeError),
            BadInput("W not a matrix", lambda a: {**a, "W": np.ones(a["W"].shape[:1])}),
        )),
)
)  # fmt: skip


def _cee_draw(target: str) -> Any:
    def draw_case(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
        n, c = s["N"], s["C"]
        labels = draw(S.labels(n, c))
        t = labels if target == "labels" else S.one_hot(labels, c, dtype)
        return {"y": _positive(draw, dtype, (n, c), most=1.0), "t": t}

    return draw_case


def _cee_pole(a: Arrays, margin: float) -> dict[str, np.ndarray]:
    return {"y": a["y"] < max(margin, POLE_MARGIN)}


def _xlogy_jax(J: Any, y: Any, t: Any) -> Any:
    import jax.scipy.special  # jax is loaded already: this runs inside the reference

    return -J.jnp.sum(jax.scipy.special.xlogy(t, y)) / y.shape[0]


_CEE = LayerSpec(
    name="cross_entropy_error",
    layer=CrossEntropyError,
    summary="-sum(t * log(y)) / N of probabilities y, one-hot targets, backward -dout * t / y / N",
    inputs=("y", "t"),
    constants=("t",),
    shapes=seed.CLASS_SHAPES,
    draw=_cee_draw("one_hot"),
    torch=lambda T, y, t: -T.torch.xlogy(t, y).sum() / y.shape[0],
    jax=_xlogy_jax,
    kinks=Kinks(
        at=_cee_pole, convention=f"pole at y = 0: finite differences leave y < {POLE_MARGIN} to torch and jax"
    ),
    edges=Edges(
        bad_inputs=(
            BadInput(
                "targets of the wrong shape",
                lambda a: {**a, "t": np.zeros((a["y"].shape[0], a["y"].shape[1] + 1))},
            ),
            BadInput("y of rank 3", lambda a: {**a, "y": np.full((*a["y"].shape, 1), 0.5)}),
        )
    ),
)
register(_CEE)
register(
    revise(
        _CEE,
        name="cross_entropy_error_labels",
        summary=_CEE.summary.replace("one-hot", "labels"),
        draw=_cee_draw("labels"),
        torch=lambda T, y, t: T.F.nll_loss(T.torch.log(y), t),
        jax=lambda J, y, t: -J.jnp.mean(J.jnp.take_along_axis(J.jnp.log(y), t[:, None], axis=-1)),
        edges={
            "bad_inputs": (
                BadInput("label out of range", lambda a: {**a, "t": np.full(a["t"].shape, a["y"].shape[1])}),
            )
        },
    )
)


def _chain_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    n, c = s["N"], s["C"]
    x = draw(S.array(dtype, (n, c), CHAIN_LOGIT))
    return {"x": x, "t": S.one_hot(draw(S.labels(n, c)), c, dtype)}


def _chain_grad_scale(a: Arrays, dout: np.ndarray) -> float:
    """dx = y * (g - sum(g * y)) with g = -dout * t / y / N: terms of size |dout| * (1 + sum t) / N."""
    return seed.dout_scale(a, dout) * (1.0 + float(np.max(a["t"].sum(axis=-1)))) / a["x"].shape[0]


register(
    LayerSpec(
        name="softmax_then_cross_entropy",
        layer=chain(Softmax, CrossEntropyError),
        summary="Softmax then CrossEntropyError as separate layers (crosscheck check --chain A,B), "
        f"one-hot targets, logits within ±{CHAIN_LOGIT:g} (where softmax never rounds to 0)",
        inputs=("x", "t"),
        constants=("t",),
        shapes=seed.CLASS_SHAPES,
        draw=_chain_draw,
        torch=lambda T, x, t: T.F.cross_entropy(x, t),
        jax=seed.ce_probs_jax,
        numerics=Numerics(cond=seed.logit_cond, grad_scale=_chain_grad_scale, value_scale=seed.unit_scale),
    )
)


def _bce_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    labels = hnp.arrays(np.int64, s["shape"], elements=st.integers(0, 1))
    return {"x": draw(S.array(dtype, s["shape"], 1e4)), "t": draw(labels)}


def _bce_value_scale(a: Arrays) -> float:
    """softplus(x) - t*x cancels for a confident right answer: its rounding is the terms' size."""
    x = a["x"].astype(np.float64)
    return float(np.sum(np.logaddexp(0.0, x) + np.abs(a["t"] * x)) / x.shape[0])


register(
    LayerSpec(
        name="sigmoid_with_loss",
        layer=SigmoidWithLoss,
        summary="book 2's SigmoidWithLoss: binary cross-entropy of sigmoid(x) with 0/1 labels, / N",
        inputs=("x", "t"),
        constants=("t",),
        shapes=({"shape": (4,)}, {"shape": (1,)}, {"shape": (3, 2)}),
        draw=_bce_draw,
        torch=lambda T, x, t: seed.bce_logits_torch(T, x, t).sum() / x.shape[0],
        jax=lambda J, x, t: -J.jnp.sum(t * J.nn.log_sigmoid(x) + (1 - t) * J.nn.log_sigmoid(-x)) / x.shape[0],
        numerics=Numerics(
            grad_scale=lambda a, dout: 2.0 * seed.dout_scale(a, dout) / a["x"].shape[0],
            value_scale=_bce_value_scale,
        ),
        edges=Edges(
            bad_inputs=(
                BadInput(
                    "t of the wrong shape", lambda a: {**a, "t": np.zeros(a["x"].shape[0] + 1, np.int64)}
                ),
            ),
        ),
    )
)  # fmt: skip
