"""Book 1's chapter-6 networks, ``MultiLayerNet`` and ``MultiLayerNetExtend``, checked like
``two_layer_net`` through ``params``, ``loss(x, t)`` and ``gradient(x, t)``.

Two hidden layers (the spec's parameters are a fixed list); the activation (ReLU, or sigmoid
where the hyper-parameter ``sigmoid`` is True) and the weight decay's ``lambda`` vary by shape
set and reach the constructor in the book's order. The loss carries ``0.5 * lambda * sum(W**2)``.
The extended net normalizes each hidden affine in training mode (the book's eps 1e-6, ``--set
eps=``) and, where a shape set says so, drops units the book's way: ``x * mask``, the mask
``np.random.rand(N, H) > p`` drawn by each ``Dropout`` in turn from NumPy's global RNG, which
the driver seeds before every ``loss`` and ``gradient``; the references get the masks that seed
draws. Scales are derived from the math.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from layer_crosscheck.impl import MultiLayerNet, MultiLayerNetExtend
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.registry import register
from layer_crosscheck.properties.engine.spec import (
    Alternative,
    Arrays,
    Construction,
    Draw,
    Kinks,
    NetSpec,
    Numerics,
    Sizes,
    per_case,
    revise,
)
from layer_crosscheck.properties.engine.tolerances import EXACT_ULPS
from layer_crosscheck.properties.specs import cnn, seed

HIDDEN = 2
_WEIGHTS = tuple(f"W{i}" for i in range(1, HIDDEN + 2))
_AFFINE = tuple(p for i in range(1, HIDDEN + 2) for p in (f"W{i}", f"b{i}"))
_NORM = tuple(p for i in range(1, HIDDEN + 1) for p in (f"gamma{i}", f"beta{i}"))
_MASKS = tuple(f"mask{i}" for i in range(1, HIDDEN + 1))
#: NumPy's global seed before every loss and gradient of a net with dropout
NET_SEED = cnn.DROPOUT_SEED
BOOK_BN_EPS = 1e-6  # the book's BatchNormalization: sqrt(var + 10e-7)


def _sizes(s: Sizes) -> list[int]:
    return [s["D"], *s["H"], s["C"]]


def _masks(s: Sizes) -> dict[str, np.ndarray]:
    """The masks the book's Dropout layers draw in turn after ``np.random.seed(NET_SEED)`` (all kept
    without dropout): ``np.random.rand(N, H) > p``, one RNG stream through the layers."""
    rs = np.random.RandomState(NET_SEED)
    n, p = s["N"], s.get("dropout_ration", 0.0)
    drop = bool(s.get("use_dropout", False))
    return {
        m: rs.rand(n, h) > p if drop else np.ones((n, h), bool) for m, h in zip(_MASKS, s["H"], strict=True)
    }


def _draw(norm: bool) -> Callable[[Draw, np.dtype, Sizes], Arrays]:
    def draw_case(draw: Draw, dtype: np.dtype, s: Sizes) -> Arrays:
        sizes = _sizes(s)
        param = lambda shape, typical=0.7: draw(S.array(dtype, shape, 2.0, typical, nonzero=True))  # noqa: E731
        a: Arrays = {
            "x": draw(S.array(dtype, (s["N"], s["D"]), 3.0, 1.0)),
            "t": S.one_hot(draw(S.labels(s["N"], s["C"])), s["C"], dtype),
        }
        for i in range(1, len(sizes)):
            a[f"W{i}"], a[f"b{i}"] = param((sizes[i - 1], sizes[i])), param((sizes[i],))
        if norm:
            for i, h in enumerate(s["H"], 1):
                a[f"gamma{i}"], a[f"beta{i}"] = param((h,), 1.0), param((h,), 1.0)
            a.update(_masks(s))
        hyper = ("sigmoid", "weight_decay_lambda", *(("use_dropout", "dropout_ration") if norm else ()))
        return {**a, **{k: np.asarray(s[k]) for k in hyper}}

    return draw_case


def _net_args(a: Arrays) -> tuple[Any, ...]:
    """The book's positional order: sizes, activation, weight_init_std, weight_decay_lambda[,
    use_dropout, dropout_ration, use_batchnorm]."""
    act = "sigmoid" if bool(a["sigmoid"]) else "relu"
    sizes = (
        a["W1"].shape[0],
        [a[f"b{i}"].shape[0] for i in range(1, HIDDEN + 1)],
        a[f"W{HIDDEN + 1}"].shape[1],
    )
    args = (*sizes, act, act, float(a["weight_decay_lambda"]))
    if "gamma1" not in a:
        return args
    return (*args, bool(a["use_dropout"]), float(a["dropout_ration"]), True)


def _net_math(torch: bool) -> Callable[..., Any]:
    """The network in torch (``F.linear``, ``F.batch_norm(training=True)``, ``F.cross_entropy``) or
    jax (``jax.nn``, batch norm by mean and variance as the batch_norm spec's jax math)."""

    def math(ns: Any, x: Any, t: Any, *, sigmoid: bool, weight_decay_lambda: float, **a: Any) -> Any:
        eps = a.pop("eps", None)
        if sigmoid:
            act = ns.torch.sigmoid if torch else ns.nn.sigmoid
        else:
            act = ns.F.relu if torch else ns.nn.relu
        h = x
        for i in range(1, HIDDEN + 1):
            h = h @ a[f"W{i}"] + a[f"b{i}"]
            if f"gamma{i}" in a:
                bn = cnn._bn_torch if torch else cnn._bn_jax
                h = bn(ns, h, a[f"gamma{i}"], a[f"beta{i}"], eps)
            h = act(h)
            if f"mask{i}" in a:
                h = h * a[f"mask{i}"]
        logits = h @ a[f"W{HIDDEN + 1}"] + a[f"b{HIDDEN + 1}"]
        ce = ns.F.cross_entropy(logits, t) if torch else seed.ce_probs_jax(ns, logits, t)
        return ce + sum(0.5 * weight_decay_lambda * (a[w] ** 2).sum() for w in _WEIGHTS)

    def with_flags(
        ns: Any, x: Any, t: Any, *, use_dropout: Any = None, dropout_ration: Any = None, **a: Any
    ) -> Any:
        return math(ns, x, t, **a)  # the masks carry the dropout; the flags only build the net

    return with_flags


class _Hidden:
    """One hidden layer of a case's float64 forward: its activation input ``z``, the two running
    bounds on it (see ``_Forward``), and what a change there meets on its way to the logits."""

    def __init__(
        self,
        z: np.ndarray,
        reach: np.ndarray,
        rounding: np.ndarray,
        mask: np.ndarray,
        W_next: np.ndarray,
        bn: Any,
    ) -> None:
        self.z, self.reach, self.rounding, self.mask = z, reach, rounding, mask
        self.W_next, self.bn = W_next, bn

    def normalized(self, r: np.ndarray) -> np.ndarray:
        """How far a move of ``r`` in the pre-activations moves ``z`` through the batch norm."""
        if self.bn is None:
            return r
        g, std, xn = self.bn
        return np.abs(g) * ((r + r.mean(axis=0)) / std + np.abs(xn) * r.max(axis=0) / std)


class _Forward:
    """A case's float64 forward, layer by layer, with two running bounds per hidden unit:

    * ``reach``: how far a step of 1 in every parameter at once (finite differences' direction,
      times their step) can move it: an affine's ``sum|input| + 1`` plus its input's reach through
      ``|W|``; batch norm's ``(reach + mean reach) / std + |xn| * max reach / std``, times
      ``|gamma|``, plus ``|xn| + 1``; then the activation's slope (1, sigmoid 1/4) and the mask.
    * ``rounding``: the size of the terms it is made of (``seed._net_ambiguous``'s bound, through
      the normalization's ``(|pre| + |mean|) / std``).

    ``speed[p]`` is how fast a unit step of parameter group ``p`` alone moves the logits (the loss
    curves on the scale ``1/speed``, see ``cnn.FD_UNIT_SCALE``), and ``narrow`` the groups whose
    effect passes a batch norm of a feature with std < 1/2 (``cnn._bn_kinks``)."""

    def __init__(self, a: Arrays) -> None:
        f = {k: np.asarray(v, np.float64) for k, v in a.items() if np.asarray(v).dtype.kind in "fb"}
        self.relu = not bool(a["sigmoid"])
        self.slope = 1.0 if self.relu else 0.25
        eps = float(a.get("eps", BOOK_BN_EPS))
        h, reach, rounding = f["x"], np.zeros_like(f["x"]), np.zeros_like(f["x"])
        self.hidden: list[_Hidden] = []
        self.narrow: set[str] = set()
        starts: list[tuple[int, str, np.ndarray, bool]] = []  # (layer, group, unit move, at pre)
        for i in range(1, HIDDEN + 1):
            W, b = f[f"W{i}"], f[f"b{i}"]
            l1 = np.abs(h).sum(axis=1, keepdims=True)
            starts += [
                (i, f"W{i}", l1 * np.ones(b.shape), True),
                (i, f"b{i}", np.ones((len(h), b.size)), True),
            ]
            pre = h @ W + b
            reach = l1 + 1.0 + reach @ np.abs(W)
            rounding = np.abs(h) @ np.abs(W) + np.abs(b) + rounding @ np.abs(W)
            bn = None
            z = pre
            if f"gamma{i}" in f:
                g, be = f[f"gamma{i}"], f[f"beta{i}"]
                mu = pre.mean(axis=0)
                std = np.sqrt(((pre - mu) ** 2).mean(axis=0) + eps)
                xn = (pre - mu) / std
                if np.any(std < 0.5):
                    self.narrow |= {s[1] for s in starts}
                starts += [(i, f"gamma{i}", np.abs(xn), False), (i, f"beta{i}", np.ones_like(xn), False)]
                bn = (g, std, xn)
                z = g * xn + be
                rounding = np.abs(g) * (rounding + np.abs(pre) + np.abs(mu)) / std + np.abs(be)
            mask = f.get(f"mask{i}", np.ones(z.shape))
            layer = _Hidden(z, reach, rounding, mask, f[f"W{i + 1}"], bn)
            layer.reach = reach = layer.normalized(reach) + (0.0 if bn is None else np.abs(bn[2]) + 1.0)
            self.hidden.append(layer)
            h = (np.maximum(z, 0.0) if self.relu else 1.0 / (1.0 + np.exp(-z))) * mask
            reach, rounding = self.slope * reach * mask, rounding * mask
        self.logits = h @ f[f"W{HIDDEN + 1}"] + f[f"b{HIDDEN + 1}"]
        self.speed = {f"W{HIDDEN + 1}": float(np.abs(h).sum(axis=1).max()), f"b{HIDDEN + 1}": 1.0}
        self.speed.update({group: self._to_logits(i, r, at_pre) for i, group, r, at_pre in starts})

    def _to_logits(self, i: int, r: np.ndarray, at_pre: bool) -> float:
        """The largest move of a logit from a move ``r`` at hidden layer ``i`` (before its batch
        norm if ``at_pre``, else after it)."""
        for layer in self.hidden[i - 1 :]:
            r = layer.normalized(r) if at_pre else r
            r = (self.slope * r * layer.mask) @ np.abs(layer.W_next)
            at_pre = True
        return float(r.max())


_forward = per_case(_Forward)


def _kinks(a: Arrays, margin: float) -> dict[str, np.ndarray]:
    """Finite differences leave a parameter group alone where they cannot be trusted: every group
    when a ReLU's input is within reach of 0 (as two_layer_net), a group whose unit step moves the
    logits faster than ``cnn.FD_UNIT_SCALE``, or one upstream of a narrow batch-norm feature."""
    f = _forward(a)
    near = f.relu and any(np.any(np.abs(z) <= margin * r) for z, r in ((h.z, h.reach) for h in f.hidden))
    params = [p for p in a if p in f.speed]
    return {p: np.full(a[p].shape, near or f.speed[p] > cnn.FD_UNIT_SCALE or p in f.narrow) for p in params}


def _ambiguous(a: Arrays) -> bool:
    """A ReLU input within rounding of 0: impl and a reference may round it to opposite sides."""
    f = _forward(a)
    ulp = EXACT_ULPS * float(np.finfo(a["x"].dtype).eps)
    return f.relu and any(np.any(np.abs(z) <= ulp * r) for z, r in ((h.z, h.rounding) for h in f.hidden))


def _cond(a: Arrays) -> float:
    """As two_layer_net's: an error of eps*|logit| in a logit is one of that size in the loss."""
    return 1.0 + float(np.max(np.abs(_forward(a).logits)))


_RELU_KINK = "ReLU gradient 0 at a pre-activation of exactly 0 (sigmoid: smooth)"

_MLN = NetSpec(
    name="multi_layer_net",
    layer=MultiLayerNet,
    summary="book 1's MultiLayerNet(D, [H1, H2], C, activation, weight_init_std, weight_decay_lambda): "
    "(Affine-activation) x 2, Affine, SoftmaxWithLoss, plus 0.5*lambda*sum(W**2), through params, "
    "gradient(x, t) and loss(x, t)",
    inputs=("x", "t"),
    constants=("x", "t"),
    params=_AFFINE,
    construction=Construction(hyper=("sigmoid", "weight_decay_lambda")),
    shapes=(
        {"N": 3, "D": 4, "H": (3, 4), "C": 3, "sigmoid": False, "weight_decay_lambda": 0.1},
        {"N": 2, "D": 3, "H": (4, 2), "C": 2, "sigmoid": True, "weight_decay_lambda": 0.05},
    ),
    draw=_draw(norm=False),
    net_args=_net_args,
    torch=_net_math(torch=True),
    jax=_net_math(torch=False),
    kinks=Kinks(at=_kinks, convention=_RELU_KINK, ambiguous=_ambiguous),
    numerics=Numerics(cond=_cond, derive_scales=True),
)
register(_MLN)

#: the first shape set drops units (ReLU, lambda 0.1; a ratio other than the default 0.5, so that
#: one not passed on to the Dropout layers is seen), the second not (sigmoid, lambda 0.05)
_SHAPE = {"sigmoid": False, "weight_decay_lambda": 0.1, "use_dropout": True, "dropout_ration": 0.3}
register(
    revise(
        _MLN,
        name="multi_layer_net_extend",
        layer=MultiLayerNetExtend,
        summary="book 1's MultiLayerNetExtend(..., weight_decay_lambda, use_dropout, dropout_ration, "
        "use_batchnorm=True): (Affine-BatchNorm-activation[-Dropout]) x 2, Affine, SoftmaxWithLoss, plus "
        "0.5*lambda*sum(W**2), in training mode: loss(x, t, train_flg=True) and gradient(x, t); the "
        "book's dropout x * mask, its masks drawn under a seeded np.random",
        params=(*_AFFINE, *_NORM),
        construction={
            "hyper": ("sigmoid", "weight_decay_lambda", "use_dropout", "dropout_ration"),
            "forward_kwargs": {"train_flg": True},
            "numpy_seed": NET_SEED,
        },
        conventions={
            "settings": {"eps": BOOK_BN_EPS},
            "alternatives": tuple(
                Alternative("multi_layer_net_extend", {"eps": e}) for e in (1e-5, 1e-7, 1e-8)
            ),
            "name": "the book's batch normalization eps 1e-6 in MultiLayerNetExtend",
        },
        shapes=(
            {"N": 4, "D": 3, "H": (4, 3), "C": 3, **_SHAPE},
            {
                **_SHAPE,
                "N": 3,
                "D": 4,
                "H": (3, 2),
                "C": 2,
                "sigmoid": True,
                "use_dropout": False,
                "weight_decay_lambda": 0.05,
            },
        ),
        draw=_draw(norm=True),
    )
)
