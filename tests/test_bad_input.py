"""Bad input, one row per (layer, case) of the table in docs/ROBUSTNESS.md, one test body for all.

The generic rows (backward before forward, a dout of the wrong shape, integers, NaN and inf,
complex input, an empty batch) are generated for the layer of every registered spec, driven the
way the spec drives it, and each spec's ``bad_inputs`` become rows too: a new layer needs no row
written here. So do the any-rank rows of every elementwise layer (found in the registry: drawn at
several ranks, an output of its input's shape) and the rows of every network that classifies.
The rows written out below (the losses, the CNN layers, the public functions) build and drive
their layer through its spec's driver too, on shapes taken from the spec's example case.

A row either expects an exception whose message starts with the layer class (``"Affine.forward:"``)
and names the offending shape(s), or a defined result (integers -> float64, NaN propagates, an
empty batch gives an empty output), checked by the row's own function. Every row runs with every
NumPy floating-point error raised, underflow included: a NaN or inf in the input must propagate
without a warning, and bad input must not surface as a ``FloatingPointError`` or a NumPy
broadcasting error. The CLI's bad-input rows live in tests/test_cli.py.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from layer_crosscheck.impl import (
    LayerError,
    cross_entropy_error,
    log_softmax,
    relu,
    sigmoid,
    softmax,
)
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.explore import example_cases
from layer_crosscheck.properties.engine.registry import SPECS
from layer_crosscheck.properties.engine.spec import LayerSpec
from tests.helpers import built, driven, elementwise, example_case, loss_specs, two_operand_specs


@dataclass(frozen=True)
class Row:
    layer: str
    case: str
    run: Callable[[], Any]  # for a defined result (``raises`` None), asserts that result too
    raises: type[Exception] | None = None
    shapes: tuple[tuple[int, ...], ...] = ()  # must all appear in the message
    words: tuple[str, ...] = ()  # must all appear in the message too (the argument's name, say)


@dataclass(frozen=True)
class Kind:
    """How to build and drive one layer on a good input of shape ``shape`` (batch axis first)."""

    make: Callable[[], Any]
    shape: tuple[int, ...]
    forward: Callable[[Any, np.ndarray], Any]
    row_wise: bool  # example i of the output depends on example i of the input only
    positive: bool = False  # the domain excludes 0 and negatives (log, 1/x): good inputs are positive
    first: str = "x"  # the name of the input varied (messages name it)
    elementwise: bool = False  # takes any shape, its output of that shape (so any rank, 0-D too)


def _kind(spec: LayerSpec) -> Kind | None:
    """The spec's own layer, driven the way the spec drives it; None for a spec whose output has
    no batch axis (the losses: their rows are written out below) or whose first input is not
    differentiated (indices, labels)."""
    # networks, optimizers (no inputs); several outputs; forward only
    if spec.kind != "layer" or spec.outputs or not spec.modes.backward:
        return None
    first = spec.inputs[0]
    if first in spec.constants:
        return None
    case = example_case(spec.name)
    drv = driver_for(spec)

    def make() -> Any:
        return drv.build(spec.layer, case, np.float64)

    def forward(layer: Any, x: np.ndarray) -> Any:
        # the other inputs of x's shape (a second operand, a dropout mask) follow x's shape: ones;
        # the others with x's batch axis (attention's h, word ids) follow its batch: their first rows
        shaped = [k for k in spec.inputs[1:] if case[k].shape == case[first].shape]
        same = {k: np.ones(x.shape, case[k].dtype) for k in shaped}
        # a state of its own shape (an RNN's h_prev) follows x's batch size
        rows = case[first].shape[:1]
        batched = [k for k in spec.inputs[1:] if k not in shaped and case[k].shape[:1] == rows]
        same |= {k: np.ones(x.shape[:1] + case[k].shape[1:], case[k].dtype) for k in batched}
        return drv.forward(layer, {**case, **same, first: x})

    if np.ndim(forward(make(), case[first])) == 0:
        return None
    return Kind(
        make,
        case[first].shape,
        forward,
        spec.row_wise,
        first in spec.edges.domain_positive,
        first,
        elementwise(spec),
    )


def _kinds() -> dict[str, Kind]:
    """Every layer class of the registry (its first spec), so a new spec gets every generic row."""
    kinds: dict[str, Kind] = {}
    for spec in SPECS.values():
        name = getattr(spec.layer, "__name__", "")
        if name not in kinds and (kind := _kind(spec)) is not None:
            kinds[name] = kind
    return kinds


KINDS = _kinds()
#: the elementwise layers under each of their specs (dropout in training and inference, the book's
#: convention and torch's): (class name, spec name, how to drive it)
ELEMENTWISE = [
    (getattr(spec.layer, "__name__", ""), spec.name, kind)
    for spec in SPECS.values()
    if (kind := _kind(spec)) is not None and kind.elementwise
]


def _x(shape: tuple[int, ...], dtype: Any = np.float64, *, positive: bool = False) -> np.ndarray:
    return (np.arange(np.prod(shape)).reshape(shape) % 5 - (-1 if positive else 2)).astype(dtype)


def _good_x(name: str, shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """``_x`` in the layer's domain (positive for log and 1/x)."""
    return _x(shape, dtype, positive=KINDS[name].positive)


