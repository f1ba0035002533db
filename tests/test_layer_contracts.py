"""Contracts of impl's layers that no registry cell pins down: documented defaults, the dtype of a
loss, accumulation in float64, quiet non-finite arithmetic, the book's conventions (per-feature
batch norm, non-inverted dropout) and errors that name the offending element or shapes. Each was
found by a mutant of impl/ that the rest of the suite let survive (docs/ROBUSTNESS.md, section 6).

A contract that several layers share is one test body whose rows are the registry's specs (every
layer, every loss), each layer built and driven by its spec's driver, as PyTorch's OpInfo tests do."""

from __future__ import annotations

import inspect
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest

from layer_crosscheck import impl
from layer_crosscheck.impl import LayerError
from layer_crosscheck.properties.engine.compare import compare
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.registry import SPECS
from layer_crosscheck.properties.engine.spec import LayerSpec
from layer_crosscheck.properties.engine.tolerances import exact_rtol, rounding_rtol
from tests.helpers import built, driven, example_case, loss_specs, raises_naming

LAYERS = [s for s in SPECS.values() if s.kind == "layer"]
LOSSES = loss_specs()


# --- one body per contract, one row per spec ---


def _nothing_yet(value: Any) -> bool:
    return value is None or (isinstance(value, (list, tuple, dict)) and not value)


@pytest.mark.parametrize("spec", LAYERS, ids=lambda s: s.name)
def test_what_forward_or_backward_stores_is_none_until_then(spec: LayerSpec) -> None:
    """The book's public attributes (``out``, ``mask``, ``x``, a loss's ``loss``, ``y``, ``t``, a
    time layer's ``dh``, ...): every one that forward or backward stores was None (or an empty list)
    from ``__init__`` until then; running statistics, which forward updates, are state, not a result."""
    layer = built(spec.name)
    case = example_case(spec.name)
    before = dict(vars(layer))
    out = driven(spec.name, layer)
    stored_by_forward = dict(vars(layer))
    if spec.modes.backward:
        dout = np.linspace(0.5, 1.5, np.size(out)).reshape(np.shape(out))
        driver_for(spec).backward(layer, dout, case)
    state = spec.modes.running.attributes if spec.modes.running else ()
    stored = [
        k for k, v in vars(layer).items()
        if k in before and not k.startswith("_") and k not in state
        and (stored_by_forward[k] is not before[k] or v is not stored_by_forward[k])
    ]  # fmt: skip
    assert {k: before[k] for k in stored if not _nothing_yet(before[k])} == {}


_OVERFLOWING = np.array([[0.0, 3e38], [0.0, 3e38]], np.float32)

#: float32 row losses whose float32 sum overflows (their inputs: x, t and a mask), and the mean that
#: fits in float32
SUMS_PAST_FLOAT32_MAX = {
    "softmax_with_loss_labels": (_OVERFLOWING, np.array([0, 0]), 3e38),
    "softmax_with_loss": (_OVERFLOWING, np.eye(2, dtype=np.float32)[[0, 0]], 3e38),
    "sigmoid_with_loss": (np.full(4, -1e38, np.float32), np.ones(4, np.int64), 1e38),
    "time_sigmoid_with_loss": (np.full((2, 2), -1e38, np.float32), np.ones((2, 2), np.int64), 1e38),
    "temporal_softmax_loss": (_OVERFLOWING[:, None], np.zeros((2, 1), np.int64), np.ones((2, 1), bool), 3e38),
}


@pytest.mark.parametrize("name", SUMS_PAST_FLOAT32_MAX)
def test_a_loss_sums_its_rows_in_float64(name: str) -> None:
    """The rows' sum is taken in float64 and only the mean, which fits, comes back as float32."""
    *arrays, mean = SUMS_PAST_FLOAT32_MAX[name]
    with np.errstate(all="raise"):
        loss = driven(name, **dict(zip(SPECS[name].inputs, arrays, strict=True)))
    assert np.result_type(loss) == np.float32 and loss == pytest.approx(mean, rel=rounding_rtol(np.float32))


#: a loss of longdouble logits 0 (x, t and a mask): two classes, or one sigmoid, so log(2)
AT_ZERO_LOGITS = {
    "softmax_with_loss_labels": (np.zeros((1, 2), np.longdouble), np.array([0])),
    "softmax_with_loss": (np.zeros((1, 2), np.longdouble), np.array([[1, 0]], np.longdouble)),
    "sigmoid_with_loss": (np.zeros(1, np.longdouble), np.array([0])),
    "temporal_softmax_loss": (np.zeros((1, 1, 2), np.longdouble), np.array([[0]]), np.array([[True]])),
}


@pytest.mark.skipif(np.finfo(np.longdouble).eps == np.finfo(np.float64).eps, reason="longdouble is double")
@pytest.mark.parametrize("name", AT_ZERO_LOGITS)
def test_a_longdouble_loss_keeps_its_precision(name: str) -> None:
    """The loss is summed in result_type(x, t, float64), longdouble for longdouble x: rounding the
    terms or their sum through float64 would lose the extra bits of log(2)."""
    loss = driven(name, **dict(zip(SPECS[name].inputs, AT_ZERO_LOGITS[name], strict=True)))
    assert np.result_type(loss) == np.longdouble and loss == np.log(np.longdouble(2))


def _first(grads: Any) -> np.ndarray:
    return np.asarray(grads[0] if isinstance(grads, tuple) else grads)


def _varied(spec: LayerSpec) -> dict[str, np.ndarray]:
    """The example case with distinct positive values added to its float inputs and parameters
    (probabilities stay positive) and every step of a mask kept: the simplest draw is often all
    zeros, whose gradients can all be 0 whatever dout is (h = W = 0 in word2vec's loss, a mask that
    keeps nothing)."""
    case = example_case(spec.name)
    for k in (*spec.inputs, *spec.params):
        v = case[k]
        if k not in spec.constants and v.dtype.kind == "f":
            case[k] = v + np.linspace(0.1, 0.5, v.size).reshape(v.shape)
        elif v.dtype == bool:
            case[k] = np.ones_like(v)
    return case


@pytest.mark.parametrize("spec", LOSSES, ids=lambda s: s.name)
def test_a_loss_takes_dout_as_any_scalar_and_one_by_default(spec: LayerSpec) -> None:
    """``backward(dout=1)``: a Python int or float, a NumPy scalar or a 0-d array, all alike, and
    linear in it (doubling dout doubles every gradient exactly); the cells judge the 0-d array's."""
    case = _varied(spec)
    layer = built(spec.name, **case)
    driven(spec.name, layer, **case)

    def grads(*dout: Any) -> list[np.ndarray]:
        """The first input's gradient and the parameters'."""
        return [_first(layer.backward(*dout)), *(np.array(g) for g in layer.grads)]

    twice = grads(np.array(2.0))
    for dout in (2, 2.0, np.float64(2.0)):
        np.testing.assert_equal(grads(dout), twice, err_msg=repr(dout))
    once = grads()
    np.testing.assert_equal(once, grads(1))
    np.testing.assert_equal(twice, [2 * g for g in once])


