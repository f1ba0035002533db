"""Small assertions shared by the test modules."""

from __future__ import annotations

import dataclasses
import functools
import io
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager, redirect_stderr, redirect_stdout
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from layer_crosscheck.properties.engine.drivers import driver_for
from layer_crosscheck.properties.engine.explore import example_cases
from layer_crosscheck.properties.engine.matrix import Cell
from layer_crosscheck.properties.engine.registry import SPECS
from layer_crosscheck.properties.engine.spec import LayerSpec
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


@contextmanager
def interruptible_children() -> Iterator[None]:
    """Children started inside take Ctrl-C as a terminal delivers it. A shell without job control
    starts background commands with SIGINT ignored and exec keeps that (POSIX): a Ctrl-C test run
    from such a shell would see a process that cannot be interrupted. (Not a ``preexec_fn``:
    that forks, which JAX warns against once it is loaded.)"""
    if signal.getsignal(signal.SIGINT) is not signal.SIG_IGN:
        yield
        return
    signal.signal(signal.SIGINT, signal.default_int_handler)  # exec resets a handler to SIG_DFL
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)


def plugin_args() -> list[str]:
    """What a child pytest needs to load the crosscheck plugin: nothing when its entry point is
    installed, else ``-p`` with the module."""
    installed = any(ep.name == "crosscheck" for ep in entry_points(group="pytest11"))
    return [] if installed else ["-p", "layer_crosscheck.properties.frontends.pytest_plugin"]


#: the references that differentiate the spec's own math (the third, fd, differentiates the class)
AUTODIFF = ("torch", "jax")


def profile_examples() -> int:
    """Examples per cell for a test that a correct class passes: the loaded Hypothesis profile's
    (dev 10, ci 25, thorough 1000), so a longer hunt for false alarms is one setting away."""
    return settings().max_examples


def autodiff_for(spec: LayerSpec) -> str | None:
    """The one autodiff reference that judges somebody's correct class against ``spec`` in the
    default suite: torch where it can judge the spec here, else jax, else None.

    A class written another way (loops, the book's code, a course's solution) must agree with the
    spec's math; that torch's and jax's math agree is proven per spec by tests/test_properties.py
    (its ``agreement`` cells in the default suite, jax's whole column under ``--exhaustive``). So
    one framework suffices, and the cheaper one is taken: JAX compiles each shape of each function
    anew. Where torch is not installed (every tox environment but py311) the same classes are
    judged against jax."""
    for name in AUTODIFF:
        if spec.missing(name) is None and get_reference(name).unavailable() is None:
            return name
    return None


def second_autodiff(cell: Cell) -> bool:
    """Whether ``cell`` judges a class against an autodiff reference that ``autodiff_for`` does not
    choose for its spec (jax, where torch judges the same cell). The spec-judging cells (torch's
    math vs jax's: ``agreement``) are never second: they are what ties the two columns together."""
    if cell.prop.judges == "spec":
        return False
    one = autodiff_for(cell.spec)
    return one is not None and not set(cell.references) & set(AUTODIFF) <= {one}


def one_autodiff(cells: list[Cell]) -> list[Cell]:
    """``cells`` without the ``second_autodiff`` ones: finite differences, the class's own
    properties and one framework remain (all of them where neither framework can run: their cells
    then skip, naming what is missing)."""
    return [c for c in cells if not second_autodiff(c)]


def needs(reference: str, purpose: str) -> pytest.MarkDecorator:
    """A skip mark for a test that cannot run without ``reference`` (missing, or hidden by
    ``--without``), its reason the purpose and what the reference says is missing."""
    missing = get_reference(reference).unavailable()
    return pytest.mark.skipif(missing is not None, reason=f"{purpose}: {missing}")


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


def crosscheck_captured(*argv: str) -> Ran:
    """``crosscheck(capsys, *argv)`` without capsys, for a module-scoped fixture: one run whose
    output several tests read."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(list(argv))
    return Ran(code, out.getvalue(), err.getvalue())


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


# ------------------------------------------- a registered spec's layer, as the engine drives it


def _preferred(case: dict[str, np.ndarray], first: str) -> tuple[bool, bool, int]:
    """A case whose first input is a batch of several examples, 2-D if there is one."""
    shape = case[first].shape
    return (len(shape) >= 2 and shape[0] >= 2, len(shape) == 2, -len(shape))


@functools.cache
def _example_case(name: str) -> dict[str, np.ndarray]:
    spec = SPECS[name]
    return max(example_cases(spec), key=lambda c: _preferred(c, spec.inputs[0]))


def example_case(name: str) -> dict[str, np.ndarray]:
    """Spec ``name``'s example case whose first input is a batch of several examples, 2-D if it
    can be (Hypothesis's simplest draw of each shape entry); fresh writable copies."""
    return {k: np.array(v) for k, v in _example_case(name).items()}


def built(name: str, **changes: Any) -> Any:
    """Spec ``name``'s layer, built by the engine's driver from its example case with ``changes``."""
    spec = SPECS[name]
    return driver_for(spec).build(spec.layer, {**example_case(name), **changes}, np.float64)


def driven(name: str, layer: Any = None, **changes: Any) -> Any:
    """The driver's forward of spec ``name`` on its example case with ``changes``, on ``layer``
    (else one it builds from the same case)."""
    spec = SPECS[name]
    case = {**example_case(name), **changes}
    return driver_for(spec).forward(built(name, **changes) if layer is None else layer, case)


def elementwise(spec: LayerSpec) -> bool:
    """A row-wise layer without parameters that its spec draws at several ranks and that gives an
    output of its input's shape at each: an elementwise layer, which takes any shape."""
    if spec.kind != "layer" or spec.params or not spec.row_wise or spec.outputs or not spec.modes.backward:
        return False
    first, drv = spec.inputs[0], driver_for(spec)
    cases = example_cases(spec)
    if len({c[first].ndim for c in cases}) < 2:
        return False
    return all(drv.forward(drv.build(spec.layer, c, np.float64), c).shape == c[first].shape for c in cases)


def two_operand_specs() -> list[LayerSpec]:
    """The registry's elementwise layers of two operands, both differentiated (the book's nodes)."""
    return [s for s in SPECS.values() if len(s.inputs) == 2 and not s.constants and elementwise(s)]


def loss_specs() -> list[LayerSpec]:
    """The registry's losses: layers whose forward gives one number and which have a backward."""
    return [
        s
        for s in SPECS.values()
        if s.kind == "layer" and s.modes.backward and not s.outputs and np.ndim(driven(s.name)) == 0
    ]
