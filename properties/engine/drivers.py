"""Drive a layer class the way its spec says, whoever wrote the class.

Two styles from the book are understood: parameter gradients in a ``grads`` list (volume 2; if
the instance has a non-empty one, it is the truth) or in attributes named ``d`` + parameter name
(volume 1; also when ``grads`` is an empty list beside them). A parameter ``params`` lists more
than once (book 2's tied weights) has its ``grads`` entries summed, as its Trainer does.
"""

from __future__ import annotations

import contextlib
import inspect
import re
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from layer_crosscheck.properties.engine import outputs
from layer_crosscheck.properties.engine.binding import ALIASES, bind_names, tried
from layer_crosscheck.properties.engine.compare import Mismatch
from layer_crosscheck.properties.engine.errors import InterfaceError
from layer_crosscheck.properties.engine.sandbox import foreign
from layer_crosscheck.properties.engine.spec import (
    GRAD_MARK,
    Arrays,
    LayerSpec,
    NetSpec,
    OptimizerSpec,
    optimizer_layout,
)

__all__ = ["DRIVERS", "BadInterface", "Driver", "NetDriver", "OptimizerDriver", "driver_for"]


class BadInterface(AssertionError):
    """The class does not offer what the spec needs (a missing method, gradient or wrong arity)."""


def _returned(value: Any, owner: Any, method: str, name: str) -> Any:
    """``value`` unless it is None: a method that computes its result and forgets to return it
    (the commonest slip in a hand-written layer) is told so in those words."""
    if value is None:
        raise BadInterface(f"{type(owner).__name__}.{method} returned None: did you forget `return {name}`?")
    return value


def _one_gradient(result: Any, shape: tuple[int, ...], call: str, name: str) -> Any:
    """A one-input layer's gradient: an array, or a list or tuple that holds it (book 2's ``[dx]``,
    a two-input habit's ``dx, None``) or is it (``dx.tolist()``); anything else is named as it is."""
    if not isinstance(result, (tuple, list)):
        return result
    with contextlib.suppress(ValueError):  # a ragged sequence has no shape
        if np.shape(result) == shape:
            return result
    first = result[0] if result else None
    with contextlib.suppress(ValueError):
        if first is not None and np.shape(first) == shape:
            return first
    raise BadInterface(
        f"{call} returned a {type(result).__name__} of {len(result)} item(s), which neither is nor "
        f"starts with a gradient for {name} (shape {shape}): return {name}'s gradient as one array"
    )


def _array(value: Any, what: str) -> np.ndarray:
    if value is None:
        raise BadInterface(f"{what} is None")
    return np.array(value, copy=True)


def _uncached_signature(fn: Any) -> inspect.Signature | None:
    try:
        return inspect.signature(fn)
    except (TypeError, ValueError):  # a builtin without a signature: let the call decide
        return None


@dataclass
class _Known:
    """What is kept of one function or class: its signature, and how it binds each call shape
    (``Driver._bound``)."""

    sig: inspect.Signature | None
    calls: dict[tuple[Any, ...], tuple[str, ...]] = field(default_factory=dict)


#: signatures by function or class: ``inspect.signature`` costs more than most calls into a layer
#: (40 µs; a check makes 100,000s of calls). Weak keys: a module reloaded by ``watch`` frees its own.
_SIGNATURES: weakref.WeakKeyDictionary[Any, tuple[tuple[Any, ...], dict[bool, _Known]]]
_SIGNATURES = weakref.WeakKeyDictionary()


def _fingerprint(key: Any) -> tuple[Any, ...]:
    """What a signature is computed from, so that a method or constructor replaced later is seen."""
    k: Any = key  # a class's __init__ read from the class, as inspect.signature reads it
    if isinstance(key, type):
        return (k.__init__, k.__new__, type(key).__call__)
    return (k.__code__, k.__defaults__, k.__kwdefaults__, getattr(k, "__signature__", None))


