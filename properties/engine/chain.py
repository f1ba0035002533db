"""A chain of layer classes as one layer class, so a chain is checked by the same engine as a layer.

``chain(A, B)`` builds ``A(*params, **kwargs)`` and ``B()``; its ``forward(x, *rest)`` is
``B.forward(A.forward(x), *rest)`` (the remaining inputs, such as targets, go to the last stage)
and its ``backward(dout)`` is ``A.backward(B.backward(dout))`` (the gradient for each stage's
first input is handed down). Parameters and their gradients are read from the stages: a
``params``/``grads`` list is the stages' lists joined, ``dW``-style attributes come from the first
stage that has them.

Separate layers can lose what a fused one keeps: ``softmax(x)`` rounds to exactly 0 where logits
differ by more than ~745 (float64), and ``-log(0)`` is ``inf``. When a stage turns finite values
into NaN or inf, the chain says so by name (a :class:`Mismatch`), instead of a bare "NaN".
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from layer_crosscheck.properties.engine.compare import Mismatch

__all__ = ["chain"]


def _finite(values: Sequence[Any]) -> bool:
    arrays = (np.asarray(v) for v in values if v is not None)
    return all(np.isfinite(a).all() for a in arrays if a.dtype.kind == "f")


def _zeros_note(stage: str, out: Any) -> str:
    a = np.asarray(out)
    if a.dtype.kind != "f":
        return ""
    lost = int(np.count_nonzero(np.abs(a) < np.finfo(a.dtype).tiny))
    if not lost:
        return ""
    return (
        f"; {stage}'s output has {lost} value(s) rounded to 0 or below the smallest normal number "
        "(softmax does so where logits differ by more than ~708 in float64, ~87 in float32): separate "
        "layers cannot recover what rounding lost, which is why the book fuses them (SoftmaxWithLoss; "
        "spec softmax_then_cross_entropy checks the chain where it can be exact)"
    )


def chain(*classes: Any) -> type:
    """One layer class running ``classes`` in order (see the module docstring)."""
    if len(classes) < 2:
        raise ValueError(f"a chain needs at least two layer classes, got {len(classes)}")
    names = [getattr(c, "__name__", repr(c)) for c in classes]
    title = f"Chain({', '.join(names)})"

    class Chain:
        __doc__ = f"{title}: forward through each stage in turn, backward in reverse."
        stages_classes = classes

        def __init__(self, *params: Any, **kwargs: Any) -> None:
            self.stages = [classes[0](*params, **kwargs), *(c() for c in classes[1:])]
            self.values: list[Any] = []  # each stage's output, from the latest forward

        def forward(self, x: Any, *rest: Any, **kwargs: Any) -> Any:
            value = self.stages[0].forward(x, **kwargs)
            self.values = [value]
            for i, stage in enumerate(self.stages[1:], start=1):
                given = (value, *rest) if i == len(self.stages) - 1 else (value,)
                out = stage.forward(*given)
                if _finite(given) and not _finite([out]):
                    raise Mismatch(
                        f"{title}: {names[i]}.forward gave NaN/inf from {names[i - 1]}'s finite output"
                        + _zeros_note(names[i - 1], value)
                    )
                value = out
                self.values.append(value)
            return value

        def backward(self, dout: Any = 1) -> Any:
            grad = dout
            for i in range(len(self.stages) - 1, 0, -1):
                result = self.stages[i].backward(grad)
                nxt = result[0] if isinstance(result, (tuple, list)) else result
                if _finite([grad]) and not _finite([nxt]):
                    raise Mismatch(
                        f"{title}: {names[i]}.backward gave NaN/inf from a finite upstream gradient"
                        + _zeros_note(names[i - 1], self.values[i - 1])
                    )
                grad = nxt
            return self.stages[0].backward(grad)

        def __getattr__(self, name: str) -> Any:
            if name in ("stages", "values"):
                raise AttributeError(name)
            if name in ("params", "grads"):
                lists = [getattr(s, name) for s in self.stages if isinstance(getattr(s, name, None), list)]
                if not lists:
                    raise AttributeError(f"{title} has no {name!r} (no stage has a {name} list)")
                return [item for lst in lists for item in lst]
            for s in self.stages:
                if hasattr(s, name):
                    return getattr(s, name)
            raise AttributeError(f"{title} has no attribute {name!r}")

    Chain.__name__ = Chain.__qualname__ = title
    return Chain
