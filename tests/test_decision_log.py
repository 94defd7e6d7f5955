"""The decision log: one JSON line per request on `gw467.decisions`, off until configured, never the key."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from gateway.core.plans import plan_hash
from gateway.request_path.decision_log import DECISIONS, OPERATIONS, send_logs_to
from tests.conftest import BILLING, DEMO_KEYS
from tests.processes import gw467_serve
from tests.test_middleware import RecordingApp, gateway_for, send

NOW = 1_678_118_400.0  # 2023-03-06 16:00:00 UTC


@pytest.fixture
def log() -> Iterator[io.StringIO]:
    stream = io.StringIO()
    handler = send_logs_to(stream)
    yield stream
    for logger in (DECISIONS, OPERATIONS):
        logger.removeHandler(handler)
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_each_request_is_one_json_line_with_who_what_rule_status_and_duration(log: io.StringIO) -> None:
    app = gateway_for(BILLING, RecordingApp(), clock=lambda: NOW)
    send(app, "GET", "/2/links/t3st", "tco")
    send(app, "POST", "/2/tweets", "sunrise-bot")
    send(app, "GET", "/2/tweets/12")
    denied, granted, anonymous = lines(log)
    assert denied == {
        "time": "2023-03-06T16:00:00.000Z",
        "client": "tco",
        "class": "tco",
        "method": "GET",
        "path": "/2/links/t3st",
        "endpoint": "links.resolve",
        "rule": "plan:free/deny",
        "status": 467,
        "duration_ms": denied["duration_ms"],
        "plan_version": plan_hash(Path(BILLING).read_text()),
    }
    assert isinstance(denied["duration_ms"], float) and denied["duration_ms"] >= 0
    assert (granted["client"], granted["rule"], granted["status"]) == (
        "sunrise-bot",
        "plan:free/grant:tweets.create",
        200,
    )
    assert (anonymous["client"], anonymous["class"], anonymous["rule"], anonymous["status"]) == (
        None,
        None,
        "auth:missing",
        401,
    )


def test_each_line_holds_the_path_as_decided_without_its_query_string(log: io.StringIO) -> None:
    """The logged path is the one the decision was taken on, so deciding it again gives the same answer."""
    app = gateway_for(BILLING, RecordingApp())
    send(app, "POST", "/2//Tweets?access_token=secret", "sunrise-bot")
    send(app, "GET", "/2/links/t%33st?x=1", "tco")
    send(app, "GET", "/2/nowhere/%2F", "web")
    respelled, refused, ambiguous = lines(log)
    assert (respelled["method"], respelled["path"], respelled["status"]) == ("POST", "/2/tweets", 200)
    assert (refused["path"], refused["status"]) == ("/2/links/t3st", 467)
    assert (ambiguous["path"], ambiguous["status"]) == ("/2/nowhere/%2F", 400)
    assert "secret" not in log.getvalue()


def test_the_log_never_holds_a_key_or_the_authorization_header(log: io.StringIO) -> None:
    app = gateway_for(BILLING, RecordingApp())
    for client in DEMO_KEYS:
        send(app, "GET", "/2/tweets/12", client)
    send(app, "GET", "/2/tweets/12", headers=[(b"authorization", b"Bearer not-a-known-key")])
    text = log.getvalue()
    assert len(text.splitlines()) == len(DEMO_KEYS) + 1
    assert "Bearer" not in text and "not-a-known-key" not in text
    assert not [key for key in DEMO_KEYS.values() if key in text]


def test_nothing_is_logged_until_the_logger_is_configured(caplog: pytest.LogCaptureFixture) -> None:
    app = gateway_for(BILLING, RecordingApp())
    with caplog.at_level(logging.WARNING):
        send(app, "GET", "/2/links/t3st", "tco")
    assert not DECISIONS.isEnabledFor(logging.INFO)
    assert [record for record in caplog.records if record.name == DECISIONS.name] == []


def test_a_handler_of_the_applications_own_gets_the_fields_as_a_record_attribute(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = gateway_for(BILLING, RecordingApp())
    with caplog.at_level(logging.INFO, logger=DECISIONS.name):
        send(app, "GET", "/2/links/t3st", "tco")
    (record,) = [record for record in caplog.records if record.name == DECISIONS.name]
    assert record.decision["rule"] == "plan:free/deny"  # type: ignore[attr-defined]
    assert json.loads(record.getMessage()) == record.decision  # type: ignore[attr-defined]


def test_decision_log_off_still_writes_operations(log: io.StringIO) -> None:
    stream = io.StringIO()
    handler = send_logs_to(stream, decisions=False)
    try:
        send(gateway_for(BILLING, RecordingApp()), "GET", "/2/links/t3st", "tco")
        OPERATIONS.info("gw467: an operation")
    finally:
        DECISIONS.removeHandler(handler)
        OPERATIONS.removeHandler(handler)
    assert stream.getvalue() == "gw467: an operation\n"


@pytest.mark.slow
def test_gw467_serve_logs_decisions_to_stderr_unless_told_not_to(tmp_path: Path) -> None:
    with gw467_serve(BILLING, tmp_path) as server:
        httpx.get(f"{server.base}/2/links/t3st", headers={"Authorization": "Bearer gw467-demo-tco"})
        log = server.wait_for_log('"rule":"plan:free/deny"')
    (line,) = [line for line in log.splitlines() if line.startswith("{")]
    assert json.loads(line)["status"] == 467 and "gw467-demo-tco" not in log
    with gw467_serve(BILLING, tmp_path, "--no-decision-log") as server:
        assert httpx.get(f"{server.base}/2/links/t3st").status_code == 401
    assert "{" not in server.log_text()
