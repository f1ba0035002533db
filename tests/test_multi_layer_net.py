"""Book 1's chapter-6 networks: impl's MultiLayerNet / MultiLayerNetExtend, the book's own code
(tests/zoo/textbook_nets.py) through ``crosscheck check``, and planted bugs (tests/zoo/broken_nets.py).

The generic cells of impl's nets run in tests/test_properties.py, from the registry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from layer_crosscheck.impl import LayerError, MultiLayerNet, MultiLayerNetExtend
from layer_crosscheck.properties import check_layer, get_spec, property_named
from layer_crosscheck.properties.engine.explore import Options, run_cell
from layer_crosscheck.properties.engine.matrix import Cell
from layer_crosscheck.reference import get_reference
from tests.helpers import crosscheck, installed
from tests.zoo import broken_nets as B

ZOO = Path(__file__).resolve().parent / "zoo"
FD = ["--reference", "fd", "--seed", "1234", "--shrink-time", "1", "-q", "--examples", "8"]


def _batch(n: int, d: int, c: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, d)), np.eye(c)[rng.integers(0, c, n)]


# ---- impl -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_gradient_matches_numerical_gradient(activation: str) -> None:
    """impl's own two gradients agree, the weight decay and (under one seed) dropout included;
    parameters moved off their initial values (zero biases put a dead ReLU row on a kink)."""
    x, t = _batch(5, 4, 3)
    nets = [
        MultiLayerNet(4, [3, 5], 3, activation, weight_decay_lambda=0.1, rng=1),
        MultiLayerNetExtend(4, [3, 5], 3, activation, "he", 0.1, True, 0.3, True, rng=2),
    ]
    rng = np.random.default_rng(3)
    for net in nets:
        for p in net.params.values():
            p += 0.5 * rng.standard_normal(p.shape)  # in place: the layers hold the same arrays
        np.random.seed(7)  # noqa: NPY002 - the RNG the book's dropout draws from
        exact = net.gradient(x, t)
        np.random.seed(7)  # noqa: NPY002
        numeric = net.numerical_gradient(x, t)
        assert sorted(exact) == sorted(numeric) == sorted(net.params)
        for key in exact:
            np.testing.assert_allclose(exact[key], numeric[key], rtol=1e-5, atol=1e-6, err_msg=key)


def test_weight_decay_in_loss_and_gradient() -> None:
    x, t = _batch(4, 3, 2)
    plain, decayed = (MultiLayerNet(3, [4], 2, weight_decay_lambda=lam, rng=0) for lam in (0.0, 0.3))
    penalty = 0.5 * 0.3 * sum(np.sum(decayed.params[w] ** 2) for w in ("W1", "W2"))
    assert decayed.loss(x, t) == pytest.approx(plain.loss(x, t) + penalty, rel=1e-12)
    diff = decayed.gradient(x, t)["W2"] - plain.gradient(x, t)["W2"]
    np.testing.assert_allclose(diff, 0.3 * decayed.params["W2"], rtol=1e-12)


def test_extend_params_and_modes_float32() -> None:
    """gamma/beta params per hidden layer; float32 in, float32 out; test mode is deterministic
    (the book's dropout scales by 1 - p) and leaves NumPy's RNG alone."""
    net = MultiLayerNetExtend(3, [4, 2], 2, "relu", 0.1, 0.0, True, 0.5, True, rng=0, dtype=np.float32)
    assert list(net.params) == ["W1", "b1", "W2", "b2", "W3", "b3", "gamma1", "beta1", "gamma2", "beta2"]
    x, t = (a.astype(np.float32) for a in _batch(4, 3, 2))
    state = np.random.get_state()  # noqa: NPY002
    assert net.loss(x, t) == net.loss(x, t)
    assert np.array_equal(np.random.get_state()[1], state[1])  # noqa: NPY002
    assert np.asarray(net.loss(x, t, train_flg=True)).dtype == np.float32
    assert all(g.dtype == np.float32 for g in net.gradient(x, t).values())
    assert 0.0 <= net.accuracy(x, t) <= 1.0


def test_bad_arguments_are_named() -> None:
    with pytest.raises(LayerError, match=r"MultiLayerNet\.__init__: activation must be"):
        MultiLayerNet(3, [4], 2, "tanh")
    with pytest.raises(LayerError, match="weight_init_std must be"):
        MultiLayerNet(3, [4], 2, "relu", "gauss")
    with pytest.raises(LayerError, match=r"MultiLayerNet.predict: x has shape \(2, 5\)"):
        MultiLayerNet(3, [4], 2, rng=0).predict(np.ones((2, 5)))


@pytest.mark.parametrize("cls", [MultiLayerNet, MultiLayerNetExtend])
@pytest.mark.parametrize(
    ("weight_init_std", "var"), [("relu", 2.0), ("he", 2.0), ("sigmoid", 1.0), ("xavier", 1.0)]
)
def test_initial_weights_have_the_book_s_scale(cls: type, weight_init_std: str, var: float) -> None:
    """He's sqrt(2 / fan_in) and Xavier's sqrt(1 / fan_in): the sample standard deviation of W1's
    40,000 and W2's 5,000 weights is within 2 % of it (their own spread: 0.35 % and 1 %; the seed
    is fixed); the biases start at 0."""
    net = cls(400, [100], 50, weight_init_std=weight_init_std, rng=0)
    for key, fan_in in (("W1", 400), ("W2", 100)):
        assert net.params[key].std() == pytest.approx(np.sqrt(var / fan_in), rel=0.02), key
    assert not net.params["b1"].any() and not net.params["b2"].any()
    given = MultiLayerNet(400, [100], 50, weight_init_std=0.01, rng=0).params["W1"]
    assert given.std() == pytest.approx(0.01, rel=0.02)


# ---- the book's code, as a learner checks it -------------------------------------------------------


@pytest.mark.parametrize(("name", "spec"), [("MultiLayerNet", "multi_layer_net"),
                                            ("MultiLayerNetExtend", "multi_layer_net_extend")])  # fmt: skip
def test_book_net_passes_check(capsys: pytest.CaptureFixture[str], name: str, spec: str) -> None:
    """``crosscheck check file.py:MultiLayerNet --as multi_layer_net`` on the book's code (its
    dropout drawing its own masks from np.random): exit 0."""
    ran = crosscheck(capsys, "check", f"{ZOO / 'textbook_nets.py'}:{name}", "--as", spec, *FD)
    assert ran.code == 0, ran.out
    assert f"{name} agrees with spec {spec}" in ran.out


# ---- planted bugs ----------------------------------------------------------------------------------

PLANTED = [
    (B.MultiLayerNetNoDecayGradient, "multi_layer_net", "dW"),
    (B.MultiLayerNetExtendNoDecayGradient, "multi_layer_net_extend", "dW"),
    (B.MultiLayerNetExtendGammaGradAveraged, "multi_layer_net_extend", "dgamma"),
    (B.MultiLayerNetExtendDropoutIgnoredInBackward, "multi_layer_net_extend", "d"),
]


def _cell(spec: str, prop: str, ref: str) -> Cell:
    return Cell(get_spec(spec), property_named(prop), ref, np.float64)


@pytest.mark.parametrize(("cls", "spec", "says"), PLANTED, ids=[p[0].__name__ for p in PLANTED])
def test_planted_bug_rejected_by_finite_differences(cls: type, spec: str, says: str) -> None:
    result = run_cell(_cell(spec, "fd", "fd"), cls, Options(40, seed=0, shrink_seconds=0, fp="record"))
    assert not result.ok, f"fd accepted {cls.__name__}"
    assert "vs finite differences" in result.message, result.message


@pytest.mark.parametrize(
    ("cls", "spec", "says"),
    [pytest.param(*p, id=p[0].__name__, marks=installed(_cell(p[1], "vjp", "torch"))) for p in PLANTED],
)
def test_planted_bug_rejected_by_torch(cls: type, spec: str, says: str) -> None:
    result = run_cell(_cell(spec, "vjp", "torch"), cls, Options(20, seed=0, shrink_seconds=0, fp="record"))
    assert not result.ok, f"vjp vs torch accepted {cls.__name__}"
    assert f"{spec} {says}" in result.message and "vs torch" in result.message, result.message


def test_planted_bug_via_cli(capsys: pytest.CaptureFixture[str]) -> None:
    ran = crosscheck(
        capsys,
        "check",
        f"{ZOO / 'broken_nets.py'}:MultiLayerNetNoDecayGradient",
        "--as",
        "multi_layer_net",
        *FD,
    )
    assert ran.code == 1, ran.out
    assert "MultiLayerNetNoDecayGradient DISAGREES with spec multi_layer_net" in ran.out


class TorchEpsNet(MultiLayerNetExtend):
    """Right, with torch's batch-norm eps 1e-5 instead of the book's 1e-6: a named convention."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, bn_eps=1e-5, **kwargs)


def test_other_batch_norm_eps_is_a_named_convention() -> None:
    if reason := get_reference("torch").unavailable():
        pytest.skip(reason)
    run = check_layer(TorchEpsNet, "multi_layer_net_extend", references=("torch",), examples=8, seed=0)
    assert not run.ok
    assert run.convention is not None and "--set eps=1e-05" in run.convention, run.convention