def _dout(shape: tuple[int, ...], dtype: Any = np.float64) -> np.ndarray:
    """An upstream gradient of varied values 1..5, never all ones (under which a softmax-like
    backward is 0 whatever its code)."""
    return _x(shape, dtype, positive=True)


def _after_forward(name: str, x: np.ndarray | None = None) -> tuple[Any, Any]:
    kind = KINDS[name]
    layer = kind.make()
    out = kind.forward(layer, _good_x(name, kind.shape) if x is None else x)
    return layer, out


def _backward(name: str, dout_shape: tuple[int, ...], dtype: Any = np.float64) -> Callable[[], Any]:
    return lambda: _after_forward(name)[0].backward(_dout(dout_shape, dtype))


def _first_dx(grads: Any) -> np.ndarray:
    return grads[0] if isinstance(grads, tuple) else grads


# ---------------------------------------------------------------------------------------- checks


def _integers_become_float64(name: str) -> None:
    layer, out = _after_forward(name, _good_x(name, KINDS[name].shape, np.int64))
    dx = layer.backward(_dout(np.shape(out), np.int64))
    assert out.dtype == np.float64
    for g in dx if isinstance(dx, tuple) else (dx,):
        assert np.result_type(g) == np.float64
    assert all(g.dtype == np.float64 for g in layer.grads)


def _assert_empty(layer: Any, x: np.ndarray, out: np.ndarray, grads: Any) -> None:
    assert out.shape[0] == 0 and out.dtype == np.float64
    assert _first_dx(grads).shape == x.shape
    for g in layer.grads:  # a sum over no examples is 0, not garbage
        np.testing.assert_array_equal(g, 0.0)


def _empty_batch(name: str) -> None:
    x = np.ones((0, *KINDS[name].shape[1:]))
    layer, out = _after_forward(name, x)
    _assert_empty(layer, x, out, layer.backward(_dout(out.shape)))


def _non_finite(name: str) -> None:
    kind = KINDS[name]
    x = _good_x(name, kind.shape)
    x.reshape(x.shape[0], -1)[0, :2] = (np.nan, np.inf)  # example 0 only
    layer, out = _after_forward(name, x)
    dout = _dout(out.shape)
    dout.reshape(dout.shape[0], -1)[0, -1] = -np.inf
    dx = _first_dx(layer.backward(dout))
    assert np.isnan(out).any(), "NaN in the input must reach the output"
    assert dx.shape == kind.shape
    if kind.row_wise:  # the clean example stays clean, forward and backward
        assert not np.isfinite(out[0]).all()
        assert np.isfinite(out[1:]).all() and np.isfinite(dx[1:]).all()
    else:  # batch statistics: the channel holding NaN is NaN for every example
        assert np.isnan(out[:, 0]).all() and np.isfinite(out[:, 2]).all()


