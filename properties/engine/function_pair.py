"""CS231n's layers are function pairs, not classes: ``out, cache = f_forward(x, *params[, param_dict])``
and ``dx, dw, ... = f_backward(dout, cache)`` (gradients in the order of the forward's arrays), and
its losses one function, ``loss, dx = softmax_loss(x, y)``. This module drives such a pair as the
engine's layer protocol (``forward``/``backward``, parameter gradients as ``d<name>``), so the one
engine and every generic property judge it against the same spec as a class: no math written twice.

How the course calls each pair (argument order, the ``conv_param``/``bn_param``/... dict built from
the spec's hyper-parameters and settings, its size contract) is a :class:`PairCall`, registered by
``properties/specs/cs231n.py``. The cache is opaque: only forward's outputs, backward's returns and
writes into the inputs, parameters or ``dout`` are judged (each backward gets a copy of the cache's
own intermediates, so a backward that scribbles on them is not called wrong).
"""

from __future__ import annotations

import copy
import inspect
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from types import ModuleType
from typing import Any

import numpy as np

from layer_crosscheck.properties.engine.cases import draw_case, draw_dout
from layer_crosscheck.properties.engine.drivers import BadInterface, Driver, driver_for
from layer_crosscheck.properties.engine.errors import Unfinished, UsageError
from layer_crosscheck.properties.engine.explore import first_example
from layer_crosscheck.properties.engine.matrix import SELF
from layer_crosscheck.properties.engine.results import CellResult, Status
from layer_crosscheck.properties.engine.spec import LayerSpec, Sizes, revise

__all__ = [
    "AuditSkipped",
    "FunctionPair",
    "PairCall",
    "as_layer",
    "audit",
    "find_function_pairs",
    "pair_call",
    "register_call",
    "resolve_pair",
    "unfinished",
]

_FORWARD = ("_forward", "_forward_naive")
_BACKWARD = ("_backward", "_backward_naive")


@dataclass(frozen=True)
class FunctionPair:
    """A forward and its backward (None for a loss, which returns its gradient itself)."""

    name: str
    forward: Callable[..., Any]
    backward: Callable[..., Any] | None = None

    @property
    def __name__(self) -> str:  # how the verdict names what it checked
        fns = [self.forward, self.backward] if self.backward is not None else [self.forward]
        return "/".join(getattr(f, "__name__", "?") for f in fns)


@dataclass(frozen=True)
class PairCall:
    """How the course calls one pair. ``args``: the spec's arrays in the forward's positional
    order (backward returns the gradients of the differentiated ones in that order); ``param_dict``:
    the course's dict from the case's hyper-parameters, settings, initial arrays and ``mode``
    ('train'/'test', from the spec's ``train_flg``); ``shapes``: shape sets inside the course's size
    contract (exact division, no padding in pooling), used where the spec's entries have the same
    keys; ``audit``: a check of its own the values cannot make (dropout's kept fraction), returning
    what is wrong or None."""

    stem: str
    spec: str
    args: tuple[str, ...]
    param_dict: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    shapes: tuple[Sizes, ...] | None = None
    loss: bool = False
    #: the spec's hyper-parameters ``param_dict`` reads: a spec with others cannot drive the pair
    hyper: tuple[str, ...] = ()
    #: the dict's name in the course (``conv_param``), for the note saying how the pair is called
    dict_name: str = ""
    audit: Callable[[Any, LayerSpec], str | None] | None = None
    #: the specs among the asked spec's alternatives that the same call drives (CS231n's LSTM gate
    #: order under ``--as lstm``): the others are dropped, since the pair cannot be called as them
    conventions: tuple[str, ...] = ()
    #: the course's layout of a spec array where it differs (group norm's gamma as (1, C, 1, 1)):
    #: the array is handed over reshaped, and its gradient read back in the spec's shape
    reshaped: Mapping[str, tuple[int, ...]] | None = None


_CALLS: dict[str, PairCall] = {}


def register_call(call: PairCall) -> PairCall:
    _CALLS[call.stem] = call
    return call


def _stem(name: str) -> str:
    return name[: -len("_alt")] if name.endswith("_alt") else name


def pair_call(name: str) -> PairCall | None:
    """The course's call of pair ``name`` (``batchnorm_alt`` is called as ``batchnorm``); None if unknown."""
    return _CALLS.get(_stem(name))


