"""The decision core: plan files, paths, keys, routes, the compiled table and `decide()`.

Pure and synchronous; it imports nothing above it (no serving, safety, replay or CLI).
"""
