"""The layer-by-layer comparison: every row an actual replay of the same traffic."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.replay.compare import CONFIGURATIONS, compare
from tests.replay.conftest import short_scenario
from tests.replay.test_safety import QUICK_OPERATORS


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("compare")
    return short_scenario(directory, minutes=8, header_extra=QUICK_OPERATORS)


def test_every_configuration_is_a_row_and_the_layers_rank_as_expected(scenario: Path) -> None:
    comparison = compare(scenario, workers=1)
    rows = {(row.layer, row.sli): row for row in comparison.rows}
    assert len(rows) == len(CONFIGURATIONS)
    none = rows[("none", "-")]
    assert none.first_party_failed > 0 and none.minutes_to_recover == 2
    assert rows[("diff", "-")].first_party_failed == 0
    assert rows[("shadow", "-")].first_party_failed == 0
    assert rows[("canary", "first-party-denials")].first_party_failed < none.first_party_failed / 10
    assert rows[("alert", "5xx")].first_party_failed == none.first_party_failed
    assert rows[("none", "-")].detected_by == "users"
    assert rows[("diff", "-")].minutes_to_detect == 0
    assert none.error_budget_share > 0


def test_compare_json_is_identical_between_runs_and_between_one_and_two_processes(
    scenario: Path, tmp_path: Path
) -> None:
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    assert main(["replay", str(scenario), "--compare", "--json", str(first)]) == 0
    assert main(["replay", str(scenario), "--compare", "--json", str(second)]) == 0
    assert first.read_bytes() == second.read_bytes()
    one_process = compare(scenario, workers=1).to_json()
    assert json.loads(first.read_text()) == json.loads(json.dumps(one_process))