@pytest.mark.parametrize(
    ("cls", "defaults"),
    [
        (impl.Repeat, {"repeats": 2, "axis": 0}),
        (impl.Sum, {"axis": 0}),
        (impl.AdaGradEpsInside, {"lr": 0.01, "eps": 1e-7}),
        (impl.AdamEpsHat, {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-7}),
        (impl.TimeDropout, {"dropout_ratio": 0.5}),
        (impl.RMSprop, {"lr": 0.01, "decay_rate": 0.99, "eps": 1e-7}),
        (impl.LeakyRelu, {"alpha": 0.01}),  # torch's negative_slope
        (impl.LayerNorm, {"eps": 1e-5}),  # torch's
        (impl.GroupNorm, {"G": 1, "eps": 1e-5}),
        (impl.MultiLayerNet, {"activation": "relu", "weight_decay_lambda": 0}),
        (impl.MultiLayerNetExtend, {"weight_decay_lambda": 0, "use_dropout": False, "dropout_ration": 0.5,
                                    "use_batchnorm": False}),
    ],
)
def test_documented_defaults(cls: type, defaults: dict[str, float]) -> None:
    """The book's defaults (AdaGrad's and Adam's 1e-7 are hard-coded there; its chapter-6 nets'),
    torch's for its layers."""
    params = inspect.signature(cls).parameters
    assert {k: params[k].default for k in defaults} == defaults
    obj = cls(*REQUIRED.get(cls, ()))
    assert {k: getattr(obj, k) for k in defaults} == defaults


#: the arguments without a default of the classes above: gamma and beta; the nets' sizes
REQUIRED: dict[type, tuple[Any, ...]] = {impl.LayerNorm: (np.ones(2), np.zeros(2))}
REQUIRED[impl.GroupNorm] = REQUIRED[impl.LayerNorm]
REQUIRED[impl.MultiLayerNet] = REQUIRED[impl.MultiLayerNetExtend] = (3, [4], 2)


@pytest.mark.parametrize(
    ("make", "x"),
    [
        (lambda: impl.BatchNormalization(np.ones(2), np.zeros(2)), np.array([[1.0, 2.0], [3.0, 5.0]])),
        (lambda: impl.SpatialBatchNorm(np.ones(2), np.zeros(2)), np.arange(8.0).reshape(2, 2, 1, 2)),
        (lambda: impl.Dropout(0.5, rng=3), np.arange(1.0, 9.0).reshape(2, 4)),
    ],
    ids=["batch-norm", "spatial-batch-norm", "dropout"],
)
def test_forward_trains_by_default(make: Any, x: np.ndarray) -> None:
    """``forward(x)`` is ``forward(x, train_flg=True)`` (the book's default)."""
    np.testing.assert_array_equal(make().forward(x), make().forward(x, train_flg=True))
    assert not np.array_equal(make().forward(x), make().forward(x, train_flg=False))


def test_layer_norm_takes_one_feature_eps_zero_and_a_single_vector() -> None:
    """Boundaries that must be accepted: one feature (xn = 0, out = beta), eps = 0, x of rank 1;
    a negative eps is refused by name."""
    one = impl.LayerNorm(np.ones(1), np.full(1, 0.5)).forward(np.array([[3.0], [-1.0]]))
    np.testing.assert_array_equal(one, [[0.5], [0.5]])
    exact = impl.LayerNorm(np.ones(2), np.zeros(2), eps=0.0).forward(np.array([1.0, 3.0]))
    np.testing.assert_array_equal(exact, [-1.0, 1.0])  # mean 2, std 1
    with raises_naming(LayerError, "LayerNorm.__init__", "eps", -1.0):
        impl.LayerNorm(np.ones(2), np.zeros(2), eps=-1.0)


def test_repeat_accepts_one_copy_and_refuses_none() -> None:
    x = np.arange(3.0)
    np.testing.assert_array_equal(impl.Repeat(repeats=1).forward(x), x)
    with pytest.raises(LayerError, match=r"^Repeat"):
        impl.Repeat(repeats=0)



def test_sigmoid_with_loss_dtype_follows_scores_and_targets() -> None:
    """0/1 labels never upcast float32 scores; float64 targets do (NumPy promotion)."""
    x32 = np.array([0.5, -1.0], np.float32)
    assert impl.SigmoidWithLoss().forward(x32, np.array([1, 0])).dtype == np.float32
    assert impl.SigmoidWithLoss().forward(x32, np.array([True, False])).dtype == np.float32
    assert impl.SigmoidWithLoss().forward(x32, np.array([0.2, 0.7])).dtype == np.float64
    soft = impl.SigmoidWithLoss().forward(np.array([0.0]), np.array([0.25]))
    assert soft == pytest.approx(np.log(2.0))  # float targets are used as given, not as labels



def test_sigmoid_with_loss_refuses_non_numeric_targets_by_name() -> None:
    with pytest.raises(TypeError, match=r"^SigmoidWithLoss\.forward: t has dtype <U1"):
        impl.SigmoidWithLoss().forward(np.zeros(2), np.array(["a", "b"]))
    with pytest.raises(TypeError, match=r"^SigmoidWithLoss\.forward: x has dtype complex128"):
        impl.SigmoidWithLoss().forward(np.zeros(2, complex), np.array([0, 1]))


def test_embedding_names_the_first_index_out_of_range() -> None:
    layer = impl.Embedding(np.zeros((4, 2)))
    with pytest.raises(LayerError) as info:
        layer.forward(np.array([[0, 1], [7, 9]]))
    assert str(info.value).startswith("Embedding.forward: idx of shape (2, 2) holds 7 (element 2)")



def test_matmul_names_the_features_w_expects() -> None:
    with pytest.raises(LayerError) as info:
        impl.MatMul(np.zeros((3, 5))).forward(np.zeros((2, 4)))
    assert "expected (N, 3) for W of shape (3, 5)" in str(info.value)



@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_book_dropout_scales_by_the_keep_rate_at_inference(dtype: type) -> None:
    """The book's non-inverted dropout: ``x * (1 - p)`` at inference, and backward the same scale."""
    x = np.array([[1.0, -2.0], [np.inf, 4.0]], dtype)
    layer = impl.Dropout(0.25, inverted=False)
    with np.errstate(all="raise"):
        out = layer.forward(x, train_flg=False)
        dx = layer.backward(np.array([[2.0, 1.0], [-1.0, 0.5]], dtype))
    assert out.dtype == dtype and dx.dtype == dtype
    np.testing.assert_array_equal(out, x * dtype(0.75))
    np.testing.assert_array_equal(dx, np.array([[1.5, 0.75], [-0.75, 0.375]], dtype))


def test_convolution_accepts_an_output_one_pixel_wide() -> None:
    """A kernel as wide as the (padded) image gives an output of width 1: valid, not an error."""
    out = impl.Convolution(np.ones((1, 1, 2, 3)), np.zeros(1)).forward(np.ones((1, 1, 4, 3)))
    assert out.shape == (1, 1, 3, 1)
    np.testing.assert_array_equal(out, 6.0)


def test_simple_conv_net_sizes_its_hidden_layer_from_the_padded_width() -> None:
    """A non-square image with padding: the pooled width comes from the padded convolution."""
    net = impl.SimpleConvNet(
        (1, 5, 7), {"filter_num": 2, "filter_size": 3, "pad": 1, "stride": 1}, hidden_size=4, output_size=3
    )
    assert net.params["W2"].shape == (2 * 2 * 3, 4)  # conv output 5x7, pooled 2x3, 2 filters
    assert net.predict(np.zeros((2, 1, 5, 7))).shape == (2, 3)


