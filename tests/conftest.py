"""Suite-wide setup: the Hypothesis profile, and NumPy floating-point errors raised in every test."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

import layer_crosscheck.properties.specs  # noqa: F401  (the built-in specs register on import)
from layer_crosscheck.properties.engine.profiles import load_profile

load_profile()


@pytest.fixture(autouse=True)
def _numpy_errors_raise() -> Iterator[None]:
    """Overflow, division by zero or an invalid operation anywhere is a failure, not a warning lost
    in the log. Underflow is not: rounding a tiny product to zero is the correctly rounded result."""
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        yield
