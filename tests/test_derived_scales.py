"""Derived tolerances (``Numerics.derive_scales``, properties/engine/scales.py) are no looser than
needed: every spec whose scales are derived still rejects its own layer with ``dx`` one part in a
million off, against each exact reference and against finite differences, in float64.

The specs are read from the registry, so a spec converted to derived scales is covered here without
being listed. A spec differentiating parameters only (an embedding: no ``dx``) has nothing to plant.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from layer_crosscheck.properties import property_named
from layer_crosscheck.properties.engine import scales
from layer_crosscheck.properties.engine.compare import Mismatch
from layer_crosscheck.properties.engine.explore import Options, explore, run_cell
from layer_crosscheck.properties.engine.matrix import Cell
from layer_crosscheck.properties.engine.registry import SPECS
from layer_crosscheck.properties.engine.spec import LayerSpec, revise
from layer_crosscheck.reference import get_reference
from tests.helpers import installed, needs

PPM = 1e-6


def _dx_off_by_ppm(spec: LayerSpec) -> type:
    """``spec``'s own layer (with its ``layer_kwargs``), its first input gradient (``dx``) ``1 + PPM``
    times too large."""

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        super(cls, self).__init__(*args, **{**spec.construction.layer_kwargs, **kwargs})

    def backward(self: Any, *args: Any, **kwargs: Any) -> Any:
        grads = super(cls, self).backward(*args, **kwargs)
        if isinstance(grads, tuple):
            return (grads[0] * (1 + PPM), *grads[1:])
        return grads * (1 + PPM)

    cls = type(f"{spec.layer.__name__}DxOffByPPM", (spec.layer,), {"__init__": init, "backward": backward})
    return cls


def _derived() -> list[LayerSpec]:
    """Specs that derive their scales and differentiate an input through a layer's backward."""
    return [
        s
        for s in SPECS.values()
        if s.numerics.derive_scales and s.kind == "layer" and isinstance(s.layer, type)
        if any(i not in s.constants for i in s.inputs)
    ]


@pytest.mark.parametrize(
    "cell",
    [
        pytest.param(c, id=c.id, marks=installed(c))
        for spec in _derived()
        for prop, ref in (("vjp", "torch"), ("vjp", "jax"), ("fd", "fd"))
        for c in [Cell(spec, property_named(prop), ref, np.float64)]
    ],
)
def test_rejects_dx_off_by_one_ppm(cell: Cell) -> None:
    layer = _dx_off_by_ppm(cell.spec)
    result = run_cell(cell, layer, Options(60, seed=0, shrink_seconds=0, fp="record"))
    assert not result.ok, f"{cell.id} accepted {layer.__name__}"
    wanted = next(i for i in cell.spec.inputs if i not in cell.spec.constants)
    # finite differences judge dx at a kink by the declared convention, which the bug breaks too
    says = (
        ("vs finite differences", "at a kink")
        if cell.reference == "fd"
        else (f"d{wanted} vs {cell.reference}",)
    )
    assert any(s in result.message for s in says), result.message


# ---- derived only where needed (scales.judged) ----------------------------------------------------


def _needs_derived_scale(spec: LayerSpec) -> Any:
    """A judgement that fails unless ``spec``'s derived scales count, and says how often it ran."""
    runs: list[bool] = []

    def judge() -> str:
        runs.append(scales.deriving(spec))
        if not runs[-1]:
            raise Mismatch("out of tolerance")
        return "passed"

    return judge, runs


def test_a_comparison_failing_without_the_derived_scale_is_judged_again_with_it() -> None:
    spec = SPECS["affine"]
    judge, runs = _needs_derived_scale(spec)
    assert scales.judged(spec, judge) == "passed" and runs == [False, True]
    assert not scales.deriving(spec)  # only while judged again


def test_a_spec_with_hand_written_hooks_is_judged_once() -> None:
    spec = revise(SPECS["affine"], numerics={"derive_scales": False})
    judge, runs = _needs_derived_scale(spec)
    with pytest.raises(Mismatch, match="out of tolerance"):
        scales.judged(spec, judge)
    assert runs == [False]


@pytest.mark.parametrize(
    ("torch", "note"),
    [(False, r"which needs jax or torch: install either"), (True, r"rounding in float32, by torch")],
)
def test_without_jax_a_failure_says_how_its_tolerance_was_derived(
    monkeypatch: pytest.MonkeyPatch, torch: bool, note: str
) -> None:
    monkeypatch.setattr(scales, "_jax", lambda: None)
    monkeypatch.setattr(scales, "_torch", (lambda: object()) if torch else (lambda: None))
    spec = SPECS["affine"]

    def judge() -> None:
        raise Mismatch("out of tolerance")

    with pytest.raises(Mismatch, match=rf"out of tolerance\n.*{note}"):
        scales.judged(spec, judge)


_NEEDS_JAX = needs("jax", "the bound is traced by jax")
_NEEDS_TORCH = needs("torch", "torch is the judge")