def test_simple_conv_net_says_why_an_image_is_too_small() -> None:
    with pytest.raises(LayerError) as info:
        impl.SimpleConvNet((1, 3, 3), {"filter_num": 1, "filter_size": 3, "pad": 0, "stride": 1})
    assert str(info.value).startswith(
        "SimpleConvNet.__init__: input_dim (1, 3, 3) gives a (1, 1) convolution output, "
        "too small for the 2x2 pooling"
    )


def test_affine_without_a_batch_axis_says_how_many_values_an_example_has() -> None:
    with pytest.raises(LayerError) as info:
        impl.Affine(np.zeros((3, 2)), np.zeros(2)).forward(np.zeros(3))
    assert "expected a batch (N, ...) of examples with 3 values each for W of shape (3, 2)" in str(info.value)


def test_cross_entropy_error_of_one_example_and_its_default_dout() -> None:
    """A single example may be given as (C,); ``backward()`` is ``-t/y`` there too."""
    layer = impl.CrossEntropyError()
    loss = layer.forward(np.array([0.25, 0.75]), np.array([0.0, 1.0]))
    assert loss == pytest.approx(-np.log(0.75))
    np.testing.assert_allclose(layer.backward(), [0.0, -1 / 0.75])


def test_cross_entropy_error_names_y_in_its_errors() -> None:
    with pytest.raises(TypeError, match=r"^CrossEntropyError\.forward: y has dtype complex128"):
        impl.CrossEntropyError().forward(np.ones((1, 2), complex), np.array([0]))
    with pytest.raises(LayerError, match=r"^CrossEntropyError\.forward: y has shape \(1, 1, 2\)"):
        impl.CrossEntropyError().forward(np.ones((1, 1, 2)), np.array([0]))



@pytest.mark.parametrize("train_flg", [True, False])
@pytest.mark.parametrize("shape", [(3, 2, 2, 2), (4, 2, 3)], ids=["image", "3-D"])
def test_book_batch_norm_is_that_of_its_flattened_features(shape: tuple[int, ...], train_flg: bool) -> None:
    """``per_feature=True`` (the book's): an input beyond 2-D is normalized as (N, features), forward,
    backward and parameter gradients, in training and inference."""
    rng = np.random.default_rng(2)
    n, features = shape[0], int(np.prod(shape[1:]))
    x, dout = rng.normal(size=shape), rng.normal(size=shape)
    gamma, beta = rng.normal(size=features), rng.normal(size=features)
    image = impl.BatchNormalization(gamma, beta, per_feature=True)
    flat = impl.BatchNormalization(gamma, beta, per_feature=True)
    got = image.forward(x, train_flg=train_flg).reshape(n, features)
    flat_out = flat.forward(x.reshape(n, features), train_flg=train_flg)
    np.testing.assert_allclose(got, flat_out, rtol=rounding_rtol(np.float64))
    dx, flat_dx = image.backward(dout), flat.backward(dout.reshape(n, features))
    assert dx.shape == shape
    pairs = [(dx.reshape(n, features), flat_dx), (image.dgamma, flat.dgamma), (image.dbeta, flat.dbeta)]
    for ours, flattened in pairs:
        compare(ours, flattened, exact_rtol(np.float64), what="the flattened features' gradient")


def test_book_batch_norm_names_gamma_that_does_not_fit_a_3d_input() -> None:
    x = np.random.default_rng(1).normal(size=(4, 2, 3))
    with pytest.raises(LayerError) as info:
        impl.BatchNormalization(np.ones(5), np.zeros(5), per_feature=True).forward(x)
    message = str(info.value)
    assert message.startswith("BatchNormalization.forward: x has shape (4, 2, 3) but gamma has shape (5,)")


# --- mutants of impl/_network.py, _targets.py, book2_layers.py, functions.py, graph_nodes.py, im2col.py,
# optimizers.py, simple_conv_net.py (group B) ---


def _small_conv_net() -> impl.SimpleConvNet:
    conv = {"filter_num": 2, "filter_size": 3, "pad": 0, "stride": 1}
    return impl.SimpleConvNet((1, 6, 6), conv, hidden_size=3, output_size=2, rng=0)


@pytest.mark.parametrize(
    ("make", "x_shape", "batch_size", "sizes"),
    [
        (lambda: impl.TwoLayerNet(4, 3, 2, rng=0), (5, 4), {"batch_size": 2}, [2, 2, 1]),
        (lambda: impl.TwoLayerNet(4, 3, 2, rng=0), (5, 4), {}, [5]),  # default None: all at once
        (_small_conv_net, (150, 1, 6, 6), {}, [100, 50]),  # SimpleConvNet's default: 100
    ],
    ids=["two-layer-net-batch-2", "two-layer-net-default", "simple-conv-net-default"],
)
def test_accuracy_predicts_batch_size_examples_per_forward_pass(
    monkeypatch: pytest.MonkeyPatch,
    make: Any,
    x_shape: tuple[int, ...],
    batch_size: dict[str, int],
    sizes: list[int],
) -> None:
    """``accuracy`` bounds each forward pass by ``batch_size`` (documented defaults: None, all at
    once; SimpleConvNet 100), counts the last partial batch, and gives the all-at-once fraction."""
    net = make()
    x = np.random.default_rng(2).normal(size=x_shape)
    t = np.arange(x_shape[0]) % 2
    whole = float(np.mean(np.argmax(net.predict(x), axis=1) == t))
    seen: list[int] = []
    predict = net.predict

    def spy(xb: np.ndarray) -> np.ndarray:
        seen.append(len(xb))
        return predict(xb)

    monkeypatch.setattr(net, "predict", spy)
    assert net.accuracy(x, t, **batch_size) == whole
    assert seen == sizes


def test_label_errors_name_the_offending_label_and_both_counts() -> None:
    """An out-of-range label is named by its index and value; a label count that does not match
    the rows of x names both counts (and both shapes)."""
    x = np.zeros((2, 5))
    with raises_naming(LayerError, "SoftmaxWithLoss.forward", "t[1]", 7, (2, 5)):
        impl.SoftmaxWithLoss().forward(x, np.array([0, 7]))
    with raises_naming(LayerError, "SoftmaxWithLoss.forward", "3 labels", "2 rows", (3,), (2, 5)):
        impl.SoftmaxWithLoss().forward(x, np.array([0, 1, 0]))


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        (impl.Sum(axis=-2), lambda x: x.sum(axis=0, keepdims=True)),
        (impl.Repeat(axis=-2), lambda x: np.repeat(x, 2, axis=0)),
    ],
    ids=["sum", "repeat"],
)
def test_sum_and_repeat_accept_axis_minus_ndim(node: Any, expected: Any) -> None:
    """``axis = -ndim`` is the first axis, as in NumPy (only ``-ndim - 1`` is out of range)."""
    x = np.arange(6.0).reshape(2, 3)
    out = node.forward(x)
    np.testing.assert_array_equal(out, expected(x))
    assert node.backward(np.arange(1.0, out.size + 1).reshape(out.shape)).shape == x.shape



# --- mutants of batchnorm, dropout, pooling (group C) ---