def _any_shape(name: str, kind: Kind, shape: tuple[int, ...], case: str) -> Row:
    """Forward and backward keep the input's shape (an elementwise layer's any rank, an empty axis)."""

    def run() -> None:
        layer = kind.make()
        out = kind.forward(layer, _x(shape, positive=kind.positive))
        dx = _first_dx(layer.backward(_dout(shape)))
        assert out.shape == shape and np.shape(dx) == shape

    return Row(name, f"{case}: shape {shape}", run)


def _operand_rows(name: str, spec_name: str) -> list[Row]:
    """An elementwise layer of two operands names the one that is not real, and both operands
    when they do not broadcast."""
    spec = SPECS[spec_name]
    x, y = spec.inputs
    good = {x: np.ones(3), y: np.ones(3)}
    bad = (np.ones(3, complex), np.array(["a", "b", "c"]))
    return [
        *(Row(name, f"{v.dtype} {operand}", lambda o=operand, v=v: driven(spec_name, **{**good, o: v}),
              TypeError, words=(f"{name}.forward: {operand} has dtype {v.dtype}",))
          for operand in (x, y) for v in bad),
        Row(name, "operands that do not broadcast: both named",
            lambda: driven(spec_name, **{x: np.zeros((2, 3)), y: np.zeros(4)}), LayerError,
            words=(f"{x} of shape (2, 3) and {y} of shape (4,) do not broadcast",)),
    ]  # fmt: skip


# ---------------------------------------------------------------------------------- the networks


def _labels(
    layer: str, loss: Callable[[Any], Any], x_shape: tuple[int, ...], scores: tuple[int, int]
) -> list[Row]:
    """The label and target rows of ``loss(t)``, a loss or a network's loss on x of shape ``x_shape``
    with scores of shape ``scores`` = (2, C): the message names x's, the scores' and t's shapes."""
    n, c = scores
    cases = [
        ("label out of range", np.array([0, c]), ()),
        ("negative label", np.array([-1, 0]), ()),
        ("float labels", np.array([0.0, 1.0]), ((n,),)),
        ("bool labels", np.array([True, False]), ((n,),)),
        ("wrong number of labels", np.array([0, 1, 0]), ((3,),)),
        ("labels of shape (N, 1)", np.array([[0], [1]]), ((n, 1),)),
        ("one-hot targets of the wrong shape", np.eye(c + 1)[:n], ((n, c + 1),)),
    ]
    return [
        *(
            Row(layer, case, lambda t=t: loss(t), LayerError, (x_shape, scores, *shapes))
            for case, t, shapes in cases
        ),
        Row(layer, "string labels", lambda: loss(np.array(["a", "b"])), TypeError),
    ]


