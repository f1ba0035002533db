"""Small assertions shared by the test modules."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from layer_crosscheck.properties.engine.matrix import Cell
from layer_crosscheck.properties.frontends.cli import main
from layer_crosscheck.reference import get_reference


@contextmanager
def raises_naming(exc: type[BaseException], where: str, *fields: Any) -> Iterator[pytest.ExceptionInfo[Any]]:
    """Expect ``exc`` with a message that starts with ``where:`` (``"Affine.forward"``) and names
    every field: a shape, a value or a phrase, each as ``str`` writes it.

    The prefix and the named fields are the contract (docs/ARCHITECTURE.md); the words around them
    may be reworded without breaking a test.
    """
    with pytest.raises(exc) as info:
        yield info
    message = str(info.value)
    assert message.startswith(f"{where}:"), f"the message must start with {where}: {message!r}"
    for field in fields:
        assert str(field) in message, f"the message must name {field!s}: {message!r}"


def raising(id: str, call: Callable[[], Any], exc: type[Exception], where: str, *fields: Any) -> Any:
    """A row of an error table: ``call()`` must raise as ``raises_naming(exc, where, *fields)`` asks."""
    return pytest.param(call, exc, where, fields, id=id)


ROOT = Path(__file__).resolve().parents[1]


def subprocess_env() -> dict[str, str]:
    """``os.environ`` with the repository first on PYTHONPATH: a child Python imports this tree's
    packages whether or not they are installed (``pip install -e .``)."""
    path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    return {**os.environ, "PYTHONPATH": path}


def plugin_args() -> list[str]:
    """What a child pytest needs to load the crosscheck plugin: nothing when its entry point is
    installed, else ``-p`` with the module."""
    installed = any(ep.name == "crosscheck" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "layer_crosscheck.properties.frontends.pytest_plugin"]


def installed(cell: Cell) -> list[pytest.MarkDecorator]:
    """A skip mark naming the missing framework if ``cell``'s reference cannot run here, else none."""
    reason = cell.unavailable()
    return [pytest.mark.skip(reason=reason)] if reason else []


@dataclasses.dataclass
class Ran:
    """One ``crosscheck`` command run in this process: exit code, stdout, stderr."""

    code: int
    out: str
    err: str

    @property
    def first(self) -> str:
        return self.out.splitlines()[0] if self.out else ""


def crosscheck(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    code = main(list(argv))
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def draws(strategy: st.SearchStrategy[Any], n: int) -> list[Any]:
    """The first ``n`` values Hypothesis generates from ``strategy``, derandomized: what the
    engine's draws look like, without shrinking or a database."""
    out: list[Any] = []

    @settings(
        max_examples=n,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        deadline=None,
    )
    @given(strategy)
    def collect(value: Any) -> None:
        out.append(value)

    collect()
    return out


def reference_or_skip(name: str) -> Any:
    """The reference ``name``, loaded the project's way (jax: CPU, float64), or a visible skip with
    its reason ("torch is not installed ...")."""
    ref = get_reference(name)
    reason = ref.unavailable()
    if reason is not None:
        pytest.skip(reason)
    return ref
