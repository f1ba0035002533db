"""Suite-wide setup: the Hypothesis profile, JAX's compiled programs kept across runs, and NumPy
floating-point errors raised in every test."""

from __future__ import annotations

import os
from collections.abc import Iterator

import numpy as np
import pytest

import layer_crosscheck.properties.specs  # noqa: F401  (the built-in specs register on import)
from layer_crosscheck.properties.engine.profiles import load_profile

load_profile()


def pytest_configure(config: pytest.Config) -> None:
    """JAX's persistent compilation cache in pytest's cache folder: a later run (another worker,
    another tox env with the same jaxlib, the next edit) loads the suite's XLA programs instead
    of compiling them again, about 4x less time in the jax cells. Set by environment variables, so
    that nothing imports jax here and child processes share it; an existing setting wins, and
    ``JAX_ENABLE_COMPILATION_CACHE=false`` turns it off. Without pytest's cache plugin (``-p
    no:cacheprovider``, as the mutation run has it) there is no folder, and no JAX cache."""
    cache = getattr(config, "cache", None)
    if cache is None or "JAX_COMPILATION_CACHE_DIR" in os.environ:
        return
    os.environ["JAX_COMPILATION_CACHE_DIR"] = str(cache.mkdir("jax-compilation"))
    # the spec functions are small and compile fast: keep them all
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


@pytest.fixture(autouse=True)
def _numpy_errors_raise() -> Iterator[None]:
    """Overflow, division by zero or an invalid operation anywhere is a failure, not a warning lost
    in the log. Underflow is not: rounding a tiny product to zero is the correctly rounded result."""
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        yield
