"""1. Gradient checking on the seed's experiment: TwoLayerNet(784, 50, 10), 3 real MNIST digits.

Contenders, each asked "is net.gradient(x, t) right?":

* ``per-element``: the book's ``net.numerical_gradient`` (h = 1e-4, two forward passes for each
  of the 39,760 parameters) against ``net.gradient``;
* ``fd random u``: the harness's check (``reference fd.directional``, as ``properties.engine.checks.check_fd``
  does it): one random direction u over all four parameters, two forward passes, compare
  ``<gradient, Δ>`` with ``loss(θ+hu) - loss(θ-hu)`` within the harness's fd tolerance;
* ``fd u = gradient``: the same with the direction along backprop's own gradient, where the terms
  of ``<gradient, Δ>`` cannot cancel (so a tiny relative error is not drowned by the others);
* ``torch vjp`` / ``jax vjp``: the two_layer_net spec's math differentiated by autodiff (loss value
  and all four gradients) within the harness's exact tolerance.

Every net is built by the harness's own driver (``properties.engine.drivers``), so the timings are what
the harness pays.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from benchmarks._timing import Timing, fmt_time
from layer_crosscheck.impl import TwoLayerNet
from layer_crosscheck.properties import SPECS
from layer_crosscheck.properties.engine.checks import gradient_scale
from layer_crosscheck.properties.engine.compare import Mismatch, compare
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.tolerances import FD_FACTOR, exact_rtol, fd_roundoff, fd_rtol
from layer_crosscheck.properties.mnist import load_mnist
from layer_crosscheck.reference import get_reference
from tests.zoo.broken import TwoLayerNetB1IntoAffine2, TwoLayerNetDbAveraged, TwoLayerNetLossGradOffByPPM

__all__ = ["run"]

SPEC = SPECS["two_layer_net"]
PARAMS = ("W1", "b1", "W2", "b2")
BOOK_H = 1e-4
#: the per-element check's tolerance, derived like the harness's fd one but for the book's step:
#: truncation h**2 plus round-off eps/h, times the same FD_FACTOR
BOOK_RTOL = FD_FACTOR * (BOOK_H**2 + float(np.finfo(np.float64).eps) / BOOK_H)
RANDOM_DIRECTIONS = 20


@dataclass
class Verdict:
    ratio: float  # error / tolerance: > 1 means the check fails (the bug is caught)
    seconds: float
    note: str = ""

    @property
    def caught(self) -> bool:
        return self.ratio > 1


def _point(after_step: bool) -> dict[str, np.ndarray]:
    (x_train, t_train), _ = load_mnist(normalize=True, one_hot_label=True)
    x = x_train[:3].astype(np.float64)
    t = t_train[:3].astype(np.float64)
    net = TwoLayerNet(784, 50, 10, rng=0)
    if after_step:  # one SGD step on a larger batch: biases become nonzero and distinct
        grads = net.gradient(x_train[:100].astype(np.float64), t_train[:100].astype(np.float64))
        for k in PARAMS:
            net.params[k] -= 0.1 * grads[k]
    return {"x": x, "t": t, **{k: net.params[k].copy() for k in PARAMS}}


def _build(cls: type, arrays: dict[str, np.ndarray]) -> Any:
    return driver_for(SPEC).build(cls, arrays, np.float64)


def _ratio_of(check: Callable[[], Any]) -> float:
    """Run a harness comparison; its error/tolerance ratio (a Mismatch is reported as caught)."""
    try:
        check()
    except Mismatch:
        return np.inf
    return 0.0


def per_element(cls: type, arrays: dict[str, np.ndarray]) -> Verdict:
    net = _build(cls, arrays)
    start = time.perf_counter()
    num = net.numerical_gradient(arrays["x"], arrays["t"])
    got = net.gradient(arrays["x"], arrays["t"])
    seconds = time.perf_counter() - start
    ratio = max(
        float(np.max(np.abs(got[k] - num[k]))) / (BOOK_RTOL * max(float(np.max(np.abs(num[k]))), 1e-300))
        for k in PARAMS
    )
    return Verdict(ratio, seconds)


def _crosses_kink(arrays: dict[str, np.ndarray], d: Any) -> bool:
    """Does a hidden pre-activation change sign between θ-hu and θ+hu? Then the difference straddles
    ReLU's kink and proves nothing; another direction is drawn (the harness would skip the example)."""
    x = arrays["x"]
    mid = {k: arrays[k] for k in ("W1", "b1")}
    half = {k: d.delta[k] / 2 for k in ("W1", "b1")}
    pre_p = x @ (mid["W1"] + half["W1"]) + mid["b1"] + half["b1"]
    pre_m = x @ (mid["W1"] - half["W1"]) + mid["b1"] - half["b1"]
    return bool(np.any((pre_p > 0) != (pre_m > 0)))


