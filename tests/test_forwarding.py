"""What the middleware forwards beside the path (issue 25): a method or URL override is refused
with 400 and a rule of its own, whatever the decision would have been; a client's `x-gw467-*`
header, in any spelling, never reaches the app; the app gets the headers the decision saw."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Receive, Scope, Send

from gateway.core.forwarding import (
    GATEWAY_NAMED,
    METHOD_NAMED,
    OTHER,
    URL_NAMED,
    header_kind,
    may_be_of_interest,
    query_overrides_method,
)
from gateway.fronts.inprocess import call_asgi
from gateway.fronts.middleware import EntitlementMiddleware
from tests.conftest import FIXED

BOT = (b"authorization", b"Bearer gw467-demo-sunrise-bot")  # free plan: POST /2/tweets granted


class Recorder:
    """An app that keeps the scope of every request it is given."""

    def __init__(self) -> None:
        self.scopes: list[Scope] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.scopes.append(scope)
        await send({"type": "http.response.start", "status": 201, "headers": []})
        await send({"type": "http.response.body", "body": b"created"})


def send_through(
    path: str, *headers: tuple[bytes, bytes], method: str = "POST"
) -> tuple[int, bytes, Recorder]:
    app = Recorder()
    response = asyncio.run(call_asgi(EntitlementMiddleware(app, FIXED), method, path, [BOT, *headers]))
    return response.status, dict(response.headers).get(b"x-gw467-rule", b""), app


def test_the_plain_request_is_granted_and_reaches_the_app() -> None:
    assert send_through("/2/tweets")[:2] == (201, b"plan:free/grant:tweets.create")


METHOD_OVERRIDES = [
    (b"x-http-method-override", b"GET"),
    (b"X-HTTP-Method-Override", b"GET"),
    (b"x-http-method", b"GET"),
    (b"x-method-override", b"DELETE"),
    (b"X_HTTP_Method_Override", b"GET"),
    (b"x_method_override", b"GET"),
]
URL_OVERRIDES = [
    (b"x-original-url", b"/2/users/7"),
    (b"X-Rewrite-URL", b"/2/users/7"),
    (b"x_original_url", b"/"),
]


@pytest.mark.parametrize("header", METHOD_OVERRIDES, ids=[name.decode() for name, _ in METHOD_OVERRIDES])
def test_a_method_override_header_is_refused_before_the_app(header: tuple[bytes, bytes]) -> None:
    status, rule, app = send_through("/2/tweets", header)
    assert (status, rule, app.scopes) == (400, b"path:method-override", [])


@pytest.mark.parametrize("header", URL_OVERRIDES, ids=[name.decode() for name, _ in URL_OVERRIDES])
def test_a_url_override_header_is_refused_before_the_app(header: tuple[bytes, bytes]) -> None:
    status, rule, app = send_through("/2/tweets", header)
    assert (status, rule, app.scopes) == (400, b"path:url-override", [])


@pytest.mark.parametrize(
    "query",
    [
        "_method=GET",
        "a=1&_method=GET",
        "_method=get",
        "%5Fmethod=GET",
        "_m%65thod=GET",
        ".method=GET",
        "_method[]=GET",
        "x=1;_method=PUT",
        "+_method=GET",
    ],
)
def test_method_in_the_query_is_refused_however_a_framework_would_read_it(query: str) -> None:
    status, rule, app = send_through(f"/2/tweets?{query}")
    assert (status, rule, app.scopes) == (400, b"path:method-override", [])


@pytest.mark.parametrize(
    "query", ["method=GET", "_methods=1", "x=_method", "__method=GET", "q=%5Fmethod", "_METHOD=GET"]
)
def test_other_queries_naming_method_pass(query: str) -> None:
    assert send_through(f"/2/tweets?{query}")[0] == 201


def test_the_override_is_refused_even_where_the_request_would_be_refused_otherwise() -> None:
    """The 400 comes before the decision: no key at all, and still the override's rule."""
    app = Recorder()
    headers = [(b"x-http-method-override", b"GET")]
    response = asyncio.run(call_asgi(EntitlementMiddleware(app, FIXED), "POST", "/2/tweets", headers))
    assert response.status == 400 and dict(response.headers)[b"x-gw467-rule"] == b"path:method-override"
    assert b"another method" in response.body


