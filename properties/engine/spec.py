"""A layer spec: everything the generic checks need to know about one layer, in one place.

A contributor who adds a layer writes one ``LayerSpec`` (about twenty lines) and registers it;
every generic property then runs for it with no new test code (see CONTRIBUTING.md).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib.util
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, TypeVar

import numpy as np
from hypothesis import strategies as st

from layer_crosscheck.properties.engine.outputs import stacked_math

__all__ = [
    "GRAD_MARK",
    "Alternative",
    "Arrays",
    "BadInput",
    "Construction",
    "Conventions",
    "Draw",
    "Edges",
    "Kinks",
    "LayerSpec",
    "Modes",
    "NetSpec",
    "Numerics",
    "OptimizerSpec",
    "RunningStats",
    "Sample",
    "Sizes",
    "optimizer_layout",
    "per_case",
    "revise",
]

Arrays = dict[str, np.ndarray]
Sizes = Mapping[str, Any]
Draw = Callable[[st.SearchStrategy[Any]], Any]


def _well_conditioned(arrays: Arrays) -> float:
    return 1.0


T = TypeVar("T")


def per_case(analyse: Callable[[Arrays], T]) -> Callable[[Arrays], T]:
    """``analyse(arrays)`` computed once per case: a network spec's hooks (kinks, cond, grad_scale,
    ambiguous, ...) each need the same float64 forward analysis of the example being checked.
    Cached by the arrays' contents (not identity), for the last few cases."""

    @functools.lru_cache(maxsize=8)
    def by_contents(key: tuple[tuple[str, str, tuple[int, ...], bytes], ...]) -> T:
        return analyse({k: np.frombuffer(b, dt).reshape(shape) for k, dt, shape, b in key})

    @functools.wraps(analyse)
    def cached(arrays: Arrays) -> T:
        as_arrays = ((k, np.asarray(v)) for k, v in sorted(arrays.items()))
        return by_contents(tuple((k, a.dtype.str, a.shape, a.tobytes()) for k, a in as_arrays))

    return cached


#: an optimizer case names step t's gradient of parameter p ``"p@t"``
GRAD_MARK = "@"


def optimizer_layout(arrays: Arrays) -> tuple[list[str], int]:
    """An optimizer case's parameter names (those with a step-1 gradient), sorted, and its number of
    steps. Sorted, not in the case's order: the jax reference receives the arrays by keyword in
    sorted order, and every reference must concatenate its parameters alike."""
    names = sorted(k for k in arrays if f"{k}{GRAD_MARK}1" in arrays)
    steps = max((int(k.rpartition(GRAD_MARK)[2]) for k in arrays if GRAD_MARK in k), default=0)
    return names, steps


@functools.cache
def _with_hyper(fn: Callable[..., Any], hyper: tuple[tuple[str, Any], ...]) -> Callable[..., Any]:
    """``fn`` with hyper-parameters bound; cached, so equal values give the *same* object and the
    JAX reference, which compiles once per function object, compiles once per value (not per call)."""
    return functools.partial(fn, **dict(hyper))


@dataclass(frozen=True)
class Sample:
    """A fixed case, judged against torch like a drawn one (property ``samples``): the edge cases a
    strategy may never hit exactly, such as ties, NaN routing and inf·0 at a saturated output.

    ``arrays`` is a whole case (inputs, parameters, hyper-parameters; floats are cast to the
    dtype checked); ``dout`` the upstream gradient (None: a fixed one that is not all ones).
    ``convention`` names a choice the spec's own layer makes where correct code may differ (ReLU
    at NaN: torch passes NaN and its gradient through, ``np.where(x > 0, x, 0)`` gives 0): such a
    sample binds the spec's own layer only, never a class brought to be checked.
    """

    name: str
    arrays: Mapping[str, Any]
    dout: Any = None
    convention: str | None = None


