"""SGD, Momentum, AdaGrad and Adam against torch.optim, step by step, with the same hyperparameters;
the book's forms, dtypes and hyperparameter checks (these run without torch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from layer_crosscheck.impl.optimizers import SGD, AdaGrad, Adam, Momentum
from layer_crosscheck.properties.engine.tolerances import exact_rtol
from tests.helpers import raises_naming


@pytest.fixture
def torch() -> Any:
    """torch, or a visible skip for the tests that compare with torch.optim."""
    return pytest.importorskip("torch")


SHAPES = {"W": (3, 4), "b": (4,), "gamma": (2, 1, 3)}
STEPS = 20

#: (our optimizer, its arguments, the torch.optim class, the same hyperparameters in torch's words)
CASES: dict[str, tuple[type, dict[str, Any], str, dict[str, Any]]] = {
    "SGD": (SGD, {}, "SGD", {"lr": 0.01}),
    "SGD-lr": (SGD, {"lr": 0.3}, "SGD", {"lr": 0.3}),
    "Momentum": (Momentum, {}, "SGD", {"lr": 0.01, "momentum": 0.9}),
    "Momentum-0.5": (Momentum, {"lr": 0.2, "momentum": 0.5}, "SGD", {"lr": 0.2, "momentum": 0.5}),
    "AdaGrad": (AdaGrad, {}, "Adagrad", {"lr": 0.01}),
    "AdaGrad-book-eps": (AdaGrad, {"lr": 0.5, "eps": 1e-7}, "Adagrad", {"lr": 0.5, "eps": 1e-7}),
    "Adam": (Adam, {}, "Adam", {}),
    "Adam-custom": (
        Adam,
        {"lr": 0.05, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6},
        "Adam",
        {"lr": 0.05, "betas": (0.8, 0.99), "eps": 1e-6},
    ),
}


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", list(CASES))
def test_matches_torch_optim_and_keeps_dtype(torch: Any, case: str, dtype: Any) -> None:
    """Drive both optimizers with the same random gradients; compare parameters after every step."""
    ours_class, ours_args, torch_class, torch_args = CASES[case]
    rng = np.random.default_rng(len(case))
    params = {k: rng.standard_normal(s).astype(dtype) for k, s in SHAPES.items()}
    originals = dict(params)
    tparams = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}  # same dtype as ours
    ours = ours_class(**ours_args)
    theirs = getattr(torch.optim, torch_class)(list(tparams.values()), **torch_args)
    rtol = exact_rtol(dtype)
    for step in range(STEPS):
        # gradients of mixed sizes, a zero and a tiny one, read-only: the optimizer only reads them
        grads = {
            k: (rng.standard_normal(s) * 10.0 ** rng.integers(-3, 2)).astype(dtype) for k, s in SHAPES.items()
        }
        grads["b"][0] = 0.0
        for g in grads.values():
            g.setflags(write=False)
        for k, t in tparams.items():
            t.grad = torch.tensor(grads[k])
        theirs.step()
        ours.update(params, grads)
        for k, p in params.items():
            assert p is originals[k], "update must work in place"
            assert p.dtype == dtype, f"{case}: {k} became {p.dtype}"
            expected = tparams[k].detach().numpy()
            scale = float(np.max(np.abs(expected)))
            np.testing.assert_allclose(
                p, expected, rtol=rtol, atol=rtol * scale, err_msg=f"{case}: {k} after step {step + 1}"
            )


def test_float32_params_stay_float32_with_float64_grads() -> None:
    for opt in (SGD(), Momentum(), AdaGrad(), Adam()):
        params = {"W": np.ones((2, 2), dtype=np.float32)}
        for _ in range(3):
            opt.update(params, {"W": np.full((2, 2), 0.5)})
        assert params["W"].dtype == np.float32, type(opt).__name__
        for state in vars(opt).values():
            if isinstance(state, dict):
                assert all(s.dtype == np.float32 for s in state.values()), type(opt).__name__


def test_book_momentum_is_torch_momentum_for_constant_lr() -> None:
    """The book's ``v = m*v - lr*g; p += v`` equals ``b = m*b + g; p -= lr*b`` (``v == -lr*b``)."""
    rng = np.random.default_rng(0)
    lr, m = 0.05, 0.9
    p_book = rng.standard_normal(5)
    params = {"p": p_book.copy()}
    v = np.zeros(5)
    opt = Momentum(lr=lr, momentum=m)
    for _ in range(STEPS):
        g = rng.standard_normal(5)
        v = m * v - lr * g
        p_book = p_book + v
        opt.update(params, {"p": g})
        np.testing.assert_allclose(v, -lr * opt.momentum_buffer["p"], rtol=exact_rtol(np.float64))
    np.testing.assert_allclose(params["p"], p_book, rtol=exact_rtol(np.float64))


