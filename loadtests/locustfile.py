"""Locust users built from the 2023-03-06 scenario's traffic model; fails the run on a first-party 467.

One user class per first-party client class and one per third-party app; weights follow
`per_minute` and tasks the endpoint mix. Run from the project root, e.g.
`python -m locust -f loadtests/locustfile.py --headless --host http://127.0.0.1:8467 -u 40 -r 10 -t 60s`.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from locust import FastHttpUser, constant_throughput, events
from locust.env import Environment
from locust.runners import WorkerRunner

from gateway.core.planfile import load_plan_set
from gateway.core.plans import Endpoint, PlanSet
from gateway.replay.scenario import Scenario, TrafficSource, load_scenario
from gateway.replay.traffic import concrete_path
from loadtests import REPORT_VARIABLE, SCENARIO, STARTED_VARIABLE
from loadtests.expectations import Expectations, expectations_for
from loadtests.start_marker import touch_start_marker
from loadtests.tally import ClassFigures, LoadReport, StatusTally, format_table

TALLY_KEY = "gw467_tally"
DEFAULT_USER_RATE = 2.0

TALLY = StatusTally()


class _Run:
    """What the event hooks share: the run's expectations and its start and stop times."""

    expectations = Expectations(frozenset(), frozenset(), frozenset())
    started: float | None = None
    stopped: float | None = None


class GatewayClient(FastHttpUser):
    """A gateway client: sends its bearer key and judges each answer by the plans that may be in force."""

    abstract = True
    # Bounded runs: a stuck request must not outlive the run by Locust's default 60 s.
    connection_timeout = 5.0
    network_timeout = 10.0
    label: str
    client_id: str
    first_party: bool
    authorization: str

    def on_start(self) -> None:
        self.rng = random.Random()

    def send(self, endpoint: Endpoint) -> None:
        with self.client.request(
            endpoint.method,
            concrete_path(endpoint.path, self.rng),
            name=endpoint.id,
            headers={"Authorization": self.authorization},
            catch_response=True,
            # The upstream's redirects point off this machine (t.co's links); the 301 is the answer.
            allow_redirects=False,
        ) as response:
            status = response.status_code or 0
            TALLY.count(self.label, status)
            problem = _Run.expectations.unexpected(self.client_id, endpoint.id, status)
            if problem is None:
                response.success()
            else:
                response.failure(problem)


def user_classes(scenario: Scenario, catalogue: PlanSet) -> tuple[type[GatewayClient], ...]:
    """One user class per traffic source, named by client class (first-party) or client id (third-party)."""
    classes = tuple(_user_class(source, catalogue) for source in scenario.traffic)
    labels = [cls.label for cls in classes]
    if len(set(labels)) != len(labels):
        raise ValueError(f"{scenario.source}: two traffic sources share a client class: {labels}")
    return classes


def _user_class(source: TrafficSource, catalogue: PlanSet) -> type[GatewayClient]:
    client = catalogue.client(source.client_id)
    label = client.client_class if client.first_party else client.id
    attributes: dict[str, Any] = {
        "__module__": __name__,
        "__doc__": f"{label}: {source.per_minute:g} requests a minute in the scenario",
        "weight": max(1, round(source.per_minute)),
        "tasks": {
            _task(catalogue.endpoint(endpoint_id)): weight for endpoint_id, weight in _whole(source.mix)
        },
        "label": label,
        "client_id": client.id,
        "first_party": client.first_party,
        "authorization": f"Bearer {source.key}",
    }
    if not client.first_party:
        # At tens of users an app of 3 requests a minute would get no user by weight; one each
        # keeps every app's expected 467s and 429s in the run.
        attributes["fixed_count"] = 1
    return type(label.replace("-", "_"), (GatewayClient,), attributes)


def _task(endpoint: Endpoint) -> Callable[[GatewayClient], None]:
    def task(user: GatewayClient) -> None:
        user.send(endpoint)

    task.__name__ = endpoint.id
    return task


