"""``python -m benchmarks``: run every benchmark, write BENCHMARKS.md (see benchmarks/run_all.py)."""

from benchmarks.run_all import main

raise SystemExit(main())