SPOOFED = [
    (b"x-gw467-client", b"web"),
    (b"X-Gw467-Plan", b"enterprise"),
    (b"X_Gw467_Client", b"web"),
    (b"x_gw467-class", b"first_party"),
    (b"X-GW467_RULE", b"exempt:first_party"),
]


def test_no_spelling_of_a_gw467_header_from_the_client_reaches_the_app() -> None:
    status, _, app = send_through("/2/tweets", *SPOOFED, (b"x-request-id", b"7"))
    assert status == 201
    (scope,) = app.scopes
    names = [name.lower().replace(b"_", b"-") for name, _ in scope["headers"]]
    assert not [name for name in names if name.startswith(b"x-gw467-")]
    assert (b"x-request-id", b"7") in scope["headers"] and BOT in scope["headers"]
    assert scope["state"]["gw467_client"].id == "sunrise-bot"


def test_the_app_gets_a_header_list_of_its_own_that_later_fields_do_not_reach() -> None:
    """A server that appends fields to the list it handed over (uvicorn's httptools, for chunk
    trailers arriving after the head) adds nothing to what the app reads."""
    app = Recorder()
    headers = [BOT]
    asyncio.run(
        EntitlementMiddleware(app, FIXED)(
            {
                "type": "http",
                "method": "POST",
                "path": "/2/tweets",
                "raw_path": b"/2/tweets",
                "query_string": b"",
                "headers": headers,
                "root_path": "",
            },
            _no_body,
            _discard,
        )
    )
    headers.append((b"authorization", b"Bearer gw467-demo-web"))
    (scope,) = app.scopes
    assert scope["headers"] == [BOT]


async def _no_body() -> dict[str, object]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def _discard(message: object) -> None:
    return None


@pytest.mark.parametrize(
    ("name", "kind"),
    [
        (b"x-gw467-client", GATEWAY_NAMED),
        (b"X_GW467_PLAN", GATEWAY_NAMED),
        (b"x-http-method", METHOD_NAMED),
        (b"X_Method_Override", METHOD_NAMED),
        (b"x-rewrite-url", URL_NAMED),
        (b"x-gw467", OTHER),
        (b"x-http-methods", OTHER),
        (b"x-forwarded-for", OTHER),
    ],
)
def test_header_kinds(name: bytes, kind: int) -> None:
    assert header_kind(name) == kind


@given(st.binary(max_size=60).filter(lambda query: b"method" not in query and b"%" not in query))
def test_a_query_that_cannot_spell_method_is_never_an_override(query: bytes) -> None:
    """A query with neither `method` nor a percent-escape has no key that reads `_method`."""
    assert not query_overrides_method(query)


@given(
    st.sampled_from(["_method", "%5Fmethod", "%5f%6De%74hod", ".method", "+_method", "_method[]"]),
    st.text(alphabet="abc=&", max_size=10),
    st.text(alphabet="abc=", max_size=10),
)
def test_a_method_key_is_found_wherever_it_sits_in_the_query(key: str, before: str, value: str) -> None:
    """`_method`, in any spelling a framework decodes to it, is found among any other pairs."""
    assert query_overrides_method(f"{before}&{key}={value}".encode())


NAME_STARTS = [
    b"x-",
    b"X_",
    b"x-gw467",
    b"x_GW467-",
    b"x-http-method",
    b"x-method-override",
    b"x-original-url",
]


@given(
    st.one_of(
        st.binary(min_size=1, max_size=30),
        st.tuples(st.sampled_from(NAME_STARTS), st.binary(max_size=12)).map(b"".join),
    )
)
def test_a_name_passed_over_by_the_byte_tests_is_never_of_interest(name: bytes) -> None:
    """`may_be_of_interest` only ever skips names `header_kind` calls OTHER."""
    if not may_be_of_interest(name):
        assert header_kind(name) == OTHER


@pytest.mark.parametrize(
    "name",
    [
        b"x-gw467-client",
        b"X_GW467_PLAN",
        b"x-http-method",
        b"X-HTTP-Method-Override",
        b"x_method_override",
        b"x-original-url",
        b"X-Rewrite-URL",
    ],
)
def test_every_name_of_interest_passes_the_byte_tests(name: bytes) -> None:
    assert may_be_of_interest(name) and header_kind(name) != OTHER
