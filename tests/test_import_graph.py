"""The import graph, read from the source (every import statement, those under ``TYPE_CHECKING``
and inside functions included): no module of ``impl``, ``reference`` or ``properties`` reaches
itself again, and imports flow one way, ``properties -> {impl, reference}``, never back or into
``tests``. (tests/test_lazy_imports.py checks at run time that impl and reference import only
NumPy and the standard library.)
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

from tests.helpers import ROOT

PACKAGES = ("impl", "reference", "properties")
PREFIX = "layer_crosscheck."


def _modules() -> dict[str, Path]:
    """``layer_crosscheck.properties.engine.spec`` -> its file, for every module of the packages."""
    found = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = path.relative_to(ROOT).with_suffix("").parts
            if parts[-1] == "__init__":
                parts = parts[:-1]
            found[PREFIX + ".".join(parts)] = path
    return found


def _imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    """The modules of ``known`` that ``name``'s source imports (``from a import b``: ``a.b`` if it
    is a module, else ``a``)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, *([base] if base else [])])
            submodules = [f"{base}.{alias.name}" for alias in node.names]
            targets = [sub if sub in known else base for sub in submodules]
        else:
            continue
        yield from (t for t in targets if t in known and t != name)


def _graph() -> dict[str, set[str]]:
    known = _modules()
    return {name: set(_imported(name, path, known)) for name, path in known.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def _top(module: str) -> str:
    return module.removeprefix(PREFIX).split(".")[0]


def test_the_graph_is_read() -> None:
    """The reader finds the edges it must: else the checks below would pass on an empty graph."""
    graph = _graph()
    assert f"{PREFIX}properties.engine.spec" in graph[f"{PREFIX}properties.engine.checks"]
    assert f"{PREFIX}reference.base" in graph[f"{PREFIX}reference.jax_backend"]
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycles() -> None:
    assert _cycles(_graph()) == []


def test_imports_flow_one_way() -> None:
    allowed = {
        "impl": {"impl"},
        "reference": {"reference"},
        "properties": {"properties", "impl", "reference"},
    }
    wrong = sorted(
        (source, target)
        for source, targets in _graph().items()
        for target in targets
        if _top(target) not in allowed[_top(source)]
    )
    assert wrong == []