def _network_rows(layer: str, make: Callable[[], Any], x_shape: tuple[int, ...], classes: int) -> list[Row]:
    n, rest = x_shape[0], x_shape[1:]
    wrong = (n, *rest[:-1], rest[-1] + 1)
    t = np.zeros(n, dtype=int)

    def empty_predict() -> None:
        assert make().predict(np.ones((0, *rest))).shape == (0, classes)

    def integer_x() -> None:
        net = make()
        loss, grads = net.loss(_x(x_shape, np.int64), t), net.gradient(_x(x_shape, np.int64), t)
        assert np.result_type(loss) == np.float64
        assert all(g.dtype == np.float64 for g in grads.values())

    def non_finite() -> None:
        x = _x(x_shape)
        x.reshape(n, -1)[0, :2] = (np.nan, np.inf)
        net = make()
        loss, grads = net.loss(x, t), net.gradient(x, t)
        # a fresh net: a training batch with NaN leaves NaN in batch norm's running statistics
        scores = make().predict(x)
        assert np.isnan(loss) and np.isnan(scores[0]).all() and np.isfinite(scores[1:]).all()
        assert all(np.isnan(g).any() for g in grads.values() if g.ndim == 2)

    return [
        Row(layer, "x of the wrong shape", lambda: make().loss(_x(wrong), t), LayerError, (wrong,)),
        Row(layer, "x without a batch axis", lambda: make().predict(_x(rest)), LayerError, (rest,)),
        Row(layer, "backward before forward: n/a (gradient() runs forward itself)",
            lambda: make().gradient(_x(x_shape), t)),
        Row(layer, "integer x", integer_x),
        Row(layer, "empty batch: loss", lambda: make().loss(np.ones((0, *rest)), t[:0]), LayerError,
            ((0, *rest),)),
        Row(layer, "empty batch: predict", empty_predict),
        Row(layer, "empty batch: accuracy", lambda: make().accuracy(np.ones((0, *rest)), t[:0]), LayerError,
            ((0, *rest),)),
        Row(layer, "accuracy: wrong number of labels", lambda: make().accuracy(_x(x_shape), t[:1]),
            LayerError, (x_shape, (1,))),
        Row(layer, "NaN/inf in x", non_finite),
        *_labels(layer, lambda t: make().loss(_x(x_shape), t), x_shape, (n, classes)),
    ]  # fmt: skip


def _nets() -> list[Row]:
    """The rows of every network of the registry that classifies like the book's (``predict``,
    ``accuracy``), built by the spec's own driver from a case of two examples."""
    rows: list[Row] = []
    seen: set[str] = set()
    for spec in SPECS.values():
        name = getattr(spec.layer, "__name__", "")
        classifies = all(hasattr(spec.layer, m) for m in ("predict", "accuracy"))
        if spec.kind != "net" or name in seen or not classifies:
            continue
        seen.add(name)
        case = example_cases(spec)[0]
        drv = driver_for(spec)

        def make(drv: Any = drv, spec: LayerSpec = spec, case: dict[str, np.ndarray] = case) -> Any:
            return drv.build(spec.layer, case, np.float64)

        x_shape = (2, *case["x"].shape[1:])
        rows += _network_rows(name, make, x_shape, np.shape(make().predict(_x(x_shape)))[-1])
    return rows


# --------------------------------------------------------------------------------------- the table


def _generic_rows(name: str) -> list[Row]:
    shape = KINDS[name].shape
    out_shape = np.shape(_after_forward(name)[1])
    wrong_dout = (out_shape[0] + 1, *out_shape[1:])
    return [
        Row(name, "backward before forward", lambda: KINDS[name].make().backward(_dout(shape)), LayerError),
        Row(name, "dout of the wrong shape", _backward(name, wrong_dout), LayerError,
            (wrong_dout, out_shape)),
        Row(name, "integer x and dout", lambda: _integers_become_float64(name)),
        Row(name, "NaN/inf in x and dout", lambda: _non_finite(name)),
        Row(name, "complex x", lambda: KINDS[name].forward(KINDS[name].make(), _x(shape, np.complex128)),
            TypeError, words=(f"{name}.forward: {KINDS[name].first} has dtype complex128",)),
        Row(name, "complex dout", _backward(name, out_shape, np.complex128), TypeError,
            words=(f"{name}.backward: dout has dtype complex128",)),
    ]  # fmt: skip


#: the loss with labels, as its spec builds and drives it
SWL = "softmax_with_loss_labels"


def _swl(x: Any, t: Any) -> Callable[[], Any]:
    return lambda: driven(SWL, x=x, t=t)


