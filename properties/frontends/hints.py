"""Hint lines for known textbook mistakes, given only when the run's evidence settles them: a
property that names the mistake (``no_mutation``: "backward wrote into dout"), or the mistake's
own prediction checked on the shrunk failing case (dout scaled; the loss with ``log(y + 1e-7)``).
A wrong hint would send a learner after a bug they do not have, so inconclusive means no hint.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable
from typing import Any

import numpy as np

from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.results import CellResult, Run
from layer_crosscheck.properties.engine.spec import LayerSpec

__all__ = ["find_hints"]

#: the book's ``cross_entropy_error`` adds this inside the log
LOG_EPSILON = 1e-7
#: a predicted error explains the observed one when they agree to this fraction of its size
EXPLAINED = 1e-3
#: properties whose failure can come from a backward that ignores dout
_GRADIENT_PROPS = ("vjp", "fd", "jacobian", "linearity", "samples")


def _writes_dout(name: str, failures: list[CellResult]) -> str | None:
    if not any(r.prop == "no_mutation" and "wrote into dout" in r.message for r in failures):
        return None
    why = ""
    if any("read-only" in r.message for r in failures):
        why = " (crosscheck hands dout over read-only, so the other cells stop at that write)"
    return (
        f"hint: {name}.backward writes into dout, the caller's array{why}: copy dout first (dx = dout.copy())"
    )


def _float32_only(name: str, failures: list[CellResult]) -> str | None:
    """Every failure is a float64 cell getting float32 back: a class that fixes its own dtype (book 2's
    ``np.empty(..., dtype='f')``) is judged where it means to work."""
    if not all("has dtype float32; expected float64" in r.message for r in failures):
        return None
    why = "book 2 writes dtype='f'"
    return f"hint: {name} returns float32 whatever its input ({why}): check it with --dtype float32"


def _writes_input(name: str, failures: list[CellResult]) -> str | None:
    """``no_mutation`` saw an input change, and the read-only copies made forward raise: forward
    writes into the caller's input (``x[x <= 0] = 0``)."""
    wrote = next(
        (m for r in failures if r.prop == "no_mutation" and (m := re.search(r"its input (\w+)", r.message))),
        None,
    )
    in_forward = any("read-only" in r.message and r.message.endswith(" in forward)") for r in failures)
    if wrote is None or not in_forward:
        return None
    x = wrote.group(1)
    return (
        f"hint: {name}.forward writes into its input {x}, the caller's array (crosscheck hands it over "
        f"read-only, so the other cells stop at that write): compute into a new array (out = {x}.copy())"
    )


def _quietly(fn: Callable[..., Any], *args: Any) -> Any:
    """``fn(*args)``, or None if the class raises: a hint never fails a run."""
    with np.errstate(all="ignore"), contextlib.suppress(Exception):
        return fn(*args)
    return None


def _forward(spec: LayerSpec, cls: Any, arrays: dict[str, np.ndarray]) -> tuple[Any, np.ndarray]:
    drv = driver_for(spec)
    case = {k: np.array(v, copy=True) for k, v in arrays.items()}
    layer = drv.build(cls, case, np.asarray(case[spec.inputs[0]]).dtype)
    return layer, drv.forward(layer, case)


def _backward(spec: LayerSpec, cls: Any, arrays: dict[str, np.ndarray], factor: float) -> Any:
    """Gradients of a fresh instance on ``arrays`` at ``factor`` times a fixed, nonconstant dout."""
    layer, out = _forward(spec, cls, arrays)
    dout = factor * np.linspace(-1.5, 2.0, max(out.size, 1)).reshape(out.shape).astype(out.dtype)
    return driver_for(spec).backward(layer, dout, {k: np.array(v, copy=True) for k, v in arrays.items()})


