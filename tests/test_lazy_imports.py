"""Importing the packages is cheap: no framework loads until a reference computes something.

Each check runs in a fresh interpreter, since this test process may already hold torch or jax.
"""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from layer_crosscheck.properties.engine.tolerances import rounding_rtol
from tests.helpers import ROOT, subprocess_env

FRAMEWORKS = ("torch", "jax", "jaxlib", "functorch")


def run_python(code: str, env: dict[str, str] | None = None) -> object:
    """Run ``code`` in a fresh interpreter on the repository; it prints one JSON value."""
    done = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env or subprocess_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_packages_and_registry_import_no_framework() -> None:
    """All three packages and every reference object: so each package alone imports none either."""
    code = f"""
import json, sys
from layer_crosscheck import impl, reference, properties
from layer_crosscheck.reference import REFERENCE_NAMES, get_reference
refs = [get_reference(name) for name in REFERENCE_NAMES]
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
import layer_crosscheck.{package} as package
for info in pkgutil.walk_packages(package.__path__, "layer_crosscheck.{package}."):
    importlib.import_module(info.name)
def root(name):  # layer_crosscheck.impl.x -> layer_crosscheck.impl; numpy.linalg -> numpy
    parts = name.split(".")
    return ".".join(parts[:2]) if parts[0] == "layer_crosscheck" and len(parts) > 1 else parts[0]
new = {{root(m) for m in set(sys.modules) - before}}
allowed = set(sys.stdlib_module_names) | {{"numpy", "layer_crosscheck", "layer_crosscheck.{package}"}}
print(json.dumps(sorted(new - allowed)))
"""
    assert run_python(code) == []


def test_jax_reference_leaves_the_process_settings_alone() -> None:
    """No JAX_PLATFORMS in os.environ, no global x64: float64 only inside the reference's calls.

    The results are still float64 to the last bit (elementwise, correctly rounded operations, so
    numpy agrees exactly; float32 arithmetic would be ~1e-8 off).
    """
    from layer_crosscheck.reference import get_reference

    reason = get_reference("jax").unavailable()
    if reason is not None:
        pytest.skip(reason)
    code = """
import json, os
import numpy as np
from layer_crosscheck.reference import get_reference

env_before = os.environ.get("JAX_PLATFORMS")
ref = get_reference("jax")
seen = []

def spec(ns, x):
    seen.append([ns.jax.config.jax_enable_x64, str(x.dtype), str(ns.jnp.asarray(0.1).dtype)])
    return x * 0.1 + x * x

x = np.random.default_rng(0).uniform(1, 2, size=(3, 4))
value = ref.value(spec, {"x": x})
ct = np.random.default_rng(1).uniform(-2, 2, size=x.shape)  # a drawn cotangent, never all ones
grad = ref.vjp(spec, {"x": x}, ["x"], ct)["x"]
y = x + 1
value_again = ref.value(spec, {"x": y})  # the compiled value again: no retrace, still float64
import jax, jax.numpy as jnp
rel = lambda a, b: float(np.max(np.abs(a - b) / np.abs(b)))
print(json.dumps({
    "env": [env_before, os.environ.get("JAX_PLATFORMS")],
    "x64_outside": bool(jax.config.jax_enable_x64),
    "user_default_dtype": str(jnp.zeros(()).dtype),
    "seen": seen,
    "dtypes": [str(value.dtype), str(grad.dtype)],
    "rel": [rel(value, x * 0.1 + x * x), rel(grad, ct * (0.1 + 2 * x)), rel(value_again, y * 0.1 + y * y)],
}))
"""
    env = {k: v for k, v in subprocess_env().items() if k not in ("JAX_PLATFORMS", "JAX_ENABLE_X64")}
    got = run_python(code, env)
    assert got["env"] == [None, None]
    assert got["x64_outside"] is False
    assert got["user_default_dtype"] == "float32"
    # Traced twice (value, vjp): under x64 each time, with float64 inputs and constants.
    assert got["seen"] == [[True, "float64", "float64"]] * 2
    assert got["dtypes"] == ["float64", "float64"]
    assert max(got["rel"]) <= rounding_rtol(np.float64), got["rel"]
