"""Scenario files: the shipped ones load; malformed ones are refused with one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.core.config import ConfigError
from gateway.replay.scenario import load_scenario
from tests.conftest import ROOT
from tests.replay.conftest import short_scenario

SCENARIOS = sorted((ROOT / "scenarios").glob("*.toml"))


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_shipped_scenarios_load(path: Path) -> None:
    scenario = load_scenario(path)
    assert scenario.traffic and scenario.minutes > 0


def test_the_2023_scenario_pushes_the_billing_plan_at_0900_pst_and_rolls_back_an_hour_later() -> None:
    scenario = load_scenario(ROOT / "scenarios" / "2023-03-06-error-467.toml")
    push, rollback = scenario.events
    assert (
        push.action == "push_plans" and push.file is not None and push.file.name == "2023-03-06-billing.toml"
    )
    assert (scenario.start.hour, scenario.start.minute + push.minute) == (8, 60)
    assert rollback.action == "rollback_plans" and rollback.minute - push.minute == 60


def test_load_factor_interpolates_between_shape_points(tmp_path: Path) -> None:
    path = short_scenario(tmp_path, header_extra="[load]\nshape = [[0, 1.0], [4, 2.0]]")
    scenario = load_scenario(path)
    assert [scenario.load_factor(m) for m in (0, 2, 4, 5)] == [1.0, 1.5, 2.0, 2.0]


def refuse(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_scenario(path)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(str(path))
    return message[len(str(path)) :]


def test_unknown_client_in_traffic_is_refused(tmp_path: Path) -> None:
    path = short_scenario(tmp_path)
    path.write_text(path.read_text().replace('client = "tco"', 'client = "tcoo"'))
    assert refuse(path) == ": traffic[0].client: unknown client 'tcoo' in 2023-02-baseline"


def test_a_key_that_does_not_authenticate_is_refused_without_echoing_it(tmp_path: Path) -> None:
    path = short_scenario(tmp_path)
    path.write_text(path.read_text().replace('"gw467-demo-tco"', '"gw467-demo-WRONG"'))
    message = refuse(path)
    assert message == ": traffic[0].key: does not authenticate as client 'tco'"
    assert "WRONG" not in message


def test_unknown_endpoint_in_a_mix_is_refused(tmp_path: Path) -> None:
    path = short_scenario(tmp_path)
    path.write_text(path.read_text().replace('"links.resolve" = 1 }', '"links.resolv" = 1 }', 1))
    assert refuse(path) == ": traffic[0].mix.links.resolv: unknown endpoint in 2023-02-baseline"


def test_an_event_after_the_end_is_refused(tmp_path: Path) -> None:
    path = short_scenario(tmp_path)
    path.write_text(path.read_text().replace("minute = 4", "minute = 9"))
    assert refuse(path) == ": events[1].minute: minute 9 is past the end (6 minutes)"


def test_events_out_of_order_are_refused(tmp_path: Path) -> None:
    path = short_scenario(tmp_path)
    path.write_text(path.read_text().replace("minute = 4", "minute = 1"))
    assert refuse(path) == ": events[1].minute: events must be in time order"


def test_a_rollback_with_nothing_pushed_is_refused(tmp_path: Path) -> None:
    events = '\n[[events]]\nminute = 1\naction = "rollback_plans"\n'
    assert refuse(short_scenario(tmp_path, events=events)) == (
        ": events[0].action: rollback_plans with nothing pushed before it"
    )


def test_a_push_of_a_bad_plan_file_is_refused_up_front_naming_both_files(tmp_path: Path) -> None:
    bad = tmp_path / "bad-plans.toml"
    bad.write_text('version = "x"\n')
    events = f'\n[[events]]\nminute = 1\naction = "push_plans"\nfile = "{bad}"\n'
    message = refuse(short_scenario(tmp_path, events=events))
    assert message.startswith(f": events[0].file: cannot use plan file: {bad}: ")


def test_a_push_without_a_file_is_refused(tmp_path: Path) -> None:
    events = '\n[[events]]\nminute = 1\naction = "push_plans"\n'
    assert refuse(short_scenario(tmp_path, events=events)) == ": events[0].file: push_plans needs a file"


def test_an_unknown_action_is_refused(tmp_path: Path) -> None:
    events = '\n[[events]]\nminute = 1\naction = "deploy"\n'
    assert refuse(short_scenario(tmp_path, events=events)).startswith(": events[0].action: Input should be")


def test_a_start_without_utc_offset_is_refused(tmp_path: Path) -> None:
    path = short_scenario(tmp_path)
    path.write_text(path.read_text().replace("2023-03-06T08:58:00-08:00", "2023-03-06T08:58:00"))
    assert refuse(path) == ": start: give a UTC offset, e.g. 2023-03-06T08:45:00-08:00"


def test_a_decreasing_load_shape_is_refused(tmp_path: Path) -> None:
    path = short_scenario(tmp_path, header_extra="[load]\nshape = [[3, 1.0], [1, 2.0]]")
    assert refuse(path) == ": load.shape: give [minute, factor] points with strictly increasing minutes"


def test_a_missing_plans_file_is_refused(tmp_path: Path) -> None:
    path = short_scenario(tmp_path)
    text = path.read_text()
    start = text.index("plans = ")
    end = text.index("\n", start)
    path.write_text(text[:start] + 'plans = "nope.toml"' + text[end:])
    assert refuse(path) == f": plans: cannot use plan file: {tmp_path / 'nope.toml'}: no such file"


def test_a_syntax_error_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\ntitle = \n')
    assert refuse(path).startswith(":2:")


def test_negative_traffic_is_refused(tmp_path: Path) -> None:
    path = short_scenario(tmp_path)
    path.write_text(path.read_text().replace("per_minute = 40", "per_minute = -4"))
    assert refuse(path).startswith(": traffic[0].per_minute: Input should be greater than or equal to 0")
