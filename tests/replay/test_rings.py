"""The replay's ringed fleet: rings halt on their first-party SLI, pushes take the propagation
delay to arrive, the instances that ran a table are counted, and routing leaves the traffic alone."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.core.config import ConfigError
from gateway.replay.compare import FLEET_VARIANTS, compare
from gateway.replay.engine import ReplayEngine, ReplayRecord
from gateway.replay.scenario import Scenario, load_scenario
from gateway.replay.summary import record_json
from gateway.replay.terminal import render_comparison
from tests.conftest import BILLING, FIXED
from tests.replay.conftest import short_scenario
from tests.test_narrow_terminals import assert_fits, rendered

RINGS = """
[fleet]
instances = 10
internal_instances = 1
internal_clients = ["web"]
internal_share = 0.5
propagation_seconds = 5
halt_threshold = 0.01
halt_min_requests = 10

[[fleet.rings]]
name = "internal"
internal = true
bake_minutes = 1

[[fleet.rings]]
name = "half"
percent = 50
bake_minutes = 1

[[fleet.rings]]
name = "all"
percent = 100
bake_minutes = 0
"""


def push_at(minute: int, file: Path) -> str:
    return f'[[events]]\nminute = {minute}\naction = "push_plans"\nfile = "{file}"\nnote = "push"\n'


def fleet_scenario(directory: Path, fleet: str = RINGS, events: str | None = None, minutes: int = 6) -> Path:
    """The short scenario (billing pushed at minute 2 unless `events` says otherwise) on a fleet."""
    return short_scenario(directory, header_extra=fleet, events=events, minutes=minutes)


def replay(scenario: Scenario | Path) -> ReplayRecord:
    loaded = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
    return asyncio.run(ReplayEngine(loaded).run())


def on_pushed(record: ReplayRecord, version: str) -> list[int]:
    """Instances enforcing `version` at each minute's end."""
    return [versions.get(version, 0) for versions in record.instances_by_minute]


def first_party_467(record: ReplayRecord) -> list[int]:
    per_minute = [0] * record.scenario.minutes
    for (minute, client_class, _surface, status), count in record.counts.items():
        if record.classes[client_class] and status == 467:
            per_minute[minute] += count
    return per_minute


def test_the_first_ring_halts_on_its_first_party_sli_and_the_bad_table_never_leaves_it(
    tmp_path: Path,
) -> None:
    record = replay(fleet_scenario(tmp_path))  # billing pushed at minute 2, "rolled back" at 4
    assert [(ring.ring, ring.minute, ring.instances, ring.outcome) for ring in record.rings] == [
        ("internal", 2, 1, "halted")
    ]
    assert record.instances_ran["2023-03-06-billing"] == 1
    assert record.detected_minute == 2 and record.detected_by == "ring halt (internal)"
    assert max(on_pushed(record, "2023-03-06-billing")) == 1
    assert on_pushed(record, "2023-03-06-billing")[-1] == 0
    assert [(event.action, event.version, event.by) for event in record.events] == [
        ("push_plans", "2023-03-06-billing", "scenario"),
        ("rollback_plans", "2023-02-baseline", "ring controller (internal)"),
        ("noop", "2023-02-baseline", "scenario"),
    ]
    # Only web's staff half, on the internal instance, met the bad table: some 467s, in minutes 2-3.
    failed = first_party_467(record)
    assert 0 < sum(failed) < 100 and sum(failed[2:4]) == sum(failed)


def test_a_healthy_push_bakes_ring_after_ring_until_every_instance_runs_it(tmp_path: Path) -> None:
    record = replay(fleet_scenario(tmp_path, events=push_at(2, FIXED)))
    assert [(ring.ring, ring.minute, ring.instances, ring.outcome) for ring in record.rings] == [
        ("internal", 2, 1, "baked"),
        ("half", 3, 6, "baked"),
        ("all", 4, 11, "baked"),
    ]
    # 1 internal instance, then 5 of the 10 public ones with it, then all 11.
    assert on_pushed(record, "2023-03-06-billing-fixed") == [0, 0, 1, 6, 11, 11]
    assert record.instances_ran == {"2023-02-baseline": 11, "2023-03-06-billing-fixed": 11}
    assert record.detected_minute is None


