"""A local deployment's stages: push, shadow, canary, promote and roll back, each one atomic."""

from __future__ import annotations

import pytest

from gateway.control_plane.local_deployment import LocalDeployment
from gateway.control_plane.stage_document import RolloutError
from gateway.core.decision import DecisionTable
from gateway.fronts.settings import GatewaySettings
from gateway.request_path.canary import CanaryPolicy
from gateway.request_path.stage import CANARY, SHADOW


def test_a_direct_push_replaces_the_active_table_and_a_rollback_restores_it(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    local = LocalDeployment(GatewaySettings.embedded().runtime(baseline_table))
    local.push_now(billing_table)
    assert local.gateway.table is billing_table and local.gateway.in_force.stage.candidate is None
    local.rollback_now()
    assert local.gateway.table is baseline_table
    assert [e.action for e in local.gateway.in_force.changes] == ["push:direct", "rollback"]


def test_shadow_and_canary_keep_the_active_table_and_hold_a_candidate(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    local = LocalDeployment(GatewaySettings.embedded().runtime(baseline_table))
    local.push_now(billing_table, SHADOW)
    assert local.gateway.table is baseline_table and local.gateway.in_force.stage.candidate is billing_table
    assert local.gateway.in_force.stage.mode == "shadow" and local.gateway.in_force.stage.shadow is not None
    local.push_now(billing_table, CANARY, CanaryPolicy(fraction=0.2))
    assert local.gateway.in_force.stage.mode == "canary" and local.gateway.in_force.stage.canary is not None
    assert local.gateway.in_force.stage.canary.policy.fraction == 0.2


def test_rolling_back_a_candidate_drops_it_without_touching_the_active_table(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    local = LocalDeployment(GatewaySettings.embedded().runtime(baseline_table))
    local.push_now(billing_table, CANARY)
    local.rollback_now(reason="canary tripped")
    assert (
        local.gateway.in_force.stage.active is baseline_table
        and local.gateway.in_force.stage.candidate is None
    )
    assert local.gateway.in_force.changes[-1].action == "rollback:candidate"
    assert local.gateway.in_force.changes[-1].reason == "canary tripped"


def test_promote_makes_the_candidate_active_and_keeps_the_old_one_for_rollback(
    baseline_table: DecisionTable, fixed_table: DecisionTable
) -> None:
    local = LocalDeployment(GatewaySettings.embedded().runtime(baseline_table))
    local.push_now(fixed_table, SHADOW)
    local.promote_now()
    assert local.gateway.table is fixed_table and local.gateway.in_force.stage.mode == "none"
    local.rollback_now()
    assert local.gateway.table is baseline_table


def test_promote_without_a_candidate_and_rollback_without_history_are_refused(
    baseline_table: DecisionTable,
) -> None:
    local = LocalDeployment(GatewaySettings.embedded().runtime(baseline_table))
    with pytest.raises(RolloutError, match="nothing to promote"):
        local.promote_now()
    with pytest.raises(RolloutError, match="nothing to roll back"):
        local.rollback_now()
    assert local.gateway.table is baseline_table


def test_an_unknown_mode_is_refused_and_changes_nothing(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    local = LocalDeployment(GatewaySettings.embedded().runtime(baseline_table))
    with pytest.raises(RolloutError, match="unknown mode"):
        local.push_now(billing_table, "yolo")
    assert local.gateway.table is baseline_table and local.gateway.in_force.changes == []


def test_a_table_that_moves_a_class_between_first_and_third_party_is_refused(
    baseline_table: DecisionTable,
) -> None:
    import dataclasses

    from gateway.core.compiler import compile_plan_set

    plan_set = baseline_table.plan_set
    flipped = tuple(
        dataclasses.replace(c, first_party=False) if c.client_class == "tco" else c for c in plan_set.clients
    )
    table = compile_plan_set(dataclasses.replace(plan_set, version="flipped", clients=flipped))
    local = LocalDeployment(GatewaySettings.embedded().runtime(baseline_table))
    with pytest.raises(
        RolloutError, match="makes class 'tco' third-party; in 2023-02-baseline it is first-party"
    ):
        local.push_now(table, SHADOW)
    assert local.gateway.in_force.stage.candidate is None and local.gateway.in_force.changes == []
