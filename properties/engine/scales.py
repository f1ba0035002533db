"""Term-size scales derived from a spec's own math (``Numerics.derive_scales``), so that a spec
needs no hand-written ``value_scale``/``grad_scale`` hooks.

An honest implementation rounds every number it computes: a result is as exact as the terms it is
made of, not as the result itself (``x - mean(x)`` of nearly equal values, a sum of products that
cancels). The spec's jax math is traced to primitives (``jax.make_jaxpr``) and a running error
bound is carried through them, in units of ``eps``, computed in float64:

* an input contributes ``|a|`` (it is exact, but every use of it rounds on its size);
* a sum (``add``, ``reduce_sum``, ``scatter-add``) passes its operands' bounds on and adds its
  terms' magnitudes; a product (``mul``, ``dot_general``, convolution) adds ``|a| @ b_B + b_A @
  |B| + |A| @ |B|``: for a sum of products that is the math on ``|inputs|``; and the second-order
  ``r * b_A @ b_B`` (``r`` the relative error the tolerance admits), which is all there is where
  both operands are 0 in float64 and rounding noise in the layer (:func:`_second_order`);
* any other elementwise primitive passes ``|f'(x)| * b`` on (by ``jax.jvp``) and adds ``|f(x)|``;
  moving data (reshape, broadcast, gather, select) moves the bounds, and a max takes theirs.

For a normalization that is the spread (``(|x| + |mean|) / std``, its condition number); for a
gradient the same bound runs through the traced ``jax.vjp``, whose primitives are the chain
rule's sums (``dxn - mean(dxn)`` cancels where a normalized vector has two entries). A Jacobian
row's unit upstream gradient (0-d) takes the largest bound over the rows.

**Derived only where needed** (:func:`judged`). A derived scale only ever loosens a tolerance (each
check takes the larger of it and the largest reference entry), so an example that passes without
it passes with it: every comparison is first judged without, and only one that fails is judged
again with the derived scales. The verdict is the same as deriving every time, but a correct layer's
check rarely traces anything, and a run against finite differences imports no jax until an example
needs it (the learner's fd check stays numpy-only and fast).

**Without jax** there is nothing to trace; with torch the terms' size is estimated from their
rounding instead: the same spec function (value, vjp or Jacobian) computed by torch in float32,
its largest error against float64 in units of float32's eps (``_rounding``), the largest of four
runs (``NUDGES``): as drawn; with every float input nudged one ulp, up and down in turn and at
random; and randomly rounded, every float result of a torch operation in the spec function moved
one ulp (a torch function mode; Monte Carlo arithmetic's random rounding). The nudges make an
exact cancellation in torch's float32 round as the layer's may: equal columns of a weight
(multi_layer_net's ``db1`` at 0 where NumPy's is -4.2e-9, found by the mutation profile; the
cancellation is in the backward pass, which only nudged inputs reach) and a batch norm of
constant columns (x = 0, which only the rounding run reaches). A cancellation shows there as it
does in the layer (layer_norm's two-entry vectors, which failed impl's correct layer without jax
at up to 10.8 times the tolerance in 4 of 6 torch cells under the mutation profile, all pass).
It is still an estimate, a sample of the rounding and not a bound: random dev seeds without jax
still find rare false alarms (an attention linearity cell at 58 times the tolerance,
multi_layer_net_extend's ``db1`` at 4.9e4 times, docs/ROBUSTNESS.md section 6).

Without torch either, a comparison failing without the derived scale stays a failure, and its
message says that the tolerance could not be widened to the size of the terms. A pass is a pass
either way, and the scales only loosen where a comparison failed.
Of the converted specs' own layers, 100 examples per fd and self cell without jax (issue 19),
none needed a second judgement (time_gru's failure, below, fails with jax too).
In the finite-difference check a gradient's scale counts at the exact rate (``tolerances.py``).

Where the derived scale does not serve, a spec keeps its hooks (measured, issue 19):

* softmax-like layers, losses and networks with a ``cond`` (softmax, softmax_nd, the
  softmax_with_loss family, softmax_then_cross_entropy, sigmoid_with_loss, softmax_loss,
  two_layer_net, simple_conv_net): ``cond`` already scales the tolerance by the logits' size,
  which the bound counts again (derived / hand-written up to 6e4 for softmax, 4.5e4 for
  sigmoid_with_loss);
* batch_norm, batch_norm_per_feature (and the eval specs built on them): the derived scale serves
  (dx 1 ppm off still rejected everywhere; thorough profile green), but their correct layer needs
  it often (117 and 175 judgements failed without it in 12 cells x 100 examples: a normalized
  vector of two entries cancels), so without jax the linearity cells failed impl's correct layer
  in both dtypes, and a run against finite differences would load jax for most examples;
* the recurrent sequences (time_rnn, time_lstm, time_gru and their variants, which share their
  settings): with a step-by-step rule for scan (eeedbcd) they rejected dx 1 ppm off, but their fd
  cells failed impl's correct layer, with jax too: time_gru in float32 (270 times the tolerance,
  an output of 6e-8), time_rnn_time_major in float64 (2e8 times, a result of 9e-16), one example
  in 100 each, which the hooks pass (``unit_scale``'s absolute errors; 0.007 and 0.06);
* negative_sampling_loss's gradients: the derived bound follows the stable reference math, whose
  terms are smaller than those of the book's ``(y - t)`` at a saturated score, and failed impl's
  correct layer there (1.11 times the tolerance).
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np

from layer_crosscheck.properties.engine.compare import Mismatch
from layer_crosscheck.properties.engine.spec import Arrays, LayerSpec
from layer_crosscheck.properties.engine.tolerances import exact_rtol
from layer_crosscheck.reference import get_reference

__all__ = ["derived_grad_scales", "derived_value_scale", "deriving", "judged"]

T = TypeVar("T")
#: set while a comparison that failed without the derived scales is judged again with them
_DERIVING: contextvars.ContextVar[bool] = contextvars.ContextVar("deriving_scales", default=False)
_NO_JAX = (
    "\n(judged without the tolerance derived from the spec's math, which needs jax or torch: "
    "install either to rule out the rounding of cancelled terms)"
)
_BY_TORCH = (
    "\n(judged with the tolerance widened to the size of the terms estimated from the spec's "
    "rounding in float32, by torch: jax, not installed, would bound it from the spec's own terms)"
)


def deriving(spec: LayerSpec) -> bool:
    """Whether ``spec``'s scales are derived in the comparison being judged (see :func:`judged`)."""
    return spec.numerics.derive_scales and _DERIVING.get()


