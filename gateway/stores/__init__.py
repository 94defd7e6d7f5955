"""Stores: where state shared between workers lives (quota counters, a fleet's stage).

`state_store` is the interface and its in-process implementation; `redis_store` the shared one.
"""
