"""The DuckDB engine decides every line of each log format as the middleware decides the same
requests, counts what it cannot decide with the reason, and never reads a credential back."""

from __future__ import annotations

import gzip
import io
import logging
from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.impact.clients import ClientMapping, load_mapping
from gateway.impact.deciding import BAD_TIME, UNKNOWN_CLIENT
from gateway.impact.duckdb_engine import DuckDBEngine
from gateway.impact.engine import ImpactInput, OutcomeRow
from gateway.impact.formats import ALB, ENVOY, GW467, NGINX, line_format
from gateway.impact.query import NO_CLIENT, NOT_UTF8, UNPARSED
from gateway.impact.sources import log_files
from gateway.request_path.decision_log import DECISIONS, decisions_written_to
from tests.conftest import BASELINE, BILLING, DEMO_KEYS
from tests.impact import logs
from tests.impact.reference import expected_counts
from tests.test_middleware import RecordingApp, gateway_for, send

NO_MAPPING = ClientMapping()
CUSTOM_FORMAT = (
    '$remote_addr [$time_iso8601] "$request_method $request_uri" $status "$http_authorization" '
    "$http_x_client_id"
)


def run_impact(
    paths: list[str], form_name: str, mapping: ClientMapping = NO_MAPPING, **options: str
) -> list[OutcomeRow]:
    form = line_format(form_name, options.get("client_field") or mapping.field, options.get("log_format"))
    old, new = (compile_plan_set(load_plan_set(path)) for path in (BASELINE, BILLING))
    return DuckDBEngine().outcomes(ImpactInput(log_files(paths), form, mapping, old, new))


def decided_counts(rows: list[OutcomeRow]) -> Counter[tuple[str | None, str, str, str]]:
    counts: Counter[tuple[str | None, str, str, str]] = Counter()
    for row in rows:
        if row.reason is None:
            counts[(row.client, str(row.minute), str(row.old), str(row.new))] += row.requests
    return counts


def reasons(rows: list[OutcomeRow]) -> dict[str, int]:
    found: Counter[str] = Counter()
    for row in rows:
        if row.reason is not None:
            found[row.reason] += row.requests
    return dict(found)


