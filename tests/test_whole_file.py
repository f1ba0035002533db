"""``crosscheck check PATH``: a whole file or folder in one table, found by class names (aliases
and base classes included), and a network that disagrees taken apart layer by layer. On classes
written in other styles than impl's (tests/zoo/whole_file, the book's project): the correct ones
pass, every planted bug is rejected by name. Against finite differences unless a test needs
convention probing (torch).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from layer_crosscheck.impl import TwoLayerNet
from layer_crosscheck.properties.engine.function_pair import pair_call
from layer_crosscheck.properties.engine.registry import ALIASES, SPECS, normalised, spec_for_name
from layer_crosscheck.properties.engine.results import CellResult, Run
from layer_crosscheck.properties.frontends.networks import layers_of
from layer_crosscheck.properties.frontends.whole_file import reason_of, verdict_of
from tests.helpers import Ran, crosscheck_captured, reference_or_skip, subprocess_env
from tests.helpers import crosscheck as run_cli

ZOO = Path(__file__).resolve().parent / "zoo"
STYLES = ZOO / "whole_file"
BOOK = ZOO / "book_project"
FD = ["--reference", "fd", "--seed", "7", "-q"]


def rows(ran: Ran) -> dict[str, list[str]]:
    """The table's rows by item name (each row starts with it), split on runs of two spaces."""
    table = ran.out.split("\n\n")[0].splitlines()[1:]
    return {line.split()[0]: [c.strip() for c in line.split("  ") if c.strip()] for line in table}


def check(capsys: pytest.CaptureFixture[str], *argv: str) -> Ran:
    return run_cli(capsys, "check", *argv)


# ---- matching names to specs -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "spec"),
    [
        ("Relu", "relu"),
        ("ReLU", "relu"),
        ("re_lu", "relu"),
        ("BatchNormalization", "batch_norm"),  # the base spec, not a variant (batch_norm_eval)
        ("Dropout", "dropout"),
        ("Softmax", "softmax"),
        ("BatchNorm", "batch_norm"),
        ("SoftmaxWithLoss", "softmax_with_loss"),
        ("SoftmaxLoss", "softmax_with_loss"),
        ("Linear", "affine"),
        ("Adam", "adam"),  # the book's Adam, not impl's class of that name (adam_torch)
        ("TwoLayerNet", "two_layer_net"),
        ("MultiLayerNet", "multi_layer_net"),
        ("MultiLayerNetExtend", "multi_layer_net_extend"),
        ("ThreeLayerNet", None),
        ("DataLoader", None),
    ],
)
def test_class_names_and_aliases_find_their_spec(name: str, spec: str | None) -> None:
    found = spec_for_name(name)
    assert (found.name if found else None) == spec


def test_a_class_name_finds_the_base_spec_its_variants_extend() -> None:
    by_class: dict[str, list[str]] = {}
    for s in SPECS.values():
        by_class.setdefault(getattr(s.layer, "__name__", ""), []).append(s.name)
    for name, specs in by_class.items():
        found = spec_for_name(name)
        if found is not None and found.name in specs:
            variants = [o for o in specs if pair_call(o) is None]  # not CS231n's own names (softmax_loss)
            assert all(other.startswith(found.name) for other in variants), (name, found.name, specs)


def test_every_alias_names_a_registered_spec_once() -> None:
    assert [a for a, spec in ALIASES.items() if spec not in SPECS] == []
    assert len({normalised(a) for a in ALIASES}) == len(ALIASES)


# ---- a file: correct classes pass, planted bugs are rejected by name ----------------------------


