"""Every input has a size and a depth bound, and going past one is a one-line error (exit 2, or
a 400 on a push), never a traceback, a RecursionError or gigabytes of memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.core.config import MAX_INPUT_VARIABLE, ConfigError, read_text
from gateway.core.planfile import load_plan_set, parse_plan_set
from gateway.safety.catalogue import MAX_DEPTH, catalogue_from_openapi
from tests.test_control import ADMIN, call, gateway

# 342 bytes that expand to 9**9 strings: the "billion laughs" of YAML.
ALIAS_BOMB = 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n' + "".join(
    f"{name}: &{name} [{', '.join([f'*{previous}'] * 9)}]\n"
    for previous, name in zip("abcdefgh", "bcdefghi", strict=True)
)


def test_a_yaml_alias_bomb_is_refused_before_it_expands(tmp_path: Path) -> None:
    spec = tmp_path / "bomb.yaml"
    spec.write_text("openapi: 3.0.0\n" + ALIAS_BOMB)
    with pytest.raises(ConfigError) as refused:
        catalogue_from_openapi(spec)
    assert str(refused.value) == f"{spec}:3:8: YAML aliases (*name) are not accepted in a spec"


def test_a_yaml_alias_is_refused_even_where_it_would_be_small(tmp_path: Path) -> None:
    spec = tmp_path / "alias.yaml"
    spec.write_text("openapi: 3.0.0\ninfo: &info {title: x}\nx-copy: *info\npaths: {}\n")
    with pytest.raises(ConfigError, match="YAML aliases"):
        catalogue_from_openapi(spec)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "deep.yaml",
            "openapi: 3.0.0\npaths: " + "[" * 500 + "]" * 500,
            f"YAML nested too deeply to read (more than {MAX_DEPTH} levels)",
        ),
        (
            "deep.json",
            '{"openapi": "3.0.0", "paths": ' + "[" * 100_000 + "]" * 100_000 + "}",
            "JSON nested too deeply to read",
        ),
    ],
)
def test_a_spec_nested_past_the_bound_is_one_line(tmp_path: Path, name: str, text: str, message: str) -> None:
    spec = tmp_path / name
    spec.write_text(text)
    with pytest.raises(ConfigError) as refused:
        catalogue_from_openapi(spec)
    assert str(refused.value) == f"{spec}: {message}"


def test_a_plan_file_nested_past_the_parser_is_one_line() -> None:
    with pytest.raises(ConfigError) as refused:
        parse_plan_set("schema = 1\nx = " + "[" * 5000 + "]" * 5000, "deep.toml")
    assert str(refused.value) == "deep.toml: TOML nested too deeply to read"


def test_a_file_over_the_size_bound_is_refused_unread_and_the_bound_can_be_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plans = tmp_path / "plans.toml"
    plans.write_text(Path("plans/2023-02-baseline.toml").read_text())
    size = plans.stat().st_size
    monkeypatch.setenv(MAX_INPUT_VARIABLE, str(size - 1))
    with pytest.raises(ConfigError) as refused:
        load_plan_set(plans)
    assert (
        str(refused.value)
        == f"{plans}: larger than {size - 1:,} bytes (set {MAX_INPUT_VARIABLE} to raise it)"
    )
    monkeypatch.setenv(MAX_INPUT_VARIABLE, str(size))
    assert read_text(plans) == plans.read_text()
    assert load_plan_set(plans).version == "2023-02-baseline"


def test_a_push_nested_past_the_parser_is_a_400_and_the_table_stays() -> None:
    app = gateway(admin_token="admin-token-for-tests")
    before = app.gateway.table.version
    response = call(
        app, "POST", "/_gw467/admin/plans", ADMIN, b"schema = 1\nx = " + b"[" * 5000 + b"]" * 5000
    )
    assert response.status == 400
    assert b"TOML nested too deeply to read" in response.body
    assert app.gateway.table.version == before
