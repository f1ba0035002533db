"""Interfaces learners really write are bound, not refused (issue 18): the training flag under
another name or by position, constructor parameters named otherwise, an empty ``grads`` list
beside ``dgamma``/``dbeta`` (tests/zoo/learner_interfaces.py), book 2's optimizers on lists
(tests/zoo/book2_optim.py), files with package-relative imports (tests/zoo/learner_pkg/). The
correct classes pass (exit 0), the planted bugs get a named verdict (exit 1, DISAGREES), never
exit 2. A refusal that remains names what it tried (tests/test_conventions.py)."""

from __future__ import annotations

import inspect
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

from layer_crosscheck.properties.engine.binding import bind_names
from layer_crosscheck.properties.engine.drivers import OptimizerDriver
from layer_crosscheck.properties.engine.registry import get_spec
from layer_crosscheck.properties.engine.tolerances import rounding_rtol
from layer_crosscheck.properties.frontends.loader import load_target
from tests.helpers import Ran, crosscheck, needs
from tests.zoo import book2_optim

ZOO = Path(__file__).resolve().parent / "zoo"
LEARNERS = ZOO / "learner_interfaces.py"
BOOK2 = ZOO / "book2_optim.py"
RUN = ["--reference", "torch", "--examples", "4", "--seed", "1234", "--shrink-time", "0", "-q"]
needs_torch = needs("torch", "judged against torch")


def verdict(capsys: pytest.CaptureFixture[str], target: str, spec: str, run: list[str], agrees: bool) -> Ran:
    """``crosscheck check target --as spec``: exit 0 and "agrees", or exit 1 and "DISAGREES"."""
    cls = target.rpartition(":")[2]
    ran = crosscheck(capsys, "check", target, "--as", spec, *run)
    assert ran.code == (0 if agrees else 1), ran.out + ran.err
    assert ran.first.startswith(f"{cls} {'agrees' if agrees else 'DISAGREES'} with spec {spec}"), ran.first
    return ran


@needs_torch
@pytest.mark.parametrize(
    ("cls", "spec"),
    [
        ("BatchNormTrain", "batch_norm"),  # forward(x, train=True)
        ("BatchNormTrainFlag", "batch_norm"),  # forward(x, train_flag=True)
        ("BatchNormIsTrain", "batch_norm"),  # forward(x, is_train): by position
        ("BatchNormIsTrain", "batch_norm_eval"),  # ... and False by position
        ("BatchNormEmptyGrads", "batch_norm"),  # grads == [] beside dgamma, dbeta
        ("Pooling", "pooling"),  # Pooling(pool_height, pool_width, stride, pad)
        ("DropoutIsTraining", "dropout_book"),  # forward(x, is_training=True), its own mask
        ("DropoutP", "dropout_book"),  # Dropout(p)
    ],
)
def test_a_correct_class_with_a_learners_interface_passes(
    capsys: pytest.CaptureFixture[str], cls: str, spec: str
) -> None:
    verdict(capsys, f"{LEARNERS}:{cls}", spec, RUN, agrees=True)


@needs_torch
@pytest.mark.parametrize(
    ("cls", "spec", "words"),
    [
        ("BatchNormTrainNoCentering", "batch_norm", "batch_norm dx vs torch"),
        ("BatchNormEmptyGradsSwapped", "batch_norm", "batch_norm dgamma vs torch"),
        ("PoolingOverwritesOverlaps", "pooling", "pooling dx vs torch"),
    ],
)
def test_a_planted_bug_behind_a_learners_interface_disagrees(
    capsys: pytest.CaptureFixture[str], cls: str, spec: str, words: str
) -> None:
    assert words in verdict(capsys, f"{LEARNERS}:{cls}", spec, RUN, agrees=False).out


def _sig(text: str) -> inspect.Signature:
    namespace: dict[str, object] = {}
    exec(f"def f{text}: pass", namespace)  # a signature as a learner writes it
    return inspect.signature(namespace["f"])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("signature", "given", "kwargs", "slots", "bound"),
    [
        ("(x, train_flg=True)", 1, {"train_flg": True}, {"train_flg": 1}, {"train_flg": True}),
        ("(x, training=True)", 1, {"train_flg": False}, {"train_flg": 1}, {"training": False}),
        ("(x, is_train)", 1, {"train_flg": True}, {"train_flg": 1}, {"is_train": True}),
        # a slot whose default is of another kind is not taken, nor any slot of a **kwargs signature
        ("(x, t=0.5, **kw)", 1, {"train_flg": True}, {"train_flg": 1}, {"train_flg": True}),
        ("(x, t=None, **kw)", 1, {"train_flg": True}, {"train_flg": 1}, {"train_flg": True}),
        ("(x, train=True, **kw)", 1, {"train_flg": False}, {"train_flg": 1}, {"train": False}),
        ("(x, t=0.5)", 1, {"train_flg": True}, {"train_flg": 1}, {"train_flg": True}),
        # names that fit stay; the others go to their place in the book's order
        (
            "(ph, pw, stride=1, pad=0)",
            0,
            {"pool_h": 2, "pool_w": 3, "stride": 1, "pad": 0},
            {"pool_h": 0, "pool_w": 1, "stride": 2, "pad": 3},
            {"ph": 2, "pw": 3, "stride": 1, "pad": 0},
        ),
        # a parameter the spec names itself is never a slot for another name
        ("(pad, stride)", 0, {"stride": 2, "pad": 1, "k": 3}, {"k": 0}, {"stride": 2, "pad": 1, "k": 3}),
    ],
)
def test_bind_names(
    signature: str, given: int, kwargs: dict[str, object], slots: dict[str, int], bound: dict[str, object]
) -> None:
    assert bind_names(_sig(signature), given, kwargs, slots) == bound