def test_correct_classes_in_other_styles_all_agree(capsys: pytest.CaptureFixture[str]) -> None:
    ran = check(capsys, str(STYLES / "styles_correct.py"), *FD)
    assert ran.code == 0, ran.out
    table = rows(ran)
    for name, spec in [
        ("ReLU", "relu"),
        ("Sigmoid", "sigmoid"),
        ("Linear", "affine"),
        ("SoftmaxLoss", "softmax_with_loss"),
        ("TwoLayerNet", "two_layer_net"),
    ]:
        assert table[name] == [name, spec, "agrees"], ran.out
    assert table["Rectifier"] == ["Rectifier", "-", "no spec"]
    assert table["Batches"] == ["Batches", "-", "no spec"]
    assert "5 of 5 checked item(s) agree; 2 class(es) without a spec" in ran.out


@pytest.fixture(scope="module")
def buggy() -> Ran:
    """``crosscheck check styles_buggy.py`` against finite differences, run once for the tests that
    read its table."""
    return crosscheck_captured("check", str(STYLES / "styles_buggy.py"), *FD)


def test_planted_bugs_are_rejected_by_name(buggy: Ran) -> None:
    ran = buggy
    assert ran.code == 1, ran.out
    table = rows(ran)
    assert sorted(table) == ["Linear", "ReLU", "Sigmoid", "SoftmaxLoss", "TwoLayerNet"]
    # ReLU's gradient of 1 at x == 0 is a convention at a kink (issue 18's kinds), the rest wrong math
    assert {name: row[2] for name, row in table.items()} == {
        **dict.fromkeys(["Linear", "Sigmoid", "SoftmaxLoss", "TwoLayerNet"], "DISAGREES"),
        "ReLU": "CONVENTION",
    }, ran.out
    # every failing row has its details, ending with the line that checks it alone in full
    for name, spec in [("ReLU", "relu"), ("Sigmoid", "sigmoid"), ("Linear", "affine")]:
        assert f"styles_buggy.py:{name} --as {spec} --seed 7 --examples 10 --reference fd" in ran.out


def test_the_net_verdict_names_its_faulty_layer(buggy: Ran) -> None:
    reason = rows(buggy)["TwoLayerNet"][3]
    assert reason.startswith("layer 'layers[0]', 'layers[2]' (Linear): affine "), reason
    assert reason.endswith("; 'layers[1]', 'loss_layer' agree"), reason


