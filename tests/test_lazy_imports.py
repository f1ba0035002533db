"""Importing the packages is cheap: no framework loads until a reference computes something.

Each check runs in a fresh interpreter, since this test process may already hold torch or jax.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FRAMEWORKS = ("torch", "jax", "jaxlib", "functorch")


def run_python(code: str) -> object:
    """Run ``code`` in a fresh interpreter on the repository; it prints one JSON value."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_packages_and_registry_import_no_framework() -> None:
    code = f"""
import json, sys
import impl, reference, properties
from reference import REFERENCE_NAMES, get_reference
refs = [get_reference(name) for name in REFERENCE_NAMES]
print(json.dumps(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)))
"""
    assert run_python(code) == []


@pytest.mark.parametrize("package", ["impl", "reference", "properties"])
def test_each_package_imports_no_framework(package: str) -> None:
    code = f"""
import json, sys
import {package}
print(json.dumps(sorted(m for m in {FRAMEWORKS!r} if m in sys.modules)))
"""
    assert run_python(code) == []


@pytest.mark.parametrize("package", ["impl", "reference"])
def test_package_imports_only_numpy_and_the_standard_library(package: str) -> None:
    """Every module of the package, imported: nothing new beyond numpy, stdlib and itself."""
    code = f"""
import importlib, json, pkgutil, sys
import numpy
before = set(sys.modules)
import {package}
for info in pkgutil.walk_packages({package}.__path__, "{package}."):
    importlib.import_module(info.name)
new = {{m.split(".")[0] for m in set(sys.modules) - before}}
allowed = set(sys.stdlib_module_names) | {{"numpy", "{package}"}}
print(json.dumps(sorted(new - allowed)))
"""
    assert run_python(code) == []