def directional(
    cls: type, arrays: dict[str, np.ndarray], direction: str, rng: np.random.Generator
) -> Verdict:
    """check_fd's comparison for a net (cotangent 1): <gradient, Δ> vs loss(θ+hu) - loss(θ-hu)."""
    fd = get_reference("fd")
    drv = driver_for(SPEC)

    def fn(**a: np.ndarray) -> np.ndarray:
        return drv.value(cls, a, np.float64)

    start = time.perf_counter()
    net = _build(cls, arrays)
    out = drv.forward(net, arrays)
    got = drv.backward(net, np.ones((), np.float64), arrays)
    if direction == "random":
        u = {k: rng.standard_normal(arrays[k].shape) for k in PARAMS}
    else:
        biggest = max(float(np.max(np.abs(got[k]))) for k in PARAMS) or 1.0
        u = {k: got[k] / biggest for k in PARAMS}
    d = fd.directional(fn, arrays, u)
    seconds = time.perf_counter() - start
    retries = 0
    while _crosses_kink(arrays, d) and retries < 10:  # not timed: rare, and the harness would skip
        retries += 1
        u = {k: rng.standard_normal(arrays[k].shape) for k in PARAMS}
        d = fd.directional(fn, arrays, u)
    v = np.ones((), np.float64)
    numeric = float(np.sum(v * d.difference))
    terms = [got[k].astype(np.float64) * d.delta[k] for k in PARAMS]
    analytic = float(sum(t.sum() for t in terms))
    scale = float(sum(np.abs(t).sum() for t in terms) + np.abs(v * d.difference).sum())
    rtol = fd_rtol(np.float64, SPEC.numerics.cond(arrays))
    atol = fd_roundoff(np.float64, v, out)
    allowed = rtol * (abs(numeric) + scale) + atol
    return Verdict(abs(analytic - numeric) / allowed, seconds, f"{retries} redrawn" if retries else "")


def autodiff(cls: type, arrays: dict[str, np.ndarray], backend: str) -> Verdict:
    """check_forward + check_vjp for the net against the spec's math in ``backend``."""
    ref = get_reference(backend)
    drv = driver_for(SPEC)
    start = time.perf_counter()
    net = _build(cls, arrays)
    out = drv.forward(net, arrays)
    dout = np.ones((), np.float64)
    got = drv.backward(net, dout, arrays)
    fn = SPEC.math(backend)
    want_value = ref.value(fn, arrays)
    want = ref.vjp(fn, arrays, PARAMS, dout)
    seconds = time.perf_counter() - start
    rtol = exact_rtol(np.float64, SPEC.numerics.cond(arrays))

    def check() -> None:
        compare(out, want_value, rtol, what="loss")
        for k in PARAMS:
            compare(got[k], want[k], rtol, scale=gradient_scale(SPEC, arrays, dout, want[k], k), what=k)

    return Verdict(_ratio_of(check), seconds)


def _fast_timing(fn: Callable[[], Any], rounds: int = 7) -> Timing:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return Timing(tuple(samples))