@pytest.mark.parametrize("shape", [(0, 6), (0, 2, 3), (0, 3, 1, 2)])
def test_book_batch_norm_takes_an_empty_batch_at_inference(shape: tuple[int, ...]) -> None:
    """``per_feature=True``, inference, N = 0: empty output and ``dx``, zero ``dgamma``/``dbeta``
    (a sum over no examples), whatever the rank, as for torch's convention (docs/ROBUSTNESS.md
    section 1)."""
    layer = impl.BatchNormalization(np.ones(6), np.zeros(6), per_feature=True)
    out = layer.forward(np.ones(shape), train_flg=False)
    dx = layer.backward(np.ones(shape))
    assert out.shape == shape and dx.shape == shape
    np.testing.assert_array_equal(layer.dgamma, np.zeros(6))
    np.testing.assert_array_equal(layer.dbeta, np.zeros(6))



def test_padded_pooling_routes_an_all_minus_inf_window_to_its_first_real_cell() -> None:
    """pad=1: a window whose real cells are all -inf sends its gradient to its first real cell,
    never to the padding (where it would be lost); a +inf wins its windows. Values from torch's
    max_pool2d(kernel 2, stride 1, padding 1)."""
    x = np.array([[[[-np.inf, -np.inf], [-np.inf, -np.inf]], [[0.0, 1.0], [2.0, np.inf]]]])
    layer = impl.Pooling(2, 2, stride=1, pad=1)
    out = layer.forward(x)
    assert (out[0, 0] == -np.inf).all()
    # which cell of x (row-major, 0..3) each of the 3x3 windows sends its gradient to, per channel
    routes = np.array([[[0, 0, 1], [0, 0, 1], [2, 2, 3]], [[0, 1, 1], [2, 3, 3], [2, 3, 3]]])
    dout = np.random.default_rng(3).normal(size=out.shape)  # drawn: each window's share is told apart
    dx = layer.backward(dout)
    for c in range(2):
        expected = np.bincount(routes[c].ravel(), weights=dout[0, c].ravel(), minlength=4).reshape(2, 2)
        np.testing.assert_allclose(dx[0, c], expected, rtol=rounding_rtol(np.float64))


# --- mutants of impl/losses.py: CrossEntropyError and SigmoidWithLoss (group A) ---


def test_cross_entropy_error_accepts_a_single_class() -> None:
    """One class is a boundary that must be accepted (loss 0, gradient -1/y); none is refused by name."""
    for t in (np.array([0]), np.array([[1.0]])):
        layer = impl.CrossEntropyError()
        assert layer.forward(np.array([[1.0]]), t) == 0.0
        np.testing.assert_array_equal(layer.backward(), [[-1.0]])
    with pytest.raises(LayerError, match=r"^CrossEntropyError\.forward: y has shape \(2, 0\)"):
        impl.CrossEntropyError().forward(np.ones((2, 0)), np.ones((2, 0)))


def test_cross_entropy_error_zero_target_contributes_zero_where_y_is_zero() -> None:
    """The docstring: a target of 0 contributes 0 to the gradient, also where ``y`` is 0 (not 0/0)."""
    layer = impl.CrossEntropyError()
    layer.forward(np.array([[0.0, 1.0], [0.5, 0.5]]), np.array([[0.0, 1.0], [0.0, 1.0]]))
    np.testing.assert_array_equal(layer.backward(), [[0.0, -0.5], [0.0, -1.0]])


@pytest.mark.parametrize(
    ("y_dtype", "t", "dout"),
    [
        (np.float32, np.array([0, 1]), np.float64(0.3)),
        (np.float64, np.array([0, 1]), np.float32(0.3)),
        (np.float64, np.eye(2, dtype=np.float32), np.float32(0.3)),
        (np.float32, np.eye(2, dtype=np.float64), np.float32(0.3)),
    ],
    ids=["labels-float32-y-float64-dout", "labels-float64-y-float32-dout",
         "dense-float64-y-float32-t-and-dout", "dense-float32-y-float64-t-float32-dout"],
)
def test_cross_entropy_error_gradient_follows_numpy_promotion(
    y_dtype: type, t: np.ndarray, dout: np.floating
) -> None:
    """As SoftmaxWithLoss (tests/test_impl_dtype.py): a NumPy ``dout`` is not weak (NEP 50), so the
    gradient takes the promoted dtype of y, t and dout; none of the three narrows it."""
    y = np.array([[0.3, 0.7], [0.6, 0.4]], y_dtype)
    layer = impl.CrossEntropyError()
    layer.forward(y, t)
    dy = layer.backward(dout)
    assert dy.dtype == np.float64
    dense = np.eye(2)[t] if t.ndim == 1 else t.astype(np.float64)
    expected = -np.float64(dout) * dense / y.astype(np.float64) / 2
    np.testing.assert_allclose(dy, expected, rtol=rounding_rtol(np.float32))




def test_sigmoid_with_loss_float32_targets_do_not_narrow_float64_scores() -> None:
    loss = impl.SigmoidWithLoss().forward(np.array([0.5, -1.0]), np.array([0.2, 0.7], np.float32))
    assert np.result_type(loss) == np.float64


# --- non-finite and extreme values are data: one body, a row per layer and case ---

INF, NAN = np.inf, np.nan


@dataclass(frozen=True)
class Limit:
    """Spec ``spec``'s layer, built and driven by its driver on its example case with ``arrays``
    changed, forward then (unless ``dout`` is None) backward, with every NumPy floating-point error
    raised: each entry of ``want`` (``out``, or a gradient's name) is that exact array (NaN, ±inf
    and zeros where IEEE arithmetic gives them, as torch does), or a predicate of it."""

    spec: str
    case: str
    arrays: dict[str, Any]
    dout: Any
    want: dict[str, Any]


def _between_0_and_tiny(sign: float, at: tuple[int, ...]) -> Any:
    """A gradient that underflows to a subnormal of ``sign`` at index ``at``."""
    return lambda g: 0 < sign * g[at] < np.finfo(np.float64).tiny


_AFFINE_W0 = {"W": [[0.0, 1.0], [1.0, 1.0]], "b": [0.0, 0.0]}  # a zero for inf to meet in x @ W, dout @ W.T
_MASK = np.array([[False, True], [True, False]])
_DROPPED = {"x": [[INF, 1.0], [2.0, -INF]], "mask": _MASK, "dropout_ratio": 0.5}
_SUBNORMAL_RECIPROCAL = {  # 1/0 = inf, 1/-0 = -inf, 1/smallest subnormal overflows, 1/max underflows
    np.dtype(t).name: {"x": np.array([0.0, -0.0, np.finfo(t).smallest_subnormal, np.finfo(t).max], t)}
    for t in (np.float64, np.float32)
}

_SATURATING = {"x": [[-1000.0, 0.0, 1000.0]]}


def _tanh_rows(dtype: type) -> list[Limit]:
    """tanh(±1e4) = ±1 meeting an infinite dout is NaN; tanh'(x) = 1 for an x so small that y*y
    underflows; a subnormal dout times tanh' rounds."""
    small, tiny = np.sqrt(np.finfo(dtype).tiny) / 4, np.finfo(dtype).smallest_subnormal
    name = np.dtype(dtype).name
    return [
        Limit("tanh", f"saturated and tiny, {name}", {"x": np.array([[-1e4, 0.0, 1e4, small]], dtype)},
              np.array([[INF, 1.0, -INF, 1.0]], dtype), {"x": [[NAN, 1.0, NAN, 1.0]]}),
        Limit("tanh", f"a subnormal dout, {name}", {"x": np.array([[0.5]], dtype)}, np.array([[tiny]], dtype),
              {"x": lambda g: 0 <= g[0, 0] <= tiny}),
    ]  # fmt: skip


