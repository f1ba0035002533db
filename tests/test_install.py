"""The wheel, installed into a fresh virtual environment beside a user's project that has its own
``properties.py``, ``reference.py``, ``impl/`` and ``tests/``: the project's own tests still pass
(the plugin neither aborts nor changes them), and ``crosscheck check`` and ``assert_layer_matches``
work there. Before the one import package, such a project's pytest run aborted with exit 3.

Slow (a wheel build and a venv, ~20 s); it runs once per interpreter, with ``--no-deps`` installs
of what the outer environment already has, so it needs no network beyond pip's cache.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import ROOT

#: what a wheel is not built from: the checkout's own build products and tools' folders
_NOT_SOURCES = shutil.ignore_patterns(
    ".git", ".tox", ".venv", "build", "dist", "*.egg-info", "mutants", "__pycache__", ".*_cache",
    ".hypothesis",
)

USER_FILES = {
    "properties.py": "NAME = 'the user project properties'\n",
    "reference.py": "def answer():\n    return 42\n",
    "impl/__init__.py": "from .relu import Relu\n",
    "impl/relu.py": (
        "import numpy as np\n\n\n"
        "class Relu:\n"
        "    def forward(self, x):\n"
        "        self.mask = x <= 0\n"
        "        return np.where(self.mask, 0.0, x)\n\n"
        "    def backward(self, dout):\n"
        "        return np.where(self.mask, 0.0, dout)\n"
    ),
    "tests/test_own.py": (
        "import properties, reference\n"
        "from impl import Relu\n\n\n"
        "def test_own_modules_are_the_users():\n"
        "    assert properties.NAME == 'the user project properties'\n"
        "    assert reference.answer() == 42\n"
        "    assert Relu.__module__ == 'impl.relu'\n\n\n"
        "def test_own_relu_against_the_harness():\n"
        "    from layer_crosscheck.properties import assert_layer_matches\n\n"
        "    assert_layer_matches(Relu, spec='relu', references=('fd',), examples=5, seed=1)\n"
    ),
}


def _run(*argv: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in argv], cwd=cwd, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def fresh_env() -> Iterator[Path]:
    """A venv that sees the outer environment's numpy, hypothesis and pytest (``--system-site-packages``
    of the interpreter running this suite would not: tox's env is itself a venv), holding the wheel.
    In a directory of its own, not pytest's basetemp, which another pytest session on the same
    machine may prune while this module still runs."""
    with tempfile.TemporaryDirectory(prefix="crosscheck-install-") as where:
        yield _install(Path(where))


def _install(tmp: Path) -> Path:
    # from a copy: setuptools builds in the source tree (build/, *.egg-info), and two workers
    # building the checkout at once broke each other's build/ ("No such file or directory")
    source = tmp / "source"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCES)
    built = _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp / "dist", source, cwd=tmp)
    if built.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{built.stdout}{built.stderr}")
    (wheel,) = (tmp / "dist").glob("layer_crosscheck-*.whl")
    env = tmp / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    outer = subprocess.run(
        [sys.executable, "-c", "import numpy, hypothesis, pytest; print(numpy.__file__)"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    site = Path(outer).parents[1]  # the outer site-packages: numpy, hypothesis, pytest without a download
    installed = _run(python, "-m", "pip", "install", "-q", "--no-deps", wheel, cwd=tmp)
    if installed.returncode != 0:
        pytest.fail(f"installing the wheel failed:\n{installed.stdout}{installed.stderr}")
    # only now the outer site-packages: before, pip would find the outer env's own layer-crosscheck
    # there, call the wheel installed already and install nothing (no bin/crosscheck)
    inner = _run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp)
    (Path(inner.stdout.strip()) / "outer.pth").write_text(f"{site}\n")
    return env


@pytest.fixture
def user_project(tmp_path: Path) -> Path:
    for name, text in USER_FILES.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    return tmp_path


def test_wheel_installs_one_distinctive_import_package(fresh_env: Path) -> None:
    listing = _run(fresh_env / "bin" / "python", "-m", "pip", "show", "-f", "layer-crosscheck", cwd=fresh_env)
    tops = {
        line.strip().split("/")[0]
        for line in listing.stdout.splitlines()
        if line.startswith("  ") and ".dist-info" not in line and "/" in line and ".." not in line
    }
    assert tops == {"layer_crosscheck"}, listing.stdout


def test_user_project_with_clashing_names_keeps_its_tests(fresh_env: Path, user_project: Path) -> None:
    done = _run(
        fresh_env / "bin" / "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", cwd=user_project
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout


def test_crosscheck_check_works_in_the_user_project(fresh_env: Path, user_project: Path) -> None:
    done = _run(
        fresh_env / "bin" / "crosscheck", "check", "impl/relu.py:Relu", "--as", "relu",
        "--reference", "fd", "--examples", "5", "--seed", "1", cwd=user_project,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Relu agrees with spec relu"), done.stdout
