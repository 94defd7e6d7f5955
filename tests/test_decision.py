"""decide(): path, then key, then route, then entitlement; and the DecisionTable it reads."""

from __future__ import annotations

import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import TWITTER_BODIES, Decision, DecisionTable, decide, preflight_method
from gateway.core.planfile import parse_plan_set
from gateway.core.rules import (
    NO_ROUTE,
    STATUS_BAD_PATH,
    STATUS_NO_ROUTE,
    STATUS_NOT_ENTITLED,
    STATUS_UNAUTHENTICATED,
    Rule,
    RuleKind,
    not_authenticated,
    path_refused,
)
from tests.test_compiler import key_for, small_plan_set


def table() -> DecisionTable:
    # Compiled per test, not at import, so that it is always built by the code under test.
    return compile_plan_set(small_plan_set())


def bearer(client_id: str) -> list[bytes]:
    return [b"Bearer " + key_for(client_id)]


def test_each_step_refuses_with_its_status_and_rule_before_the_next_one_runs() -> None:
    decisions = table()
    assert decide(decisions, "GET", "/2/tweets/%2F", []) == Decision(
        STATUS_BAD_PATH, path_refused("encoded-slash")
    )
    assert decide(decisions, "GET", "/2/tweets/1", []) == Decision(
        STATUS_UNAUTHENTICATED, not_authenticated("missing")
    )
    assert decide(decisions, "GET", "/2/tweets/1", [b"Bearer nope"]) == Decision(
        STATUS_UNAUTHENTICATED, not_authenticated("unknown-key")
    )
    unrouted = decide(decisions, "DELETE", "/2/tweets/1", bearer("bot"))
    assert (unrouted.status, unrouted.rule, unrouted.endpoint) == (STATUS_NO_ROUTE, NO_ROUTE, None)
    assert unrouted.client is not None and unrouted.client.id == "bot"


def test_a_denial_carries_the_client_the_endpoint_and_the_verdict_that_denied() -> None:
    decisions = table()
    denied = decide(decisions, "GET", "/2/tweets/1", bearer("bot"))
    bot = decisions.clients_by_id["bot"]
    assert (denied.status, denied.rule, denied.path) == (
        STATUS_NOT_ENTITLED,
        Rule(RuleKind.DENY, plan="free"),
        None,
    )
    assert denied.client is bot
    assert denied.endpoint == decisions.endpoints[0]
    assert denied.verdict is bot.verdicts[0]


def test_an_allowed_request_is_forwarded_on_its_own_path_when_it_is_canonical() -> None:
    decisions = table()
    allowed = decide(decisions, "GET", "/2/links/AbC", bearer("pro"))
    assert (allowed.status, allowed.rule, allowed.path) == (
        None,
        Rule(RuleKind.GRANT, plan="basic", pattern="links.*"),
        "/2/links/AbC",
    )
    assert allowed.verdict is decisions.clients_by_id["pro"].verdicts[2]


@pytest.mark.parametrize(
    ("raw", "forwarded"),
    [
        ("//", "/"),
        ("///", "/"),
        ("/", "/"),
        ("/2/links/a/", "/2/links/a"),
        ("/2//links/a", "/2/links/a"),
        ("/2/LINKS/a", "/2/links/a"),
        ("/2/%6Cinks/%41", "/2/links/A"),
    ],
)
def test_a_normalized_spelling_is_forwarded_on_the_canonical_path(raw: str, forwarded: str) -> None:
    decision = decide(table(), "GET", raw, bearer("web"))
    assert (decision.status, decision.path) == (None, forwarded)


def test_a_given_client_skips_authentication() -> None:
    decisions = table()
    web = decisions.clients_by_id["web"]
    decision = decide(decisions, "GET", "/2/tweets/1", [], client=web)
    assert (decision.status, decision.rule, decision.client) == (
        None,
        Rule(RuleKind.EXEMPT, selector="first_party"),
        web,
    )


