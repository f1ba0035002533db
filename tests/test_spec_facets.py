"""``revise``: a spec variant changes some fields of a facet and keeps the others, as
``dataclasses.replace`` did when the fields were flat."""

from __future__ import annotations

import pytest

from layer_crosscheck.properties.engine.registry import get_spec
from layer_crosscheck.properties.engine.spec import Kinks, revise


def test_revise_keeps_a_facets_other_fields() -> None:
    relu = get_spec("relu")
    variant = revise(relu, name="relu_variant", kinks={"references": ()})
    assert variant.name == "relu_variant" and variant.kinks.references == ()
    assert variant.kinks.at is relu.kinks.at and variant.kinks.gradient is relu.kinks.gradient
    assert variant.kinks.convention == relu.kinks.convention and variant.kinks.name == relu.kinks.name
    assert variant.numerics is relu.numerics and relu.kinks.references is None  # the original is untouched


def test_revise_replaces_a_facet_given_whole() -> None:
    smooth = revise(get_spec("relu"), kinks=Kinks())
    assert smooth.kinks == Kinks() and smooth.describe()["kinks"] == "none (smooth)"


def test_revise_refuses_a_field_a_facet_does_not_have() -> None:
    with pytest.raises(TypeError, match="hyper"):
        revise(get_spec("relu"), kinks={"hyper": ()})


def test_revise_refuses_a_field_the_spec_does_not_have() -> None:
    with pytest.raises(TypeError, match="hyper"):
        revise(get_spec("relu"), hyper=("stride",))  # a flat field of old: now construction's
