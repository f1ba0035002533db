"""``crosscheck watch FILE[:Name] [--as SPEC]``: check a class again every time its file is saved.

One process for the whole session, so torch, JAX and JAX's compiled functions stay loaded and a
re-check costs only its cells. The user's code is never kept: before every check the file's module
(and every module imported from the file's own directories since the watch began) is dropped from
``sys.modules``, so each check loads the saved source afresh and nothing of an earlier version
survives. Saves are noticed by polling modification times (no dependency). The seed is chosen
once, so consecutive checks draw the same examples and differ only by the code.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from layer_crosscheck.properties.engine.errors import UsageError
from layer_crosscheck.properties.engine.registry import SPECS
from layer_crosscheck.properties.frontends.loader import load_file
from layer_crosscheck.reference import REFERENCE_NAMES, get_reference

__all__ = ["Session", "pick_class", "watch"]

#: seconds between two looks at the files' modification times
POLL_SECONDS = 0.25
_TARGET_PREFIX = "_crosscheck_target_"
_DRIVEN = (("forward", "backward"), ("loss", "gradient"), ("update",))


def _snake(name: str) -> str:
    """``SoftmaxWithLoss`` -> ``softmax_with_loss``: the spec a class is named after."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def pick_class(module: Any, path: str, name: str | None, spec: str | None) -> tuple[str, str]:
    """The class to check in the loaded ``module`` and its spec: ``name`` and ``spec`` when given;
    else the one layer class defined in the file, and the spec its name spells."""
    if name is None:
        found = [
            n
            for n, obj in vars(module).items()
            if isinstance(obj, type)
            and obj.__module__ == module.__name__
            and any(all(callable(getattr(obj, m, None)) for m in ms) for ms in _DRIVEN)
        ]
        if len(found) != 1:
            what = f"{len(found)} layer classes ({', '.join(found)})" if found else "no layer class"
            raise UsageError(f"{path} defines {what}; name one: {path}:ClassName")
        name = found[0]
    if spec is None:
        spec = _snake(name)
        if spec not in SPECS:
            raise UsageError(f"no spec is named after {name} ({spec}); name one with --as SPEC")
    return name, spec


class Session:
    """The modules a watch keeps (everything loaded when it began, and the frameworks) apart from
    those it drops before every check (the user's)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kept = set(sys.modules)
        roots = [path.parent]
        while (roots[-1] / "__init__.py").is_file() and roots[-1].parent != roots[-1]:
            roots.append(roots[-1].parent)
        self.roots = [r.resolve() for r in roots]
        self.files: dict[Path, float] = {}

    def _users(self) -> list[tuple[str, Path]]:
        """The user's modules loaded since the watch began: the target file's, and those whose
        source lies in its directories (its neighbours, its package)."""
        out = []
        for name, module in list(sys.modules.items()):
            file = getattr(module, "__file__", None)
            if name in self.kept or file is None or name.startswith("layer_crosscheck"):
                continue
            source = Path(file).resolve()
            mine = name.startswith(_TARGET_PREFIX) or any(source.is_relative_to(r) for r in self.roots)
            if mine and "site-packages" not in source.parts:
                out.append((name, source))
        return out

    def forget(self) -> None:
        """Drop the user's modules, so that the next check imports the saved source afresh."""
        for name, _ in self._users():
            del sys.modules[name]

    def remember(self, target_mtime: float) -> None:
        """The files to watch: the target (as it was when loaded; a save during the check is a
        change) and the user's modules it imported."""
        self.files = {source: _mtime(source) for _, source in self._users()}
        self.files[self.path.resolve()] = target_mtime

    def changed(self) -> bool:
        return any(_mtime(f) != seen for f, seen in self.files.items())


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # saved by replacing the file: momentarily absent
        return -1.0


def _warm(references: Iterable[str] | None) -> None:
    """Import the frameworks once, before the first check (they stay for every later one)."""
    for name in REFERENCE_NAMES if references is None else references:
        get_reference(name).unavailable()


def watch(
    target: str,
    spec: str | None,
    check: Callable[[str, str], tuple[bool, str]],
    *,
    references: Iterable[str] | None = None,
    out: TextIO = sys.stdout,
    poll: float = POLL_SECONDS,
    rounds: int | None = None,
) -> int:
    """Check ``target`` (``FILE`` or ``FILE:Name``) with ``check(target, spec) -> (ok, text)`` now
    and after every save, until Ctrl-C (or ``rounds`` checks, for tests). Returns 0."""
    path_text, _, name = target.rpartition(":")
    if not path_text.endswith(".py"):  # FILE alone
        path_text, name = target, ""
    path = Path(path_text)
    if not path.is_file():
        raise UsageError(f"file not found: {path_text}")
    session = Session(path)
    done = 0
    try:
        _warm(references)
        while rounds is None or done < rounds:
            started, cpu = time.perf_counter(), time.process_time()
            loaded = _mtime(path.resolve())
            session.forget()
            try:
                cls_name, spec_name = pick_class(load_file(path_text), path_text, name or None, spec)
                ok, text = check(f"{path_text}:{cls_name}", spec_name)
                verdict = "agrees" if ok else "DISAGREES"
            except UsageError as exc:
                text, verdict = f"crosscheck watch: error: {exc}\n", "cannot be checked"
            session.remember(loaded)
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            out.write(
                f"{text}\ncrosscheck watch: {verdict} ({seconds:.1f} s, CPU {cpu:.1f} s); waiting for "
                f"{path_text} to change (Ctrl-C to stop)\n"
            )
            out.flush()
            done += 1
            while (rounds is None or done < rounds) and not session.changed():
                time.sleep(poll)
    except KeyboardInterrupt:
        out.write("\ncrosscheck watch: stopped\n")
        out.flush()
    return 0
