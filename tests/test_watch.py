"""``crosscheck watch`` (properties/frontends/watch.py): every save is checked again on freshly
loaded code, nothing of an earlier version survives, and Ctrl-C ends it cleanly."""

from __future__ import annotations

import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from layer_crosscheck.properties.engine.errors import UsageError
from layer_crosscheck.properties.frontends.loader import load_target
from layer_crosscheck.properties.frontends.watch import pick_class, watch
from tests.helpers import ROOT, interruptible_children, subprocess_env

LAYER = """
import helper_{tag}


class Relu:
    VERSION = {version}

    def __init__(self):
        helper_{tag}.CALLS.append(self.VERSION)  # module state: must not survive a reload

    def forward(self, x):
        return x

    def backward(self, dout):
        return dout
"""


def _save(path: Path, version: int, tag: str) -> None:
    path.write_text(LAYER.format(version=version, tag=tag))
    later = time.time() + version  # a new modification time, however coarse the file system's
    os.utime(path, (later, later))


def test_each_check_loads_the_saved_source_afresh(tmp_path: Path) -> None:
    tag = tmp_path.name.replace("-", "_")
    (tmp_path / f"helper_{tag}.py").write_text("CALLS = []\n")
    layer = tmp_path / "layer.py"
    _save(layer, 1, tag)
    seen: list[tuple[str, str, int, list[int]]] = []

    def check(target: str, spec: str) -> tuple[bool, str]:
        cls = load_target(target)
        cls()
        seen.append((target, spec, cls.VERSION, list(sys.modules[f"helper_{tag}"].CALLS)))
        if len(seen) == 1:
            _save(layer, 2, tag)
        return True, "checked\n"

    out = io.StringIO()
    assert watch(str(layer), None, check, references=(), out=out, poll=0.01, rounds=2) == 0
    assert seen == [(f"{layer}:Relu", "relu", 1, [1]), (f"{layer}:Relu", "relu", 2, [2])]
    assert out.getvalue().count("crosscheck watch: agrees") == 2


def test_ctrl_c_ends_the_watch_with_a_message(tmp_path: Path) -> None:
    layer = tmp_path / "layer.py"
    layer.write_text("class Sigmoid:\n    def forward(self, x): ...\n    def backward(self, dout): ...\n")

    def interrupted(target: str, spec: str) -> tuple[bool, str]:
        raise KeyboardInterrupt

    out = io.StringIO()
    assert watch(f"{layer}:Sigmoid", None, interrupted, references=(), out=out) == 0
    assert out.getvalue().strip() == "crosscheck watch: stopped"


def test_the_class_and_spec_are_found_or_asked_for(tmp_path: Path) -> None:
    two = tmp_path / "two.py"
    two.write_text(
        "class Relu:\n    def forward(self, x): ...\n    def backward(self, d): ...\n"
        "class SoftmaxWithLoss(Relu): ...\nclass Note: ...\n"
    )
    module = sys.modules[load_target(f"{two}:Relu").__module__]
    assert pick_class(module, "two.py", "SoftmaxWithLoss", None) == ("SoftmaxWithLoss", "softmax_with_loss")
    with pytest.raises(UsageError, match=r"two.py defines 2 layer classes \(Relu, SoftmaxWithLoss\)"):
        pick_class(module, "two.py", None, "relu")
    with pytest.raises(UsageError, match="no spec is named after Note"):
        pick_class(module, "two.py", "Note", None)


def test_the_command_checks_then_stops_on_sigint_leaving_no_process(tmp_path: Path) -> None:
    layer = tmp_path / "relu.py"
    layer.write_text("import numpy as np\n\n" + _RELU)
    argv = [sys.executable, "-m", "layer_crosscheck", "watch", str(layer), "--reference", "fd"]
    argv += ["--examples", "3", "--seed", "1", "-q"]
    with interruptible_children():
        proc = subprocess.Popen(argv, cwd=ROOT, env=subprocess_env(), stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:  # until the first check is done
        lines.append(line)
        if line.startswith("crosscheck watch: agrees"):
            break
    proc.send_signal(signal.SIGINT)
    rest, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + rest
    assert rest.strip().endswith("crosscheck watch: stopped")
    assert "Relu agrees with spec relu" in "".join(lines)


_RELU = """
class Relu:
    def forward(self, x):
        self.mask = x <= 0
        return np.where(self.mask, 0.0, x)

    def backward(self, dout):
        return np.where(self.mask, 0.0, dout)
"""