def test_book_adam_is_torch_adam_with_a_step_dependent_eps() -> None:
    """The book's ``lr_t * m / (sqrt(v) + 1e-7)`` is ours with ``eps = 1e-7 / sqrt(1 - b2**t)``."""
    rng = np.random.default_rng(1)
    lr, b1, b2 = 0.01, 0.9, 0.999
    p_book = rng.standard_normal(5)
    params = {"p": p_book.copy()}
    m, v = np.zeros(5), np.zeros(5)
    opt = Adam(lr=lr, beta1=b1, beta2=b2)
    for t in range(1, STEPS + 1):
        g = rng.standard_normal(5) * 1e-3  # small: the eps term matters
        lr_t = lr * np.sqrt(1.0 - b2**t) / (1.0 - b1**t)
        m += (1 - b1) * (g - m)
        v += (1 - b2) * (g**2 - v)
        p_book -= lr_t * m / (np.sqrt(v) + 1e-7)
        opt.eps = 1e-7 / np.sqrt(1.0 - b2**t)
        opt.update(params, {"p": g})
        np.testing.assert_allclose(params["p"], p_book, rtol=exact_rtol(np.float64))


#: (class, parameter, a value out of range, the range its message names)
BAD_HYPERPARAMETERS = [
    (SGD, "lr", -1.0, ">= 0.0"),
    (Momentum, "lr", -1.0, ">= 0.0"),
    (Momentum, "momentum", -0.5, ">= 0.0"),
    (AdaGrad, "lr", -1.0, ">= 0.0"),
    (AdaGrad, "eps", -1e-3, ">= 0.0"),
    (Adam, "lr", -1.0, ">= 0.0"),
    (Adam, "beta1", -0.1, "[0.0, 1.0)"),
    (Adam, "beta1", 1.0, "[0.0, 1.0)"),
    (Adam, "beta2", 1.0, "[0.0, 1.0)"),
    (Adam, "eps", -1e-3, ">= 0.0"),
]


@pytest.mark.parametrize(
    ("cls", "name", "value", "bound"),
    BAD_HYPERPARAMETERS,
    ids=[f"{c.__name__}-{n}={v}" for c, n, v, _ in BAD_HYPERPARAMETERS],
)
def test_bad_hyperparameter_message(cls: type, name: str, value: float, bound: str) -> None:
    """Out of range is an error naming the class, the parameter, its range and the value; a beta of
    1.0 is out (Adam divides by 1 - beta**t)."""
    with raises_naming(ValueError, cls.__name__, f"{name} must be {bound}", f"got {value}"):
        cls(**{name: value})


@pytest.mark.parametrize(
    "make",
    [
        lambda: SGD(lr=0.0),
        lambda: Momentum(lr=0.0, momentum=0.0),
        lambda: AdaGrad(lr=0.0, eps=0.0),
        lambda: Adam(lr=0.0, beta1=0.0, beta2=0.0, eps=0.0),
        lambda: AdaGrad(eps=np.inf),
    ],
)
def test_boundary_hyperparameters_are_accepted(make: Callable[[], Any]) -> None:
    """The lower bound 0 is closed for every check; ``>= 0`` has no upper bound, so even inf passes."""
    opt = make()
    params = {"W": np.ones((2, 2))}
    opt.update(params, {"W": np.full((2, 2), 0.5)})
    assert np.all(np.isfinite(params["W"]))


@pytest.mark.parametrize("make", [SGD, Momentum, AdaGrad, Adam])
def test_gradient_of_another_shape_is_an_error(make: Callable[[], Any]) -> None:
    """Not broadcast: the message names the key and both shapes."""
    with raises_naming(
        ValueError, f"{make.__name__}.update", "grads['W'] has shape (3,)", "params['W'] has shape (2, 3)"
    ):
        make().update({"W": np.zeros((2, 3))}, {"W": np.zeros(3)})