def minute_of(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%MZ")


def expected() -> Counter[tuple[str | None, str, str, str]]:
    requests = [
        (minute_of(moment), client, method, target) for moment, client, method, target in logs.traffic()
    ]
    return expected_counts(BASELINE, BILLING, requests, DEMO_KEYS)


def write(path: Path, lines: list[str], compress: bool = False) -> str:
    text = "\n".join(lines) + "\n"
    if compress:
        path.write_bytes(gzip.compress(text.encode()))
    else:
        path.write_text(text)
    return str(path)


def test_a_gw467_decision_log_is_decided_as_the_middleware_decides_its_requests(tmp_path: Path) -> None:
    stream = io.StringIO()
    moments = iter(logs.traffic())
    clock_now = [0.0]
    app = gateway_for(BASELINE, RecordingApp(), clock=lambda: clock_now[0])
    with decisions_written_to(stream):
        for moment, client, method, target in moments:
            clock_now[0] = moment.timestamp()
            send(app, method, target, client)
    assert not DECISIONS.isEnabledFor(logging.INFO)
    path = write(tmp_path / "decisions.log", [*stream.getvalue().splitlines(), "not json", ""])
    rows = run_impact([path], GW467)
    assert decided_counts(rows) == expected()
    assert reasons(rows) == {UNPARSED: 1}
    assert "SECRET" not in repr(rows)


@pytest.mark.parametrize("compress", [False, True])
def test_an_nginx_combined_log_names_clients_by_remote_user(tmp_path: Path, compress: bool) -> None:
    lines = [
        logs.nginx_combined(moment, client, method, target)
        for moment, client, method, target in logs.traffic()
    ]
    extra = [
        logs.nginx_combined(datetime(2023, 3, 6, 17, 0), "-", "GET", "/2/tweets/12"),
        logs.nginx_combined(datetime(2023, 3, 6, 17, 0), "ghost", "GET", "/2/tweets/12"),
        '203.0.113.7 - web [31/Foo/2023:25:00:00 +0000] "GET /2/tweets/12 HTTP/1.1" 200 1 "-" "-"',
        "a line nginx never wrote",
    ]
    path = write(tmp_path / ("access.log.gz" if compress else "access.log"), [*lines, *extra], compress)
    rows = run_impact([path], NGINX)
    assert decided_counts(rows) == expected()
    assert reasons(rows) == {NO_CLIENT: 1, UNKNOWN_CLIENT: 1, BAD_TIME: 1, UNPARSED: 1}
    assert "SECRET" not in repr(rows)


def test_an_nginx_log_format_of_the_users_own_reads_a_client_id_header_and_never_the_authorization(
    tmp_path: Path,
) -> None:
    lines = [
        f'198.51.100.4 [{moment.isoformat()}] "{method} {target}" 200 "Bearer SECRET-{client}" {client}'
        for moment, client, method, target in logs.traffic()
    ]
    path = write(tmp_path / "custom.log", lines)
    rows = run_impact([path], NGINX, client_field="http_x_client_id", log_format=CUSTOM_FORMAT)
    assert decided_counts(rows) == expected()
    assert reasons(rows) == {}
    assert "SECRET" not in repr(rows) and "Bearer" not in repr(rows)


def test_an_alb_log_names_clients_by_user_agent_through_a_mapping_file(tmp_path: Path) -> None:
    mapping_file = tmp_path / "clients.toml"
    mapping_file.write_text(logs.MAPPING_TOML)
    lines = [
        logs.alb(moment, logs.USER_AGENTS[client], method, target)
        for moment, client, method, target in logs.traffic()
    ]
    lines.append(logs.alb(datetime(2023, 3, 6, 17, 0), "python-requests/2.31", "GET", "/2/tweets/12"))
    # A gzip file whose name does not say so is still read as gzip.
    path = write(tmp_path / "alb-log", lines, compress=True)
    rows = run_impact([path], ALB, load_mapping(mapping_file))
    assert decided_counts(rows) == expected()
    assert reasons(rows) == {NO_CLIENT: 1}


def test_an_envoy_json_log_reads_the_declared_key_and_a_directory_of_files(tmp_path: Path) -> None:
    traffic = logs.traffic()
    (tmp_path / "logs").mkdir()
    half = len(traffic) // 2
    for name, part in (("a.json", traffic[:half]), ("b.json", traffic[half:])):
        write(
            tmp_path / "logs" / name,
            [logs.envoy(moment, client, method, target) for moment, client, method, target in part],
        )
    rows = run_impact([str(tmp_path / "logs")], ENVOY, client_field="x_client_id")
    assert decided_counts(rows) == expected()
    assert "SECRET" not in repr(rows)


def test_each_distinct_request_keeps_its_count_and_an_example_without_the_query_string(
    tmp_path: Path,
) -> None:
    moment = datetime(2023, 3, 6, 17, 0, 5)
    lines = [
        logs.nginx_combined(moment, "tco", "GET", f"/2/links/t3st?access_token=SECRET-{n}")
        for n in range(250)
    ]
    rows = run_impact([write(tmp_path / "access.log", lines)], NGINX)
    assert [(row.client, row.endpoint, row.old, row.new, row.example, row.requests) for row in rows] == [
        ("tco", "links.resolve", "allowed", "467", "GET /2/links/t3st", 250)
    ]


def test_lines_that_are_not_utf8_are_counted_not_dropped(tmp_path: Path) -> None:
    good = logs.nginx_combined(datetime(2023, 3, 6, 17, 0), "tco", "GET", "/2/links/t3st")
    path = tmp_path / "access.log"
    path.write_bytes(
        b"\n".join([good.encode(), good.encode().replace(b"t3st", b"t\xff\xfest"), good.encode()]) + b"\n"
    )
    rows = run_impact([str(path)], NGINX)
    assert reasons(rows) == {NOT_UTF8: 1}
    assert sum(row.requests for row in rows if row.reason is None) == 2
