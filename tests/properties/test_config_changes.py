"""Lost access itself, cross-examined: on any config change, `gateway.safety.access` reports exactly
the (client, endpoint) pairs whose requests the reference evaluator forwards before and refuses after,
and `gw467 diff` and `gw467 verify` give the same verdict."""

from __future__ import annotations

import dataclasses
import re

from hypothesis import given
from hypothesis import strategies as st

from gateway.cli.diff import FIRST_PARTY_LOSS, fails
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import parse_plan_set
from gateway.core.plans import PlanSet
from gateway.safety.access import lost_access
from gateway.safety.diff import diff_tables
from gateway.testing import KeyedPlanSet, config_changes, keyed_plan_sets
from gateway.testing.planfiles import dump_plan_set
from gateway.testing.reference import reference_decide
from gateway.testing.verify import exhaustive_checks

_PARAMETER = re.compile(r"\{[^}]*\}")


def requests_of(template: str, catalogues: tuple[PlanSet, ...]) -> set[str]:
    """Concrete paths for `template`: each parameter filled with 'v', and with every literal that
    any template of the catalogues has at that position; written apart from gateway.safety.access."""
    parts = template.strip("/").split("/")
    literals: list[set[str]] = [set() for _ in parts]
    for plans in catalogues:
        for endpoint in plans.endpoints:
            theirs = endpoint.path.strip("/").split("/")
            if len(theirs) == len(parts):
                for position, part in enumerate(theirs):
                    if not _PARAMETER.fullmatch(part):
                        literals[position].add(part)
    paths = [[]]  # type: list[list[str]]
    for position, part in enumerate(parts):
        choices = {"v", *literals[position]} if _PARAMETER.fullmatch(part) else {part}
        paths = [[*prefix, choice] for prefix in paths for choice in sorted(choices)]
    return {"/" + "/".join(path) for path in paths}


def reference_losses(before: PlanSet, after: PlanSet) -> set[tuple[str, str]]:
    """(client, endpoint) pairs with a request the reference forwards to the endpoint before the
    change and refuses after it (or cannot decide at all: the client is gone)."""
    lost = set()
    after_ids = {client.id for client in after.clients}
    for client in before.clients:
        for endpoint in before.endpoints:
            for path in requests_of(endpoint.path, (before, after)):
                was = reference_decide(before, endpoint.method, path, [], client_id=client.id)
                if was.status is not None or was.endpoint_id != endpoint.id:
                    continue
                if client.id not in after_ids:
                    lost.add((client.id, endpoint.id))
                    continue
                now = reference_decide(after, endpoint.method, path, [], client_id=client.id)
                if now.status is not None:
                    lost.add((client.id, endpoint.id))
    return lost


@given(keyed_plan_sets(), st.data())
def test_lost_access_is_exactly_what_the_reference_evaluator_sees_lost(
    keyed: KeyedPlanSet, data: st.DataObject
) -> None:
    """For every generated plan set and every config change to it (removals, renames, respelled and
    moved templates, methods, reclassified classes, narrowed exemptions, plan swaps), lost_access()
    lists a (client, endpoint) pair if and only if the reference evaluator forwards some request of
    that client to that endpoint before the change and refuses it after."""
    before = keyed.plan_set
    what, after = data.draw(config_changes(before), label="change")
    reported = {
        (c.client_id, c.endpoint_id) for c in lost_access(compile_plan_set(before), compile_plan_set(after))
    }
    assert reported == reference_losses(before, after), what


@given(keyed_plan_sets(), st.data())
def test_diff_and_verify_give_the_same_verdict_on_every_change(
    keyed: KeyedPlanSet, data: st.DataObject
) -> None:
    """For every generated config change, `gw467 diff` fails (first-party-loss) exactly when `gw467
    verify`'s lost-access check fails: one definition, one answer."""
    what, after = data.draw(config_changes(keyed.plan_set), label="change")
    old, new = compile_plan_set(keyed.plan_set), compile_plan_set(after)
    diff_fails = fails(diff_tables(old, new), FIRST_PARTY_LOSS)
    verify_fails = not next(
        check for check in exhaustive_checks(old, new) if check.name == "first-party regression"
    ).passed
    assert diff_fails == verify_fails, what


@given(keyed_plan_sets(), st.data())
def test_every_config_change_is_a_valid_plan_file(keyed: KeyedPlanSet, data: st.DataObject) -> None:
    """Every generated change still passes validation, so the checks compare real files."""
    _, after = data.draw(config_changes(keyed.plan_set))
    parsed = parse_plan_set(dump_plan_set(after), "changed.toml")
    assert dataclasses.replace(parsed, source=after.source) == after
