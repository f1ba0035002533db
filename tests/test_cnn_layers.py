"""Convolution, Pooling, BatchNormalization, Dropout and SimpleConvNet: what the registry's cells do
not cover (tests/test_properties.py compares every layer with torch and jax in both dtypes).

Here: im2col/col2im against torch's unfold/fold, fixed tie, NaN and inf cases, batch norm's running
statistics and boundary settings, dropout against torch's own ``F.dropout``, defaults, the network's
wiring, and the error messages the bad-input table (tests/test_bad_input.py) does not generate.
Only the tests that compare with torch take the ``torch`` fixture, so the rest run without it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from layer_crosscheck.impl._base import LayerError
from layer_crosscheck.impl.batchnorm import BatchNormalization
from layer_crosscheck.impl.conv import Convolution
from layer_crosscheck.impl.dropout import Dropout
from layer_crosscheck.impl.im2col import col2im, conv_output_size, fold, im2col, unfold
from layer_crosscheck.impl.pooling import Pooling
from layer_crosscheck.impl.simple_conv_net import SimpleConvNet
from layer_crosscheck.properties.engine.tolerances import exact_rtol
from tests.helpers import raises_naming, raising

DTYPES = [np.float64, np.float32]


@pytest.fixture
def torch() -> Any:
    """torch, or a visible skip for the test that needs it."""
    return pytest.importorskip("torch")


def assert_close(actual: np.ndarray, expected: np.ndarray, dtype: Any, what: str) -> None:
    """The harness's rule: ``|a - e| <= rtol * (|e| + max|e|)``, rtol from eps(dtype); dtype kept."""
    actual = np.asarray(actual)
    assert actual.dtype == dtype, f"{what}: dtype {actual.dtype}, expected {np.dtype(dtype)}"
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape}, expected {expected.shape}"
    rtol = exact_rtol(dtype)
    scale = float(np.max(np.abs(expected), initial=0.0))
    np.testing.assert_allclose(actual, expected, rtol=rtol, atol=rtol * scale, err_msg=what)


def torch_value(fn: Callable[..., Any], inputs: dict[str, np.ndarray]) -> np.ndarray:
    import torch

    with torch.no_grad():
        out = fn(**{k: torch.tensor(np.asarray(v, dtype=np.float64)) for k, v in inputs.items()})
    return out.numpy()


# --------------------------------------------------------------------------- im2col / col2im


@pytest.mark.parametrize(
    ("fh", "fw", "stride", "pad"), [(3, 3, 1, 0), (2, 3, 2, 1), (3, 1, 3, 2), (1, 1, 1, 0)]
)
def test_im2col_is_unfold_and_col2im_is_fold(torch: Any, fh: int, fw: int, stride: int, pad: int) -> None:
    F = torch.nn.functional
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 7, 8))
    N, C, H, W = x.shape
    col = im2col(x, fh, fw, stride, pad)
    unfold = F.unfold(torch.tensor(x), (fh, fw), padding=pad, stride=stride).numpy()  # (N, C*K, L)
    expected = unfold.transpose(0, 2, 1).reshape(-1, C * fh * fw)
    assert_close(col, expected, np.float64, "im2col")
    c = rng.standard_normal(col.shape)
    columns = torch.tensor(c.reshape(N, -1, C * fh * fw).transpose(0, 2, 1))  # (N, C*K, L), as unfold's
    folded = F.fold(columns, (H, W), (fh, fw), padding=pad, stride=stride).numpy()
    assert_close(col2im(c, x.shape, fh, fw, stride, pad), folded, np.float64, "col2im")


