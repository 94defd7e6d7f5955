"""`gw467 replay --traffic-log`: a decision log played as the replay's traffic, on the virtual clock,
sends each logged request once, in the minute it was logged, so the hour plays out as logged."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

from gateway.cli.main import main
from tests.impact.incident import incident_log, scaled_scenario


def replay_json(*args: str) -> dict[str, object]:
    out = io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(io.StringIO()):
        assert main(["replay", *args, "--format", "json"]) == 0
    document: dict[str, object] = json.loads(out.getvalue())
    return document


def test_a_recorded_log_replays_as_the_hour_it_recorded(tmp_path: Path) -> None:
    log = incident_log(tmp_path)
    scenario = str(scaled_scenario(tmp_path))
    (tmp_path / "garbage.log").write_text(log.read_text() + "not a log line\n")
    original = replay_json(scenario)
    replayed = replay_json(scenario, "--traffic-log", str(tmp_path / "garbage.log"))
    assert replayed["requests"] == original["requests"] == len(log.read_text().splitlines())
    minutes = ("minute", "first_party", "third_party")
    for before, after in zip(original["minutes"], replayed["minutes"], strict=True):  # type: ignore[call-overload]
        assert {key: before[key] for key in minutes} == {key: after[key] for key in minutes}


def test_a_missing_traffic_log_is_one_line_and_exit_2(tmp_path: Path) -> None:
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        code = main(["replay", "2023-03-06-error-467", "--traffic-log", str(tmp_path / "none.log")])
    assert code == 2 and len(err.getvalue().splitlines()) == 1 and "none.log" in err.getvalue()


def test_a_scenario_can_name_its_recorded_log_as_its_traffic(tmp_path: Path) -> None:
    log = incident_log(tmp_path)
    model = scaled_scenario(tmp_path).read_text()
    recorded = tmp_path / "recorded.toml"
    keys = ", ".join(
        f'"{client}" = "{key}"' for client, key in re.findall(r'client = "([^"]+)"\nkey = "([^"]+)"', model)
    )
    recorded.write_text(
        model[: model.index("[[traffic]]")] + f'[traffic]\nlog = "{log.name}"\nkeys = {{ {keys} }}\n'
    )
    by_option = replay_json(str(scaled_scenario(tmp_path)), "--traffic-log", str(log))
    by_scenario = replay_json(str(recorded))
    assert by_scenario["requests"] == by_option["requests"] == len(log.read_text().splitlines())
    assert by_scenario["minutes"] == by_option["minutes"]
