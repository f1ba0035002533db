"""Stateful sequence layers (book 2's ``TimeRNN``/``TimeLSTM``/``TimeGRU``): a kind of spec and
the property only that kind has.

A :class:`SequenceSpec` is a layer spec whose class also takes ``stateful=`` and offers
``set_state``/``reset_state`` and the ``dh`` attribute, and whose math takes the initial state
(``h0``, ``c0``: zeros when absent) and has a second form giving the final state. The
``stateful`` property then checks, against torch and jax: two consecutive blocks with
``stateful=True`` equal one forward over the joined sequence; truncated BPTT (the second block's
backward equals the reference's at that block alone, started from the carried state, so no
gradient reaches the first block, and ``dh`` is the gradient with respect to that state);
``reset_state`` restores the zero state; with ``stateful=False`` an earlier call changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from hypothesis import strategies as st

from layer_crosscheck.properties.engine.cases import draw_case, draw_dout
from layer_crosscheck.properties.engine.compare import Errors, compare
from layer_crosscheck.properties.engine.drivers import BadInterface, Driver
from layer_crosscheck.properties.engine.spec import Draw, LayerSpec
from layer_crosscheck.properties.engine.tolerances import exact_rtol

__all__ = ["SequenceSpec", "check_stateful"]


@dataclass(frozen=True)
class SequenceSpec(LayerSpec):
    """A stateful sequence layer: input ``xs`` (N, T, D), batch-major, output ``hs`` (N, T, H)."""

    #: the math's initial-state arguments, in ``set_state``'s order (the first is ``dh``'s)
    states: tuple[str, ...] = ("h0",)
    #: the final state(s) of the math, stacked on a last axis when there are several
    torch_final: Callable[..., Any] | None = None
    jax_final: Callable[..., Any] | None = None


def _method(layer: Any, name: str) -> Callable[..., Any]:
    fn = getattr(layer, name, None)
    if not callable(fn):
        raise BadInterface(f"{type(layer).__name__} has no {name}(): the stateful interface needs it")
    return fn


def check_stateful(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """Blocks, truncated BPTT, ``dh``, ``reset_state`` and ``stateful=False``, against ``ref``."""
    assert isinstance(spec, SequenceSpec)
    arrays, _ = draw_case(spec, draw, dtype)
    xs = arrays["xs"]
    cut = draw(st.integers(1, xs.shape[1] - 1))
    first, second = ({**arrays, "xs": part} for part in (xs[:, :cut], xs[:, cut:]))
    drv = Driver(spec)
    params = [arrays[p] for p in spec.params]
    fn, _ = spec.bind(ref.name, arrays)
    final = {"torch": spec.torch_final, "jax": spec.jax_final}[ref.name]
    rtol = exact_rtol(dtype, spec.numerics.cond(arrays))
    errors = Errors()

    def judge(got: Any, want: Any, what: str) -> None:
        nonlocal errors
        errors |= compare(
            got, want, rtol, scale=max(1.0, float(np.max(np.abs(want), initial=0))), what=what, dtype=dtype
        )

    layer = drv._call(cls, "__init__", params, {"stateful": True})
    hs1, hs2 = drv.forward(layer, first), drv.forward(layer, second)
    joined = np.concatenate((hs1, hs2), axis=1)
    judge(
        joined,
        ref.value(fn, arrays),
        f"{spec.name}: stateful blocks of {cut} + {xs.shape[1] - cut} steps vs one forward of them joined",
    )

    carried = np.asarray(ref.value(final, first))
    state = {n: (carried[..., i] if len(spec.states) > 1 else carried) for i, n in enumerate(spec.states)}
    block = {**second, **state}
    dout = draw_dout(spec, draw, dtype, hs2.shape)
    want = ref.vjp(fn, block, (*spec.wrt, spec.states[0]), dout)
    got = drv.backward(layer, dout, second)
    for n in spec.wrt:
        judge(
            got[n],
            want[n],
            f"{spec.name} d{n} of the second stateful block vs {ref.name} on it alone (truncated BPTT)",
        )
    dh = getattr(layer, "dh", None)
    if dh is None:
        raise BadInterface(
            f"{type(layer).__name__}.dh is None after backward: expected the gradient w.r.t. the initial h"
        )
    judge(
        np.asarray(dh),
        want[spec.states[0]],
        f"{spec.name}.dh vs {ref.name}'s gradient w.r.t. the block's initial h",
    )

    _method(layer, "reset_state")()
    judge(
        drv.forward(layer, second),
        ref.value(fn, second),
        f"{spec.name} forward after reset_state vs {ref.name} from the zero state",
    )

    fresh = drv._call(cls, "__init__", params, {"stateful": False})
    drv.forward(fresh, first)
    judge(
        drv.forward(fresh, second),
        ref.value(fn, second),
        f"{spec.name} with stateful=False: the second forward vs {ref.name} from the zero state",
    )
    return errors
