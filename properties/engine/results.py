"""What a run produces: one result per cell, and the run with what is needed to repeat it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from layer_crosscheck.properties.engine.compare import Errors
from layer_crosscheck.properties.engine.spec import Arrays

__all__ = ["OK_STATUSES", "Case", "CellResult", "Run", "ShapeResult", "ShapeStatus", "Status"]

Status = Literal["pass", "fail", "error", "vacuous", "skip", "n/a"]
OK_STATUSES = ("pass", "skip", "n/a")
#: how a class fared on one shape-set entry of its spec (properties/engine/shapes.py)
ShapeStatus = Literal["runs", "raises", "not selected"]


@dataclass
class Case:
    """The (shrunk) failing example: what the check saw, and every draw to replay it."""

    arrays: Arrays
    dout: np.ndarray | None
    draws: list[Any]


@dataclass
class CellResult:
    spec: str
    prop: str
    reference: str
    dtype: str
    status: Status
    errors: Errors = field(default_factory=Errors)
    examples: int = 0
    seconds: float = 0.0
    message: str = ""
    case: Case | None = None
    seed: int | None = None
    #: NumPy floating-point warnings the class gave (``crosscheck check`` records them, each once)
    warnings: list[str] = field(default_factory=list)
    #: the exception a failing example raised (not shipped between processes)
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.status in OK_STATUSES

    @property
    def id(self) -> str:
        return f"{self.spec}-{self.prop}-{self.reference}-{self.dtype}"

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.spec, self.prop, self.reference, self.dtype)

    def __getstate__(self) -> dict[str, Any]:
        # exceptions carry tracebacks and frames: a worker sends the message, not the exception
        return {**self.__dict__, "exception": None}


@dataclass(frozen=True)
class ShapeResult:
    """One shape-set entry of the spec (``LayerSpec.shapes[index]``): does the class run on it
    (forward and backward on one example; values are judged by the cells), or raise?"""

    index: int
    label: str
    status: ShapeStatus
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status != "raises"


@dataclass
class Run:
    """The results of one ``report`` or ``check``, with what is needed to repeat it."""

    results: list[CellResult]
    seed: int
    examples: int
    references: tuple[str, ...]
    dtypes: tuple[str, ...]
    unavailable: dict[str, str]
    seconds: float = 0.0
    #: the class checked (``check``) as a loadable target; None for the impl layers (``report``)
    target: str | None = None
    spec: str | None = None
    #: ``check``: each shape-set entry of the spec, and whether the class runs on it
    shapes: list[ShapeResult] = field(default_factory=list)
    #: ``check --shapes``: the entries asked for (None: all of them)
    selected: tuple[int, ...] | None = None
    #: ``--set`` overrides the run was made with (``check``)
    settings: dict[str, float] = field(default_factory=dict)
    #: the one line naming another known convention the class follows (a failed ``check``)
    convention: str | None = None
    #: how the class was driven where it differs from the spec's interface (a recovered mask)
    notes: list[str] = field(default_factory=list)
    #: hint lines for known textbook mistakes (``crosscheck check``; properties/frontends/hints.py)
    hints: list[str] = field(default_factory=list)
    #: the kind of finding (properties/engine/kinds.py): "agrees", "disagrees" (in the ordinary
    #: range), "fragile" (at extreme inputs only) or "convention" (at kinks or ties only)
    kind: str = "agrees"
    #: the method at fault in a failed ``check`` ("backward"; a network's "gradient")
    fault: str | None = None
    #: what the kind rests on, for the verdict ("|values| <= 100")
    kind_why: str = ""
    #: ``check --ordinary``: every magnitude drawn within the ordinary range
    ordinary: bool = False

    @property
    def ok(self) -> bool:
        """Every cell agrees and the class runs on every shape set checked."""
        return all(r.ok for r in self.results) and all(s.ok for s in self.shapes)

    @property
    def failures(self) -> list[CellResult]:
        return [r for r in self.results if not r.ok]
