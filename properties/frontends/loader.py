"""Load the class a user names on the command line: ``path/to/file.py:Class`` or ``pkg.module:Class``.

Every failure is a :class:`UsageError` whose message is one line, so the command line can print
it without a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from layer_crosscheck.properties.engine.errors import UsageError

__all__ = ["UsageError", "commas", "is_file", "load_file", "load_target", "one_line", "target_name"]


def commas(text: str) -> list[str]:
    """The items of a comma-separated command-line value (``--spec relu,tanh``)."""
    return [part.strip() for part in text.split(",") if part.strip()]


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def is_file(module_part: str) -> bool:
    """Whether the module part of a target names a file (else an importable module)."""
    return module_part.endswith(".py") or "/" in module_part or os.sep in module_part


def _import_roots(path: Path) -> list[str]:
    """Where a file's own imports are looked for, as pytest's rootdir insertion does: the working
    directory (``crosscheck`` run from the project root, the book's ``from common.functions
    import *``), the file's package root (the first directory upwards without ``__init__.py``) and
    the file's own directory (its neighbours)."""
    root = path.parent
    while (root / "__init__.py").is_file() and root.parent != root:
        root = root.parent
    return list(dict.fromkeys([os.getcwd(), str(root), str(path.parent)]))


@contextlib.contextmanager
def _import_path(roots: list[str]) -> Iterator[None]:
    """``roots`` first on ``sys.path`` while the target is imported; ``sys.path`` exactly as it
    was afterwards, whatever the imported file did to it (the book's ``sys.path.append(os.pardir)``)."""
    saved = list(sys.path)
    sys.path[:0] = [r for r in roots if r not in sys.path]
    try:
        yield
    finally:
        sys.path[:] = saved


def _from_file(path_text: str) -> ModuleType:
    path = Path(path_text).expanduser().resolve()
    if not path.is_file():
        raise UsageError(f"file not found: {path_text}")
    # One module per file, whatever name it is loaded under: a second target from the same file
    # gets the same classes.
    name = f"_crosscheck_target_{path.stem}_{hashlib.sha1(str(path).encode()).hexdigest()[:8]}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise UsageError(f"cannot import {path_text}: not a Python source file")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        with _import_path(_import_roots(path)):
            spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[name]
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise UsageError(f"cannot import {path_text}: {one_line(exc)}") from None
    return module


def _from_module(module_name: str) -> ModuleType:
    # like `python -m`: a module in the current directory can be named
    try:
        with _import_path([os.getcwd()]):
            return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            raise UsageError(f"module not found: {module_name}") from None
        raise UsageError(f"cannot import {module_name}: {one_line(exc)}") from None
    except Exception as exc:
        raise UsageError(f"cannot import {module_name}: {one_line(exc)}") from None


def load_target(target: str) -> Any:
    """The object named by ``target`` (``file.py:Class``, ``pkg.mod:Class``; ``Outer.Inner`` allowed)."""
    module_part, sep, attr_path = target.rpartition(":")
    if not sep or not module_part or not attr_path:
        raise UsageError(
            f"target {target!r} must look like path/to/file.py:ClassName or package.module:ClassName"
        )
    module = _from_file(module_part) if is_file(module_part) else _from_module(module_part)
    obj: Any = module
    for attr in attr_path.split("."):
        if not hasattr(obj, attr):
            raise UsageError(f"{module_part} has no class {attr_path!r}")
        obj = getattr(obj, attr)
    if not callable(obj):
        raise UsageError(f"{target} is a {type(obj).__name__}, not a class")
    return obj


def target_name(cls: Any) -> str:
    """A ``module:Class`` target for an importable class (what a reproduction snippet imports)."""
    return f"{cls.__module__}:{cls.__qualname__}"


def load_file(path_text: str, roots: Sequence[str] = ()) -> ModuleType:
    """The module of a source file, loaded once (a ``file.py:Class`` target then reuses it), with
    ``roots`` on ``sys.path`` too while it loads (a folder checked whole: its files import each
    other from its root, as the book's ``ch05/two_layer_net.py`` imports ``common.layers``)."""
    with _import_path(list(roots)):
        return _from_file(path_text)