def test_a_push_and_its_rollback_each_take_the_propagation_delay_to_arrive(tmp_path: Path) -> None:
    everywhere = RINGS.split("[[fleet.rings]]")[0].replace(
        "propagation_seconds = 5", "propagation_seconds = 120"
    )
    everywhere += '[[fleet.rings]]\nname = "all"\npercent = 100\nbake_minutes = 5\n'
    record = replay(fleet_scenario(tmp_path, fleet=everywhere, events=push_at(1, BILLING), minutes=8))
    # Sent at 1:00, the push arrives at 3:00; the halt at the end of minute 3 sends a rollback
    # at 4:00 that arrives at 6:00: so 467s in minutes 3, 4 and 5 only, on every instance.
    assert [count > 0 for count in first_party_467(record)] == [
        False,
        False,
        False,
        True,
        True,
        True,
        False,
        False,
    ]
    assert on_pushed(record, "2023-03-06-billing") == [0, 0, 11, 11, 11, 0, 0, 0]
    assert record.detected_minute == 3 and record.instances_ran["2023-03-06-billing"] == 11


def test_routing_to_instances_leaves_every_minute_s_traffic_as_it_was(tmp_path: Path) -> None:
    scenario = load_scenario(fleet_scenario(tmp_path, events=push_at(2, FIXED)))
    fleet, single = replay(scenario), replay(replace(scenario, fleet=None))

    def sent(record: ReplayRecord) -> Counter[tuple[int, str, str]]:
        totals: Counter[tuple[int, str, str]] = Counter()
        for (minute, client_class, surface, _status), count in record.counts.items():
            totals[(minute, client_class, surface)] += count
        return totals

    assert sent(fleet) == sent(single) and fleet.requests > 500


def test_a_fleet_replay_is_byte_identical_between_runs_and_records_its_fleet(tmp_path: Path) -> None:
    path = fleet_scenario(tmp_path)
    first, second = (json.dumps(record_json(replay(path))) for _ in range(2))
    assert first == second
    document = json.loads(first)["fleet"]
    assert document["instances_ran"]["2023-03-06-billing"] == 1
    assert [ring["instances"] for ring in document["rings"]] == [1, 6, 11]


def test_the_compare_sets_everywhere_within_seconds_beside_the_rings(tmp_path: Path) -> None:
    comparison = compare(fleet_scenario(tmp_path), workers=1)
    rows = {row.layer: row for row in comparison.rows}
    everywhere, halted, rings = (rows[f"fleet: {variant}"] for variant in FLEET_VARIANTS)
    assert rows["none"].instances == 1 and rows["none"].instances_ran_pushed_table == 1
    assert rows["diff"].instances_ran_pushed_table == 0
    assert (everywhere.instances, everywhere.instances_ran_pushed_table, everywhere.detected_by) == (
        11,
        11,
        "users",
    )
    assert halted.instances_ran_pushed_table == 11 and halted.minutes_to_detect == 0
    assert rings.instances_ran_pushed_table == 1 and rings.minutes_to_detect == 0
    assert rings.first_party_failed < halted.first_party_failed < everywhere.first_party_failed
    # With the fleet's rows and instance columns, the two tables still fit 80 and 100 columns.
    for width in (80, 100):
        text = rendered(render_comparison(comparison), width)
        assert_fits(text, width)
        assert "(internal)" in text and "fleet: rings" in text


