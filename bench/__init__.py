"""Benchmarks: `python -m bench.webapp`, `python -m bench.controller`. Figures are printed, never asserted."""