def _known(fn: Any) -> _Known:
    """What is kept of ``fn``, per plain function (a bound method: its function) or class; for any
    other callable, a fresh record."""
    func = getattr(fn, "__func__", None)
    bound = func is not None and getattr(fn, "__self__", None) is not None
    key = func if bound else fn
    if not (inspect.isfunction(key) or isinstance(key, type)):
        return _Known(_uncached_signature(fn))
    fingerprint = _fingerprint(key)
    kept = _SIGNATURES.get(key)
    if kept is None or any(a is not b for a, b in zip(kept[0], fingerprint, strict=True)):
        kept = (fingerprint, {})
        _SIGNATURES[key] = kept
    by_binding = kept[1]
    if bound not in by_binding:
        by_binding[bound] = _Known(_uncached_signature(fn))
    return by_binding[bound]


def _signature(fn: Any) -> inspect.Signature | None:
    """``inspect.signature(fn)``, kept (``_known``)."""
    return _known(fn).sig


def takes_keyword(fn: Any, name: str, *, unknown: bool) -> bool:
    """Whether ``fn`` accepts keyword ``name`` (by name or ``**kwargs``); ``unknown`` without a signature."""
    sig = _signature(fn)
    if sig is None:
        return unknown
    return name in sig.parameters or any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values())


def _mismatch(shown: str, exc: TypeError, tried: Any = lambda name: "") -> str:
    """What does not fit, as a learner reads it, from the TypeError ``Signature.bind`` raised;
    ``tried(name)``: the other names and places tried for a refused keyword."""
    text = str(exc)
    if m := re.search(r"unexpected keyword argument '(\w+)'", text):
        return f"{shown}() does not accept {m.group(1)}={tried(m.group(1))}"
    if m := re.search(r"missing a required argument: '(\w+)'", text):
        return f"{shown}() requires {m.group(1)}, which the spec does not pass"
    if "too many positional arguments" in text:
        return f"{shown}() takes fewer positional arguments than the spec passes"
    return f"{shown}() cannot be called as the spec calls it ({text})"


def _keywords(names: Any, value: str = "...") -> list[str]:
    return [f"{n}={value}" for n in names]


def _name(spec: LayerSpec) -> str:
    return getattr(spec.layer, "__name__", "Layer")


def _tied(a: Any, b: Any) -> str | None:
    """``b`` is the very array ``a`` ("same"), or its transpose viewing the same memory
    ("transposed", tied embedding and affine weights ``W`` and ``W.T``); else None."""
    if a is b:
        return "same"
    if not (isinstance(a, np.ndarray) and isinstance(b, np.ndarray)) or a.ndim != 2 or b.ndim != 2:
        return None
    t = b.T
    same_view = t.shape == a.shape and t.strides == a.strides
    if same_view and t.__array_interface__["data"][0] == a.__array_interface__["data"][0]:
        return "transposed"
    return None


def _tied_summed(layer: Any, grads: Any) -> list[Any]:
    """``grads`` with the entries of a parameter listed more than once in ``params`` summed into
    its first (book 2's ``remove_duplicate``: NegativeSamplingLoss lists ``W`` once per
    EmbeddingDot, tied weights list ``W`` and ``W.T``): the reference sees that parameter once."""
    params = getattr(layer, "params", None)
    if not isinstance(params, (list, tuple)) or len(params) != len(grads) or len(params) < 2:
        return list(grads)
    kept: list[int] = []
    summed: dict[int, Any] = {}
    for j, p in enumerate(params):
        for i in kept:
            how = _tied(params[i], p)
            if how is not None:
                g = np.asarray(grads[j])
                summed[i] = summed[i] + (g.T if how == "transposed" else g)
                break
        else:
            kept.append(j)
            summed[j] = np.asarray(grads[j])
    if len(kept) == len(params):
        return list(grads)
    return [summed[i] for i in kept]


