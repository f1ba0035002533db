#!/usr/bin/env bash
# Run the test suite N times with fresh random seeds; stop at the first failure and print the
# command that reproduces it. From the repository root:
#
#   scripts/repeat_suite.sh [N] [pytest arguments...]    # N defaults to 20, the arguments to tests/
#   PYTHON=.venv/bin/python scripts/repeat_suite.sh 20 tests/ -n 2
#
# pytest runs as `$PYTHON -m pytest` from the repository root, so this checkout's code is tested
# even where another checkout is installed in editable mode.
#
# Run i draws a seed S: Hypothesis uses --hypothesis-seed=S and, if pytest-randomly is installed,
# the test order is shuffled with --randomly-seed=S. The cache provider is off (-p no:cacheprovider),
# so no run is reordered by an earlier run's failures.
set -u
n="${1:-20}"
[ $# -gt 0 ] && shift
args=("$@")
[ ${#args[@]} -eq 0 ] && args=(tests/)
cd "$(dirname "$0")/.." || exit 2
pytest=("${PYTHON:-python}" -m pytest)

for ((i = 1; i <= n; i++)); do
  seed=$(( (RANDOM << 15) | RANDOM ))
  opts=(-q -p no:cacheprovider "--hypothesis-seed=$seed")
  if "${pytest[@]}" -p randomly --version >/dev/null 2>&1; then
    opts+=(-p randomly "--randomly-seed=$seed")
  fi
  start=$(date +%s)
  echo "== run $i/$n: seed $seed"
  if ! "${pytest[@]}" "${opts[@]}" "${args[@]}"; then
    echo
    echo "FAILED on run $i/$n (seed $seed). Reproduce with:"
    echo "  ${pytest[*]} ${opts[*]} ${args[*]}"
    exit 1
  fi
  echo "== run $i/$n passed in $(( $(date +%s) - start ))s"
done
echo "all $n runs passed"