LIMITS = [
    # outputs of exactly 0 or 1 meeting an infinite dout: inf*0 (sigmoid: 0, 0.5, 1; softmax: 0, 0, 1)
    Limit("sigmoid", "saturated", _SATURATING, [[INF, 1.0, INF]], {"x": [[NAN, 0.25, NAN]]}),
    Limit("softmax", "saturated", _SATURATING, [[INF, 1.0, INF]], {"x": [[NAN, NAN, NAN]]}),
    *_tanh_rows(np.float64),
    *_tanh_rows(np.float32),
    # y = (0, 0, 1) = t: an infinite dout meets y - t == 0
    Limit("softmax_with_loss_labels", "saturated", {**_SATURATING, "t": np.array([2])}, INF,
          {"x": [[NAN, NAN, NAN]]}),
    Limit("affine", "forward inf*0", {**_AFFINE_W0, "x": [[INF, 1.0]]}, [[0.5, 2.0]], {"out": [[NAN, INF]]}),
    Limit("affine", "backward inf*0", {**_AFFINE_W0, "x": [[1.0, 1.0]]}, [[INF, 1.0]], {"x": [[NAN, INF]]}),
    Limit("mul", "forward inf*0", {"x": [INF, 1.0], "y": [0.0, 2.0]}, [0.5, 2.0], {"out": [NAN, 2.0]}),
    Limit("mul", "backward 0*inf", {"x": [INF, 1.0], "y": [1.0, 2.0]}, [0.0, 1.0], {"y": [NAN, 1.0]}),
    Limit("add", "forward inf-inf", {"x": [INF, 1.0], "y": [-INF, 2.0]}, [0.5, 2.0], {"out": [NAN, 3.0]}),
    Limit("add", "backward sum of inf and -inf", {"x": [0.0, 0.0], "y": [0.0]}, [INF, -INF], {"y": [NAN]}),
    Limit("repeat", "copies cancel to NaN", {"x": [1.0], "repeats": 2, "axis": 0}, [INF, -INF], {"x": [NAN]}),
    Limit("embedding", "inf-inf in a row's gradient", {"W": np.zeros((2, 1)), "idx": np.array([1, 1])},
          [[INF], [-INF]], {"W": [[0.0], [NAN]]}),
    Limit("matmul", "inf*0", {"W": [[INF], [1.0]], "x": [[0.0, 1.0]]}, None, {"out": [[NAN]]}),
    # -dout*out**2 over- and underflows; inf*0
    Limit("reciprocal", "backward at the dtype limits", {"x": [1e-200, 1e200, INF]}, [1.0, 1.0, INF],
          {"x": [-INF, 0.0, NAN]}),
    *(Limit("reciprocal", f"forward at the dtype limits, {dtype}", arrays, None,
            {"out": lambda o: (o[:3] == [INF, -INF, INF]).all() and 0 < o[3] < np.finfo(o.dtype).tiny})
      for dtype, arrays in _SUBNORMAL_RECIPROCAL.items()),
    # dout/x over- and underflows; dout/0 and inf/inf
    Limit("log", "backward at the dtype limits", {"x": [0.0, 1e-310, 1e300, INF]}, [1.0, 1e10, 1e-300, INF],
          {"x": [INF, INF, 0.0, NAN]}),
    Limit("log", "log(0) and log(-1)", {"x": [0.0, -1.0]}, None, {"out": [-INF, NAN]}),
    Limit("exp", "forward under- and overflow", {"x": [-1e4, 1e4]}, None, {"out": [0.0, INF]}),
    Limit("exp", "dout*out under- and overflows, inf*0", {"x": [-700.0, 700.0, -1e4]}, [1e-300, 1e300, INF],
          {"x": [0.0, INF, NAN]}),
    Limit("sum", "inf-inf", {"x": [[INF], [-INF]], "axis": 0}, None, {"out": [[NAN]]}),
    # a dropped inf is inf*0 = NaN (as torch), in x and in dout
    Limit("dropout", "a dropped inf", _DROPPED, [[1.0, INF], [1.0, -INF]],
          {"out": [[NAN, 2.0], [4.0, NAN]], "x": [[0.0, INF], [2.0, NAN]]}),
    Limit("dropout_book", "a dropped inf", _DROPPED, [[1.0, INF], [1.0, -INF]],
          {"out": [[NAN, 1.0], [2.0, NAN]], "x": [[0.0, INF], [1.0, NAN]]}),
    # -t/0 = -inf, huge and tiny ratios, NaN in y
    Limit("cross_entropy_error", "-t/0, tiny y, NaN",
          {"y": [[0.0, 1.0], [1e-310, 1.0], [NAN, 1.0]], "t": np.eye(2)[[0, 0, 0]]}, 1e-300,
          {"y": lambda g: g[0, 0] == -INF and np.isnan(g[2, 0])}),
    Limit("cross_entropy_error_labels", "-t/0 and tiny y",
          {"y": [[0.0, 1.0], [1e-310, 1.0]], "t": np.array([0, 0])}, 1e300,
          {"y": lambda g: g[0, 0] == -INF and g[1, 0] == -INF}),
    # a tiny gradient underflows to a subnormal; (t / 0) * 0 is NaN
    Limit("cross_entropy_error", "underflow", {"y": [[0.3, 0.7]], "t": [[1e-10, 1.0 - 1e-10]]}, 1e-300,
          {"y": _between_0_and_tiny(-1, (0, 0))}),
    Limit("cross_entropy_error_labels", "underflow", {"y": [[0.3, 0.7]], "t": np.array([0])}, 1e-310,
          {"y": _between_0_and_tiny(-1, (0, 0))}),
    Limit("cross_entropy_error", "(t/0)*0", {"y": [[0.0, 1.0]], "t": [[1.0, 0.0]]}, 0.0,
          {"y": lambda g: np.isnan(g[0, 0])}),
    Limit("cross_entropy_error_labels", "(t/0)*0", {"y": [[0.0, 1.0]], "t": np.array([0])}, 0.0,
          {"y": lambda g: np.isnan(g[0, 0])}),
    # (y - t) * dout / N underflows; 0 * inf (y == t, dout inf) is NaN; exp(-|x|) underflows to 0
    Limit("sigmoid_with_loss", "underflow", {"x": [-30.0], "t": np.array([0])}, 1e-300,
          {"x": _between_0_and_tiny(1, (0,))}),
    Limit("sigmoid_with_loss", "0*inf", {"x": [800.0], "t": np.array([1])}, INF, {"x": [NAN]}),
    Limit("sigmoid_with_loss", "saturated: loss 0", {"x": [-800.0, 800.0], "t": np.array([0, 1])}, 1e-300,
          {"out": 0.0}),
    Limit("sigmoid_with_loss", "inf - inf", {"x": [INF], "t": np.array([1])}, None, {"out": NAN}),
    # book 2's time layers: the same at every step
    Limit("time_affine", "forward inf*0", {**_AFFINE_W0, "xs": [[[INF, 1.0]]]}, [[[0.5, 2.0]]],
          {"out": [[[NAN, INF]]]}),
    Limit("time_affine", "backward inf*0", {**_AFFINE_W0, "xs": [[[1.0, 1.0]]]}, [[[INF, 1.0]]],
          {"xs": [[[NAN, INF]]]}),
    Limit("time_sigmoid_with_loss", "underflow", {"xs": [[-30.0]], "ts": np.array([[0]])}, 1e-300,
          {"xs": _between_0_and_tiny(1, (0, 0))}),
    Limit("time_sigmoid_with_loss", "0*inf", {"xs": [[800.0]], "ts": np.array([[1]])}, INF, {"xs": [[NAN]]}),
    Limit("time_sigmoid_with_loss", "saturated: loss 0", {"xs": [[-800.0, 800.0]], "ts": np.array([[0, 1]])},
          1e-300, {"out": 0.0}),
    Limit("time_sigmoid_with_loss", "inf - inf", {"xs": [[INF]], "ts": np.array([[1]])}, None, {"out": NAN}),
    # no step counted: 0/0 forward (NaN, as torch), d/0 backward (masked to 0), and 0/0 for dout 0
    *(Limit("time_softmax_with_loss", f"no step counted, dout {d}",
            {"xs": [[[1.0, 2.0]]], "ts": np.array([[-1]])}, d, {"out": NAN, "xs": [[[0.0, 0.0]]]})
      for d in (2.0, 0.0)),
    # a zero weight on a key holding inf: 0*inf in the output and in the scores' gradient; 0*inf in a score
    Limit("time_attention", "a zero weight on an infinite key", {"hs_enc": [[[INF, 0.0], [0.0, 1.0]]],
          "hs_dec": [[[-1.0, 0.0]]]}, [[[1.0, 0.0]]], {"out": [[[NAN, 1.0]]]}),
    Limit("time_attention", "inf*0 in a score", {"hs_enc": [[[INF, 1.0]]], "hs_dec": [[[0.0, 1.0]]]}, None,
          {"out": lambda o: np.isnan(o).all()}),
    # scores of ±1e308: the positive pair's term underflows, the negatives' sum overflows to inf
    Limit("negative_sampling_loss", "huge scores", {"h": [[1e154]], "W": [[1e154], [1e154]],
          "target": np.array([0]), "negative_sample": np.array([[1, 1]]), "sample_size": 2}, None,
          {"out": INF}),
    Limit("time_softmax_with_loss", "underflow", {"xs": [[[0.0, -30.0]]], "ts": np.array([[0]])}, 1e-300,
          {"xs": _between_0_and_tiny(1, (0, 0, 1))}),
]  # fmt: skip


