"""Compare an array with its reference and say, when they differ, by how much and where."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from properties.engine.tolerances import floor

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
    """The largest errors of one comparison (what the conformance matrix shows)."""

    max_abs: float = 0.0
    max_rel: float = 0.0

    def __or__(self, other: Errors) -> Errors:
        return Errors(max(self.max_abs, other.max_abs), max(self.max_rel, other.max_rel))


def _where(a: np.ndarray, flat_index: int) -> str:
    return str(np.unravel_index(flat_index, a.shape)) if a.ndim else "()"


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
        raise Mismatch(f"{what}: NaN at {_where(a, i)} on one side only ({a.flat[i]} vs {e.flat[i]})")
    inf = np.isinf(a) | np.isinf(e)
    if not np.array_equal(a[inf], e[inf]):
        i = int(np.flatnonzero(inf & (a != e))[0])
        raise Mismatch(f"{what}: infinity mismatch at {_where(a, i)} ({a.flat[i]} vs {e.flat[i]})")
    ok = ~(nan_a | inf)
    diff = np.where(ok, np.abs(a - e), 0.0)
    mag = np.where(ok, np.abs(e), 0.0)
    if scale is None:
        scale = float(mag.max())
    allowed = rtol * (mag + scale) + atol + floor(dtype if dtype is not None else np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(mag > 0, diff / mag, np.where(diff > 0, np.inf, 0.0))
    errors = Errors(float(diff.max()), float(rel.max()))
    bad = diff > allowed
    if bad.any():
        i_abs = int(np.argmax(diff))
        i_rel = int(np.argmax(rel))
        raise Mismatch(
            f"{what}: {int(bad.sum())} of {a.size} elements out of tolerance (rtol {rtol:.3g}, "
            f"scale {scale:.3g}, atol {atol:.3g}).\n"
            f"  largest absolute error {errors.max_abs:.3g} at {_where(a, i_abs)}: "
            f"got {a.flat[i_abs]!r}, reference {e.flat[i_abs]!r}\n"
            f"  largest relative error {errors.max_rel:.3g} at {_where(a, i_rel)}: "
            f"got {a.flat[i_rel]!r}, reference {e.flat[i_rel]!r}",
            errors,
        )
    return errors
