"""The cross-check engine: layer specs, Hypothesis strategies, generic properties and tolerances.

Importing this package registers the built-in specs and imports neither torch nor jax.
"""

from properties import specs as _builtin_specs  # noqa: F401  (registers the built-in specs)

# isort: split
from properties import cnn_specs as _cnn_specs  # noqa: F401  (then the CNN specs: registry order)
from properties.checks import PROPERTIES, Property, property_named
from properties.registry import SPECS, get_spec, register
from properties.runner import assert_layer_matches
from properties.spec import LayerSpec

__all__ = [
    "PROPERTIES",
    "SPECS",
    "LayerSpec",
    "Property",
    "assert_layer_matches",
    "get_spec",
    "property_named",
    "register",
]
