"""The rollout's stages: push, shadow, canary, promote and roll back, each one atomic."""

from __future__ import annotations

import pytest

from gateway.core.decision import DecisionTable
from gateway.request_path.canary import CanaryPolicy
from gateway.request_path.stage import CANARY, SHADOW, Rollout, RolloutError


def test_a_direct_push_replaces_the_active_table_and_a_rollback_restores_it(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    rollout = Rollout.of(baseline_table)
    rollout.push(billing_table)
    assert rollout.active is billing_table and rollout.stage.candidate is None
    rollout.rollback()
    assert rollout.active is baseline_table
    assert [e.action for e in rollout.events] == ["push:direct", "rollback"]


def test_shadow_and_canary_keep_the_active_table_and_hold_a_candidate(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    rollout = Rollout.of(baseline_table)
    rollout.push(billing_table, SHADOW)
    assert rollout.active is baseline_table and rollout.stage.candidate is billing_table
    assert rollout.stage.mode == "shadow" and rollout.stage.shadow is not None
    rollout.push(billing_table, CANARY, CanaryPolicy(fraction=0.2))
    assert rollout.stage.mode == "canary" and rollout.stage.canary is not None
    assert rollout.stage.canary.policy.fraction == 0.2


def test_rolling_back_a_candidate_drops_it_without_touching_the_active_table(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    rollout = Rollout.of(baseline_table)
    rollout.push(billing_table, CANARY)
    rollout.rollback(reason="canary tripped")
    assert rollout.stage.active is baseline_table and rollout.stage.candidate is None
    assert rollout.events[-1].action == "rollback:candidate"
    assert rollout.events[-1].reason == "canary tripped"


def test_promote_makes_the_candidate_active_and_keeps_the_old_one_for_rollback(
    baseline_table: DecisionTable, fixed_table: DecisionTable
) -> None:
    rollout = Rollout.of(baseline_table)
    rollout.push(fixed_table, SHADOW)
    rollout.promote()
    assert rollout.active is fixed_table and rollout.stage.mode == "none"
    rollout.rollback()
    assert rollout.active is baseline_table


def test_promote_without_a_candidate_and_rollback_without_history_are_refused(
    baseline_table: DecisionTable,
) -> None:
    rollout = Rollout.of(baseline_table)
    with pytest.raises(RolloutError, match="nothing to promote"):
        rollout.promote()
    with pytest.raises(RolloutError, match="nothing to roll back"):
        rollout.rollback()
    assert rollout.active is baseline_table


def test_an_unknown_mode_is_refused_and_changes_nothing(
    baseline_table: DecisionTable, billing_table: DecisionTable
) -> None:
    rollout = Rollout.of(baseline_table)
    with pytest.raises(RolloutError, match="unknown mode"):
        rollout.push(billing_table, "yolo")
    assert rollout.active is baseline_table and rollout.events == []


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
    rollout = Rollout.of(baseline_table)
    with pytest.raises(
        RolloutError, match="makes class 'tco' third-party; in 2023-02-baseline it is first-party"
    ):
        rollout.push(table, SHADOW)
    assert rollout.stage.candidate is None and rollout.events == []
