"""Canary slices are stable and unforgeable; the controller trips on the slice's first-party errors."""

from __future__ import annotations

import pytest

from gateway.serving.canary import CanaryController, CanaryPolicy, slice_position


def test_slice_membership_is_stable_across_calls_and_controllers() -> None:
    first = CanaryController(CanaryPolicy(fraction=0.3))
    second = CanaryController(CanaryPolicy(fraction=0.3))
    pairs = [(f"client-{c}", f"endpoint-{e}") for c in range(20) for e in range(20)]
    members = [first.in_slice(*pair) for pair in pairs]
    assert members == [first.in_slice(*pair) for pair in pairs]
    assert members == [second.in_slice(*pair) for pair in pairs]


def test_slice_positions_are_pinned_so_they_survive_restarts_and_upgrades() -> None:
    # BLAKE2b of the salt and key, not Python's per-process randomized hash(): a change
    # here would move clients to the other side of a running canary.
    assert slice_position("gw467", "tco", "links.resolve", "client-endpoint") == 0.5827257548279904
    assert slice_position("gw467", "web", "any endpoint", "client") == 0.12381759441554667


def test_the_slice_holds_about_the_chosen_fraction_of_pairs() -> None:
    controller = CanaryController(CanaryPolicy(fraction=0.1))
    members = sum(controller.in_slice(f"c{c}", f"e{e}") for c in range(50) for e in range(100))
    assert 400 < members < 600


def test_a_larger_fraction_keeps_every_member_of_a_smaller_one() -> None:
    small = CanaryController(CanaryPolicy(fraction=0.1))
    large = CanaryController(CanaryPolicy(fraction=0.5))
    pairs = [(f"c{c}", f"e{e}") for c in range(30) for e in range(30)]
    assert all(large.in_slice(*p) for p in pairs if small.in_slice(*p))


def test_client_unit_puts_all_of_a_clients_endpoints_on_one_side() -> None:
    controller = CanaryController(CanaryPolicy(fraction=0.5, unit="client"))
    for client in (f"c{n}" for n in range(20)):
        assert len({controller.in_slice(client, f"e{e}") for e in range(10)}) == 1


def test_the_salt_moves_the_slice() -> None:
    pairs = [(f"c{c}", f"e{e}") for c in range(20) for e in range(20)]
    a = CanaryController(CanaryPolicy(fraction=0.3, salt="a"))
    b = CanaryController(CanaryPolicy(fraction=0.3, salt="b"))
    assert [a.in_slice(*p) for p in pairs] != [b.in_slice(*p) for p in pairs]


@pytest.mark.parametrize(("fraction", "unit"), [(0.0, "client"), (1.5, "client"), (0.1, "region")])
def test_bad_policies_are_refused(fraction: float, unit: str) -> None:
    with pytest.raises(ValueError):
        CanaryPolicy(fraction=fraction, unit=unit)


def test_the_controller_trips_once_the_window_holds_enough_bad_first_party_requests() -> None:
    controller = CanaryController(CanaryPolicy(threshold=0.05, min_requests=20, window_seconds=60))
    for second in range(19):
        assert controller.observe(float(second), True, True) is None  # not enough requests yet
    reason = controller.observe(19.0, True, True)
    assert reason is not None and "100.0%" in reason
    assert controller.tripped_reason == reason
    assert controller.observe(20.0, True, True) is None  # trips once


def test_third_party_errors_never_trip_the_canary() -> None:
    controller = CanaryController(CanaryPolicy(min_requests=5))
    for second in range(100):
        assert controller.observe(float(second), False, True) is None


def test_old_errors_slide_out_of_the_window() -> None:
    controller = CanaryController(CanaryPolicy(threshold=0.05, min_requests=20, window_seconds=60))
    controller.observe(0.0, True, True)
    for second in range(100, 140):
        assert controller.observe(float(second), True, False) is None
    assert controller.tripped_reason is None
