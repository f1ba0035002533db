"""The one tolerance table. Every comparison in the harness takes its tolerance from here.

A comparison passes when ``|actual - expected| <= rtol * (|expected| + max|expected|)``, i.e.
``numpy.testing.assert_allclose`` semantics with a norm-wise ``atol = rtol * max|expected|``
(errors are judged against the size of the whole result, the way LAPACK states error bounds),
plus a floor at the smallest *normal* number of the dtype: XLA on the CPU flushes subnormals to
zero, so results below that floor cannot be told apart.

``rtol`` is derived, never tuned:

* against an exact reference (torch, jax, computed in float64): ``EXACT_ULPS * eps(dtype) * cond``.
  ``EXACT_ULPS = 2**10`` covers the worst-case rounding of a reduction of ~1000 terms (``n * eps``);
  the layers here reduce over far fewer. ``cond >= 1`` is the layer's condition number at the drawn
  input, declared by its spec (softmax-like layers: ``1 + max|x|``, because an absolute error of
  ``eps * |x|`` in a logit is a relative error of the same size in the output).
* against central finite differences with step ``h = eps**(1/3)``: truncation ``~h**2`` and
  round-off ``~eps/h`` balance at ``eps**(2/3)``; ``FD_FACTOR = 2**6`` covers the constants
  (``|f'''|/6`` and ``|f|``) of well-scaled layers, times the same ``cond``.

* the round-off of a central difference, ``~eps * |f|`` in each of the two evaluations, does not
  shrink with the result, so it is an absolute term: ``FD_ROUNDOFF_ULPS * eps * sum(|v| * |f|)``
  for the directional check ``<v, f(x + h u) - f(x - h u)>``.
* a gradient made of terms larger than itself (a spec's ``grad_scale``, or its derived scale)
  carries their rounding into ``<backward(v), u>``: the backward's own, so at the exact rate
  (``exact_rtol * scale * sum|h u|``), not at the differences' ``fd_rtol``, which would let a
  gradient one part in a million off pass wherever the terms are large.

In float64 the exact tolerance is ~2.3e-13, so a gradient off by one part in a million is caught
with a margin of six orders of magnitude; the finite-difference one is ~2.4e-9.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "EXACT_ULPS",
    "FD_FACTOR",
    "FD_ROUNDOFF_ULPS",
    "ROUNDING_ULPS",
    "TABLE",
    "exact_rtol",
    "fd_roundoff",
    "fd_rtol",
    "fd_step_rtol",
    "floor",
    "rounding_rtol",
]

EXACT_ULPS = 2.0**10
FD_FACTOR = 2.0**6
FD_ROUNDOFF_ULPS = 2.0**4
#: a result a handful of correctly rounded operations from its exact value, with no reduction over
#: many terms and no ill-conditioning: a closed form, the book's worked numbers, a precision promise
ROUNDING_ULPS = 2.0**3


def _eps(dtype: np.dtype | type) -> float:
    return float(np.finfo(dtype).eps)


def exact_rtol(dtype: np.dtype | type, cond: float = 1.0) -> float:
    """Tolerance against an exact (autodiff, float64) reference."""
    return EXACT_ULPS * _eps(dtype) * max(1.0, cond)


def fd_rtol(dtype: np.dtype | type, cond: float = 1.0) -> float:
    """Tolerance against central finite differences computed in ``dtype``."""
    return FD_FACTOR * _eps(dtype) ** (2.0 / 3.0) * max(1.0, cond)


def fd_roundoff(dtype: np.dtype | type, weights: np.ndarray, values: np.ndarray) -> float:
    """Absolute round-off of ``<weights, f(x+) - f(x-)>`` when ``|f|`` is about ``|values|``."""
    # the small factor first: |weights| * |values| alone overflows near exp's limit (1/h * e**700)
    ulps = FD_ROUNDOFF_ULPS * _eps(dtype)
    return float(np.sum(ulps * np.abs(weights) * np.abs(values)))


def rounding_rtol(dtype: np.dtype | type, ulps: float = ROUNDING_ULPS) -> float:
    """Tolerance of a result ``ulps`` roundings of ``dtype`` from its exact value (or from the same
    formula in a wider dtype): far tighter than ``exact_rtol``, for what must be all but exact."""
    return ulps * _eps(dtype)


def fd_step_rtol(dtype: np.dtype | type, step: float, cond: float = 1.0) -> float:
    """``fd_rtol`` for central differences with a step other than ``eps**(1/3)`` (the book's
    ``numerical_gradient``, ``h = 1e-4``): truncation ``~h**2`` and round-off ``~eps/h``, with the
    same factor; at ``h = eps**(1/3)`` it is ``fd_rtol``."""
    return FD_FACTOR * (step**2 + _eps(dtype) / step) / 2 * max(1.0, cond)


def floor(dtype: np.dtype | type) -> float:
    """Differences below the smallest normal number are not distinguished (flush-to-zero)."""
    return float(np.finfo(dtype).tiny)


#: The table as the docs print it: dtype -> (exact rtol, finite-difference rtol) at cond = 1.
TABLE: dict[str, tuple[float, float]] = {
    np.dtype(t).name: (exact_rtol(t), fd_rtol(t)) for t in (np.float64, np.float32)
}
