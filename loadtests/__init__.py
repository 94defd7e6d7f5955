"""Locust load tests for gw467: the 2023-03-06 traffic model against a live `gw467 serve`.

`python -m loadtests.run` runs them; `loadtests/locustfile.py` is the Locust side.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = ROOT / "scenarios" / "2023-03-06-error-467.toml"
LOCUSTFILE = Path(__file__).resolve().parent / "locustfile.py"

# How `loadtests.run` and the locustfile talk: the JSON report's path, and a file touched
# when the load begins (so a mid-run push is timed from the load, not from Locust's launch).
REPORT_VARIABLE = "GW467_LOADTEST_REPORT"
STARTED_VARIABLE = "GW467_LOADTEST_STARTED"
