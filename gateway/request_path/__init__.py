"""The request path: what runs for every request once the decision core has ruled.

`runtime.Gateway` is the one stateful object (the stage in force, quotas, SLIs, metrics, the
decision log); `stage` is what decides now (the active table, and a candidate in shadow or canary).
"""
