"""Compiling a PlanSet: each client's profile becomes one verdict per endpoint, each plan a bitset."""

from __future__ import annotations

import hashlib

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import CompiledClient, DecisionTable, Verdict
from gateway.core.plans import Client, Endpoint, Grant, Plan, PlanSet, Policy, Quota
from gateway.core.rules import Rule, RuleKind

FREE_QUOTA = Quota(50, 900)
BASIC_QUOTA = Quota(600, 900)


def key_for(client_id: str) -> bytes:
    return f"key-{client_id}".encode()


def small_plan_set() -> PlanSet:
    """Four endpoints, three plans (one granting nothing) and one client of each kind.

    `web` is first-party and exempt although its record names a plan; `bot` is on
    free, `pro` on basic, `idle` on a plan granting nothing; `reader` has no plan
    and there is no default plan.
    """
    endpoints = (
        Endpoint("tweets.lookup", "GET", "/2/tweets/{id}", "tweets"),
        Endpoint("tweets.create", "POST", "/2/tweets", "tweets"),
        Endpoint("links.resolve", "GET", "/2/links/{code}", "links"),
        Endpoint("home", "GET", "/", "home"),
    )
    plans = (
        Plan("free", 0, (Grant(("tweets.create",)),), FREE_QUOTA),
        Plan("basic", 1, (Grant(("tweets.*", "tweets.create")), Grant(("links.*",))), BASIC_QUOTA),
        Plan("nothing", 0, (Grant(("tweets.*",), methods=("DELETE",)),)),
    )
    clients = tuple(
        Client(client_id, client_class, first_party, (hashlib.sha256(key_for(client_id)).hexdigest(),), plan)
        for client_id, client_class, first_party, plan in [
            ("web", "web", True, "basic"),
            ("bot", "third_party", False, "free"),
            ("pro", "third_party", False, "basic"),
            ("idle", "third_party", False, "nothing"),
            ("reader", "third_party", False, None),
        ]
    )
    return PlanSet("small-1", endpoints, plans, clients, Policy(exempt=("first_party",)))


def compiled(table: DecisionTable, client_id: str) -> CompiledClient:
    (client,) = [client for client in table.clients if client.id == client_id]
    return client


def test_plan_grants_set_bit_i_exactly_when_the_plan_grants_endpoint_i() -> None:
    table = compile_plan_set(small_plan_set())
    assert table.plan_grants == {"free": 0b0010, "basic": 0b0111, "nothing": 0}


def test_an_exempt_client_is_judged_by_no_plan_even_when_its_record_names_one() -> None:
    web = compiled(compile_plan_set(small_plan_set()), "web")
    assert (web.plan, web.exemption) == (None, "first_party")
    assert web.verdicts == (Verdict(Rule(RuleKind.EXEMPT, selector="first_party")),) * 4


def test_a_client_on_a_plan_is_compiled_with_that_plan_its_identity_and_key_digest() -> None:
    bot = compiled(compile_plan_set(small_plan_set()), "bot")
    assert (bot.plan, bot.exemption) == ("free", None)
    assert (bot.id, bot.client_class, bot.first_party) == ("bot", "third_party", False)
    assert bot.key_digests == (hashlib.sha256(key_for("bot")).digest(),)


def test_a_grant_is_named_by_the_first_pattern_of_the_plan_that_admits_the_endpoint() -> None:
    table = compile_plan_set(small_plan_set())
    assert compiled(table, "pro").verdicts[:3] == (
        Verdict(Rule(RuleKind.GRANT, plan="basic", pattern="tweets.*"), BASIC_QUOTA),
        Verdict(Rule(RuleKind.GRANT, plan="basic", pattern="tweets.*"), BASIC_QUOTA),
        Verdict(Rule(RuleKind.GRANT, plan="basic", pattern="links.*"), BASIC_QUOTA),
    )
    assert compiled(table, "bot").verdicts[1] == Verdict(
        Rule(RuleKind.GRANT, plan="free", pattern="tweets.create"), FREE_QUOTA
    )


def test_a_denial_names_the_plan_that_denied_and_carries_its_quota() -> None:
    bot = compiled(compile_plan_set(small_plan_set()), "bot")
    denied = Verdict(Rule(RuleKind.DENY, plan="free"), FREE_QUOTA)
    assert [bot.verdicts[i] for i in (0, 2, 3)] == [denied] * 3
    assert all(bot.verdicts[i].allowed is False for i in (0, 2, 3))


def test_a_plan_whose_grants_match_no_endpoint_denies_everything() -> None:
    idle = compiled(compile_plan_set(small_plan_set()), "idle")
    assert idle.verdicts == (Verdict(Rule(RuleKind.DENY, plan="nothing")),) * 4


def test_a_client_with_no_plan_and_no_default_plan_is_denied_everything_by_plan_none() -> None:
    reader = compiled(compile_plan_set(small_plan_set()), "reader")
    assert (reader.plan, reader.exemption) == (None, None)
    assert reader.verdicts == (Verdict(Rule(RuleKind.DENY)),) * 4
    assert all(verdict.allowed is False for verdict in reader.verdicts)


def test_the_default_plan_applies_to_a_client_whose_record_names_none() -> None:
    plan_set = small_plan_set()
    with_default = PlanSet(
        plan_set.version,
        plan_set.endpoints,
        plan_set.plans,
        plan_set.clients,
        Policy(("first_party",), "free"),
    )
    reader = compiled(compile_plan_set(with_default), "reader")
    assert reader.plan == "free"
    assert reader.verdicts == compiled(compile_plan_set(plan_set), "bot").verdicts


def test_the_table_keeps_every_client_in_file_order_and_the_plan_set_it_came_from() -> None:
    plan_set = small_plan_set()
    table = compile_plan_set(plan_set)
    assert [client.id for client in table.clients] == ["web", "bot", "pro", "idle", "reader"]
    assert table.plan_set is plan_set and table.version == "small-1"
    assert table.endpoints == plan_set.endpoints