def _whole(mix: tuple[tuple[str, float], ...]) -> list[tuple[str, int]]:
    """Locust task weights are integers; keep two decimals of a fractional mix."""
    if all(weight == int(weight) for _, weight in mix):
        return [(endpoint_id, int(weight)) for endpoint_id, weight in mix]
    return [(endpoint_id, max(1, round(weight * 100))) for endpoint_id, weight in mix]


def _plans_that_may_be_in_force(scenario: Scenario) -> list[Path]:
    pushed = [event.file for event in scenario.events if event.action == "push_plans" and event.file]
    return [scenario.plans, *pushed]


_scenario = load_scenario(SCENARIO)
_catalogue = load_plan_set(_scenario.plans)
USER_CLASSES = user_classes(_scenario, _catalogue)
# Locust finds user classes among the locustfile's module attributes.
globals().update({cls.__name__: cls for cls in USER_CLASSES})


@events.init_command_line_parser.add_listener
def _options(parser: Any, **_: Any) -> None:
    parser.add_argument(
        "--user-rate",
        type=float,
        default=DEFAULT_USER_RATE,
        env_var="GW467_LOADTEST_USER_RATE",
        help=f"requests per second each user sends at most (default {DEFAULT_USER_RATE:g}); "
        "offered load <= users x this",
    )
    parser.add_argument(
        "--plans",
        default=",".join(str(path) for path in _plans_that_may_be_in_force(_scenario)),
        env_var="GW467_LOADTEST_PLANS",
        help="comma-separated plan files that may be in force during the run; a third-party 467 or 429 "
        "is expected where one of them denies or limits (default: the scenario's start and pushed plans)",
    )


@events.test_start.add_listener
def _on_test_start(environment: Environment, **_: Any) -> None:
    # On a worker, the master's options have just been applied: read them here, not at init.
    options = environment.parsed_options
    assert options is not None, "Locust parses its command line before any test starts"
    _Run.expectations = expectations_for(load_plan_set(path) for path in options.plans.split(",") if path)
    for cls in USER_CLASSES:
        cls.wait_time = constant_throughput(options.user_rate)
    _Run.started, _Run.stopped = time.monotonic(), None
    touch_start_marker(environment, STARTED_VARIABLE)


@events.test_stop.add_listener
def _on_test_stop(environment: Environment, **_: Any) -> None:
    _Run.stopped = time.monotonic()


@events.report_to_master.add_listener
def _send_counts(client_id: str, data: dict[str, Any], **_: Any) -> None:
    data[TALLY_KEY] = TALLY.drain()


@events.worker_report.add_listener
def _receive_counts(client_id: str, data: dict[str, Any], **_: Any) -> None:
    TALLY.merge(data.get(TALLY_KEY, {}))


@events.quitting.add_listener
def _on_quitting(environment: Environment, **_: Any) -> None:
    if isinstance(environment.runner, WorkerRunner):
        return
    report = load_report()
    document = {**report.to_json(), "locust": locust_totals(environment)}
    print(f"\ngw467 load test, per client class ({report.seconds:.1f} s)")
    print(format_table(report))
    print(f"gate: {report.verdict} (exit {report.exit_code})")
    path = os.environ.get(REPORT_VARIABLE)
    if path:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_text(json.dumps(document, indent=2) + "\n")
    environment.process_exit_code = report.exit_code


def load_report() -> LoadReport:
    """The figures so far, over the time between test start and stop (or now)."""
    end = _Run.stopped or time.monotonic()
    seconds = end - _Run.started if _Run.started is not None else 0.0
    counts = TALLY.snapshot()
    rows = tuple(
        ClassFigures(cls.label, cls.client_id, cls.first_party, counts.get(cls.label, {}), seconds)
        for cls in USER_CLASSES
    )
    return LoadReport(seconds, rows)


def locust_totals(environment: Environment) -> dict[str, float]:
    """Locust's own aggregate, final here (its stats CSV is written every second and can lag the end)."""
    total = environment.stats.total
    return {
        "requests": total.num_requests,
        "failures": total.num_failures,
        "requests_per_second": round(total.total_rps, 2),
    }
