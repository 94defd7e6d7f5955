"""JSON Schemas of the file formats, from the pydantic models that validate them.

Editors (taplo, Even Better TOML, VS Code's JSON support) complete and check a file against its
schema; draft-07 with `definitions`, because taplo's validator does not read draft 2020-12.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, TypeAdapter

DRAFT = "http://json-schema.org/draft-07/schema#"
_REF_TEMPLATE = "#/definitions/{model}"


def schema_of(model: type[BaseModel] | TypeAdapter[Any], title: str, description: str) -> dict[str, Any]:
    """The draft-07 schema of `model` as it validates (field aliases, `schema` and `class`, as
    the file spells them), with a title and description an editor shows."""
    if isinstance(model, TypeAdapter):
        generated = model.json_schema(by_alias=True, ref_template=_REF_TEMPLATE)
    else:
        generated = model.model_json_schema(by_alias=True, ref_template=_REF_TEMPLATE)
    definitions = generated.pop("$defs", {})
    document: dict[str, Any] = {"$schema": DRAFT, "title": title, "description": description}
    document.update((key, value) for key, value in generated.items() if key not in ("title", "description"))
    if definitions:
        document["definitions"] = definitions
    return document


def schema_text(schema: dict[str, Any]) -> str:
    """The schema as the shipped file holds it: sorted keys, two-space indent, a final newline."""
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