def judged(spec: LayerSpec, judge: Callable[[], T]) -> T:
    """``judge()`` (comparisons, raising :class:`Mismatch`), first without ``spec``'s derived scales,
    and, only where that fails, again with them: they only loosen, so the verdict is theirs."""
    if not spec.numerics.derive_scales or _DERIVING.get():
        return judge()
    try:
        return judge()
    except Mismatch:
        token = _DERIVING.set(True)
        try:
            return judge()
        except Mismatch as exc:
            if _jax() is None:
                note = _NO_JAX if _torch() is None else _BY_TORCH
                raise Mismatch(f"{exc}{note}", exc.errors) from exc
            raise
        finally:
            _DERIVING.reset(token)


_DOUT = "__dout__"  # the upstream gradient, one more argument of the traced vjp
#: the second-order weight, an argument (not a constant) so both dtypes share one compiled bound
_SECOND = "__second__"
#: sums: bounds pass on, the terms' magnitudes are the new rounding
_SUMS = {"add_any", "reduce_sum", "cumsum", "scatter-add", "scatter_add"}
#: bilinear: each operand's bound times the others' magnitudes, plus the products' magnitudes
_PRODUCTS = {"dot_general", "conv_general_dilated"}
#: a selection among the operands (no rounding, the bound of what is selected, at most the
#: largest) or data moved: the bounds are selected or moved alike
_MOVES = {"reduce_max", "reduce_min", "cummax", "cummin", "sort", "stop_gradient", "copy", "copy_p",
          "broadcast_in_dim", "reshape", "transpose", "squeeze", "expand_dims", "slice", "rev", "pad",
          "dynamic_slice", "dynamic_update_slice", "concatenate", "gather", "split", "stack",
          "unstack"}  # fmt: skip
