"""Lost and gained access, the one definition: judged on concrete requests, by the side that had it."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import DecisionTable
from gateway.core.planfile import load_plan_set, sha256_hex
from gateway.core.plans import Client, Endpoint, Grant, Plan, PlanSet, Policy
from gateway.safety.access import GAINED, LOST, access_changes, first_party_losses, lost_access
from gateway.verification.planfiles import dump_plan_set
from tests.conftest import BASELINE

LOOKUP = Endpoint("users.lookup", "GET", "/users/{id}", "users")
WRITE = Endpoint("notes.write", "POST", "/notes", "notes")


def plan_set(
    endpoints: tuple[Endpoint, ...] = (LOOKUP, WRITE),
    grants: tuple[str, ...] = ("users.*",),
    app_first_party: bool = True,
    exempt: tuple[str, ...] = ("first_party",),
) -> PlanSet:
    """`app` (first-party unless told) and `bot` (third-party); both on `reader` unless exempt."""
    clients = (
        Client("app", "app", app_first_party, (sha256_hex("key-app"),), plan="reader"),
        Client("bot", "bot", False, (sha256_hex("key-bot"),), plan="reader"),
    )
    plans = (Plan("reader", 0, (Grant(grants),)),)
    return PlanSet("v", endpoints, plans, clients, Policy(exempt=exempt))


def table(plans: PlanSet) -> DecisionTable:
    return compile_plan_set(plans)


def changes(old: PlanSet, new: PlanSet) -> set[tuple[str, str, str]]:
    return {(c.client_id, c.endpoint_id, c.change) for c in access_changes(table(old), table(new))}


def test_a_parameter_renamed_in_a_template_loses_nothing() -> None:
    respelled = dataclasses.replace(LOOKUP, path="/users/{user_id}")
    assert changes(plan_set(), plan_set(endpoints=(respelled, WRITE))) == set()


def test_an_endpoint_renamed_under_a_glob_that_still_covers_it_loses_nothing() -> None:
    renamed = dataclasses.replace(LOOKUP, id="users.get")
    assert changes(plan_set(), plan_set(endpoints=(renamed, WRITE))) == set()


def test_a_changed_template_is_lost_by_every_client_that_reached_it_though_its_id_is_kept() -> None:
    moved = dataclasses.replace(LOOKUP, path="/people/{id}")
    found = changes(plan_set(), plan_set(endpoints=(moved, WRITE)))
    assert {c for c in found if c[2] == LOST} == {
        ("app", "users.lookup", LOST),
        ("bot", "users.lookup", LOST),
    }
    losses = lost_access(table(plan_set()), table(plan_set(endpoints=(moved, WRITE))))
    assert {(c.request, c.rule_after) for c in losses} == {("GET /users/gw467-probe", "route:none")}


def test_a_changed_method_is_a_loss() -> None:
    posted = dataclasses.replace(LOOKUP, method="POST")
    losses = lost_access(table(plan_set()), table(plan_set(endpoints=(posted, WRITE))))
    assert {(c.client_id, c.endpoint_id, c.rule_after) for c in losses} == {
        ("app", "users.lookup", "route:none"),
        ("bot", "users.lookup", "route:none"),
    }


def test_a_new_literal_sibling_the_client_may_not_call_takes_those_requests_away() -> None:
    me = Endpoint("account.me", "GET", "/users/me", "account")
    losses = lost_access(
        table(plan_set()), table(plan_set(endpoints=(LOOKUP, WRITE, me), grants=("users.*",)))
    )
    assert [(c.client_id, c.endpoint_id, c.request, c.rule_after) for c in losses] == [
        ("bot", "users.lookup", "GET /users/me", "plan:reader/deny")
    ]


def test_a_client_first_party_in_old_is_a_first_party_loss_whatever_new_says_about_it() -> None:
    old = plan_set()
    new = plan_set(app_first_party=False)
    (loss,) = first_party_losses(table(old), table(new))
    assert (loss.client_id, loss.endpoint_id, loss.first_party) == ("app", "notes.write", True)
    assert str(loss) == (
        "first-party client 'app' (class app) loses 'notes.write': exempt:first_party -> plan:reader/deny"
    )


def test_a_narrowed_exemption_loses_what_the_plan_does_not_grant() -> None:
    old = plan_set()
    new = plan_set(exempt=("class:other",))
    assert changes(old, new) == {("app", "notes.write", LOST)}


def test_gains_are_described_by_the_side_that_has_them() -> None:
    old = plan_set(app_first_party=False, exempt=())
    new = plan_set()
    (gain,) = access_changes(table(old), table(new))
    assert (gain.client_id, gain.endpoint_id, gain.change, gain.first_party) == (
        "app",
        "notes.write",
        GAINED,
        True,
    )
    assert (gain.rule_before, gain.rule_after) == ("plan:reader/deny", "exempt:first_party")


def gw467(*argv: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", *map(str, argv)], capture_output=True, text=True, check=False
    )


def test_diff_and_verify_agree_that_removing_an_endpoint_first_party_clients_use_is_a_loss(
    tmp_path: Path,
) -> None:
    """The example of issue 9: diff said 1 and verify said 0; one definition gives one answer."""
    baseline = load_plan_set(BASELINE)
    plans = tuple(
        dataclasses.replace(
            plan,
            grants=tuple(
                dataclasses.replace(grant, endpoints=kept)
                for grant in plan.grants
                if (kept := tuple(p for p in grant.endpoints if p != "links.resolve"))
            ),
        )
        for plan in baseline.plans
    )
    removed = dataclasses.replace(
        baseline,
        version="without-links-resolve",
        endpoints=tuple(e for e in baseline.endpoints if e.id != "links.resolve"),
        plans=plans,
    )
    candidate = tmp_path / "without-links-resolve.toml"
    candidate.write_text(dump_plan_set(removed))
    diff = gw467("diff", BASELINE, candidate)
    verify = gw467("verify", BASELINE, candidate, "--examples", "5")
    assert (diff.returncode, verify.returncode) == (1, 1), (diff.stderr, verify.stderr)
    assert "7 first-party clients lose 7 grants" in diff.stdout.replace("\n", " ")
    assert "loses 'links.resolve': exempt:first_party -> route:none (7 first-party grants lost in all)" in (
        verify.stdout.replace("\n", " ")
    )
