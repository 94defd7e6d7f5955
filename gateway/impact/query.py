"""The two queries of an impact run, written once and spelled for DuckDB or for Spark SQL.

`requests_query` turns the `lines(line)` table into distinct requests with counts:
(reason, client, method, path, minute_raw, requests), where `reason` names why a line is not
decided (`not-utf8`, `unparsed`, `no-client`) and is NULL for a request to decide. The query string is cut
off here, in the engine, so no credential in it reaches Python. `outcomes_query` sums the
decided rows (`gateway.impact.deciding.DECIDED_SCHEMA`) over the breakdowns the report shows.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.impact.clients import NO_VALUE, ClientMapping
from gateway.impact.formats import COMMON_LOG, LineFormat

MAX_METHOD = 16
UNPARSED, NO_CLIENT, NOT_UTF8 = "unparsed", "no-client", "not-utf8"
_TIME_ZONE = r"(Z|[+-][0-9][0-9]:?[0-9][0-9])$"
_METHOD = r"^(\S+) "
_TARGET = r"^\S+ (\S+)"
OUTCOME_KEYS = ("reason", "client", "client_class", "first_party", "plan", "endpoint", "minute", "old", "new")


@dataclass(frozen=True)
class Dialect:
    """What differs between the engines' SQL: string literals, JSON access, and the query cut."""

    name: str
    backslash_escapes: bool  # Spark SQL reads '\' in a literal as an escape; DuckDB does not

    def literal(self, text: str) -> str:
        if self.backslash_escapes:
            return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"
        return "'" + text.replace("'", "''") + "'"

    def json_field(self, column: str, key: str) -> str:
        if self.name == "duckdb":
            path = self.literal('$."' + key.replace('"', '\\"') + '"')
            return f"CASE WHEN json_valid({column}) THEN json_extract_string({column}, {path}) END"
        path = self.literal("$['" + key + "']")
        return f"get_json_object({column}, {path})"

    def not_utf8(self, column: str) -> str:
        """Whether a line's bytes are not UTF-8: Spark reads them as they are (and has 4.0's
        `is_valid_utf8`); DuckDB rejects such a line before this query, and its engine counts
        the rejects under the same reason."""
        return "false" if self.name == "duckdb" else f"NOT is_valid_utf8({column})"

    def before_query(self, column: str) -> str:
        if self.name == "duckdb":
            return f"split_part({column}, '?', 1)"
        return f"substring_index({column}, '?', 1)"


DUCKDB = Dialect("duckdb", backslash_escapes=False)
SPARK = Dialect("spark", backslash_escapes=True)


def requests_query(dialect: Dialect, form: LineFormat, mapping: ClientMapping) -> str:
    """Distinct requests, with counts, from the `lines` table (one `line` column)."""
    field = _fields(dialect, form)
    empty, dash = (dialect.literal(text) for text in NO_VALUE)
    value = f"nullif(nullif(trim({field['client']}), {empty}), {dash})"
    if mapping.matches:
        cases = " ".join(
            f"WHEN instr(client_value, {dialect.literal(part)}) > 0 THEN {dialect.literal(client)}"
            for part, client in mapping.matches
        )
        client = f"CASE {cases} END"
    else:
        client = "client_value"
    if form.time_style == COMMON_LOG:  # 06/Mar/2023:16:00:00 +0000 -> 06/Mar/2023:16:00 +0000
        minute = "concat(substr(t, 1, 17), substr(t, 21))"
    else:
        minute = f"concat(substr(t, 1, 16), regexp_extract(t, {dialect.literal(_TIME_ZONE)}, 1))"
    return f"""
WITH fields AS (
  SELECT {field["time"]} AS t, {field["method"]} AS method, {field["target"]} AS target,
         {value} AS client_value, {dialect.not_utf8("line")} AS garbled
  FROM lines WHERE line IS NOT NULL AND line <> ''
), requests AS (
  SELECT
    CASE WHEN garbled THEN '{NOT_UTF8}'
         WHEN coalesce(t, '') = '' OR coalesce(method, '') = '' OR coalesce(target, '') = ''
              OR length(method) > {MAX_METHOD} THEN '{UNPARSED}'
         WHEN ({client}) IS NULL THEN '{NO_CLIENT}' END AS reason,
    {client} AS client, method, {dialect.before_query("target")} AS path, {minute} AS minute_raw
  FROM fields
)
SELECT reason,
       CASE WHEN reason IS NULL THEN client END AS client,
       CASE WHEN reason IS NULL THEN method END AS method,
       CASE WHEN reason IS NULL THEN path END AS path,
       CASE WHEN reason IS NULL THEN minute_raw END AS minute_raw,
       count(*) AS requests
FROM requests
GROUP BY 1, 2, 3, 4, 5
"""


def outcomes_query(table: str = "decided") -> str:
    """The decided rows summed per breakdown, with the smallest example request of each."""
    keys = ", ".join(OUTCOME_KEYS)
    return f"SELECT {keys}, min(example) AS example, sum(requests) AS requests FROM {table} GROUP BY {keys}"


def _fields(dialect: Dialect, form: LineFormat) -> dict[str, str]:
    """SQL for the time, method, target and client-field value of a line."""
    if form.json:
        return {role: dialect.json_field("line", key) for role, key in form.keys}
    pattern = dialect.literal(form.pattern)
    found = {role: f"regexp_extract(line, {pattern}, {group})" for role, group in form.groups}
    if "request" in found:
        request = found.pop("request")
        found["method"] = f"regexp_extract({request}, {dialect.literal(_METHOD)}, 1)"
        found["target"] = f"regexp_extract({request}, {dialect.literal(_TARGET)}, 1)"
    return found