def test_a_net_whose_layers_all_agree_is_at_fault_itself(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    net = tmp_path / "net.py"  # the book's erratum Affine(W2, b1): each layer right, the wiring wrong
    net.write_text(
        "from tests.zoo.broken import TwoLayerNetB1IntoAffine2 as B1IntoAffine2\n\n\n"
        "class TwoLayerNet(B1IntoAffine2):\n    pass\n"
    )
    ran = check(capsys, str(net), *FD)
    assert ran.code == 1
    reason = rows(ran)["TwoLayerNet"][3]
    layers = "'Affine1', 'Affine2', 'Relu1', 'lastLayer'"
    assert reason.startswith(f"its layers: {layers} agree; so the fault is in the net's own code: "), reason


def test_nets_come_after_the_layers_they_are_made_of(buggy: Ran) -> None:
    names = list(rows(buggy))
    # among the rows of one kind (DISAGREES; ReLU's CONVENTION ranks lower, most specific first)
    assert names.index("TwoLayerNet") > max(names.index(n) for n in ("Sigmoid", "Linear", "SoftmaxLoss"))


def test_as_maps_a_name_no_spec_knows(capsys: pytest.CaptureFixture[str]) -> None:
    ran = check(capsys, str(STYLES / "styles_correct.py"), "--as", "Rectifier=relu", *FD)
    assert ran.code == 0, ran.out
    assert rows(ran)["Rectifier"] == ["Rectifier", "relu", "agrees"]
    assert "--as Rectifier=relu" in ran.out.splitlines()[-1]  # the repeat line keeps it


def test_json_lists_every_item(capsys: pytest.CaptureFixture[str]) -> None:
    ran = check(capsys, str(STYLES / "styles_buggy.py"), "--format", "json", *FD)
    data = json.loads(ran.out)
    assert ran.code == 1 and data["ok"] is False and data["seed"] == 7
    net = next(i for i in data["items"] if i["name"] == "TwoLayerNet")
    assert [(v["class"], v["verdict"]) for v in net["layers"]] == [
        ("Linear", "DISAGREES"),
        ("ReLU", "agrees"),
        ("SoftmaxLoss", "agrees"),
    ]


# ---- the book's own project ----------------------------------------------------------------------


def test_book_layers_file(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(BOOK)  # as a learner runs it: from the project root (common.functions)
    ran = check(capsys, "common/layers.py", *FD)
    assert ran.code == 1, ran.out
    lines = ran.out.splitlines()
    assert lines[0].split() == ["name", "spec", "verdict", "first", "reason"]
    # the table first, the most specific finding first, each row starting with the item's name
    assert [line.split()[:3] for line in lines[1:3]] == [
        ["Relu", "relu", "DISAGREES"],
        ["SoftmaxWithLoss", "softmax_with_loss", "DISAGREES"],
    ]
    table = rows(ran)
    assert table["Relu"][3] == "Relu.backward writes into dout, the caller's array"
    assert table["SoftmaxWithLoss"][3] == "SoftmaxWithLoss.backward ignores dout"
    # the book's Pooling ignores pad when it sizes its output
    assert table["Pooling"][2] == "DISAGREES" and table["Pooling"][3].startswith(
        "raises on shape set(s) 1,3"
    )
    assert "--as pooling --seed 7 --examples 10 --reference fd --shapes 0" in ran.out
    for name in ("Sigmoid", "Affine", "Convolution"):
        assert table[name][2] == "agrees", ran.out
    assert len(table) == 8


def test_book_project_folder_names_the_nets_faulty_layers(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(BOOK)
    ran = check(capsys, ".", *FD)
    row = rows(ran)["TwoLayerNet"]
    assert row[1:3] == ["ch05/two_layer_net.py", "two_layer_net"] and row[3] == "DISAGREES"
    assert row[4] == (
        "layer 'Relu1' (Relu): backward writes into dout, the caller's array; "
        "layer 'lastLayer' (SoftmaxWithLoss): backward ignores dout; 'Affine1', 'Affine2' agree"
    )
    # ch05's naive nodes
    assert rows(ran)["MulLayer"][1:4] == ["ch05/layer_naive.py", "mul", "agrees"]
    assert rows(ran)["AddLayer"][1:4] == ["ch05/layer_naive.py", "add", "agrees"]


def test_a_known_convention_is_the_verdict(capsys: pytest.CaptureFixture[str]) -> None:
    reference_or_skip("torch")
    ran = check(capsys, str(ZOO / "textbook_cnn.py"), "--reference", "torch", "--seed", "7", "-q")
    table = rows(ran)
    assert table["Dropout"][1:3] == ["dropout", "CONVENTION dropout_book"]
    assert table["BatchNormalization"][1:3] == ["batch_norm", "CONVENTION batch_norm_per_feature"]
    assert (
        "rerun with crosscheck check" in ran.out and "--as batch_norm_per_feature --set eps=1e-06" in ran.out
    )
    # an interface the spec cannot drive is said so, not counted as agreeing or disagreeing
    no_flag = table["DropoutNoTrainFlag"]
    assert no_flag[1:3] == ["dropout", "could not load"] and "does not accept train_flg=" in no_flag[3]
    assert ran.code == 1


# ---- folders: only files with candidates are imported; failures to load are rows --------------


def test_a_folder_imports_only_files_that_hold_a_candidate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    ran_script = tmp_path / "the training script ran"
    (tmp_path / "train.py").write_text(
        f"open({str(ran_script)!r}, 'w').close()\n\nclass Trainer:\n    pass\n"
    )
    (tmp_path / "nn").mkdir()
    (tmp_path / "nn" / "layers.py").write_text((STYLES / "styles_correct.py").read_text())
    ran = check(capsys, str(tmp_path), *FD)
    assert ran.code == 0, ran.out + ran.err
    assert rows(ran)["ReLU"][1:4] == [str(tmp_path / "nn" / "layers.py"), "relu", "agrees"]
    assert rows(ran)["Trainer"][1:4] == [str(tmp_path / "train.py"), "-", "no spec"]
    assert not ran_script.exists()


def test_a_file_that_cannot_be_imported_is_a_row(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    bad = tmp_path / "layers.py"
    bad.write_text("import no_such_module_xyz\n\nclass Relu:\n    pass\n\nclass Loader:\n    pass\n")
    ran = check(capsys, str(bad), *FD)
    assert ran.code == 1
    relu = rows(ran)["Relu"]
    assert relu[1:3] == ["relu", "could not load"] and "no_such_module_xyz" in relu[3]
    assert rows(ran)["Loader"] == ["Loader", "-", "no spec"]


def test_a_folder_without_a_class_is_not_agreement(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    (tmp_path / "notes.py").write_text("x = 1\n")
    ran = check(capsys, str(tmp_path), *FD)
    assert ran.code == 1 and "no class found" in ran.out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["--as", "relu"], "takes --as Name=spec"),
        (["--as", "Rectifier=nonesuch"], "unknown spec 'nonesuch'"),
        (["--as", "Nonesuch=relu"], "has no class named 'Nonesuch'"),
        (["--set", "eps=1e-6"], "--set changes one spec's setting"),
        (["--shapes", "0"], "--shapes picks one spec's shape sets"),
    ],
)
def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str], argv: list[str], says: str) -> None:
    ran = check(capsys, str(STYLES / "styles_correct.py"), *argv, *FD)
    assert ran.code == 2 and says in ran.err, ran.err
    assert ran.out == ""