OPTIM_RUN = ["--reference", "torch", "--examples", "15", "--seed", "0", "-q"]


@needs_torch
@pytest.mark.parametrize(
    ("cls", "spec"), [("SGD", "sgd"), ("Momentum", "momentum"), ("AdaGrad", "adagrad"), ("Adam", "adam")]
)
def test_book2s_optimizers_on_lists_pass(capsys: pytest.CaptureFixture[str], cls: str, spec: str) -> None:
    verdict(capsys, f"{BOOK2}:{cls}", spec, ["--dtype", "float64,float32", *OPTIM_RUN], agrees=True)


@needs_torch
@pytest.mark.parametrize(
    ("cls", "spec", "words"),
    [
        # not Nesterov momentum (torch's nesterov=True) and no other known form: it departs at once
        ("Nesterov", "nesterov", r"nesterov departs from torch\.optim at step 1 of \d+, param '\w+'"),
        (
            "SGDRebinds",
            "sgd",
            re.escape("SGDRebinds.update rebinds params[0] ('x') to a new array at step 1"),
        ),
    ],
)
def test_book2_optimizer_bugs_get_a_named_verdict(
    capsys: pytest.CaptureFixture[str], cls: str, spec: str, words: str
) -> None:
    ran = verdict(capsys, f"{BOOK2}:{cls}", spec, OPTIM_RUN, agrees=False)
    assert re.search(words, ran.out), ran.out
    assert "follows" not in ran.out  # no convention is claimed for it


def test_book2s_nesterov_moves_by_one_plus_m_plus_m_squared_at_step_1() -> None:
    """What the departure is: book 2 adds m*m*v with the velocity already updated, so its first
    step is (1 + m + m**2)*lr*g where Nesterov momentum's is (1 + m)*lr*g."""
    lr, m = 0.1, 0.9
    p, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    params = [p.copy()]
    book2_optim.Nesterov(lr, m).update(params, [g])
    np.testing.assert_allclose(params[0], p - (1 + m + m**2) * lr * g, rtol=rounding_rtol(np.float64))


class _DictSGDWithATypeError:
    """Book 1's SGD with a TypeError of its own: tried on lists, yet reported as what it raised on dicts."""

    def __init__(self, lr: float = 0.01) -> None:
        self.lr = lr

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        for key in params.keys():  # noqa: SIM118 - the book's own loop
            params[key] -= self.lr * grads[key] + None  # type: ignore[operator]


class _ListSGDOffByOne(book2_optim.SGD):
    """Book 2's SGD reading the next parameter's gradient: KeyError: 1 on dicts, IndexError on lists."""

    def update(self, params: list[np.ndarray], grads: list[np.ndarray]) -> None:
        for i in range(len(params)):
            params[i] -= self.lr * grads[i + 1]


@pytest.mark.parametrize(
    ("cls", "raised"),
    [(_DictSGDWithATypeError, TypeError), (_ListSGDOffByOne, IndexError)],
)
def test_an_optimizer_raising_on_dicts_and_lists_reports_the_form_it_indexes_by(
    cls: type, raised: type[Exception]
) -> None:
    case = {"x": np.array([1.0, 2.0]), "x@1": np.array([0.5, -0.5]), "lr": np.asarray(0.1)}
    with pytest.raises(raised):
        OptimizerDriver(get_spec("sgd")).trajectory(cls, case, np.float64)


@needs_torch
@pytest.mark.parametrize(
    ("target", "agrees"),
    [
        ("relnet/layers.py:Sigmoid", True),
        ("relnet/layers.py:SigmoidForgetsOneMinus", False),
        ("relns/layers.py:Sigmoid", True),  # a namespace package
    ],
)
def test_a_file_with_package_relative_imports_is_loaded_as_a_module_of_its_package(
    capsys: pytest.CaptureFixture[str], target: str, agrees: bool
) -> None:
    verdict(capsys, str(ZOO / "learner_pkg" / target), "sigmoid", RUN, agrees)


def test_the_package_module_is_its_file_and_sys_path_is_restored() -> None:
    path = ZOO / "learner_pkg" / "relnet" / "layers.py"
    saved = list(sys.path)
    cls = load_target(f"{path}:Sigmoid")
    assert sys.path == saved
    assert cls.__module__ == "relnet.layers"
    assert Path(sys.modules["relnet.layers"].__file__ or "").resolve() == path
    assert load_target(f"{path}:Sigmoid") is cls  # loaded once


def test_list_documents_every_calling_form_a_spec_accepts(capsys: pytest.CaptureFixture[str]) -> None:
    listed = crosscheck(capsys, "list")
    assert listed.code == 0
    for line in [
        "    calls (what the class must accept):",
        "      Pooling(pool_h=..., pool_w=..., stride=..., pad=...)",
        "      a keyword the constructor lacks: the positional parameter in its place in "
        "(pool_h, pool_w, stride, pad)",
        "      forward(x, train_flg=False)",
        "      train_flg also as train_flag=, train=, is_train=, training=, is_training=, train_mode= or a "
        "positional parameter after x",
        "      parameter gradients: a non-empty grads list in the order gamma, beta (book 2), "
        "else attributes dgamma, dbeta (book 1)",
    ]:
        assert f"\n{line}\n" in listed.out, line
    described = {d["name"]: d for d in json.loads(crosscheck(capsys, "list", "--format", "json").out)}
    assert any("as lists in the parameters' order" in c for c in described["sgd"]["calls"])
    assert described["affine"]["calls"][:3] == ["Affine(W, b)", "forward(x)", "backward(dout) -> dx"]
