"""Serving: the runtime that holds the stage, quotas, SLIs and metrics, and its ASGI adapters.

`runtime` is the one stateful object; `middleware` and `control` are thin ASGI fronts to it.
"""
