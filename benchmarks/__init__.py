"""Benchmarks: one script per measured path, each against its hand-written SQL floor."""
