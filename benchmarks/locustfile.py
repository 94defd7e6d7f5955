"""Locust side of `make loadtest-bench`: users at a fixed rate sending GET /2/tweets/12, judged by the plan.

Nine in ten requests carry a first-party key (allowed); one in ten a free-plan app's key, which the
fixed plan answers 467. With `--plan FILE` each answer must be what `decide` says for that key (so a 467 is
a success where the plan denies); without it (the bare app) every answer must be 200. Latencies go
into a 10 µs histogram (Locust's own percentiles round to whole milliseconds), merged from workers.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any, ClassVar

from locust import FastHttpUser, constant_throughput, events, task
from locust.env import Environment
from locust.runners import WorkerRunner

from benchmarks.loadtest_bench import REPORT_VARIABLE, STARTED_VARIABLE
from gateway.core.compiler import compile_plan_set
from gateway.core.decision import decide
from gateway.core.planfile import load_plan_set
from loadtests.start_marker import touch_start_marker

PATH = "/2/tweets/12"
KEYS = {"allowed": "gw467-demo-web", "denied": "gw467-demo-sunrise-bot"}
BUCKET_MS = 0.01
DATA_KEY = "gw467_bench"


class _Run:
    """Shared by the users and hooks of one Locust process."""

    expected: ClassVar[dict[str, int]] = dict.fromkeys(KEYS, 200)
    latency: ClassVar[defaultdict[str, Counter[int]]] = defaultdict(Counter)
    statuses: ClassVar[defaultdict[str, Counter[int]]] = defaultdict(Counter)
    started: ClassVar[float | None] = None
    stopped: ClassVar[float | None] = None


class TweetReader(FastHttpUser):
    """One client: mostly a first-party key, sometimes a free-plan app's, always the same path."""

    connection_timeout = 5.0
    network_timeout = 10.0

    def _send(self, name: str) -> None:
        with self.client.get(
            PATH, name=name, headers={"Authorization": f"Bearer {KEYS[name]}"}, catch_response=True
        ) as response:
            status = response.status_code or 0
            _Run.statuses[name][status] += 1
            expected = _Run.expected[name]
            if status == expected:
                response.success()
            else:
                response.failure(f"{name}: answered {status or 'no response'}, expected {expected}")

    @task(9)
    def allowed(self) -> None:
        self._send("allowed")

    @task(1)
    def denied(self) -> None:
        self._send("denied")


@events.init_command_line_parser.add_listener
def _options(parser: Any, **_: Any) -> None:
    parser.add_argument("--user-rate", type=float, default=10.0, help="requests per second per user")
    parser.add_argument(
        "--plan", default="", help="plan file the server enforces (empty: a bare app, every answer 200)"
    )


def expected_statuses(plan: str) -> dict[str, int]:
    """The status the gateway must answer for each key, as `decide` has it (200 when it forwards)."""
    if not plan:
        return dict.fromkeys(KEYS, 200)
    table = compile_plan_set(load_plan_set(plan))
    expected = {}
    for name, key in KEYS.items():
        decision = decide(table, "GET", PATH, [f"Bearer {key}".encode()])
        expected[name] = 200 if decision.status is None else decision.status
    return expected


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    options = environment.parsed_options
    assert options is not None, "Locust parses its command line before any test starts"
    _Run.expected = expected_statuses(options.plan)
    TweetReader.wait_time = constant_throughput(options.user_rate)
    _Run.started, _Run.stopped = time.monotonic(), None
    touch_start_marker(environment, STARTED_VARIABLE)


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_: Any) -> None:
    _Run.stopped = time.monotonic()


@events.request.add_listener
def _on_request(name: str, response_time: float, **_: Any) -> None:
    _Run.latency[name][int(response_time / BUCKET_MS)] += 1


def _drain() -> dict[str, Any]:
    data = {
        "latency": {name: dict(counts) for name, counts in _Run.latency.items()},
        "statuses": {name: dict(counts) for name, counts in _Run.statuses.items()},
    }
    _Run.latency.clear()
    _Run.statuses.clear()
    return data


@events.report_to_master.add_listener
def _send_counts(client_id: str, data: dict[str, Any], **_: Any) -> None:
    data[DATA_KEY] = _drain()


@events.worker_report.add_listener
def _receive_counts(client_id: str, data: dict[str, Any], **_: Any) -> None:
    received = data.get(DATA_KEY, {})
    for name, counts in received.get("latency", {}).items():
        _Run.latency[name].update({int(bucket): count for bucket, count in counts.items()})
    for name, counts in received.get("statuses", {}).items():
        _Run.statuses[name].update({int(status): count for status, count in counts.items()})


def _percentile(counts: Counter[int], share: float) -> float | None:
    total = sum(counts.values())
    if not total:
        return None
    rank = share * total
    seen = 0
    for bucket in sorted(counts):
        seen += counts[bucket]
        if seen >= rank:
            return (bucket + 0.5) * BUCKET_MS
    return None


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    path = os.environ.get(REPORT_VARIABLE)
    if not path:
        return
    end = _Run.stopped or time.monotonic()
    seconds = end - _Run.started if _Run.started is not None else 0.0
    everything: Counter[int] = Counter()
    for counts in _Run.latency.values():
        everything.update(counts)
    names = {**{name: _Run.latency[name] for name in sorted(_Run.latency)}, "all": everything}
    total = environment.stats.total
    document = {
        "seconds": seconds,
        "expected": _Run.expected,
        "statuses": {name: dict(counts) for name, counts in _Run.statuses.items()},
        "latency_ms": {
            name: {
                "requests": sum(counts.values()),
                "p50": _percentile(counts, 0.50),
                "p99": _percentile(counts, 0.99),
            }
            for name, counts in names.items()
        },
        "locust": {
            "requests": total.num_requests,
            "failures": total.num_failures,
            "requests_per_second": total.total_rps,
            "p50_ms": total.get_response_time_percentile(0.5),
            "p99_ms": total.get_response_time_percentile(0.99),
        },
    }
    Path(path).write_text(json.dumps(document, indent=2) + "\n")
