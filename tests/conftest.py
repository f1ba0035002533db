"""Suite-wide setup: the Hypothesis profile, JAX's compiled programs kept across runs, NumPy
floating-point errors raised in every test, the ``exhaustive`` tests left to ``--exhaustive``, and
``--without`` to run the suite as a user without torch or jax would."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator

import numpy as np
import pytest

import layer_crosscheck.properties.specs  # noqa: F401  (the built-in specs register on import)
from layer_crosscheck.properties.engine.profiles import load_profile

load_profile()


EXHAUSTIVE = (
    "exhaustive: a test whose finding the default suite already makes another way (the second "
    "autodiff reference's column, more seeds); run with --exhaustive, as tox's py311 environment does"
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--exhaustive",
        action="store_true",
        help="also run the tests marked exhaustive (left out of the default suite, to keep it fast)",
    )
    parser.addoption(
        "--without",
        action="append",
        default=[],
        choices=("torch", "jax", "optax"),
        help="run as if this framework were not installed (repeatable): its cells skip, and the "
        "harness falls back as it does for such a user; the mutation run uses --without jax",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Without ``--exhaustive``, the ``exhaustive`` tests are deselected (counted as such in the
    summary line), not skipped: nothing is missing for them to run."""
    if config.getoption("--exhaustive"):
        return
    left_out = [item for item in items if item.get_closest_marker("exhaustive")]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if not item.get_closest_marker("exhaustive")]


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.getoption("--exhaustive"):
        return None
    return "exhaustive tests deselected (--exhaustive runs them)"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", EXHAUSTIVE)
    _hide(config.getoption("--without"))
    _jax_cache(config)


def _hide(frameworks: list[str]) -> None:
    """Make ``import`` of each framework fail as if it were not installed (``None`` in
    ``sys.modules``). Before any test runs, so no reference has tried to load it yet."""
    for name in frameworks:
        loaded = name in sys.modules and sys.modules[name] is not None
        if loaded:
            raise pytest.UsageError(f"--without {name}: {name} is already imported")
        sys.modules[name] = None  # type: ignore[assignment]


def _jax_cache(config: pytest.Config) -> None:
    """JAX's persistent compilation cache in the user's cache folder
    (``$XDG_CACHE_HOME/layer-crosscheck/jax-compilation``, by default under ``~/.cache``), as
    ``.ci/run`` keeps it: a later run (another worker, another tox env or clone with the same
    jaxlib, the next edit) loads the suite's XLA programs instead of compiling them again. Entries
    are keyed by jaxlib and program, so none goes stale. Set by environment variables, so that
    nothing imports jax here and child processes share it; a folder given in
    ``JAX_COMPILATION_CACHE_DIR`` wins, an empty one turns the cache off, as
    ``JAX_ENABLE_COMPILATION_CACHE=false`` does."""
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(home, "layer-crosscheck", "jax-compilation")
        try:
            os.makedirs(folder, exist_ok=True)
        except OSError:  # a read-only home: no cache, the suite still runs
            return
        os.environ["JAX_COMPILATION_CACHE_DIR"] = folder
    elif not os.environ["JAX_COMPILATION_CACHE_DIR"]:  # kept empty, so xdist's workers see it too
        os.environ["JAX_ENABLE_COMPILATION_CACHE"] = "false"
        return
    # the spec functions are small and compile fast: keep them all
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "0")


@pytest.fixture(autouse=True)
def _numpy_errors_raise() -> Iterator[None]:
    """Overflow, division by zero or an invalid operation anywhere is a failure, not a warning lost
    in the log. Underflow is not: rounding a tiny product to zero is the correctly rounded result."""
    with np.errstate(over="raise", divide="raise", invalid="raise", under="ignore"):
        yield