def test_a_class_target_still_needs_as(capsys: pytest.CaptureFixture[str]) -> None:
    ran = check(capsys, f"{STYLES / 'styles_correct.py'}:ReLU", *FD)
    assert ran.code == 2 and "required: --as" in ran.err


def test_against_finite_differences_neither_torch_nor_jax_is_imported() -> None:
    script = (
        "import sys\n"
        "from layer_crosscheck.properties.frontends.cli import main\n"
        f"code = main(['check', {str(STYLES / 'styles_correct.py')!r}, '--reference', 'fd', '-q'])\n"
        "assert not {'torch', 'jax'} & set(sys.modules), sorted({'torch', 'jax'} & set(sys.modules))\n"
        "sys.exit(code)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], env=subprocess_env(), capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_kind_of_finding_the_run_names_is_the_verdict() -> None:
    failed = CellResult(
        "relu", "vjp", "torch", "float64", "fail", message="relu dx vs torch: 1 of 4 elements."
    )
    run = Run([failed], seed=1, examples=10, references=("torch",), dtypes=("float64",), unavailable={})
    assert (verdict_of(run), reason_of(run)) == ("DISAGREES", "relu dx vs torch: 1 of 4 elements")
    run.kind, run.kind_why = "fragile", "at |x| > 100 only"  # type: ignore[attr-defined]
    assert (verdict_of(run), reason_of(run)) == (
        "FRAGILE",
        "relu dx vs torch: 1 of 4 elements (at |x| > 100 only)",
    )


# ---- a net's layers ------------------------------------------------------------------------------


def test_layers_of_reads_a_dict_a_list_and_the_loss_layer_once() -> None:
    net = TwoLayerNet(4, 3, 2)
    names = [name for name, _ in layers_of(net)]
    assert names[:3] == ["Affine1", "Relu1", "Affine2"] and len(names) == 4  # one loss layer
    assert names[3] in ("lastLayer", "last_layer")

    class Listed:
        def __init__(self) -> None:
            self.layers = ["a", "b"]
            self.loss_layer = "loss"

    assert layers_of(Listed()) == [("layers[0]", "a"), ("layers[1]", "b"), ("loss_layer", "loss")]
