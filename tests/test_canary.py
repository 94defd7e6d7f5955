"""Canary slices are drawn per request in every client class; the controller trips per class."""

from __future__ import annotations

import pytest

from gateway.request_path.canary import CanaryController, CanaryPolicy

CLASSES = ("web", "ios", "tco", "login", "third_party")


def draws(controller: CanaryController, client_class: str, count: int) -> list[bool]:
    return [controller.in_slice(client_class) for _ in range(count)]


def test_the_same_salt_and_order_of_requests_draw_the_same_slice() -> None:
    first = CanaryController(CanaryPolicy(fraction=0.3))
    second = CanaryController(CanaryPolicy(fraction=0.3))
    assert [draws(first, c, 200) for c in CLASSES] == [draws(second, c, 200) for c in CLASSES]


@pytest.mark.parametrize("fraction", [0.1, 0.25, 0.33, 0.5, 1.0])
def test_every_class_is_in_the_slice_in_the_declared_share(fraction: float) -> None:
    controller = CanaryController(CanaryPolicy(fraction=fraction))
    block = controller.policy.share.denominator
    for client_class in CLASSES:
        members = draws(controller, client_class, block * 7)
        assert sum(members) == round(fraction * block) * 7
    assert controller.slice_requests == {c: round(fraction * block) * 7 for c in CLASSES}


def test_a_class_is_in_the_slice_from_its_first_block_however_few_its_requests() -> None:
    controller = CanaryController(CanaryPolicy(fraction=0.1))
    assert sum(draws(controller, "login", 10)) == 1


def test_the_draw_is_not_a_fixed_position_a_caller_could_count_to() -> None:
    controller = CanaryController(CanaryPolicy(fraction=0.1))
    blocks = draws(controller, "tco", 1000)
    positions = {blocks[start : start + 10].index(True) for start in range(0, 1000, 10)}
    assert len(positions) > 5


def test_the_salt_moves_the_slice() -> None:
    a = CanaryController(CanaryPolicy(fraction=0.3, salt="a"))
    b = CanaryController(CanaryPolicy(fraction=0.3, salt="b"))
    assert draws(a, "web", 100) != draws(b, "web", 100)


def test_the_composition_names_every_class_with_its_slice_and_its_requests() -> None:
    controller = CanaryController(CanaryPolicy(fraction=0.1))
    draws(controller, "web", 100)
    draws(controller, "login", 20)
    assert controller.composition() == "login 2 of 20, web 10 of 100"
    assert controller.summary()["slice"] == {"login": 2, "web": 10}


@pytest.mark.parametrize(("fraction", "unit"), [(0.0, "request"), (1.5, "request"), (0.1, "client")])
def test_bad_policies_are_refused(fraction: float, unit: str) -> None:
    with pytest.raises(ValueError):
        CanaryPolicy(fraction=fraction, unit=unit)


def test_the_controller_trips_once_a_class_holds_enough_bad_first_party_requests() -> None:
    controller = CanaryController(CanaryPolicy(threshold=0.05, min_requests=20, window_seconds=60))
    for second in range(19):
        assert controller.observe(float(second), "tco", True, True) is None  # not enough requests yet
    reason = controller.observe(19.0, "tco", True, True)
    assert reason is not None and reason.startswith("tco's first-party error rate 100.0%")
    assert controller.tripped_reason == reason
    assert controller.observe(20.0, "tco", True, True) is None  # trips once


def test_a_small_class_failing_alone_trips_though_the_pooled_rate_is_under_the_threshold() -> None:
    controller = CanaryController(CanaryPolicy(threshold=0.05, min_requests=20, window_seconds=60))
    reasons = []
    for second in range(60):
        for _ in range(30):
            reasons.append(controller.observe(float(second), "web", True, False))
        reasons.append(controller.observe(float(second), "login", True, second % 2 == 0))
    # login is 1 request in 31 and fails half the time: 1.6% pooled, 50% of login's own.
    assert next(r for r in reasons if r is not None).startswith("login's first-party error rate")


def test_a_quiet_class_is_judged_on_its_last_requests_however_old() -> None:
    controller = CanaryController(CanaryPolicy(threshold=0.05, min_requests=20, window_seconds=60))
    for minute in range(19):
        assert controller.observe(minute * 60.0, "login", True, True) is None
    assert controller.observe(19 * 60.0, "login", True, True) is not None


def test_third_party_errors_never_trip_the_canary() -> None:
    controller = CanaryController(CanaryPolicy(min_requests=5))
    for second in range(100):
        assert controller.observe(float(second), "third_party", False, True) is None


def test_old_errors_slide_out_of_the_window() -> None:
    controller = CanaryController(CanaryPolicy(threshold=0.05, min_requests=20, window_seconds=60))
    controller.observe(0.0, "web", True, True)
    for second in range(100, 140):
        assert controller.observe(float(second), "web", True, False) is None
    assert controller.tripped_reason is None
