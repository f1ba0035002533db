"""Hypothesis strategies for layer inputs.

Every float array mixes sources, so that edge cases are not luck: moderate values, values up to
the layer's extreme magnitude, log-uniform magnitudes, and exact values (0, ±1, the extremes) that
make exact zeros and ties common. Subnormals are left out: XLA flushes them to zero on the CPU,
and the references would disagree. So are values below ``tiny**(1/4)`` (1e-77 in float64: a
weight of 2.2e-308 times an upstream gradient of 0.5 is flushed by XLA, kept by NumPy and torch);
they become 0.

**Speed.** Drawn element by element (``hnp.arrays`` over a float strategy), an element costs
~150 µs of Hypothesis bookkeeping, 36 ms per SimpleConvNet example. So an array is one Hypothesis
choice, an integer of ``64 * size`` bits or more (0.1 ms for 100 elements; a ``binary`` choice
costs as much as the floats), each 64-bit word mapped to one element by :func:`_words_to_values`.
Shrinking still simplifies the values (Hypothesis shrinks the integer towards 0: a zero word is 0,
a small top byte an exact special), and a failure is reported and replayed as the arrays it drew.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import math
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = [
    "array",
    "cotangent",
    "direction",
    "labels",
    "one_hot",
    "ordinary_bound",
    "ordinary_range",
    "scalar_factor",
    "shape",
    "shape_choice",
]


Shape = tuple[int, ...]


#: the word's top byte picks the source of an element: below 86 an exact special (a third), below
#: 171 a moderate value (a third), below 235 a value up to the extreme (a quarter), else a
#: log-uniform magnitude (tiny to extreme: relative precision far from 1)
_SPECIAL, _MODERATE, _EXTREME = 86, 171, 235
_FRACTION_BITS = 56
_UNIFORM_BITS = 1088


def _words_to_values(
    words: np.ndarray, specials: Sequence[float], moderate: float, extreme: float, least: float
) -> np.ndarray:
    """Each 64-bit word as one value (float64), shrinking towards 0 and towards ``specials[0]``."""
    top = words >> np.uint64(_FRACTION_BITS)
    frac = (words & np.uint64(2**_FRACTION_BITS - 1)).astype(np.float64) * 2.0**-_FRACTION_BITS
    sign = 1.0 - 2.0 * (top & np.uint64(1)).astype(np.float64)
    out = frac * np.where(top < _MODERATE, moderate, extreme)  # the moderate and extreme sources
    logs = top >= _EXTREME
    if logs.any():
        smallest = math.log10(least)
        out[logs] = 10.0 ** (smallest + frac[logs] * (math.log10(extreme) - smallest))
    out *= sign
    special = top < _SPECIAL
    if special.any():
        which = (top[special] % np.uint64(len(specials))).astype(np.intp)
        out[special] = np.asarray(specials, np.float64)[which]
    return out


#: elements per integer choice: 200 * 64 bits print as 3,854 digits, within Python's 4,300 (and
#: each choice stays wide: Hypothesis draws a narrower integer as 0 more often)
_CHUNK = 200


@functools.lru_cache(maxsize=1024)
def _mixture(
    dtype: np.dtype | type, shape: Shape, specials: Sequence[float], moderate: float, extreme: float
) -> st.SearchStrategy[np.ndarray]:
    """Arrays of ``shape`` drawn as one integer choice of ``64 * size`` bits (see the module docstring);
    cached, since building and validating a strategy afresh per draw costs as much as drawing."""
    dt = np.dtype(dtype)
    size = math.prod(shape)
    flush = float(np.finfo(dt).tiny) ** 0.25
    least = max(flush, 1e-20)

    # one integer per chunk of at most _CHUNK elements: Python will not print an int of more than
    # 4300 digits, and Hypothesis prints every choice it reports (a 225-element array crashed it)
    chunks = [min(_CHUNK, size - start) for start in range(0, size, _CHUNK)] or [0]

    def to_array(raws: tuple[int, ...]) -> np.ndarray:
        pairs = zip(raws, chunks, strict=True)
        parts = [(raw & (2 ** (64 * n) - 1)).to_bytes(8 * n, "big") for raw, n in pairs]
        words = np.frombuffer(b"".join(parts), dtype=">u8").astype(np.uint64)
        out = _words_to_values(words, specials, moderate, extreme, least)
        out = np.where(np.abs(out) < flush, 0.0, out)  # keeps signed zeros' sign: -0.0 stays -0.0
        return out.astype(dt).reshape(shape)

    # Hypothesis draws an integer range wider than a float (2**1024) uniformly; a narrower one
    # mostly small (its leading words, elements, all 0): so the range is at least _UNIFORM_BITS
    # wide and the array is its low bits (tests/test_default_examples_catch_bugs.py checks the mix)
    ints = [st.integers(0, 2 ** max(64 * n, _UNIFORM_BITS) - 1) for n in chunks]
    if len(ints) == 1:  # most arrays: the same choice, without a tuple's bookkeeping
        return ints[0].map(lambda raw: to_array((raw,)))
    return st.tuples(*ints).map(to_array)


#: the ordinary range of magnitudes, by dtype: a gap of twice the bound between two values keeps
#: ``exp(-gap)`` far from underflow (float64: exp(-200) = 1e-87; float32: exp(-20) = 2e-9), so a
#: layer that is right here and wrong only beyond it is fragile, not wrong (``--ordinary``)
ORDINARY = {8: 1e2, 4: 1e1}
_ORDINARY_ONLY = contextvars.ContextVar("ordinary_only", default=False)


def ordinary_bound(dtype: np.dtype | type) -> float:
    """The largest magnitude of the ordinary range in ``dtype``."""
    return ORDINARY.get(np.dtype(dtype).itemsize, ORDINARY[4])


@contextlib.contextmanager
def ordinary_range() -> Iterator[None]:
    """While active, :func:`array` draws no magnitude beyond :func:`ordinary_bound` (its extremes,
    specials included, become the bound): the draw of ``--ordinary`` and of telling a fragile
    class from a wrong one (properties/engine/kinds.py)."""
    token = _ORDINARY_ONLY.set(True)
    try:
        yield
    finally:
        _ORDINARY_ONLY.reset(token)


def array(
    dtype: np.dtype | type,
    shape: Shape,
    extreme: float = 10.0,
    moderate: float = 3.0,
    *,
    nonzero: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """An array of the mixture (see the module docstring): moderate values, values up to
    ``±extreme``, exact specials and log-uniform magnitudes; ``nonzero``: every 0 becomes 1."""
    if _ORDINARY_ONLY.get():
        extreme = min(float(extreme), ordinary_bound(dtype))
    return _array(np.dtype(dtype), tuple(shape), float(extreme), float(moderate), nonzero)


@functools.lru_cache(maxsize=1024)
def _array(
    dtype: np.dtype, shape: Shape, extreme: float, moderate: float, nonzero: bool
) -> st.SearchStrategy[np.ndarray]:
    specials = (0.0, 1.0, -1.0, 0.5, -0.5, -0.0, extreme, -extreme)  # simplest first: a zero word is 0
    drawn = _mixture(dtype, shape, specials, min(moderate, extreme), extreme)
    if nonzero:
        return drawn.map(lambda a: np.where(a == 0, np.ones_like(a), a))
    return drawn


def cotangent(dtype: np.dtype | type, shape: Shape) -> st.SearchStrategy[np.ndarray]:
    """A drawn upstream gradient: varied values in [-2, 2] with exact zeros, never all equal.

    An all-ones (or any constant) upstream gradient is useless for softmax-like layers, whose
    true gradient under it is zero; such a draw becomes its first value (1 for 0) and zeros.
    """
    return _cotangent(np.dtype(dtype), tuple(shape))


def _varied(a: np.ndarray) -> np.ndarray:
    """``a`` if its values vary, else its first value (1 for a 0) followed by zeros. A map, not a
    filter: the same draws where they vary, without a filter's bookkeeping at every draw, and the
    simplest draw, all zeros, shrinks to a one-hot."""
    if a.size < 2 or a.max() != a.min():
        return a
    varied = np.zeros_like(a)
    varied.flat[0] = a.flat[0] if a.flat[0] != 0 else 1
    return varied


@functools.lru_cache(maxsize=1024)
def _cotangent(dtype: np.dtype, shape: Shape) -> st.SearchStrategy[np.ndarray]:
    return _mixture(dtype, shape, (0.0, 1.0, -1.0, 0.25, -0.25, 2.0, -2.0), 2.0, 2.0).map(_varied)


def direction(dtype: np.dtype | type, shape: Shape) -> st.SearchStrategy[np.ndarray]:
    """A perturbation direction for finite differences: components in [-1, 1], the largest ±1.

    Scaling to a largest component of 1 keeps the step at ``h``: a direction of tiny components
    would move the input by less than its rounding and measure nothing.
    """
    return _direction(np.dtype(dtype), tuple(shape))


@functools.lru_cache(maxsize=1024)
def _direction(dtype: np.dtype, shape: Shape) -> st.SearchStrategy[np.ndarray]:
    raw = _mixture(dtype, shape, (0.0, 1.0, -1.0, 0.5, -0.5), 1.0, 1.0)
    return raw.map(lambda u: (u / np.max(np.abs(u))).astype(dtype) if np.any(u) else u)


@functools.lru_cache(maxsize=64)
def shape(min_rank: int = 1, max_rank: int = 4, max_side: int = 3) -> st.SearchStrategy[Shape]:
    """A drawn array shape (``drawn_sizes``): any rank in range, sides 1 to ``max_side`` (at most
    3**4 = 81 elements by default, so that a Jacobian, one backward per element, stays cheap)."""
    return hnp.array_shapes(min_dims=min_rank, max_dims=max_rank, min_side=1, max_side=max_side)


@functools.cache
def scalar_factor() -> st.SearchStrategy[float]:
    """A coefficient for linear combinations: away from 0 and of both signs (one strategy, kept:
    Hypothesis validates each new strategy object at its first draw)."""
    return st.one_of(st.floats(0.25, 3.0), st.floats(-3.0, -0.25))


def shape_choice(shapes: Sequence[Any]) -> st.SearchStrategy[Any]:
    """``st.sampled_from(shapes)``, one strategy per shape set (a spec's ``shapes``), kept: the
    shape set is drawn at every example, and a new strategy is validated at its first draw."""
    kept = _SHAPE_CHOICES.get(id(shapes))
    if kept is None or kept[0] is not shapes:
        if len(_SHAPE_CHOICES) >= 1024:
            _SHAPE_CHOICES.clear()
        kept = _SHAPE_CHOICES[id(shapes)] = (shapes, st.sampled_from(shapes))
    return kept[1]


#: by ``id`` of the shape set, which the entry keeps alive (a tuple of dicts is not hashable)
_SHAPE_CHOICES: dict[int, tuple[Sequence[Any], st.SearchStrategy[Any]]] = {}


@functools.lru_cache(maxsize=1024)
def labels(n: int, classes: int) -> st.SearchStrategy[np.ndarray]:
    """Integer class labels of shape (n,)."""
    return hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1))


def one_hot(label_array: np.ndarray, classes: int, dtype: np.dtype | type) -> np.ndarray:
    """One-hot rows for ``label_array``."""
    return np.eye(classes, dtype=dtype)[label_array]