@pytest.mark.parametrize("row", LIMITS, ids=[f"{r.spec}-{r.case}" for r in LIMITS])
def test_non_finite_and_extreme_values_are_quiet(row: Limit) -> None:
    """inf*0, inf-inf, overflow to inf and underflow to 0 or a subnormal are values, never
    FloatingPointErrors, whatever the caller's errstate."""
    spec = SPECS[row.spec]
    drv = driver_for(spec)
    case = {**example_case(row.spec), **{k: np.asarray(v) for k, v in row.arrays.items()}}
    with np.errstate(all="raise"):
        layer = drv.build(spec.layer, case, np.float64)
        got = {"out": drv.forward(layer, case)}
        if row.dout is not None:
            got |= drv.backward(layer, np.asarray(row.dout), case)
    for name, want in row.want.items():
        if callable(want):
            assert want(got[name]), f"{name}: {got[name]!r}"
        else:
            np.testing.assert_array_equal(got[name], want, err_msg=name)


def test_svm_loss_starts_without_a_loss() -> None:
    """As the other losses: ``loss`` is None until forward."""
    assert impl.SVMLoss().loss is None


def test_svm_loss_names_itself_and_the_shapes_it_refuses() -> None:
    with raises_naming(LayerError, "SVMLoss.forward", (3,)):
        impl.SVMLoss().forward(np.zeros(3), np.array([0]))
    with raises_naming(LayerError, "SVMLoss.forward", (0, 3)):
        impl.SVMLoss().forward(np.zeros((0, 3)), np.zeros(0, np.int64))  # no row to average over
    with raises_naming(LayerError, "SVMLoss.forward", (2, 3)):
        impl.SVMLoss().forward(np.zeros((2, 3)), np.eye(3)[:2])  # one-hot rows: labels expected
    with raises_naming(TypeError, "SVMLoss.forward", "complex128"):
        impl.SVMLoss().forward(np.zeros((1, 2), complex), np.array([0]))
    with raises_naming(LayerError, "SVMLoss.forward"):
        impl.SVMLoss().forward(np.zeros((1, 2)), np.array([2]))  # a label out of range


def test_svm_loss_passes_no_gradient_through_a_margin_of_exactly_zero() -> None:
    """Class 1 scores exactly 1 below the label: margin 0, no loss and (like torch's
    ``multi_margin_loss``) no gradient."""
    layer = impl.SVMLoss()
    assert layer.forward(np.array([[2.0, 1.0, 0.0]]), np.array([0])) == 0
    assert not layer.backward().any()


def test_svm_loss_accumulates_in_float64() -> None:
    """Four float32 rows with a margin of 2e38 each average to 2e38, although their float32 sum
    overflows."""
    x = np.tile(np.array([0.0, 2e38], np.float32), (4, 1))
    with np.errstate(all="raise"):
        loss = impl.SVMLoss().forward(x, np.zeros(4, np.int64))
    assert loss.dtype == np.float32 and loss == pytest.approx(2e38, rel=1e-6)


@pytest.mark.skipif(np.finfo(np.longdouble).eps == np.finfo(np.float64).eps, reason="longdouble is double")
def test_svm_loss_longdouble_loss_keeps_its_precision() -> None:
    eps = np.finfo(np.longdouble).eps
    x = np.array([[0.0, eps]], np.longdouble)
    loss = impl.SVMLoss().forward(x, np.array([0]))
    assert loss.dtype == np.longdouble and loss == 1 + eps


def test_svm_loss_is_quiet_on_inf_forward_and_backward() -> None:
    """inf - inf in a margin is NaN, and an infinite dout times a zero gradient is NaN: values only,
    whatever the caller's errstate."""
    with np.errstate(all="raise"):
        assert np.isnan(impl.SVMLoss().forward(np.array([[np.inf, np.inf]]), np.array([0])))
        layer = impl.SVMLoss()
        layer.forward(np.array([[0.0, -5.0]]), np.array([0]))
        assert np.isnan(layer.backward(np.inf)).all()


# --- mutants of impl/attention.py and impl/time_distributed.py (book 2's attention and time layers) ---


def test_weight_sum_names_the_weights_it_refuses() -> None:
    hs = np.zeros((2, 3, 4))
    with raises_naming(LayerError, "WeightSum.forward", "a", (2, 4), (2, 3, 4), (2, 3)):
        impl.WeightSum().forward(hs, np.zeros((2, 4)))
    with raises_naming(TypeError, "WeightSum.forward", "a has dtype complex128"):
        impl.WeightSum().forward(hs, np.zeros((2, 3), complex))