@pytest.fixture(
    params=[
        pytest.param(True, marks=_NEEDS_JAX, id="traced by jax"),
        pytest.param(False, id="rounded by torch"),
    ]
)
def scales_from(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Each derived scale as jax bounds it from the spec's terms, and as torch estimates it from
    its rounding in float32 (jax made unavailable to the engine)."""
    if not request.param:
        monkeypatch.setattr(scales, "_jax", lambda: None)
    return "jax" if request.param else "torch"


@_NEEDS_TORCH
def test_a_correct_layer_whose_output_cancels_passes_by_its_derived_scale(scales_from: str) -> None:
    """float32 ``(1/3) * 3 - 1`` rounds to 0 (one product, then the bias), exactly ``2.98e-8`` in
    float64: 4096 times the tolerance of the output's own size, within that of its terms (2), and
    of its rounding in float32 without jax (float32 rounds it to 0, an error of 2.98e-8: 0.25 units)."""
    x, W, b = (np.array(v, np.float32) for v in ([[1 / 3]], [[3.0]], [-1.0]))
    draws = [{"x": (1, 1), "M": 1}, x, W, b]
    for spec, status in (
        (SPECS["affine"], "pass"),
        (revise(SPECS["affine"], numerics={"derive_scales": False}), "fail"),
    ):
        run = lambda draw, spec=spec: property_named("forward").run(  # noqa: E731
            spec, spec.layer, get_reference("torch"), draw, np.float32
        )
        assert explore(run, replay=draws).status == status, spec.derive_scales


@_NEEDS_TORCH
def test_a_product_of_two_rounding_errors_is_within_the_derived_scale(scales_from: str) -> None:
    """Found by Hypothesis: x = 0 and all-ones weights make the extended net's first batch norm
    normalize constant columns (exactly 0 in float64, a few ulps in float32) and its upstream
    gradient cancel (``sum(p - t)``). ``dgamma1 = sum(dy * xn)`` is then a product of two rounding
    errors, 8.8e-18 against a reference 0, which a first-order bound (8.9e-28) called a failure.
    Without jax, torch's float32 normalizes those columns to exactly 0, as drawn and with its
    inputs nudged (x = 0; b1 is the same in every row): only its randomly rounded run
    (``scales.NUDGES``' "rounding", every operation's result moved one ulp) shows the terms; it
    was an xfail until then (2.6e-19 failed)."""
    from layer_crosscheck.properties import replay

    f32 = lambda v: np.array(v, np.float32)  # noqa: E731
    ones = lambda *shape: np.ones(shape, np.float32)  # noqa: E731
    sizes = {"sigmoid": True, "weight_decay_lambda": 0.05, "use_dropout": False, "dropout_ration": 0.5,
             "N": 3, "D": 4, "H": (3, 2), "C": 2}  # fmt: skip
    draws = [sizes, np.zeros((3, 4), np.float32), np.array([0, 0, 0]), ones(4, 3),
             f32([-0.4399788975715637, -1.6838682670439198e-09, -0.6350668668746948]), ones(3, 2),
             ones(2), ones(2, 2), f32([0.26153936982154846, -0.2580946981906891]),
             ones(3), ones(3), ones(2), ones(2)]  # fmt: skip
    replay("layer_crosscheck.impl.multi_layer_net:MultiLayerNetExtend", spec="multi_layer_net_extend",
           property="jacobian", reference="torch", dtype="float32", draws=draws)  # fmt: skip


@_NEEDS_TORCH
def test_an_exact_cancellation_in_torch_float32_still_shows_its_terms(scales_from: str) -> None:
    """Found by the mutation profile without jax: equal columns of ``W3`` make the net's upstream
    gradient ``(p - t) @ W3.T`` cancel, exactly 0 in torch's float32 and in float64, -4.2e-9 in
    NumPy's float32, so torch's rounding showed no terms and ``db1``'s scale was 0. Inputs nudged
    one ulp (``scales.NUDGES``) break the tie and show them."""
    from layer_crosscheck.properties import replay

    f32 = lambda v: np.array(v, np.float32)  # noqa: E731
    sizes = {"N": 2, "D": 3, "H": (4, 2), "C": 2, "sigmoid": True, "weight_decay_lambda": 0.05}
    draws = [sizes, f32([[0.37842369, -0.97334844, 0.0], [0.0, 0.5, 1.12709309e-07]]), np.array([0, 0]),
             f32([[-0.42960364, 1.0, 0.62457919, 1.0], [-0.15306002, -0.22323838, 0.27411857, 0.69349188],
                  [-2.0, 0.43746167, -0.67588836, 1.0]]),
             f32([-1.6771756e-09, 1.0, -1.4772886, 1.0]),
             f32([[-0.32332212, 0.42003661], [1.0, -0.7254259], [2.0, 2.0], [-0.01671213, 0.25164101]]),
             f32([-0.74837327, 0.65876508]), np.ones((2, 2), np.float32),
             f32([1.0409392e-07, -1.0130530e-05])]  # fmt: skip
    replay("layer_crosscheck.impl.multi_layer_net:MultiLayerNet", spec="multi_layer_net",
           property="jacobian", reference="torch", dtype="float32", draws=draws)  # fmt: skip
