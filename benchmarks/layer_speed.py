"""2. Layer speed: forward + backward of each layer, impl (NumPy) against torch eager on the CPU.

All arrays of one dtype (float64, then float32). One thread each: NumPy's BLAS limited with
threadpoolctl, ``torch.set_num_threads(1)``. Each layer's two contenders are timed interleaved
(see ``_timing.interleaved``) and the ratio of medians is reported.
"""

from __future__ import annotations

import cProfile
import io
import pstats
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks._timing import THREADS, fmt_time, interleaved
from layer_crosscheck.impl import Affine, Convolution, Relu, Sigmoid, Softmax, SoftmaxWithLoss, TwoLayerNet

__all__ = ["run"]

N, D, H, C = 100, 784, 50, 10
LR = 0.1


def _numpy_layer(layer: Any, *inputs: np.ndarray, dout: Any) -> Callable[[], Any]:
    def step() -> Any:
        layer.forward(*inputs)
        return layer.backward(dout)

    return step


def _torch_fn(
    torch: Any, fn: Callable[..., Any], wrt: list[Any], const: list[Any], dout: Any
) -> Callable[[], Any]:
    def step() -> Any:
        out = fn(*wrt, *const)
        return torch.autograd.grad(out, wrt, grad_outputs=dout)

    return step


def _cases(dtype: Any, torch: Any) -> dict[str, tuple[Callable[[], Any], Callable[[], Any] | None]]:
    rng = np.random.default_rng(0)
    dt = np.dtype(dtype)

    def arr(*shape: int, scale: float = 1.0) -> np.ndarray:
        return (scale * rng.standard_normal(shape)).astype(dt)

    x, W, b = arr(N, D), arr(D, H, scale=0.01), arr(H)
    a, dh = arr(N, H), arr(N, H)
    logits, dlog = arr(N, C), arr(N, C)
    labels = rng.integers(0, C, N)
    img, Wc, bc = arr(N, 1, 28, 28), arr(30, 1, 5, 5, scale=0.01), arr(30)
    dconv = arr(N, 30, 24, 24)

    net = TwoLayerNet(D, H, C, rng=0, dtype=dt)

    def np_step() -> None:
        grads = net.gradient(x, labels)
        for k in ("W1", "b1", "W2", "b2"):
            net.params[k] -= LR * grads[k]

    W1, W2 = net.params["W1"].copy(), net.params["W2"].copy()
    h, d2 = np.maximum(x @ W1, 0), arr(N, C)

    def floor() -> None:  # the training step's five matrix products alone
        hh = x @ W1
        _ = h @ W2
        _ = h.T @ d2
        d1 = d2 @ W2.T
        _ = x.T @ d1
        del hh

    cases: dict[str, Any] = {
        "Affine (100×784 → 50)": [_numpy_layer(Affine(W, b), x, dout=dh)],
        "Relu (100×50)": [_numpy_layer(Relu(), a, dout=dh)],
        "Sigmoid (100×50)": [_numpy_layer(Sigmoid(), a, dout=dh)],
        "Softmax (100×10)": [_numpy_layer(Softmax(), logits, dout=dlog)],
        "SoftmaxWithLoss (100×10, labels)": [_numpy_layer(SoftmaxWithLoss(), logits, labels, dout=1)],
        "Convolution (100×1×28×28, 30×5×5)": [_numpy_layer(Convolution(Wc, bc), img, dout=dconv)],
        "TwoLayerNet SGD step (784-50-10, batch 100)": [np_step],
        "  its 5 matmuls alone (NumPy floor)": [floor],
    }
    if torch is None:
        return {k: (v[0], None) for k, v in cases.items()}
    F = torch.nn.functional
    T = lambda v: torch.from_numpy(np.ascontiguousarray(v))  # noqa: E731
    P = lambda v: T(v).clone().requires_grad_(True)  # noqa: E731
    tl = torch.from_numpy(labels)
    cases["Affine (100×784 → 50)"].append(
        _torch_fn(torch, lambda x_, w_, b_: x_ @ w_ + b_, [P(x), P(W), P(b)], [], T(dh))
    )
    cases["Relu (100×50)"].append(_torch_fn(torch, F.relu, [P(a)], [], T(dh)))
    cases["Sigmoid (100×50)"].append(_torch_fn(torch, torch.sigmoid, [P(a)], [], T(dh)))
    cases["Softmax (100×10)"].append(
        _torch_fn(torch, lambda z: F.softmax(z, dim=-1), [P(logits)], [], T(dlog))
    )
    cases["SoftmaxWithLoss (100×10, labels)"].append(
        _torch_fn(torch, F.cross_entropy, [P(logits)], [tl], torch.ones((), dtype=T(logits).dtype))
    )
    cases["Convolution (100×1×28×28, 30×5×5)"].append(
        _torch_fn(torch, F.conv2d, [P(img), P(Wc), P(bc)], [], T(dconv))
    )
    tp = [P(net.params[k]) for k in ("W1", "b1", "W2", "b2")]
    tx = T(x)

    def torch_step() -> None:
        w1, c1, w2, c2 = tp
        loss = F.cross_entropy(F.relu(tx @ w1 + c1) @ w2 + c2, tl)
        grads = torch.autograd.grad(loss, tp)
        with torch.no_grad():
            for p, g in zip(tp, grads, strict=True):
                p.sub_(LR * g)

    cases["TwoLayerNet SGD step (784-50-10, batch 100)"].append(torch_step)
    tW1, tW2, th, td2 = T(W1), T(W2), T(h), T(d2)

    def torch_floor() -> None:
        _ = tx @ tW1
        _ = th @ tW2
        _ = th.T @ td2
        d1 = td2 @ tW2.T
        _ = tx.T @ d1

    cases["  its 5 matmuls alone (NumPy floor)"].append(torch_floor)
    return {k: (v[0], v[1]) for k, v in cases.items()}