#: primitives that call a jaxpr once, as a function: their bounds are those of the jaxpr's body
_CALLS = {"pjit", "jit", "closed_call", "core_call", "custom_jvp_call", "custom_vjp_call", "remat",
          "checkpoint", "custom_vjp_call_jaxpr"}  # fmt: skip


def _is_float(v: Any) -> bool:
    return np.dtype(getattr(v, "dtype", np.float64)).kind == "f"


def _sub_jaxpr(params: dict[str, Any]) -> Any:
    for key in ("jaxpr", "call_jaxpr", "fun_jaxpr"):
        if key in params and hasattr(params[key], "jaxpr"):
            return params[key]
    return None


def _elementwise(eqn: Any, vals: Sequence[Any]) -> bool:
    shape = tuple(eqn.outvars[0].aval.shape)
    try:
        return all(np.broadcast_shapes(np.shape(v), shape) == shape for v in vals)
    except ValueError:
        return False


def _rule(
    J: Any, eqn: Any, vals: list[Any], bounds: list[Any], second: Any
) -> tuple[list[Any], list[Any]]:
    """One primitive: its values and the bounds of its float results; ``second`` weighs a
    product's second-order term (the two operands' errors multiplied)."""
    prim, params = eqn.primitive, eqn.params
    sub = _sub_jaxpr(params)
    if sub is not None:
        if prim.name not in _CALLS:  # a loop or a branch: not a single pass through its body
            raise NotImplementedError(f"derive_scales: no error-bound rule for primitive {prim.name}")
        return _interpret(J, sub, vals, bounds, second)
    bind = lambda *args: prim.bind(*args, **params)  # noqa: E731
    results = bind(*vals)
    outs = list(results) if prim.multiple_results else [results]
    if not any(_is_float(o) for o in outs):
        return outs, [None] * len(outs)
    jnp = J.jnp
    mags = [jnp.abs(v) if b is not None else v for v, b in zip(vals, bounds, strict=True)]
    moved = [b if b is not None else v for v, b in zip(vals, bounds, strict=True)]
    name = prim.name
    if name in _SUMS:
        b_out = [bind(*moved), bind(*mags)]
    elif name in _PRODUCTS:
        b_out = [bind(*mags)] + [
            bind(*mags[:i], b, *mags[i + 1 :]) for i, b in enumerate(bounds) if b is not None
        ]
        if all(b is not None for b in bounds):
            b_out.append(second * bind(*bounds))
    elif name in _MOVES:
        b_out = [bind(*moved)]
    elif not _elementwise(eqn, vals):
        raise NotImplementedError(f"derive_scales: no error-bound rule for primitive {name}")
    else:  # elementwise: |f'(x)| * b through each operand, plus the rounding of f(x)
        b_out = [jnp.abs(outs[0])]
        for i, b in enumerate(bounds):
            if b is not None:
                f = lambda z, i=i: prim.bind(*vals[:i], z, *vals[i + 1 :], **params)  # noqa: E731
                b_out.append(jnp.abs(J.jax.jvp(f, (vals[i],), (b,))[1]))
        if name == "mul" and all(b is not None for b in bounds):
            b_out.append(second * bounds[0] * bounds[1])
    if prim.multiple_results:  # split and the like move data: one bound per result
        return outs, list(b_out[0])
    total = functools.reduce(lambda p, q: p + q, b_out)
    return outs, [total.astype(outs[0].dtype) if _is_float(outs[0]) else None]


