"""GatewayMetrics: what a scrape shows after the gateway records requests, rollouts and alerts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from gateway.request_path.metrics import MULTIPROC_DIR_VARIABLE, UNKNOWN, GatewayMetrics
from tests.conftest import ROOT

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(body: bytes) -> Samples:
    """Every sample in a text exposition, keyed by name and label set."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body.decode())
        for sample in family.samples
    }


def scrape(metrics: GatewayMetrics) -> Samples:
    body, content_type = metrics.exposition()
    assert content_type == CONTENT_TYPE_LATEST
    return parse(body)


def labels(**values: str) -> frozenset[tuple[str, str]]:
    return frozenset(values.items())


def named(samples: Samples, name: str) -> dict[frozenset[tuple[str, str]], float]:
    return {key_labels: value for (sample_name, key_labels), value in samples.items() if sample_name == name}


DENIED = {"client_class": "web", "surface": "timeline", "status": "467", "rule": "plan:free/deny"}


def test_observe_request_counts_and_buckets_each_label_set_in_the_exposition() -> None:
    metrics = GatewayMetrics()
    metrics.observe_request("web", "timeline", 467, "plan:free/deny", 0.0003)
    metrics.observe_request("web", "timeline", 467, "plan:free/deny", 0.0004)
    metrics.observe_request("web", "timeline", 467, "plan:free/deny", 0.02)
    metrics.observe_request(UNKNOWN, UNKNOWN, 401, "auth:missing", 0.00004)

    samples = scrape(metrics)
    assert samples["gw467_requests_total", labels(**DENIED)] == 3
    buckets = named(samples, "gw467_request_duration_seconds_bucket")
    assert buckets[labels(**DENIED, le="0.00025")] == 0
    assert buckets[labels(**DENIED, le="0.0005")] == 2
    assert buckets[labels(**DENIED, le="0.025")] == 3
    assert buckets[labels(**DENIED, le="+Inf")] == 3
    assert samples["gw467_request_duration_seconds_count", labels(**DENIED)] == 3
    assert samples["gw467_request_duration_seconds_sum", labels(**DENIED)] == pytest.approx(0.0207)
    refused = labels(client_class=UNKNOWN, surface=UNKNOWN, status="401", rule="auth:missing")
    assert samples["gw467_requests_total", refused] == 1
    assert buckets[refused | labels(le="5e-05")] == 1