@dataclass(frozen=True)
class BadInput:
    """Input the layer must refuse, with an error that names the layer and the shape of every array
    ``change`` altered (tests/test_bad_input.py runs these for the spec's own layer only: a
    learner's layer need not validate its input).

    ``change`` turns a valid drawn case into the bad one; the layer is built from it and run forward.
    """

    case: str
    change: Callable[[Arrays], Arrays]
    raises: type[Exception] = ValueError


@dataclass(frozen=True)
class Alternative:
    """Another known convention a class that fails this spec may follow: spec ``spec`` with
    ``settings`` overridden (``crosscheck check --as spec --set k=v``). ``only_if_raises``: claim it
    only when every failure of the first spec was the class raising, none a wrong number (a class
    with no backward in some mode, not one with a wrong backward)."""

    spec: str
    settings: Mapping[str, float] = field(default_factory=dict)
    only_if_raises: bool = False

    def flags(self) -> str:
        """The command-line flags that select it."""
        return " ".join([f"--as {self.spec}", *(f"--set {k}={v!r}" for k, v in self.settings.items())])


@dataclass(frozen=True)
class RunningStats:
    """Statistics a layer keeps across training forwards, by attribute (batch norm's running mean
    and variance; property ``running_stats``). ``torch(T, xs, **case)`` is the framework's own
    update: those statistics after a training forward of each batch in ``xs``, concatenated, then
    the test-mode output of the last batch under them, flattened; one such row per accepted
    convention (``conventions``). The initial statistics are the ``construction.init_arrays`` of the
    spec's ``modes.eval``; the book's momentum ``m`` is drawn from ``momenta`` (never 0.5, where a
    swapped ``m`` and ``1 - m`` agree)."""

    attributes: tuple[str, ...]
    torch: Callable[..., Any]
    #: the conventions ``torch`` gives a row each, in order (a class agreeing with any one passes)
    conventions: tuple[str, ...] = ("torch's",)
    momenta: tuple[float, ...] = (0.9, 0.7)


@dataclass(frozen=True)
class Numerics:
    """How much rounding is honest: the case's conditioning and the size of the terms its value and
    gradients are made of (cancellation leaves their rounding behind)."""

    cond: Callable[[Arrays], float] = _well_conditioned
    #: the size of the terms a gradient is made of at upstream gradient ``dout``: one number, or a
    #: mapping by name (0 for a name left out)
    grad_scale: Callable[[Arrays, np.ndarray], float | Mapping[str, float]] | None = None
    #: the same for the forward value (``x - mean(x)``)
    value_scale: Callable[[Arrays], float] | None = None
    #: True: where ``grad_scale`` or ``value_scale`` is None, the engine derives it from the spec's
    #: own math (componentwise condition numbers by autodiff, ``engine.scales``): no hooks to write
    derive_scales: bool = False


@dataclass(frozen=True)
class Kinks:
    """Where the layer is not differentiable, and which gradient its convention gives there."""

    #: elements within ``margin`` of a point where the layer is not differentiable (None: smooth)
    at: Callable[[Arrays, float], dict[str, np.ndarray]] | None = None
    #: the gradient the layer's convention prescribes exactly at its kinks: {name: (mask, value)};
    #: ``value`` a number, or a function of the upstream gradient (leaky ReLU: ``alpha * dout``)
    gradient: Callable[[Arrays], dict[str, tuple[np.ndarray, Any]]] | None = None
    #: that convention, for ``crosscheck list`` ("gradient 0 at x == 0")
    convention: str = ""
    #: the kinks by name, for a verdict that a class differs only there ("x == 0", "tied maxima")
    name: str = ""
    #: the references whose gradient exactly at a kink follows ``convention`` (None: all of them);
    #: the others are not compared at the elements ``at(arrays, 0.0)`` marks (e.g. max-pooling
    #: ties, where XLA promises no order in which a window's maximum is chosen)
    references: tuple[str, ...] | None = None
    #: the example lies within rounding of a kink at an *intermediate* value (e.g. a hidden
    #: pre-activation): exact references may then legitimately take either side, so it is skipped
    ambiguous: Callable[[Arrays], bool] | None = None


