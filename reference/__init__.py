"""Three independent judges of a layer's derivatives: PyTorch autograd, JAX autodiff, finite differences.

Never imports ``impl`` or ``properties`` (a judge must not share code with what it judges), and
imports only numpy and the standard library: torch and jax load the first time they are needed.
"""

from __future__ import annotations

from layer_crosscheck.reference.base import BackendUnavailable, Reference, eager
from layer_crosscheck.reference.registry import REFERENCE_NAMES, get_reference

__all__ = ["REFERENCE_NAMES", "BackendUnavailable", "Reference", "eager", "get_reference"]
