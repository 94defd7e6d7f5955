"""A decision log of the replay's traffic model over the incident hour, written by `gw467 replay
--log`, and the reference counts for it: every line pushed through `EntitlementMiddleware`."""

from __future__ import annotations

import contextlib
import io
import json
import re
import tomllib
from collections import Counter
from pathlib import Path

from gateway.cli.main import main
from tests.conftest import BASELINE, BILLING
from tests.impact.reference import expected_counts

SCENARIO = Path(__file__).resolve().parents[2] / "scenarios" / "2023-03-06-error-467.toml"
SCALE = 50  # the shipped model sends about 4,000 requests a minute; a fiftieth keeps this quick
Counts = Counter[tuple[str | None, str, str, str]]


def scaled_scenario(directory: Path) -> Path:
    """The shipped scenario (90 minutes: the push at 15, the rollback at 75), with each client's
    rate divided by SCALE (at least 1 a minute)."""
    text = SCENARIO.read_text()
    text = re.sub(r"per_minute = (\d+)", lambda m: f"per_minute = {max(1, int(m.group(1)) // SCALE)}", text)
    text = text.replace('"../plans/', f'"{SCENARIO.parent.parent.resolve() / "plans"}/')
    text = text.replace('"services/', f'"{SCENARIO.parent.resolve() / "services"}/')
    scenario = directory / "incident.toml"
    scenario.write_text(text)
    return scenario


def incident_log(directory: Path) -> Path:
    """The scaled incident replayed with `gw467 replay --log`."""
    log = directory / "incident-decisions.log"
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        code = main(["replay", str(scaled_scenario(directory)), "--log", str(log), "--format", "json"])
    assert code == 0
    return log


def reference_counts(log: Path) -> Counts:
    """(client, minute, outcome under BASELINE, outcome under BILLING) of every line, by the middleware."""
    keys = {entry["client"]: entry["key"] for entry in tomllib.loads(SCENARIO.read_text())["traffic"]}
    requests = []
    for line in log.read_text().splitlines():
        record = json.loads(line)
        requests.append((record["time"][:16] + "Z", record["client"], record["method"], record["path"]))
    return expected_counts(BASELINE, BILLING, requests, keys)


def first_party_losses(counts: Counts, first_party: set[str]) -> int:
    return sum(
        n for (client, _, old, new), n in counts.items() if client in first_party and old == "allowed" != new
    )