@dataclass(frozen=True)
class Construction:
    """How the spec's layer is built and called beyond ``layer(*params)`` and ``forward(*inputs)``."""

    #: constructor keywords for the spec's own layer only (impl's switch to this convention, e.g.
    #: ``inverted=False``); never given to a class brought to be checked
    layer_kwargs: Mapping[str, Any] = field(default_factory=dict)
    #: hyper-parameters chosen per shape-set entry (stride, pad, ...): the draw puts them in the
    #: case as scalars; the constructor gets them by keyword, the math functions as bound keyword
    #: arguments (``bind``), never as traced arrays; hooks read them like any other entry
    hyper: tuple[str, ...] = ()
    #: drawn arrays (running statistics) the constructor takes by keyword; never differentiated
    init_arrays: tuple[str, ...] = ()
    #: fixed keyword arguments of every forward call (e.g. ``train_flg=False``: inference mode)
    forward_kwargs: Mapping[str, Any] = field(default_factory=dict)
    #: inputs handed to forward by keyword rather than position (e.g. a dropout ``mask``)
    keyword_inputs: tuple[str, ...] = ()
    #: the spec for a class whose ``forward`` takes none of ``keyword_inputs`` (a dropout that
    #: draws its own mask), and a one-line note saying how it is checked: ``adapt(spec, cls)``;
    #: None: such a class is an interface error
    adapt: Callable[[LayerSpec, Any], tuple[LayerSpec, str]] | None = None
    #: seed NumPy's global RNG with this before every forward call, so that a class drawing its own
    #: randomness (``np.random.rand``) draws the same for the same shape every time
    numpy_seed: int | None = None


@dataclass(frozen=True)
class Conventions:
    """Which convention the spec stands for, the constants a class may fix differently, and the
    other known conventions a failing class may follow."""

    #: constants of the math a class may fix differently (eps): ``--set eps=1e-6`` overrides one.
    #: They are put in every case as scalars (hooks read ``a["eps"]``), bound to the math functions
    #: like ``hyper``, and never handed to the class: they describe the class's own convention
    #: (an optimizer's constructor gets them if it takes them: the book hard-codes Adam's eps)
    settings: Mapping[str, float] = field(default_factory=dict)
    #: other known conventions, tried on a quick probe when a class fails this spec
    alternatives: tuple[Alternative, ...] = ()
    #: the convention this spec stands for, by name, for the line that tells a learner their class
    #: follows it ("the book's non-inverted dropout: ...")
    name: str = ""


@dataclass(frozen=True)
class Modes:
    """Which modes beyond a training forward and backward the layer has, and how each is judged."""

    #: False: the convention has no backward in this mode (only forward is checked)
    backward: bool = True
    #: the same layer in test mode (``train_flg=False``), a spec of its own: a class checked against
    #: this spec has its test-mode forward judged against that spec's references too (property
    #: ``eval_mode``), so a dropout that also scales at test time cannot pass on training alone
    eval: LayerSpec | None = None
    #: statistics kept across training forwards and used in test mode (batch norm's running mean
    #: and variance), judged against the framework's own update; needs ``eval``
    running: RunningStats | None = None


@dataclass(frozen=True)
class Edges:
    """Which fixed cases judge the layer besides the drawn ones: edge samples, and input it must refuse."""

    #: fixed edge cases, judged against torch by the ``samples`` property
    samples: tuple[Sample, ...] = ()
    #: input the spec's own layer must refuse by name (tests/test_bad_input.py)
    bad_inputs: tuple[BadInput, ...] = ()
    #: inputs whose domain excludes 0 or negatives (log, 1/x): the generic bad-input rows
    #: (tests/test_bad_input.py) feed them positive values, so only their planted NaN/inf propagate
    domain_positive: tuple[str, ...] = ()


