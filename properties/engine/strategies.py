"""Hypothesis strategies for layer inputs, built on ``hypothesis.extra.numpy``.

Every float strategy mixes three sources, so that edge cases are not luck: moderate values,
values up to the layer's extreme magnitude, and a small set of exact values (0, ±1 and the
extremes themselves) that makes exact zeros and ties common. Subnormals are left out: XLA flushes
them to zero on the CPU, which would make the references disagree with each other. So are values
so small that a product of a few of them would be subnormal (below ``tiny**(1/4)``, 1e-77 in
float64: a weight of 2.2e-308 times an upstream gradient of 0.5 is flushed by XLA, kept by
NumPy and torch); they become 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

__all__ = ["array", "cotangent", "direction", "labels", "one_hot", "scalar_factor", "values"]


Shape = tuple[int, ...]


def _width(dtype: np.dtype | type) -> Literal[16, 32, 64]:
    return {2: 16, 4: 32, 8: 64}[np.dtype(dtype).itemsize]  # type: ignore[return-value]


def _flush_tiny(dtype: np.dtype | type) -> Callable[[float], float]:
    """0 for magnitudes below ``tiny**(1/4)``: a product of up to four drawn values stays normal."""
    least = float(np.finfo(dtype).tiny) ** 0.25
    return lambda v: 0.0 if abs(v) < least else v


def values(
    dtype: np.dtype | type, extreme: float = 10.0, moderate: float = 3.0, *, nonzero: bool = False
) -> st.SearchStrategy[float]:
    """Floats of ``dtype``: moderate, up to ``±extreme``, and exact specials (zeros, ±1, ±extreme)."""
    w = _width(dtype)
    specials = sorted({0.0, 1.0, -1.0, extreme, -extreme, 0.5, -0.5})
    mixed = st.one_of(
        st.floats(-moderate, moderate, allow_subnormal=False, width=w),
        st.floats(-extreme, extreme, allow_subnormal=False, width=w),
        st.sampled_from(specials),
    ).map(_flush_tiny(dtype))
    return mixed.filter(lambda v: v != 0) if nonzero else mixed


def array(
    dtype: np.dtype | type,
    shape: Shape,
    extreme: float = 10.0,
    moderate: float = 3.0,
    *,
    nonzero: bool = False,
) -> st.SearchStrategy[np.ndarray]:
    """An array whose elements are drawn from :func:`values`."""
    return hnp.arrays(np.dtype(dtype), shape, elements=values(dtype, extreme, moderate, nonzero=nonzero))


def cotangent(dtype: np.dtype | type, shape: Shape) -> st.SearchStrategy[np.ndarray]:
    """A drawn upstream gradient: varied values in [-2, 2] with exact zeros, never all equal.

    An all-ones (or any constant) upstream gradient is useless for softmax-like layers, whose
    true gradient under it is zero; such draws are filtered out.
    """
    w = _width(dtype)
    elements = st.one_of(
        st.floats(-2.0, 2.0, width=w, allow_subnormal=False),
        st.sampled_from([0.0, 1.0, -1.0, 0.25]),
    ).map(_flush_tiny(dtype))
    arrays = hnp.arrays(np.dtype(dtype), shape, elements=elements)
    return arrays.filter(lambda a: a.size < 2 or np.ptp(a) > 0)


def direction(dtype: np.dtype | type, shape: Shape) -> st.SearchStrategy[np.ndarray]:
    """A perturbation direction for finite differences: components in [-1, 1], the largest ±1.

    Scaling to a largest component of 1 keeps the step at ``h``: a direction of tiny components
    would move the input by less than its rounding and measure nothing.
    """
    raw = hnp.arrays(np.dtype(dtype), shape, elements=st.floats(-1.0, 1.0, width=_width(dtype)))
    return raw.map(lambda u: (u / np.max(np.abs(u))).astype(dtype) if np.any(u) else u)


def scalar_factor() -> st.SearchStrategy[float]:
    """A coefficient for linear combinations: away from 0 and of both signs."""
    return st.one_of(st.floats(0.25, 3.0), st.floats(-3.0, -0.25))


def labels(n: int, classes: int) -> st.SearchStrategy[np.ndarray]:
    """Integer class labels of shape (n,)."""
    return hnp.arrays(np.int64, (n,), elements=st.integers(0, classes - 1))


def one_hot(label_array: np.ndarray, classes: int, dtype: np.dtype | type) -> np.ndarray:
    """One-hot rows for ``label_array``."""
    return np.eye(classes, dtype=dtype)[label_array]