class Driver:
    """Builds instances and runs forward/backward for a plain layer (``forward``/``backward``).

    Every call into the class is bound to its signature first: a call the signature does not take
    is an :class:`InterfaceError` (the class offers another interface), never a disagreement, and
    a TypeError from inside the class's own code stays the class's. What differs between kinds of
    spec is said by each driver's class attributes and methods, never by testing the spec's kind.
    """

    #: the class's methods this driver calls: the first computes the value, the last the gradients
    methods: ClassVar[tuple[str, ...]] = ("forward", "backward")
    #: backward takes a drawn upstream gradient (a network's gradient(x, t) is asked for 1 only)
    takes_dout: ClassVar[bool] = True
    #: the property that judges the class's values (a convention is probed by it)
    values: ClassVar[str] = "forward"
    #: the class owns the parameters it was handed (a network's ``params``: written, not read)
    owns_params: ClassVar[bool] = False
    #: a failure is told apart as wrong, fragile or a convention (``engine.kinds``)
    told_apart: ClassVar[bool] = True

    def __init__(self, spec: LayerSpec) -> None:
        self.spec = spec

    def _call(self, target: Any, method: str, args: list[Any], kwargs: dict[str, Any]) -> Any:
        init = method == "__init__"
        fn = target if init else getattr(target, method)
        known = _known(fn)
        try:
            if known.sig is not None:
                kwargs = self._bound(known, method, args, kwargs)
        except TypeError as exc:
            slots = self.slots(method)
            name = getattr(target if init else type(target), "__name__", repr(target))
            # _call's callers pass exactly these positional arguments
            douts = tuple(f"d{o}" for o in self.spec.outputs) or ("dout",)
            names = {"__init__": self.spec.params, "forward": self.positional_names(), "backward": douts}
            parts = [*names[method], *(f"{k}=..." for k in kwargs)]
            call = f"{name if init else method}({', '.join(parts)})"
            shown = name if init else f"{name}.{method}"
            refused = _mismatch(shown, exc, lambda k: tried(k, slots[k][1] if k in slots else None))
            raise InterfaceError(
                f"{refused}: the {self.spec.name} spec calls "
                f"{call}; see `crosscheck list` for the interface each spec drives"
            ) from None
        name = getattr(target, "__name__", "?") if init else f"{type(target).__name__}.{method}"
        return foreign(name, fn, *args, **kwargs)

    def _bound(self, known: _Known, method: str, args: list[Any], kwargs: dict[str, Any]) -> dict[str, Any]:
        """``kwargs`` renamed to the names of ``known.sig`` (not None; ``engine.binding``), once
        ``Signature.bind`` has taken the call; raises bind's TypeError if it does not. What binds
        depends on the number of positional arguments and the keywords' names and types only, so
        it is worked out once for each and kept in ``known`` (a check makes 100,000s of calls)."""
        shape = (method, len(args), *((k, type(v)) for k, v in kwargs.items()))
        names = known.calls.get(shape)
        if names is None:
            sig: Any = known.sig
            slots = {k: i for k, (i, _) in self.slots(method).items()}
            renamed = bind_names(sig, len(args), kwargs, slots)
            sig.bind(*args, **renamed)
            if len(renamed) != len(kwargs):  # two keywords given one name: bind judged the merge
                return renamed
            names = known.calls[shape] = tuple(renamed)
        return dict(zip(names, kwargs.values(), strict=True))

    def slots(self, method: str) -> dict[str, tuple[int, str]]:
        """Where the book puts each keyword of a ``method`` call, for a class that names it
        otherwise (``engine.binding``): its index among the positional parameters, and in words.
        The constructor's hyper-parameters follow the parameters in the spec's order (the book's:
        ``Pooling(pool_h, pool_w, stride, pad)``); forward's flags follow the positional inputs."""
        if method == "__init__":
            order = (*self.spec.params, *self.spec.construction.hyper)
            where = f"the positional parameter in its place in ({', '.join(order)})"
            return {h: (order.index(h), where) for h in self.spec.construction.hyper}
        if method == "forward":
            inputs = self.positional_names()
            where = "a positional parameter" + (f" after {', '.join(inputs)}" if inputs else "")
            return {k: (len(inputs) + i, where) for i, k in enumerate(self.spec.construction.forward_kwargs)}
        return {}

    def positional_names(self) -> tuple[str, ...]:
        return tuple(i for i in self.spec.inputs if i not in self.spec.construction.keyword_inputs)

    def calling_forms(self) -> list[str]:
        """Every way this driver calls a class for its spec, one line each (``crosscheck list``);
        the one place the accepted forms are written down for a reader."""
        spec = self.spec
        order = ", ".join((*spec.params, *spec.construction.hyper))
        built = [*spec.params, *_keywords(spec.construction.hyper), *_keywords(spec.construction.init_arrays)]
        forms = [f"{_name(spec)}({', '.join(built)})"]
        if spec.construction.hyper:
            forms.append(
                f"a keyword the constructor lacks: the positional parameter in its place in ({order})"
            )
        positional = self.positional_names()
        flags = [f"{k}={v!r}" for k, v in spec.construction.forward_kwargs.items()]
        keyword_inputs = _keywords(spec.construction.keyword_inputs)
        forms.append(f"forward({', '.join([*positional, *keyword_inputs, *flags])})")
        for k in spec.construction.forward_kwargs:
            also = ", ".join(f"{a}=" for a in ALIASES.get(k, ()))
            forms.append(f"{k} also as {also} or a positional parameter after {', '.join(positional)}")
        if spec.construction.adapt is not None:
            without = ", ".join(_keywords(spec.construction.keyword_inputs, ""))
            forms.append(
                f"a forward without {without}: accepted, driven another way that the check's note names"
            )
        wanted = [f"d{i}" for i in spec.inputs if i not in spec.constants]
        if spec.modes.backward:
            returns = wanted[0] if len(wanted) == 1 else f"({', '.join(wanted)})"
            forms.append(
                f"backward(dout) -> {returns}" if wanted else "backward(dout) (what it returns is unused)"
            )
        if spec.params and spec.modes.backward:
            forms.append(
                f"parameter gradients: a non-empty grads list in the order {', '.join(spec.params)} "
                f"(book 2), else attributes {', '.join('d' + p for p in spec.params)} (book 1)"
            )
        return forms

    def shown(self, name: str, arrays: Arrays) -> str:
        """The constructor call the spec makes, as a message shows it."""
        return f"{name}({', '.join([*self.spec.params, *(f'{k}=...' for k in self.init_kwargs(arrays))])})"

    def run_once(
        self, cls: Any, arrays: Arrays, dtype: Any, dout: Callable[[tuple[int, ...]], np.ndarray]
    ) -> None:
        """Build, forward and (if the spec has one) backward at ``dout(out.shape)``: the class
        tried once on a case, for whether it takes it."""
        layer = self.build(cls, arrays, dtype)
        out = self.forward(layer, arrays)
        if self.spec.modes.backward:
            self.backward(layer, dout(out.shape), arrays)

    def build(self, cls: Any, arrays: Arrays, dtype: Any) -> Any:
        own = self.spec.construction.layer_kwargs if cls is self.spec.layer else {}
        kwargs = {**self.init_kwargs(arrays), **own}
        return self._call(cls, "__init__", [arrays[p] for p in self.spec.params], kwargs)

    def init_kwargs(self, arrays: Arrays) -> dict[str, Any]:
        """The constructor's keywords: the drawn ``init_arrays`` and ``hyper`` (as Python scalars)."""
        spec = self.spec
        return {
            **{k: arrays[k] for k in spec.construction.init_arrays},
            **{k: np.asarray(arrays[k]).item() for k in spec.construction.hyper},
        }

    def call_args(self, arrays: Arrays) -> tuple[list[np.ndarray], dict[str, Any]]:
        """The positional and keyword arguments of a forward (or ``loss``/``gradient``) call."""
        how = self.spec.construction
        keywords = {**{i: arrays[i] for i in how.keyword_inputs}, **how.forward_kwargs}
        return [arrays[i] for i in self.positional_names()], keywords

    def _seed_numpy(self) -> None:
        if self.spec.construction.numpy_seed is not None:
            np.random.seed(self.spec.construction.numpy_seed)  # noqa: NPY002 - the global RNG such a class draws from

    def forward(self, layer: Any, arrays: Arrays) -> np.ndarray:
        args, kwargs = self.call_args(arrays)
        self._seed_numpy()
        out = _returned(self._call(layer, "forward", args, kwargs), layer, "forward", "out")
        if self.spec.outputs:
            return outputs.stack(self.spec, out, type(layer).__name__, BadInterface)
        return np.asarray(out)

    def backward(self, layer: Any, dout: np.ndarray, arrays: Arrays) -> Arrays:
        name = type(layer).__name__
        result = self._call(layer, "backward", outputs.split(self.spec, dout), {})
        wanted = tuple(i for i in self.spec.inputs if i not in self.spec.constants)
        # only parameters differentiated (Embedding): what backward returns is moot, None included
        result = _returned(result, layer, "backward", "dx") if wanted else ()
        if len(wanted) == 1:
            result = (_one_gradient(result, arrays[wanted[0]].shape, f"{name}.backward", wanted[0]),)
        if not isinstance(result, (tuple, list)) or len(result) < len(wanted):
            raise BadInterface(
                f"{name}.backward returned {type(result).__name__}; expected gradients for {wanted}"
            )
        pairs = zip(wanted, result, strict=False)
        grads = {n: _array(g, f"{name}.backward's gradient for {n}") for n, g in pairs}
        for n in wanted:
            if grads[n].shape != np.shape(arrays[n]):
                raise BadInterface(
                    f"{name}.backward's gradient for {n} has shape {grads[n].shape}, but {n} has shape "
                    f"{np.shape(arrays[n])}"
                )
        grads.update(self.param_grads(layer))
        return grads

    def param_grads(self, layer: Any) -> Arrays:
        names = self.spec.params
        if not names:
            return {}
        name = type(layer).__name__
        store = getattr(layer, "grads", None)
        attributes = all(hasattr(layer, "d" + n) for n in names)
        # an empty list beside dW-style attributes is a book-2 skeleton the class never filled
        if isinstance(store, (list, tuple)) and (store or not attributes):
            store = _tied_summed(layer, store)
            if len(store) != len(names):
                raise BadInterface(
                    f"{name}.grads has {len(store)} entries; expected {len(names)} for {names}"
                )
            pairs = enumerate(zip(names, store, strict=True))
            return {n: _array(g, f"{name}.grads[{i}]") for i, (n, g) in pairs}
        missing = [n for n in names if not hasattr(layer, "d" + n)]
        if missing:
            raise BadInterface(
                f"{name} has no `grads` list and no attribute(s) {', '.join('d' + n for n in missing)}"
            )
        return {n: _array(getattr(layer, "d" + n), f"{name}.d{n}") for n in names}

    def value(self, cls: Any, arrays: Arrays, dtype: Any) -> np.ndarray:
        """A fresh instance's forward value: the function that finite differences differentiate."""
        return self.forward(self.build(cls, arrays, dtype), arrays)