@dataclass(frozen=True)
class LayerSpec:
    """How to build, feed and judge one layer: a small core (what the layer takes and returns, its
    math, how its cases are drawn) and facets, each answering one question (``Numerics``,
    ``Kinks``, ``Construction``, ``Conventions``, ``Modes``, ``Edges``).

    ``torch`` and ``jax`` are the layer's pure math written once in each framework's own API,
    as ``fn(ns, **arrays)``; ``ns`` carries the framework modules (``ns.torch``, ``ns.F``;
    ``ns.jax``, ``ns.jnp``, ``ns.nn``, ``ns.lax``), so that a spec imports neither.
    A layer spec drives ``forward(*inputs)``/``backward(dout)``; a :class:`NetSpec` and an
    :class:`OptimizerSpec` drive other interfaces (``drivers.DRIVERS``, the one table).
    """

    #: what the spec drives, for display only (``drivers.DRIVERS`` decides how it is driven)
    kind: ClassVar[str] = "layer"

    name: str
    layer: Callable[..., Any]
    summary: str
    inputs: tuple[str, ...]
    shapes: tuple[Sizes, ...]
    draw: Callable[[Draw, np.dtype, Sizes], Arrays]
    torch: Callable[..., Any]
    jax: Callable[..., Any]
    params: tuple[str, ...] = ()
    #: inputs that are not differentiated (labels, targets; a network's data)
    constants: tuple[str, ...] = ()
    #: the names of several outputs of one shape (LSTM: ``("h_next", "c_next")``): forward and the
    #: math return one array per name, backward takes one upstream gradient per name
    #: (``engine/outputs.py``); empty: a single output
    outputs: tuple[str, ...] = ()
    #: the layer acts on each row (first axis) independently
    row_wise: bool = False
    dtypes: tuple[type, ...] = (np.float64, np.float32)
    #: the known hazards a shape-set entry may reach, by name (``"overlapping windows"``), each a
    #: test of its sizes: every hazard needs an entry reaching it alone (tests/test_kinds.py), so
    #: a class that raises on another hazard (padding) is still checked on it
    hazards: Mapping[str, Callable[[Sizes], bool]] = field(default_factory=dict)
    #: sizes drawn by Hypothesis (any rank, any length) instead of taken from ``shapes``, for the
    #: references that compile nothing per shape (torch, finite differences, the layer itself);
    #: JAX compiles once per shape, so its cells keep ``shapes``
    drawn_sizes: Callable[[Draw], Sizes] | None = None
    #: references that cannot judge this spec even when installed, with why: a visible skip
    declined: Mapping[str, str] = field(default_factory=dict)
    #: modules a reference needs for this spec beyond its framework (jax's optimizers: optax); a
    #: missing one is a visible skip naming it (``missing``)
    requires: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    numerics: Numerics = field(default_factory=Numerics)
    kinks: Kinks = field(default_factory=Kinks)
    construction: Construction = field(default_factory=Construction)
    conventions: Conventions = field(default_factory=Conventions)
    modes: Modes = field(default_factory=Modes)
    edges: Edges = field(default_factory=Edges)

    def described_arrays(self, arrays: Arrays) -> tuple[str, ...]:
        """The arrays of a case that describe its shape-set entry: the inputs."""
        return self.inputs

    def missing(self, reference: str) -> str | None:
        """Why ``reference`` cannot judge this spec here: declined, or a module it needs is not
        installed (looked up without importing it); None if nothing stands in the way."""
        if reference in self.declined:
            return self.declined[reference]
        absent = [m for m in self.requires.get(reference, ()) if importlib.util.find_spec(m) is None]
        return "; ".join(f"{m} is not installed (pip install {m})" for m in absent) or None

    @property
    def wrt(self) -> tuple[str, ...]:
        """The arrays whose gradients the layer must produce: differentiable inputs, then parameters."""
        return tuple(i for i in self.inputs if i not in self.constants) + self.params

    def bind(self, backend: str, arrays: Arrays) -> tuple[Callable[..., Any], Arrays]:
        """The spec's function for ``backend`` with this case's hyper-parameters bound as Python
        scalars, and the arrays it is then called with (the case without the hyper-parameters)."""
        fn = {"torch": self.torch, "jax": self.jax}[backend]
        if self.outputs:
            fn = stacked_math(backend, fn)
        bound = [k for k in (*self.construction.hyper, *self.conventions.settings) if k in arrays]
        if not bound:
            return fn, arrays
        hyper = tuple((k, np.asarray(arrays[k]).item()) for k in bound)
        rest = {k: v for k, v in arrays.items() if k not in bound}
        return _with_hyper(fn, hyper), rest

    def with_settings(self, overrides: Mapping[str, Any]) -> LayerSpec:
        """This spec with some ``settings`` changed; ValueError naming the spec's settings for a
        key it does not have or a value that is not a number."""
        settings = self.conventions.settings
        unknown = [k for k in overrides if k not in settings]
        if unknown:
            have = ", ".join(settings) or "none"
            raise ValueError(f"spec {self.name} has no setting {unknown[0]!r} (its settings: {have})")
        values = {}
        for k, v in overrides.items():
            try:
                values[k] = float(v)
            except (TypeError, ValueError):
                raise ValueError(f"setting {k}={v!r} of spec {self.name} is not a number") from None
            # a setting is a constant such as eps: finite, and positive where the spec's own is
            if not np.isfinite(values[k]) or (settings[k] > 0 and not values[k] > 0):
                domain = "a positive finite number" if settings[k] > 0 else "a finite number"
                default = f"its default: {settings[k]:g}"
                raise ValueError(f"setting {k}={v!r} of spec {self.name} must be {domain} ({default})")
        return revise(self, conventions={"settings": {**settings, **values}})

    def describe(self) -> dict[str, Any]:
        """What ``crosscheck list`` shows."""
        return {
            "name": self.name,
            "layer": getattr(self.layer, "__name__", repr(self.layer)),
            "summary": self.summary,
            "inputs": list(self.inputs),
            "params": list(self.params),
            "outputs": list(self.outputs),
            "constants": list(self.constants),
            "shapes": [dict(s) for s in self.shapes],
            "kinks": self.kinks.convention or "none (smooth)",
            "dtypes": [np.dtype(t).name for t in self.dtypes],
            "settings": dict(self.conventions.settings),
            "alternatives": [a.flags() for a in self.conventions.alternatives],
        }