def _interpret(
    J: Any, closed: Any, vals: Sequence[Any], bounds: Sequence[Any], second: Any
) -> tuple[list[Any], list[Any]]:
    """Run a closed jaxpr on values, carrying every float value's error bound alongside."""
    from jax.extend.core import Literal  # jax is loaded: this runs inside the jax reference

    jaxpr = closed.jaxpr
    env: dict[Any, tuple[Any, Any]] = {}

    def read(x: Any) -> tuple[Any, Any]:
        if isinstance(x, Literal):  # exact: no bound of its own
            return x.val, (J.jnp.zeros_like(x.val) if _is_float(x.val) else None)
        return env[x]

    for var, c in zip(jaxpr.constvars, closed.consts, strict=True):
        env[var] = (c, J.jnp.abs(c) if _is_float(c) else None)
    for var, v, b in zip(jaxpr.invars, vals, bounds, strict=True):
        env[var] = (v, b)
    for eqn in jaxpr.eqns:
        ins = [read(x) for x in eqn.invars]
        outs, out_bounds = _rule(J, eqn, [v for v, _ in ins], [b for _, b in ins], second)
        for var, v, b in zip(eqn.outvars, outs, out_bounds, strict=True):
            env[var] = (v, b)
    results = [read(x) for x in jaxpr.outvars]
    return [v for v, _ in results], [b for _, b in results]


def _bound(J: Any, f: Callable[..., Any], args: Sequence[Any], second: Any) -> list[Any]:
    """The bounds of ``f(*args)``'s results, every float argument contributing its magnitude."""
    closed = J.jax.make_jaxpr(f)(*[J.jax.ShapeDtypeStruct(np.shape(a), a.dtype) for a in args])
    bounds = [J.jnp.abs(a) if _is_float(a) else None for a in args]
    return _interpret(J, closed, args, bounds, second)[1]


@functools.cache
def _value_bound_fn(fn: Callable[..., Any], names: tuple[str, ...]) -> Callable[..., Any]:
    """A spec function (for the jax reference to jit) giving the largest bound of ``fn``'s value."""

    def value_bound(J: Any, **arrays: Any) -> Any:
        f = lambda *args: fn(J, **dict(zip(names, args, strict=True)))  # noqa: E731
        (b,) = _bound(J, f, [arrays[n] for n in names], arrays[_SECOND])
        return J.jnp.max(b, initial=0.0)

    return value_bound


@functools.cache
def _grad_bound_fn(
    fn: Callable[..., Any], names: tuple[str, ...], wrt: tuple[str, ...]
) -> Callable[..., Any]:
    """A spec function giving the largest bound of each gradient of ``fn`` at ``__dout__``; a
    stack of cotangents (one per Jacobian row) gives each gradient's largest bound over the rows."""

    def vjp(J: Any, dout: Any, *args: Any) -> Any:
        given = dict(zip(names, args, strict=True))
        rest = {k: v for k, v in given.items() if k not in wrt}
        g = lambda *d: fn(J, **rest, **dict(zip(wrt, d, strict=True)))  # noqa: E731
        return J.jax.vjp(g, *[given[n] for n in wrt])[1](dout)

    def grad_bound(J: Any, **arrays: Any) -> Any:
        args, dout, second = [arrays[n] for n in names], arrays[_DOUT], arrays[_SECOND]
        one = lambda d: J.jnp.stack(  # noqa: E731
            [J.jnp.max(b, initial=0.0) for b in _bound(J, lambda d, *a: vjp(J, d, *a), [d, *args], second)]
        )
        return J.jnp.max(J.jax.vmap(one)(dout), axis=0) if dout.ndim > len(_out_shape(arrays)) else one(dout)

    return grad_bound


def _out_shape(arrays: Any) -> tuple[int, ...]:
    return tuple(np.shape(arrays["__out__"]))