def test_weight_sum_is_quiet_on_inf_times_zero() -> None:
    """An infinite state with weight 0 (and an infinite dc against a zero weight) is NaN, quietly."""
    hs = np.array([[[np.inf], [1.0]]])
    with np.errstate(all="raise"):
        layer = impl.WeightSum()
        assert np.isnan(layer.forward(hs, np.array([[0.0, 1.0]]))).all()
        dhs, da = layer.backward(np.array([[np.inf]]))
        assert np.isnan(dhs[0, 0, 0]) and da[0, 0] == np.inf


def test_time_embedding_names_the_ids_it_refuses() -> None:
    with raises_naming(LayerError, "TimeEmbedding.forward", "xs", (3,)):
        impl.TimeEmbedding(np.zeros((5, 2))).forward(np.array([0, 1, 2]))


def test_time_affine_names_the_features_w_expects() -> None:
    with raises_naming(LayerError, "TimeAffine.forward", "xs", (2, 3, 5), "(N, T, 4)", (4, 2)):
        impl.TimeAffine(np.zeros((4, 2)), np.zeros(2)).forward(np.zeros((2, 3, 5)))


def test_time_dropout_draws_its_masks_from_the_generator_it_is_given() -> None:
    x = np.ones((4, 50))
    first, second = impl.TimeDropout(0.5, rng=7), impl.TimeDropout(0.5, rng=np.random.default_rng(7))
    assert np.array_equal(first.forward(x), second.forward(x))


# --- mutants of impl/optimizers.py: RMSprop and clip_grads (book 2) ---


@pytest.mark.parametrize(
    ("kwargs", "name"), [({"lr": -1.0}, "lr"), ({"decay_rate": 1.5}, "decay_rate"), ({"eps": -1e-7}, "eps")]
)
def test_rmsprop_names_the_hyperparameter_it_refuses(kwargs: dict[str, float], name: str) -> None:
    """decay_rate is a weight in [0, 1]; lr and eps are >= 0."""
    with raises_naming(ValueError, "RMSprop", f"{name} must be", next(iter(kwargs.values()))):
        impl.RMSprop(**kwargs)


def test_clip_grads_leaves_gradients_within_the_norm_alone() -> None:
    g = np.array([0.6, 0.0])
    assert impl.clip_grads([g], 1.0) == pytest.approx(0.6)
    assert np.array_equal(g, [0.6, 0.0])


def test_clip_grads_measures_float32_gradients_in_float64() -> None:
    """The squares of 3e20 overflow float32; the norm (and the clipped gradients) stay finite."""
    g = np.full(2, 3e20, np.float32)
    with np.errstate(all="raise"):
        total = impl.clip_grads([g], 1.0)
    assert total == pytest.approx(3e20 * np.sqrt(2), rel=1e-6)
    assert g.dtype == np.float32 and np.allclose(g, 1 / np.sqrt(2), rtol=rounding_rtol(np.float32))


def test_svm_loss_backward_defaults_to_dout_one() -> None:
    layer = impl.SVMLoss()
    layer.forward(np.array([[0.0, 1.0]]), np.array([0]))  # margin 2 at class 1
    assert np.array_equal(layer.backward(), [[-1.0, 1.0]])


# --- impl/word2vec.py: the sampler no spec reaches (the specs hand forward its negative samples) ---


def test_negative_sampling_draws_distinct_ids_never_the_target() -> None:
    """The book's sampler: ``sample_size`` distinct ids per row, drawn from counts ** power, never the
    row's target; a word the corpus never holds is never drawn; seeded, reproducible."""
    W = np.zeros((6, 2))
    corpus = [0, 1, 1, 2, 2, 2, 3, 3, 4, 4, 4, 4]  # word 5 never occurs
    target = np.array([0, 1, 4, 4])
    samples = impl.NegativeSamplingLoss(W, corpus, sample_size=3, rng=1).get_negative_sample(target)
    assert samples.shape == (4, 3) and samples.dtype.kind == "i"
    for t, row in zip(target, samples, strict=True):
        assert len(set(row)) == 3 and t not in row and 5 not in row
    again = impl.NegativeSamplingLoss(W, corpus, sample_size=3, rng=1).get_negative_sample(target)
    assert np.array_equal(samples, again)


def test_negative_sampling_draws_by_counts_to_the_power() -> None:
    """The book's UnigramSampler: ``word_p`` is counts ** power, normalized (power 0.75 by default)."""
    corpus = [0, 1, 1, 2, 2, 2, 2]
    counts = np.array([1.0, 2.0, 4.0])
    for kwargs, power in (({}, 0.75), ({"power": 0.5}, 0.5)):
        layer = impl.NegativeSamplingLoss(np.zeros((3, 2)), corpus, **kwargs)
        expected = counts**power / np.sum(counts**power)
        np.testing.assert_allclose(layer.word_p, expected, rtol=rounding_rtol(np.float64))


def test_word2vec_layers_name_the_ids_they_refuse() -> None:
    W = np.zeros((4, 2))
    with raises_naming(LayerError, "EmbeddingDot.forward", "idx of shape (2,)"):
        impl.EmbeddingDot(W).forward(np.zeros((2, 2)), np.array([0, 4]))
    loss, h = impl.NegativeSamplingLoss(W, sample_size=1), np.zeros((2, 2))
    with raises_naming(LayerError, "NegativeSamplingLoss.forward", "target of shape (2,)"):
        loss.forward(h, np.array([4, 0]), negative_sample=np.zeros((2, 1), int))
    with raises_naming(LayerError, "NegativeSamplingLoss.forward", "negative_sample has shape (2, 2)"):
        loss.forward(h, np.array([1, 0]), negative_sample=np.zeros((2, 2), int))


def test_negative_sampling_loss_draws_its_own_samples_when_none_are_given() -> None:
    W = np.random.default_rng(0).normal(size=(6, 2))
    h, target = np.ones((2, 2)), np.array([0, 3])
    drawn = impl.NegativeSamplingLoss(W, sample_size=2, rng=4)
    loss = drawn.forward(h, target)
    given = impl.NegativeSamplingLoss(W, sample_size=2, rng=4)
    samples = given.get_negative_sample(target)
    assert loss == impl.NegativeSamplingLoss(W, sample_size=2).forward(h, target, negative_sample=samples)


# --- impl/time_layers.py: book 2's TimeRNN, TimeLSTM, TimeGRU, TimeBiLSTM and CS231n's from-h0 forms ---

TIME_LAYERS = ["time_rnn", "time_lstm", "time_gru"]
FROM_H0 = ["time_rnn_h0", "time_lstm_ifog_h0"]


@pytest.mark.parametrize("name", TIME_LAYERS)
def test_time_layers_name_the_features_wx_expects(name: str) -> None:
    layer, xs = built(name), example_case(name)["xs"]
    wrong = np.ones((*xs.shape[:2], xs.shape[2] + 1))
    where, expected = f"{type(layer).__name__}.forward", f"(N, T, {xs.shape[2]})"
    with raises_naming(LayerError, where, "xs", wrong.shape, expected, layer.Wx.shape):
        layer.forward(wrong)


