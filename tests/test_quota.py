"""Fixed-window quotas on an injectable clock."""

from __future__ import annotations

from gateway.core.plans import Quota
from gateway.request_path.quota import QuotaLedger


def test_quota_admits_up_to_the_limit_then_refuses_until_the_window_ends() -> None:
    now = [90.0]
    ledger = QuotaLedger(lambda: now[0])
    quota = Quota(requests=3, window_seconds=60)
    results = [ledger.admit("c", quota)[0] for _ in range(4)]
    assert results == [True, True, True, False]
    now[0] = 120.0  # the next window starts at 120
    admitted, headers = ledger.admit("c", quota)
    assert admitted
    assert dict(headers) == {
        b"x-rate-limit-limit": b"3",
        b"x-rate-limit-remaining": b"2",
        b"x-rate-limit-reset": b"180",
    }


def test_clients_have_separate_counts() -> None:
    ledger = QuotaLedger(lambda: 0.0)
    quota = Quota(1, 900)
    assert ledger.admit("a", quota)[0]
    assert ledger.admit("b", quota)[0]
    assert not ledger.admit("a", quota)[0]


def test_reset_forgets_every_count() -> None:
    ledger = QuotaLedger(lambda: 0.0)
    quota = Quota(1, 900)
    ledger.admit("a", quota)
    ledger.reset()
    assert ledger.admit("a", quota)[0]


def test_a_refusal_says_retry_after_the_whole_seconds_until_the_window_resets() -> None:
    now = [100.0]
    ledger = QuotaLedger(lambda: now[0])
    quota = Quota(requests=1, window_seconds=60)
    admitted, headers = ledger.admit("c", quota)
    assert admitted and b"retry-after" not in dict(headers)
    now[0] = 100.4
    admitted, headers = ledger.admit("c", quota)
    assert not admitted and dict(headers)[b"retry-after"] == b"20"  # 19.6 s, rounded up
    now[0] = 119.99
    assert dict(ledger.admit("c", quota)[1])[b"retry-after"] == b"1"