def _function(module: Any, name: str) -> Callable[..., Any] | None:
    fn = getattr(module, name, None)
    return fn if inspect.isfunction(fn) else None


def _first(module: Any, stem: str, suffixes: tuple[str, ...], extra: str = "") -> Callable[..., Any] | None:
    for suffix in suffixes:
        fn = _function(module, stem + suffix + extra)
        if fn is not None:
            return fn
    return None


def resolve_pair(module: Any, name: str) -> FunctionPair | None:
    """``name`` in ``module`` as a pair: ``affine`` -> affine_forward/affine_backward, ``conv`` ->
    conv_forward_naive/conv_backward_naive, ``batchnorm_alt`` -> batchnorm_forward/
    batchnorm_backward_alt; ``affine_forward`` names its pair too; a loss (``softmax_loss``) is one
    function. None if the module has no such functions."""
    for suffix in (*_FORWARD, *_BACKWARD):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    call = pair_call(name)
    if call is not None and call.loss:
        fn = _function(module, name)
        return None if fn is None else FunctionPair(name, fn)
    stem, alt = (_stem(name), "_alt" if name.endswith("_alt") else "")
    forward = _first(module, stem, _FORWARD)
    backward = _first(module, stem, _BACKWARD, alt)
    if forward is None or backward is None:
        return None
    return FunctionPair(name, forward, backward)


def find_function_pairs(module: ModuleType) -> list[tuple[str, Any, Any]]:
    """Every pair the module defines, in definition order, as (name, forward, backward): each
    ``X_forward[_naive]`` with its ``X_backward[_naive]`` (and ``X_backward_alt`` as ``X_alt``),
    and the known losses (``softmax_loss``, ``svm_loss``) with backward None. ``pair_call(name)``
    says how the course calls it (None: no spec for it yet)."""
    found: list[tuple[str, Any, Any]] = []
    for attr, value in vars(module).items():
        if not inspect.isfunction(value):
            continue
        call = pair_call(attr)
        if call is not None and call.loss and call.stem == attr:
            found.append((attr, value, None))
            continue
        stem = next((attr[: -len(s)] for s in _FORWARD if attr.endswith(s)), None)
        if stem is None:
            continue
        for name in (stem, stem + "_alt"):
            pair = resolve_pair(module, name)
            if pair is not None and pair.forward is value:
                found.append((name, pair.forward, pair.backward))
    return found


#: code between a template's TODO banner and its END OF YOUR CODE line
_TODO_REGION = re.compile(r"#[^\n]*\bTODO\b.*?(?=#[^\n]*END OF YOUR CODE)", re.S)


def unfinished(fn: Callable[..., Any]) -> str | None:
    """Why ``fn`` is still the assignment's stub, or None: a TODO region of its body holds nothing
    but ``pass`` (a solution keeps the banner, so the banner alone proves nothing)."""
    try:
        source = inspect.getsource(fn)
    except (OSError, TypeError):
        return None
    for region in _TODO_REGION.findall(source):
        code = [line.split("#", 1)[0].strip() for line in region.splitlines()]
        if all(c in ("", "pass") for c in code):
            return f"{fn.__name__} is unfinished: its body still holds the template's TODO (only `pass`)"
    return None


def _none(fn: Callable[..., Any], what: str) -> Unfinished:
    return Unfinished(f"{fn.__name__} is unfinished: it returned None for {what}")


