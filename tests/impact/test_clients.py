"""The client mapping file: a field, and user-agent substrings mapped to client ids; bad files
are refused in one line naming the file."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.impact.clients import MAX_MAPPING_BYTES, ClientMapping, MappingError, load_mapping
from tests.impact import logs


def test_a_mapping_file_lists_its_substrings_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "clients.toml"
    path.write_text(logs.MAPPING_TOML)
    mapping = load_mapping(path)
    assert mapping.field == "user_agent"
    assert mapping.matches[0] == ("gw467-web-app/", "web") and len(mapping.matches) == len(logs.USER_AGENTS)
    assert ClientMapping().matches == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("field = 1", "field must be a string"),
        ("clients = []", "unknown key 'clients'"),
        ('[[match]]\ncontains = ""\nclient = "web"', "match[0] needs exactly contains and client"),
        ("not toml [", "not a TOML file"),
        ("x" * (MAX_MAPPING_BYTES + 1), "larger than"),
    ],
)
def test_bad_mapping_files_are_one_line_naming_the_file(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "clients.toml"
    path.write_text(text)
    with pytest.raises(MappingError, match=re.escape(message)) as raised:
        load_mapping(path)
    assert str(raised.value).startswith(str(path)) and "\n" not in str(raised.value)
