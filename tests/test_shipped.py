"""gateway.core.shipped: the package's own plan files and scenarios, found by name."""

from __future__ import annotations

from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from gateway.core.config import ConfigError
from gateway.core.planfile import load_plan_set
from gateway.core.shipped import locate, shipped_directory, shipped_names
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.replay.scenario import load_scenario
from tests.conftest import BASELINE, FIXED, ROOT


def test_the_package_ships_the_three_plan_versions_and_the_four_scenarios() -> None:
    assert shipped_names("plans") == ("2023-02-baseline", "2023-03-06-billing", "2023-03-06-billing-fixed")
    assert shipped_names("scenarios") == (
        "2019-07-11-technically-wrong",
        "2023-03-06-error-467",
        "2023-03-06-fixed",
        "2023-03-06-ringed-rollout",
    )


def test_the_repository_paths_are_links_to_the_package_data() -> None:
    for kind in ("plans", "scenarios"):
        top = ROOT / kind
        assert top.is_symlink()
        assert top.resolve() == shipped_directory(kind).resolve() == ROOT / "gateway" / "data" / kind


@pytest.mark.parametrize("name", ["2023-02-baseline", "2023-02-baseline.toml"])
def test_a_name_finds_the_shipped_file_with_or_without_its_suffix(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    found = locate("plans", name)
    assert found == shipped_directory("plans") / "2023-02-baseline.toml"
    assert load_plan_set(found).version == "2023-02-baseline"


def test_an_existing_file_wins_over_a_shipped_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "2023-02-baseline.toml").write_text(BASELINE.read_text())
    assert locate("plans", "2023-02-baseline.toml") == Path("2023-02-baseline.toml")


def test_a_missing_path_is_left_for_the_loader_to_report(tmp_path: Path) -> None:
    missing = tmp_path / "2023-02-baseline.toml"
    assert locate("plans", str(missing)) == missing


def test_an_unknown_name_is_a_one_line_error_listing_the_shipped_names() -> None:
    with pytest.raises(ConfigError) as error:
        locate("scenarios", "2023-03-06")
    assert str(error.value) == (
        "2023-03-06: no such file, nor a shipped scenario of that name "
        "(2019-07-11-technically-wrong, 2023-03-06-error-467, 2023-03-06-fixed, "
        "2023-03-06-ringed-rollout)"
    )


@pytest.mark.parametrize("name", shipped_names("scenarios"))
def test_every_shipped_scenario_finds_its_plans_and_service_maps_from_the_package(name: str) -> None:
    scenario = load_scenario(locate("scenarios", name))
    package_data = shipped_directory("plans").parent
    assert scenario.plans.resolve().is_relative_to(package_data.resolve())
    for event in scenario.events:
        if event.file is not None:
            assert event.file.resolve().is_relative_to(package_data.resolve())


def test_load_plan_set_and_the_middleware_take_a_shipped_name_from_any_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    shipped = load_plan_set("2023-03-06-billing-fixed")
    assert shipped.source == str(shipped_directory("plans") / "2023-03-06-billing-fixed.toml")
    assert shipped.text == load_plan_set(FIXED).text != ""
    upstream = Starlette(routes=[Route("/2/links/{id}", PlainTextResponse("upstream"))])
    app = EntitlementMiddleware(upstream, plans="2023-03-06-billing-fixed")
    assert app.startup_error is None
    with TestClient(app) as client:
        response = client.get("/2/links/t3st", headers={"Authorization": "Bearer gw467-demo-tco"})
    assert response.text == "upstream"


def test_load_plan_set_names_the_shipped_plan_files_for_a_name_it_does_not_know(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match=r"^2023-03-06-billing-fix: no such file, nor a shipped plan file"):
        load_plan_set("2023-03-06-billing-fix")
