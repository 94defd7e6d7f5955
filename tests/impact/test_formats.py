"""Log formats as patterns: nginx's log_format compiled to one, each format's client field, and
credential fields refused as a client field and never captured."""

from __future__ import annotations

import re

import pytest

from gateway.impact.formats import (
    COMMON_LOG,
    ISO,
    NGINX_COMBINED,
    FormatError,
    alb_format,
    line_format,
    nginx_format,
)
from tests.impact import logs


def captured(pattern: str, groups: tuple[tuple[str, int], ...], line: str) -> dict[str, str]:
    match = re.match(pattern, line)
    assert match is not None, line
    return {role: match.group(index) for role, index in groups}


def test_combined_captures_only_the_time_the_request_and_the_client_field() -> None:
    form = nginx_format()
    line = logs.nginx_combined(
        logs.traffic()[0][0], "web", "GET", "/2/tweets/12?x=1", agent='a "quoted" agent'
    )
    assert captured(form.pattern, form.groups, line) == {
        "time": "06/Mar/2023:08:59:30 -0800",
        "request": "GET /2/tweets/12?x=1 HTTP/1.1",
        "client": "web",
    }
    assert form.time_style == COMMON_LOG and form.client_field == "remote_user"


def test_a_users_log_format_reads_a_client_header_and_separate_method_and_uri() -> None:
    form = nginx_format(
        '$remote_addr "$http_cookie" $request_method $request_uri $time_iso8601 $http_x_client_id',
        "http_x_client_id",
    )
    found = captured(
        form.pattern,
        form.groups,
        '10.0.0.1 "session=SECRET" POST /2/tweets 2023-03-06T17:00:01+00:00 sunrise-bot',
    )
    assert found == {
        "method": "POST",
        "target": "/2/tweets",
        "time": "2023-03-06T17:00:01+00:00",
        "client": "sunrise-bot",
    }
    assert form.time_style == ISO


def test_the_user_agent_can_name_the_client() -> None:
    form = nginx_format(NGINX_COMBINED, "http_user_agent")
    line = logs.nginx_combined(logs.traffic()[0][0], "-", "GET", "/", agent=logs.USER_AGENTS["tco"])
    assert captured(form.pattern, form.groups, line)["client"] == logs.USER_AGENTS["tco"]


def test_an_alb_line_yields_its_time_request_and_user_agent() -> None:
    form = alb_format()
    moment, client, method, target = logs.traffic()[3]
    found = captured(form.pattern, form.groups, logs.alb(moment, logs.USER_AGENTS[client], method, target))
    assert found == {
        "time": moment.strftime("%Y-%m-%dT%H:%M:%S.123456Z"),
        "request": f"{method} https://api.example.com:443{target} HTTP/1.1",
        "client": logs.USER_AGENTS[client],
    }


@pytest.mark.parametrize(
    ("name", "field", "log_format", "message"),
    [
        ("nginx", "http_authorization", None, "credentials are never read"),
        ("nginx", "http_cookie", None, "credentials are never read"),
        ("envoy", "authorization", None, "credentials are never read"),
        ("nginx", None, "$remote_user $request", "no $time_local"),
        ("nginx", None, "$remote_user [$time_local]", "no $request"),
        ("nginx", "http_x_client_id", None, "no $http_x_client_id"),
        ("nginx", None, "plain text", "names no $variable"),
        ("alb", "x_client_id", None, "only by user_agent"),
        ("gw467", None, "$request", "--log-format is for nginx"),
    ],
)
def test_formats_that_cannot_be_used_are_refused_in_one_line(
    name: str, field: str | None, log_format: str | None, message: str
) -> None:
    with pytest.raises(FormatError, match=re.escape(message)):
        line_format(name, field, log_format)
