"""The CNN specs: convolution, max pooling, batch normalization, dropout and SimpleConvNet.

Their names are a public contract. Hyper-parameters (stride, pad, window, dropout ratio) come with
each shape-set entry and reach the constructor, the math functions and the hooks (``LayerSpec.hyper``).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np
from hypothesis.extra import numpy as hnp
from numpy.lib.stride_tricks import sliding_window_view

from layer_crosscheck.impl import BatchNormalization, Convolution, Dropout, Pooling, SimpleConvNet
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.errors import UsageError
from layer_crosscheck.properties.engine.registry import register
from layer_crosscheck.properties.engine.spec import (
    Alternative,
    Arrays,
    Construction,
    Conventions,
    Draw,
    Kinks,
    LayerSpec,
    Modes,
    NetSpec,
    Numerics,
    RunningStats,
    Sizes,
    per_case,
    revise,
)
from layer_crosscheck.properties.engine.tolerances import EXACT_ULPS

BN_EPS = 1e-5  # BatchNormalization's default eps, torch's default too


def _hyper(s: Sizes, *names: str) -> dict[str, Any]:
    return {k: s[k] for k in names}


def hyper_draw(*names: str) -> Callable[[Draw, np.dtype, Sizes], Arrays]:
    """A draw of ``x`` alone, with the case's hyper-parameters ``names`` (graph.py's nodes too)."""
    return lambda draw, dtype, s: {"x": draw(S.array(dtype, s["x"])), **_hyper(s, *names)}


def _geometry(a: Arrays, *names: str) -> tuple[int, ...]:
    return tuple(int(np.asarray(a[k]).item()) for k in names)


# --------------------------------------------------------------------------- convolution


def _conv_torch(T: Any, x: Any, W: Any, b: Any, stride: int, pad: int) -> Any:
    return T.F.conv2d(x, W, b, stride=stride, padding=pad)


def _conv_jax(J: Any, x: Any, W: Any, b: Any, stride: int, pad: int) -> Any:
    y = J.lax.conv_general_dilated(
        x,
        W,
        window_strides=(stride, stride),
        padding=[(pad, pad), (pad, pad)],
        dimension_numbers=("NCHW", "OIHW", "NCHW"),
        precision=J.lax.Precision.HIGHEST,
    )
    return y + b[None, :, None, None]


def _patches(a: Arrays, fh: int, fw: int) -> np.ndarray:
    """x's windows (N, OH, OW, C, FH, FW) in float64, zero padding, the case's stride: written with
    ``sliding_window_view``, independently of the layer's im2col."""
    stride, pad = _geometry(a, "stride", "pad")
    xp = np.pad(a["x"].astype(np.float64), ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = sliding_window_view(xp, (fh, fw), axis=(2, 3))[:, :, ::stride, ::stride]
    return windows.transpose(0, 2, 3, 1, 4, 5)


def _conv_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    return {
        "x": draw(S.array(dtype, s["x"])),
        "W": draw(S.array(dtype, s["W"])),
        "b": draw(S.array(dtype, (s["W"][0],))),
        **_hyper(s, "stride", "pad"),
    }


def _window_hazards(height: str = "", width: str = "") -> dict[str, Callable[[Sizes], bool]]:
    """What a windowed layer's backward can get wrong only on some shapes: overlapping windows
    (col2im must add, not assign) and padding. The window's sides are ``height``/``width`` (a
    pooling), else the kernel's (``W``'s last two sides)."""

    def sides(s: Sizes) -> tuple[int, int]:
        return (s[height], s[width]) if height else tuple(s["W"][2:])

    return {
        "overlapping windows": lambda s: s["stride"] < max(sides(s)),
        "padding": lambda s: s["pad"] > 0,
    }


register(
    LayerSpec(
        name="convolution",
        layer=Convolution,
        summary="cross-correlation of (N, C, H, W) with (FN, C, FH, FW) kernels, zero padding, floor size",
        inputs=("x",),
        params=("W", "b"),
        construction=Construction(hyper=("stride", "pad")),
        # strides 1-3, padding 0-2, square and non-square kernels, sizes the stride does not divide
        shapes=(
            {"x": (2, 2, 5, 5), "W": (3, 2, 3, 3), "stride": 1, "pad": 0},
            {"x": (1, 3, 5, 6), "W": (2, 3, 2, 3), "stride": 2, "pad": 1},
            {"x": (2, 1, 6, 5), "W": (2, 1, 3, 2), "stride": 3, "pad": 2},
            {"x": (2, 2, 4, 6), "W": (2, 2, 3, 1), "stride": 2, "pad": 0},
        ),
        hazards=_window_hazards(),
        draw=_conv_draw,
        torch=_conv_torch,
        jax=_conv_jax,
        numerics=Numerics(derive_scales=True),
        row_wise=True,
    )
)


# --------------------------------------------------------------------------- max pooling


def _pool_cells(a: Arrays) -> tuple[np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """Every window's cells (N, C, L, K) in float64, padding -inf, K in row-major window order;
    and ``mark``, from a mask of cells to the (N, C, H, W) plane true where any window marks one.
    Written with ``sliding_window_view``, independently of the layer's im2col."""
    ph, pw, s, p = _geometry(a, "pool_h", "pool_w", "stride", "pad")
    x = a["x"].astype(np.float64)
    N, C, H, W = x.shape
    Hp, Wp = H + 2 * p, W + 2 * p
    index = sliding_window_view(np.arange(Hp * Wp).reshape(Hp, Wp), (ph, pw))[::s, ::s]
    index = index.reshape(-1, ph * pw)
    padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=-np.inf).reshape(N, C, -1)

    def mark(cells_mask: np.ndarray) -> np.ndarray:
        plane = np.zeros((N, C, Hp * Wp), bool)
        np.logical_or.at(plane.T, index.T, cells_mask.T)  # plane.T: a view, (H*W, C, N)
        return plane.reshape(N, C, Hp, Wp)[:, :, p : p + H, p : p + W]

    return padded[:, :, index], mark


def _pool_kinks(a: Arrays, margin: float) -> dict[str, np.ndarray]:
    """Cells within ``margin`` of their window's maximum, in windows where two or more are: a
    perturbation of that size can change which cell is the maximum (``margin`` 0: exact ties)."""
    cells, mark = _pool_cells(a)
    near = cells >= cells.max(axis=-1, keepdims=True) - margin
    return {"x": mark(near & (near.sum(axis=-1) >= 2)[..., None])}


def _pool_at_kinks(a: Arrays) -> dict[str, tuple[np.ndarray, float]]:
    """torch's rule at a tie: the first maximal cell of the window (row-major) takes the window's
    gradient, so a tied maximum that no window selects gets exactly 0."""
    cells, mark = _pool_cells(a)
    first = np.arange(cells.shape[-1]) == np.argmax(cells, axis=-1)[..., None]
    return {"x": (_pool_kinks(a, 0.0)["x"] & ~mark(first), 0.0)}


def _pool_torch(T: Any, x: Any, pool_h: int, pool_w: int, stride: int, pad: int) -> Any:
    return T.F.max_pool2d(x, (pool_h, pool_w), stride=stride, padding=pad)


def _pool_jax(J: Any, x: Any, pool_h: int, pool_w: int, stride: int, pad: int) -> Any:
    # -inf and max: jax recognises the monoid and uses its differentiable max-pooling primitive
    return J.lax.reduce_window(
        x,
        -J.jnp.inf,
        J.lax.max,
        (1, 1, pool_h, pool_w),
        (1, 1, stride, stride),
        ((0, 0), (0, 0), (pad, pad), (pad, pad)),
    )


register(
    LayerSpec(
        name="pooling",
        layer=Pooling,
        summary="max over (pool_h, pool_w) windows, -inf padding, overlapping windows add their gradients",
        inputs=("x",),
        construction=Construction(hyper=("pool_h", "pool_w", "stride", "pad")),
        shapes=(
            {"x": (2, 2, 4, 5), "pool_h": 2, "pool_w": 2, "stride": 2, "pad": 0},  # the CNN's
            {"x": (1, 2, 5, 5), "pool_h": 3, "pool_w": 3, "stride": 1, "pad": 1},  # overlap, padding
            {"x": (2, 1, 5, 6), "pool_h": 2, "pool_w": 3, "stride": 3, "pad": 1},  # padding alone
            {"x": (2, 3, 4, 4), "pool_h": 2, "pool_w": 3, "stride": 1, "pad": 1},
            {"x": (1, 2, 5, 5), "pool_h": 3, "pool_w": 3, "stride": 2, "pad": 0},  # overlap alone
        ),
        hazards=_window_hazards("pool_h", "pool_w"),
        draw=hyper_draw("pool_h", "pool_w", "stride", "pad"),
        torch=_pool_torch,
        jax=_pool_jax,
        kinks=Kinks(
            at=_pool_kinks,
            gradient=_pool_at_kinks,
            convention="a tie's gradient goes to the window's first maximum in row-major order, like torch",
            name="tied maxima",
            references=("torch",),  # XLA promises no order among a window's tied maxima
        ),
        row_wise=True,
    )
)


# --------------------------------------------------------------------------- batch normalization


def _bn_shape(x: Any) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """Statistics over every axis but 1; per-channel arrays broadcast as (1, C, 1, ...)."""
    return (0, *range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)


def _bn_jax(J: Any, x: Any, gamma: Any, beta: Any, eps: float = BN_EPS, **running: Any) -> Any:
    """Training mode normalizes by the batch's statistics, inference by the given running ones."""
    axes, shape = _bn_shape(x)
    if running:
        mu, var = running["running_mean"].reshape(shape), running["running_var"].reshape(shape)
    else:
        mu = J.jnp.mean(x, axis=axes, keepdims=True)
        var = J.jnp.mean((x - mu) ** 2, axis=axes, keepdims=True)
    return (x - mu) / J.jnp.sqrt(var + eps) * gamma.reshape(shape) + beta.reshape(shape)


def _bn_torch(T: Any, x: Any, gamma: Any, beta: Any, eps: float = BN_EPS, **running: Any) -> Any:
    mean, var = running.get("running_mean"), running.get("running_var")
    return T.F.batch_norm(x, mean, var, gamma, beta, training=not running, eps=eps)


class _BatchStats:
    """A case's per-channel statistics in float64, the running ones if given, else the batch's:
    ``std = sqrt(var + eps)``, ``spread = (max|x| + |mean|) / std`` (how far rounding in
    ``x - mean`` is amplified: the normalization's condition number), ``xn_max = max|x - mean| / std``."""

    def __init__(self, a: Arrays) -> None:
        x = a["x"].astype(np.float64)
        axes, shape = _bn_shape(x)
        if "running_mean" in a:
            mu = a["running_mean"].astype(np.float64).reshape(shape)
            var = a["running_var"].astype(np.float64).reshape(shape)
        else:
            mu = x.mean(axis=axes, keepdims=True)
            var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
        std = np.sqrt(var + float(np.asarray(a.get("eps", BN_EPS))))  # the spec's setting (--set eps=)
        self.std = std.reshape(-1)
        self.spread = ((np.abs(x).max(axis=axes, keepdims=True) + np.abs(mu)) / std).reshape(-1)
        self.xn_max = (np.abs(x - mu) / std).max(axis=axes)
        self.gamma = np.abs(a["gamma"].astype(np.float64))
        self.beta = np.abs(a["beta"].astype(np.float64))


def _bn_value_scale(a: Arrays) -> float:
    """``gamma * (x - mean) / std + beta`` (in inference torch folds it into ``x * scale + (beta -
    mean * scale)``): subtracting the rounded mean leaves an error of ``eps * (|x| + |mean|)``,
    amplified by ``|gamma| / std``; the output is made of terms up to ``|gamma| * spread + |beta|``,
    however small it is (a nearly constant channel, x at the running mean)."""
    st = _BatchStats(a)
    return float(np.max(st.gamma * st.spread + st.beta))


def _bn_sums(a: Arrays, dout: np.ndarray, weight: np.ndarray) -> float:
    """``max`` over channels of ``sum |dout| * weight`` (weight per channel); a 0-d ``dout`` is a
    Jacobian row's unit cotangent, whose sums have one term."""
    if np.ndim(dout) == 0:
        return float(np.abs(dout)) * float(np.max(weight))
    axes, _ = _bn_shape(a["x"])
    return float(np.max(np.abs(dout.astype(np.float64)).reshape(a["x"].shape).sum(axis=axes) * weight))


def _bn_grad_scale(a: Arrays, dout: np.ndarray) -> dict[str, float]:
    """The terms of the three gradients, with ``d = max|dout|``:
    ``dx = gamma/std * (dout - mean(dout) - xn*mean(dout*xn))``, up to
    ``d*|gamma|/std * (2 + 2*spread*xn_max)`` (``xn`` carries the rounding of ``x - mean``);
    ``dgamma = sum(dout*xn)``, up to ``sum|dout| * spread``; ``dbeta = sum(dout)``, up to
    ``sum|dout|``. A gradient can be far smaller than its terms (two values per channel: dx ~ 0;
    absorbed terms: 1 + 1e-300 - 1). In inference ``dx = gamma * dout / std`` sums nothing."""
    st = _BatchStats(a)
    sums = {"gamma": _bn_sums(a, dout, st.spread), "beta": _bn_sums(a, dout, np.ones_like(st.spread))}
    if "running_mean" in a:
        return sums
    d = float(np.max(np.abs(dout), initial=0.0))
    return {"x": d * float(np.max(st.gamma / st.std * (2.0 + 2.0 * st.spread * st.xn_max))), **sums}


def _bn_kinks(a: Arrays, margin: float) -> dict[str, np.ndarray]:
    """Normalizing is a smoothed kink (not differentiable at zero variance as eps -> 0) curving on
    the scale of ``std``: a central difference's truncation error is ``(h / std)**2`` relative,
    within the unit-scale tolerance ``FD_FACTOR * h**2`` while ``std >= 1/2``, whatever the dtype.
    The x of narrower channels are left to the exact references; gamma and beta (linear) vary."""
    narrow = (_BatchStats(a).std < 0.5).reshape(_bn_shape(a["x"])[1])
    return {"x": np.broadcast_to(narrow, a["x"].shape).copy()}


def _bn_draw(per_feature: bool = False, running: bool = False) -> Callable[[Draw, np.dtype, Sizes], Arrays]:
    """x, gamma and beta per channel (per feature: per entry of a row); ``running``: the running stats too."""

    def draw_case(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
        C = math.prod(s["x"][1:]) if per_feature else s["x"][1]
        a = {
            "x": draw(S.array(dtype, s["x"])),
            "gamma": draw(S.array(dtype, (C,))),
            "beta": draw(S.array(dtype, (C,))),
        }
        if running:
            a["running_mean"] = draw(S.array(dtype, (C,)))
            a["running_var"] = np.abs(draw(S.array(dtype, (C,))))  # a variance: >= 0, zeros included
        return a

    return draw_case


#: eps values learners' code and other frameworks use: the book's ``10e-7``, 1e-7, 1e-8, Keras's 1e-3
_OTHER_EPS = (1e-6, 1e-7, 1e-8, 1e-3)
_BN = LayerSpec(
    name="batch_norm",
    layer=BatchNormalization,
    summary="training mode: normalize by the batch's mean and biased variance per axis-1 channel, "
    "differentiated through them; (N, C, H, W) and (N, D)",
    inputs=("x",),
    params=("gamma", "beta"),
    construction=Construction(forward_kwargs={"train_flg": True}),
    shapes=({"x": (2, 3, 2, 2)}, {"x": (4, 3)}, {"x": (2, 5)}),
    draw=_bn_draw(),
    torch=_bn_torch,
    jax=_bn_jax,
    kinks=Kinks(
        at=_bn_kinks,
        convention="smooth (eps > 0); channels with std < 1/2 curve too fast for finite differences",
    ),
    numerics=Numerics(value_scale=_bn_value_scale, grad_scale=_bn_grad_scale),
    conventions=Conventions(
        settings={"eps": BN_EPS},
        alternatives=(
            Alternative("batch_norm_per_feature", {"eps": 1e-6}),  # the book's BatchNormalization
            Alternative("batch_norm_per_feature"),
            *(Alternative("batch_norm", {"eps": e}) for e in _OTHER_EPS),
            *(Alternative("batch_norm_per_feature", {"eps": e}) for e in _OTHER_EPS[1:]),
        ),
        name="per-channel batch normalization (torch's BatchNorm2d)",
    ),
)
_BN_EVAL = revise(
    _BN,
    name="batch_norm_eval",
    summary="inference mode: normalize by given running statistics (constants); (N, C, H, W) and (N, D)",
    construction={"init_arrays": ("running_mean", "running_var"), "forward_kwargs": {"train_flg": False}},
    draw=_bn_draw(running=True),
    kinks={
        "at": None,  # linear in x
        "convention": "",
    },
    row_wise=True,
    conventions={
        "alternatives": (
            Alternative("batch_norm_eval_forward", only_if_raises=True),
            *(Alternative("batch_norm_eval", {"eps": e}) for e in _OTHER_EPS),
        ),
        "name": "",
    },
)


def _bn_running_torch(
    T: Any, xs: Any, gamma: Any, beta: Any, momentum: float, eps: float, **start: Any
) -> Any:
    """torch's own update of the running statistics (``F.batch_norm`` in training mode, with the
    book's momentum ``m`` as torch's ``1 - m``), then inference on the last batch under them; a
    row each for the running variance from the unbiased batch variance (torch's, impl's) and from
    the biased one (``np.var``: the book's and CS231n's), the latter by torch's same update on
    ``x * sqrt((n-1)/n)``, whose unbiased variance is x's biased one."""
    rows = []
    for shrink in (1.0, None):
        mean, var = start["running_mean"].clone(), start["running_var"].clone()
        for x in xs:
            n = x.numel() // x.shape[1]
            scaled = x if shrink else x * math.sqrt((n - 1) / n)
            # torch updates both buffers or neither: each call keeps one, the other is thrown away
            for data, kept in ((x, 0), (scaled, 1)):
                buffers = [mean.clone(), var.clone()]
                T.F.batch_norm(data, *buffers, training=True, momentum=1.0 - momentum, eps=eps)
                (mean, var)[kept].copy_(buffers[kept])
        out = T.F.batch_norm(xs[-1], mean, var, gamma, beta, training=False, eps=eps)
        rows.append(T.torch.cat([mean, var, out.reshape(-1)]))
    return T.torch.stack(rows)


register(
    revise(
        _BN,
        modes={
            "eval": _BN_EVAL,
            "running": RunningStats(
                ("running_mean", "running_var"),
                _bn_running_torch,
                conventions=("torch's unbiased running variance", "the biased running variance, np.var"),
            ),
        },
    )
)


def _flat(a: Arrays) -> Arrays:
    """The book's convention: x flattened to (N, C*H*W), each feature normalized alone; the
    per-channel hooks then apply per feature."""
    return {**a, "x": a["x"].reshape(len(a["x"]), -1)}


def _per_feature(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The training-mode math ``fn`` on x flattened to (N, features), reshaped back."""

    def flat(ns: Any, x: Any, gamma: Any, beta: Any, eps: float = BN_EPS) -> Any:
        return fn(ns, x.reshape(x.shape[0], -1), gamma, beta, eps).reshape(x.shape)

    return flat


register(
    revise(
        _BN,
        name="batch_norm_per_feature",
        construction={"layer_kwargs": {"per_feature": True}},
        summary="training mode, the book's convention: (N, C, H, W) flattened to (N, C*H*W) and each "
        "feature normalized alone (gamma, beta of shape (C*H*W,)); (N, D) as batch_norm",
        draw=_bn_draw(per_feature=True),
        torch=_per_feature(_bn_torch),
        jax=_per_feature(_bn_jax),
        kinks={
            "at": lambda a, margin: {"x": _bn_kinks(_flat(a), margin)["x"].reshape(a["x"].shape)},
            "convention": "smooth (eps > 0); features with std < 1/2 curve too fast for finite differences",
        },
        numerics={
            "value_scale": lambda a: _bn_value_scale(_flat(a)),
            "grad_scale": lambda a, dout: _bn_grad_scale(_flat(a), dout),
        },
        conventions={
            "alternatives": (
                *(Alternative("batch_norm_per_feature", {"eps": e}) for e in _OTHER_EPS),
                Alternative("batch_norm"),
                *(Alternative("batch_norm", {"eps": e}) for e in _OTHER_EPS),
            ),
            "name": "the book's per-feature batch normalization (a 4-D input flattened to "
            "(N, C*H*W), each feature normalized alone, gamma of shape (C*H*W,))",
        },
    )
)

register(_BN_EVAL)
register(
    revise(
        _BN_EVAL,
        name="batch_norm_eval_forward",
        summary="inference mode, forward only: a class with no backward in inference mode (only "
        "training is differentiated) is checked on its forward values",
        modes={"backward": False},
        row_wise=False,
        conventions={
            "alternatives": tuple(Alternative("batch_norm_eval_forward", {"eps": e}) for e in _OTHER_EPS),
            "name": "no backward in inference mode (train_flg=False): only training is differentiated",
        },
    )
)


# --------------------------------------------------------------------------- dropout


def _dropout_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    return {
        "x": draw(S.array(dtype, s["x"])),
        "mask": draw(hnp.arrays(np.bool_, s["x"])),
        **_hyper(s, "dropout_ratio"),
    }


#: NumPy's global seed before every forward of a dropout that draws its own mask
DROPOUT_SEED = 20_151_231


def _dropout_drawing_its_own_mask(spec: LayerSpec, cls: Any) -> tuple[LayerSpec, str]:
    """The spec for a dropout whose forward takes no ``mask`` (the book's draws
    ``np.random.rand(*x.shape) > p``): with NumPy's global RNG seeded before every forward, the
    references get the mask read from the output on an input of ones. No batch property (a row
    alone draws another mask); UsageError if ``np.random.seed`` does not fix the class's mask."""
    probe_spec = revise(
        spec,
        inputs=("x",),
        constants=(),
        construction={"keyword_inputs": (), "numpy_seed": DROPOUT_SEED, "adapt": None},
        row_wise=False,
    )
    drv = driver_for(probe_spec)
    name = getattr(cls, "__name__", repr(cls))

    def mask_of(a: Arrays, dtype: Any) -> np.ndarray:
        ones = {**a, "x": np.ones(a["x"].shape, dtype)}
        return np.asarray(drv.forward(drv.build(cls, ones, dtype), ones) != 0)

    case = {"x": np.ones((8, 16)), **_hyper(spec.shapes[0], "dropout_ratio")}
    try:
        same = np.array_equal(mask_of(case, np.float64), mask_of(case, np.float64))
    except Exception:  # the class raises on this 2-D batch: the shape probe reports it, not a traceback
        same = True
    if not same:
        raise UsageError(
            f"{name}.forward takes no mask= and draws its mask from an RNG that np.random.seed does not "
            f"control, so the mask cannot be recovered: let forward accept mask= (bool, True = kept), "
            f"as spec {spec.name} passes it"
        )

    def draw(d: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
        a = spec.draw(d, dtype, s)
        try:
            mask = mask_of(a, dtype)
        except Exception:  # the class raises on these shapes: its own forward says so where it is run
            mask = np.ones(a["x"].shape, bool)  # (a shape set not selected, or one the probe reports)
        return {**a, "mask": mask}

    note = (
        f"{name}.forward takes no mask=: NumPy's global RNG is seeded before every forward, and the "
        "references get the mask it draws, read from its output on an input of ones (batch: n/a)"
    )
    return replace(probe_spec, draw=draw), note


_GIVEN_MASK = (
    "with a drawn mask given to both sides (a forward without mask=: the mask it draws under a seeded "
    "np.random is read from its output)"
)


def _x_and_ratio(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    return {"x": draw(S.array(dtype, s["x"])), **_hyper(s, "dropout_ratio")}


_DROPOUT_SHAPES: tuple[Sizes, ...] = (
    {"x": (3, 4), "dropout_ratio": 0.5},
    {"x": (2, 3, 2), "dropout_ratio": 0.2},
    {"x": (2, 5), "dropout_ratio": 0.0},
)
#: inverted dropout at test time: torch's own F.dropout in eval mode (the identity)
_DROPOUT_EVAL = LayerSpec(
    name="dropout_eval",
    layer=Dropout,
    summary="inverted dropout at test time (train_flg=False): the identity, "
    "torch's F.dropout(training=False)",
    inputs=("x",),
    construction=Construction(forward_kwargs={"train_flg": False}, hyper=("dropout_ratio",)),
    shapes=_DROPOUT_SHAPES,
    draw=_x_and_ratio,
    torch=lambda T, x, dropout_ratio: T.F.dropout(x, dropout_ratio, training=False),
    jax=lambda J, x, dropout_ratio: J.jnp.asarray(x),
    row_wise=True,
    conventions=Conventions(
        alternatives=(Alternative("dropout_book_eval"),), name="inverted dropout at test time: the identity"
    ),
)
register(_DROPOUT_EVAL)
_DROPOUT_BOOK_EVAL = revise(
    _DROPOUT_EVAL,
    name="dropout_book_eval",
    construction={"layer_kwargs": {"inverted": False}},
    summary="the book's non-inverted dropout at test time (train_flg=False): x * (1 - p)",
    torch=lambda T, x, dropout_ratio: x * (1.0 - dropout_ratio),
    jax=lambda J, x, dropout_ratio: x * (1.0 - dropout_ratio),
    conventions={
        "alternatives": (Alternative("dropout_eval"),),
        "name": "the book's non-inverted dropout at test time: x * (1 - p)",
    },
)
register(_DROPOUT_BOOK_EVAL)

_DROPOUT = LayerSpec(
    name="dropout",
    layer=Dropout,
    summary=f"inverted dropout in training, x * mask / (1 - p), {_GIVEN_MASK}",
    inputs=("x", "mask"),
    constants=("mask",),
    construction=Construction(
        keyword_inputs=("mask",),
        forward_kwargs={"train_flg": True},
        hyper=("dropout_ratio",),
        adapt=_dropout_drawing_its_own_mask,
    ),
    shapes=_DROPOUT_SHAPES,
    draw=_dropout_draw,
    # the definition, written in each framework (F.dropout draws its own mask)
    torch=lambda T, x, mask, dropout_ratio: x * mask / (1.0 - dropout_ratio),
    jax=lambda J, x, mask, dropout_ratio: x * mask / (1.0 - dropout_ratio),
    row_wise=True,
    modes=Modes(eval=_DROPOUT_EVAL),
    conventions=Conventions(
        alternatives=(Alternative("dropout_book"),),
        name="inverted dropout (torch's): kept units scaled by 1/(1-p) in training, inference unscaled",
    ),
)
register(_DROPOUT)
register(
    revise(
        _DROPOUT,
        name="dropout_book",
        construction={"layer_kwargs": {"inverted": False}},
        summary="the book's non-inverted dropout in training, x * mask (inference scales by 1 - p "
        f"instead), {_GIVEN_MASK}",
        torch=lambda T, x, mask, dropout_ratio: x * mask,
        jax=lambda J, x, mask, dropout_ratio: x * mask,
        modes={"eval": _DROPOUT_BOOK_EVAL},
        conventions={
            "alternatives": (Alternative("dropout"),),
            "name": "the book's non-inverted dropout: x * mask in training, unscaled, and x * (1 - p) "
            "at inference",
        },
    )
)


# --------------------------------------------------------------------------- SimpleConvNet


def _scn_torch(T: Any, x: Any, t: Any, stride: int, pad: int, **p: Any) -> Any:
    h = T.F.relu(T.F.conv2d(x, p["W1"], p["b1"], stride=stride, padding=pad))
    h = T.F.max_pool2d(h, 2, stride=2)
    h = T.F.relu(T.F.linear(h.reshape(h.shape[0], -1), p["W2"].T, p["b2"]))
    return T.F.cross_entropy(T.F.linear(h, p["W3"].T, p["b3"]), t)


def _scn_jax(J: Any, x: Any, t: Any, stride: int, pad: int, **p: Any) -> Any:
    h = J.nn.relu(_conv_jax(J, x, p["W1"], p["b1"], stride, pad))
    h = _pool_jax(J, h, 2, 2, 2, 0)
    h = J.nn.relu(h.reshape(h.shape[0], -1) @ p["W2"] + p["b2"])
    logp = J.nn.log_softmax(h @ p["W3"] + p["b3"], axis=-1)
    return -J.jnp.mean(J.jnp.take_along_axis(logp, t[:, None], axis=-1))


def _scn_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    n, (c, h, w), fn, fs = s["N"], s["input_dim"], s["filter_num"], s["filter_size"]
    stride, pad = s["stride"], s["pad"]
    oh, ow = ((h + 2 * pad - fs) // stride + 1) // 2, ((w + 2 * pad - fs) // stride + 1) // 2
    # biases non-zero, so that an all-zero patch does not sit exactly on a ReLU's kink; inputs and
    # kernels (18 taps) of unit size, so that activations stay where finite differences can judge
    param = lambda shape, nonzero=False: draw(S.array(dtype, shape, 2.0, 1.0, nonzero=nonzero))  # noqa: E731
    return {
        "x": draw(S.array(dtype, (n, c, h, w), 1.0, 1.0)),
        "t": draw(S.labels(n, s["C"])),
        "W1": draw(S.array(dtype, (fn, c, fs, fs), 1.0, 0.5)),
        "b1": param((fn,), True),
        "W2": param((fn * oh * ow, s["H"])),
        "b2": param((s["H"],), True),
        "W3": param((s["H"], s["C"])),
        "b3": param((s["C"],)),
        **_hyper(s, "stride", "pad"),
    }


def _scn_net_args(a: Arrays) -> tuple[Any, ...]:
    stride, pad = _geometry(a, "stride", "pad")
    fn, _, fs, _ = a["W1"].shape
    conv_param = {"filter_num": fn, "filter_size": fs, "pad": pad, "stride": stride}
    return a["x"].shape[1:], conv_param, a["W2"].shape[1], a["W3"].shape[1]


def _windows(m: np.ndarray) -> np.ndarray:
    """(..., OH, OW) -> (..., OH // 2, OW // 2, 4): the 2x2, stride-2 pooling windows, row-major."""
    ph, pw = m.shape[-2] // 2, m.shape[-1] // 2
    m = m[..., : 2 * ph, : 2 * pw].reshape(*m.shape[:-2], ph, 2, pw, 2)
    return np.swapaxes(m, -3, -2).reshape(*m.shape[:-4], ph, pw, 4)


@per_case
class _Forward:
    """The network's forward pass in float64 (once per case), with the sizes rounding scales with.

    ``conv``/``conv_terms``: (N, FN, OH, OW) pre-activations and ``sum |patch * W1| + |b1|``;
    ``patch_l1``: ``sum |patch|`` (how far a unit step in W1, b1 moves a pre-activation);
    ``windows``: (N, FN, PH, PW, 4) after ReLU, ``patch_windows`` (N, C*FS*FS, PH, PW, 4) likewise;
    ``pooled``: (N, FN*PH*PW); ``hidden``/``hidden_terms`` as ``conv``'s; ``logits``.
    """

    def __init__(self, a: Arrays) -> None:
        W1, b1 = a["W1"].astype(np.float64), a["b1"].astype(np.float64)
        self.patches = patches = _patches(a, *W1.shape[2:])  # (N, OH, OW, C, FS, FS)
        self.conv = np.einsum("nhwcij,fcij->nfhw", patches, W1) + b1[:, None, None]
        self.conv_terms = (
            np.einsum("nhwcij,fcij->nfhw", np.abs(patches), np.abs(W1)) + np.abs(b1)[:, None, None]
        )
        self.patch_l1 = np.abs(patches).sum(axis=(3, 4, 5))[:, None, :, :] + 1.0
        self.patch_windows = _windows(np.moveaxis(patches.reshape(*patches.shape[:3], -1), -1, 1))
        self.windows = _windows(np.maximum(self.conv, 0.0))
        self.pooled = self.windows.max(axis=-1).reshape(len(self.conv), -1)
        W2, b2 = a["W2"].astype(np.float64), a["b2"].astype(np.float64)
        self.hidden = self.pooled @ W2 + b2
        self.hidden_terms = self.pooled @ np.abs(W2) + np.abs(b2)
        self.W2 = W2
        self.logits = np.maximum(self.hidden, 0.0) @ a["W3"].astype(np.float64) + a["b3"].astype(np.float64)

    def window_gaps(self) -> np.ndarray:
        """Per pooling window, the gap between its two largest (post-ReLU) values."""
        top2 = np.sort(self.windows, axis=-1)[..., -2:]
        return top2[..., 1] - top2[..., 0]


#: finite differences assume the function curves on a unit scale (FD_FACTOR covers O(1) constants);
#: a parameter that moves the logits ``s`` times faster than itself has a truncation error
#: ``(s*h)**2 / 6`` relative, within the tolerance ``FD_FACTOR * h**2`` while ``s <= sqrt(6 * 64)``
FD_UNIT_SCALE = 16.0


def _scn_kinks(a: Arrays, margin: float) -> dict[str, np.ndarray]:
    """Which parameters finite differences must leave alone.

    Kinks: a step of ``margin`` in W1, b1 moves a convolution pre-activation by up to ``margin *
    patch_l1``; if that can cross a ReLU's 0 or reorder a pooling window's top two, they stay put.
    A hidden pre-activation moves by ``margin * (sum|pooled| + 1)`` through W2, b2, plus ``|W2|``
    times the pooled values' move if W1, b1 are perturbed too.

    Curvature: a unit step in a parameter moves the logits by at most ``s`` (see ``scale``), so the
    loss curves on the scale ``1/s``: ``s > FD_UNIT_SCALE`` is left to the exact references. b3
    (no kink, ``s = 1``) is always perturbed: the check always has something to do."""
    f = _Forward(a)
    reach1 = margin * f.patch_l1
    reach = float(reach1.max())
    conv_near = np.any(np.abs(f.conv) <= reach1) or np.any(f.window_gaps() <= 2 * reach)
    direct = margin * (np.abs(f.pooled).sum(axis=1, keepdims=True) + 1.0)
    via_w1 = reach * np.abs(f.W2).sum(axis=0)
    near1 = bool(conv_near or np.any(np.abs(f.hidden) <= direct + via_w1))
    near2 = bool(np.any(np.abs(f.hidden) <= direct + (0.0 if near1 else via_w1)))
    w3 = float(np.abs(a["W3"].astype(np.float64)).sum(axis=0).max())
    w2w3 = float(np.abs(f.W2).sum(axis=0).max()) * w3
    scale = {
        "W1": float(f.patch_l1.max()) * w2w3,
        "b1": w2w3,
        "W2": float(np.abs(f.pooled).sum(axis=1).max()) * w3,
        "b2": w3,
        "W3": float(np.maximum(f.hidden, 0.0).sum(axis=1).max()),
        "b3": 1.0,
    }
    near = {"W1": near1, "b1": near1, "W2": near2, "b2": near2, "W3": False, "b3": False}
    return {p: np.full(a[p].shape, near[p] or scale[p] > FD_UNIT_SCALE) for p in near}


def _scn_ambiguous(a: Arrays) -> bool:
    """Within rounding of a kink at an intermediate value, impl and a reference may each be right
    on opposite sides: a convolution or hidden pre-activation within rounding of 0, or a pooling
    window whose two largest values are within rounding of each other. An exact tie of two
    identical patches is harmless (both would pass back the same gradient) and is not skipped."""
    f = _Forward(a)
    ulp = EXACT_ULPS * float(np.finfo(a["x"].dtype).eps)
    if np.any(np.abs(f.conv) <= ulp * f.conv_terms):
        return True
    conv_err = ulp * float(f.conv_terms.max())
    if np.any(np.abs(f.hidden) <= ulp * f.hidden_terms + conv_err * np.abs(f.W2).sum(axis=0)):
        return True
    gaps = f.window_gaps()
    close = (gaps <= 2 * conv_err) & (f.windows.max(axis=-1) > 0)
    if not close.any():
        return False
    # an exact tie between identical patches: same gradient whichever wins
    if not np.all(gaps[close] == 0):
        return True
    tied = f.windows == f.windows.max(axis=-1, keepdims=True)  # (N, FN, PH, PW, 4)
    p = np.moveaxis(f.patch_windows, 1, -1)  # (N, PH, PW, 4, C*FS*FS)
    same = np.all(p[..., :, None, :] == p[..., None, :, :], axis=-1)[:, None]  # cell k's and l's
    return bool(np.any((tied[..., :, None] & tied[..., None, :] & ~same)[close]))


def _scn_grad_scale(a: Arrays, dout: np.ndarray) -> dict[str, float]:
    """Backpropagate magnitudes, as two_layer_net's: ``|dlogits| <= |dout| * (y + t) / N`` (the
    gradient ``(y - t) / N`` cancels when the net is confident and right), then through ``|W3|``,
    the ReLU, ``|W2|``, the pooling window's maximum, the ReLU and ``|patch|``, as the layers do."""
    f = _Forward(a)
    z = f.logits - f.logits.max(axis=1, keepdims=True)
    y = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    t = np.eye(z.shape[1])[a["t"]]
    d3 = float(np.max(np.abs(dout))) * (y + t) / len(z)
    d2 = (d3 @ np.abs(a["W3"].astype(np.float64)).T) * (f.hidden > 0)
    dpool = (d2 @ np.abs(f.W2).T).reshape(f.windows.shape[:-1]) * (f.windows.max(axis=-1) > 0)
    cells = np.where(np.arange(4) == np.argmax(f.windows, axis=-1)[..., None], dpool[..., None], 0.0)
    N, F, PH, PW, _ = cells.shape
    dconv = np.zeros(f.conv.shape)  # the cells back in place, summed in the layers' order
    cells = np.swapaxes(cells.reshape(N, F, PH, PW, 2, 2), 3, 4).reshape(N, F, 2 * PH, 2 * PW)
    dconv[:, :, : 2 * PH, : 2 * PW] = cells
    terms = {
        "b3": d3.sum(axis=0),
        "W3": np.maximum(f.hidden, 0.0).T @ d3,
        "b2": d2.sum(axis=0),
        "W2": np.abs(f.pooled).T @ d2,
        "b1": dconv.sum(axis=(0, 2, 3)),
        "W1": np.einsum("nfhw,nhwcij->fcij", dconv, np.abs(f.patches)),
    }
    return {p: float(np.max(m)) for p, m in terms.items()}


def _scn_cond(a: Arrays) -> float:
    """As two_layer_net's: the loss is log-softmax of the logits, so an error of eps*|logit| in a
    logit is an error of that size in the loss and its gradients."""
    return 1.0 + float(np.max(np.abs(_Forward(a).logits)))


register(
    NetSpec(
        name="simple_conv_net",
        layer=SimpleConvNet,
        summary="conv-ReLU-pool(2x2, stride 2)-Affine-ReLU-Affine-SoftmaxWithLoss through params, "
        "gradient(x, t) and loss(x, t)",
        inputs=("x", "t"),
        constants=("x", "t"),
        params=("W1", "b1", "W2", "b2", "W3", "b3"),
        construction=Construction(hyper=("stride", "pad")),
        # two shapes (JAX compiles the network per shape): channels, padding, a stride, and floor
        # sizes in the convolution (columns: (6 + 2 - 3) / 2) and in the pooling (3 columns); and
        # a square image with an even convolution output, the book's case (its SimpleConvNet sizes
        # the hidden layer from the height alone, and is checkable there: --shapes 1)
        shapes=(
            dict(N=2, input_dim=(2, 7, 6), filter_num=2, filter_size=3, stride=2, pad=1, H=4, C=3),
            dict(N=2, input_dim=(1, 6, 6), filter_num=2, filter_size=3, stride=1, pad=0, H=3, C=2),
        ),
        draw=_scn_draw,
        net_args=_scn_net_args,
        torch=_scn_torch,
        jax=_scn_jax,
        kinks=Kinks(
            at=_scn_kinks,
            convention="ReLU gradient 0 at 0; a pooling tie's gradient to the first maximum",
            ambiguous=_scn_ambiguous,
        ),
        numerics=Numerics(
            cond=_scn_cond,
            grad_scale=_scn_grad_scale,
            # log-sum-exp minus a logit: with cond = 1 + max|logit|, the loss's rounding is eps * cond
            # in absolute terms, even when the loss itself is tiny (a confident, right prediction)
            value_scale=lambda a: 1.0,
        ),
    )
)
