"""gateway.core.config: one-line ConfigErrors for unreadable files, bad TOML and invalid documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pytest
from pydantic import BaseModel, ConfigDict, Field

from gateway.core.config import ConfigError, key_path, line_of, parse_toml, read_text, validate_model


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    name: str
    count: int = 0


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)

    title: str
    secret: str = "x" * 12
    items: list[Item] = []


class Named(BaseModel):
    tables: dict[Annotated[str, Field(pattern=r"^[a-z]+$")], Item]


def refuse(document: dict[str, object], **options: object) -> str:
    with pytest.raises(ConfigError) as caught:
        validate_model(Document, document, "f.toml", **options)  # type: ignore[arg-type]
    return str(caught.value)


# --- key_path -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("location", "expected"),
    [
        (("endpoints", 3, "path"), "endpoints[3].path"),
        (("plans", "free", "grants", 0, "endpoints", 1), "plans.free.grants[0].endpoints[1]"),
        (("policy", "exempt", 0), "policy.exempt[0]"),
        (("version",), "version"),
        ((0, "name"), "[0].name"),
        ((), "(top level)"),
    ],
)
def test_key_path_joins_names_with_dots_and_indexes_with_brackets(
    location: tuple[int | str, ...], expected: str
) -> None:
    assert key_path(location) == expected


def test_key_path_label_annotates_indexed_prefix() -> None:
    def label(prefix: list[int | str]) -> str:
        return " (id 'b')" if prefix == ["endpoints", 1] else ""

    assert key_path(("endpoints", 1, "path"), label) == "endpoints[1] (id 'b').path"
    assert key_path(("items", 1, "path"), label) == "items[1].path"


# --- ConfigError --------------------------------------------------------------------------------


def test_config_error_with_line_is_file_line_column() -> None:
    assert str(ConfigError("f.toml", "", "bad", line=3, column=7)) == "f.toml:3:7: bad"


def test_config_error_with_line_and_key_path_names_both() -> None:
    assert str(ConfigError("f.toml", "cases[2].client", "bad", line=9)) == "f.toml:9: cases[2].client: bad"


def test_line_of_finds_keys_in_array_tables_top_level_keys_and_missing_keys() -> None:
    text = 'default = "deny"\n\n[[cases]]\nclient = "a"\n\n[[cases]]\nname = "x"\nclient = "b"\n'
    assert line_of(text, ["default"]) == 1
    assert line_of(text, ["cases", 1, "client"]) == 8
    assert line_of(text, ["cases", 0, "expect"]) == 3  # missing: the header of its table
    assert line_of(text, ["cases", 1]) == 6
    assert line_of(text, ["cases", 5, "client"]) is None
    assert line_of(text, ["plan_files"]) is None


def test_config_error_with_key_path_is_file_path_message() -> None:
    assert str(ConfigError("f.toml", "clients.web.plan", "bad")) == "f.toml: clients.web.plan: bad"


def test_config_error_without_location_is_file_message() -> None:
    assert str(ConfigError("f.toml", "", "no such file")) == "f.toml: no such file"


def test_config_error_keeps_its_parts() -> None:
    error = ConfigError("f.toml", "a.b", "bad", line=2, column=5)
    assert (error.source, error.where, error.message, error.line, error.column) == (
        "f.toml",
        "a.b",
        "bad",
        2,
        5,
    )
    assert error.args == ("f.toml:2: a.b: bad",)


# --- read_text ----------------------------------------------------------------------------------


def test_read_text_returns_utf8_text(tmp_path: Path) -> None:
    path = tmp_path / "f.toml"
    path.write_bytes("name = 'caf\u00e9'\n".encode())
    assert read_text(path) == "name = 'caf\u00e9'\n"


def test_read_text_of_missing_file_says_no_such_file(tmp_path: Path) -> None:
    path = tmp_path / "absent.toml"
    with pytest.raises(ConfigError, match=r"absent\.toml: no such file$"):
        read_text(path)


def test_read_text_of_directory_says_it_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        read_text(tmp_path)
    assert str(caught.value) == f"{tmp_path}: is a directory, not a file"


def test_read_text_of_non_utf8_bytes_names_the_byte(tmp_path: Path) -> None:
    path = tmp_path / "f.toml"
    path.write_bytes(b"ok\n\xff\n")
    with pytest.raises(ConfigError) as caught:
        read_text(path)
    assert str(caught.value) == f"{path}: not UTF-8 text (byte 3)"


# --- parse_toml ---------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\n", "\t \r\n"])
def test_parse_toml_of_blank_text_says_file_is_empty(text: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_toml(text, "f.toml")
    assert str(caught.value) == "f.toml: file is empty"


def test_parse_toml_of_comments_only_says_no_keys() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_toml("# one\n\n# two\n", "f.toml")
    assert str(caught.value) == "f.toml: file has no keys (only comments or blank lines)"


def test_parse_toml_syntax_error_reports_line_and_column() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_toml("a = 1\nb = = 2\n", "f.toml")
    error = caught.value
    assert (error.line, error.column) == (2, 5)
    assert str(error) == "f.toml:2:5: TOML syntax error: Invalid value"


def test_parse_toml_error_at_end_of_document_points_past_last_character() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_toml('a = 1\nb = "open', "f.toml")
    assert str(caught.value) == "f.toml:2:10: TOML syntax error: Unterminated string"


def test_parse_toml_duplicate_key_is_reported_as_defined_twice() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_toml("a = 1\na = 2\n", "f.toml")
    assert str(caught.value).startswith("f.toml:2:")
    assert str(caught.value).endswith("Cannot overwrite a value (a key is defined twice)")


def test_parse_toml_returns_the_document() -> None:
    assert parse_toml("# comment\na = 1\n", "f.toml") == {"a": 1}


# --- validate_model -----------------------------------------------------------------------------


def test_validate_model_returns_the_model() -> None:
    assert validate_model(Document, {"title": "t"}, "f.toml") == Document(title="t")


def test_validate_model_reports_missing_key() -> None:
    assert refuse({}) == "f.toml: title: missing required key"


def test_validate_model_reports_unknown_key() -> None:
    assert refuse({"title": "t", "colour": "red"}) == "f.toml: colour: unknown key"


def test_validate_model_reports_wrong_type_with_the_value() -> None:
    assert refuse({"title": 5}) == "f.toml: title: Input should be a valid string, got 5"


@pytest.mark.parametrize(
    ("value", "shown"), [({"a": 1}, "a table"), ([1], "an array"), ("x" * 50, "'" + "x" * 36 + "...")]
)
def test_validate_model_abbreviates_shown_values(value: object, shown: str) -> None:
    message = refuse({"title": "t", "items": [{"name": "n", "count": value}]})
    assert message == f"f.toml: items[0].count: Input should be a valid integer, got {shown}"


def test_validate_model_hides_value_of_secret_key() -> None:
    message = refuse({"title": "t", "secret": 987654321}, secret_keys={"secret"})
    assert message == "f.toml: secret: Input should be a valid string"


def test_validate_model_reports_nested_location() -> None:
    assert refuse({"title": "t", "items": [{"name": "a"}, {"name": "b", "count": "2"}]}) == (
        "f.toml: items[1].count: Input should be a valid integer, got '2'"
    )


def test_validate_model_applies_label_to_location() -> None:
    message = refuse({"title": "t", "items": [{"nom": "a"}]}, label=lambda prefix: " (first)")
    assert message.startswith("f.toml: items[0] (first).")


def test_validate_model_counts_one_more_problem_in_singular() -> None:
    assert refuse({"colour": "red"}) == "f.toml: title: missing required key (and 1 more problem)"


def test_validate_model_counts_further_problems_in_plural() -> None:
    assert (
        refuse({"colour": "red", "items": 1}) == "f.toml: title: missing required key (and 2 more problems)"
    )


def test_validate_model_names_invalid_table_name_without_pydantic_marker() -> None:
    with pytest.raises(ConfigError) as caught:
        validate_model(Named, {"tables": {"Bad Name": {"name": "n"}}}, "f.toml")
    assert str(caught.value) == (
        "f.toml: tables.Bad Name: invalid table name: String should match pattern '^[a-z]+$', got 'Bad Name'"
    )
