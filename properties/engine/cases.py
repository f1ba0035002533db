"""Drawing one case of a spec: its arrays and an upstream gradient, handed over read-only.

Every property draws through these (``checks``, ``optimizer``, ``sequence``, the shape-set probe),
so they live apart from the properties that use them.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from layer_crosscheck.properties.engine import strategies
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.spec import Arrays, Draw, LayerSpec, Sizes

__all__ = ["draw_case", "draw_dout", "note", "readonly"]


def note(draw: Draw, **case: Any) -> None:
    """Name the case being checked for the report (the engine's ``Draws.note``); a plain draw
    function (a strategy's own ``data.draw``) has nowhere to keep it."""
    keep = getattr(draw, "note", None)
    if keep is not None:
        keep(**case)


def readonly(a: np.ndarray) -> np.ndarray:
    b = np.array(a, copy=True)
    b.setflags(write=False)
    return b


def draw_case(
    spec: LayerSpec, draw: Draw, dtype: Any, sizes: Sizes | None = None, *, fixed_shapes: bool = True
) -> tuple[Arrays, Sizes]:
    """Draw one example: sizes from the spec's small set (so JAX compiles few shapes), then values.
    With ``fixed_shapes=False`` (a reference that compiles nothing, see ``checks._fixed_shapes``)
    a spec with ``drawn_sizes`` draws its sizes too.

    Every array is handed over read-only, so an in-place write fails at the offending line.
    """
    if sizes is None and spec.drawn_sizes is not None and not fixed_shapes:
        sizes = spec.drawn_sizes(draw)
    if sizes is None:
        sizes = draw(strategies.shape_choice(spec.shapes))
    settings = {k: np.asarray(v) for k, v in spec.conventions.settings.items()}  # eps: hooks and math read it
    arrays = {k: readonly(v) for k, v in {**spec.draw(draw, np.dtype(dtype), sizes), **settings}.items()}
    note(draw, arrays=arrays, dout=None)
    return arrays, sizes


def draw_dout(spec: LayerSpec, draw: Draw, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    """An upstream gradient for an output of ``shape``, read-only: drawn, or 1 for a network
    (its gradient(x, t) is defined for an upstream gradient of 1 only)."""
    takes_dout = driver_for(spec).takes_dout
    drawn = draw(strategies.cotangent(dtype, shape)) if takes_dout else np.ones(shape, dtype)
    dout = readonly(drawn)
    note(draw, dout=dout)
    return dout
