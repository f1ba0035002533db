"""Hypothesis profiles: ``dev`` (10 examples per test, the default), ``ci`` (25, derandomized so
CI is reproducible), ``thorough`` (1000, for hunting rare failures before a release) and
``mutation`` (10, derandomized, no shrinking: a mutant only needs to fail, not a minimal example;
see docs/ROBUSTNESS.md).
Choose with ``HYPOTHESIS_PROFILE=ci`` or pytest's ``--hypothesis-profile=ci``.

No deadline anywhere: the first example of a new shape pays JAX's one-off compilation, and speed
is measured in benchmarks, never in tests.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, Phase, settings

__all__ = ["PROFILES", "load_profile"]

_relaxed = [HealthCheck.too_slow, HealthCheck.data_too_large]

PROFILES = {
    "dev": {"max_examples": 10},
    "ci": {"max_examples": 25, "derandomize": True, "database": None, "print_blob": True},
    "thorough": {"max_examples": 1000},
    "mutation": {
        "max_examples": 10,
        "derandomize": True,
        "database": None,
        "phases": [Phase.explicit, Phase.generate],
    },
}

for _name, _options in PROFILES.items():
    settings.register_profile(_name, deadline=None, suppress_health_check=_relaxed, **_options)  # type: ignore[arg-type]


def load_profile(name: str | None = None) -> str:
    """Load ``name``, else ``$HYPOTHESIS_PROFILE``, else ``dev``; return the name loaded."""
    chosen = name or os.environ.get("HYPOTHESIS_PROFILE") or "dev"
    settings.load_profile(chosen)
    return chosen