def _second_order(arrays: Arrays) -> float:
    """The weight of a product's second-order term: the relative error the tolerance admits in
    each operand (``exact_rtol`` of the case's dtype). Where both operands are zero in the float64
    reference but rounded to small nonzero values in the layer's dtype (a batch-normalized constant
    column times a gradient that cancelled to zero), their product's error is this term alone."""
    dtypes = [np.asarray(a).dtype for a in arrays.values() if np.asarray(a).dtype.kind == "f"]
    return max((exact_rtol(d) for d in dtypes), default=exact_rtol(np.float64))


def _jax() -> Any:
    ref = get_reference("jax")
    return ref if ref.unavailable() is None else None


def _torch() -> Any:
    ref = get_reference("torch")
    return ref if ref.unavailable() is None else None


_SINGLE_EPS = float(np.finfo(np.float32).eps)


def _in_single(fn: Callable[..., Any], nudge: str | None = None) -> Callable[..., Any]:
    """A torch spec function: ``fn`` computed in float32 (its float inputs and the constants it
    makes), its result in float64 again, differentiable throughout; ``nudge`` one of
    :data:`NUDGES`, so that an exact cancellation in torch's float32 rounds, as the layer's may."""

    def single(T: Any, **arrays: Any) -> Any:
        torch = T.torch
        default = torch.get_default_dtype()
        torch.set_default_dtype(torch.float32)
        try:
            cast = {k: v.to(torch.float32) if v.is_floating_point() else v for k, v in arrays.items()}
            if nudge in ("alternate", "random"):
                cast = {k: _nudged(torch, v, _input_ups(torch, v, nudge)) if v.is_floating_point() else v
                        for k, v in cast.items()}  # fmt: skip
            with _random_rounding(torch)() if nudge == "rounding" else contextlib.nullcontext():
                out = fn(T, **cast)
        finally:
            torch.set_default_dtype(default)
        return out.to(torch.float64)

    return single


#: Monte Carlo arithmetic's perturbations, each a run of its own: every float input moved one ulp,
#: up and down in turn along the flattened array (neighbours differ) or at random (a fixed seed:
#: no layout cancels it), which reaches the backward pass (equal columns of a weight); and every
#: float result of a torch operation moved one ulp at random (random rounding), which reaches a
#: cancellation of computed values (a batch norm of constant columns, from x = 0)
NUDGES = ("alternate", "random", "rounding")


def _input_ups(torch: Any, v: Any, nudge: str) -> Any:
    """Which entries of input ``v`` move up (the others down): in turn, or at random, the same for
    the same shape on every call."""
    if nudge == "alternate":
        return (torch.arange(v.numel()) % 2 == 0).reshape(v.shape)
    return torch.randint(0, 2, v.shape, generator=torch.Generator().manual_seed(v.numel())).bool()


@functools.cache
def _random_rounding(torch: Any) -> type:
    """A torch function mode in which every float result of a torch operation, but views and
    results written in place, is moved one ulp up or down at random (seed 0 for each run)."""

    class RandomRounding(torch.overrides.TorchFunctionMode):
        def __init__(self) -> None:
            super().__init__()
            self.gen = torch.Generator().manual_seed(0)

        def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
            kwargs = kwargs or {}
            out = func(*args, **kwargs)
            if not isinstance(out, torch.Tensor) or not out.is_floating_point() or out._is_view():
                return out
            operands = (*args, *kwargs.values())
            if any(isinstance(a, torch.Tensor) and a.data_ptr() == out.data_ptr() for a in operands):
                return out  # written in place
            return _nudged(torch, out, torch.randint(0, 2, out.shape, generator=self.gen).bool())

    return RandomRounding


def _nudged(torch: Any, v: Any, up: Any) -> Any:
    """``v`` (float32) moved one ulp towards +inf where ``up`` and towards -inf elsewhere, as a
    constant offset, so that gradients flow through unchanged."""
    fixed = v.detach()
    far = torch.where(up, torch.tensor(np.inf), torch.tensor(-np.inf))
    step = torch.where(torch.isfinite(fixed), torch.nextafter(fixed, far) - fixed, torch.zeros_like(fixed))
    return v + step


