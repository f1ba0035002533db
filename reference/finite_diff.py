"""Central finite differences: the framework-free judge, in the arrays' own dtype.

A float32 layer's backward is checked against its *own* float32 forward, so nothing here upcasts
the inputs; only the differences of the outputs are formed in float64.

Exact steps. ``x + h*u`` rounds, and at large ``|x|`` the rounding is a large fraction of ``h``
(at ``|x| = 1e4`` in float64 an ulp is 1.8e-12 against ``h = 6e-6``), so dividing by the nominal
``2h`` misstates the step. Instead the evaluated points ``xp`` and ``xm`` are kept and their true
difference ``xp - xm`` is used (exact by Sterbenz's lemma while ``|h*u|`` is small next to
``|x|``, and in any case the difference of the points actually evaluated). ``directional``
follows torch.autograd.gradcheck's fast mode: one pair of evaluations along a random direction,
compared through ``<v, f(xp) - f(xm)>`` versus ``sum <grad, xp - xm>``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from layer_crosscheck.reference.base import check_wrt

__all__ = ["Directional", "FiniteDifferences"]

NumpyFn = Callable[..., Any]

@dataclass(frozen=True)
class Directional:
    """One central difference along a direction: ``difference ≈ sum_name J_name @ delta[name]``."""

    difference: np.ndarray  #: fn(xp) - fn(xm), float64, output-shaped
    delta: dict[str, np.ndarray]  #: xp - xm per perturbed name, float64: the exact step taken
    h: float  #: the nominal step: xp = x + h*u, xm = x - h*u

    def predicted(self, grads: Mapping[str, np.ndarray]) -> float:
        """``sum <grads[name], delta[name]>``: with grads of ``<v, fn>``, predicts ``<v, difference>``."""
        return float(sum(np.vdot(np.asarray(grads[k], np.float64), d) for k, d in self.delta.items()))

    @property
    def jvp(self) -> np.ndarray:
        """``J·u ≈ difference / 2h``: convenient, but carries the rounding of ``x ± h*u``."""
        return self.difference / (2.0 * self.h)


def _float_dtype(a: np.ndarray, name: str) -> np.dtype[Any]:
    if a.dtype.kind != "f":
        raise TypeError(f"cannot perturb {name!r}: dtype {a.dtype} is not floating")
    return a.dtype


class FiniteDifferences:
    """Differentiates a plain NumPy callable ``fn(**arrays)``; always available.

    Not an autodiff `reference.base.Reference`: there is no spec function to evaluate, only the
    layer's own forward to difference, so its protocol is ``name``, ``unavailable()``, ``step``,
    ``directional`` and ``jacobian`` (whose ``fn`` is the NumPy callable).
    """

    name = "fd"

    def unavailable(self) -> None:
        """Always None: finite differences need numpy only."""
        return None

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"

    @staticmethod
    def step(dtype: Any) -> float:
        """``eps ** (1/3)``: balances central differences' truncation (h²) against round-off (eps/h).

        Absolute, not scaled by ``|x|``: the layers' curvature does not grow with ``|x|``.
        """
        dt = np.dtype(dtype)
        if dt.kind != "f":
            raise TypeError(f"finite-difference step needs a floating dtype, got {dt}")
        return float(np.finfo(dt).eps) ** (1.0 / 3.0)

    @staticmethod
    def _evaluate(fn: NumpyFn, base: Mapping[str, np.ndarray], **override: np.ndarray) -> np.ndarray:
        # Fresh copies per call: a layer that writes into its input cannot corrupt later columns
        # or the caller's (possibly read-only) arrays.
        args = {k: np.array(override.get(k, v), copy=True) for k, v in base.items()}
        return np.asarray(fn(**args)).astype(np.float64)

    def directional(
        self,
        fn: NumpyFn,
        arrays: Mapping[str, Any],
        directions: Mapping[str, Any],
        *,
        h: float | None = None,
    ) -> Directional:
        """One pair of evaluations at ``x ± h*u`` for the directions ``{name: u}`` (others fixed).

        ``u`` should have entries of order 1; ``h`` defaults to the step of the coarsest perturbed
        dtype, whose round-off dominates.
        """
        base = {k: np.asarray(v) for k, v in arrays.items()}
        if not directions:
            raise ValueError("directions is empty: name at least one array to perturb")
        for name, u in directions.items():
            if name not in base:
                raise ValueError(f"direction for {name!r}, which is not among the arrays {sorted(base)}")
            _float_dtype(base[name], name)
            if np.shape(u) != base[name].shape:
                raise ValueError(
                    f"direction for {name!r} has shape {np.shape(u)} "
                    f"but the array has shape {base[name].shape}"
                )
        if h is None:
            h = max(self.step(base[k].dtype) for k in directions)
        plus: dict[str, np.ndarray] = {}
        minus: dict[str, np.ndarray] = {}
        delta: dict[str, np.ndarray] = {}
        for name, u in directions.items():
            x = base[name]
            hu = x.dtype.type(h) * np.asarray(u).astype(x.dtype)
            plus[name] = np.asarray(x + hu, dtype=x.dtype)  # asarray: 0-d stays an array
            minus[name] = np.asarray(x - hu, dtype=x.dtype)
            delta[name] = np.asarray(plus[name].astype(np.float64) - minus[name].astype(np.float64))
        out_plus = self._evaluate(fn, base, **plus)
        out_minus = self._evaluate(fn, base, **minus)
        if out_plus.shape != out_minus.shape:
            raise ValueError(f"fn returned shapes {out_plus.shape} and {out_minus.shape} at x ± h*u")
        return Directional(difference=np.asarray(out_plus - out_minus), delta=delta, h=float(h))

    def jacobian(
        self,
        fn: NumpyFn,
        arrays: Mapping[str, Any],
        wrt: Sequence[str] | str,
        skip: Mapping[str, Any] | None = None,
        *,
        h: float | None = None,
    ) -> dict[str, np.ndarray]:
        """Per-element central differences (small inputs): shape ``out.shape + arrays[name].shape``.

        ``skip[name]`` is a boolean mask of elements not to perturb (e.g. within a step of a kink);
        their columns are NaN. ``h`` defaults to ``step(arrays[name].dtype)``.
        """
        base = {k: np.asarray(v) for k, v in arrays.items()}
        names = check_wrt(wrt, base)
        masks: dict[str, np.ndarray] = {}
        for name, mask in (skip or {}).items():
            if name not in names:
                raise ValueError(f"skip names {name!r}, which is not in wrt {names}")
            m = np.asarray(mask)
            if m.dtype != np.bool_ or m.shape != base[name].shape:
                raise ValueError(
                    f"skip[{name!r}] must be a bool mask of shape {base[name].shape}, "
                    f"got {m.dtype} of shape {m.shape}"
                )
            masks[name] = m
        out_shape: tuple[int, ...] | None = None
        result: dict[str, np.ndarray] = {}
        columns: dict[str, dict[tuple[int, ...], np.ndarray]] = {}
        for name in names:
            x = base[name]
            hh = x.dtype.type(self.step(x.dtype) if h is None else h)
            columns[name] = {}
            for idx in np.ndindex(x.shape):
                if name in masks and masks[name][idx]:
                    continue
                xp = np.array(x, copy=True)
                xm = np.array(x, copy=True)
                xp[idx] = x[idx] + hh
                xm[idx] = x[idx] - hh
                step = float(xp[idx]) - float(xm[idx])
                if step == 0.0:  # |x| so large that x ± h rounds back to x
                    point = f"{name}{list(idx)} = {x[idx]}"
                    raise ValueError(f"step {float(hh)} vanishes at {point}; pass a larger h")
                diff = np.asarray(
                    self._evaluate(fn, base, **{name: xp}) - self._evaluate(fn, base, **{name: xm})
                )
                out_shape = diff.shape
                columns[name][idx] = diff / step
        if out_shape is None:  # everything skipped: one evaluation for the shape
            out_shape = self._evaluate(fn, base).shape
        for name in names:
            jac = np.full(out_shape + base[name].shape, np.nan)
            for idx, col in columns[name].items():
                where: tuple[Any, ...] = (..., *idx)  # all outputs, input element idx
                jac[where] = col
            result[name] = jac
        return result