def _ignores_dout(name: str, spec: LayerSpec, cls: Any, failures: list[CellResult]) -> str | None:
    """Backward run again on a failing case with dout scaled by 2.5: the same nonzero gradients
    mean backward never read dout. Layers only: a network's gradient(x, t) takes no dout."""
    if not driver_for(spec).takes_dout:
        return None
    for r in failures:
        if r.prop not in _GRADIENT_PROPS or r.case is None or not r.case.arrays:
            continue
        once = _quietly(_backward, spec, cls, r.case.arrays, 1.0)
        scaled = _quietly(_backward, spec, cls, r.case.arrays, 2.5)
        if once is None or scaled is None:
            continue
        inputs = [n for n in spec.wrt if n in once and n in scaled]
        if not inputs or not any(np.any(np.asarray(once[n]) != 0) for n in inputs):
            continue
        if all(np.array_equal(once[n], scaled[n], equal_nan=True) for n in inputs):
            return (
                f"hint: {name}.backward ignores dout (its result is unchanged when dout is scaled "
                "by 2.5): multiply by dout (the book's SoftmaxWithLoss.backward(dout=1) does not)"
            )
        return None  # the evidence says dout is read: no hint
    return None


def _log_probabilities(spec: LayerSpec, a: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray] | None:
    """The exact log-probabilities a loss spec's cross-entropy is taken of, one row per prediction,
    and the one-hot targets (float64); None for a spec without them. Softmax losses: the logits'
    log-softmax; the two-layer net: of its logits; the sigmoid loss: ``[log(1 - y), log(y)]``."""
    x = np.asarray(a["x"], np.float64)
    if spec.name == "two_layer_net":
        hidden = np.maximum(x @ a["W1"].astype(np.float64) + a["b1"], 0.0)
        x = hidden @ a["W2"].astype(np.float64) + a["b2"]
    t = np.asarray(a["t"])
    if spec.name == "sigmoid_with_loss":
        log_y = np.stack([-np.logaddexp(0.0, x), -np.logaddexp(0.0, -x)], axis=-1).reshape(-1, 2)
        return log_y, np.eye(2)[t.astype(np.int64).reshape(-1)]
    if not (spec.name.startswith("softmax_with_loss") or spec.name == "two_layer_net") or x.ndim != 2:
        return None
    z = x - x.max(axis=1, keepdims=True)
    log_y = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    target = t.astype(np.float64) if t.shape == x.shape else np.eye(x.shape[1])[t.astype(np.int64)]
    return log_y, target


def _log_epsilon(name: str, spec: LayerSpec, cls: Any, failures: list[CellResult]) -> str | None:
    """A cross-entropy loss that disagrees (a softmax loss, the two-layer net's, the sigmoid
    loss): the loss recomputed on a failing case with ``log(y + 1e-7)`` must explain the class's
    value (and differ from the right one) for the hint."""
    for r in failures:
        arrays = {} if r.case is None else r.case.arrays
        if not {"x", "t"} <= set(arrays) or not np.all(np.isfinite(np.asarray(arrays["x"]))):
            continue
        found = _quietly(_log_probabilities, spec, arrays)
        if found is None:
            return None
        ran = _quietly(_forward, spec, cls, arrays)
        if ran is None or np.size(ran[1]) != 1:
            continue
        log_y, target = found
        n = np.asarray(arrays["x"]).shape[0]
        right = float(-np.sum(target * log_y) / n)
        with np.errstate(all="ignore"):
            book = float(-np.sum(target * np.log(np.exp(log_y) + LOG_EPSILON)) / n)
        off = abs(book - right)
        if off > 0 and abs(float(ran[1]) - book) <= EXPLAINED * off:
            what = "sigmoid" if spec.name == "sigmoid_with_loss" else "log-softmax"
            return (
                f"hint: a `+1e-7` inside log? {name}'s loss is off by {off:.2g}, what log(y + 1e-7) "
                f"gives on this input (the book's cross_entropy_error): use the {what}'s exact log, "
                + (
                    "log(y) = -log(1 + exp(-x)) (np.logaddexp)"
                    if what == "sigmoid"
                    else "x - max(x) - log(sum(exp(x - max(x))))"
                )
            )
        return None
    return None


def find_hints(run: Run, spec: LayerSpec, cls: Any) -> list[str]:
    """The hint lines for ``run`` of ``cls`` against ``spec`` (none when it passed)."""
    failures = run.failures
    if not failures:
        return []
    name = getattr(cls, "__name__", "the class")
    found = [
        _writes_dout(name, failures),
        _float32_only(name, failures),
        _writes_input(name, failures),
        _ignores_dout(name, spec, cls, failures),
        _log_epsilon(name, spec, cls, failures),
    ]
    return [h for h in found if h is not None]
