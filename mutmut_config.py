"""mutmut 2's hook for mutation testing impl/ (docs/ROBUSTNESS.md, section 6).

Each mutant first runs the fast tests plus the property cells of the specs built on the mutated
module (``scripts/mutation_tests.sh --specs ...``); with ``mutmut run --rerun-all`` a mutant that
survives that runs the whole runner before it counts as a survivor.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

# the specs whose layers import each module, directly or through another impl module
_NETS = ("two_layer_net", "simple_conv_net")
SPECS_BY_MODULE: dict[str, tuple[str, ...]] = {
    "nodes.py": ("mul", "add"),
    "activations.py": ("relu", "sigmoid", "tanh", *_NETS),
    "affine.py": ("affine", *_NETS),
    "functions.py": ("relu", "sigmoid", "tanh", "softmax", *_NETS),
    "_targets.py": ("softmax", *_NETS),
    "softmax_loss.py": ("softmax", *_NETS),
    "two_layer_net.py": ("two_layer_net",),
    "im2col.py": ("convolution", "pooling", "simple_conv_net"),
    "conv.py": ("convolution", "simple_conv_net"),
    "pooling.py": ("pooling", "simple_conv_net"),
    "simple_conv_net.py": ("simple_conv_net",),
    "batchnorm.py": ("batch_norm",),
    "dropout.py": ("dropout",),
    "optimizers.py": ("optimizer",),  # no spec: test_optimizers.py judges them
}


def pre_mutation(context: Any) -> None:
    """Narrow the property cells to the mutated module's specs (_base.py, layers.py: all of them)."""
    specs = SPECS_BY_MODULE.get(Path(context.filename).name)
    if specs:
        context.config.test_command += " --specs " + ",".join(specs)
