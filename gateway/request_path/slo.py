"""First-party availability: the SLI, per-class request counts, burn-rate alerts and status.

Pure and clock-driven (every call takes `now`), cheap enough for one record per request.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from mypy_extensions import mypyc_attr

from gateway.core.rules import StatusKind

Sli = Literal["5xx", "first-party-denials"]
SLI_NAMES: tuple[Sli, ...] = ("5xx", "first-party-denials")

State = Literal["operational", "degraded", "outage", "recovering", "not enough traffic", "no traffic"]

DEFAULT_SLO = 0.999
DEFAULT_BUCKET_SECONDS = 10.0
# The longest window of the default rules (6 h); a tracker keeps no more than this.
DEFAULT_RETENTION_SECONDS = 6 * 3600.0
STATUS_WINDOW_SECONDS = 300

# Status thresholds, over the last STATUS_WINDOW_SECONDS of one client class:
# - outage at OUTAGE_ERROR_RATE: when half the calls fail the product is unusable for
#   that client, whatever the cause (on 2023-03-06 it was 100%);
# - degraded at DEGRADED_BURN_RATE x (1 - slo), the fast-burn paging level (1.44% at
#   99.9%): an error rate the alert would page on is not "operational";
# - "no traffic" when the class sent nothing, "not enough traffic" when it sent fewer than
#   the minimum (below): no evidence is not evidence of health, so neither is "operational";
# - "recovering" when the class would be degraded or outage, but a rollback has happened
#   within the window and the class's requests since then are healthy: the window still
#   holds the failures from before it (the page says which rollback, and why).
OUTAGE_ERROR_RATE = 0.5
DEGRADED_BURN_RATE = 14.4
# Evidence needed before a class can be called degraded or outage, or a burn-rate rule can
# page: this many requests in the window. Below it one request is the whole error rate, so
# one gateway-made 404 to a first-party client would read as "outage" (burn rate 1000).
DEFAULT_MIN_REQUESTS = 20

# Worst first, for `overall_status`. "not enough traffic" and "no traffic" rank below
# "operational" so that one quiet class does not hide the others; one is the overall state
# only when no first-party class could be judged.
_SEVERITY: dict[State, int] = {
    "outage": 5,
    "degraded": 4,
    "recovering": 3,
    "operational": 2,
    "not enough traffic": 1,
    "no traffic": 0,
}


def parse_sli(name: str) -> Sli:
    """`name` as an SLI, checked once at start-up so `is_bad` need not check per request."""
    for sli in SLI_NAMES:
        if name == sli:
            return sli
    raise ValueError(f"unknown SLI {name!r} (use {' or '.join(map(repr, SLI_NAMES))})")


def is_bad(sli: Sli, first_party: bool, kind: StatusKind, gateway_made: bool) -> bool:
    """Whether one response, of status kind `kind` (`status_kind`), counts against availability under `sli`.

    "5xx" is the common dashboard default, blind to 467 (not a 5xx): under it the
    2023 outage was all green. "first-party-denials" also counts any 4xx the gateway
    itself made for a first-party client (467, 429, 401, 404, 400), since first-party
    clients have no plan to outgrow. Third-party denials are the plans working, never bad.
    """
    if kind is StatusKind.SERVER_ERROR:
        return True
    return sli == "first-party-denials" and first_party and gateway_made and kind is not StatusKind.OK


class WindowCounts(NamedTuple):
    """Requests and bad requests in one window. A NamedTuple: many are built per evaluation."""

    total: int
    bad: int

    @property
    def error_rate(self) -> float:
        return self.bad / self.total if self.total else 0.0


class _Series:
    """One client class's buckets, as cumulative counts so any window is two lookups.

    `totals[i]`, `bads[i]` and `server_errors[i]` count every request (bad under the
    configured SLI; 5xx) up to and including bucket `starts[i]`. Entries before `head`
    are pruned but not yet deleted; `floor_*` are the cumulative counts through the
    last pruned bucket.
    """

    __slots__ = (
        "bads",
        "first_party",
        "floor_bad",
        "floor_server_errors",
        "floor_total",
        "head",
        "server_errors",
        "starts",
        "totals",
    )

    def __init__(self, first_party: bool) -> None:
        self.first_party = first_party
        self.starts: list[int] = []
        self.totals: list[int] = []
        self.bads: list[int] = []
        self.server_errors: list[int] = []
        self.head = 0
        self.floor_total = 0
        self.floor_bad = 0
        self.floor_server_errors = 0

    def add(self, bucket: int, bad: int, server_error: int, keep: int, count: int = 1) -> None:
        """Count `count` requests in `bucket`, `bad` and `server_error` of them so (bools: one)."""
        starts = self.starts
        # A record older than the newest bucket (a clock stepping back a little) is
        # counted in the newest bucket rather than lost or reordered.
        if starts and bucket <= starts[-1]:
            self.totals[-1] += count
            if bad:
                self.bads[-1] += bad
            if server_error:
                self.server_errors[-1] += server_error
            return
        if starts:
            total, bad_total, server_error_total = self.totals[-1], self.bads[-1], self.server_errors[-1]
        else:
            total = bad_total = server_error_total = 0
        starts.append(bucket)
        self.totals.append(total + count)
        self.bads.append(bad_total + bad)
        self.server_errors.append(server_error_total + server_error)
        self._prune(bucket - keep, keep)

    def _prune(self, oldest_dead: int, keep: int) -> None:
        # Runs only when a new bucket opens, and each bucket is pruned once: O(1) amortized.
        starts, head = self.starts, self.head
        while starts[head] <= oldest_dead:
            self.floor_total, self.floor_bad = self.totals[head], self.bads[head]
            self.floor_server_errors = self.server_errors[head]
            head += 1
        # Deleting the dead prefix costs O(len), paid once per `keep` pruned buckets.
        if head >= keep:
            del starts[:head], self.totals[:head], self.bads[:head], self.server_errors[:head]
            head = 0
        self.head = head

    def through(self, bucket: int, only_5xx: bool) -> WindowCounts:
        """Cumulative counts of every request up to and including `bucket`; bad = 5xx when `only_5xx`."""
        index = bisect_right(self.starts, bucket, self.head) - 1
        if index < self.head:
            return WindowCounts(self.floor_total, self.floor_server_errors if only_5xx else self.floor_bad)
        return WindowCounts(self.totals[index], (self.server_errors if only_5xx else self.bads)[index])


# The replay's fleet counts through a subclass, which mypyc must allow when this module is compiled.
@mypyc_attr(allow_interpreted_subclasses=True)
class AvailabilityTracker:
    """Request and bad-request counts per client class, in time buckets.

    A window of `seconds` covers the last ceil(seconds / bucket_seconds) buckets, the
    current partial one included, so it spans between `seconds - bucket_seconds` and
    `seconds` of time. Buckets older than `retention_seconds` are dropped as new ones
    open. `now` is expected not to run backwards by more than a bucket.
    """

    def __init__(
        self,
        bucket_seconds: float = DEFAULT_BUCKET_SECONDS,
        retention_seconds: float = DEFAULT_RETENTION_SECONDS,
    ) -> None:
        if bucket_seconds <= 0 or retention_seconds < bucket_seconds:
            raise ValueError("need bucket_seconds > 0 and retention_seconds >= bucket_seconds")
        self.bucket_seconds = bucket_seconds
        self.retention_seconds = retention_seconds
        self._keep = _buckets_in(retention_seconds, bucket_seconds)
        self._series: dict[str, _Series] = {}

    def record(
        self, client_class: str, first_party: bool, bad: bool, now: float, server_error: bool = False
    ) -> None:
        """Count one request. A class has one first-party flag: a record contradicting it raises.

        `bad` is under the configured SLI; `server_error` says it was a 5xx, so that what
        a 5xx-only status page would say can be told beside it (`only_5xx` below).
        """
        series = self._series.get(client_class)
        if series is None:
            series = self._series[client_class] = _Series(first_party)
        elif series.first_party != first_party:
            # Mixing would put third-party traffic into the first-party SLO, silently.
            raise ValueError(f"client class {client_class!r} is recorded as both first- and third-party")
        series.add(int(now // self.bucket_seconds), bad, server_error, self._keep)

    def record_counts(
        self, client_class: str, first_party: bool, at: float, total: int, bad: int, server_errors: int
    ) -> None:
        """Count `total` requests at time `at` at once (`bad` and `server_errors` of them): how
        counts gathered elsewhere (a fleet's, from the store) are loaded, oldest bucket first."""
        series = self._series.get(client_class)
        if series is None:
            series = self._series[client_class] = _Series(first_party)
        elif series.first_party != first_party:
            raise ValueError(f"client class {client_class!r} is recorded as both first- and third-party")
        series.add(int(at // self.bucket_seconds), bad, server_errors, self._keep, total)

    def window(
        self, now: float, seconds: float, client_class: str | None = None, *, only_5xx: bool = False
    ) -> WindowCounts:
        """Counts over the last `seconds`; `client_class` None means all first-party classes.

        `only_5xx` counts as bad only the 5xx responses, whatever the configured SLI:
        what the "5xx" SLI would have seen of the same requests.
        """
        buckets = _buckets_in(seconds, self.bucket_seconds)
        if buckets > self._keep:
            raise ValueError(
                f"a {seconds:g} s window is longer than this tracker keeps ({self.retention_seconds:g} s)"
            )
        if client_class is None:
            chosen = [series for series in self._series.values() if series.first_party]
        else:
            series = self._series.get(client_class)
            chosen = [] if series is None else [series]
        last = int(now // self.bucket_seconds)
        total = bad = 0
        for series in chosen:
            end, start = series.through(last, only_5xx), series.through(last - buckets, only_5xx)
            total += end.total - start.total
            bad += end.bad - start.bad
        return WindowCounts(total, bad)

    def classes(self) -> dict[str, bool]:
        """Every client class seen, sorted, with its first-party flag."""
        return {name: self._series[name].first_party for name in sorted(self._series)}

    @property
    def held_buckets(self) -> int:
        """Buckets held in memory over all classes, pruned ones not yet deleted included."""
        return sum(len(series.starts) for series in self._series.values())


def _buckets_in(seconds: float, bucket_seconds: float) -> int:
    if seconds <= 0:
        raise ValueError("a window must be longer than 0 s")
    # The small tolerance keeps 0.3 / 0.1 from rounding up to 4 buckets.
    return max(1, math.ceil(seconds / bucket_seconds - 1e-9))


@dataclass(frozen=True, slots=True)
class BurnRateRule:
    """Fire when both windows burn the error budget faster than `factor` times the sustainable rate."""

    long_seconds: int
    short_seconds: int
    factor: float
    name: str

    def __post_init__(self) -> None:
        if not 0 < self.short_seconds <= self.long_seconds or self.factor <= 0:
            raise ValueError(f"rule {self.name!r}: need 0 < short_seconds <= long_seconds and factor > 0")


# The Google SRE workbook's paging pair ("Alerting on SLOs"): 14.4 over 1 h spends 2% of
# a 30-day budget in an hour; 6 over 6 h spends 5% in six hours. The short windows
# (1/12 of the long) let the alert stop soon after recovery.
DEFAULT_RULES: tuple[BurnRateRule, ...] = (
    BurnRateRule(3600, 300, 14.4, "fast-burn"),
    BurnRateRule(21600, 1800, 6.0, "slow-burn"),
)


@dataclass(frozen=True, slots=True)
class AlertState:
    """One evaluation: whether a rule fires (the first in rule order), and every window's burn rate."""

    firing: bool
    fired_by: str | None
    burn_rates: dict[str, float]


class BurnRateAlert:
    """Multiwindow burn-rate alerting on first-party availability.

    A rule fires only when both its windows hold at least `min_requests` requests.
    """

    def __init__(
        self,
        slo: float = DEFAULT_SLO,
        rules: tuple[BurnRateRule, ...] = DEFAULT_RULES,
        min_requests: int | float = DEFAULT_MIN_REQUESTS,
    ) -> None:
        if not 0 < slo < 1:
            raise ValueError(f"an SLO must be between 0 and 1 exclusive, not {slo}")
        if not rules:
            raise ValueError("an alert needs at least one rule")
        self.slo = slo
        self.rules = rules
        self.min_requests = check_min_requests(min_requests)

    def evaluate(self, tracker: AvailabilityTracker, now: float) -> AlertState:
        # With less history than a window (the start of a replay or of a process), the
        # rate is taken over the traffic that exists: bad / total of what was recorded,
        # as Prometheus' rate() over a range with less data does in effect. The long
        # window then behaves like a shorter one, so early alerts are quicker and noisier.
        burn_rates: dict[str, float] = {}
        enough: dict[str, bool] = {}
        for rule in self.rules:
            for seconds in (rule.long_seconds, rule.short_seconds):
                label = window_label(seconds)
                if label not in burn_rates:
                    counts = tracker.window(now, seconds)
                    burn_rates[label] = counts.error_rate / (1 - self.slo)
                    enough[label] = counts.total >= self.min_requests
        fired_by = next((rule.name for rule in self.rules if _fires(rule, burn_rates, enough)), None)
        return AlertState(fired_by is not None, fired_by, burn_rates)


def _fires(rule: BurnRateRule, burn_rates: dict[str, float], enough: dict[str, bool]) -> bool:
    long_label, short_label = window_label(rule.long_seconds), window_label(rule.short_seconds)
    return (
        enough[long_label]
        and enough[short_label]
        and burn_rates[long_label] > rule.factor
        and burn_rates[short_label] > rule.factor
    )


def check_min_requests(min_requests: int | float) -> int:
    """`min_requests` when it is a whole number of at least 1 (0 would let no traffic page).

    Typed as a union so that compiled callers (mypyc) pass True or 2.5 on as they came,
    to be refused here, rather than converting or rejecting them with a TypeError."""
    if isinstance(min_requests, bool) or not isinstance(min_requests, int) or min_requests < 1:
        raise ValueError(f"min_requests must be a whole number of at least 1, not {min_requests!r}")
    return min_requests


def window_label(seconds: int) -> str:
    """A window's name: 3600 -> "1h", 300 -> "5m", 90 -> "90s"."""
    if seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    if seconds % 60 == 0:
        return f"{seconds // 60}m"
    return f"{seconds}s"


@dataclass(frozen=True, slots=True)
class ClassStatus:
    """One client class's state over the status window."""

    client_class: str
    first_party: bool
    state: State
    error_rate: float
    requests: int


def class_statuses(
    tracker: AvailabilityTracker,
    now: float,
    slo: float = DEFAULT_SLO,
    window_seconds: int = STATUS_WINDOW_SECONDS,
    *,
    only_5xx: bool = False,
    min_requests: int = DEFAULT_MIN_REQUESTS,
    rolled_back_at: float | None = None,
) -> dict[str, ClassStatus]:
    """The state of every class seen, sorted by class, third-party ones included.

    `only_5xx`: the states a status page on the "5xx" SLI would show for the same traffic.
    A class with fewer than `min_requests` requests in the window is "not enough traffic",
    whatever its error rate (which the document still shows). `rolled_back_at`: when the
    last change in force was rolled back, if that is the latest change (see "recovering").
    """
    statuses: dict[str, ClassStatus] = {}
    for name, first_party in tracker.classes().items():
        counts = tracker.window(now, window_seconds, name, only_5xx=only_5xx)
        state = _state(counts, slo, min_requests)
        if state in ("outage", "degraded") and rolled_back_at is not None:
            elapsed = now - rolled_back_at
            if 0 <= elapsed < window_seconds:
                since = tracker.window(now, max(elapsed, tracker.bucket_seconds), name, only_5xx=only_5xx)
                if since.total and since.error_rate < DEGRADED_BURN_RATE * (1 - slo):
                    state = "recovering"
        statuses[name] = ClassStatus(name, first_party, state, counts.error_rate, counts.total)
    return statuses


def _state(counts: WindowCounts, slo: float, min_requests: int) -> State:
    if counts.total == 0:
        return "no traffic"
    if counts.total < min_requests:
        return "not enough traffic"
    if counts.error_rate >= OUTAGE_ERROR_RATE:
        return "outage"
    if counts.error_rate >= DEGRADED_BURN_RATE * (1 - slo):
        return "degraded"
    return "operational"


def overall_status(statuses: dict[str, ClassStatus]) -> State:
    """The worst state among first-party classes; third-party classes never set it."""
    states = [status.state for status in statuses.values() if status.first_party]
    if not states:
        return "no traffic"
    return max(states, key=_SEVERITY.__getitem__)


def status_document(
    tracker: AvailabilityTracker,
    alert: AlertState,
    now: float,
    sli: Sli,
    slo: float,
    min_requests: int = DEFAULT_MIN_REQUESTS,
    last_rollback: tuple[float, str] | None = None,
) -> dict[str, Any]:
    """The JSON body served at /_gw467/status, keys in a fixed order and classes sorted.

    `alert` is the caller's evaluation at `now`, so one evaluation serves both the
    page and anything else the caller does with it; `slo` should be the alert's.
    "5xx_view" is what a status page on the "5xx" SLI would say of the same traffic
    (the page Twitter had on 2023-03-06), for comparison; it never sets "status".
    `min_requests` should be the alert's too. `last_rollback`: (when, why) of the latest
    change when it was a rollback; "recovering" gives it, so the page can say why.
    """
    at = last_rollback[0] if last_rollback is not None else None
    statuses = class_statuses(tracker, now, slo, min_requests=min_requests, rolled_back_at=at)
    five_xx = class_statuses(tracker, now, slo, only_5xx=True, min_requests=min_requests, rolled_back_at=at)
    recovering = any(status.state == "recovering" for status in (*statuses.values(), *five_xx.values()))
    return {
        "status": overall_status(statuses),
        "sli": sli,
        "slo": slo,
        "min_requests": min_requests,
        "window_seconds": STATUS_WINDOW_SECONDS,
        "recovering": (
            {"since": last_rollback[0], "reason": last_rollback[1]}
            if recovering and last_rollback is not None
            else None
        ),
        "alert": {
            "firing": alert.firing,
            "fired_by": alert.fired_by,
            "burn_rates": {label: round(rate, 6) for label, rate in alert.burn_rates.items()},
        },
        "classes": {
            name: {
                "status": status.state,
                "first_party": status.first_party,
                "error_rate_5m": round(status.error_rate, 6),
                "requests_5m": status.requests,
            }
            for name, status in statuses.items()
        },
        "5xx_view": {
            "status": overall_status(five_xx),
            "classes": {
                name: {"status": status.state, "error_rate_5m": round(status.error_rate, 6)}
                for name, status in five_xx.items()
            },
        },
    }