def test_the_table_indexes_clients_by_id_and_by_key() -> None:
    decisions = table()
    assert [client.id for client in decisions.clients] == list(decisions.clients_by_id)
    assert all(decisions.keys.find(key_for(client.id)) is client for client in decisions.clients)
    assert decisions.clients_by_id["bot"].verdicts[1].allowed is True
    assert decisions.clients_by_id["bot"].verdicts[0].allowed is False
    assert decisions.clients_by_id["reader"].verdicts[1].allowed is False
    assert decisions.clients_by_id["web"].verdicts[3].allowed is True


# --- real route shapes: public endpoints, HEAD, CORS preflight, rotated keys ---------------------

REALISTIC_PLAN = """
schema = 1
version = "realistic"

[policy]
default_plan = "free"
cors_preflight = true

[plans.free]
tier = 0
grants = [{ endpoints = ["items.*", "files.*", "users.*"] }]

[[endpoints]]
id = "items.featured"
method = "GET"
path = "/v1/items/featured"
surface = "items"

[[endpoints]]
id = "items.by_number"
method = "GET"
path = "/v1/items/{n:int}"
surface = "items"

[[endpoints]]
id = "items.lookup"
method = "GET"
path = "/v1/items/{id}"
surface = "items"

[[endpoints]]
id = "files.read"
method = "GET"
path = "/v1/files/{rest:path}"
surface = "files"

[[endpoints]]
id = "users.me"
method = "GET"
path = "/2/users/me"
surface = "users"

[[endpoints]]
id = "users.lookup"
method = "GET"
path = "/2/users/{id}"
surface = "users"

[[endpoints]]
id = "health"
method = "GET"
path = "/healthz"
surface = "ops"
public = true

[[endpoints]]
id = "items.create"
method = "POST"
path = "/v1/items"
surface = "items"

[clients.app]
class = "third_party"
first_party = false
keys = ["app-key-new-0002", "app-key-old-0001"]

[clients.nobody]
class = "third_party"
first_party = false
key = "nobody-key-0001"
plan = "none"

[plans.none]
tier = 1
grants = [{ endpoints = ["health"] }]

[responses.not_entitled]
message = "Your plan does not include this endpoint"
code = 1001
"""


def realistic_table() -> DecisionTable:
    return compile_plan_set(parse_plan_set(REALISTIC_PLAN, "realistic.toml"))


def app_key(which: str = "new") -> list[bytes]:
    return [f"Bearer app-key-{which}-{'0002' if which == 'new' else '0001'}".encode()]


@pytest.mark.parametrize(
    ("path", "endpoint", "forwarded"),
    [
        ("/v1/items/featured", "items.featured", "/v1/items/featured"),
        ("/v1/items/FEATURED", "items.featured", "/v1/items/featured"),
        ("/v1/items/42", "items.by_number", "/v1/items/42"),
        ("/v1/items/4.2", "items.lookup", "/v1/items/4.2"),
        ("/v1/items/hello%20world", "items.lookup", "/v1/items/hello world"),
        ("/v1/items/jos%C3%A9", "items.lookup", "/v1/items/jos\u00e9"),
        ("/v1/files/a/b%20c/d.txt", "files.read", "/v1/files/a/b c/d.txt"),
        ("/2/users/me", "users.me", "/2/users/me"),
        ("/2/users/12", "users.lookup", "/2/users/12"),
    ],
)
def test_the_most_specific_template_decides_and_the_value_is_forwarded_decoded(
    path: str, endpoint: str, forwarded: str
) -> None:
    decision = decide(realistic_table(), "GET", path, app_key())
    assert decision.status is None and decision.endpoint is not None
    assert (decision.endpoint.id, decision.path) == (endpoint, forwarded)


def test_a_catch_all_needs_at_least_one_segment() -> None:
    decision = decide(realistic_table(), "GET", "/v1/files/", app_key())
    assert (decision.status, decision.rule.text) == (STATUS_NO_ROUTE, "route:none")


