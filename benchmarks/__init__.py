"""Benchmark harness for gw467: `python -m benchmarks` (what `make bench` runs).

Reports in-process ASGI cost per request and `decide` cost at scale; it never asserts speed.
"""
