"""Normalization and activation specs: layer_norm, group_norm, spatial_batch_norm and leaky_relu.

Their tolerances are derived from their own math (``derive_scales``, properties/engine/scales.py):
none of them writes a scale hook.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from layer_crosscheck.impl import GroupNorm, LayerNorm, LeakyRelu, SpatialBatchNorm
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.registry import register
from layer_crosscheck.properties.engine.spec import (
    Arrays,
    BadInput,
    Construction,
    Conventions,
    Draw,
    Edges,
    Kinks,
    LayerSpec,
    Numerics,
    Sizes,
    revise,
)
from layer_crosscheck.properties.specs import cnn, seed

_EPS = {"eps": cnn.BN_EPS}
_SMOOTH = "smooth (eps > 0); finite differences leave the x of groups with std < 1/2 to torch and jax"


def norm_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    """x of shape ``s["x"]``, gamma and beta of ``s["C"]`` entries, the hyper-parameter G if any."""
    hyper = {"G": s["G"]} if "G" in s else {}
    C = (s["C"],)
    return {
        "x": draw(S.array(dtype, s["x"])),
        "gamma": draw(S.array(dtype, C)),
        "beta": draw(S.array(dtype, C)),
        **hyper,
    }


def narrow(groups: Callable[[Arrays], np.ndarray]) -> Callable[[Arrays, float], dict[str, np.ndarray]]:
    """Normalizing curves on the scale of its group's std (see cnn's ``_bn_kinks``): x of groups
    narrower than 1/2 is left to the exact references. ``groups(a)``: x as (..., group's values)."""

    def kinks(a: Arrays, margin: float) -> dict[str, np.ndarray]:
        g = groups(a).astype(np.float64)
        std = np.sqrt(g.var(axis=-1, keepdims=True) + float(a["eps"]))
        return {"x": np.broadcast_to(std < 0.5, g.shape).reshape(a["x"].shape).copy()}

    return kinks


def _gn_groups(a: Arrays) -> np.ndarray:
    return a["x"].reshape(a["x"].shape[0], int(a["G"]), -1)


def _standardize(J: Any, x: Any, eps: float) -> Any:
    """``jax.nn.standardize`` over the last axis, subtracting the mean first (its
    ``algorithm="stable"``, exact for a constant row); jax before 0.7 (0.6 on Python 3.10) has no
    ``algorithm`` and takes ``E[x^2] - E[x]^2``, so there the same stable steps are written in jnp."""
    if "algorithm" in inspect.signature(J.nn.standardize).parameters:
        return J.nn.standardize(x, axis=-1, epsilon=eps, algorithm="stable")
    xc = x - J.jnp.mean(x, axis=-1, keepdims=True)
    return xc * J.lax.rsqrt(J.jnp.mean(xc * xc, axis=-1, keepdims=True) + eps)


def _gn_jax(J: Any, x: Any, gamma: Any, beta: Any, G: int, eps: float) -> Any:
    xn = _standardize(J, x.reshape(x.shape[0], G, -1), eps)
    return xn.reshape(x.shape) * gamma[None, :, None, None] + beta[None, :, None, None]


#: gamma and beta that LayerNorm and GroupNorm refuse by name
_PARAMS_BAD = (
    BadInput("gamma not 1-D", lambda a: {**a, "gamma": a["gamma"][None], "beta": a["beta"][None]}),
    BadInput("gamma empty", lambda a: {**a, "gamma": a["gamma"][:0], "beta": a["beta"][:0]}),
    BadInput("beta that does not fit gamma", lambda a: {**a, "beta": np.zeros(a["gamma"].shape[0] + 1)}),
)


register(
    LayerSpec(
        name="layer_norm",
        layer=LayerNorm,
        summary="each vector on the last axis normalized (biased variance, eps 1e-5), gamma * xn + beta",
        inputs=("x",),
        params=("gamma", "beta"),
        shapes=({"x": (2, 4), "C": 4}, {"x": (1, 3), "C": 3}, {"x": (2, 3, 2), "C": 2}),
        draw=norm_draw,
        torch=lambda T, x, gamma, beta, eps: T.F.layer_norm(x, x.shape[-1:], gamma, beta, eps=eps),
        jax=lambda J, x, gamma, beta, eps: _standardize(J, x, eps) * gamma + beta,
        kinks=Kinks(at=narrow(lambda a: a["x"]), convention=_SMOOTH),
        conventions=Conventions(settings=_EPS),
        numerics=Numerics(derive_scales=True),
        row_wise=True,
        edges=Edges(
            bad_inputs=(
                BadInput(
                    "x whose last axis does not fit gamma",
                    lambda a: {**a, "x": np.ones((*a["x"].shape[:-1], a["x"].shape[-1] + 1))},
                ),
                *_PARAMS_BAD,
            )
        ),
    )
)

register(
    LayerSpec(
        name="group_norm",
        layer=GroupNorm,
        summary="(N, C, H, W) in G groups of C // G channels, each (sample, group) normalized over its "
        "channels and pixels, then gamma * xn + beta per channel",
        inputs=("x",),
        params=("gamma", "beta"),
        construction=Construction(hyper=("G",)),
        shapes=(
            {"x": (2, 4, 2, 2), "C": 4, "G": 2},
            {"x": (1, 3, 2, 3), "C": 3, "G": 1},
            {"x": (2, 6, 1, 2), "C": 6, "G": 3},
        ),
        draw=norm_draw,
        torch=lambda T, x, gamma, beta, G, eps: T.F.group_norm(x, G, gamma, beta, eps=eps),
        jax=_gn_jax,
        kinks=Kinks(at=narrow(_gn_groups), convention=_SMOOTH),
        conventions=Conventions(settings=_EPS),
        numerics=Numerics(derive_scales=True),
        row_wise=True,
        edges=Edges(
            bad_inputs=(
                BadInput(
                    "x with a channel too many",
                    lambda a: {**a, "x": np.ones((a["x"].shape[0], a["x"].shape[1] + 1, *a["x"].shape[2:]))},
                ),
                BadInput("G that does not divide C", lambda a: {**a, "G": a["gamma"].shape[0] + 1}),
                BadInput("G = 0", lambda a: {**a, "G": np.asarray(0)}),  # a 0-d array: Arrays holds arrays
                *_PARAMS_BAD,
            )
        ),
    )
)

register(
    revise(
        cnn._BN,  # batch_norm, held to 4-D input, its scales derived
        name="spatial_batch_norm",
        layer=SpatialBatchNorm,
        summary="training mode, (N, C, H, W) only: normalize per channel over N, H and W by the batch's "
        "mean and biased variance",
        shapes=({"x": (2, 3, 2, 2)}, {"x": (3, 2, 1, 2)}, {"x": (1, 2, 2, 3)}),
        numerics={"value_scale": None, "grad_scale": None, "derive_scales": True},
        conventions={"alternatives": ()},
        edges={"bad_inputs": (BadInput("x not 4-D", lambda a: {**a, "x": np.ones(a["x"].shape[:2])}),)},
    )
)

register(
    LayerSpec(
        name="leaky_relu",
        layer=LeakyRelu,
        summary="x where x > 0, else alpha * x",
        inputs=("x",),
        construction=Construction(hyper=("alpha",)),
        shapes=(
            {"shape": (3, 4), "alpha": 0.01},
            {"shape": (1, 5), "alpha": 0.2},
            {"shape": (2, 3, 2), "alpha": 0.5},
        ),
        draw=lambda draw, dtype, s: {
            "x": draw(S.array(dtype, s["shape"], seed.LOGIT_EXTREME)),
            "alpha": s["alpha"],
        },
        torch=lambda T, x, alpha: T.F.leaky_relu(x, alpha),
        jax=lambda J, x, alpha: J.nn.leaky_relu(x, alpha),
        kinks=Kinks(
            at=lambda a, margin: {"x": np.abs(a["x"]) <= margin},
            gradient=lambda a: {"x": (a["x"] == 0, lambda dout: dout * float(a["alpha"]))},
            convention="gradient alpha * dout at x == 0, like torch (jax.nn.leaky_relu passes dout there)",
            references=("torch",),
        ),
        numerics=Numerics(derive_scales=True),
        row_wise=True,
    )
)
