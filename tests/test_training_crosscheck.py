"""TwoLayerNet and SimpleConvNet trained in NumPy and in PyTorch agree step by step (see
examples/training_crosscheck.py, which prints the same comparison for longer runs).

Five steps on real MNIST digits from the same weights, with each optimizer, in float64 and
float32. The tolerance is ``derived_bound``: the harness's gradient tolerance
(``properties.engine.tolerances.exact_rtol``) propagated through the optimizer's update, growing with the
steps. In float64 it is asserted as is, and shown to catch optimizer hyperparameters off by one
part in a million. In float32 it is asserted too, but for AdaGrad and Adam it is vacuous: with
eps = 1e-10 (1e-8) an entry whose gradient is at float32's rounding level is stepped by
``g/eps``, i.e. by its rounding, so float32 runs of either framework drift apart at once (the
example's table: torch float32 itself is as far from torch float64). So float32 must also be
*as accurate as torch*: NumPy's float32 weights no farther from the float64 torch run than
torch's float32 weights are, within a factor 4 (the randomness of rounding).
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np
import pytest

from examples import training_crosscheck as example
from layer_crosscheck.impl import SGD, AdaGrad, Adam, Momentum
from layer_crosscheck.properties.engine.tolerances import rounding_rtol
from layer_crosscheck.properties.mnist import MnistUnavailable

torch = pytest.importorskip("torch")


CONFIG = example.Config(steps=5, batch_size=20, hidden=16, filter_num=4)
CASES = [(m, o) for m in example.MODELS for o in example.OPTIMIZERS]
AS_ACCURATE_AS_TORCH = 4.0


@functools.cache
def _data(flatten: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    try:
        return example.batches(CONFIG, flatten=flatten)
    except MnistUnavailable as exc:
        pytest.skip(f"no MNIST digits to train on: {exc}")


@functools.cache
def _run(model: str, optimizer: str, dtype: Any) -> Any:
    return example.train_both(torch, model, optimizer, dtype, CONFIG, _data(model == "TwoLayerNet"))


def _assert_within(run: Any, what: str) -> None:
    bound = example.derived_bound(run, CONFIG)
    for k, (diff, allowed) in enumerate(zip(run.loss_diffs, bound.losses, strict=True)):
        assert diff <= allowed, f"{what}: loss at step {k + 1} differs by {diff:.3g} > {allowed:.3g}"
    for p, diff in run.weight_diff().items():
        allowed = bound.weights[-1][p]
        assert diff <= allowed, (
            f"{what}: {p} after {CONFIG.steps} steps differs by {diff:.3g} > {allowed:.3g}"
        )


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize(("model", "optimizer"), CASES)
def test_training_agrees_within_the_derived_bound(model: str, optimizer: str, dtype: Any) -> None:
    """And in float32, NumPy is as accurate as torch."""
    run = _run(model, optimizer, dtype)
    assert all(w.dtype == dtype for w in run.numpy_weights.values())
    _assert_within(run, f"{model} {optimizer} {np.dtype(dtype).name}")
    if dtype is np.float64:
        return
    truth = _run(model, optimizer, np.float64).torch_weights
    ours = example.truth_distance(run.numpy_weights, truth)
    theirs = example.truth_distance(run.torch_weights, truth)
    floor = rounding_rtol(np.float32, CONFIG.steps)
    assert ours <= AS_ACCURATE_AS_TORCH * theirs + floor, (
        f"{model} {optimizer}: NumPy float32 ends {ours:.3g} (relative) from the float64 run, "
        f"torch float32 {theirs:.3g}"
    )


# the optimizer, off by one part in a million (or with the book's eps): the float64 bound sees it
PLANTED = {
    "SGD": lambda c: SGD(c.lr["SGD"] * (1 + 1e-6)),
    "Momentum": lambda c: Momentum(c.lr["Momentum"], c.momentum * (1 + 1e-6)),
    "AdaGrad": lambda c: AdaGrad(c.lr["AdaGrad"], eps=1e-7),
    "Adam": lambda c: Adam(c.lr["Adam"], *c.adam_betas, eps=1e-7),
}


@pytest.mark.parametrize("optimizer", example.OPTIMIZERS)
def test_the_float64_bound_catches_a_slightly_wrong_optimizer(
    optimizer: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(example, "numpy_optimizer", lambda name, config: PLANTED[name](config))
    run = example.train_both(torch, "TwoLayerNet", optimizer, np.float64, CONFIG, _data(True))
    with pytest.raises(AssertionError, match="differs by"):
        _assert_within(run, f"planted {optimizer}")
