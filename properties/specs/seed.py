"""The built-in specs: one per impl layer. Their names are a public contract (``crosscheck check --as``)."""

from __future__ import annotations

import math
from dataclasses import replace
from typing import Any

import numpy as np

from layer_crosscheck.impl import (
    AddLayer,
    Affine,
    MulLayer,
    Relu,
    Sigmoid,
    Softmax,
    SoftmaxWithLoss,
    Tanh,
    TwoLayerNet,
)
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.registry import register
from layer_crosscheck.properties.engine.spec import (
    Arrays,
    BadInput,
    Draw,
    Edges,
    Kinks,
    LayerSpec,
    NetSpec,
    Numerics,
    Sample,
    Sizes,
    per_case,
    revise,
)
from layer_crosscheck.properties.engine.tolerances import EXACT_ULPS

LOGIT_EXTREME = 1e4  # softmax, the loss and sigmoid must be stable up to here
_NAN, _INF = float("nan"), float("inf")
#: saturated outputs (σ'(x) and tanh'(x) round to 0) under an infinite upstream gradient: 0·inf is
#: NaN in torch, and must be NaN here too, quietly (not a FloatingPointError)
_SATURATED = (
    Sample("saturated, infinite dout", {"x": [[1e4, -1e4, 40.0, 0.5]]}, dout=[[_INF, -_INF, _INF, 1.0]]),
    Sample("NaN input", {"x": [[_NAN, 0.0, -2.0]]}),
)


def logit_cond(a: Arrays) -> float:
    """Softmax-like layers: an error of eps*|x| in a logit is a relative error of that size in the output."""
    return 1.0 + float(np.max(np.abs(a["x"]), initial=0.0))


def dout_scale(a: Arrays, dout: np.ndarray) -> float:
    """Backwards computed from a stored output in [0, 1] (sigmoid's ``dout*y*(1-y)``, softmax's
    ``y*(dout - sum(dout*y))``) are made of terms up to ``|dout|``; their rounding is ``eps*|dout|``
    even where the gradient itself is tiny (a saturated output, where ``1 - y`` cancels)."""
    return float(np.max(np.abs(dout), initial=0.0))


def unit_scale(a: Arrays) -> float:
    """Outputs in [0, 1] (sigmoid, softmax) and losses are judged with absolute errors: their rounding
    is ``eps`` (times ``cond``) whatever their size, so a learner's sigmoid(-50) = 1.9e-22 need not
    be fully precise in relative terms (impl's own tails are: tests/test_impl_dtype.py)."""
    return 1.0


#: a second operand that broadcasts with no shape of the first (its last axis one longer)
_NOT_BROADCASTING = BadInput(
    "operands that do not broadcast", lambda a: {**a, "y": np.ones((np.shape(a["x"])[-1:] or (1,))[0] + 1)}
)