def _swl_after(x: Any, t: Any) -> tuple[Any, Any]:
    """The loss layer after a forward of ``x`` and ``t``, and its loss."""
    layer = built(SWL)
    return layer, driven(SWL, layer, x=x, t=t)


def _loss_rows() -> list[Row]:
    """The rows of every loss of the registry whose class is impl's (its first spec): backward
    before forward, a dout that is not a scalar, an integer first input and dout, a complex one."""
    rows: list[Row] = []
    seen: set[str] = set()
    for spec in loss_specs():
        name = getattr(spec.layer, "__name__", "")
        if name in seen or not getattr(spec.layer, "__module__", "").startswith("layer_crosscheck.impl"):
            continue
        seen.add(name)
        first = spec.inputs[0]

        def after(spec: LayerSpec = spec, **changes: Any) -> tuple[Any, Any]:
            layer = built(spec.name, **changes)
            return layer, driven(spec.name, layer, **changes)

        def integers(spec: LayerSpec = spec, first: str = first) -> None:
            layer, loss = after(spec, **{first: (3 * example_case(spec.name)[first]).astype(np.int64)})
            dx = _first_dx(layer.backward(2))
            assert np.result_type(loss) == np.float64 and np.result_type(dx) == np.float64

        rows += [
            Row(name, "backward before forward", lambda spec=spec: built(spec.name).backward(), LayerError,
                words=(f"{name}.backward: call forward first",)),
            Row(name, "dout that is not a scalar", lambda f=after: f()[0].backward(np.array([0.5, 2.0])),
                LayerError, ((2,), ()), words=(f"{name}.backward: dout has shape (2,)",)),
            Row(name, f"integer {first} and dout", integers),
            Row(name, f"complex {first}",
                lambda f=after, s=spec, c=first: f(s, **{c: example_case(s.name)[c] + 0j}), TypeError,
                words=(f"{name}.forward: {first} has dtype complex128",)),
        ]  # fmt: skip
    return rows


def _swl_non_finite() -> None:
    layer, loss = _swl_after(
        np.array([[np.nan, 0.0, 1.0], [0.0, np.inf, 2.0], [0.0, 1.0, 2.0]]), np.array([1, 2, 0])
    )
    dx = layer.backward()
    assert np.isnan(loss) and np.isnan(dx[:2]).all() and np.isfinite(dx[2]).all()


def _no_classes(f: Callable[[Any], Any], shape: tuple[int, ...]) -> Row:
    """An empty class axis gives empty rows of the input's shape, whatever the rank."""

    def run() -> None:
        out = f(np.ones(shape))
        assert out.shape == shape and out.dtype == np.float64

    return Row(f.__name__, f"no classes (C = 0), shape {shape}", run)


def _function_rows() -> list[Row]:
    """The public functions name themselves and the argument, like the layers."""
    z, y, t = np.zeros((2, 3), np.complex128), np.full((2, 3), 1 / 3), np.array([0, 2])
    return [
        *(Row(f.__name__, "complex x", lambda f=f: f(z), TypeError,
              words=(f"{f.__name__}: x has dtype complex128",))
          for f in (relu, sigmoid, softmax, log_softmax)),
        *(_no_classes(f, shape) for f in (softmax, log_softmax) for shape in ((2, 0), (2, 3, 0))),
        *(Row(f.__name__, "a scalar (no class axis)", lambda f=f: f(1.0), LayerError, ((),))
          for f in (softmax, log_softmax)),
        Row("cross_entropy_error", "complex y", lambda: cross_entropy_error(z, t), TypeError,
            words=("cross_entropy_error: y has dtype complex128",)),
        Row("cross_entropy_error", "y of rank 3", lambda: cross_entropy_error(np.ones((2, 3, 1)), t),
            LayerError, ((2, 3, 1),)),
        Row("cross_entropy_error", "no classes (C = 0)", lambda: cross_entropy_error(np.ones((2, 0)), t),
            LayerError, ((2, 0),)),
        Row("cross_entropy_error", "empty batch (N = 0)", lambda: cross_entropy_error(np.ones((0, 3)), t[:0]),
            LayerError, ((0, 3),)),
        Row("cross_entropy_error", "label out of range", lambda: cross_entropy_error(y, np.array([0, 3])),
            LayerError, ((2, 3),)),
        Row("cross_entropy_error", "targets of the wrong shape",
            lambda: cross_entropy_error(y, np.ones((2, 4))), LayerError, ((2, 4), (2, 3))),
    ]  # fmt: skip