def run(quick: bool = False) -> str:
    arrays = _point(after_step=False)
    rng = np.random.default_rng(0)
    torch_ok = get_reference("torch").unavailable() is None
    jax_ok = get_reference("jax").unavailable() is None
    lines: list[str] = []

    # --- timings on the correct net, interleaved: one slow per-element run per round ---
    first_jax = autodiff(TwoLayerNet, arrays, "jax").seconds if jax_ok else float("nan")
    rounds = 1 if quick else 2
    slow: list[float] = []
    fast: dict[str, list[float]] = {
        "fd random u": [],
        "fd u = gradient": [],
        "torch vjp": [],
        "jax vjp": [],
    }
    for _ in range(rounds):
        slow.append(per_element(TwoLayerNet, arrays).seconds)
        fast["fd random u"] += _fast_timing(lambda: directional(TwoLayerNet, arrays, "random", rng)).samples
        fast["fd u = gradient"] += _fast_timing(
            lambda: directional(TwoLayerNet, arrays, "gradient", rng)
        ).samples
        if torch_ok:
            fast["torch vjp"] += _fast_timing(lambda: autodiff(TwoLayerNet, arrays, "torch")).samples
        if jax_ok:
            fast["jax vjp"] += _fast_timing(lambda: autodiff(TwoLayerNet, arrays, "jax")).samples
    t_slow = Timing(tuple(slow)).median
    lines += [
        "### 1. Gradient checking: TwoLayerNet(784, 50, 10), 3 MNIST digits, float64",
        "",
        f"Medians over {rounds} per-element runs, interleaved with {7 * rounds} runs of each fast check "
        "(each run builds the net, runs forward + backward, and the check). "
        f"Per-element tolerance: {BOOK_RTOL:.2g} norm-wise (FD_FACTOR·(h² + eps/h) at the book's "
        f"h = {BOOK_H:g}); harness fd: fd_rtol = {fd_rtol(np.float64):.2g}·cond plus round-off; "
        f"autodiff: exact_rtol = {exact_rtol(np.float64):.2g}·cond.",
        "",
        "| method | forward passes | median time | speed-up vs per-element |",
        "|---|---:|---:|---:|",
        f"| per-element `numerical_gradient` (book) | {2 * 39760:,} | {fmt_time(t_slow)} | 1× |",
    ]
    passes = {"fd random u": "2 (+1 for backprop)", "fd u = gradient": "2 (+1 for backprop)"}
    for name, samples in fast.items():
        if not samples:
            lines.append(f"| {name} | – | not installed | – |")
            continue
        m = Timing(tuple(samples)).median
        lines.append(
            f"| {name} | {passes.get(name, '1 (+ reference)')} | {fmt_time(m)} | {t_slow / m:,.0f}× |"
        )
    if jax_ok:
        lines.append(
            f"| jax vjp, first call (XLA compile of the shape) | 1 (+ reference) | {fmt_time(first_jax)} "
            f"| {t_slow / first_jax:,.0f}× |"
        )
    lines.append("")

    # --- the bug table ---
    bugs: dict[str, type] = {  # name in the table -> class
        "none (correct net)": TwoLayerNet,
        "b1 wired into Affine2": TwoLayerNetB1IntoAffine2,
        "db averaged, not summed": TwoLayerNetDbAveraged,
        "every gradient ×(1+1e-6)": TwoLayerNetLossGradOffByPPM,
    }
    cases: list[tuple[str, type, dict[str, np.ndarray]]] = [(n, c, arrays) for n, c in bugs.items()]
    after = _point(after_step=True)
    cases.insert(
        2, ("b1 wired into Affine2, after one SGD step (biases ≠ 0)", TwoLayerNetB1IntoAffine2, after)
    )
    header = ["per-element", f"fd random u (caught in n/{RANDOM_DIRECTIONS})", "fd u = gradient"]
    header += ["torch vjp"] if torch_ok else []
    header += ["jax vjp"] if jax_ok else []
    lines += [
        "Bug × method → caught? (error/tolerance in brackets: > 1 fails the check; "
        "`inf` = the harness raised Mismatch)",
        "",
        "| planted bug | " + " | ".join(header) + " |",
        "|---|" + "---|" * len(header),
    ]

    def cell(v: Verdict) -> str:
        mark = "**caught**" if v.caught else "passes"
        return f"{mark} ({v.ratio:.2g})"

    for name, cls, point in cases:
        if quick and cls is not TwoLayerNet and name.startswith("b1") and point is after:
            continue
        row = [cell(per_element(cls, point))]
        rand = [directional(cls, point, "random", np.random.default_rng(i)) for i in range(RANDOM_DIRECTIONS)]
        n_caught = sum(v.caught for v in rand)
        worst = max(v.ratio for v in rand)
        best = min(v.ratio for v in rand)
        row.append(f"{n_caught}/{RANDOM_DIRECTIONS} ({best:.2g}…{worst:.2g})")
        row.append(cell(directional(cls, point, "gradient", rng)))
        if torch_ok:
            row.append(cell(autodiff(cls, point, "torch")))
        if jax_ok:
            row.append(cell(autodiff(cls, point, "jax")))
        lines.append(f"| {name} | " + " | ".join(row) + " |")
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
