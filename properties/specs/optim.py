"""The optimizer specs: the book's ``sgd``, ``momentum``, ``adagrad``, ``adam`` and the named
conventions ``nesterov``, ``adagrad_eps_inside`` and ``adam_torch``, each listing its counterparts
as ``alternatives`` (a class checked as the wrong one is told the right one). A class is driven
through ``update(params, grads)`` for a drawn number of steps against ``torch.optim`` on the same
gradients, and against optax's on the jax side (a visible skip naming optax where it is not installed).

Where the book and torch.optim differ (see docs/CNN_LAYERS.md):

- Momentum: the book's ``v = m*v - lr*g; p += v`` is torch's ``b = m*b + g; p -= lr*b`` with
  ``v == -lr*b`` at every step, for a constant lr.
- AdaGrad: both add eps after the root; the book's eps is 1e-7 (assumed when the class takes no
  ``eps``). ``sqrt(h + eps)`` is torch's ``Adagrad`` with the accumulator starting at eps, eps 0.
- Adam: the book adds eps to the *uncorrected* ``sqrt(v)`` (Kingma & Ba's "epsilon hat", Keras's),
  torch to the bias-corrected one: torch's ``Adam`` with ``eps_t = eps/sqrt(1-b2**t)`` at step t.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from typing import Any

import numpy as np
from hypothesis import strategies as st

from layer_crosscheck.impl import (
    SGD,
    AdaGrad,
    AdaGradEpsInside,
    Adam,
    AdamEpsHat,
    Momentum,
    Nesterov,
    RMSprop,
    RMSpropEpsInside,
)
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.registry import register
from layer_crosscheck.properties.engine.spec import (
    GRAD_MARK,
    Alternative,
    Arrays,
    Construction,
    Conventions,
    Draw,
    OptimizerSpec,
    Sizes,
    optimizer_layout,
)
from layer_crosscheck.reference import eager

BOOK_EPS = 1e-7  # the book's AdaGrad and Adam, hard-coded
TORCH_ADAM_EPS = 1e-8  # torch.optim.Adam's default (and impl.Adam's)
MAX_STEPS = 5
#: the jax column of the optimizers is optax's
_OPTAX = {"jax": ("optax",)}

#: parameter dicts of a few shapes: one array, a layer's W and b, two layers, a 3-d one
_PARAM_SHAPES: tuple[Sizes, ...] = (
    {"x": (5,)},
    {"W": (3, 4), "b": (4,)},
    {"W1": (2, 3), "b1": (3,), "W2": (3, 2), "b2": (2,)},
    {"gamma": (2, 1, 3)},
)


def _draw(**choices: tuple[float, ...]) -> Callable[[Draw, np.dtype, Sizes], Arrays]:
    """Initial parameters, 1 to MAX_STEPS steps of gradients (each scaled by 1 or 1e-3: small
    gradients are where eps matters) and the hyper-parameters, each from a small set (eps is a
    setting: ``--set eps=...``)."""

    def draw(d: Draw, dtype: np.dtype, sizes: Sizes) -> Arrays:
        case: Arrays = {n: d(S.array(dtype, shape)) for n, shape in sizes.items()}
        steps = d(st.integers(1, MAX_STEPS))
        for t in range(1, steps + 1):
            for n, shape in sizes.items():
                scale = d(st.sampled_from((1.0, 1e-3)))
                case[f"{n}{GRAD_MARK}{t}"] = (d(S.array(dtype, shape)) * scale).astype(dtype)
        for k, options in choices.items():
            case[k] = np.asarray(d(st.sampled_from(options)))
        return case

    return draw


def _torch(make: Callable[..., Any], before_step: Callable[..., None] | None = None) -> Callable[..., Any]:
    """The reference ``make(torch.optim, params, **hyper)``: its parameters after each step on the
    case's gradients, flattened and concatenated in the case's order."""

    def reference(T: Any, **a: Any) -> Any:
        torch = T.torch
        names, steps = optimizer_layout(a)
        hyper = {k: v for k, v in a.items() if k not in names and GRAD_MARK not in k}
        params = [a[n].clone() for n in names]
        optimizer = make(torch.optim, params, **hyper)
        rows = []
        for t in range(1, steps + 1):
            for n, p in zip(names, params, strict=True):
                p.grad = a[f"{n}{GRAD_MARK}{t}"].clone()
            if before_step is not None:
                before_step(optimizer, t, **hyper)
            optimizer.step()
            rows.append(torch.cat([p.detach().reshape(-1) for p in params]))
        return torch.stack(rows)

    return reference


def _optax(
    make: Callable[..., Any], per_step: Callable[..., dict[str, float]] | None = None
) -> Callable[..., Any]:
    """The reference ``make(optax, **hyper)``, an optax ``GradientTransformation``: its parameters
    after each step on the case's gradients, flattened and concatenated in the case's order.
    ``per_step(t, **hyper)`` sets hyper-parameters injected by ``optax.inject_hyperparams`` before
    step t (the book's Adam: its eps at step t), as the torch reference sets its param groups."""

    @eager
    def reference(J: Any, **a: Any) -> Any:
        optax = importlib.import_module("optax")
        jnp = J.jnp
        names, steps = optimizer_layout(a)
        hyper = {k: v for k, v in a.items() if k not in names and GRAD_MARK not in k}
        params = {n: a[n] for n in names}
        optimizer = make(optax, **hyper)
        state = optimizer.init(params)
        rows = []
        for t in range(1, steps + 1):
            if per_step is not None:
                state.hyperparams.update(per_step(t, **hyper))
            grads = {n: a[f"{n}{GRAD_MARK}{t}"] for n in names}
            updates, state = optimizer.update(grads, state, params)
            params = optax.apply_updates(params, updates)
            rows.append(jnp.concatenate([params[n].reshape(-1) for n in names]))
        return jnp.stack(rows)

    return reference


_NO_OPTAX_ADAGRAD = (
    "optax has no AdaGrad with eps after the square root (optax.adagrad adds it inside the root: "
    "spec adagrad_eps_inside), and re-deriving it would judge the book's formula by itself"
)


def _no_optax(J: Any, **arrays: Any) -> Any:
    raise NotImplementedError(_NO_OPTAX_ADAGRAD)


def _adam(optim: Any, ps: list[Any], lr: float, beta1: float, beta2: float, eps: float) -> Any:
    return optim.Adam(ps, lr=lr, betas=(beta1, beta2), eps=eps)


def _eps_hat_at(t: int, beta2: float, eps: float, **_: Any) -> dict[str, float]:
    """The book's ``lr_t * m / (sqrt(v) + eps)`` is Adam with ``eps_t = eps/sqrt(1-b2**t)`` at step t."""
    return {"eps": eps / math.sqrt(1.0 - beta2**t)}


def _eps_hat(optimizer: Any, t: int, **hyper: Any) -> None:
    """torch's Adam with the book's eps at step t (`_eps_hat_at`)."""
    for group in optimizer.param_groups:
        group.update(_eps_hat_at(t, **hyper))


def _optax_adam(optax: Any, lr: float, beta1: float, beta2: float, eps: float) -> Any:
    return optax.adam(lr, b1=beta1, b2=beta2, eps=eps)


def _optax_adam_eps_hat(optax: Any, lr: float, beta1: float, beta2: float, eps: float) -> Any:
    """optax's Adam with eps injected as a hyper-parameter, set per step (`_eps_hat_at`)."""
    return optax.inject_hyperparams(optax.adam)(learning_rate=lr, b1=beta1, b2=beta2, eps=eps)


_ADAM_HYPER = {"lr": (0.001, 0.01, 0.1), "beta1": (0.9, 0.5), "beta2": (0.999, 0.9)}


def _optimizer(**fields: Any) -> None:
    """Register an optimizer spec: parameter dicts of a few shapes; the jax column needs optax."""
    register(OptimizerSpec(inputs=(), shapes=_PARAM_SHAPES, requires=_OPTAX, **fields))


_optimizer(
    name="sgd",
    layer=SGD,
    summary="SGD(lr).update(params, grads): p -= lr*g, in place; vs torch.optim.SGD",
    draw=_draw(lr=(0.01, 0.1, 0.5)),
    torch=_torch(lambda optim, ps, lr: optim.SGD(ps, lr=lr)),
    jax=_optax(lambda optax, lr: optax.sgd(lr)),
    construction=Construction(hyper=("lr",)),
)
_optimizer(
    name="momentum",
    layer=Momentum,
    summary="Momentum(lr, momentum): the book's v = m*v - lr*g; p += v, which is "
    "torch.optim.SGD(momentum=m) for a constant lr",
    draw=_draw(lr=(0.01, 0.1), momentum=(0.9, 0.5)),
    torch=_torch(lambda optim, ps, lr, momentum: optim.SGD(ps, lr=lr, momentum=momentum)),
    jax=_optax(lambda optax, lr, momentum: optax.sgd(lr, momentum=momentum)),
    construction=Construction(hyper=("lr", "momentum")),
    conventions=Conventions(alternatives=(Alternative("nesterov"),), name="the book's momentum, p += v"),
)
_optimizer(
    name="nesterov",
    layer=Nesterov,
    summary="Nesterov(lr, momentum): v = m*v - lr*g; p += m*v - lr*g, which is "
    "torch.optim.SGD(momentum=m, nesterov=True) for a constant lr",
    draw=_draw(lr=(0.01, 0.1), momentum=(0.9, 0.5)),
    torch=_torch(lambda optim, ps, lr, momentum: optim.SGD(ps, lr=lr, momentum=momentum, nesterov=True)),
    jax=_optax(lambda optax, lr, momentum: optax.sgd(lr, momentum=momentum, nesterov=True)),
    construction=Construction(hyper=("lr", "momentum")),
    conventions=Conventions(
        alternatives=(Alternative("momentum"),), name="Nesterov momentum, p += m*v - lr*g"
    ),
)
_optimizer(
    name="adagrad",
    layer=AdaGrad,
    summary="AdaGrad(lr): h += g*g; p -= lr*g/(sqrt(h) + eps), eps 1e-7 (the book's; passed "
    "if the constructor takes eps); vs torch.optim.Adagrad",
    draw=_draw(lr=(0.01, 0.1, 1.0)),
    torch=_torch(lambda optim, ps, lr, eps: optim.Adagrad(ps, lr=lr, eps=eps)),
    jax=_no_optax,
    declined={"jax": _NO_OPTAX_ADAGRAD},
    construction=Construction(hyper=("lr",)),
    conventions=Conventions(
        settings={"eps": BOOK_EPS},
        # torch.optim.Adagrad's default eps is 1e-10; 1e-8 is CS231n's and Keras's
        alternatives=(
            Alternative("adagrad_eps_inside"),
            Alternative("adagrad", {"eps": 1e-10}),
            Alternative("adagrad", {"eps": 1e-8}),
        ),
        name="the book's AdaGrad, eps after the square root",
    ),
)
_optimizer(
    name="adagrad_eps_inside",
    layer=AdaGradEpsInside,
    summary="AdaGrad with eps inside the root: p -= lr*g/sqrt(h + eps), eps 1e-7 (TensorFlow 1's "
    "AdagradOptimizer); vs torch.optim.Adagrad(initial_accumulator_value=eps, eps=0)",
    draw=_draw(lr=(0.01, 0.1, 1.0)),
    # sqrt(h + eps): the accumulator starts at eps, nothing is added after the root
    torch=_torch(lambda optim, ps, lr, eps: optim.Adagrad(ps, lr=lr, eps=0.0, initial_accumulator_value=eps)),
    # optax.adagrad's own form: lr*g/sqrt(h + eps), eps inside the root
    jax=_optax(lambda optax, lr, eps: optax.adagrad(lr, initial_accumulator_value=0.0, eps=eps)),
    construction=Construction(hyper=("lr",)),
    conventions=Conventions(
        settings={"eps": BOOK_EPS},
        alternatives=(Alternative("adagrad"),),
        name="AdaGrad with eps inside the square root, sqrt(h + eps)",
    ),
)
_optimizer(
    name="adam",
    layer=AdamEpsHat,
    summary="the book's Adam(lr, beta1, beta2): lr_t = lr*sqrt(1-b2^t)/(1-b1^t); "
    "p -= lr_t*m/(sqrt(v) + 1e-7); vs torch.optim.Adam with eps_t = 1e-7/sqrt(1-b2^t)",
    draw=_draw(**_ADAM_HYPER),
    torch=_torch(_adam, _eps_hat),
    jax=_optax(_optax_adam_eps_hat, _eps_hat_at),
    construction=Construction(hyper=("lr", "beta1", "beta2")),
    conventions=Conventions(
        settings={"eps": BOOK_EPS},
        alternatives=(Alternative("adam_torch"), Alternative("adam_torch", {"eps": BOOK_EPS})),
        name="the book's epsilon-hat Adam, eps added to the uncorrected sqrt(v)",
    ),
)
_optimizer(
    name="adam_torch",
    layer=Adam,
    summary="torch's Adam: p -= lr/(1-b1^t)*m/(sqrt(v/(1-b2^t)) + eps), eps 1e-8; vs torch.optim.Adam",
    draw=_draw(**_ADAM_HYPER),
    torch=_torch(_adam),
    jax=_optax(_optax_adam),
    construction=Construction(hyper=("lr", "beta1", "beta2")),
    conventions=Conventions(
        settings={"eps": TORCH_ADAM_EPS},
        alternatives=(Alternative("adam"), Alternative("adam", {"eps": TORCH_ADAM_EPS})),
        name="torch.optim.Adam's eps, added to the bias-corrected sqrt(v/(1-b2^t))",
    ),
)


def _rmsprop(optim: Any, ps: list[Any], lr: float, decay_rate: float, eps: float) -> Any:
    return optim.RMSprop(ps, lr=lr, alpha=decay_rate, eps=eps)


def _eps_inside(optimizer: Any, t: int, decay_rate: float, eps: float, **_: Any) -> None:
    """``sqrt(h + eps)``: torch's RMSprop with eps 0 on a square average kept eps above the book's
    ``h``. With ``s = h + eps`` the update ``s = a*s + (1-a)*g*g`` needs ``s += eps*(1-a)/a`` first
    (and ``s = eps/a`` before the first step, when torch creates its state)."""
    a = decay_rate
    for group in optimizer.param_groups:
        group["eps"] = 0.0
        for p in group["params"]:
            state = optimizer.state[p]
            if not state:
                state["step"] = p.new_zeros(())
                state["square_avg"] = p.new_full(p.shape, eps / a)
            else:
                state["square_avg"] += eps * (1 - a) / a


_RMS_HYPER = {"lr": (0.001, 0.01, 0.1), "decay_rate": (0.99, 0.9)}
_optimizer(
    name="rmsprop",
    layer=RMSprop,
    summary="book 2's RMSprop(lr, decay_rate): h = d*h + (1-d)*g*g; p -= lr*g/(sqrt(h) + 1e-7); "
    "vs torch.optim.RMSprop(alpha=d)",
    draw=_draw(**_RMS_HYPER),
    torch=_torch(_rmsprop),
    jax=_optax(lambda optax, lr, decay_rate, eps: optax.rmsprop(lr, decay_rate, eps, eps_in_sqrt=False)),
    construction=Construction(hyper=("lr", "decay_rate")),
    conventions=Conventions(
        settings={"eps": BOOK_EPS},
        alternatives=(Alternative("rmsprop_eps_inside"), Alternative("rmsprop", {"eps": TORCH_ADAM_EPS})),
        name="the book's RMSprop, eps after the square root",
    ),
)
_optimizer(
    name="rmsprop_eps_inside",
    layer=RMSpropEpsInside,
    summary="RMSprop with eps inside the root: p -= lr*g/sqrt(h + eps) (TensorFlow's); vs "
    "torch.optim.RMSprop(eps=0) with its square average kept eps above h",
    draw=_draw(**_RMS_HYPER),
    torch=_torch(_rmsprop, _eps_inside),
    # optax's own form: lr*g/sqrt(h + eps)
    jax=_optax(lambda optax, lr, decay_rate, eps: optax.rmsprop(lr, decay_rate, eps, eps_in_sqrt=True)),
    construction=Construction(hyper=("lr", "decay_rate")),
    conventions=Conventions(
        settings={"eps": BOOK_EPS},
        alternatives=(Alternative("rmsprop"),),
        name="RMSprop with eps inside the square root, sqrt(h + eps)",
    ),
)
