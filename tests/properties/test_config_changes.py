"""The regression check itself, cross-examined: on any config change, it reports exactly the
first-party (client, endpoint) pairs that the reference evaluator says lost access."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import dump_plan_set, parse_plan_set
from gateway.testing import (
    KeyedPlanSet,
    config_changes,
    example_path,
    first_party_regressions,
    keyed_plan_sets,
)
from gateway.testing.reference import reference_decide


@given(keyed_plan_sets(), st.data())
def test_regressions_are_exactly_the_first_party_losses_the_reference_sees(
    keyed: KeyedPlanSet, data: st.DataObject
) -> None:
    """For every generated plan set and every config change to it, first_party_regressions() lists a
    (client, endpoint) pair if and only if the client is first-party and the reference evaluator
    allows it before the change and denies it after."""
    before = keyed.plan_set
    what, after = data.draw(config_changes(before), label="change")
    # An endpoint the example path does not reach (a sibling ranks first) is left out of both sides.
    shadowed = set()
    for endpoint in after.endpoints:
        routed = reference_decide(after, endpoint.method, example_path(endpoint.path), [], client_id="c0")
        if routed.endpoint_id != endpoint.id:
            shadowed.add(endpoint.id)
    reported = {
        (r.client_id, r.endpoint_id)
        for r in first_party_regressions(compile_plan_set(before), compile_plan_set(after))
        if r.endpoint_id not in shadowed
    }
    expected = set()
    for client in after.clients:
        if not client.first_party:
            continue
        for endpoint in after.endpoints:
            if endpoint.id in shadowed:
                continue
            path = example_path(endpoint.path)
            was = reference_decide(before, endpoint.method, path, [], client_id=client.id)
            now = reference_decide(after, endpoint.method, path, [], client_id=client.id)
            if was.status is None and now.status is not None:
                expected.add((client.id, endpoint.id))
    assert reported == expected, what


@given(keyed_plan_sets(), st.data())
def test_every_config_change_is_a_valid_plan_file(keyed: KeyedPlanSet, data: st.DataObject) -> None:
    """Every generated change still passes validation, so the checks compare real files."""
    _, after = data.draw(config_changes(keyed.plan_set))
    assert parse_plan_set(dump_plan_set(after), "changed.toml").policy == after.policy
