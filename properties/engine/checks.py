"""The generic properties: each is one function of (spec, class under test, reference, draw, dtype).

They run under Hypothesis (``draw`` is ``data.draw``), are shared by the pytest suite, the
``crosscheck`` command and the pytest plugin, and return the largest errors they saw so the
conformance matrix can show them. A disagreement raises :class:`~properties.engine.compare.Mismatch`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from layer_crosscheck.properties.engine import outputs, strategies
from layer_crosscheck.properties.engine.cases import draw_case, draw_dout, note, readonly
from layer_crosscheck.properties.engine.compare import Errors, Mismatch, compare
from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.optimizer import check_optimizer
from layer_crosscheck.properties.engine.scales import (
    derived_grad_scales,
    derived_value_scale,
    deriving,
    judged,
)
from layer_crosscheck.properties.engine.sequence import SequenceSpec, check_stateful
from layer_crosscheck.properties.engine.spec import Arrays, Draw, LayerSpec, NetSpec, OptimizerSpec, revise
from layer_crosscheck.properties.engine.tolerances import exact_rtol, fd_roundoff, fd_rtol
from layer_crosscheck.reference import get_reference

__all__ = [
    "PROPERTIES",
    "Property",
    "check_agreement",
    "gradient_scale",
    "property_named",
]


def _fixed_shapes(ref: Any) -> bool:
    """Whether a cell against ``ref`` keeps the spec's fixed shapes: JAX compiles once per shape."""
    return getattr(ref, "name", None) == "jax"


def _draw_and_run(
    spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any, *, unambiguous: bool = False
) -> tuple[Arrays, Any, np.ndarray]:
    """A case drawn for ``ref`` and the layer's forward on it: (arrays, layer, output).
    ``unambiguous``: skip a case within rounding of a kink at an intermediate value, where exact
    references may legitimately take either side (``spec.kinks.ambiguous``)."""
    arrays, _ = draw_case(spec, draw, dtype, fixed_shapes=_fixed_shapes(ref))
    assume(not (unambiguous and spec.kinks.ambiguous is not None and spec.kinks.ambiguous(arrays)))
    layer, out = _forward(spec, cls, arrays, dtype)
    return arrays, layer, out


def _expect_dtype(value: np.ndarray, dtype: Any, what: str) -> None:
    if value.dtype != np.dtype(dtype):
        raise Mismatch(f"{what} has dtype {value.dtype}; expected {np.dtype(dtype)} (dtype in = dtype out)")


def _vacuous(grads: Arrays, dout: np.ndarray) -> bool:
    """True when the reference gradient is (numerically) zero: such an example proves nothing."""
    ref_size = float(np.max(np.abs(dout))) if dout.size else 0.0
    return all(float(np.max(np.abs(g), initial=0.0)) <= 1e-12 * ref_size for g in grads.values())


def _forward(spec: LayerSpec, cls: Any, arrays: Arrays, dtype: Any) -> tuple[Any, np.ndarray]:
    drv = driver_for(spec)
    layer = drv.build(cls, arrays, dtype)
    out = drv.forward(layer, arrays)
    _expect_dtype(out, dtype, f"{spec.name} forward output")
    # the strategies keep every layer's true output finite, so NaN or inf from finite inputs is
    # a bug (e.g. a softmax without max-subtraction), not something to compare or skip
    finite_in = all(np.all(np.isfinite(a)) for a in arrays.values() if a.dtype.kind == "f")
    if out.dtype.kind == "f" and finite_in and not np.all(np.isfinite(out)):
        i = tuple(int(j) for j in np.argwhere(~np.isfinite(out))[0]) if out.ndim else ()
        raise Mismatch(f"{spec.name} forward gave NaN/inf ({float(out[i])!r} at {i}) from finite inputs")
    return layer, out


