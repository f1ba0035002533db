"""The default example count is enough: every planted bug is caught by ``crosscheck check``'s
default number of examples per cell, whatever the seed.

tests/test_harness_catches_bugs.py proves each bug is caught with 60 examples and seed 0; a
learner runs ``check`` with the default count (``DEFAULT_EXAMPLES``) and a random seed. A check
made faster by drawing fewer or cheaper examples must still pass this file.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest

import tests.zoo.broken as zoo_broken
from layer_crosscheck.properties.engine import strategies as S
from layer_crosscheck.properties.engine.explore import DEFAULT_EXAMPLES, Options, run_cell
from layer_crosscheck.properties.frontends.api import check_layer
from tests.helpers import draws
from tests.test_harness_catches_bugs import BUGS, Bug

SEEDS = (0, 1, 2, 3, 4)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("bug", BUGS)
def test_default_examples_catch_planted_bug(bug: Bug, seed: int) -> None:
    result = run_cell(bug.cell, bug.layer, Options(DEFAULT_EXAMPLES, seed=seed, shrink_seconds=0, fp=bug.fp))
    assert not result.ok, f"{bug.by[0]} vs {bug.by[1]} accepted {bug.layer.__name__} (seed {seed})"
    assert bug.says in result.message, result.message


#: the zoo's broken classes and the spec each claims (checked as ``crosscheck check`` does)
ZOO_BROKEN = {bug.layer.__name__: bug.spec for bug in (p.values[0] for p in BUGS)}


def test_zoo_broken_list_is_complete() -> None:
    """Every planted bug in the zoo has its proof in tests/test_harness_catches_bugs.py."""
    classes = {
        n
        for n, c in inspect.getmembers(zoo_broken, inspect.isclass)
        if c.__module__ == zoo_broken.__name__ and not n.startswith("_")
    }
    assert classes == set(ZOO_BROKEN)


@pytest.mark.parametrize(
    "seed", [pytest.param(s, marks=[pytest.mark.exhaustive] if s else []) for s in SEEDS[:3]]
)
@pytest.mark.parametrize(("name", "spec"), ZOO_BROKEN.items())
def test_check_defaults_reject_zoo_broken(name: str, spec: str, seed: int) -> None:
    """``crosscheck check`` with its defaults (examples, dtype) and finite differences only, so the
    proof runs without torch or jax. Seed 0 in the default suite, seeds 1 and 2
    ``exhaustive``: the cell that rejects each bug runs with every seed above."""
    run = check_layer(getattr(zoo_broken, name), spec, references=["fd"], seed=seed, shrink_seconds=0)
    assert not run.ok, f"check accepted {name} as {spec} (seed {seed})"


@pytest.mark.parametrize("shape", [(), (1, 5), (3, 4), (12, 12)])
def test_drawn_arrays_are_a_mixture_not_mostly_zeros(shape: tuple[int, ...]) -> None:
    """strategies.array draws each array as one wide integer; a change in how Hypothesis draws
    integers (a narrow range comes out mostly small, i.e. all-zero arrays) would quietly make most
    examples trivial. About a third of the elements are exact specials, few are zeros."""
    arrays = draws(S.array(np.float64, shape), 100)
    zeros = [np.mean(a == 0) for a in arrays]
    assert np.mean(zeros) < 0.3, np.mean(zeros)
    if np.prod(shape) >= 12:
        distinct = [len(np.unique(a)) for a in arrays]
        assert np.median(distinct) >= 0.5 * np.prod(shape), distinct
