"""gateway.fronts.settings: every serving setting declared once, read alike from keywords, the
environment and `gw467 serve`'s options, handed to workers unchanged, and refused in one line."""

from __future__ import annotations

import argparse
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.applications import Starlette

from gateway.cli.main import build_parser, main
from gateway.fronts.app import create_app
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.fronts.settings import (
    APP_SETTINGS,
    RULE_HEADER_CHOICES,
    SETTINGS_FIELDS,
    STATUS_ACCESS,
    GatewaySettings,
    MiddlewareKeywords,
    SettingError,
    setting_named,
)
from gateway.request_path.runtime import STORE_FAILURE_POLICIES
from gateway.request_path.slo import SLI_NAMES
from tests.conftest import FIXED

TOKENS = ("admin_token", "status_token", "check_token")
SECRET = "a-token-nobody-may-read"


def serve_arguments(*options: str) -> argparse.Namespace:
    """`gw467 serve --plans FIXED OPTIONS` as the real parser reads it."""
    return build_parser("serve").parse_args(["serve", "--plans", str(FIXED), *options])


def serve_options() -> set[str]:
    parser = build_parser("serve")
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return {option for action in commands.choices["serve"]._actions for option in action.option_strings}


def test_every_setting_has_its_variable_default_and_one_sentence_doc_as_plain_text() -> None:
    for setting in SETTINGS_FIELDS:
        values = (setting.name, setting.default, setting.env, setting.option, setting.doc)
        assert all(type(value) is str for value in values), setting.name
        assert setting.env == "GW467_" + setting.name.upper(), setting.name
        assert setting.doc[0].isupper() and setting.doc.endswith(".") and setting.doc.count(". ") == 0
    assert [s.name for s in SETTINGS_FIELDS] == [f.name for f in fields(GatewaySettings)]
    assert (
        setting_named("min_requests").default == "20"
        and setting_named("sli").default == "first-party-denials"
    )


def test_the_middleware_keywords_are_the_settings_the_middleware_uses() -> None:
    used = {s.name for s in SETTINGS_FIELDS} - set(APP_SETTINGS) - {"plans"}
    assert set(MiddlewareKeywords.__annotations__) == used


def test_serve_has_an_option_for_every_setting_that_names_one_and_none_for_a_token() -> None:
    options = serve_options()
    named = {s.option for s in SETTINGS_FIELDS if s.option}
    assert named <= options
    assert all(setting_named(name).option == "" for name in TOKENS)
    # The options that are not settings are uvicorn's, or the command's own.
    assert options - named == {
        "-h",
        "--help",
        "--host",
        "--port",
        "--log-level",
        "--workers",
        "--http",
        "--max-problems",
    }


def test_every_setting_given_on_the_command_line_reaches_the_workers_unchanged(tmp_path: Path) -> None:
    arguments = serve_arguments(
        *("--sli", "5xx", "--no-metrics", "--min-requests", "7", "--status-access", "token"),
        *("--rule-header", "refusals", "--upstream", "http://127.0.0.1:9000/base"),
        *("--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "::1", "--no-decision-log"),
        *("--store", "redis://127.0.0.1:6379/2", "--store-failure", "closed", "--state-dir", str(tmp_path)),
    )
    environment = {"GW467_STATUS_TOKEN": SECRET, "GW467_CHECK_TOKEN": "check", "GW467_SLO": "0.99"}
    settings = GatewaySettings.from_arguments(arguments, environment)
    assert settings == GatewaySettings(
        plans=str(FIXED),
        sli="5xx",
        slo=0.99,
        metrics=False,
        min_requests=7,
        status_access="token",
        status_token=SECRET,
        check_token="check",
        rule_header="refusals",
        upstream="http://127.0.0.1:9000/base",
        trusted_proxies=("10.0.0.0/8", "::1"),
        decision_log=False,
        store="redis://127.0.0.1:6379/2",
        store_failure="closed",
        state_dir=str(tmp_path),
    )
    assert GatewaySettings.from_environment(settings.to_environment()) == settings


def test_serve_without_options_is_the_defaults_and_so_are_its_workers() -> None:
    settings = GatewaySettings.from_arguments(serve_arguments(), {})
    assert settings == GatewaySettings(plans=str(FIXED))
    assert GatewaySettings.from_environment(settings.to_environment()) == settings
    assert GatewaySettings.from_environment({}) == GatewaySettings()


addresses = st.sampled_from(["127.0.0.1", "10.0.0.0/8", "::1", "2001:db8::/32", "192.168.1.7"])
tokens = st.none() | st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)
paths = st.none() | st.sampled_from(["/srv/gw467", "/tmp/a b", "/var/lib/gw467/state"])


@st.composite
def any_settings(draw: st.DrawFn) -> GatewaySettings:
    status_token = draw(tokens)
    admin_token = draw(tokens)
    access = draw(st.sampled_from(STATUS_ACCESS if status_token or admin_token else ("public", "loopback")))
    return GatewaySettings(
        plans=draw(paths),
        sli=draw(st.sampled_from(SLI_NAMES)),
        slo=draw(st.floats(min_value=0.5, max_value=0.99999, exclude_max=True)),
        metrics=draw(st.booleans()),
        min_requests=draw(st.integers(min_value=1, max_value=10**6)),
        admin_token=admin_token,
        status_access=access,
        status_token=status_token,
        check_token=draw(tokens),
        rule_header=draw(st.sampled_from(RULE_HEADER_CHOICES)),
        upstream=draw(st.none() | st.sampled_from(["http://127.0.0.1:9000", "https://api.example/v2"])),
        trusted_proxies=tuple(draw(st.lists(addresses, max_size=3))),
        decision_log=draw(st.booleans()),
        store=draw(st.sampled_from(["memory", "redis://127.0.0.1:6379/0", "rediss://cache:6380/3"])),
        store_failure=draw(st.sampled_from(STORE_FAILURE_POLICIES)),
        state_dir=draw(paths),
    )


