"""Load the class a user names on the command line: ``path/to/file.py:Class`` or ``pkg.module:Class``.

A file is loaded on its own, under a name of its path; one whose package-relative imports
(``from .functions import *``) need its package is imported as the module of its package it is.

Every failure is a :class:`UsageError` whose message is one line, so the command line can print
it without a traceback.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import inspect
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from layer_crosscheck.properties.engine.errors import UsageError, did_you_mean
from layer_crosscheck.properties.engine.sandbox import foreign

__all__ = [
    "UsageError",
    "commas",
    "is_file",
    "load_file",
    "load_target",
    "one_line",
    "target_name",
]


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
    was afterwards, whatever the imported file did to it (the book's ``sys.path.append(os.pardir)``);
    the working directory too (a file that changes it would move the next ``--chain`` target)."""
    saved, cwd = list(sys.path), os.getcwd()
    sys.path[:0] = [r for r in roots if r not in sys.path]
    try:
        yield
    finally:
        sys.path[:] = saved
        if os.getcwd() != cwd:
            os.chdir(cwd)


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
            foreign(f"importing {path_text}", spec.loader.exec_module, module)
    except BaseException as exc:
        del sys.modules[name]
        if isinstance(exc, KeyboardInterrupt):
            raise
        if isinstance(exc, ImportError) and "relative import" in str(exc):
            return _from_package(path, path_text)
        raise UsageError(f"cannot import {path_text}: {one_line(exc)}") from None
    return module


def _package_name(path: Path) -> tuple[str, str]:
    """The dotted name of a file in its package, and the directory the package is imported from:
    ``root/pkg/sub/file.py`` with ``__init__.py`` in ``pkg/sub/`` and ``pkg/`` is ``pkg.sub.file``
    from ``root``; a directory without ``__init__.py`` is a namespace package of its own name."""
    parts, root = [path.stem], path.parent
    while (root / "__init__.py").is_file() and root.parent != root:
        parts.insert(0, root.name)
        root = root.parent
    if len(parts) == 1:
        parts.insert(0, root.name)
        root = root.parent
    return ".".join(parts), str(root)


def _from_package(path: Path, path_text: str) -> ModuleType:
    """A file with package-relative imports (``from .functions import *``), imported as the module
    of its package that it is (``_package_name``), the package's root first on ``sys.path``."""
    dotted, root = _package_name(path)
    tried = f"cannot import {path_text} as module {dotted} of its package (from {root})"
    try:
        with _import_path([root, *_import_roots(path)]):
            module = importlib.import_module(dotted)
    except Exception as exc:
        raise UsageError(f"{tried}: {one_line(exc)}") from None
    loaded = getattr(module, "__file__", None)
    if loaded is None or Path(loaded).resolve() != path:
        raise UsageError(f"{tried}: a module of that name is already loaded from {loaded}")
    return module


def load_file(path_text: str, roots: Sequence[str] = ()) -> ModuleType:
    """The module of a source file, loaded once (a ``file.py:Class`` target then reuses it), with
    ``roots`` on ``sys.path`` too while it loads (a folder checked whole: its files import each
    other from its root, as the book's ``ch05/two_layer_net.py`` imports ``common.layers``)."""
    with _import_path(list(roots)):
        return _from_file(path_text)


def _from_module(module_name: str) -> ModuleType:
    # like `python -m`: a module in the current directory can be named
    try:
        with _import_path([os.getcwd()]):
            return foreign(f"importing {module_name}", importlib.import_module, module_name)
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
    head, _, last = attr_path.rpartition(".")
    within: Any = module
    for attr in head.split(".") if head else ():
        within = getattr(within, attr, None)
    named = getattr(within, last, None)
    if within is not None and (named is None or inspect.isfunction(named)):
        from layer_crosscheck.properties.engine.function_pair import resolve_pair

        pair = resolve_pair(within, last)  # CS231n's affine_forward/affine_backward, softmax_loss
        if pair is not None:
            return pair
    obj: Any = module
    for attr in attr_path.split("."):
        if not hasattr(obj, attr):
            classes = [n for n, v in vars(obj).items() if isinstance(v, type)]
            raise UsageError(f"{module_part} has no class {attr_path!r}{did_you_mean(attr, classes)}")
        obj = getattr(obj, attr)
    if not callable(obj):
        raise UsageError(f"{target} is a {type(obj).__name__}, not a class")
    return obj


def target_name(cls: Any) -> str:
    """A ``module:Class`` target for an importable class (what a reproduction snippet imports)."""
    return f"{cls.__module__}:{cls.__qualname__}"