def test_every_key_of_a_rotated_client_authenticates_it() -> None:
    decisions = realistic_table()
    new = decide(decisions, "GET", "/v1/items/1", app_key("new"))
    old = decide(decisions, "GET", "/v1/items/1", app_key("old"))
    assert new.client is not None and old.client is not None
    assert new.client.id == old.client.id == "app"
    assert len(decisions.keys) == 3


def test_a_public_endpoint_is_forwarded_without_a_key_by_rule_public() -> None:
    decision = decide(realistic_table(), "GET", "/healthz", [])
    assert (decision.status, decision.rule.text, decision.client, decision.path) == (
        None,
        "public",
        None,
        "/healthz",
    )
    assert decision.endpoint is not None and decision.endpoint.id == "health"


def test_a_public_endpoint_with_a_known_key_is_decided_as_that_client_and_never_refused() -> None:
    decision = decide(realistic_table(), "GET", "/healthz", [b"Bearer nobody-key-0001"])
    assert (decision.status, decision.rule.text) == (None, "public")
    assert decision.client is not None and decision.client.id == "nobody"


@pytest.mark.parametrize(
    "authorization", [[b"Bearer not-a-known-key"], [b"Basic abc"], [b"Bearer a", b"Bearer b"]]
)
def test_a_public_endpoint_ignores_a_key_it_cannot_use(authorization: list[bytes]) -> None:
    decision = decide(realistic_table(), "GET", "/healthz", authorization)
    assert (decision.status, decision.rule.text, decision.client) == (None, "public", None)


def test_a_public_path_still_refuses_an_ambiguous_spelling() -> None:
    assert decide(realistic_table(), "GET", "/healthz/%2e%2e", []).status == STATUS_BAD_PATH


def test_head_is_decided_as_the_get_it_mirrors() -> None:
    decisions = realistic_table()
    head = decide(decisions, "HEAD", "/v1/items/42", app_key())
    get = decide(decisions, "GET", "/v1/items/42", app_key())
    assert (head.status, head.rule.text, head.endpoint, head.path) == (
        get.status,
        get.rule.text,
        get.endpoint,
        get.path,
    )
    denied = decide(decisions, "HEAD", "/v1/items/42", [b"Bearer nobody-key-0001"])
    assert (denied.status, denied.rule.text) == (STATUS_NOT_ENTITLED, "plan:none/deny")


def test_a_cors_preflight_is_forwarded_without_a_key_as_the_method_it_asks_about() -> None:
    decision = decide(realistic_table(), "OPTIONS", "/v1/items", [], preflight="POST")
    assert (decision.status, decision.rule.text, decision.client) == (None, "cors:preflight", None)
    assert decision.endpoint is not None and decision.endpoint.id == "items.create"
    unrouted = decide(realistic_table(), "OPTIONS", "/v1/nowhere", [], preflight="GET")
    assert (unrouted.status, unrouted.rule.text) == (STATUS_NO_ROUTE, "route:none")


def test_without_the_policy_a_preflight_is_an_ordinary_options_request() -> None:
    plan_set = parse_plan_set(REALISTIC_PLAN.replace("cors_preflight = true", ""), "realistic.toml")
    decision = decide(compile_plan_set(plan_set), "OPTIONS", "/v1/items", [], preflight="POST")
    assert (decision.status, decision.rule.text) == (STATUS_UNAUTHENTICATED, "auth:missing")
    keyed = decide(compile_plan_set(plan_set), "OPTIONS", "/v1/items", app_key(), preflight="POST")
    assert (keyed.status, keyed.rule.text) == (STATUS_NO_ROUTE, "route:none")


@pytest.mark.parametrize(
    ("headers", "method"),
    [
        ([(b"Origin", b"https://a.example"), (b"Access-Control-Request-Method", b"post")], "POST"),
        ([(b"origin", b"https://a.example")], None),
        ([(b"access-control-request-method", b"GET")], None),
        ([], None),
    ],
)
def test_a_preflight_is_recognised_only_by_both_of_its_headers(
    headers: list[tuple[bytes, bytes]], method: str | None
) -> None:
    assert preflight_method(headers) == method


