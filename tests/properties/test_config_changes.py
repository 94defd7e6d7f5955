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
from gateway.verification import KeyedPlanSet, config_changes, generated_catalogue_path, keyed_plan_sets
from gateway.verification.planfiles import dump_plan_set
from gateway.verification.reference import reference_decide
from gateway.verification.verify import exhaustive_checks

_PARAMETER = re.compile(r"\{[^}]*\}")


def requests_of(template: str, catalogues: tuple[PlanSet, ...]) -> set[str]:
    """Concrete paths for `template`, written apart from gateway.safety.access: the example path
    (each parameter a value its converter accepts), and the same with one parameter replaced by a
    literal that any template of the catalogues has at that position."""
    example = generated_catalogue_path(template)
    parts = example.strip("/").split("/")
    shape = template.strip("/").split("/")
    paths = {example}
    for plans in catalogues:
        for endpoint in plans.endpoints:
            for position, part in enumerate(endpoint.path.strip("/").split("/")):
                if (
                    position < len(shape)
                    and _PARAMETER.fullmatch(shape[position])
                    and not _PARAMETER.fullmatch(part)
                ):
                    paths.add("/" + "/".join([*parts[:position], part, *parts[position + 1 :]]))
    return paths


def forwards(plans: PlanSet, client_id: str, method: str, path: str, endpoint_id: str | None = None) -> bool:
    """The reference forwards the request (to `endpoint_id`, if given) for the client."""
    if client_id not in {client.id for client in plans.clients}:
        return False
    decision = reference_decide(plans, method, path, [], client_id=client_id)
    return decision.status is None and endpoint_id in (None, decision.endpoint_id)


@given(keyed_plan_sets(), st.data())
def test_lost_access_is_what_the_reference_evaluator_sees_lost(
    keyed: KeyedPlanSet, data: st.DataObject
) -> None:
    """For every generated plan set and every config change to it (removals, renames, respelled and
    moved templates, methods, reclassified classes, narrowed exemptions, plan swaps):
    - every loss lost_access() reports is real: the reference forwards its request to the endpoint
      before the change and refuses it after;
    - every loss the reference finds on the example requests of an endpoint is reported."""
    before = keyed.plan_set
    what, after = data.draw(config_changes(before), label="change")
    losses = lost_access(compile_plan_set(before), compile_plan_set(after))
    for loss in losses:
        method, _, path = loss.request.partition(" ")
        assert forwards(before, loss.client_id, method, path, loss.endpoint_id), (what, loss)
        assert not forwards(after, loss.client_id, method, path), (what, loss)
    reported = {(loss.client_id, loss.endpoint_id) for loss in losses}
    for client in before.clients:
        for endpoint in before.endpoints:
            for path in requests_of(endpoint.path, (before, after)):
                if forwards(before, client.id, endpoint.method, path, endpoint.id) and not forwards(
                    after, client.id, endpoint.method, path
                ):
                    assert (client.id, endpoint.id) in reported, (what, client.id, endpoint.method, path)


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
