"""The JSON Schemas an editor points at accept every shipped file and refuse a misspelt key.

Each file is read as an editor's TOML tooling hands it to the validator: tomllib's document,
with dates and times as RFC 3339 strings (JSON has no date type).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gateway.cli.schema import KINDS, shipped_schema
from gateway.core.schemas import schema_text
from tests.conftest import ROOT

DATA = ROOT / "gateway" / "data"
EXAMPLE = ROOT / "examples" / "fastapi_app" / "plans"
SHIPPED: dict[str, list[Path]] = {
    "plan": sorted(
        [
            *(DATA / "plans").glob("*.toml"),
            *(DATA / "plans" / "exercises").glob("*.toml"),
            *EXAMPLE.glob("*.toml"),
        ]
    ),
    "scenario": sorted((DATA / "scenarios").glob("*.toml")),
    "suite": sorted([*(DATA / "plans" / "tests").glob("*.toml"), *(EXAMPLE / "tests").glob("*.toml")]),
}
# A key each kind's top level or a nested table takes, misspelt as a user might.
MISSPELT: dict[str, tuple[tuple[str, ...], str, str]] = {
    "plan": (("policy",), "exempt", "exempts"),
    "scenario": (("operators",), "page_to_rollback_minutes", "page_to_rollback_minute"),
    "suite": ((), "default", "defualt"),
}


def as_json(value: Any) -> Any:
    """A TOML document as JSON sees it: dates and times as RFC 3339 strings."""
    if isinstance(value, dict):
        return {key: as_json(item) for key, item in value.items()}
    if isinstance(value, list):
        return [as_json(item) for item in value]
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def document(path: Path) -> Any:
    return as_json(tomllib.loads(path.read_text()))


def validator(kind: str) -> jsonschema.Draft7Validator:
    schema = KINDS[kind]()
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER)


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_shipped_schema_file_is_what_the_model_generates(kind: str) -> None:
    assert shipped_schema(kind).read_text() == schema_text(KINDS[kind]()), (
        f"{shipped_schema(kind)} is stale: regenerate it with gw467 schema {kind} -o {shipped_schema(kind)}"
    )


@pytest.mark.parametrize(
    ("kind", "path"),
    [(kind, path) for kind, paths in SHIPPED.items() for path in paths],
    ids=lambda value: value.name if isinstance(value, Path) else value,
)
def test_the_schema_accepts_every_shipped_file(kind: str, path: Path) -> None:
    errors = [error.message for error in validator(kind).iter_errors(document(path))]
    assert not errors, f"{path}: {errors}"


def test_every_kind_has_shipped_files_to_check() -> None:
    assert all(len(paths) >= 3 for paths in SHIPPED.values()), {k: len(v) for k, v in SHIPPED.items()}


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_the_schema_refuses_a_misspelt_key(kind: str) -> None:
    parents, right, wrong = MISSPELT[kind]
    good = document(SHIPPED[kind][0])
    table = good
    for parent in parents:
        table = table.setdefault(parent, {})
    table[wrong] = table.pop(right, 1)
    errors = [error.message for error in validator(kind).iter_errors(good)]
    assert errors, f"{kind}: {wrong!r} was accepted"
    assert any(wrong in message for message in errors) or any("is not valid under any" in m for m in errors)


def test_the_scenario_schema_names_the_misspelt_key_for_a_model_scenario() -> None:
    good = document(DATA / "scenarios" / "2023-03-06-error-467.toml")
    good["seeed"] = good.pop("seed")
    schema = KINDS["scenario"]()
    # Against the [[traffic]] branch alone, the message names the key, as an editor shows it.
    branch = {**schema, "$ref": "#/definitions/_ScenarioFile"}
    branch.pop("anyOf")
    messages = [error.message for error in jsonschema.Draft7Validator(branch).iter_errors(good)]
    assert any("'seeed' was unexpected" in message for message in messages), messages


def test_gw467_schema_prints_the_shipped_schema_and_its_path(tmp_path: Path) -> None:
    command = [sys.executable, "-m", "gateway", "schema"]
    printed = subprocess.run([*command, "suite"], capture_output=True, text=True, check=True, cwd=ROOT)
    assert printed.stdout == shipped_schema("suite").read_text()
    where = subprocess.run([*command, "plan", "--path"], capture_output=True, text=True, check=True, cwd=ROOT)
    assert Path(where.stdout.strip()) == shipped_schema("plan")
    written = tmp_path / "scenario.schema.json"
    subprocess.run([*command, "scenario", "-o", str(written)], capture_output=True, check=True, cwd=ROOT)
    assert written.read_text() == shipped_schema("scenario").read_text()


def test_gw467_schema_refuses_an_unknown_kind_in_one_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "gateway", "schema", "plans"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "invalid choice: 'plans'" in result.stderr