def test_window_helpers_default_to_stride_1_pad_0() -> None:
    """The defaults are the book's (and torch's unfold/fold's): stride 1, no padding, for
    im2col/col2im, unfold/fold and conv_output_size alike."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, 3, 5, 6))
    assert conv_output_size(5, 2) == conv_output_size(5, 2, 1, 0) == 4
    for window, back in ((im2col, col2im), (unfold, fold)):
        col = window(x, 2, 3)
        np.testing.assert_array_equal(col, window(x, 2, 3, 1, 0))
        c = rng.standard_normal(col.shape)
        np.testing.assert_array_equal(back(c, x.shape, 2, 3), back(c, x.shape, 2, 3, 1, 0))


# --------------------------------------------------------------------------- Convolution


def test_convolution_inf_times_zero_weight_is_nan_without_error(torch: Any) -> None:
    """An inf pixel under a zero weight gives NaN (inf * 0), as in torch, not an error (the suite
    turns NumPy's invalid-operation warning into one)."""
    x = np.ones((1, 1, 3, 3))
    x[0, 0, 1, 1] = np.inf
    W = np.array([[[[1.0, 0.0], [0.0, 1.0]]]])
    b = np.array([0.5])
    out = Convolution(W, b).forward(x)
    np.testing.assert_array_equal(out, [[[[np.inf, np.nan], [np.nan, np.inf]]]])
    np.testing.assert_array_equal(
        out, torch_value(lambda x, W, b: torch.nn.functional.conv2d(x, W, b), {"x": x, "W": W, "b": b})
    )


@pytest.mark.parametrize(
    ("x_dtype", "w_dtype", "b_dtype"),
    [(np.float32, np.float32, np.float64), (np.float64, np.float64, np.longdouble)],
    ids=["float32-x-and-W-float64-b", "float64-x-and-W-longdouble-b"],
)
def test_convolution_bias_of_a_wider_dtype_promotes_the_output(
    x_dtype: Any, w_dtype: Any, b_dtype: Any
) -> None:
    """The bias is added with NumPy promotion: a wider b widens the output (never rounded to x's dtype)."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3, 5, 4)).astype(x_dtype)
    W = rng.standard_normal((4, 3, 2, 2)).astype(w_dtype)
    b = rng.standard_normal(4).astype(b_dtype) / 3
    out = Convolution(W, b).forward(x)
    assert out.dtype == b_dtype
    product = Convolution(W, np.zeros(4, w_dtype)).forward(x)
    np.testing.assert_array_equal(out, product.astype(b_dtype) + b[:, None, None])


# --------------------------------------------------------------------------- Pooling


# (x, window, stride, dout, dx expected): a fixed case compared with torch's max_pool2d
POOL_CASES = [
    # ties go to the first maximum in row-major order
    pytest.param(np.array([[[[1.0, 3.0, 3.0], [3.0, 0.0, 3.0], [3.0, 3.0, 3.0]]]]), (2, 2), 1,
                 np.array([[[[1.0, 10.0], [100.0, 1000.0]]]]),
                 np.array([[[[0.0, 11.0, 0.0], [100.0, 0.0, 1000.0], [0.0, 0.0, 0.0]]]]), id="ties"),
    # a NaN window routes to its last NaN; a NaN-free window beside it still takes its first max
    pytest.param(np.array([[[[np.nan, 1.0, np.nan, 5.0], [2.0, 3.0, 4.0, np.nan]]]]), (2, 2), 1,
                 10.0 ** np.arange(3).reshape(1, 1, 1, 3), None, id="nan-in-every-window"),
    pytest.param(np.array([[[[np.nan, 1.0, 5.0, 2.0], [2.0, 3.0, 4.0, 1.0]]]]), (2, 2), 2,
                 np.array([[[[1.0, 10.0]]]]), None, id="nan-free-window-beside"),
    # two overlapping windows sending +inf and -inf to one cell give NaN, not an error (the suite
    # turns NumPy's invalid-operation warning into one)
    pytest.param(np.array([[[[0.0, 5.0, 0.0]]]]), (1, 2), 1, np.array([[[[np.inf, -np.inf]]]]),
                 np.array([[[[0.0, np.nan, 0.0]]]]), id="overlapping-inf-gradients"),
]  # fmt: skip


@pytest.mark.parametrize(("x", "window", "stride", "dout", "expected"), POOL_CASES)
def test_pooling_routes_like_torch(
    torch: Any, x: np.ndarray, window: tuple[int, int], stride: int, dout: np.ndarray, expected: Any
) -> None:
    layer = Pooling(*window, stride=stride)
    out = layer.forward(x)
    dx = layer.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    ref = torch.nn.functional.max_pool2d(xt, window, stride=stride)
    ref.backward(torch.tensor(dout))
    np.testing.assert_array_equal(out, ref.detach().numpy())
    np.testing.assert_array_equal(dx, xt.grad.numpy())
    if expected is not None:
        np.testing.assert_array_equal(dx, expected)


def test_pooling_default_stride_is_the_books_1() -> None:
    """``Pooling(pool_h, pool_w)`` slides by 1 with no padding (the book's default, not torch's)."""
    layer = Pooling(2, 2)
    assert layer.stride == 1 and layer.pad == 0
    out = layer.forward(np.arange(9.0).reshape(1, 1, 3, 3))
    np.testing.assert_array_equal(out, [[[[4.0, 5.0], [7.0, 8.0]]]])


# --------------------------------------------------------------------------- BatchNormalization


def _bn_arrays(shape: tuple[int, ...], dtype: Any) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(sum(shape))
    C = shape[1]
    return {
        "x": (3.0 + 2.0 * rng.standard_normal(shape)).astype(dtype),
        "gamma": rng.standard_normal(C).astype(dtype),
        "beta": rng.standard_normal(C).astype(dtype),
        "rm": rng.standard_normal(C).astype(dtype),
        "rv": rng.uniform(0.5, 2.0, C).astype(dtype),
    }


# (shape, dtype, momentum, eps, train, steps): three training passes of the defaults, then the closed
# ends of momentum's [0, 1], eps = 0 (torch allows it only at inference) and a single channel
BN_CASES = [
    *(pytest.param(shape, dtype, 0.9, 1e-5, True, 3, id=f"{shape}-{np.dtype(dtype)}")
      for shape in ((6, 4), (3, 4, 2, 3)) for dtype in DTYPES),
    pytest.param((5, 3), np.float64, 0.0, 1e-5, True, 1, id="momentum=0"),
    pytest.param((5, 3), np.float64, 1.0, 1e-5, True, 1, id="momentum=1"),
    pytest.param((5, 3), np.float64, 0.9, 0.0, False, 1, id="eps=0"),
    pytest.param((5, 1), np.float64, 0.9, 1e-5, True, 1, id="one-channel"),
]  # fmt: skip


@pytest.mark.parametrize(("shape", "dtype", "momentum", "eps", "train", "steps"), BN_CASES)
def test_batchnorm_and_its_running_stats_follow_torch(
    torch: Any, shape: tuple[int, ...], dtype: Any, momentum: float, eps: float, train: bool, steps: int
) -> None:
    """Every pass gives torch's output and moves the running statistics as torch's do (momentum 0.9 is
    torch's 0.1, the variance unbiased); the cells judge outputs and gradients, not the statistics."""
    a = _bn_arrays(shape, dtype)
    for v in a.values():
        v.setflags(write=False)
    layer = BatchNormalization(
        a["gamma"], a["beta"], momentum=momentum, running_mean=a["rm"], running_var=a["rv"], eps=eps
    )
    t_rm, t_rv = (torch.tensor(a[k], dtype=torch.float64) for k in ("rm", "rv"))

    def bn(x: Any, gamma: Any, beta: Any) -> Any:
        return torch.nn.functional.batch_norm(
            x, t_rm, t_rv, gamma, beta, training=train, momentum=1.0 - momentum, eps=eps
        )

    for step in range(steps):
        x = (a["x"] + step).astype(dtype)  # the running stats move
        out = layer.forward(x, train_flg=train)
        ref = torch_value(bn, {"x": x, "gamma": a["gamma"], "beta": a["beta"]})
        assert_close(out, ref, dtype, f"out, step {step}")
        assert_close(layer.running_mean, t_rm.numpy(), dtype, f"running_mean, step {step}")
        assert_close(layer.running_var, t_rv.numpy(), dtype, f"running_var, step {step}")
    assert layer.params == [a["gamma"], a["beta"]] and layer.params[0] is a["gamma"]


@pytest.mark.parametrize(
    ("gamma_dtype", "beta_dtype"),
    [(np.float32, np.float32), (np.float32, np.float64), (np.float64, np.float32)],
)
def test_batchnorm_defaults(gamma_dtype: Any, beta_dtype: Any) -> None:
    """eps 1e-5 and momentum 0.9; running statistics 0 and 1 (torch's start, not the book's 0) built
    like the weight (gamma), not the bias, when the two differ; inference on one sample is fine."""
    layer = BatchNormalization(np.ones(3, dtype=gamma_dtype), np.zeros(3, dtype=beta_dtype))
    assert layer.eps == 1e-5 and layer.momentum == 0.9
    np.testing.assert_array_equal(layer.running_mean, np.zeros(3))
    np.testing.assert_array_equal(layer.running_var, np.ones(3))
    assert layer.running_mean.dtype == gamma_dtype and layer.running_var.dtype == gamma_dtype
    layer.forward(np.zeros((1, 3)), train_flg=False)


# --------------------------------------------------------------------------- Dropout


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("p", [0.0, 0.3, 0.5, 0.9])
def test_dropout_matches_torch_with_torchs_own_mask(torch: Any, p: float, dtype: Any) -> None:
    """torch's ``F.dropout`` draws the mask; given that mask, the layer is torch's dropout (the
    dropout cells judge it against the formula x * mask / (1 - p) with drawn masks)."""
    rng = np.random.default_rng(int(p * 10))
    x = (rng.uniform(0.5, 2.0, (4, 3, 5)) * rng.choice([-1.0, 1.0], (4, 3, 5))).astype(dtype)  # no zeros
    x.setflags(write=False)
    torch.manual_seed(int(p * 10))
    xt = torch.tensor(x.astype(np.float64), requires_grad=True)
    yt = torch.nn.functional.dropout(xt, p=p, training=True)
    mask = (yt != 0).numpy()  # the units torch kept
    dout = rng.standard_normal(x.shape).astype(dtype)
    dout.setflags(write=False)
    yt.backward(torch.tensor(dout.astype(np.float64)))
    layer = Dropout(p)
    out = layer.forward(x, train_flg=True, mask=mask)
    dx = layer.backward(dout)
    assert layer.mask is mask
    assert_close(out, yt.detach().numpy(), dtype, "out")
    assert_close(dx, xt.grad.numpy(), dtype, "dx")


def test_dropout_defaults_inference_and_rng() -> None:
    """The book's default p = 0.5 (kept units doubled); inference is the identity and draws no mask
    (``mask`` stays None until a training pass); ``rng`` is a seed or a Generator, reproducibly."""
    x = np.arange(1.0, 13.0, dtype=np.float32).reshape(3, 4)
    layer = Dropout(rng=42)
    assert layer.dropout_ratio == 0.5 and layer.mask is None
    out = layer.forward(x, train_flg=False)
    assert layer.mask is None and out.dtype == np.float32 and out is not x
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(layer.backward(x), x)
    out = layer.forward(x)
    mask = layer.mask
    assert mask is not None and mask.dtype == np.bool_ and mask.shape == x.shape
    np.testing.assert_array_equal(out, np.where(mask, x * np.float32(2.0), 0))
    again = Dropout(0.5, rng=np.random.default_rng(42))
    again.forward(x)
    np.testing.assert_array_equal(again.mask, mask)
    for many, kept in ((Dropout(rng=0), 0.5), (Dropout(0.25, rng=0), 0.75)):
        many.forward(np.ones((200, 500)))
        assert many.mask is not None and abs(many.mask.mean() - kept) < 0.01  # >= 6 standard deviations


def test_dropout_ratio_zero_keeps_a_draw_of_exactly_zero() -> None:
    """A unit is kept when its draw is >= p: random() can return exactly 0.0, and p = 0 drops nothing."""
    bits = np.random.MT19937()
    bits.state = {"bit_generator": "MT19937", "state": {"key": np.zeros(624, np.uint32), "pos": 0}}
    rng = np.random.Generator(bits)  # an all-zero Mersenne Twister state: every draw is 0.0
    assert rng.random() == 0.0
    x = np.arange(1.0, 7.0)
    layer = Dropout(0.0, rng=rng)
    np.testing.assert_array_equal(layer.forward(x), x)
    assert layer.mask is not None and layer.mask.all()


# --------------------------------------------------------------------------- SimpleConvNet


_CONV_KEYS = ("filter_num", "filter_size", "pad", "stride")


def _scn(**changes: Any) -> SimpleConvNet:
    """The small test network, with the given arguments (conv_param keys too) changed."""
    conv = {"filter_num": 2, "filter_size": 3, **{k: v for k, v in changes.items() if k in _CONV_KEYS}}
    kwargs = {"input_dim": (1, 6, 6), "hidden_size": 4, "output_size": 3, "rng": 0}
    kwargs.update({k: v for k, v in changes.items() if k not in _CONV_KEYS})
    return SimpleConvNet(conv_param=conv, **kwargs)


def test_simple_conv_net_shares_params_and_returns_copies() -> None:
    net = _scn()
    assert list(net.layers) == ["Conv1", "Relu1", "Pool1", "Affine1", "Relu2", "Affine2"]
    assert net.params["W1"].shape == (2, 1, 3, 3) and net.params["W2"].shape == (2 * 2 * 2, 4)
    for key, layer in (("W1", "Conv1"), ("b1", "Conv1"), ("W2", "Affine1"), ("b3", "Affine2")):
        assert getattr(net.layers[layer], key[0]) is net.params[key]
    x = np.random.default_rng(0).standard_normal((3, 1, 6, 6))
    t = np.array([0, 1, 2])
    before = {k: v.copy() for k, v in net.params.items()}
    g1 = net.gradient(x, t)
    for k, v in before.items():
        np.testing.assert_array_equal(net.params[k], v)  # gradient() does not train
    kept = {k: v.copy() for k, v in g1.items()}
    net.params["W1"] -= 0.1 * g1["W1"]  # in-place update: the layer sees it
    net.gradient(x, t)
    for k in g1:
        np.testing.assert_array_equal(g1[k], kept[k])  # the returned dict is not live
    assert 0.0 <= net.accuracy(x, t, batch_size=2) <= 1.0
    labels = np.argmax(net.predict(x), axis=1)
    assert net.accuracy(x, labels, batch_size=2) == 1.0  # the last partial batch counts
    assert net.accuracy(x, np.eye(3)[labels]) == 1.0  # one-hot labels


def test_simple_conv_net_defaults_are_the_books() -> None:
    net = SimpleConvNet(rng=0)
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {
        "W1": (30, 1, 5, 5),
        "b1": (30,),
        "W2": (4320, 100),
        "b2": (100,),
        "W3": (100, 10),
        "b3": (10,),
    }
    assert abs(float(np.std(net.params["W2"])) - 0.01) < 0.001


def test_simple_conv_net_accepts_the_smallest_legal_sizes() -> None:
    """Every size's minimum is legal: one filter of size 1, stride 1, no padding, one hidden unit, one
    class, and a 2x2 convolution output that pools to a single 1x1 pixel."""
    conv_param = {"filter_num": 1, "filter_size": 1, "pad": 0, "stride": 1}
    net = SimpleConvNet((1, 2, 2), conv_param, hidden_size=1, output_size=1, rng=0)
    shapes = {k: v.shape for k, v in net.params.items()}
    assert shapes == {"W1": (1, 1, 1, 1), "b1": (1,), "W2": (1, 1), "b2": (1,), "W3": (1, 1), "b3": (1,)}
    assert net.predict(np.ones((3, 1, 2, 2))).shape == (3, 1)


def test_simple_conv_net_rng_seeds_the_weights() -> None:
    """``rng`` is a seed or a Generator: the same seed gives the same weights, whichever form."""
    a, b, c = (_scn(rng=rng).params for rng in (7, 7, np.random.default_rng(7)))
    for k in a:
        np.testing.assert_array_equal(a[k], b[k])
        np.testing.assert_array_equal(a[k], c[k])
    assert not np.array_equal(a["W1"], _scn(rng=8).params["W1"])


# --------------------------------------------------------------------------- error messages


def _bn(**changes: Any) -> Callable[[], Any]:
    """A BatchNormalization of 3 channels built with the given constructor arguments changed."""
    return lambda: BatchNormalization(**{"gamma": np.ones(3), "beta": np.zeros(3), **changes})


def _sizes(where: str, make: Callable[..., Any], low: dict[str, int]) -> list[Any]:
    """Each size argument below its minimum (``low``), a float and a bool."""
    return [
        raising(f"{where.split('.')[0]}-{arg}={bad!r}", lambda arg=arg, bad=bad: make(**{arg: bad}), exc,
                where, *fields)
        for arg, least in low.items()
        for bad, exc, fields in [
            (least - 1, LayerError, (f"{arg} must be >= {least}", f"got {least - 1}")),
            (2.0, TypeError, (f"{arg} must be an integer", "got 2.0")),
            (True, TypeError, (f"{arg} must be an integer", "got True")),
        ]
    ]  # fmt: skip


# the messages the bad-input table (tests/test_bad_input.py) does not generate: wrong label counts,
# empty batches and complex input are rows there
ERRORS = [
    # im2col/col2im: one axis too small (5 rows fit a 3x3 window, 2 columns do not) is enough to fail
    raising("im2col", lambda: im2col(np.zeros((1, 1, 5, 2)), 3, 3), ValueError, "im2col",
            (1, 1, 5, 2), "padded by 0", (3, 3)),
    raising("col2im", lambda: col2im(np.zeros((3, 9)), (1, 1, 5, 2), 3, 3), ValueError, "im2col",
            (1, 1, 5, 2), "padded by 0", (3, 3)),
    # the expected b shape comes from W's first axis (FN)
    raising("Convolution-b-shape", lambda: Convolution(np.zeros((4, 3, 3, 3)), np.zeros(3)), LayerError,
            "Convolution.__init__", "b has shape (3,)", (4, 3, 3, 3), "expected b of shape (4,)"),
    # the padded size is H + 2*pad by W + 2*pad
    raising("Convolution-padded-too-small",
            lambda: Convolution(np.zeros((2, 1, 5, 4)), np.zeros(2), pad=1).forward(np.zeros((1, 1, 2, 6))),
            LayerError, "Convolution.forward", (1, 1, 2, 6), "padded by 1", (4, 8), (5, 4), (2, 1, 5, 4)),
    *_sizes("Convolution.__init__", lambda **kw: Convolution(np.zeros((4, 3, 3, 3)), np.zeros(4), **kw),
            {"stride": 1, "pad": 0}),
    *_sizes("Pooling.__init__", lambda **kw: Pooling(**{"pool_h": 2, "pool_w": 2, **kw}),
            {"pool_h": 1, "pool_w": 1, "stride": 1, "pad": 0}),
    raising("Pooling-pad>half", lambda: Pooling(3, 4, stride=1, pad=2), LayerError, "Pooling.__init__",
            "pad=2", (3, 4), "min(pool_h, pool_w) // 2"),
    *(raising(f"BatchNormalization-{id}", _bn(**changes), exc, "BatchNormalization.__init__", *fields)
      for id, changes, exc, fields in [
        ("gamma-2d", {"gamma": np.ones((2, 3)), "beta": np.zeros((2, 3))}, LayerError,
         ("gamma has shape (2, 3)", "(C,)")),
        ("gamma-empty", {"gamma": np.ones(0), "beta": np.zeros(0)}, LayerError,
         ("gamma has shape (0,)", "C >= 1")),
        ("beta-shape", {"beta": np.zeros(4)}, LayerError, ("beta has shape (4,)", (3,))),
        ("momentum<0", {"momentum": -0.1}, LayerError, ("momentum must be in [0, 1]", "got -0.1")),
        ("momentum>1", {"momentum": 1.5}, LayerError, ("momentum must be in [0, 1]", "got 1.5")),
        ("eps<0", {"eps": -1e-5}, LayerError, ("eps must be >= 0", "got -1e-05")),
        ("eps-nan", {"eps": float("nan")}, LayerError, ("eps must be >= 0", "got nan")),
    ]),
    *(raising(f"BatchNormalization-{k}-{id}", _bn(**{k: bad}), exc, "BatchNormalization.__init__", *fields)
      for k in ("running_mean", "running_var")
      for id, bad, exc, fields in [
        ("shape", np.ones(2), LayerError, (f"{k} has shape (2,)", "gamma has shape (3,)")),
        ("complex", np.ones(3, complex), TypeError, (f"{k} has dtype complex128",)),
    ]),
    # a book user's (N, C*H*W) input is told why it fails: statistics are per channel, as torch
    raising("BatchNormalization-flattened", lambda: _bn()().forward(np.zeros((2, 12))), LayerError,
            "BatchNormalization.forward", (2, 12), (3,),
            "per axis-1 channel (torch), not per flattened C*H*W feature (book)"),
    *(raising(f"Dropout-ratio={bad}", lambda bad=bad: Dropout(bad), LayerError, "Dropout.__init__",
              "dropout_ratio must be in [0, 1)", bad) for bad in (-0.1, 1.0, float("nan"))),
    raising("SimpleConvNet-unknown-key", lambda: SimpleConvNet((1, 6, 6), {"filter_nums": 2}), LayerError,
            "SimpleConvNet.__init__", "unknown conv_param keys", "filter_nums"),
    raising("SimpleConvNet-input_dim-2d", lambda: SimpleConvNet((1, 6), rng=0), LayerError,
            "SimpleConvNet.__init__", "input_dim (1, 6)", "(C, H, W)"),
    # the default conv_param (stride 1) with a 5x5 filter does not fit a 4x4 image
    raising("SimpleConvNet-defaults-too-big", lambda: SimpleConvNet((1, 4, 4), {"filter_size": 5, "pad": 0}),
            LayerError, "SimpleConvNet.__init__", "input_dim (1, 4, 4)"),
    raising("SimpleConvNet-predict", lambda: _scn().predict(np.zeros((2, 1, 6))), LayerError,
            "SimpleConvNet.predict", (2, 1, 6), "(N, 1, 6, 6)"),
    raising("SimpleConvNet-accuracy-0d", lambda: _scn().accuracy(np.float64(1.0), 0), LayerError,
            "SimpleConvNet.accuracy", "x has shape ()", "t has shape ()", "at least one example"),
    *_sizes("SimpleConvNet.__init__", _scn, {"filter_num": 1, "filter_size": 1, "stride": 1, "pad": 0,
                                             "hidden_size": 1, "output_size": 1}),
    *_sizes("SimpleConvNet.__init__", lambda input_dim: _scn(input_dim=(1, 6, input_dim)), {"input_dim": 1}),
    # one side of the convolution output too small for the 2x2 pooling is enough to fail
    raising("SimpleConvNet-narrow", lambda: _scn(input_dim=(1, 6, 3)), LayerError, "SimpleConvNet.__init__",
            "input_dim (1, 6, 3)", (4, 1), "too small for the 2x2 pooling"),
    raising("SimpleConvNet-short", lambda: _scn(input_dim=(1, 3, 6)), LayerError, "SimpleConvNet.__init__",
            "input_dim (1, 3, 6)", (1, 4), "too small for the 2x2 pooling"),
]  # fmt: skip


@pytest.mark.parametrize(("call", "exc", "where", "fields"), ERRORS)
def test_errors_name_the_argument(
    call: Callable[[], Any], exc: type[Exception], where: str, fields: tuple[Any, ...]
) -> None:
    """Bad arguments raise (LayerError; TypeError for a non-integer size or a complex array) with a
    message that starts with ``<Class>.<method>:`` and names the argument and its value or the shapes."""
    with raises_naming(exc, where, *fields):
        call()