def profile_step(dtype: Any = np.float64, calls: int = 300) -> str:
    """cProfile of the NumPy training step: where its time goes."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((N, D)).astype(dtype)
    labels = rng.integers(0, C, N)
    net = TwoLayerNet(D, H, C, rng=0, dtype=dtype)

    def step() -> None:
        grads = net.gradient(x, labels)
        for k in ("W1", "b1", "W2", "b2"):
            net.params[k] -= LR * grads[k]

    prof = cProfile.Profile()
    prof.enable()
    for _ in range(calls):
        step()
    prof.disable()
    buf = io.StringIO()
    pstats.Stats(prof, stream=buf).sort_stats("tottime").print_stats(10)
    text = buf.getvalue()
    start = text.find("   ncalls")
    return text[start:].rstrip() if start >= 0 else text


def run(quick: bool = False) -> str:
    try:
        import torch

        torch.set_num_threads(THREADS)
    except ImportError:
        torch = None
    repeats = 7 if quick else 21
    lines = [
        "### 2. Layer speed: forward + backward, impl (NumPy) vs torch eager, CPU",
        "",
        f"{THREADS} thread for both (NumPy's OpenBLAS via threadpoolctl, "
        f"`torch.set_num_threads({THREADS})`); "
        f"medians of {repeats} interleaved rounds, each round ≥ 4 ms of back-to-back calls. "
        "ratio = NumPy time / torch time (< 1: NumPy faster).",
        "",
    ]
    for dtype in (np.float64, np.float32):
        lines += [
            f"**{np.dtype(dtype).name}**",
            "",
            "| layer | NumPy | torch | ratio NumPy/torch | spread (IQR/median) |",
            "|---|---:|---:|---:|---:|",
        ]
        floor_med = step_med = None
        for name, (np_fn, torch_fn) in _cases(dtype, torch).items():
            contenders = {"numpy": np_fn} | ({"torch": torch_fn} if torch_fn else {})
            t = interleaved(contenders, repeats=repeats)
            nm = t["numpy"].median
            if name.startswith("TwoLayerNet"):
                step_med = nm
            if "floor" in name:
                floor_med = nm
            if "torch" in t:
                tm = t["torch"].median
                spread = max(t["numpy"].spread, t["torch"].spread)
                lines.append(f"| {name} | {fmt_time(nm)} | {fmt_time(tm)} | {nm / tm:.2f} | {spread:.0%} |")
            else:
                lines.append(f"| {name} | {fmt_time(nm)} | – | – | {t['numpy'].spread:.0%} |")
        if floor_med and step_med:
            lines += [
                "",
                f"NumPy training step / its matmul floor: **{step_med / floor_med:.2f}×**.",
            ]
        lines.append("")
    lines += [
        "cProfile of the NumPy float64 training step (300 steps, sorted by own time):",
        "",
        "```",
        profile_step(),
        "```",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
