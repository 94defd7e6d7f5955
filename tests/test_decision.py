"""decide(): path, then key, then route, then entitlement; and the DecisionTable it reads."""

from __future__ import annotations

import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import Decision, DecisionTable, decide
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
