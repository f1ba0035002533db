#!/usr/bin/env bash
# Run the test suite N times with fresh random seeds; stop at the first failure and print the
# command that reproduces it. From the repository root:
#
#   scripts/repeat_suite.sh [N] [pytest arguments...]    # N defaults to 20, the arguments to tests/
#   PYTEST=.venv/bin/pytest scripts/repeat_suite.sh 3 tests/test_properties.py -n 2
#
# Run i draws a seed S: Hypothesis uses --hypothesis-seed=S and, if pytest-randomly is installed,
# the test order is shuffled with --randomly-seed=S. The cache provider is off (-p no:cacheprovider),
# so no run is reordered by an earlier run's failures.
set -u
n="${1:-20}"
[ $# -gt 0 ] && shift
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(tests/)
pytest_bin="${PYTEST:-pytest}"

for ((i = 1; i <= n; i++)); do
  seed=$(( (RANDOM << 15) | RANDOM ))
  opts=(-q -p no:cacheprovider "--hypothesis-seed=$seed")
  if "$pytest_bin" -p randomly --version >/dev/null 2>&1; then
    opts+=(-p randomly "--randomly-seed=$seed")
  fi
  start=$(date +%s)
  echo "== run $i/$n: seed $seed"
  if ! "$pytest_bin" "${opts[@]}" "${args[@]}"; then
    echo
    echo "FAILED on run $i/$n (seed $seed). Reproduce with:"
    echo "  $pytest_bin ${opts[*]} ${args[*]}"
    exit 1
  fi
  echo "== run $i/$n passed in $(( $(date +%s) - start ))s"
done
echo "all $n runs passed"
