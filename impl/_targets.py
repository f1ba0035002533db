"""Classification targets: integer labels or dense (one-hot / probability) rows, validated once.

Shared by ``SoftmaxWithLoss`` and ``cross_entropy_error`` so both accept the same inputs and reject
bad ones with the same messages.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._base import LayerError

__all__ = ["parse_targets"]


def parse_targets(t: Any, x: np.ndarray, where: str) -> tuple[np.ndarray, bool]:
    """Return ``(t, is_labels)`` for scores ``x`` of shape ``(..., C)``.

    * ``t.shape == x.shape``: dense targets (one-hot or probabilities). Integer/bool one-hot rows
      become ``x.dtype`` (they are exact there, so they must not upcast float32); float targets
      keep their dtype and NumPy promotion decides the result.
    * ``t.shape == x.shape[:-1]`` with an integer dtype: class labels, each ``0 <= label < C``.

    Anything else is a ``LayerError`` naming ``where`` and both shapes (or the offending label).
    """
    t = np.asarray(t)
    kind = t.dtype.kind
    if kind not in "iubf":
        raise TypeError(f"{where}: t has dtype {t.dtype}; expected integer labels or float targets")
    if t.shape == x.shape:
        if kind != "f":
            t = t.astype(x.dtype)
        return t, False
    label_shape = x.shape[:-1]
    if t.shape == label_shape:
        if kind not in "iu":
            raise LayerError(
                f"{where}: t has shape {t.shape} and dtype {t.dtype}: labels must be integers, and "
                f"float targets must have the shape of x {x.shape}"
            )
        n_classes = x.shape[-1]
        bad = np.flatnonzero((t < 0) | (t >= n_classes))
        if bad.size:
            i = int(bad[0])
            label = t.reshape(-1)[i]
            at = f"t[{i}]" if t.ndim else "t"
            raise LayerError(
                f"{where}: label {at} = {label} is out of range for x of shape {x.shape} "
                f"(expected 0 <= label < {n_classes})"
            )
        return t, True
    if kind in "iu" and t.ndim == 1 and x.ndim == 2:
        raise LayerError(
            f"{where}: t has {t.shape[0]} labels (shape {t.shape}) but x has {x.shape[0]} rows "
            f"(shape {x.shape})"
        )
    raise LayerError(
        f"{where}: t has shape {t.shape} but x has shape {x.shape}; expected integer labels of shape "
        f"{label_shape} or targets of shape {x.shape}"
    )