@given(any_settings())
def test_settings_read_back_from_their_environment_are_the_same_settings(settings: GatewaySettings) -> None:
    """For all settings, from_environment(to_environment()) gives them back unchanged."""
    assert GatewaySettings.from_environment(settings.to_environment()) == settings


@pytest.mark.parametrize(
    ("keywords", "line"),
    [
        ({"sli": "5XX"}, "sli must be one of 5xx, first-party-denials, not '5XX'"),
        ({"slo": 1.0}, "slo must be between 0 and 1 exclusive, not 1.0"),
        ({"min_requests": 0}, "min_requests must be at least 1, not 0"),
        ({"metrics": "yes"}, "metrics must be True or False, not 'yes'"),
        (
            {"store": "postgres://db/0"},
            "store must be memory or a redis://HOST:PORT/DB URL, not 'postgres://db/0'",
        ),
        ({"store_failure": "ajar"}, "store_failure must be one of local, open, closed, not 'ajar'"),
        (
            {"trusted_proxies": ("lan",)},
            "trusted_proxies must be IP addresses or networks (10.0.0.0/8), not ('lan',)",
        ),
        (
            {"upstream": "ftp://x"},
            "upstream must be an http:// or https:// URL with a host, and no query or fragment, "
            "not 'ftp://x'",
        ),
    ],
)
def test_a_bad_keyword_is_one_line_naming_the_setting(keywords: dict[str, Any], line: str) -> None:
    with pytest.raises(SettingError) as refused:
        GatewaySettings(**keywords)
    assert str(refused.value) == line


@pytest.mark.parametrize(
    ("variable", "text", "line"),
    [
        ("GW467_MIN_REQUESTS", "many", "GW467_MIN_REQUESTS must be a whole number of at least 1, not 'many'"),
        ("GW467_MIN_REQUESTS", "0", "GW467_MIN_REQUESTS must be at least 1, not '0'"),
        ("GW467_SLO", "high", "GW467_SLO must be between 0 and 1 exclusive, not 'high'"),
        (
            "GW467_STATUS_ACCESS",
            "lan",
            "GW467_STATUS_ACCESS must be one of public, token, loopback, not 'lan'",
        ),
        (
            "GW467_STATUS_ACCESS",
            "token",
            "GW467_STATUS_ACCESS=token needs GW467_STATUS_TOKEN or GW467_ADMIN_TOKEN set in the environment",
        ),
        (
            "GW467_TRUSTED_PROXIES",
            "10.0.0.0/8,lan",
            "GW467_TRUSTED_PROXIES must be IP addresses or networks (10.0.0.0/8), not '10.0.0.0/8,lan'",
        ),
        (
            "GW467_STORE",
            "redis://h:port/0",
            "GW467_STORE must be memory or a redis://HOST:PORT/DB URL, not 'redis://h:port/0'",
        ),
    ],
)
def test_a_bad_variable_is_one_line_naming_the_variable(variable: str, text: str, line: str) -> None:
    with pytest.raises(SettingError) as refused:
        GatewaySettings.from_environment({variable: text})
    assert str(refused.value) == line


def test_the_app_factory_refuses_a_bad_variable_with_its_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW467_PLANS", str(FIXED))
    monkeypatch.setenv("GW467_RULE_HEADER", "none")
    with pytest.raises(SettingError, match=r"^GW467_RULE_HEADER must be one of all, refusals, not 'none'$"):
        create_app()
    monkeypatch.delenv("GW467_PLANS")
    monkeypatch.delenv("GW467_RULE_HEADER")
    with pytest.raises(SettingError, match=r"^set GW467_PLANS to the plan file to serve$"):
        create_app()


def test_a_bad_variable_stops_gw467_serve_with_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GW467_SLO", "1.5")
    assert main(["serve", "--plans", str(FIXED)]) == 2
    assert (
        capsys.readouterr().err
        == "gw467 serve: error: GW467_SLO must be between 0 and 1 exclusive, not '1.5'\n"
    )


def test_a_token_is_never_shown_in_repr_or_in_an_error_line() -> None:
    settings = GatewaySettings(admin_token=SECRET, status_token=SECRET, check_token=SECRET)
    assert SECRET not in repr(settings) and SECRET not in str(settings)
    assert "admin_token" not in repr(settings)
    with pytest.raises(SettingError) as refused:
        GatewaySettings(admin_token=12345)  # type: ignore[arg-type]
    assert str(refused.value) == "admin_token must be a string or None, not the value given"


def test_the_middleware_builds_its_settings_from_its_keywords_with_metrics_off_unless_asked() -> None:
    assert EntitlementMiddleware(Starlette(), FIXED).settings == GatewaySettings(metrics=False)
    built = EntitlementMiddleware(Starlette(), FIXED, sli="5xx", metrics=True, rule_header="refusals")
    assert built.settings == GatewaySettings(sli="5xx", rule_header="refusals")
    given = GatewaySettings(status_access="loopback")
    assert EntitlementMiddleware(Starlette(), FIXED, settings=given).settings is given
    assert GatewaySettings().metrics is True  # a served gateway (gw467 serve, the app factory)


def test_the_middleware_refuses_the_apps_settings_and_settings_twice() -> None:
    with pytest.raises(TypeError, match=r"^EntitlementMiddleware does not take upstream \(build_gateway_app"):
        EntitlementMiddleware(Starlette(), FIXED, upstream="http://127.0.0.1:9000")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="settings= or setting keywords, not both"):
        EntitlementMiddleware(Starlette(), FIXED, settings=GatewaySettings(), sli="5xx")