def check_forward(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """Forward values, shape and dtype agree with the reference."""
    arrays, _, out = _draw_and_run(spec, cls, ref, draw, dtype)
    want = ref.value(*spec.bind(ref.name, arrays))
    rtol = exact_rtol(dtype, spec.numerics.cond(arrays))

    def judge() -> Errors:
        scale = _value_scale(spec, arrays, want)
        errors = Errors()
        for name, got_part, want_part in outputs.pairs(spec, out, want):
            what = f"{spec.name} forward{name} vs {ref.name}"
            errors |= compare(got_part, want_part, rtol, scale=scale, what=what, dtype=dtype)
        return errors

    return judged(spec, judge)


def check_vjp(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """Every gradient agrees with the reference's VJP at a drawn upstream gradient."""
    arrays, layer, out = _draw_and_run(spec, cls, ref, draw, dtype, unambiguous=True)
    dout = draw_dout(spec, draw, dtype, out.shape)
    fn, ref_arrays = spec.bind(ref.name, arrays)
    want = ref.vjp(fn, ref_arrays, spec.wrt, dout)
    assume(not _vacuous(want, dout))
    got = driver_for(spec).backward(layer, dout, arrays)
    for n in spec.wrt:
        _expect_dtype(got[n], arrays[n].dtype, f"{spec.name} gradient d{n}")
    _leave_out_kinks(spec, arrays, ref.name, got, want)
    rtol = exact_rtol(dtype, spec.numerics.cond(arrays))
    what = lambda n: f"{spec.name} d{n} vs {ref.name}"  # noqa: E731
    return judged(
        spec, lambda: _compare_gradients(spec, arrays, dout, got, want, what, rtol=rtol, dtype=dtype)
    )


def _compare_gradients(
    spec: LayerSpec,
    arrays: Arrays,
    dout: Any,
    got: Arrays,
    want: Arrays,
    what: Callable[[str], str],
    **kw: Any,
) -> Errors:
    """Every gradient in ``spec.wrt`` against ``want`` (``kw``: ``compare``'s rtol, atol, dtype),
    judged against its ``gradient_scale`` at upstream gradient ``dout``; ``what(name)`` names it.
    Callers run it under ``judged``, which decides whether derived scales count."""
    errors = Errors()
    for n in spec.wrt:
        scale = gradient_scale(spec, arrays, dout, want[n], n)
        errors |= compare(got[n], want[n], scale=scale, what=what(n), **kw)
    return errors


def _grad_scales(spec: LayerSpec, arrays: Arrays, dout: np.ndarray) -> dict[str, float]:
    """``spec.numerics.grad_scale`` per gradient: one number for all of them, or a mapping by name (0 where
    it names none), derived from its math (``derive_scales``); empty when the spec declares none."""
    if spec.numerics.grad_scale is None:
        return derived_grad_scales(spec, arrays, dout) if deriving(spec) else {}
    s = spec.numerics.grad_scale(arrays, dout)
    if isinstance(s, Mapping):
        return {n: float(s.get(n, 0.0)) for n in spec.wrt}
    return dict.fromkeys(spec.wrt, float(s))


def gradient_scale(spec: LayerSpec, arrays: Arrays, dout: np.ndarray, want: np.ndarray, name: str) -> float:
    """What errors in gradient ``name`` are judged against: the largest reference entry (NaN: left
    out), or the size of the terms the gradient is made of when the spec declares it
    (cancellation leaves the rounding behind)."""
    biggest = float(np.max(np.abs(want[~np.isnan(want)]), initial=0.0))
    return max(biggest, _grad_scales(spec, arrays, dout).get(name, 0.0))


def _value_scale(spec: LayerSpec, arrays: Arrays, want: np.ndarray) -> float | None:
    """What forward errors are judged against: ``compare``'s default (the largest finite reference
    entry), or at least the size of the terms the value is made of when the spec declares it."""
    terms = _declared_value_scale(spec, arrays)
    if terms is None:
        return None
    w = np.abs(np.asarray(want, dtype=np.float64))
    return max(float(np.max(w[np.isfinite(w)], initial=0.0)), terms)


def _declared_value_scale(spec: LayerSpec, arrays: Arrays) -> float | None:
    """``spec.numerics.value_scale``, or the one derived from its math (``derive_scales``), or None."""
    if spec.numerics.value_scale is not None:
        return spec.numerics.value_scale(arrays)
    return derived_value_scale(spec, arrays) if deriving(spec) else None


def _roundoff_size(spec: LayerSpec, arrays: Arrays, out: np.ndarray) -> np.ndarray:
    """How large the output's rounding is, elementwise, for the round-off of a finite difference:
    ``|out|``, or the size of its terms (``value_scale``) where that is larger."""
    size = np.abs(out.astype(np.float64))
    terms = _declared_value_scale(spec, arrays)
    return size if terms is None else np.maximum(size, terms)


def _kink_masks(spec: LayerSpec, arrays: Arrays, step: float) -> Arrays:
    """Elements finite differences must not perturb: those within two steps of a kink, and nonzero
    ones smaller than the step (x + h and x - h round to points not centred on x, which adds a
    second-order error as large as the gradient when the gradient is small)."""
    kinks = spec.kinks.at(arrays, 2 * step) if spec.kinks.at else {}
    tiny = {n: (arrays[n] != 0) & (np.abs(arrays[n]) < step) for n in spec.wrt}
    return {n: tiny[n] | np.asarray(kinks.get(n, False), bool) for n in spec.wrt}


def _leave_out_kinks(spec: LayerSpec, arrays: Arrays, ref_name: str, got: Arrays, want: Arrays) -> None:
    """A reference that does not follow the layer's convention exactly at a kink (``kink_references``)
    is not compared there: the gradients of the elements ``kinks(arrays, 0.0)`` marks (the last axes
    of a Jacobian) become NaN on both sides. Everything else is still compared."""
    if spec.kinks.at is None or spec.kinks.references is None or ref_name in spec.kinks.references:
        return
    for n, mask in spec.kinks.at(arrays, 0.0).items():
        m = np.asarray(mask, bool)
        if n in want and m.any():
            for side in (got, want):
                side[n] = np.array(side[n], dtype=np.float64, copy=True)
                side[n][..., m] = np.nan


def _check_conventions(spec: LayerSpec, arrays: Arrays, got: Arrays, dout: np.ndarray) -> None:
    """At a kink the layer must give the gradient its declared convention prescribes: exactly a
    number, or a function of ``dout`` to within an ulp of the dtype (``alpha * dout`` rounds once)."""
    if spec.kinks.gradient is None:
        return
    for n, (mask, value) in spec.kinks.gradient(arrays).items():
        want = np.broadcast_to(value(dout) if callable(value) else value, got[n].shape)
        ulp = np.finfo(got[n].dtype).eps if callable(value) and got[n].dtype.kind == "f" else 0.0
        wrong = mask & ~(np.abs(got[n] - want) <= ulp * np.abs(want))
        if wrong.any():
            i = tuple(int(j) for j in np.argwhere(wrong)[0])
            raise Mismatch(
                f"{spec.name} d{n} at a kink {i}: got {float(got[n][i])!r}, but the declared convention "
                f"({spec.kinks.convention}) gives {float(want[i])!r}"
            )


def _fd_function(spec: LayerSpec, cls: Any, dtype: Any) -> Callable[..., np.ndarray]:
    drv = driver_for(spec)
    return lambda **a: drv.value(cls, a, dtype)


def check_fd(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """<v, J u> by central differences (two forward passes) equals <backward(v), u>, away from kinks;
    at exact kinks the declared convention holds."""
    arrays, layer, out = _draw_and_run(spec, cls, ref, draw, dtype)
    dout = draw_dout(spec, draw, dtype, out.shape)
    got = driver_for(spec).backward(layer, dout, arrays)
    _check_conventions(spec, arrays, got, dout)
    masks = _kink_masks(spec, arrays, ref.step(dtype))
    drawn = {n: draw(strategies.direction(arrays[n].dtype, arrays[n].shape)) for n in spec.wrt}
    directions = {n: np.where(masks[n], 0, u).astype(u.dtype) for n, u in drawn.items()}
    assume(any(np.any(u != 0) for u in directions.values()))
    d = ref.directional(_fd_function(spec, cls, dtype), arrays, directions)
    v = dout.astype(np.float64)
    numeric = float(np.sum(v * d.difference))
    terms = [got[n].astype(np.float64) * d.delta[n] for n in spec.wrt]
    analytic = float(sum(t.sum() for t in terms))
    scale = float(sum(np.abs(t).sum() for t in terms) + np.abs(v * d.difference).sum())
    assume(scale > 0)
    cond = spec.numerics.cond(arrays)
    what = f"{spec.name} <backward(v), u> vs finite differences"

    def judge() -> Errors:
        atol = fd_roundoff(dtype, v, _roundoff_size(spec, arrays, out))
        # a gradient smaller than its terms carries their rounding: the backward's own, as exact
        # as against an exact reference (exact_rtol), not the differences' truncation (fd_rtol)
        scales = _grad_scales(spec, arrays, dout)
        rounding = sum(scales.get(n, 0.0) * float(np.abs(d.delta[n]).sum()) for n in spec.wrt)
        atol += exact_rtol(dtype, cond) * rounding
        return compare(analytic, numeric, fd_rtol(dtype, cond), scale=scale, atol=atol, what=what)

    return judged(spec, judge)


def _impl_jacobian(spec: LayerSpec, layer: Any, out: np.ndarray, arrays: Arrays, dtype: Any) -> Arrays:
    """The layer's Jacobian, built row by row from one backward pass per output element."""
    drv = driver_for(spec)
    jac = {n: np.zeros(out.shape + arrays[n].shape) for n in spec.wrt}
    for k in np.ndindex(*out.shape):
        e = np.zeros(out.shape, dtype)
        e[k] = 1
        e.setflags(write=False)
        grads = drv.backward(layer, e, arrays)
        for n in spec.wrt:
            jac[n][k] = grads[n]
    return jac


def check_jacobian(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """The full Jacobian (one backward per output element) equals the reference's (jacrev, or
    per-element central differences with columns at kinks left out)."""
    arrays, layer, out = _draw_and_run(spec, cls, ref, draw, dtype, unambiguous=True)
    got = _impl_jacobian(spec, layer, out, arrays, dtype)
    cond = spec.numerics.cond(arrays)
    roundoff: Callable[[], float] = lambda: 0.0  # noqa: E731
    if ref.name == "fd":
        h = ref.step(dtype)
        skip = _kink_masks(spec, arrays, h)
        want = ref.jacobian(_fd_function(spec, cls, dtype), arrays, spec.wrt, skip=skip)
        rtol = fd_rtol(dtype, cond)
        size = lambda: np.max(_roundoff_size(spec, arrays, out), initial=0.0)  # noqa: E731
        roundoff = lambda: fd_roundoff(dtype, np.asarray(1 / h), size())  # noqa: E731
        for n in spec.wrt:
            got[n][np.isnan(want[n])] = np.nan
    else:
        want = ref.jacobian(*spec.bind(ref.name, arrays), spec.wrt)
        _leave_out_kinks(spec, arrays, ref.name, got, want)
        rtol = exact_rtol(dtype, cond)
    unit = np.ones((), dtype)  # a Jacobian row's cotangent
    what = lambda n: f"{spec.name} Jacobian d(out)/d{n} vs {ref.name}"  # noqa: E731
    return judged(
        spec,
        lambda: _compare_gradients(
            spec, arrays, unit, got, want, what, rtol=rtol, atol=roundoff(), dtype=dtype
        ),
    )


def check_linearity(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """backward(a·v1 + b·v2) == a·backward(v1) + b·backward(v2), with a + b != 1: catches a
    backward that ignores or mishandles its upstream gradient."""
    arrays, layer, out = _draw_and_run(spec, cls, ref, draw, dtype)
    drv = driver_for(spec)
    v1, v2 = (draw_dout(spec, draw, dtype, out.shape) for _ in range(2))
    a, b = draw(strategies.scalar_factor()), draw(strategies.scalar_factor())
    assume(abs(a + b - 1) > 0.1)
    g1, g2 = (drv.backward(layer, v, arrays) for v in (v1, v2))
    v12 = readonly(np.asarray(a * v1.astype(np.float64) + b * v2.astype(np.float64), dtype=dtype))
    g12 = drv.backward(layer, v12, arrays)
    rtol = exact_rtol(dtype, spec.numerics.cond(arrays))
    same = "the same combination of backward(v1) and backward(v2)"

    def judge() -> Errors:
        errors = Errors()
        for n in spec.wrt:
            combined = a * g1[n].astype(np.float64) + b * g2[n].astype(np.float64)
            scale = abs(a) * gradient_scale(spec, arrays, v1, g1[n], n)
            scale += abs(b) * gradient_scale(spec, arrays, v2, g2[n], n)
            what = f"{spec.name} d{n}: backward({a:.3g}·v1 + {b:.3g}·v2) vs {same}"
            errors |= compare(g12[n], combined, rtol, scale=scale, dtype=dtype, what=what)
        return errors

    return judged(spec, judge)


def check_no_mutation(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """Forward and backward leave their inputs, parameters and upstream gradient untouched."""
    originals, _ = draw_case(spec, draw, dtype, fixed_shapes=_fixed_shapes(ref))  # read-only
    writable = {k: v.copy() for k, v in originals.items()}
    drv = driver_for(spec)
    layer = drv.build(cls, writable, dtype)
    out = drv.forward(layer, writable)
    dout_before = draw_dout(spec, draw, dtype, out.shape)
    dout = dout_before.copy()
    drv.backward(layer, dout, writable)
    for k, before in originals.items():
        if drv.owns_params and k in spec.params:
            continue
        if not np.array_equal(writable[k], before, equal_nan=True):
            role = "parameter" if k in spec.params else "input"
            raise Mismatch(f"{spec.name}: forward/backward wrote into its {role} {k}")
    if not np.array_equal(dout, dout_before, equal_nan=True):
        raise Mismatch(f"{spec.name}: backward wrote into dout")
    return Errors()


def check_state(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """Forward twice then backward uses the latest forward; backward twice gives the same result;
    two live instances keep their own state (a mask kept on the class, not the instance, passes
    every single-instance check and breaks the first of two ReLUs in one network)."""
    first, sizes = draw_case(spec, draw, dtype, fixed_shapes=_fixed_shapes(ref))
    second, _ = draw_case(spec, draw, dtype, sizes)
    latest = {**first, **{i: second[i] for i in spec.inputs}}
    note(draw, arrays=latest)
    drv = driver_for(spec)
    layer = drv.build(cls, first, dtype)
    drv.forward(layer, first)
    out = drv.forward(layer, latest)
    dout = draw_dout(spec, draw, dtype, out.shape)
    got = drv.backward(layer, dout, latest)
    again = drv.backward(layer, dout, latest)
    fresh_layer = drv.build(cls, latest, dtype)
    drv.forward(fresh_layer, latest)
    fresh = drv.backward(fresh_layer, dout, latest)
    rtol = exact_rtol(dtype, spec.numerics.cond(latest))
    errors = Errors()
    for n in spec.wrt:
        what = f"{spec.name} d{n}"
        errors |= compare(got[n], fresh[n], rtol, dtype=dtype, what=f"{what} after two forwards vs one")
        errors |= compare(again[n], got[n], rtol, dtype=dtype, what=f"{what}: second backward vs first")
    return errors | _two_instances(spec, cls, first, latest, dout, fresh, dtype)


def _two_instances(
    spec: LayerSpec, cls: Any, first: Arrays, latest: Arrays, dout: np.ndarray, alone: Arrays, dtype: Any
) -> Errors:
    """Two instances, forward on ``first`` then (the second) on ``latest``, then backward both: each
    must give what a single instance gives (``alone``: the one on ``latest``)."""
    drv = driver_for(spec)
    one, other = drv.build(cls, first, dtype), drv.build(cls, latest, dtype)
    drv.forward(one, first)
    drv.forward(other, latest)
    got_one = drv.backward(one, dout, first)
    got_other = drv.backward(other, dout, latest)
    single = drv.build(cls, first, dtype)
    drv.forward(single, first)
    alone_one = drv.backward(single, dout, first)
    shared = "(state kept on the class is shared by every instance)"
    errors = Errors()
    for n in spec.wrt:
        rtol = exact_rtol(dtype, spec.numerics.cond(first))
        what = f"{spec.name} d{n} of an instance after another instance's forward vs alone {shared}"
        errors |= compare(got_one[n], alone_one[n], rtol, dtype=dtype, what=what)
        what = f"{spec.name} d{n} of the second of two live instances vs alone {shared}"
        errors |= compare(got_other[n], alone[n], rtol, dtype=dtype, what=what)
    return errors


def check_batch(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """A row-wise layer gives each row of a batch what it gives that row alone; parameter
    gradients are the sums of the per-row ones."""
    arrays, _ = draw_case(spec, draw, dtype, fixed_shapes=_fixed_shapes(ref))
    batch = arrays[spec.inputs[0]]
    assume(batch.ndim >= 1 and len(batch) >= 2)
    drv = driver_for(spec)
    layer, out = _forward(spec, cls, arrays, dtype)
    dout = draw_dout(spec, draw, dtype, out.shape)
    got = drv.backward(layer, dout, arrays)
    rtol = exact_rtol(dtype, spec.numerics.cond(arrays))
    errors = Errors()
    differentiated_inputs = [n for n in spec.wrt if n not in spec.params]
    rows = []  # each row's gradients, computed alone
    for r in range(len(batch)):
        row = {k: (v[r : r + 1] if k in spec.inputs else v) for k, v in arrays.items()}
        row_layer, row_out = _forward(spec, cls, row, dtype)
        what = f"{spec.name} forward of row {r} alone vs in the batch"
        errors |= compare(row_out, out[r : r + 1], rtol, dtype=dtype, what=what)
        rows.append(drv.backward(row_layer, readonly(dout[r : r + 1]), row))

    def judge() -> Errors:
        errors = Errors()
        for r, n in ((r, n) for r in range(len(batch)) for n in differentiated_inputs):
            in_batch = got[n][r : r + 1]
            scale = gradient_scale(spec, arrays, dout, in_batch, n)
            what = f"{spec.name} d{n} of row {r} alone vs in the batch"
            errors |= compare(rows[r][n], in_batch, rtol, scale=scale, dtype=dtype, what=what)
        terms = _grad_scales(spec, arrays, dout)
        for p in spec.params:
            per_row = [g[p].astype(np.float64) for g in rows]
            scale = max(float(np.max(sum(np.abs(g) for g in per_row))), terms.get(p, 0.0))
            what = f"{spec.name} d{p} of the batch vs the sum over its rows"
            errors |= compare(got[p], sum(per_row), rtol, scale=scale, dtype=dtype, what=what)
        return errors

    return errors | judged(spec, judge)


def check_agreement(spec: LayerSpec, cls: Any, jax_ref: Any, draw: Draw, dtype: Any) -> Errors:
    """The spec's torch and jax math agree with each other: the spec is itself checked (``cls`` is
    not used). Both compute in float64, so it runs in the spec's first dtype only."""
    torch_ref = get_reference("torch")
    arrays, _ = draw_case(spec, draw, dtype)
    # two exact references may round an intermediate within rounding of a kink to either side
    assume(not (spec.kinks.ambiguous is not None and spec.kinks.ambiguous(arrays)))
    rtol = exact_rtol(np.float64, spec.numerics.cond(arrays))
    t_fn, t_arrays = spec.bind("torch", arrays)
    j_fn, j_arrays = spec.bind("jax", arrays)
    t_out, j_out = torch_ref.value(t_fn, t_arrays), jax_ref.value(j_fn, j_arrays)
    what_out = f"spec {spec.name}: torch vs jax forward"
    errors = judged(
        spec, lambda: compare(t_out, j_out, rtol, scale=_value_scale(spec, arrays, t_out), what=what_out)
    )
    dout = draw_dout(spec, draw, dtype, t_out.shape)
    t_g = torch_ref.vjp(t_fn, t_arrays, spec.wrt, dout)
    j_g = jax_ref.vjp(j_fn, j_arrays, spec.wrt, dout)
    for name in ("torch", "jax"):
        _leave_out_kinks(spec, arrays, name, t_g, j_g)
    what = lambda n: f"spec {spec.name}: torch vs jax d{n}"  # noqa: E731
    return errors | judged(spec, lambda: _compare_gradients(spec, arrays, dout, t_g, j_g, what, rtol=rtol))


def check_samples(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """The spec's fixed edge cases: forward values and (for a layer) every gradient agree with the
    reference, NaN and infinities included: NaN where the reference has NaN and only there."""
    # a convention sample binds the spec's own layer only
    samples = [s for s in spec.edges.samples if cls is spec.layer or s.convention is None]
    sample = samples[draw(st.sampled_from(range(len(samples))))]  # an index replays as a literal
    arrays = {
        k: readonly(np.asarray(v, dtype if np.asarray(v).dtype.kind == "f" else None))
        for k, v in sample.arrays.items()
    }
    note(draw, arrays=arrays, dout=None)
    drv = driver_for(spec)
    layer = drv.build(cls, arrays, dtype)
    out = drv.forward(layer, arrays)
    _expect_dtype(out, dtype, f"{spec.name} forward output")
    fn, ref_arrays = spec.bind(ref.name, arrays)
    what = f"{spec.name} sample {sample.name!r}"
    rtol = exact_rtol(dtype, spec.numerics.cond(arrays))
    errors = compare(out, ref.value(fn, ref_arrays), rtol, what=f"{what}: forward vs {ref.name}", dtype=dtype)
    if not drv.takes_dout:  # a network's gradient(x, t): its samples judge its values
        return errors
    if sample.dout is None:  # not constant: under all ones softmax's gradient is 0
        given = np.linspace(-1.5, 2.0, out.size).reshape(out.shape).astype(dtype)
    else:
        given = np.asarray(sample.dout, dtype)
    dout = readonly(np.broadcast_to(given, out.shape))
    note(draw, dout=dout)
    want = ref.vjp(fn, ref_arrays, spec.wrt, dout)
    got = drv.backward(layer, dout, arrays)
    for n in spec.wrt:
        errors |= compare(got[n], want[n], rtol, what=f"{what}: d{n} vs {ref.name}", dtype=dtype)
    return errors


def check_eval_mode(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """The class in test mode (``spec.modes.eval``: ``train_flg=False``) gives its reference's
    values: inverted dropout is the identity there, the book's multiplies by ``1 - p``, batch norm
    normalizes by the running statistics. Settings the two specs share (eps) follow this one's."""
    assert spec.modes.eval is not None
    shared = {k: v for k, v in spec.conventions.settings.items() if k in spec.modes.eval.conventions.settings}
    # on this spec's shape sets: those the class runs on, when the check restricted them
    test = replace(spec.modes.eval.with_settings(shared), shapes=spec.shapes)
    return check_forward(test, cls, ref, draw, dtype)


def check_running_stats(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """After one to three training forwards from drawn running statistics, the class's statistics
    equal the framework's own update (the book's ``running = m*running + (1-m)*batch`` is torch's
    momentum ``1 - m``), and a test-mode forward normalizes by them. The reference gives one row
    per accepted convention (``RunningStats``); the class passes if it agrees with any of them."""
    run, test = spec.modes.running, spec.modes.eval
    assert run is not None and test is not None
    arrays, sizes = draw_case(spec, draw, dtype)
    start, _ = draw_case(test, draw, dtype, sizes)
    more = draw(st.integers(0, 2))
    batches = [arrays["x"], *(draw_case(spec, draw, dtype, sizes)[0]["x"] for _ in range(more))]
    m = draw(st.sampled_from(run.momenta))
    case = {**arrays, **{k: start[k] for k in test.construction.init_arrays}, "momentum": np.asarray(m)}
    note(draw, arrays={**case, "xs": np.stack(batches)})
    hyper = (*spec.construction.hyper, "momentum")
    construction = {"init_arrays": test.construction.init_arrays, "hyper": hyper}
    train = driver_for(revise(spec, construction=construction))
    layer = train.build(cls, case, dtype)
    for x in batches:
        train.forward(layer, {**case, "x": x})
    missing = [a for a in run.attributes if getattr(layer, a, None) is None]
    if missing:
        raise Mismatch(f"{type(layer).__name__} has no {', '.join(missing)} after training forwards")
    got = [np.asarray(getattr(layer, a)) for a in run.attributes]
    got.append(driver_for(test).forward(layer, {**case, "x": batches[-1]}))
    eps = float(np.asarray(arrays.get("eps", test.conventions.settings.get("eps", 0.0))))
    given = {k: v for k, v in case.items() if k not in ("x", "momentum", "eps")}
    rows = ref.value(functools.partial(run.torch, momentum=m, eps=eps), {**given, "xs": np.stack(batches)})
    rtol = exact_rtol(dtype, spec.numerics.cond(arrays))
    biggest = float(np.max(np.abs(np.stack(batches)), initial=0.0))
    names = (*run.attributes, "test-mode output")
    tried: list[Mismatch] = []
    for convention, want in zip(run.conventions, np.atleast_2d(rows), strict=True):
        errors, at = Errors(), 0
        try:
            for i, (name, value) in enumerate(zip(names, got, strict=True)):
                expected = want[at : at + value.size].reshape(value.shape)
                at += value.size
                what = (
                    f"{spec.name} {name} after {len(batches)} training forward(s), momentum {m}, "
                    f"vs {ref.name} ({convention})"
                )

                def judge(
                    i: int = i, value: Any = value, expected: Any = expected, what: str = what
                ) -> Errors:
                    if i < len(run.attributes):  # means and variances of the batches: terms up to |x|, x**2
                        scale = max(float(np.max(np.abs(expected), initial=0.0)), biggest, biggest**2)
                    else:
                        scale = _value_scale(test, {**case, "x": batches[-1]}, expected) or 0.0
                    return compare(value, expected, rtol, scale=scale or None, dtype=dtype, what=what)

                errors |= judged(test, judge)
            return errors
        except Mismatch as exc:
            tried.append(exc)
    raise tried[0]


def _same_memory(a: Any, b: Any) -> bool:
    return isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and np.shares_memory(a, b)


def check_aliasing(spec: LayerSpec, cls: Any, ref: Any, draw: Draw, dtype: Any) -> Errors:
    """Arrays that outlive a call stay the arrays others hold: book 2's ``grads[i]`` after backward
    is the array it was before (optimizers and the Trainer keep references to it, so a layer must
    write ``grads[0][...] = dW``, not rebind ``grads[0] = dW``); no gradient backward returns is
    ``dout`` itself (or a view of it), nor the same array as another returned gradient: an
    ``AddLayer`` returning ``dout`` twice breaks silently once a layer downstream works in place."""
    _, layer, out = _draw_and_run(spec, cls, ref, draw, dtype)
    drv = driver_for(spec)
    name = type(layer).__name__
    store = getattr(layer, "grads", None)
    held = list(store) if isinstance(store, list) else None
    dout = draw_dout(spec, draw, dtype, out.shape)
    returned = drv._call(layer, "backward", outputs.split(spec, dout), {})
    wanted = [i for i in spec.inputs if i not in spec.constants]
    values = returned if isinstance(returned, (tuple, list)) else (returned,)
    grads = dict(zip(wanted, values, strict=False))
    for n, g in grads.items():
        if _same_memory(g, dout):  # a view of one output's slice of dout shares dout's memory
            raise Mismatch(
                f"{name}.backward returns dout itself (or a view of it) as d{n}: a layer downstream "
                f"that works in place would change it; return a new array (dout * 1, dout.copy())"
            )
    for i, a in enumerate(wanted):
        for b in wanted[i + 1 :]:
            if a in grads and b in grads and _same_memory(grads[a], grads[b]):
                raise Mismatch(
                    f"{name}.backward returns the same array as d{a} and d{b}: changing one changes "
                    "the other; return separate arrays"
                )
    if held is not None:  # read again: a property may build the list anew, of the same arrays
        store = getattr(layer, "grads", None)
        for i, (before, now) in enumerate(zip(held, store or (), strict=False)):
            if now is not before:
                param = spec.params[i] if i < len(spec.params) else str(i)
                raise Mismatch(
                    f"{name}.backward rebinds grads[{i}] (d{param}) to a new array instead of writing "
                    f"into it: optimizers and the Trainer hold the old one; write "
                    f"self.grads[{i}][...] = d{param}"
                )
    return Errors()


#: why a property is n/a for a spec, or None if it applies
Rule = Callable[[LayerSpec], str | None]


def _rule(*tests: tuple[Callable[[LayerSpec], bool], str]) -> Rule:
    """n/a for a spec with the reason of the first ``(test, reason)`` that holds for it."""
    return lambda spec: next((why for test, why in tests if test(spec)), None)


_NO_FORWARD = (
    lambda s: isinstance(s, OptimizerSpec),
    "an optimizer has no forward/backward: its updates are checked by the optimizer property",
)
_NO_BACKWARD = (lambda s: not s.modes.backward, "the convention has no backward in this mode")


def _calls_backward(*tests: tuple[Callable[[LayerSpec], bool], str]) -> Rule:
    """A property that calls backward: n/a without one, for an optimizer, and where ``tests`` say."""
    return _rule(_NO_BACKWARD, _NO_FORWARD, *tests)


_BACKWARD = _calls_backward()


def _not_for_nets(why: str) -> tuple[Callable[[LayerSpec], bool], str]:
    return lambda s: isinstance(s, NetSpec), why


@dataclass(frozen=True)
class Property:
    """One generic property; ``references`` empty means the layer is judged against itself.

    ``needs`` names further references the property uses besides its column's; a property that
    ``judges`` the spec rather than a layer class does not run for somebody's class (``check``)
    and, computing in float64 whatever the dtype, runs in the spec's first dtype only.
    ``applies(spec)``: None, or why the property is n/a for ``spec`` (its own rule).
    """

    name: str
    summary: str
    references: tuple[str, ...]
    run: Callable[[LayerSpec, Any, Any, Draw, Any], Errors]
    applies: Rule = _BACKWARD
    needs: tuple[str, ...] = ()
    judges: Literal["layer", "spec"] = "layer"
    #: list the property as "n/a" where it does not apply (False: a column of its own kind of spec
    #: only, like ``optimizer``, which would be n/a for every layer)
    listed_when_na: bool = True


PROPERTIES: tuple[Property, ...] = (
    Property("forward", "values, shape and dtype", ("torch", "jax"), check_forward, _rule(_NO_FORWARD)),
    Property("vjp", "every gradient at a drawn upstream gradient", ("torch", "jax"), check_vjp),
    Property("fd", "<backward(v), u> vs two forward passes, away from kinks", ("fd",), check_fd),
    Property(
        "jacobian", "the full Jacobian, one backward per output", ("torch", "jax", "fd"), check_jacobian
    ),
    Property(
        "linearity",
        "backward is linear in the upstream gradient",
        (),
        check_linearity,
        _calls_backward(_not_for_nets("a network's gradient(x, t) takes no upstream gradient")),
    ),
    Property("no_mutation", "inputs, parameters and dout are left untouched", (), check_no_mutation),
    Property(
        "state",
        "latest forward wins; backward twice agrees; own state per instance",
        (),
        check_state,
        _calls_backward(_not_for_nets("a network's gradient(x, t) runs its own forward pass")),
    ),
    Property(
        "batch",
        "rows of a batch are independent",
        (),
        check_batch,
        _calls_backward(
            (lambda s: not s.row_wise, "the layer mixes rows (e.g. a loss averaged over the batch)")
        ),
    ),
    Property(
        "aliasing",
        "grads[i] written in place; gradients are neither dout nor each other",
        (),
        check_aliasing,
        _calls_backward(
            _not_for_nets("a network's gradients come from gradient(x, t), not a backward of its own")
        ),
    ),
    Property(
        "samples",
        "fixed edge cases (ties, NaN, inf·0)",
        ("torch",),
        check_samples,
        _calls_backward((lambda s: not s.edges.samples, "the spec declares no fixed samples")),
    ),
    Property(
        "agreement",
        "the spec's jax math agrees with its torch math",
        ("jax",),
        check_agreement,
        _rule(_NO_FORWARD),
        needs=("torch",),
        judges="spec",
    ),
    Property(
        "eval_mode",
        "test mode (train_flg=False) forward vs the reference's eval mode",
        ("torch", "jax"),
        check_eval_mode,
        _rule(
            (lambda s: s.modes.eval is None, "the spec has no test mode of its own"),
            _NO_BACKWARD,
            _NO_FORWARD,
        ),
        listed_when_na=False,
    ),
    Property(
        "running_stats",
        "running statistics after training forwards vs the framework's update, then test mode",
        ("torch",),
        check_running_stats,
        _rule(
            (
                lambda s: s.modes.running is None or s.modes.eval is None,
                "the layer keeps no running statistics",
            ),
            _NO_BACKWARD,
            _NO_FORWARD,
        ),
        listed_when_na=False,
    ),
    Property(
        "optimizer",
        "update(params, grads) step by step vs the framework's optimizer",
        ("torch", "jax"),
        check_optimizer,
        _rule((lambda s: not isinstance(s, OptimizerSpec), "not an optimizer (no update(params, grads))")),
        listed_when_na=False,
    ),
    Property(
        "stateful",
        "stateful blocks join; truncated BPTT, dh, reset_state; stateful=False forgets",
        ("torch", "jax"),
        check_stateful,
        _rule(
            (lambda s: not isinstance(s, SequenceSpec), "not a stateful sequence layer"),
            _NO_BACKWARD,
            _NO_FORWARD,
        ),
        listed_when_na=False,
    ),
)


def property_named(name: str) -> Property:
    for p in PROPERTIES:
        if p.name == name:
            return p
    raise KeyError(f"unknown property {name!r}; known: {', '.join(p.name for p in PROPERTIES)}")
