"""Benchmark harness for gw467: `python -m benchmarks` (what `make bench` runs).

Reports in-process ASGI cost per request, `decide` cost at scale, the replay's rate, server CPU per
request under uvicorn, and compile time and memory; targets are judged pass or miss, never asserted.
"""
