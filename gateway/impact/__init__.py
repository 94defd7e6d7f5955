"""Impact on observed traffic: every log line decided again under an old and a new plan file.

Readers turn log lines into (minute, client, method, path); an engine (DuckDB in process, or
Spark) collapses them to distinct requests with counts; each distinct request is decided once
under each plan by `gateway.core.decision.decide`; the report counts what changes.
"""