class NetDriver(Driver):
    """A network: built from sizes, parameters written into its ``params`` dict in place (as
    training updates them), value from ``loss(*inputs)``, gradients from ``gradient(*inputs)``.

    ``gradient`` takes no upstream gradient, so it is only ever asked for cotangent 1. Hyper-parameters
    reach the constructor only through ``net_args``.
    """

    spec: NetSpec
    methods = ("loss", "gradient")
    takes_dout = False
    owns_params = True

    def shown(self, name: str, arrays: Arrays) -> str:
        return f"{name}({', '.join(str(a) for a in self.spec.net_args(arrays))})"

    def calling_forms(self) -> list[str]:
        inputs, params = ", ".join(self.spec.inputs), ", ".join(self.spec.params)
        return [
            f"{_name(self.spec)}(<sizes from the case>); its params dict holds {params}, written in place",
            f"loss({inputs}) -> a number; gradient({inputs}) -> a dict by parameter name",
        ]

    def build(self, cls: Any, arrays: Arrays, dtype: Any) -> Any:
        args = self.spec.net_args(arrays)
        kwargs: dict[str, Any] = {}
        sig = _signature(cls)
        if np.dtype(dtype) != np.float64 and sig is not None and "dtype" in sig.parameters:
            kwargs["dtype"] = dtype
        net = foreign(getattr(cls, "__name__", "?"), cls, *args, **kwargs)
        store = getattr(net, "params", None)
        if not isinstance(store, dict):
            raise BadInterface(f"{type(net).__name__} has no `params` dict")
        for p in self.spec.params:
            if p not in store:
                raise BadInterface(f"{type(net).__name__}.params has no entry {p!r}")
            if np.shape(store[p]) != arrays[p].shape:
                raise BadInterface(
                    f"{type(net).__name__}.params[{p!r}] has shape {np.shape(store[p])}, "
                    f"expected {arrays[p].shape}"
                )
            store[p][...] = arrays[p]
        return net

    def forward(self, layer: Any, arrays: Arrays) -> np.ndarray:
        args, kwargs = self.call_args(arrays)
        self._seed_numpy()
        loss = foreign(f"{type(layer).__name__}.loss", layer.loss, *args, **kwargs)
        return np.asarray(_returned(loss, layer, "loss", "loss"))

    def backward(self, layer: Any, dout: np.ndarray, arrays: Arrays) -> Arrays:
        if not np.all(dout == 1):
            raise ValueError("a network's gradient(x, t) is only defined for an upstream gradient of 1")
        args, kwargs = self.call_args(arrays)
        # the book's gradient(x, t) runs its own training-mode loss: forward's flags are not its own
        kwargs = {k: v for k, v in kwargs.items() if k not in self.spec.construction.forward_kwargs}
        self._seed_numpy()  # the same dropout masks as the loss it is compared with
        grads = foreign(f"{type(layer).__name__}.gradient", layer.gradient, *args, **kwargs)
        grads = _returned(grads, layer, "gradient", "grads")
        name = type(layer).__name__
        missing = [p for p in self.spec.params if p not in grads]
        if missing:
            raise BadInterface(f"{name}.gradient returned no entry for {missing}")
        return {p: _array(grads[p], f"{name}.gradient()[{p!r}]") for p in self.spec.params}


