"""CS231n's assignments: how the course calls its function pairs (``engine/function_pair.py``), and
the specs of its two losses. Every pair is judged by an existing spec (``affine``, ``relu``,
``convolution``, ``pooling``, ``batch_norm``, ``dropout``): the math is written once.

Where the course's convention differs from the book's, it is named: dropout's ``p`` is the
probability of *keeping* a unit (2017 on; the book's ``dropout_ratio`` and torch's ``p`` drop it);
the SVM loss sums its margin-1 hinges over the wrong classes (torch's ``multi_margin_loss``
averages them over the classes); the running averages batch norm leaves in ``bn_param`` are
``0.9 * running + 0.1 * batch`` with the batch's *biased* variance (torch's ``running_var`` takes
the unbiased one). Its size contract is exact division, and pooling without padding:
the course's shape sets keep inside it, and still reach overlapping pooling windows with pad 0,
non-square windows and filters, and a convolution with pad 0 (an empty ``pad:-pad`` slice).
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace
from typing import Any

import numpy as np

from layer_crosscheck.impl import SVMLoss, TemporalSoftmaxLoss
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.function_pair import PairCall, register_call
from layer_crosscheck.properties.engine.registry import get_spec, register
from layer_crosscheck.properties.engine.spec import (
    Arrays,
    BadInput,
    Conventions,
    Draw,
    Kinks,
    LayerSpec,
    Numerics,
    Sizes,
    revise,
)
from layer_crosscheck.properties.specs.seed import CLASS_SHAPES

# --------------------------------------------------------------------------- the losses

register(
    replace(
        get_spec("softmax_with_loss_labels"),
        name="softmax_loss",
        summary="CS231n's softmax_loss(x, y): cross-entropy of softmax(x) with integer labels, mean over N",
    )
)


def _svm_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    return {"x": draw(S.array(dtype, (s["N"], s["C"]))), "t": draw(S.labels(s["N"], s["C"]))}


def _margins(a: Arrays) -> np.ndarray:
    """``x_j - x_y + 1`` in float64, NaN at the label (no hinge there)."""
    x = a["x"].astype(np.float64)
    rows = np.arange(len(x))
    m = x - x[rows, a["t"]][:, None] + 1.0
    m[rows, a["t"]] = np.nan
    return m


def _svm_kinks(a: Arrays, margin: float) -> dict[str, np.ndarray]:
    """A hinge within ``margin`` of 0 bends under both its class and the label's score; so does one
    within rounding of 0, ``x_j - x_y + 1`` computed in the layer's dtype (torch adds in another
    order): either side of the hinge is then right, and no reference is compared there."""
    x = np.abs(a["x"].astype(np.float64))
    rows = np.arange(len(x))
    rounding = 8 * float(np.finfo(a["x"].dtype).eps) * (x + x[rows, a["t"]][:, None] + 1.0)
    near = np.abs(_margins(a)) <= np.maximum(margin, rounding)
    rows = np.arange(len(near))
    kinks = near.copy()
    kinks[rows, a["t"]] = near.any(axis=1)
    return {"x": kinks}


def _svm_jax(J: Any, x: Any, t: Any) -> Any:
    hinge = J.nn.relu(x - J.jnp.take_along_axis(x, t[:, None], axis=1) + 1.0)
    return J.jnp.sum(hinge * (1.0 - J.nn.one_hot(t, x.shape[1], dtype=x.dtype))) / x.shape[0]


register(
    LayerSpec(
        name="svm_loss",
        layer=SVMLoss,
        summary="CS231n's svm_loss(x, y): sum over j != y of max(0, x_j - x_y + 1), mean over N",
        inputs=("x", "t"),
        constants=("t",),
        shapes=CLASS_SHAPES,
        draw=_svm_draw,
        # torch's multiclass hinge averages over the C classes; the course sums over them
        torch=lambda T, x, t: T.F.multi_margin_loss(x, t, margin=1.0) * x.shape[1],
        jax=_svm_jax,
        kinks=Kinks(
            at=_svm_kinks,
            # at a hinge within rounding of 0 either side is right: no reference is compared there
            references=(),
            convention="a hinge at 0 (within rounding) may pass either gradient; elsewhere margins > 0 count",
        ),
        numerics=Numerics(derive_scales=True),
        conventions=Conventions(
            name="CS231n's multiclass SVM: margin 1, hinges summed over the wrong classes "
            "(torch's multi_margin_loss divides by C)"
        ),
    )
)

# --------------------------------------------------------------------------- the pairs

register_call(PairCall("affine", "affine", ("x", "W", "b")))
register_call(PairCall("relu", "relu", ("x",)))
register_call(PairCall("softmax_loss", "softmax_loss", ("x", "t"), loss=True))
register_call(PairCall("svm_loss", "svm_loss", ("x", "t"), loss=True))
register_call(
    PairCall(
        "conv",
        "convolution",
        ("x", "W", "b"),
        param_dict=lambda o: {"stride": o["stride"], "pad": o["pad"]},
        hyper=("stride", "pad"),
        dict_name="conv_param",
        # exact division (H + 2 pad - HH) % stride == 0; pad 0, non-square filters, stride 2
        shapes=(
            {"x": (2, 2, 5, 5), "W": (3, 2, 3, 3), "stride": 1, "pad": 0},
            {"x": (1, 3, 5, 6), "W": (2, 3, 3, 2), "stride": 2, "pad": 1},
            {"x": (2, 1, 6, 5), "W": (2, 1, 2, 3), "stride": 2, "pad": 0},
            {"x": (1, 2, 4, 4), "W": (2, 2, 3, 1), "stride": 1, "pad": 2},
        ),
    )
)
register_call(
    PairCall(
        "max_pool",
        "pooling",
        ("x",),
        param_dict=lambda o: {"pool_height": o["pool_h"], "pool_width": o["pool_w"], "stride": o["stride"]},
        hyper=("pool_h", "pool_w", "stride", "pad"),
        dict_name="pool_param",
        # no padding, (H - pool_height) % stride == 0: overlapping and non-square windows
        shapes=(
            {"x": (2, 2, 4, 6), "pool_h": 2, "pool_w": 2, "stride": 2, "pad": 0},
            {"x": (1, 2, 5, 5), "pool_h": 3, "pool_w": 3, "stride": 1, "pad": 0},
            {"x": (2, 1, 5, 7), "pool_h": 3, "pool_w": 2, "stride": 1, "pad": 0},
            {"x": (2, 3, 4, 5), "pool_h": 2, "pool_w": 3, "stride": 2, "pad": 0},
        ),
    )
)


def _bn_param(o: Any) -> dict[str, Any]:
    """bn_param as the course's solver fills it: mode and eps; running statistics and momentum
    where given (the running_stats property draws them)."""
    given = {k: o[k] for k in ("running_mean", "running_var") if k in o}
    if "momentum" in o:
        given["momentum"] = float(o["momentum"])
    return {"mode": o["mode"], "eps": float(o["eps"]), **given}


#: the course's running average: ``running = momentum * running + (1 - momentum) * batch``, with the
#: batch's *biased* variance (torch's running_var takes the unbiased one, as impl's BatchNormalization)
BN_MOMENTUM = 0.9
_COURSE_RUNNING = "the course's: running = 0.9 * running + 0.1 * batch statistic, with the biased variance"
_RUNNING_CONVENTIONS = (
    (BN_MOMENTUM, 0, None),
    (BN_MOMENTUM, 1, "the batch's unbiased variance (torch's, n / (n - 1)), not the biased one"),
    (1 - BN_MOMENTUM, 0, "momentum as the weight of the batch statistic (torch's meaning)"),
)


def _running_torch(
    T: Any, x: Any, running_mean: Any, running_var: Any, momentum: float, correction: int
) -> Any:
    axes = (0, *range(2, x.ndim))  # spatial batch norm: per channel
    mean = T.torch.mean(x, dim=axes)
    var = T.torch.var(x, dim=axes, correction=correction)
    m = momentum
    return T.torch.stack([m * running_mean + (1 - m) * mean, m * running_var + (1 - m) * var])


def _running_stats(cls: Any, spec: LayerSpec) -> str | None:
    """bn_param's running_mean/var after one training forward, against torch's mean and variance
    under the course's 0.9 momentum: the values of ``out`` cannot see them, the next test-mode
    forward can. A fixed, well-conditioned case (an audit, not a search)."""
    from layer_crosscheck.properties.engine.compare import Mismatch, compare
    from layer_crosscheck.properties.engine.function_pair import AuditSkipped
    from layer_crosscheck.properties.engine.tolerances import exact_rtol
    from layer_crosscheck.reference import get_reference

    if not spec.construction.forward_kwargs.get("train_flg", True):
        raise AuditSkipped("no running average in test mode")
    ref = get_reference("torch")
    if ref.unavailable():
        raise AuditSkipped(str(ref.unavailable()))
    rng = np.random.default_rng(231)
    shape = spec.shapes[0]["x"]
    C = shape[1]
    a = {
        "x": rng.normal(size=shape),
        "gamma": rng.normal(size=C),
        "beta": rng.normal(size=C),
        "running_mean": rng.normal(size=C),
        "running_var": rng.uniform(0.5, 2.0, size=C),
        **{k: np.asarray(v) for k, v in spec.conventions.settings.items()},
    }
    layer = cls(a["gamma"], a["beta"], running_mean=a["running_mean"], running_var=a["running_var"])
    driver_for(spec).forward(layer, a)
    got = [layer.param_dict.get(k) for k in ("running_mean", "running_var")]
    if any(g is None for g in got):
        return "batchnorm_forward left no running_mean/running_var in bn_param after a training forward"
    got_stats = np.stack([np.asarray(g, dtype=np.float64).reshape(C) for g in got])
    arrays = {k: a[k] for k in ("x", "running_mean", "running_var")}
    first = ""
    for momentum, correction, name in _RUNNING_CONVENTIONS:
        want = ref.value(functools.partial(_running_torch, momentum=momentum, correction=correction), arrays)
        try:
            compare(got_stats, want, exact_rtol(np.float64), what="bn_param's running_mean, running_var")
        except Mismatch as exc:
            first = first or str(exc)
            continue
        if name is None:
            return None
        return f"CONVENTION: bn_param's running averages use {name}; {_COURSE_RUNNING}"
    return f"{first} ({_COURSE_RUNNING})"


register_call(
    PairCall(
        "batchnorm",
        "batch_norm",
        ("x", "gamma", "beta"),
        param_dict=_bn_param,
        dict_name="bn_param",
        shapes=({"x": (4, 3)}, {"x": (2, 5)}, {"x": (5, 2)}),  # (N, D)
        audit=_running_stats,
    )
)
register_call(
    PairCall(
        "spatial_batchnorm",
        "batch_norm",
        ("x", "gamma", "beta"),
        param_dict=_bn_param,
        dict_name="bn_param",
        shapes=({"x": (2, 3, 2, 2)}, {"x": (3, 2, 2, 3)}),  # (N, C, H, W)
        audit=_running_stats,
    )
)

#: the seed every dropout_param carries (the course's gradient check passes one too)
DROPOUT_SEED = 231
#: units of the input on which the kept fraction is counted, and how many standard deviations of
#: a binomial count away from p it may be (a false alarm once in 5e8 runs)
_KEPT_UNITS, _KEPT_SIGMAS = (100, 100), 6.0


def _kept_fraction(cls: Any, spec: LayerSpec) -> str | None:
    """The values are judged with the mask the pair drew, so a mask that keeps the wrong fraction
    (``rand > p``) agrees with them: the fraction is counted on 10,000 units, for every keep
    probability of the shape sets, and must be p within six standard deviations. A pair that
    keeps 1 - p and scales by 1 / (1 - p) follows the drop-probability convention, and is told so."""
    drv = driver_for(spec)
    n = math.prod(_KEPT_UNITS)
    for sizes in spec.shapes:
        case = {"x": np.ones(_KEPT_UNITS), "dropout_ratio": sizes["dropout_ratio"]}
        keep = 1.0 - float(sizes["dropout_ratio"])
        out = np.asarray(drv.forward(drv.build(cls, case, np.float64), case))
        kept = float(np.mean(out != 0))

        def near(p: float, kept: float = kept) -> bool:
            return abs(kept - p) <= _KEPT_SIGMAS * math.sqrt(p * (1.0 - p) / n)

        if near(keep):
            continue
        scale = float(np.max(out, initial=0.0))
        if near(1.0 - keep) and math.isclose(scale, 1.0 / (1.0 - keep)):
            return (
                f"CONVENTION: dropout_forward takes dropout_param['p'] = {keep:g} as the probability of "
                "DROPPING a unit (the 2016 template's, torch's p): since 2017 the course's p KEEPS a unit"
            )
        allowed = _KEPT_SIGMAS * math.sqrt(keep * (1.0 - keep) / n)
        return (
            f"dropout_forward kept {kept:.4f} of {n} units with dropout_param['p'] = {keep:g}, the "
            f"probability of KEEPING a unit (CS231n since 2017): expected {keep:g} ± {allowed:.4f}"
        )
    return None


register_call(
    PairCall(
        "dropout",
        "dropout",
        ("x",),
        # the course's p keeps a unit: the spec's dropout_ratio drops it
        param_dict=lambda o: {"mode": o["mode"], "p": 1.0 - float(o["dropout_ratio"]), "seed": DROPOUT_SEED},
        hyper=("dropout_ratio",),
        dict_name="dropout_param",
        audit=_kept_fraction,
    )
)

# --------------------------------------------------------------------------- normalization (assignment 2)


def _eps_param(o: Any) -> dict[str, Any]:
    """ln_param / gn_param: the course reads only eps from them."""
    return {"eps": float(o["eps"])}


register_call(
    PairCall(
        "layernorm",
        "layer_norm",
        ("x", "gamma", "beta"),
        param_dict=_eps_param,
        dict_name="ln_param",
        shapes=({"x": (4, 3), "C": 3}, {"x": (2, 5), "C": 5}, {"x": (1, 2), "C": 2}),  # (N, D)
    )
)
register_call(
    PairCall(
        "spatial_groupnorm",
        "group_norm",
        ("x", "gamma", "beta", "G"),
        param_dict=_eps_param,
        dict_name="gn_param",
        # the 2019+ notebook hands gamma and beta over as (1, C, 1, 1)
        reshaped={"gamma": (1, -1, 1, 1), "beta": (1, -1, 1, 1)},
    )
)

# --------------------------------------------------------------------------- recurrent steps (assignment 3)

register_call(PairCall("rnn_step", "rnn", ("x", "h_prev", "Wx", "Wh", "b")))
register_call(
    PairCall(
        "lstm_step",
        "lstm_ifog",  # the course packs the gates [i, f, o, g]: under --as lstm that convention is named
        ("x", "h_prev", "c_prev", "Wx", "Wh", "b"),
        conventions=("lstm", "lstm_ifgo", "lstm_ifog"),
    )
)
register_call(
    PairCall(
        "word_embedding",
        "embedding",
        ("idx", "W"),
        # x (N, T) of word indices: more of them than rows of W, so every draw repeats one
        shapes=(
            {"idx": (2, 3), "V": 4, "D": 2},
            {"idx": (1, 2), "V": 3, "D": 3},
            {"idx": (3, 2), "V": 2, "D": 2},
        ),
    )
)


register_call(PairCall("temporal_affine", "time_affine", ("xs", "W", "b")))


def _temporal_loss_draw(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
    N, T, V = s["N"], s["T"], s["V"]
    return {
        "x": draw(S.array(dtype, (N, T, V))),
        "t": draw(S.labels(N * T, V)).reshape(N, T),
        "mask": draw(S.labels(N * T, 2)).reshape(N, T).astype(bool),
    }


def _temporal_loss_torch(T: Any, x: Any, t: Any, mask: Any) -> Any:
    N, _, V = x.shape
    ce = T.F.cross_entropy(x.reshape(-1, V), t.reshape(-1), reduction="none")
    return T.torch.sum(ce * mask.reshape(-1).to(x.dtype)) / N


def _temporal_loss_jax(J: Any, x: Any, t: Any, mask: Any) -> Any:
    picked = J.jnp.take_along_axis(J.nn.log_softmax(x, axis=-1), t[..., None], axis=-1)[..., 0]
    return -J.jnp.sum(picked * mask.astype(x.dtype)) / x.shape[0]


register(
    revise(
        get_spec("softmax_with_loss_labels"),
        name="temporal_softmax_loss",
        layer=TemporalSoftmaxLoss,
        summary="CS231n's temporal_softmax_loss(x, y, mask): cross-entropy at every time step where mask, "
        "summed over time, divided by N",
        inputs=("x", "t", "mask"),
        constants=("t", "mask"),
        shapes=({"N": 2, "T": 3, "V": 4}, {"N": 1, "T": 2, "V": 3}, {"N": 3, "T": 1, "V": 2}),
        draw=_temporal_loss_draw,
        torch=_temporal_loss_torch,
        jax=_temporal_loss_jax,
        numerics={"grad_scale": None, "derive_scales": True},
        row_wise=False,
        edges={
            "samples": (),
            "bad_inputs": (
                BadInput(
                    "mask of the wrong shape",
                    lambda a: {**a, "mask": np.ones((a["t"].shape[0], a["t"].shape[1] + 1))},
                ),
                BadInput("one-hot targets", lambda a: {**a, "t": np.eye(a["x"].shape[2])[a["t"]]}),
                BadInput("a label equal to V", lambda a: {**a, "t": np.full(a["t"].shape, a["x"].shape[2])}),
            ),
        },
    )
)
register_call(PairCall("temporal_softmax_loss", "temporal_softmax_loss", ("x", "t", "mask"), loss=True))
register_call(PairCall("rnn", "time_rnn_h0", ("xs", "h0", "Wx", "Wh", "b")))
register_call(PairCall("lstm", "time_lstm_ifog_h0", ("xs", "h0", "Wx", "Wh", "b")))