def _rounding(single: np.ndarray, exact: np.ndarray) -> float:
    """The size of the terms a result is made of, estimated from its rounding: the largest error of
    the float32 computation against the float64 one, in units of float32's eps (non-finite entries,
    float32's overflow, left out)."""
    err = np.abs(np.asarray(single, np.float64) - np.asarray(exact, np.float64))
    return float(np.max(err[np.isfinite(err)], initial=0.0)) / _SINGLE_EPS


def _singles(fn: Callable[..., Any]) -> tuple[Callable[..., Any], ...]:
    """``fn`` in float32 as it is and perturbed each way of :data:`NUDGES` (:func:`_in_single`):
    the estimate is the largest of their roundings, so that one exact cancellation does not make
    it 0."""
    return (_in_single(fn), *(_in_single(fn, nudge) for nudge in NUDGES))


def _torch_grad_scales(ref: Any, spec: LayerSpec, arrays: Arrays, dout: np.ndarray) -> dict[str, float]:
    """Without jax: each gradient's rounding (:func:`_rounding`) by torch, the same vjp in float32
    and in float64; for a 0-d ``dout`` the whole Jacobian's (every row's unit cotangent)."""
    fn, ref_arrays = spec.bind("torch", arrays)
    d = np.asarray(dout, np.float64)
    if d.ndim == 0:
        exact, *singles = (ref.jacobian(f, ref_arrays, spec.wrt) for f in (fn, *_singles(fn)))
        return {n: abs(float(d)) * max(_rounding(s[n], exact[n]) for s in singles) for n in spec.wrt}
    exact, *singles = (ref.vjp(f, ref_arrays, spec.wrt, d) for f in (fn, *_singles(fn)))
    return {n: max(_rounding(s[n], exact[n]) for s in singles) for n in spec.wrt}


def derived_value_scale(spec: LayerSpec, arrays: Arrays) -> float:
    """The size of the terms ``spec``'s forward value is made of at ``arrays``; without jax its
    rounding in float32 by torch (:func:`_rounding`); 0 without either."""
    ref = _jax()
    if ref is None:
        torch = _torch()
        if torch is None:
            return 0.0
        fn, ref_arrays = spec.bind("torch", arrays)
        exact = torch.value(fn, ref_arrays)
        return max(_rounding(torch.value(single, ref_arrays), exact) for single in _singles(fn))
    fn, ref_arrays = spec.bind("jax", arrays)
    names = tuple(sorted(ref_arrays))
    case = {**ref_arrays, _SECOND: np.asarray(_second_order(arrays))}
    return float(ref.value(_value_bound_fn(fn, names), case))


def derived_grad_scales(spec: LayerSpec, arrays: Arrays, dout: np.ndarray) -> dict[str, float]:
    """The size of the terms each gradient is made of at upstream gradient ``dout``, by name; for
    a 0-d ``dout`` (a Jacobian row's unit) the largest over the rows. Without jax their rounding in
    float32 by torch (:func:`_torch_grad_scales`); empty without either."""
    ref = _jax()
    if ref is None:
        torch = _torch()
        return {} if torch is None else _torch_grad_scales(torch, spec, arrays, dout)
    fn, ref_arrays = spec.bind("jax", arrays)
    names = tuple(sorted(ref_arrays))
    out = ref.value(fn, ref_arrays)
    d = np.asarray(dout, np.float64)
    if d.ndim == 0:  # every row's unit cotangent, stacked
        d = abs(float(d)) * np.eye(out.size).reshape(out.size, *out.shape)
    second = np.asarray(_second_order(arrays))
    case = {**ref_arrays, _DOUT: d, "__out__": np.zeros(out.shape), _SECOND: second}
    bounds = ref.value(_grad_bound_fn(fn, names, spec.wrt), case)
    return {n: float(b) for n, b in zip(spec.wrt, np.atleast_1d(bounds), strict=True)}