def test_safety_layers_refuse_a_fleet_scenario_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = fleet_scenario(tmp_path)
    assert main(["replay", str(path), "--safety", "canary"]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and str(path) in error and "declares a fleet" in error


RING = '[[fleet.rings]]\nname = "{name}"\npercent = {percent}\n'
FLEET = '[fleet]\ninstances = {instances}\ninternal_instances = 1\ninternal_clients = ["web"]\n'
INTERNAL_RING = '[[fleet.rings]]\nname = "i"\ninternal = true\n'


@pytest.mark.parametrize(
    ("fleet", "expected"),
    [
        (
            FLEET.format(instances=10)
            + RING.format(name="a", percent=50)
            + RING.format(name="b", percent=20),
            "fleet.rings[1].percent: 20% of 10 instances reaches no instance the ring before did not",
        ),
        (
            FLEET.format(instances=5) + RING.format(name="a", percent=1) + RING.format(name="b", percent=10),
            "fleet.rings[1].percent: 10% of 5 instances reaches no instance the ring before did not",
        ),
        (
            FLEET.format(instances=10) + RING.format(name="a", percent=50),
            "fleet.rings[0].percent: the last ring must reach 100% of instances",
        ),
        (
            FLEET.format(instances=10) + RING.format(name="a", percent=50) + INTERNAL_RING,
            "fleet.rings[1].internal: the internal ring comes first",
        ),
        (
            FLEET.format(instances=10) + INTERNAL_RING + "percent = 5\n",
            "fleet.rings[0]: give either internal = true or a percent of instances",
        ),
        (
            "[fleet]\ninstances = 4\n" + INTERNAL_RING,
            "fleet.rings[0].internal: an internal ring needs fleet.internal_instances >= 1",
        ),
        (
            '[fleet]\ninstances = 4\ninternal_clients = ["web"]\n',
            "fleet.internal_clients: internal clients need fleet.internal_instances of at least 1",
        ),
        (
            "[fleet]\ninstances = 4\ninternal_instances = 1\n",
            "fleet.internal_instances: no fleet.internal_clients: these instances would idle",
        ),
        (
            '[fleet]\ninstances = 4\ninternal_instances = 1\ninternal_clients = ["web", "newsdesk-pro"]\n',
            "fleet.internal_clients[1]: 'newsdesk-pro' is not a first-party client in 2023-02-baseline",
        ),
        (FLEET.format(instances=0), "fleet.instances"),
        (FLEET.format(instances=4) + "internal_share = 1.5\n", "fleet.internal_share"),
        (FLEET.format(instances=4) + "propagation_seconds = -1\n", "fleet.propagation_seconds"),
        (FLEET.format(instances=4) + "shards = 2\n", "fleet.shards"),
        (
            FLEET.format(instances=4)
            + RING.format(name="a", percent=50)
            + RING.format(name="a", percent=100),
            "fleet.rings[1].name: ring 'a' is named twice",
        ),
    ],
)
def test_a_bad_fleet_is_refused_in_one_line_naming_the_file_and_key(
    tmp_path: Path, fleet: str, expected: str
) -> None:
    path = short_scenario(tmp_path, header_extra=fleet)
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    assert expected in message


def test_the_cli_exits_2_with_one_line_on_a_bad_fleet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = short_scenario(tmp_path, header_extra=FLEET.format(instances=0))
    assert main(["replay", str(path)]) == 2
    error = capsys.readouterr().err.strip()
    assert "\n" not in error and f"{path}: fleet.instances: " in error


def test_a_fleet_replay_writes_its_json_chart_and_web_report(tmp_path: Path) -> None:
    path = fleet_scenario(tmp_path)
    out = {suffix: tmp_path / f"out{suffix}" for suffix in (".json", ".png", ".html")}
    args = ["replay", str(path), "--json", str(out[".json"]), "--chart", str(out[".png"])]
    assert main([*args, "--html", str(out[".html"])]) == 0
    assert json.loads(out[".json"].read_text())["fleet"]["rings_run"][0]["outcome"] == "halted"
    assert out[".png"].read_bytes().startswith(b"\x89PNG")
    assert "ring controller (internal)" in out[".html"].read_text()