def _pair_layer(pair: FunctionPair, call: PairCall, spec: LayerSpec) -> type:
    """A class with the layer protocol whose forward and backward call the pair as the course does."""
    positional = tuple(i for i in spec.inputs if i not in spec.construction.keyword_inputs)
    differentiated = tuple(i for i in spec.inputs if i not in spec.constants)
    order = tuple(a for a in call.args if a in spec.wrt)  # backward's returns
    settings = dict(spec.conventions.settings)
    forward, backward = pair.forward, pair.backward

    class PairLayer:
        def __init__(self, *params: Any, **options: Any) -> None:
            self.params = params
            # the course's dict owns its running statistics: written in place or replaced, both fine
            self.options = {k: np.array(v) if isinstance(v, np.ndarray) else v for k, v in options.items()}
            self.cache: Any = None
            self.param_dict: dict[str, Any] = {}  # the course's dict as the last forward left it
            self.kept: tuple[Any, ...] = ()
            self.shapes: dict[str, tuple[int, ...]] = {}  # the spec's shapes of the reshaped arrays

        def forward(self, *inputs: Any, **kwargs: Any) -> Any:
            named = dict(zip((*positional, *spec.params), (*inputs, *self.params), strict=False))
            named.update(kwargs)
            args = [_course_array(call, a, named[a]) if a in named else self.options[a] for a in call.args]
            if call.param_dict is not None:
                mode = "train" if kwargs.get("train_flg", True) else "test"
                self.param_dict = call.param_dict({**self.options, **settings, "mode": mode})
                args.append(self.param_dict)
            result = forward(*args)
            outs = spec.outputs or ("out",)  # the course returns each output, then the cache
            if not isinstance(result, (tuple, list)) or len(result) != len(outs) + 1:
                if result is None:
                    raise _none(forward, f"its ({', '.join(outs)}, cache)")
                got = (
                    type(result).__name__
                    if not isinstance(result, (tuple, list))
                    else f"{len(result)} values"
                )
                raise BadInterface(f"{forward.__name__} returned {got}; expected ({', '.join(outs)}, cache)")
            *values, self.cache = result
            for n, v in zip(outs, values, strict=True):
                if v is None:
                    raise _none(forward, "loss" if call.loss else n)
            out = values[0] if len(values) == 1 else tuple(values)
            if call.loss and self.cache is None:
                raise _none(forward, "dx")
            self.kept = tuple(a for a in args if isinstance(a, np.ndarray))
            self.shapes = {n: np.shape(named[n]) for n in call.reshaped or {} if n in named}
            return out

        def backward(self, *douts: Any) -> tuple[Any, ...]:
            if call.loss:
                return (np.asarray(douts[0]) * self.cache,)
            assert backward is not None
            memo = {id(a): a for a in self.kept}  # the inputs and parameters stay themselves
            grads = backward(*douts, copy.deepcopy(self.cache, memo))
            if grads is None:
                raise _none(backward, "its gradients")
            grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
            if len(grads) < len(order):
                raise BadInterface(
                    f"{backward.__name__} returned {len(grads)} gradient(s); expected {len(order)}: "
                    + ", ".join(f"d{n}" for n in order)
                )
            by_name = dict(zip(order, grads, strict=False))
            for n, g in by_name.items():
                if g is None:
                    raise _none(backward, f"d{n}")
            for n in call.reshaped or {}:
                if n in by_name and n in self.shapes:
                    by_name[n] = _spec_array(backward, n, by_name[n], self.shapes[n])
            for p in spec.params:  # as book 1's dW attributes: the pair returns new arrays each time
                setattr(self, f"d{p}", by_name[p])
            return tuple(by_name[i] for i in differentiated)

        def __getattr__(self, name: str) -> Any:
            """The running statistics the course keeps in its param dict (``bn_param``)."""
            if name.startswith("running_") and name in self.__dict__.get("param_dict", {}):
                return self.__dict__["param_dict"][name]
            raise AttributeError(name)

    PairLayer.__name__ = PairLayer.__qualname__ = pair.__name__
    PairLayer.pair_call = call  # type: ignore[attr-defined]
    return PairLayer


def _course_array(call: PairCall, name: str, value: Any) -> Any:
    layout = (call.reshaped or {}).get(name)
    return value if layout is None or not isinstance(value, np.ndarray) else value.reshape(layout)


def _spec_array(fn: Callable[..., Any], name: str, grad: Any, shape: tuple[int, ...]) -> Any:
    """The gradient of a reshaped array in the spec's shape; BadInterface if it has another size."""
    grad = np.asarray(grad)
    if grad.size != int(np.prod(shape)):
        raise BadInterface(f"{fn.__name__} returned d{name} of shape {grad.shape}; expected {shape}")
    return grad.reshape(shape)


def _course_shapes(spec: LayerSpec, call: PairCall) -> LayerSpec:
    if call.shapes is None or {frozenset(s) for s in spec.shapes} != {frozenset(s) for s in call.shapes}:
        return spec
    return replace(spec, shapes=call.shapes)