def _wants_lists(exc: BaseException) -> bool:
    """Whether what ``update`` raised on dicts says it indexes by position (book 2's
    ``params[i] for i in range(len(params))``): a KeyError of an integer, an IndexError, or a
    TypeError (book 2's ``for param in params`` over a dict gives its keys, strings)."""
    if isinstance(exc, KeyError):
        return bool(exc.args) and isinstance(exc.args[0], int)
    return isinstance(exc, (IndexError, TypeError))


class _FirstUpdateRaised(Exception):
    """``update`` raised at step 1 (carries what it raised), so another container may be tried."""

    def __init__(self, error: BaseException) -> None:
        super().__init__(str(error))
        self.error = error


class OptimizerDriver(Driver):
    """An optimizer: ``update(params, grads)`` once per step with the case's gradients.

    ``params`` and ``grads`` are dicts by name (book 1: ``params[key]``); a class whose first
    ``update`` raises on dicts as one that indexes by position does (``_wants_lists``) is run again,
    fresh, on lists in the case's parameter order (book 2: ``params[i]``), and judged on that run;
    if it raises on lists too, a KeyError of an integer reports the lists' error (the class indexes
    by position), anything else the dicts' one.

    ``params`` must be updated in place, as the books do (``params[key] -= ...``): a network's
    layers share those arrays, so a parameter rebound to a new array no longer trains its layer.
    In place, a parameter also keeps its dtype. ``grads`` must only be read."""

    methods = ("update",)
    takes_dout = False
    values = "optimizer"
    #: its cases have no kinks, and no variant of its draw tells fragile from wrong
    told_apart = False

    def run_once(
        self, cls: Any, arrays: Arrays, dtype: Any, dout: Callable[[tuple[int, ...]], np.ndarray]
    ) -> None:
        """Its update steps: an optimizer has no forward or backward."""
        self.trajectory(cls, arrays, dtype)

    def calling_forms(self) -> list[str]:
        spec = self.spec
        settings = spec.conventions.settings
        taken = f" (and {', '.join(_keywords(settings))} if it takes it)" if settings else ""
        return [
            f"{_name(spec)}({', '.join(_keywords(spec.construction.hyper))}){taken}",
            "update(params, grads), step by step: params updated in place, grads only read",
            "params and grads as dicts by name (book 1), or as lists in the parameters' order when the "
            "first update raises on dicts as positional indexing does (KeyError of an int, IndexError, "
            "TypeError; book 2)",
        ]

    def build(self, cls: Any, arrays: Arrays, dtype: Any) -> Any:
        """The hyper-parameters by keyword; a setting (eps) only if the constructor takes it: the
        book's AdaGrad and Adam hard-code their eps, which the setting then describes."""
        own = self.spec.conventions.settings
        settings = {k: v for k, v in own.items() if takes_keyword(cls, k, unknown=False)}
        return foreign(getattr(cls, "__name__", "?"), cls, **self.init_kwargs(arrays), **settings)

    def trajectory(self, cls: Any, arrays: Arrays, dtype: Any) -> list[Arrays]:
        """The parameters after each step of a fresh instance, on dicts or, for a class that
        indexes by position, on lists."""
        try:
            return self.run(self.build(cls, arrays, dtype), arrays, dtype, first_raises=True)
        except _FirstUpdateRaised as on_dicts:
            if not _wants_lists(on_dicts.error):
                raise on_dicts.error from None
            try:
                return self.run(self.build(cls, arrays, dtype), arrays, dtype, lists=True, first_raises=True)
            except _FirstUpdateRaised as on_lists:
                positional = isinstance(on_dicts.error, KeyError)
                raise (on_lists if positional else on_dicts).error from None

    def run(
        self, optimizer: Any, arrays: Arrays, dtype: Any, *, lists: bool = False, first_raises: bool = False
    ) -> list[Arrays]:
        """The parameters after each step (copies), from writable copies of the case's arrays,
        handed as dicts by name or (``lists``) as lists in the case's order. ``first_raises``:
        what step 1's ``update`` raises comes wrapped in ``_FirstUpdateRaised``."""
        name = type(optimizer).__name__
        names, steps = optimizer_layout(arrays)
        keys: list[Any] = list(range(len(names))) if lists else names
        shown = {k: f"[{k}] ({n!r})" if lists else f"[{n!r}]" for k, n in zip(keys, names, strict=True)}

        def pack(values: list[np.ndarray]) -> Any:
            return values if lists else dict(zip(names, values, strict=True))

        params = pack([np.array(arrays[n], dtype=dtype, copy=True) for n in names])
        owned = [params[k] for k in keys]
        trajectory = []
        for t in range(1, steps + 1):
            grads = pack([np.array(arrays[f"{n}{GRAD_MARK}{t}"], dtype=dtype, copy=True) for n in names])
            before = [grads[k].copy() for k in keys]
            try:
                returned = foreign(f"{name}.update", optimizer.update, params, grads)
            except Exception as exc:
                if first_raises and t == 1:
                    raise _FirstUpdateRaised(exc) from exc
                raise
            if len(params) != len(keys) if lists else set(params) != set(keys):
                what = f"length of params to {len(params)}" if lists else f"keys of params to {list(params)}"
                raise Mismatch(f"{name}.update changed the {what} at step {t}")
            for k, mine, was in zip(keys, owned, before, strict=True):
                if params[k] is not mine:
                    raise Mismatch(
                        f"{name}.update rebinds params{shown[k]} to a new array at step {t} instead of "
                        "updating it in place (params[key] -= ...): a network's layers share the "
                        "arrays in params, so a rebound parameter no longer trains its layer"
                    )
                if not np.array_equal(grads[k], was, equal_nan=True):
                    raise Mismatch(
                        f"{name}.update wrote into grads{shown[k]} at step {t}; grads must only be read"
                    )
            moved = any(np.any(grads[k] != 0) for k in keys)
            if (
                returned is not None
                and moved
                and all(np.array_equal(params[k], arrays[n]) for k, n in zip(keys, names, strict=True))
            ):
                raise Mismatch(
                    f"{name}.update returned {type(returned).__name__} and left params unchanged: "
                    "update(params, grads) must update the arrays in params in place"
                )
            trajectory.append({n: params[k].copy() for k, n in zip(keys, names, strict=True)})
        return trajectory


#: the one table of how each type of spec is driven (a subclass, such as ``SequenceSpec``, is
#: driven as its nearest listed base)
DRIVERS: dict[type[LayerSpec], type[Driver]] = {
    LayerSpec: Driver,
    NetSpec: NetDriver,
    OptimizerSpec: OptimizerDriver,
}


def driver_for(spec: LayerSpec) -> Driver:
    return next(DRIVERS[t] for t in type(spec).__mro__ if t in DRIVERS)(spec)