@pytest.mark.parametrize("name", ["time_rnn", "time_lstm"])
def test_stateful_time_layers_name_a_carried_state_of_another_batch(name: str) -> None:
    xs = example_case(name)["xs"]
    layer = type(built(name))(*built(name).params, stateful=True)
    layer.forward(xs)
    more = np.ones((xs.shape[0] + 1, *xs.shape[1:]))
    where = f"{type(layer).__name__}.forward"
    with raises_naming(LayerError, where, "carried state", layer.h.shape, more.shape):
        layer.forward(more)


@pytest.mark.parametrize("name", ["time_rnn", "time_lstm"])
def test_set_state_names_the_state_it_refuses(name: str) -> None:
    layer = built(name)
    with raises_naming(TypeError, f"{type(layer).__name__}.set_state", "h has dtype complex128"):
        layer.set_state(np.zeros((2, layer.H), complex))


@pytest.mark.parametrize("name", FROM_H0)
def test_from_h0_layers_name_h0_xs_and_wh(name: str) -> None:
    """h0 must be (N, H): the message names h0's shape, xs's and Wh's; a complex h0 is named."""
    case = example_case(name)
    layer = built(name)
    h0 = np.ones((case["h0"].shape[0], case["h0"].shape[1] + 1))
    cls = type(layer).__name__
    with raises_naming(LayerError, f"{cls}.forward", "h0", h0.shape, case["xs"].shape, layer.Wh.shape):
        layer.forward(case["xs"], h0)
    with raises_naming(TypeError, f"{cls}.forward", "h0 has dtype complex128"):
        layer.forward(case["xs"], case["h0"] + 0j)


def test_lstm_from_h0_defaults_to_book_2s_gate_order() -> None:
    """``TimeLSTMFromH0(Wx, Wh, b)`` packs the gates as TimeLSTM does ([f, g, i, o])."""
    rng = np.random.default_rng(5)
    params = [rng.normal(size=shape) for shape in ((3, 8), (2, 8), (8,))]  # D = 3, H = 2
    xs, h0 = rng.normal(size=(2, 4, 3)), rng.normal(size=(2, 2))
    book = impl.TimeLSTM(*params, stateful=True)
    book.set_state(h0)
    expected = book.forward(xs)
    np.testing.assert_array_equal(impl.TimeLSTMFromH0(*params).forward(xs, h0), expected)
    ifog = impl.TimeLSTMFromH0(*params, order="ifog").forward(xs, h0)
    assert not np.allclose(ifog, expected)  # the order matters for these weights


@pytest.mark.parametrize("name", TIME_LAYERS)
@pytest.mark.parametrize(("xs_dtype", "w_dtype"), [(np.float32, np.float64), (np.float64, np.float32)])
def test_time_layers_promote_mixed_dtypes_as_numpy(name: str, xs_dtype: type, w_dtype: type) -> None:
    """docs/ROBUSTNESS.md section 3: hs (and the state carried) take result_type(xs, weights)."""
    layer = type(built(name))(*(p.astype(w_dtype) for p in built(name).params))
    hs = layer.forward(example_case(name)["xs"].astype(xs_dtype))
    assert hs.dtype == np.float64 and layer.h.dtype == np.float64


def test_stateful_bi_lstm_carries_the_state_of_both_directions() -> None:
    """``TimeBiLSTM(..., stateful=True)``: a second forward starts each direction from the state the
    first left (book 2's stateful time layers); each half of hs differs from the first call's."""
    rng = np.random.default_rng(6)
    params = [rng.normal(size=shape) for shape in ((3, 8), (2, 8), (8,)) * 2]  # D = 3, H = 2
    xs = rng.normal(size=(2, 4, 3))
    layer = impl.TimeBiLSTM(*params, stateful=True)
    first, second = layer.forward(xs), layer.forward(xs)
    for half in (slice(0, 2), slice(2, 4)):  # the forward direction's h, the reversed one's
        assert not np.allclose(first[..., half], second[..., half])
    fresh = impl.TimeBiLSTM(*params)
    np.testing.assert_array_equal(fresh.forward(xs), fresh.forward(xs))


def test_time_attention_names_the_decoder_states_it_refuses() -> None:
    enc = np.zeros((2, 3, 4))
    with raises_naming(TypeError, "TimeAttention.forward", "hs_dec has dtype complex128"):
        impl.TimeAttention().forward(enc, np.zeros((2, 2, 4), complex))
    with raises_naming(LayerError, "TimeAttention.forward", "hs_dec has shape (2, 4)"):
        impl.TimeAttention().forward(enc, np.zeros((2, 4)))


@pytest.mark.parametrize("name", ["rnn", "lstm", "gru", "gru_torch"])
def test_recurrent_cells_name_the_state_and_the_features_they_expect(name: str) -> None:
    """x (N, D) and each state (N, H): the message names the state refused and the D expected."""
    case, layer = example_case(name), built(name)
    where, (n, d) = f"{type(layer).__name__}.forward", case["x"].shape
    with raises_naming(LayerError, where, f"h_prev {case['h_prev'].shape}", f"(N, {d})"):
        driven(name, layer, x=np.ones((n, d + 1)))
    if "c_prev" in case:
        c_prev = np.ones((n + 1, case["c_prev"].shape[1]))
        with raises_naming(LayerError, where, f"c_prev {c_prev.shape}"):
            driven(name, layer, c_prev=c_prev)


def test_extend_predicts_in_test_mode_and_differentiates_its_training_loss() -> None:
    """The book's MultiLayerNetExtend: ``predict(x)`` is test mode (``train_flg=False``); ``gradient``
    runs the training forward, which alone moves batch norm's running mean."""
    rng = np.random.default_rng(1)
    x, t = rng.normal(size=(4, 3)), np.array([0, 1, 1, 0])
    net = impl.MultiLayerNetExtend(3, [4], 2, use_dropout=True, use_batchnorm=True, rng=0)
    np.testing.assert_array_equal(net.predict(x), net.predict(x, train_flg=False))
    before = net.layers["BatchNorm1"].running_mean.copy()
    net.gradient(x, t)
    assert not np.array_equal(net.layers["BatchNorm1"].running_mean, before)


def test_attention_keeps_its_weights_as_the_book_does() -> None:
    """The book reads ``Attention.attention_weight`` and ``TimeAttention.attention_weights`` (one
    (N, Te) array per decoder step) to plot them: after forward they are the weights the output
    was made with, each row summing to 1."""
    rng = np.random.default_rng(0)
    hs, h = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 3))
    single = impl.Attention()
    c = single.forward(hs, h)
    a = single.attention_weight
    assert a is not None and a.shape == (2, 5)
    np.testing.assert_allclose(a.sum(axis=1), 1.0, rtol=rounding_rtol(np.float64))
    np.testing.assert_allclose(c, np.einsum("nth,nt->nh", hs, a), rtol=rounding_rtol(np.float64))
    enc, dec = rng.normal(size=(2, 5, 3)), rng.normal(size=(2, 4, 3))
    timed = impl.TimeAttention()
    out = timed.forward(enc, dec)
    weights = timed.attention_weights
    assert weights is not None and len(weights) == 4 and all(w.shape == (2, 5) for w in weights)
    np.testing.assert_allclose(out, np.stack([np.einsum("nt,nth->nh", w, enc) for w in weights], 1),
                               rtol=rounding_rtol(np.float64))  # fmt: skip