S = TypeVar("S", bound=LayerSpec)


def revise(spec: S, **changes: Any) -> S:
    """``dataclasses.replace`` that takes a facet's changes as a mapping of its fields, keeping the
    others: ``revise(spec, name="relu_x", kinks={"references": ()})``; a facet given whole (or any
    other field) replaces it."""
    for key, value in changes.items():
        facet = getattr(spec, key, None)  # an unknown field: replace names it
        if isinstance(value, Mapping) and dataclasses.is_dataclass(facet) and not isinstance(facet, type):
            changes[key] = replace(facet, **value)
    return replace(spec, **changes)


@dataclass(frozen=True)
class NetSpec(LayerSpec):
    """A network: built from sizes (``net_args``), its parameters written into its ``params``
    dict, value from ``loss(*inputs)``, gradients from ``gradient(*inputs)`` (``drivers.NetDriver``)."""

    kind: ClassVar[str] = "net"
    #: the constructor's positional arguments, from the drawn arrays (and hyper-parameters)
    net_args: Callable[[Arrays], tuple[Any, ...]] = field(kw_only=True)


@dataclass(frozen=True)
class OptimizerSpec(LayerSpec):
    """An optimizer: ``update(params, grads)`` step by step (``drivers.OptimizerDriver``, property
    ``optimizer``); a case holds the parameters, each step's gradients (``GRAD_MARK``) and the
    hyper-parameters, and ``torch`` returns the parameters after every step, one row per step."""

    kind: ClassVar[str] = "optimizer"

    def described_arrays(self, arrays: Arrays) -> tuple[str, ...]:
        """The parameters of a case: its shape-set entry is theirs."""
        return tuple(optimizer_layout(arrays)[0])