def _eval_mode_empty_batch() -> None:
    x = np.ones((0, *example_case("batch_norm_eval")["x"].shape[1:]))
    layer = built("batch_norm_eval")
    out = driven("batch_norm_eval", layer, x=x)
    _assert_empty(layer, x, out, layer.backward(_dout(out.shape)))


def _dropout_mask(mask: np.ndarray) -> Callable[[], Any]:
    return lambda: driven("dropout", x=_x(mask.shape[::-1]), mask=mask)


def _cnn_rows() -> list[Row]:
    """The convolution's, pooling's and batch normalization's own rows, on their specs' layers:
    every shape named is the case's (the kernel, the window, gamma) or one made from it."""
    conv, pool, bn = example_case("convolution"), example_case("pooling"), example_case("batch_norm")
    n, c, h, w = conv["x"].shape
    kernel = conv["W"].shape
    narrow = (n, c, kernel[2] - 1 - 2 * int(conv["pad"]), w)  # (padded) rows fewer than the kernel's
    pn, pc, ph, pw = pool["x"].shape
    low = (pn, pc, int(pool["pool_h"]) - 1 - 2 * int(pool["pad"]), pw)
    channels = bn["gamma"].shape[0]
    return [
        Row("Convolution", "x not 4-D", lambda: driven("convolution", x=_x((n, c, h))), LayerError,
            ((n, c, h),)),
        Row("Convolution", "channels differ from W", lambda: driven("convolution", x=_x((n, c + 1, h, w))),
            LayerError, ((n, c + 1, h, w), kernel)),
        Row("Convolution", "image smaller than the kernel", lambda: driven("convolution", x=_x(narrow)),
            LayerError, (narrow, kernel)),
        Row("Convolution", "W not 4-D", lambda: built("convolution", W=np.ones(kernel[:3])), LayerError,
            (kernel[:3],)),
        Row("Convolution", "W with an empty axis",
            lambda: built("convolution", W=np.ones((kernel[0], 0, *kernel[2:]))), LayerError,
            ((kernel[0], 0, *kernel[2:]),)),
        Row("Pooling", "x not 4-D", lambda: driven("pooling", x=_x((pn, ph, pw))), LayerError,
            ((pn, ph, pw),)),
        Row("Pooling", "image smaller than the window", lambda: driven("pooling", x=_x(low)),
            LayerError, (low,)),
        Row("BatchNormalization", "x without a channel axis",
            lambda: driven("batch_norm", x=_x((channels,))), LayerError, ((channels,),)),
        Row("BatchNormalization", "channels differ from gamma",
            lambda: driven("batch_norm", x=_x((4, channels + 1))), LayerError,
            ((4, channels + 1), (channels,))),
        Row("BatchNormalization", "empty batch (N = 0), training",
            lambda: driven("batch_norm", x=np.ones((0, channels))), LayerError, ((0, channels),)),
        Row("BatchNormalization", "one value per channel, training",
            lambda: driven("batch_norm", x=np.ones((1, channels))), LayerError, ((1, channels),)),
        Row("BatchNormalization", "empty batch (N = 0), inference", _eval_mode_empty_batch),
    ]  # fmt: skip


