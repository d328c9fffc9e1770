"""Benchmarks: `python -m tests.benchmarks [--only NAME] [--quick]` (or `make bench`).

They print figures and ratios measured side by side in one run; nothing here is asserted
by the test suite (files are named bench_*.py so pytest never collects them)."""
