#!/bin/sh
# Mutation testing of impl/ with mutmut 3 (docs/ROBUSTNESS.md, section 6); configuration in
# pyproject.toml's [tool.mutmut]. From the repository root, with the `mutation` extra installed:
#
#   scripts/mutation.sh               # mutmut run, then the summary (`mutmut results` lists survivors)
#
# mutmut forks each mutant's test run from a warm process. One BLAS/OpenMP thread keeps that
# fork safe: a thread pool started before the fork deadlocks the child (seen with torch here).
# Hypothesis runs the `mutation` profile: 10 derandomized examples, no shrinking.
cd "$(dirname "$0")/.." || exit 2
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 HYPOTHESIS_PROFILE=mutation
"${MUTMUT:-mutmut}" run --max-children "${MUTATION_CHILDREN:-2}" "$@"
"${MUTMUT:-mutmut}" results 2>/dev/null | awk -F': ' '{n[$2]++} END {for (s in n) print s ": " n[s]}'
