"""The Locust load test catches the regression: live runs against `gw467 serve`, and its pure parts."""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.paths import canonical_segments
from gateway.core.planfile import load_plan_set
from gateway.replay.traffic import concrete_path
from loadtests.expectations import expectations_for
from loadtests.tally import ClassFigures, LoadReport, StatusTally, format_table
from tests.conftest import BASELINE, BILLING, FIXED, ROOT

# Each live case is one bounded run: 5 s of load plus 1-2 s to start and stop the gateway and Locust.
# The limit only stops a hung run: make test runs two xdist workers, and on a busy 2-core machine
# starting a Locust master, two workers and the gateway beside a full replay took over 15 s.
DURATION_SECONDS = 5
CASE_LIMIT_SECONDS = 60


def run_load_test(out: Path, *options: str, duration: int = DURATION_SECONDS) -> tuple[int, dict[str, Any]]:
    """`python -m loadtests.run` with a small swarm; its exit code and its JSON report."""
    command = [sys.executable, "-m", "loadtests.run", "--duration", str(duration)]
    command += ["--users", "12", "--spawn-rate", "12", "--out", str(out), *options]
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        output, _ = process.communicate(timeout=CASE_LIMIT_SECONDS)
    except subprocess.TimeoutExpired:
        # SIGTERM, not kill: the runner then stops its gateway and Locust before exiting.
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=15)
        pytest.fail(f"load test ran over {CASE_LIMIT_SECONDS} s:\n{output}")
    report_path = out / "loadtest.json"
    assert report_path.exists(), output
    return process.returncode, json.loads(report_path.read_text())


@pytest.mark.slow
def test_gate_fails_when_the_gateway_serves_the_billing_plan(tmp_path: Path) -> None:
    code, report = run_load_test(tmp_path, "--plan", str(BILLING), "--no-push")
    assert code == 1
    assert report["gate"]["first_party_467"] > 0
    assert report["gate"]["exit_code"] == 1


@pytest.mark.slow
def test_gate_passes_on_the_fixed_plan_and_third_party_denials_are_not_failures(tmp_path: Path) -> None:
    code, report = run_load_test(tmp_path, "--plan", str(FIXED), "--no-push")
    assert code == 0
    assert report["first_party"]["467"] == 0
    assert report["first_party"]["ok"] > 0
    # legacy-reader has no plan, so the fixed file's free plan refuses its reads: expected, not failed.
    assert report["third_party"]["467"] > 0
    assert report["locust"]["failures"] == 0


@pytest.mark.slow
def test_pushing_the_billing_plan_mid_run_trips_the_gate(tmp_path: Path) -> None:
    code, report = run_load_test(tmp_path, "--plan", str(BASELINE), "--push", str(BILLING), "--push-at", "2")
    assert code == 1
    assert report["first_party"]["ok"] > 0, "the baseline served first-party requests before the push"
    assert report["first_party"]["467"] > 0


@pytest.mark.slow
def test_distributed_workers_report_every_count_to_the_master(tmp_path: Path) -> None:
    # Shorter load: the workers take a few seconds to start and connect first.
    code, report = run_load_test(tmp_path, "--plan", str(BILLING), "--no-push", "--workers", "2", duration=3)
    assert code == 1
    assert report["first_party"]["467"] > 0
    # Counted on the workers, summed on the master: the same total as Locust's own statistics.
    assert report["requests"] == report["locust"]["requests"]


def test_a_bad_plan_file_is_one_line_and_exit_code_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.toml"
    broken.write_text('schema = 1\nversion = "broken"\n')
    result = subprocess.run(
        [sys.executable, "-m", "loadtests.run", "--plan", str(broken), "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("python -m loadtests.run: error: ")


@pytest.mark.parametrize("plans", [BASELINE, BILLING, FIXED], ids=lambda path: path.stem)
def test_every_concrete_path_routes_to_the_endpoint_it_was_made_for(plans: Path) -> None:
    table = compile_plan_set(load_plan_set(plans))
    rng = random.Random(467)
    for index, endpoint in enumerate(table.endpoints):
        for _ in range(20):
            path = concrete_path(endpoint.path, rng)
            match = table.routes.match(endpoint.method, canonical_segments(path))
            assert match is not None and match.endpoint == index, (endpoint.id, path)


def test_only_a_third_party_denial_or_quota_of_a_plan_in_force_is_expected() -> None:
    expected = expectations_for([load_plan_set(BASELINE), load_plan_set(BILLING)])
    assert expected.unexpected("tco", "links.resolve", 467) is not None
    assert expected.unexpected("tco", "links.resolve", 429) is not None
    assert expected.unexpected("tco", "links.resolve", 301) is None
    # The billing file's free plan (legacy-reader's default) grants no reads.
    assert expected.unexpected("legacy-reader", "tweets.lookup", 467) is None
    # Enterprise grants tweets.lookup in every file, without a quota.
    assert expected.unexpected("newsdesk-pro", "tweets.lookup", 467) is not None
    assert expected.unexpected("newsdesk-pro", "tweets.lookup", 429) is not None
    assert expected.unexpected("sunrise-bot", "tweets.create", 429) is None
    assert expected.unexpected("sunrise-bot", "tweets.create", 0) is not None


def test_report_exit_code_is_1_on_a_first_party_467_and_2_when_nothing_was_answered() -> None:
    tally = StatusTally()
    for status in (200, 301, 467, 429, 503, 0):
        tally.count("tco", status)
    tally.count("legacy-reader", 467)

    def report(counts: dict[str, dict[str, int]]) -> LoadReport:
        rows = (
            ClassFigures("tco", "tco", True, counts.get("tco", {}), 10.0),
            ClassFigures("legacy-reader", "legacy-reader", False, counts.get("legacy-reader", {}), 10.0),
        )
        return LoadReport(10.0, rows)

    failed = report(tally.snapshot())
    assert failed.exit_code == 1
    assert failed.to_json()["classes"][0] == {
        "class": "tco",
        "client": "tco",
        "first_party": True,
        "requests": 6,
        "ok": 2,
        "429": 1,
        "467": 1,
        "other": 2,
        "requests_per_second": 0.6,
    }
    assert LoadReport.from_json(failed.to_json()).to_json() == failed.to_json()
    assert "all first-party" in format_table(failed)
    assert report({"legacy-reader": {"467": 5}}).exit_code == 2
    assert report({"tco": {"ok": 5}, "legacy-reader": {"467": 5}}).exit_code == 0


def test_worker_counts_reach_the_master_once() -> None:
    worker, master = StatusTally(), StatusTally()
    worker.count("web", 200)
    master.merge(worker.drain())
    worker.count("web", 467)
    master.merge(worker.drain())
    master.merge(worker.drain())
    assert master.snapshot() == {"web": {"ok": 1, "467": 1}}
