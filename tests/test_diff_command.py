"""`gw467 diff` and `gw467 traffic`, through a local parser: outputs, exit codes, errors, no keys."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from gateway.cli import diff, traffic
from gateway.cli.errors import UsageError
from gateway.core.config import ConfigError
from gateway.core.planfile import load_plan_set
from gateway.replay.scenario import load_scenario
from gateway.replay.traffic import TrafficModel
from gateway.safety.diff import read_traffic_log
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, FIXED, ROOT

SCENARIO = ROOT / "scenarios" / "2023-03-06-error-467.toml"


def gw467(*argv: str | Path) -> int:
    """Parse and run as the gw467 command line would, with only the commands under test."""
    parser = argparse.ArgumentParser(prog="gw467")
    commands = parser.add_subparsers(dest="command", required=True)
    diff.register(commands)
    traffic.register(commands)
    args = parser.parse_args([str(arg) for arg in argv])
    code: int = args.handler(args)
    return code


def test_billing_diff_exits_1_and_names_the_first_party_loss(capsys: pytest.CaptureFixture[str]) -> None:
    assert gw467("diff", BASELINE, BILLING) == 1
    verdict = capsys.readouterr().out.rstrip().splitlines()[-1]
    assert verdict.startswith("FIRST-PARTY LOSS: 7 first-party clients lose 245 grants (links, media, ")
    for surface in ("timeline", "tweetdeck", "login"):
        assert surface in verdict


def test_fixed_diff_exits_0_and_still_lists_the_intended_third_party_losses(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert gw467("diff", BASELINE, FIXED) == 0
    out = capsys.readouterr().out
    assert "third-party losses: 3 clients, 34 grants" in out
    for reader in ("sunrise-bot", "legacy-reader"):
        assert any(reader in line and "tweets.lookup" in line for line in out.splitlines())
    assert out.rstrip().splitlines()[-1] == "no first-party loss (34 third-party grants lost, 0 gained)"


def test_fail_on_any_loss_makes_the_intended_third_party_losses_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert gw467("diff", BASELINE, FIXED, "--fail-on", "any-loss") == 1


def test_a_file_against_itself_exits_0_even_failing_on_any_loss(capsys: pytest.CaptureFixture[str]) -> None:
    assert gw467("diff", BILLING, BILLING, "--fail-on", "any-loss") == 0
    assert "no client loses or gains any grant" in capsys.readouterr().out


def test_json_output_parses_and_is_the_same_every_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert gw467("diff", BASELINE, BILLING, "--format", "json") == 1
    first = capsys.readouterr().out
    assert gw467("diff", BASELINE, BILLING, "--format", "json") == 1
    assert capsys.readouterr().out == first
    document = json.loads(first)
    assert (document["old_version"], document["new_version"]) == ("2023-02-baseline", "2023-03-06-billing")
    assert document["first_party_loss"] is True
    assert document["changes"][0]["first_party"] is True


def test_traffic_option_adds_the_failing_rates(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    log = tmp_path / "traffic.jsonl"
    log.write_text(
        '{"client": "tco", "method": "GET", "path": "/2/links/abc", "time": 1678118400}\n'
        '{"client": "tco", "method": "GET", "path": "/2/links/def", "time": 1678118700}\n'
        '{"client": "web", "method": "POST", "path": "/2/tweets", "time": 1678118500}\n'
    )
    assert gw467("diff", BASELINE, BILLING, "--traffic", log, "--format", "json") == 1
    traffic = json.loads(capsys.readouterr().out)["traffic"]
    assert traffic["minutes"] == 5.0
    assert traffic["failing"] == [{"client": "tco", "endpoint": "links.resolve", "per_minute": 0.4}]
    assert gw467("diff", BASELINE, BILLING, "--traffic", log, "--traffic-minutes", "2") == 1
    assert "traffic: 3 requests over 2.0 min; 1.0 req/min would fail" in capsys.readouterr().out


def test_traffic_minutes_without_a_traffic_log_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--traffic-minutes needs --traffic FILE"):
        gw467("diff", BASELINE, BILLING, "--traffic-minutes", "5")


@pytest.mark.parametrize("minutes", ["0", "-1", "soon", "inf"])
def test_traffic_minutes_must_be_a_positive_number(minutes: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        gw467("diff", BASELINE, BILLING, "--traffic", "x.jsonl", "--traffic-minutes", minutes)
    assert "--traffic-minutes" in capsys.readouterr().err


def test_a_malformed_traffic_log_raises_a_one_line_config_error(tmp_path: Path) -> None:
    log = tmp_path / "traffic.jsonl"
    log.write_text('{"client": "tco", "method": "GET", "path": "/2/links/abc"}\n{"client": "tco"\n')
    with pytest.raises(ConfigError, match=rf"^{log}: line 2: not JSON"):
        gw467("diff", BASELINE, BILLING, "--traffic", log)


def test_an_invalid_plan_file_raises_config_error_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BILLING.read_text().replace('plan = "basic"', 'plan = "gold"'))
    with pytest.raises(ConfigError) as caught:
        gw467("diff", BASELINE, bad)
    message = str(caught.value)
    assert message.startswith(f"{bad}: ")
    assert "unknown plan 'gold'" in message
    assert "\n" not in message


def test_diff_help_answers_what_the_exit_codes_and_options_mean(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        gw467("diff", "--help")
    assert done.value.code == 0
    out = capsys.readouterr().out
    for text in ("OLD", "NEW", "--fail-on", "any-loss", "--traffic FILE", "--traffic-minutes N", "Exit 0"):
        assert text in out


# --- gw467 traffic ---------------------------------------------------------------------------------


def test_traffic_output_round_trips_through_read_traffic_log(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gw467("traffic", SCENARIO, "--minutes", "2", "--seed", "7") == 0
    log = tmp_path / "traffic.jsonl"
    log.write_text(capsys.readouterr().out)
    entries = read_traffic_log(log)

    scenario = load_scenario(SCENARIO)
    model = TrafficModel(scenario, load_plan_set(scenario.plans))
    start = scenario.start.timestamp()
    expected = [(minute, request) for minute in range(2) for request in model.minute(minute, 7)]
    assert len(entries) == len(expected) > 0
    for entry, (minute, request) in zip(entries, expected, strict=True):
        assert (entry.client_id, entry.method, entry.path) == (
            request.client_id,
            request.method,
            request.raw_path,
        )
        assert entry.time == pytest.approx(start + minute * 60 + request.second, abs=1e-3)


def test_traffic_output_never_contains_an_api_key(capsys: pytest.CaptureFixture[str]) -> None:
    assert gw467("traffic", SCENARIO) == 0
    out = capsys.readouterr().out
    assert out
    for key in DEMO_KEYS.values():
        assert key not in out
    assert "Bearer" not in out
    assert {tuple(json.loads(line)) for line in out.splitlines()} == {("client", "method", "path", "time")}


def test_traffic_uses_the_scenario_seed_by_default(capsys: pytest.CaptureFixture[str]) -> None:
    gw467("traffic", SCENARIO)
    by_default = capsys.readouterr().out
    gw467("traffic", SCENARIO, "--seed", "467")
    assert capsys.readouterr().out == by_default


def test_traffic_minutes_past_the_scenario_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--minutes must be from 1 to 90"):
        gw467("traffic", SCENARIO, "--minutes", "91")


def test_scenario_traffic_weighs_the_outage_as_first_party_failures_and_the_fix_as_none(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    gw467("traffic", SCENARIO)
    log = tmp_path / "traffic.jsonl"
    log.write_text(capsys.readouterr().out)

    assert gw467("diff", BASELINE, BILLING, "--traffic", log, "--format", "json") == 1
    outage = json.loads(capsys.readouterr().out)["traffic"]
    assert gw467("diff", BASELINE, FIXED, "--traffic", log, "--format", "json") == 0
    fixed = json.loads(capsys.readouterr().out)["traffic"]

    assert outage["first_party_failing_per_minute"] > 1000
    assert fixed["first_party_failing_per_minute"] == 0
    assert outage["unknown_to_old"] == outage["unknown_to_new"] == 0