def _pair(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    return {"x": draw(S.array(dtype, s["shape"])), "y": draw(S.array(dtype, s["shape"]))}


def _one(extreme: float) -> Any:
    return lambda draw, dtype, s: {"x": draw(S.array(dtype, s["shape"], extreme))}


_ELEMENTWISE_SHAPES = ({"shape": ()}, {"shape": (3, 4)}, {"shape": (2, 5)})
TENSOR_SHAPES = ({"shape": (1, 5)}, {"shape": (3, 4)}, {"shape": (2, 3, 2)})
CLASS_SHAPES = ({"N": 1, "C": 3}, {"N": 4, "C": 5}, {"N": 2, "C": 2})

_MUL = LayerSpec(
    name="mul",
    layer=MulLayer,
    summary="the multiplication node: x * y",
    inputs=("x", "y"),
    shapes=_ELEMENTWISE_SHAPES,
    draw=_pair,
    torch=lambda T, x, y: T.torch.mul(x, y),
    jax=lambda J, x, y: J.jnp.multiply(x, y),
    row_wise=True,
    edges=Edges(bad_inputs=(_NOT_BROADCASTING,)),
)
register(_MUL)
register(
    replace(
        _MUL,
        name="add",
        layer=AddLayer,
        summary="the addition node: x + y",
        torch=lambda T, x, y: T.torch.add(x, y),
        jax=lambda J, x, y: J.jnp.add(x, y),
    )
)

register(
    LayerSpec(
        name="relu",
        layer=Relu,
        summary="max(x, 0)",
        inputs=("x",),
        shapes=TENSOR_SHAPES,
        draw=_one(LOGIT_EXTREME),
        torch=lambda T, x: T.F.relu(x),
        jax=lambda J, x: J.nn.relu(x),
        kinks=Kinks(
            at=lambda a, margin: {"x": np.abs(a["x"]) <= margin},
            gradient=lambda a: {"x": (a["x"] == 0, 0.0)},
            convention="gradient 0 at x == 0, like torch and jax",
            name="x == 0",
        ),
        row_wise=True,
        edges=Edges(
            samples=(
                Sample("zeros, signed zeros and tiny values", {"x": [[0.0, -0.0, 1e-300, -1e-300, 2.0]]}),
                Sample(
                    "NaN passes dout back, like torch",
                    {"x": [[_NAN, -1.0, 1.0]]},
                    convention="NaN in, NaN out and dout passed back "
                    "(np.where(x > 0, x, 0) gives 0: also fine)",
                ),
            )
        ),
    )
)

register(
    LayerSpec(
        name="sigmoid",
        layer=Sigmoid,
        summary="1 / (1 + exp(-x)), stable in both tails",
        inputs=("x",),
        shapes=TENSOR_SHAPES,
        draw=_one(LOGIT_EXTREME),
        torch=lambda T, x: T.torch.sigmoid(x),
        jax=lambda J, x: J.nn.sigmoid(x),
        numerics=Numerics(derive_scales=True),
        row_wise=True,
        edges=Edges(samples=_SATURATED),
    )
)


def _affine_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    x_shape = s["x"]
    fan_in = math.prod(x_shape[1:])
    return {
        "x": draw(S.array(dtype, x_shape)),
        "W": draw(S.array(dtype, (fan_in, s["M"]))),
        "b": draw(S.array(dtype, (s["M"],))),
    }


register(
    LayerSpec(
        name="affine",
        layer=Affine,
        summary="x.reshape(N, -1) @ W + b, for 2-D and N-d inputs",
        inputs=("x",),
        params=("W", "b"),
        shapes=({"x": (2, 3), "M": 4}, {"x": (1, 5), "M": 2}, {"x": (3, 2, 2, 2), "M": 3}),
        draw=_affine_draw,
        torch=lambda T, x, W, b: T.F.linear(x.reshape(x.shape[0], -1), W.T, b),
        jax=lambda J, x, W, b: J.jnp.dot(x.reshape(x.shape[0], -1), W) + b,
        numerics=Numerics(derive_scales=True),
        row_wise=True,
        edges=Edges(
            bad_inputs=(
                BadInput(
                    "x with the wrong number of features",
                    lambda a: {**a, "x": np.ones((a["x"].shape[0], a["W"].shape[0] + 1))},
                ),
                BadInput("x without a batch axis", lambda a: {**a, "x": np.ones(a["W"].shape[:1])}),
                BadInput("W and b that do not fit", lambda a: {**a, "b": np.zeros(a["W"].shape[1] + 1)}),
            )
        ),
    )
)

_SOFTMAX = LayerSpec(
    name="softmax",
    layer=Softmax,
    summary="softmax over the last axis of (N, C) logits",
    inputs=("x",),
    shapes=({"shape": (1, 3)}, {"shape": (4, 5)}, {"shape": (2, 2)}),
    draw=_one(LOGIT_EXTREME),
    torch=lambda T, x: T.F.softmax(x, dim=-1),
    jax=lambda J, x: J.nn.softmax(x, axis=-1),
    numerics=Numerics(cond=logit_cond, grad_scale=dout_scale, value_scale=unit_scale),
    row_wise=True,
    edges=Edges(
        samples=(
            Sample("ties, and huge tied logits", {"x": [[1.0, 1.0, 1.0], [1e4, 1e4, -1e4]]}),
            Sample("NaN stays in its row", {"x": [[_NAN, 0.0, 1.0], [0.0, 1.0, 2.0]]}),
        )
    ),
)
register(_SOFTMAX)
register(
    revise(
        _SOFTMAX,
        name="softmax_nd",
        summary="softmax over the last axis of an input of any rank (1 to 4 drawn; JAX: 3 fixed shapes)",
        # JAX's shapes (one compilation each); torch, finite differences and the self properties
        # draw rank and sizes (drawn_sizes), so a softmax written for (N, C) only is caught
        shapes=({"shape": (5,)}, {"shape": (2, 3, 4)}, {"shape": (2, 1, 3, 3)}),
        drawn_sizes=lambda draw: {"shape": draw(S.shape(1, 4))},
        row_wise=False,
        edges={"samples": ()},
    )
)


def _loss_draw(target: str) -> Any:
    def draw_case(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
        n, c = s["N"], s["C"]
        x = draw(S.array(dtype, (n, c), LOGIT_EXTREME))
        if target == "soft":
            return {"x": x, "t": np.abs(draw(S.array(dtype, (n, c), 2.0, 1.0)))}
        labels = draw(S.labels(n, c))
        return {"x": x, "t": labels if target == "labels" else S.one_hot(labels, c, dtype)}

    return draw_case


def _loss_grad_scale(a: Arrays, dout: np.ndarray) -> float:
    """dx = dout * (y * sum(t) - t) / N: its terms are as large as |dout| (sum(t) + max t) / N."""
    t = a["t"]
    n = a["x"].shape[0]
    if t.dtype.kind in "iub":
        return 2.0 * float(np.max(np.abs(dout))) / n
    rows = np.abs(t).sum(axis=-1)
    return float(np.max(np.abs(dout))) * (1.0 + float(np.max(rows, initial=0.0))) / n


def bce_logits_torch(T: Any, x: Any, t: Any) -> Any:
    """Binary cross-entropy of sigmoid(x) with 0/1 labels, per element: ``softplus(x) - t*x`` by
    ``torch.logaddexp``. Not ``F.binary_cross_entropy_with_logits``: its forward takes
    ``log(exp(-m) + exp(-x - m))`` with ``log``, not ``log1p``, an absolute error of ~eps however
    small the loss (5.2e-13 relative at x = -7.8, t = 0, where impl and jax agree to 1 ulp)."""
    return T.torch.logaddexp(T.torch.zeros_like(x), x) - t.to(x.dtype) * x


def ce_probs_jax(J: Any, x: Any, t: Any) -> Any:
    return -J.jnp.sum(t * J.nn.log_softmax(x, axis=-1)) / x.shape[0]


def _ce_labels_jax(J: Any, x: Any, t: Any) -> Any:
    picked = J.jnp.take_along_axis(J.nn.log_softmax(x, axis=-1), t[:, None], axis=-1)
    return -J.jnp.mean(picked)


for _name, _target, _summary, _jax in (
    (
        "softmax_with_loss",
        "one_hot",
        "cross-entropy of softmax(x) with one-hot targets, mean over N",
        ce_probs_jax,
    ),
    (
        "softmax_with_loss_labels",
        "labels",
        "cross-entropy of softmax(x) with integer labels, mean over N",
        _ce_labels_jax,
    ),
    (
        "softmax_with_loss_soft",
        "soft",
        "cross-entropy with targets whose rows need not sum to 1",
        ce_probs_jax,
    ),
):
    register(
        LayerSpec(
            name=_name,
            layer=SoftmaxWithLoss,
            summary=_summary,
            inputs=("x", "t"),
            constants=("t",),
            shapes=CLASS_SHAPES,
            draw=_loss_draw(_target),
            torch=lambda T, x, t: T.F.cross_entropy(x, t),
            jax=_jax,
            numerics=Numerics(cond=logit_cond, grad_scale=_loss_grad_scale, value_scale=unit_scale),
        )
    )


def _net_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    n, d, h, c = s["N"], s["D"], s["H"], s["C"]
    param = lambda shape: draw(S.array(dtype, shape, 2.0, 1.0, nonzero=True))  # noqa: E731
    return {
        "x": draw(S.array(dtype, (n, d), 3.0, 1.0)),
        "t": S.one_hot(draw(S.labels(n, c)), c, dtype),
        "W1": param((d, h)),
        "b1": param((h,)),
        "W2": param((h, c)),
        "b2": param((c,)),
    }


@per_case
def _net_forward(a: Arrays) -> dict[str, np.ndarray]:
    """The float64 forward pass every two_layer_net hook reads, computed once per case."""
    x = a["x"].astype(np.float64)
    pre = x @ a["W1"] + a["b1"]
    h = np.maximum(pre, 0)
    logits = h @ a["W2"] + a["b2"]
    y = np.exp(logits - logits.max(axis=1, keepdims=True))
    return {"x": x, "pre": pre, "h": h, "logits": logits, "y": y / y.sum(axis=1, keepdims=True)}


def _net_kinks(a: Arrays, margin: float) -> dict[str, np.ndarray]:
    """A hidden unit whose pre-activation a step could push across 0 makes every parameter's
    finite difference unreliable, so the whole example is left to the autodiff references."""
    pre = _net_forward(a)["pre"]
    reach = margin * (np.abs(a["x"]).sum(axis=1, keepdims=True) + 1.0)
    near = bool(np.any(np.abs(pre) <= reach))
    return {p: np.full(a[p].shape, near) for p in ("W1", "b1", "W2", "b2")}


def _net_grad_scale(a: Arrays, dout: np.ndarray) -> float:
    """Backpropagate magnitudes: |dlogits| <= (y + t) / N, then |h|, |W2|, |x| as the layers do."""
    f = _net_forward(a)
    x, pre, h, y, t = f["x"], f["pre"], f["h"], f["y"], a["t"].astype(np.float64)
    d2 = float(np.max(np.abs(dout))) * (y + np.abs(t)) / x.shape[0]
    d1 = (d2 @ np.abs(a["W2"]).T) * (pre > 0)
    terms = (d2.sum(0), h.T @ d2, d1.sum(0), np.abs(x).T @ d1)
    return max(float(np.max(m)) for m in terms)


def _net_ambiguous(a: Arrays) -> bool:
    """A hidden pre-activation within rounding of 0: impl and a reference may round it to
    opposite sides of the ReLU's kink, and both would be right."""
    x, pre = _net_forward(a)["x"], _net_forward(a)["pre"]
    rounding = EXACT_ULPS * np.finfo(a["x"].dtype).eps * (np.abs(x) @ np.abs(a["W1"]) + np.abs(a["b1"]))
    return bool(np.any(np.abs(pre) <= rounding))


def _net_cond(a: Arrays) -> float:
    return 1.0 + float(np.max(np.abs(_net_forward(a)["logits"])))


register(
    NetSpec(
        name="two_layer_net",
        layer=TwoLayerNet,
        summary="Affine-ReLU-Affine-SoftmaxWithLoss, checked through params, gradient(x, t) and loss(x, t)",
        inputs=("x", "t"),
        constants=("x", "t"),
        params=("W1", "b1", "W2", "b2"),
        shapes=({"N": 2, "D": 4, "H": 3, "C": 3}, {"N": 3, "D": 5, "H": 4, "C": 2}),
        draw=_net_draw,
        net_args=lambda a: (a["W1"].shape[0], a["W1"].shape[1], a["W2"].shape[1]),
        torch=lambda T, x, t, W1, b1, W2, b2: T.F.cross_entropy(
            T.F.linear(T.F.relu(T.F.linear(x, W1.T, b1)), W2.T, b2), t
        ),
        jax=lambda J, x, t, W1, b1, W2, b2: ce_probs_jax(J, J.nn.relu(x @ W1 + b1) @ W2 + b2, t),
        kinks=Kinks(
            at=_net_kinks,
            convention="ReLU gradient 0 at a pre-activation of exactly 0",
            ambiguous=_net_ambiguous,
        ),
        numerics=Numerics(cond=_net_cond, grad_scale=_net_grad_scale, value_scale=unit_scale),
    )
)


# Added by CONTRIBUTING.md's walkthrough: a class in impl/activations.py and this spec; nothing else.
register(
    LayerSpec(
        name="tanh",
        layer=Tanh,
        summary="tanh(x), backward from the stored output: dout * (1 - y**2)",
        inputs=("x",),
        shapes=TENSOR_SHAPES,
        draw=_one(LOGIT_EXTREME),
        torch=lambda T, x: T.torch.tanh(x),
        jax=lambda J, x: J.jnp.tanh(x),
        numerics=Numerics(derive_scales=True),
        row_wise=True,
        edges=Edges(samples=_SATURATED),
    )
)
