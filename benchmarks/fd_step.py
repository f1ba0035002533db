"""4. Why the finite-difference step is ``eps**(1/3)``: error against step h, log-log, saved as
docs/img/fd_step.png.

For each layer, a fixed input x, direction u and cotangent v: the central difference
``<v, f(x+hu) - f(x-hu)>`` computed in the dtype (as ``reference fd.directional`` does) against the
exact ``<backward(v), Δ>`` (float64 backward at the same point, Δ the step actually taken).
Truncation error falls like h², round-off rises like eps/h; they cross near eps**(1/3).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from layer_crosscheck.impl import Sigmoid, Softmax, SoftmaxWithLoss
from layer_crosscheck.reference import get_reference

__all__ = ["run"]

OUT = Path(__file__).resolve().parent.parent / "docs" / "img" / "fd_step.png"
STEPS = np.logspace(-12, -1, 67)


def _layers(rng: np.random.Generator) -> dict[str, tuple[Any, dict[str, np.ndarray]]]:
    x = rng.standard_normal((4, 6)) * 2
    labels = rng.integers(0, 6, 4)
    return {
        "Sigmoid": (lambda dt: lambda x: Sigmoid().forward(x), {"x": x}),
        "Softmax": (lambda dt: lambda x: Softmax().forward(x), {"x": x}),
        "SoftmaxWithLoss": (lambda dt: lambda x: SoftmaxWithLoss().forward(x, labels), {"x": x}),
    }, labels


def errors(dtype: Any) -> tuple[dict[str, np.ndarray], float]:
    """Relative error |FD - exact| / |exact| of the directional derivative per layer, per step."""
    fd = get_reference("fd")
    rng = np.random.default_rng(1)
    layers, labels = _layers(rng)
    out: dict[str, np.ndarray] = {}
    for name, (make, arrays) in layers.items():
        x = arrays["x"].astype(dtype)
        u = rng.standard_normal(x.shape)
        exact_layer = {"Sigmoid": Sigmoid, "Softmax": Softmax, "SoftmaxWithLoss": SoftmaxWithLoss}[name]()
        x64 = x.astype(np.float64)  # the float32 point, exactly, in float64
        y = exact_layer.forward(x64, labels) if name == "SoftmaxWithLoss" else exact_layer.forward(x64)
        v = np.ones(()) if name == "SoftmaxWithLoss" else rng.standard_normal(np.shape(y))
        g = exact_layer.backward(1.0 if name == "SoftmaxWithLoss" else v)
        fn = make(dtype)
        errs = []
        for h in STEPS:
            d = fd.directional(lambda x, fn=fn: fn(x), {"x": x}, {"x": u}, h=float(h))
            numeric = float(np.sum(v * d.difference))
            exact = float(np.vdot(g, d.delta["x"]))
            errs.append(abs(numeric - exact) / abs(exact) if exact else np.nan)
        out[name] = np.asarray(errs)
    return out, fd.step(dtype)


def run(quick: bool = False) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.6), sharey=True)
    summary = []
    for ax, dtype in zip(axes, (np.float64, np.float32), strict=True):
        errs, h_star = errors(dtype)
        eps = float(np.finfo(dtype).eps)
        for name, e in errs.items():
            ax.loglog(STEPS, np.maximum(e, 1e-18), marker=".", ms=4, lw=1.2, label=name)
        ax.loglog(STEPS, STEPS**2, "k:", lw=1, label="h² (truncation)")
        ax.loglog(STEPS, eps / STEPS, "k--", lw=1, label="eps/h (round-off)")
        ax.axvline(h_star, color="crimson", lw=1.5)
        ax.text(
            h_star * 1.3,
            1e-15,
            f"fd.step = eps^(1/3)\n= {h_star:.1e}",
            color="crimson",
            fontsize=9,
            va="bottom",
        )
        ax.set_title(f"{np.dtype(dtype).name}: central difference vs exact <v, J u>")
        ax.set_xlabel("step h")
        ax.set_ylim(1e-17, 1e3)
        ax.grid(True, which="major", alpha=0.3)
        i = int(np.argmin(np.abs(np.log(STEPS / h_star))))
        best = {n: STEPS[int(np.nanargmin(e))] for n, e in errs.items()}
        summary.append(
            f"| {np.dtype(dtype).name} | {h_star:.2g} | "
            + " | ".join(f"{errs[n][i]:.1e} (best h {best[n]:.0e}: {np.nanmin(errs[n]):.1e})" for n in errs)
            + " |"
        )
    axes[0].set_ylabel("relative error of <v, J u>")
    axes[0].legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110)
    plt.close(fig)
    names = list(errors(np.float64)[0]) if quick else ["Sigmoid", "Softmax", "SoftmaxWithLoss"]
    return "\n".join(
        [
            "### 4. The finite-difference step",
            "",
            "![finite-difference error against step size](docs/img/fd_step.png)",
            "",
            "Relative error of the central difference at the harness's step (and the best step on the grid):",
            "",
            "| dtype | fd.step(dtype) | " + " | ".join(names) + " |",
            "|---|---:|" + "---:|" * len(names),
            *summary,
            "",
        ]
    )


if __name__ == "__main__":
    print(run())
