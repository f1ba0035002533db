"""What a whole file or folder holds to check (``crosscheck check PATH``): every class whose name,
or a base class's, matches a spec or one of its aliases (``registry.spec_for_name``).

A file is read as source first and imported only if it holds a candidate, so a training script
without a ``__main__`` guard is never run. What is found in an imported module comes from
``FINDERS``, one function each: a finder of another kind of layer (CS231n's
``affine_forward``/``affine_backward`` pairs) joins with one line.
"""

from __future__ import annotations

import ast
import inspect
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

from layer_crosscheck.properties.engine.registry import normalised, spec_for_name
from layer_crosscheck.properties.engine.spec import LayerSpec
from layer_crosscheck.properties.frontends.loader import UsageError, load_file, one_line

__all__ = ["FINDERS", "Item", "classes_in", "discover", "pairs_in", "python_files", "spec_of"]

#: folders never searched: caches, virtual environments, version control
SKIPPED_DIRS = frozenset({"__pycache__", "site-packages", "node_modules", "venv", "env"})


@dataclass(frozen=True)
class Item:
    """One thing found: its name, its file, what ``check_layer`` is handed (the target
    ``file.py:Name``; None if it could not be loaded), the spec it matches (None: no spec), and
    why it could not be loaded."""

    name: str
    path: str
    target: Any
    spec: LayerSpec | None
    error: str = ""


#: ``finder(module) -> [(name, object)]`` or ``[(name, object, spec)]``: what a loaded module
#: holds to check, each loadable as the target ``file.py:name``; a spec given (a finder that knows
#: it, as CS231n's pairs do) is taken unless ``--as Name=spec`` says otherwise
Finder = Callable[[ModuleType], list[tuple[Any, ...]]]


def classes_in(module: ModuleType) -> list[tuple[Any, ...]]:
    """The classes a module defines itself (not those it imports: ``from common.layers import *``
    brings the book's layers into every chapter's file), in source order."""
    return [
        (name, obj)
        for name, obj in vars(module).items()
        if inspect.isclass(obj) and obj.__module__ == module.__name__ and obj.__name__ == name
    ]


def pairs_in(module: ModuleType) -> list[tuple[Any, ...]]:
    """CS231n's function pairs (``engine.function_pair``: ``affine_forward``/``affine_backward``,
    the losses), each with the spec the course's call of it names (None: no spec for it yet)."""
    from layer_crosscheck.properties.engine.function_pair import find_function_pairs, pair_call
    from layer_crosscheck.properties.engine.registry import SPECS

    found = []
    for name, forward, _ in find_function_pairs(module):
        call = pair_call(name)
        found.append((name, forward, SPECS.get(call.spec) if call is not None else None))
    return found


FINDERS: list[Finder] = [classes_in, pairs_in]


def spec_of(
    obj: Any, name: str, mapping: Mapping[str, LayerSpec], known: LayerSpec | None = None
) -> LayerSpec | None:
    """The spec ``obj`` (called ``name``; None: not loaded) is checked against: ``--as Name=spec``
    first, then the one its finder ``known``, else the first class of its MRO whose name matches
    (a ``class MyRelu(Relu)`` is a Relu)."""
    given = {normalised(k): v for k, v in mapping.items()}
    if normalised(name) in given:
        return given[normalised(name)]
    if known is not None:
        return known
    names = [name, *(k.__name__ for k in inspect.getmro(obj)[1:-1])] if inspect.isclass(obj) else [name]
    return next((s for s in map(spec_for_name, names) if s is not None), None)


def python_files(path: Path) -> list[Path]:
    """``path`` itself, or the ``.py`` files under it in sorted order (hidden folders, caches and
    virtual environments left out)."""
    if path.is_file():
        return [path]
    found = []
    for folder, dirs, files in os.walk(path):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIPPED_DIRS)
        found += [Path(folder) / f for f in sorted(files) if f.endswith(".py")]
    return found


def _base_name(node: ast.expr) -> str:
    return node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", "")


def _candidates(tree: ast.Module, mapping: Mapping[str, LayerSpec]) -> tuple[list[str], bool]:
    """The top-level classes of a parsed file, and whether anything in it may match: a class or a
    base class by name, or a ``*_forward``/``*_backward`` pair of functions."""
    given = {normalised(k) for k in mapping}
    classes = [n for n in tree.body if isinstance(n, ast.ClassDef)]
    names = [c.name for c in classes] + [_base_name(b) for c in classes for b in c.bases]
    functions = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    pair = any(f.endswith("_forward") and f[: -len("forward")] + "backward" in functions for f in functions)
    matched = any(normalised(n) in given or spec_for_name(n) is not None for n in names if n)
    return [c.name for c in classes], matched or pair


def _shown(path: Path) -> str:
    """A file as the table and the rerun lines name it: relative to the working directory if under it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def discover(path: Path, mapping: Mapping[str, LayerSpec]) -> list[Item]:
    """Every item of ``path`` (a file or a folder), matched or not. A folder's files import each
    other from its root (the book's ``ch05`` imports ``common``)."""
    roots = [str(path.resolve())] if path.is_dir() else []
    items: list[Item] = []
    for file in python_files(path):
        shown = _shown(file)
        try:
            tree = ast.parse(file.read_bytes(), filename=str(file))
        except (SyntaxError, ValueError) as exc:
            items.append(Item(file.name, shown, None, None, f"cannot parse {shown}: {one_line(exc)}"))
            continue
        classes, wanted = _candidates(tree, mapping)
        if not wanted:
            items += [Item(name, shown, None, None) for name in classes]
            continue
        try:
            module = load_file(str(file), roots)
        except UsageError as exc:
            for name in classes:  # could not load the candidates; the others have no spec anyway
                spec = spec_of(None, name, mapping)
                items.append(Item(name, shown, None, spec, str(exc) if spec else ""))
            continue
        for finder in FINDERS:
            for found in finder(module):
                name, obj = found[0], found[1]
                known = found[2] if len(found) > 2 else None
                items.append(Item(name, shown, f"{shown}:{name}", spec_of(obj, name, mapping, known)))
    return items
