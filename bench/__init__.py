"""Benchmarks: one script per figure; results recorded in bench/RESULTS.md."""