def test_the_table_carries_the_refusal_bodies_of_its_plan_file() -> None:
    decision = decide(realistic_table(), "GET", "/v1/items/1", [b"Bearer nobody-key-0001"])
    assert decision.status == STATUS_NOT_ENTITLED
    assert decision.bodies[STATUS_NOT_ENTITLED] == (
        b'{"errors":[{"message":"Your plan does not include this endpoint","code":1001}]}'
    )
    assert decision.bodies[STATUS_UNAUTHENTICATED] == TWITTER_BODIES[STATUS_UNAUTHENTICATED]


def test_a_public_endpoint_keeps_the_plan_of_the_client_whose_key_is_known() -> None:
    # The client's own verdict (plan "none"), not the anonymous one: metrics and quotas follow it.
    known = decide(realistic_table(), "GET", "/healthz", [b"Bearer nobody-key-0001"])
    anonymous = decide(realistic_table(), "GET", "/healthz", [])
    assert known.verdict is not None and anonymous.verdict is not None
    assert (known.verdict.plan, anonymous.verdict.plan) == ("none", None)


def test_a_public_endpoint_decided_for_a_given_client_ignores_the_key_sent() -> None:
    # `gw467 explain --client`: the client named wins over whatever Authorization carries.
    decisions = realistic_table()
    decision = decide(decisions, "GET", "/healthz", app_key(), client=decisions.clients_by_id["nobody"])
    assert decision.client is not None and decision.client.id == "nobody"


@pytest.mark.parametrize(
    ("method", "path", "authorization", "preflight"),
    [
        ("GET", "/healthz", [], None),
        ("GET", "/healthz", [b"Bearer nobody-key-0001"], None),
        ("OPTIONS", "/v1/items", [], "POST"),
        ("OPTIONS", "/v1/nowhere", [], "GET"),
        ("OPTIONS", "/v1/%2e%2e/items", [], "POST"),
    ],
)
def test_public_and_preflight_decisions_carry_the_plan_files_refusal_bodies(
    method: str, path: str, authorization: list[bytes], preflight: str | None
) -> None:
    # A forwarded decision may still be refused later (a quota), and a refused preflight is
    # answered at once: both with the bodies of the file in force, never Twitter's defaults.
    decisions = realistic_table()
    decision = decide(decisions, method, path, authorization, preflight=preflight)
    assert decision.bodies is decisions.bodies
    assert decision.bodies[STATUS_NOT_ENTITLED] != TWITTER_BODIES[STATUS_NOT_ENTITLED]


@pytest.mark.parametrize(
    ("path", "authorization", "status"),
    [
        ("/v1/%2e%2e/items", [b"Bearer app-key-new-0002"], STATUS_BAD_PATH),
        ("/v1/items/1", [], STATUS_UNAUTHENTICATED),
        ("/v1/items/1", [b"Basic abc"], STATUS_UNAUTHENTICATED),
        ("/v1/items/1", [b"Bearer not-a-known-key"], STATUS_UNAUTHENTICATED),
    ],
)
def test_refusals_before_a_client_is_known_carry_the_plan_files_bodies(
    path: str, authorization: list[bytes], status: int
) -> None:
    decisions = realistic_table()
    decision = decide(decisions, "GET", path, authorization)
    assert decision.status == status
    assert decision.bodies is decisions.bodies


@pytest.mark.parametrize(
    ("path", "authorization", "status"),
    [
        ("/v1/nowhere", [b"Bearer nobody-key-0001"], STATUS_NO_ROUTE),
        ("/v1/items/1", [b"Bearer nobody-key-0001"], STATUS_NOT_ENTITLED),
        # Allowed, and still refused later if its quota runs out: a 429 in the file's own words.
        ("/v1/items/1", [b"Bearer app-key-new-0002"], None),
    ],
)
def test_decisions_for_a_known_client_carry_the_plan_files_bodies(
    path: str, authorization: list[bytes], status: int | None
) -> None:
    decisions = realistic_table()
    decision = decide(decisions, "GET", path, authorization)
    assert decision.status == status
    assert decision.bodies is decisions.bodies
