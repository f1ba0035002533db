#!/bin/sh
# The test command mutmut runs against each mutant of impl/ (docs/ROBUSTNESS.md, section 6).
#
#   scripts/mutation_tests.sh                         # the runner: every test below
#   scripts/mutation_tests.sh --specs affine,relu     # ... with only these specs' property cells
#
# The suite's tests that judge impl/, cheapest first, stopping at the first failure (-x): the
# seed examples, error and dtype tests, the CNN and optimizer tests, then every property cell
# against torch, finite differences and the layer itself, then the planted-bug proofs. Left out:
# the jax cells (torch already judges every cell with autodiff, and jax would compile every shape
# again in every mutant's process), the CLI and plugin tests (they test the harness, through
# subprocesses), the MNIST gradient check (9 s; the planted-bug tests cover the same wiring) and
# the training cross-check (real MNIST through torch.optim; test_optimizers judges the same
# updates). Hypothesis runs the `mutation` profile: 10 derandomized examples, no shrinking.
#
# --specs is what mutmut_config.py's pre-mutation hook adds: the property cells of the specs built
# on the mutated module, and no planted-bug proofs. mutmut's --rerun-all then runs a mutant that
# survives that through the whole runner, so no mutant is called a survivor on a subset.
cd "$(dirname "$0")/.." || exit 2
export HYPOTHESIS_PROFILE=mutation PYTHONDONTWRITEBYTECODE=1
files="tests/test_seed_examples.py tests/test_impl_errors.py tests/test_impl_dtype.py
  tests/test_bad_input.py tests/test_extreme_values.py tests/test_cnn_layers.py
  tests/test_optimizers.py tests/test_affine_bias.py tests/test_softmax_jacobian.py
  tests/test_properties.py"
if [ "${1:-}" = "--specs" ]; then
  keep=$(printf '%s' "$2" | sed 's/,/ or /g')
  select="not jax and not mnist and (not test_property or $keep)"
  shift 2
else
  select="not jax and not mnist"
  files="$files tests/test_harness_catches_bugs.py"
fi
# shellcheck disable=SC2086  # $files is a list of paths without spaces
exec "${PYTHON:-python}" -m pytest -x -q --no-header -p no:cacheprovider -p no:randomly -p no:xdist \
  -k "$select" $files "$@"
