"""Group "pure": the asgi group again, in a fresh process that loads the Python sources.

When `make compile` has built the hot path, the asgi group times the compiled modules; this
group runs the same variants with GW467_PURE_PYTHON=1 (`gateway.hot_path`), so the
report shows both implementations, each with its ratios to a bare app timed in its own
process. When nothing is compiled the asgi group already timed the sources, and this group
adds nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from benchmarks.results import HarnessError, Measurement, set_ratios
from benchmarks.settings import Settings
from gateway.hot_path import PURE_PYTHON_ENV, running_compiled

GROUP = "pure"


def run(settings: Settings) -> list[Measurement]:
    if not running_compiled():
        print("pure: the hot path already runs from its sources (make compile builds it)", file=sys.stderr)
        return []
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "pure.json"
        command = [
            sys.executable,
            "-m",
            "benchmarks",
            "--groups",
            "asgi",
            "--reps",
            str(settings.reps),
            "--requests",
            str(settings.requests),
            "--out",
            str(out),
        ]
        print(f"pure: {' '.join(command[1:])} with {PURE_PYTHON_ENV}=1", file=sys.stderr)
        env = {**os.environ, PURE_PYTHON_ENV: "1"}
        finished = subprocess.run(command, env=env, stdout=subprocess.DEVNULL, check=False)
        if finished.returncode != 0 or not out.exists():
            raise HarnessError(f"the pure-Python asgi run failed (exit {finished.returncode})")
        document = json.loads(out.read_text())
    if document["meta"].get("compiled_modules"):
        raise HarnessError(f"{PURE_PYTHON_ENV}=1 still loaded compiled modules: the pure run is not pure")
    measurements = []
    for name, row in document["measurements"].items():
        measurement = Measurement(**row)
        measurement.name = name.replace("asgi.", "pure.", 1)
        measurement.group = GROUP
        measurement.label = f"{measurement.label} (Python sources)"
        measurements.append(measurement)
    set_ratios(measurements, measurements[0])
    return measurements