def _spec_rows(spec: LayerSpec) -> list[Row]:
    """The spec's ``bad_inputs``: the layer built from the changed case and run forward must refuse
    it, naming the shape of every array the change altered."""
    if not spec.edges.bad_inputs:
        return []
    name = getattr(spec.layer, "__name__", spec.name)
    case = example_case(spec.name)
    drv = driver_for(spec)
    rows = []
    for bad in spec.edges.bad_inputs:
        changed = bad.change(case)
        shapes = tuple(np.shape(v) for k, v in changed.items() if np.shape(v) != np.shape(case.get(k)))

        def run(changed: dict[str, np.ndarray] = changed) -> Any:
            return drv.forward(drv.build(spec.layer, changed, np.float64), changed)

        rows.append(Row(name, bad.case, run, bad.raises, shapes))
    return rows


ROWS: list[Row] = [
    # generated for every layer of the registry
    *(row for name in KINDS for row in _generic_rows(name)),
    # a layer that mixes rows (batch statistics) has its empty batch written out below
    *(Row(name, "empty batch (N = 0)", lambda name=name: _empty_batch(name))
      for name, kind in KINDS.items() if kind.row_wise),
    *(row for spec in SPECS.values() for row in _spec_rows(spec)),
    # elementwise and broadcasting layers
    *(_any_shape(name, kind, shape, f"any rank ({spec})")
      for name, spec, kind in ELEMENTWISE for shape in ((), (2, 1, 3))),
    *(row for spec in two_operand_specs() for row in _operand_rows(spec.layer.__name__, spec.name)),
    *_function_rows(),
    # Affine
    *(Row("Affine", f"complex {p}", lambda p=p: built("affine", **{p: example_case("affine")[p] + 0j}),
          TypeError, words=(f"Affine: parameter {i} has dtype complex128",))
      for i, p in enumerate(SPECS["affine"].params)),
    # Softmax and the loss
    Row("Softmax", "a scalar (no class axis)", lambda: driven("softmax", x=np.float64(1.0)), LayerError,
        ((),)),
    _any_shape("Softmax", KINDS["Softmax"], (2, 3, 0), "no classes (C = 0)"),
    *_loss_rows(),
    Row("SoftmaxWithLoss", "x of rank 3", _swl(np.zeros((2, 3, 4)), np.zeros((2, 3), int)), LayerError,
        ((2, 3, 4),)),
    Row("SoftmaxWithLoss", "empty batch (N = 0)", _swl(np.zeros((0, 3)), np.zeros(0, int)), LayerError,
        ((0, 3),)),
    Row("SoftmaxWithLoss", "no classes (C = 0)", _swl(np.zeros((2, 0)), np.zeros(2, int)), LayerError,
        ((2, 0),)),
    *_labels("SoftmaxWithLoss", lambda t: driven(SWL, x=_x((2, 3)), t=t), (2, 3), (2, 3)),
    Row("SoftmaxWithLoss", "NaN/inf in x", _swl_non_finite),
    # the networks
    *_nets(),
    # the CNN layers
    *_cnn_rows(),
    Row("Dropout", "mask of the wrong shape", _dropout_mask(np.ones((3, 2), bool)), LayerError,
        ((3, 2), (2, 3))),
    Row("Dropout", "mask not bool", _dropout_mask(np.ones((2, 3))), TypeError),
]  # fmt: skip


@pytest.mark.parametrize(
    "row",
    [pytest.param(r, id=f"{r.layer}-{r.case}") for r in ROWS],
)
def test_bad_input(row: Row) -> None:
    with np.errstate(all="raise"):
        if row.raises is None:
            row.run()
            return
        with pytest.raises(row.raises) as info:
            row.run()
    message = str(info.value)
    assert re.match(rf"{row.layer}[.:]", message), f"the message must start with {row.layer}: {message!r}"
    for shape in row.shapes:
        assert str(shape) in message, f"the message must name shape {shape}: {message!r}"
    for words in row.words:
        assert words in message, f"the message must say {words!r}: {message!r}"
    assert "NoneType" not in message