def test_observe_request_looks_up_label_children_once_per_distinct_label_tuple(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    metrics = GatewayMetrics()
    lookups: list[tuple[object, ...]] = []
    original = metrics.requests.labels

    def counting_labels(*values: object) -> Any:
        lookups.append(values)
        return original(*values)

    monkeypatch.setattr(metrics.requests, "labels", counting_labels)
    metrics.observe_request("ios", "media", 200, "exempt:first_party", 0.001)
    metrics.observe_request("ios", "media", 200, "exempt:first_party", 0.002)
    assert lookups == [("ios", "media", "200", "exempt:first_party")]

    metrics.observe_request("ios", "media", 429, "quota:free", 0.001)
    assert len(lookups) == 2
    counts = named(scrape(metrics), "gw467_requests_total")
    assert counts[labels(client_class="ios", surface="media", status="200", rule="exempt:first_party")] == 2


def test_two_gateways_in_one_process_do_not_share_counts() -> None:
    first, second = GatewayMetrics(), GatewayMetrics()
    first.observe_request("web", "timeline", 467, "plan:free/deny", 0.001)
    first.observe_request("web", "timeline", 467, "plan:free/deny", 0.001)
    second.observe_request("web", "timeline", 467, "plan:free/deny", 0.001)

    assert scrape(first)["gw467_requests_total", labels(**DENIED)] == 2
    assert scrape(second)["gw467_requests_total", labels(**DENIED)] == 1


def test_set_deployment_replaces_the_previous_label_set() -> None:
    metrics = GatewayMetrics()
    metrics.set_deployment("2023-02-baseline", "2023-03-06-billing", "shadow")
    metrics.set_deployment("2023-02-baseline", "2023-03-06-billing", "canary")
    metrics.set_deployment("2023-02-baseline", "", "none")
    metrics.set_deployment("2023-02-baseline", "", "none")

    deployments = named(scrape(metrics), "gw467_deployment_info")
    assert deployments == {labels(active_version="2023-02-baseline", candidate_version="", mode="none"): 1}


def test_shadow_canary_and_alert_metrics_are_exposed() -> None:
    metrics = GatewayMetrics()
    metrics.shadow_divergence("tweetdeck", "timeline.home", "allow_to_deny")
    metrics.shadow_divergence("tweetdeck", "timeline.home", "allow_to_deny")
    metrics.canary_request("web", bad=True)
    metrics.canary_request("web", bad=False)
    metrics.canary_request("web", bad=False)
    metrics.canary_rollback("first_party_error_rate")
    metrics.set_alert("first_party_467_burn", True)
    metrics.set_alert("quota_burn", True)
    metrics.set_alert("quota_burn", False)

    samples = scrape(metrics)
    divergence = labels(client_class="tweetdeck", endpoint="timeline.home", direction="allow_to_deny")
    assert samples["gw467_shadow_divergences_total", divergence] == 2
    assert named(samples, "gw467_canary_requests_total") == {
        labels(client_class="web", outcome="bad"): 1,
        labels(client_class="web", outcome="good"): 2,
    }
    assert samples["gw467_canary_rollbacks_total", labels(reason="first_party_error_rate")] == 1
    assert named(samples, "gw467_alert_firing") == {
        labels(rule="first_party_467_burn"): 1,
        labels(rule="quota_burn"): 0,
    }


def test_a_multiprocess_dir_that_does_not_exist_fails_at_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(MULTIPROC_DIR_VARIABLE, str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match="is not a directory"):
        GatewayMetrics()


def test_a_multiprocess_dir_set_after_prometheus_client_was_imported_fails_at_start_up(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # This test process imported prometheus_client without the variable, as a
    # server would if the variable were set from Python instead of its environment.
    monkeypatch.setenv(MULTIPROC_DIR_VARIABLE, str(tmp_path))
    with pytest.raises(RuntimeError, match="after prometheus_client was imported"):
        GatewayMetrics()


# Run as a file, not with `-c`: spawned workers re-import the parent's main module to
# find `work`, and a `-c` program has no file to re-import.
WORKERS_SCRIPT = """
import json
import multiprocessing
import sys

from gateway.request_path.metrics import GatewayMetrics

BASELINE, BILLING = "2023-02-baseline", "2023-03-06-billing"


def work(requests, alert_firing):
    metrics = GatewayMetrics()
    for _ in range(requests):
        metrics.observe_request("web", "timeline", 467, "plan:free/deny", 0.0003)
        metrics.canary_request("web", bad=True)
    metrics.set_alert("first_party_467_burn", alert_firing)
    metrics.set_deployment(BASELINE, BILLING, "canary")
    metrics.set_deployment(BASELINE, "", "none")


if __name__ == "__main__":
    context = multiprocessing.get_context("spawn")
    workers = [context.Process(target=work, args=args) for args in ((3, True), (4, False))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(60)
        if worker.exitcode != 0:
            sys.exit(f"worker {worker.pid} exited with {worker.exitcode}")
    aggregator = GatewayMetrics()
    before, content_type = aggregator.exposition()
    print(json.dumps({"before": before.decode(), "content_type": content_type}))
"""


def test_a_scrape_sums_every_worker_in_multiprocess_mode(tmp_path: Path) -> None:
    # prometheus_client reads the variable once, at import, so the workers and their
    # aggregator run in a fresh interpreter that has it from the start.
    metrics_dir = tmp_path / "metrics"
    metrics_dir.mkdir()
    script = tmp_path / "workers.py"
    script.write_text(WORKERS_SCRIPT)
    env = {**os.environ, MULTIPROC_DIR_VARIABLE: str(metrics_dir)}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    run = subprocess.run(
        [sys.executable, str(script)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout)
    assert result["content_type"] == CONTENT_TYPE_LATEST
    before = parse(result["before"].encode())

    assert before["gw467_requests_total", labels(**DENIED)] == 7
    assert before["gw467_request_duration_seconds_bucket", labels(**DENIED, le="0.0005")] == 7
    assert before["gw467_canary_requests_total", labels(client_class="web", outcome="bad")] == 7
    # One series per label set, the maximum over live workers; the replaced
    # deployment stays exported at 0 because multiprocess files cannot drop a label set.
    assert named(before, "gw467_alert_firing") == {labels(rule="first_party_467_burn"): 1}
    assert named(before, "gw467_deployment_info") == {
        labels(active_version="2023-02-baseline", candidate_version="", mode="none"): 1,
        labels(active_version="2023-02-baseline", candidate_version="2023-03-06-billing", mode="canary"): 0,
    }
