"""The decision core: plan files, paths, keys, routes, the compiled table and `decide()`, the
rules that name a decision, and the quota arithmetic (windows and x-rate-limit headers).

Pure and synchronous; it imports nothing above it (no serving, safety, replay or CLI).
"""
