"""Compare an array with its reference and say, when they differ, by how much and where."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from layer_crosscheck.properties.engine.tolerances import floor

__all__ = ["Errors", "Mismatch", "compare"]


class Mismatch(AssertionError):
    """The layer disagrees with a reference; the message is meant for a person to act on.

    ``errors`` holds the numbers when the disagreement is one of size (for the conformance matrix).
    """

    def __init__(self, message: str, errors: Errors | None = None) -> None:
        super().__init__(message)
        self.errors = errors


@dataclass(frozen=True)
class Errors:
    """The largest errors of one comparison. ``max_ratio``, the largest ``|got - ref|`` over what the
    tolerance allows there, is what the verdict was judged on (at most 1 passes) and what the
    conformance matrix shows: an absolute error of 1e+290 beside exp(700) says nothing."""

    max_abs: float = 0.0
    max_rel: float = 0.0
    max_ratio: float = 0.0

    def __or__(self, other: Errors) -> Errors:
        return Errors(
            max(self.max_abs, other.max_abs),
            max(self.max_rel, other.max_rel),
            max(self.max_ratio, other.max_ratio),
        )


#: a relative error is reported only where the reference is at least this fraction of the
#: comparison's scale: next to a tiny reference element (cancellation, an exact 0), |got - ref| / |ref|
#: is huge for an error the norm-wise tolerance rightly accepts, and says nothing
RELATIVE_FROM = 1e-3


def _where(a: np.ndarray, flat_index: int) -> str:
    """An element's index as a person writes it: ``(0, 2)``, not ``(np.int64(0), np.int64(2))``."""
    return str(tuple(int(i) for i in np.unravel_index(flat_index, a.shape)))


def _num(v: Any) -> str:
    """A value as a plain number (``0.5``, not ``np.float64(0.5)``)."""
    return repr(float(v))


def compare(
    actual: object,
    expected: object,
    rtol: float,
    *,
    what: str,
    scale: float | None = None,
    atol: float = 0.0,
    dtype: np.dtype | type | None = None,
) -> Errors:
    """Assert ``|actual - expected| <= rtol * (|expected| + scale) + atol`` elementwise.

    ``scale`` defaults to ``max|expected|`` (a norm-wise tolerance); ``atol`` carries an error
    that does not scale with the result (the round-off of finite differences). NaN must sit in the same
    places on both sides; infinities must match exactly.
    """
    a = np.asarray(actual, dtype=np.float64)
    e = np.asarray(expected, dtype=np.float64)
    if a.shape != e.shape:
        raise Mismatch(f"{what}: shape {a.shape}, but the reference has shape {e.shape}")
    if a.size == 0:
        return Errors()
    nan_a, nan_e = np.isnan(a), np.isnan(e)
    if not np.array_equal(nan_a, nan_e):
        i = int(np.flatnonzero(nan_a != nan_e)[0])
        raise Mismatch(
            f"{what}: NaN at {_where(a, i)} on one side only ({_num(a.flat[i])} vs {_num(e.flat[i])})"
        )
    inf = np.isinf(a) | np.isinf(e)
    if not np.array_equal(a[inf], e[inf]):
        i = int(np.flatnonzero(inf & (a != e))[0])
        raise Mismatch(
            f"{what}: infinity mismatch at {_where(a, i)} ({_num(a.flat[i])} vs {_num(e.flat[i])})"
        )
    ok = ~(nan_a | inf)
    diff = np.where(ok, np.abs(a - e), 0.0)
    mag = np.where(ok, np.abs(e), 0.0)
    if scale is None:
        scale = float(mag.max())
    allowed = rtol * (mag + scale) + atol + floor(dtype if dtype is not None else np.float64)
    sizable = (mag >= RELATIVE_FROM * scale) & (mag > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(sizable, diff / mag, 0.0)
    bad = diff > allowed
    # a reference of zeros has no sizable element: an error it fails on is infinitely relative,
    # one it accepts (round-off next to an exact 0) has no relative size to show
    max_rel = float(rel.max()) if sizable.any() else (np.inf if bad.any() else 0.0)
    errors = Errors(float(diff.max()), max_rel, float((diff / allowed).max()))  # allowed >= floor > 0
    if bad.any():
        i_abs = int(np.argmax(diff))
        i_rel = int(np.argmax(rel))
        both = sizable.any() and i_rel == i_abs  # one element is both: one line
        relative = f" (relative error {errors.max_rel:.3g})" if both else ""
        lines = [
            f"{what}: {int(bad.sum())} of {a.size} elements out of tolerance (rtol {rtol:.3g}, "
            f"scale {scale:.3g}, atol {atol:.3g}).",
            f"  largest absolute error {errors.max_abs:.3g} at {_where(a, i_abs)}: "
            f"got {_num(a.flat[i_abs])}, reference {_num(e.flat[i_abs])}{relative}",
        ]
        if sizable.any() and not both:
            lines.append(
                f"  largest relative error {errors.max_rel:.3g} at {_where(a, i_rel)}: "
                f"got {_num(a.flat[i_rel])}, reference {_num(e.flat[i_rel])}"
            )
        raise Mismatch("\n".join(lines), errors)
    return errors
