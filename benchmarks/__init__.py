"""Benchmarks (speed is measured here, never in timed tests). Run them all with ``python -m benchmarks``."""