def as_layer(pair: FunctionPair, spec: LayerSpec) -> tuple[type, LayerSpec, list[str]]:
    """The class that drives ``pair`` and the spec it is checked with (the course's shape sets; a
    forward that draws its own mask gets the spec's ``adapt``), with notes on how it is driven.
    UsageError for a pair the course's calls do not cover; Unfinished for a stub."""
    for fn in (pair.forward, pair.backward):
        reason = fn is not None and unfinished(fn)
        if reason:
            raise Unfinished(reason)
    call = pair_call(pair.name)
    if call is None:
        raise UsageError(f"no spec knows how CS231n calls {pair.__name__} yet")
    if call.loss != (spec.inputs[:2] == ("x", "t") and pair.backward is None):
        raise UsageError(f"{pair.__name__} cannot be checked as spec {spec.name}; try --as {call.spec}")
    positional_hyper = set(spec.construction.hyper) & set(call.args)  # group norm's G, passed by position
    positional = {i for i in spec.inputs if i not in spec.construction.keyword_inputs}
    arrays = positional | set(spec.params) | positional_hyper
    hyper = set(spec.construction.hyper) - positional_hyper
    layer_like = driver_for(spec).methods == Driver.methods  # driven as forward/backward
    if not call.loss and (arrays != set(call.args) or hyper != set(call.hyper) or not layer_like):
        raise UsageError(
            f"{pair.__name__} cannot be checked as spec {spec.name} (it takes {', '.join(call.args)}"
            f"{''.join(f', {h}=' for h in call.hyper)}); try --as {call.spec}"
        )
    # the course's own audits judge its test mode (mode 'test': spec batch_norm_eval_forward) and
    # running averages; of the spec's alternatives only the conventions the course may follow stay
    kept = tuple(a for a in spec.conventions.alternatives if a.spec in call.conventions)
    spec = revise(
        _course_shapes(spec, call), conventions={"alternatives": kept}, modes={"eval": None, "running": None}
    )
    notes = [f"{pair.__name__} driven as CS231n calls it: " + _described(call)]
    cls = _pair_layer(pair, call, spec)
    _raise_if_stub(cls, spec)
    how = spec.construction
    if how.adapt is not None and how.keyword_inputs:  # the course's dropout draws its own mask
        spec, _ = how.adapt(spec, cls)
        cls = _pair_layer(pair, call, spec)
        notes.append("its mask is read from its output on an input of ones, under the same seed")
    return cls, spec, notes


def _raise_if_stub(cls: type, spec: LayerSpec) -> None:
    """Unfinished if the pair returns None on the spec's simplest example (a stub), before any
    cell runs: what else it raises is the cells' business."""
    def body(draw: Any) -> Unfinished | None:
        arrays, _ = draw_case(spec, draw, np.float64)
        copies = {k: np.array(v, copy=True) for k, v in arrays.items()}
        dout = lambda shape: np.array(draw_dout(spec, draw, np.float64, shape), copy=True)  # noqa: E731
        try:
            driver_for(spec).run_once(cls, copies, np.float64, dout)
        except Unfinished as exc:
            return exc
        except Exception:  # the pair's own failure: a finding for the cells
            return None
        return None

    found = first_example(body, f"unfinished-{spec.name}", fp="ignore")
    if found is not None:
        raise Unfinished(str(found))


class AuditSkipped(Exception):
    """An audit that cannot judge here (its reference is not installed): a visible skip, with why."""


def audit(cls: Any, spec: LayerSpec) -> list[CellResult]:
    """The pair's own check (``PairCall.audit``) as one more cell: [] for a class, or a pair with none."""
    call = getattr(cls, "pair_call", None)
    if call is None or call.audit is None:
        return []
    started = time.perf_counter()
    try:
        wrong = call.audit(cls, spec)
        status: Status = "pass" if wrong is None else "fail"
    except AuditSkipped as exc:
        wrong, status = str(exc), "skip"
    except Exception as exc:  # the pair raised on the audit's input: that is the finding
        wrong, status = f"raised {type(exc).__name__}: {exc}", "error"
    name = getattr(call.audit, "__name__", "audit").strip("_")
    result = CellResult(spec.name, name, SELF, "float64", status, examples=1, message=wrong or "")
    result.seconds = time.perf_counter() - started
    return [result]


def _described(call: PairCall) -> str:
    if call.loss:
        return f"loss, dx = {call.stem}({', '.join(call.args)}); backward is dout * dx"
    args = ", ".join((*call.args, call.dict_name) if call.param_dict else call.args)
    return f"out, cache = forward({args}); backward(dout, cache) returns the gradients of its arrays in order"
