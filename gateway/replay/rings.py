"""The replay's ringed fleet: N real gateways in process, pushes that take time to reach them,
rollout rings. (The serving fleet, workers sharing a store, is `gateway.control_plane`'s.)

A `FleetModel` is what a scenario declares: public instances, instances that
serve only internal traffic (a share of some first-party clients' requests: staff
on the first-party apps, dogfooding), how long a push takes to reach an instance,
and the rings a plan push goes through, each baked for some minutes and halted
(and rolled back everywhere it was sent) when the ring's first-party SLI, read
from the ring's own gateways, breaches the threshold. A `RingedFleet` runs it: every
instance is a `gateway.request_path.runtime.Gateway` with its own in-memory state
behind its own `EntitlementMiddleware`; requests are routed to one instance by
a seeded draw that never touches the traffic's own random stream.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from starlette.types import ASGIApp

from gateway.control_plane.local_deployment import LocalDeployment
from gateway.core.decision import DecisionTable
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.request_path.runtime import Gateway
from gateway.request_path.slo import AvailabilityTracker, WindowCounts

# The window the ring controller reads each instance's first-party SLI over, at each minute's end.
HALT_WINDOW_SECONDS = 60.0
PUSH = "push"
ROLLBACK = "rollback"


@dataclass(frozen=True)
class Ring:
    """One stage of a rollout: the internal instances, or a cumulative percent of public ones."""

    name: str
    internal: bool
    percent: float
    bake_minutes: int


@dataclass(frozen=True)
class FleetModel:
    """A scenario's fleet. Instances 0..internal_instances-1 serve internal traffic only, the rest
    the public traffic; a percent ring covers the internal instances and the first ceil(percent%
    of instances) public ones, so rings only grow. `halt` off: the rings never halt (history)."""

    instances: int
    internal_instances: int
    internal_clients: tuple[str, ...]
    internal_share: float
    propagation_seconds: float
    halt_threshold: float
    halt_min_requests: int
    rings: tuple[Ring, ...]
    halt: bool = True
    label: str = "rings"

    @property
    def size(self) -> int:
        return self.internal_instances + self.instances

    def members(self, ring: Ring) -> range:
        """The instances a ring's push reaches (indexes into the fleet), the rings before included."""
        if ring.internal:
            return range(self.internal_instances)
        public = math.ceil(self.instances * ring.percent / 100 - 1e-9)
        return range(self.internal_instances + public)

    def everywhere(self, halt: bool) -> FleetModel:
        """The same fleet with one ring of every instance and no bake: replicated within seconds."""
        label = "everywhere, halt on SLI" if halt else "everywhere"
        return replace(self, rings=(Ring("everywhere", False, 100.0, 0),), halt=halt, label=label)


@dataclass
class _Delivery:
    at: float
    order: int
    instance: int
    action: str
    table: DecisionTable | None = field(compare=False)

    def __lt__(self, other: _Delivery) -> bool:
        return (self.at, self.order) < (other.at, other.order)


@dataclass(frozen=True)
class RingOutcome:
    """A ring as it ran: when its push was sent, to how many instances, and how it ended."""

    ring: str
    minute: int
    instances: int
    outcome: str


class RingedFleet:
    """The running fleet: its gateways, the pushes on their way to them, and the ring in progress."""

    def __init__(
        self,
        model: FleetModel,
        make_gateway: Callable[[], Gateway],
        upstream: ASGIApp,
        seed: int,
    ) -> None:
        self.model = model
        self.seed = seed
        self.gateways = tuple(make_gateway() for _ in range(model.size))
        self.deployments = tuple(LocalDeployment(gateway) for gateway in self.gateways)
        self.fronts = tuple(
            EntitlementMiddleware(upstream, gateway=d.gateway, deployment=d) for d in self.deployments
        )
        self.availability = SummedAvailability(tuple(g.availability for g in self.gateways))
        self._in_flight: list[_Delivery] = []
        self._order = 0
        self._sent: set[int] = set()  # instances the push in progress was sent to
        self.enforced: dict[str, set[int]] = {}  # version -> instances that ever enforced it
        for instance, gateway in enumerate(self.gateways):
            self.enforced.setdefault(gateway.table.version, set()).add(instance)
        self.rings: list[RingOutcome] = []
        self._ring: int | None = None
        self._ring_minute = 0
        self._table: DecisionTable | None = None
        self._rng = random.Random()
        self.restores = ""  # what a rollback of the push in progress brings the instances back to

    # Routing.

    def start_minute(self, minute: int) -> None:
        self._rng = random.Random(f"gw467-fleet:{self.seed}:{minute}")

    def route(self, client_id: str) -> int:
        """The instance that answers the client's next request: a seeded draw; `internal_share` of
        an internal client's requests (its staff users) go to the internal instances."""
        model, rng = self.model, self._rng
        if client_id in model.internal_clients and rng.random() < model.internal_share:
            return rng.randrange(model.internal_instances)
        return model.internal_instances + rng.randrange(model.instances)

    # Config distribution: every change reaches an instance `propagation_seconds` after it is sent.

    def deliver_until(self, now: float) -> None:
        """Apply, in the order sent, every change that has reached its instance by `now`."""
        queue = self._in_flight
        while queue and queue[0].at <= now:
            delivery = heapq.heappop(queue)
            deployment = self.deployments[delivery.instance]
            if delivery.action == PUSH:
                assert delivery.table is not None
                deployment.push_now(delivery.table, reason="fleet push")
                self.enforced.setdefault(delivery.table.version, set()).add(delivery.instance)
            else:
                deployment.rollback_now(reason="fleet rollback")

    def _send(self, now: float, instances: Iterable[int], action: str, table: DecisionTable | None) -> None:
        for instance in instances:
            self._order += 1
            heapq.heappush(
                self._in_flight,
                _Delivery(now + self.model.propagation_seconds, self._order, instance, action, table),
            )

    # The rollout.

    def push(self, table: DecisionTable, minute: int, now: float) -> None:
        """Start a ringed rollout of `table` from its first ring. A push sent while another one
        rolls out starts its own rings; instances the earlier push reached keep it beneath."""
        self._table = table
        self._sent = set()
        self.restores = next(iter(self.versions()))
        self._start_ring(0, minute, now)

    def _start_ring(self, index: int, minute: int, now: float) -> None:
        assert self._table is not None
        ring = self.model.rings[index]
        members = [i for i in self.model.members(ring) if i not in self._sent]
        self._sent.update(members)
        self._send(now, members, PUSH, self._table)
        self._ring, self._ring_minute = index, minute
        self.rings.append(RingOutcome(ring.name, minute, len(self.model.members(ring)), "baking"))

    def roll_back(self, now: float) -> int:
        """Send a rollback to every instance the push was sent to, and stop the rollout; how many."""
        self._send(now, sorted(self._sent), ROLLBACK, None)
        count = len(self._sent)
        self._sent = set()
        self._end_ring("rolled back")
        return count

    def _end_ring(self, outcome: str) -> None:
        if self._ring is not None:
            self.rings[-1] = replace(self.rings[-1], outcome=outcome)
        self._ring = None

    def after_minute(self, minute: int, now: float) -> str | None:
        """The ring controller at a minute's end: halt on the ring's SLI, or move to the next ring
        once baked. Returns a note of what it did, "halt: ..." when it halted, or None."""
        if self._ring is None:
            return None
        model = self.model
        ring = model.rings[self._ring]
        if model.halt:
            counts = self.ring_sli(ring, now)
            if counts.total >= model.halt_min_requests and counts.error_rate > model.halt_threshold:
                instances = len(self._sent)
                self.roll_back(now)
                self.rings[-1] = replace(self.rings[-1], outcome="halted")
                return (
                    f"halt: ring {ring.name!r} first-party failure rate {counts.error_rate:.1%} "
                    f"over the last {HALT_WINDOW_SECONDS:g}s ({counts.bad:,} of {counts.total:,}; threshold "
                    f"{model.halt_threshold:.1%}); rollback sent to the {counted(instances)} it reached"
                )
        if minute + 1 - self._ring_minute < ring.bake_minutes:
            return None
        self._end_ring("baked")
        index = self._ring_index_after(ring)
        if index is None:
            # A last ring with no bake is not "baked": say what happened, or a room reads a 10-minute
            # bake into the minute after the push.
            done = "baked" if ring.bake_minutes else "in force (no bake)"
            return f"ring {ring.name!r} {done}; rollout complete on all {model.size} instances"
        self._start_ring(index, minute + 1, now)
        reached = counted(self.rings[-1].instances)
        return f"ring {ring.name!r} baked; pushing ring {model.rings[index].name!r} ({reached})"

    def _ring_index_after(self, ring: Ring) -> int | None:
        index = self.model.rings.index(ring) + 1
        return index if index < len(self.model.rings) else None

    def ring_sli(self, ring: Ring, now: float) -> WindowCounts:
        """First-party requests and bad ones (under each gateway's SLI) on the ring's instances."""
        members = tuple(self.gateways[instance].availability for instance in self.model.members(ring))
        return SummedAvailability(members).window(now, HALT_WINDOW_SECONDS)

    def versions(self) -> dict[str, int]:
        """How many instances enforce each version now, the most common first."""
        counts: dict[str, int] = {}
        for gateway in self.gateways:
            counts[gateway.table.version] = counts.get(gateway.table.version, 0) + 1
        return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


def counted(instances: int) -> str:
    return f"{instances} instance{'' if instances == 1 else 's'}"


class SummedAvailability(AvailabilityTracker):
    """The fleet-wide view of the instances' trackers, for the status page and the alert: every
    window is the sum of the instances' windows (what a shared store's counters would hold)."""

    def __init__(self, members: tuple[AvailabilityTracker, ...]) -> None:
        super().__init__()
        self.members = members

    def record(
        self, client_class: str, first_party: bool, bad: bool, now: float, server_error: bool = False
    ) -> None:
        raise TypeError("the fleet view is read-only: each instance records its own requests")

    def window(
        self, now: float, seconds: float, client_class: str | None = None, *, only_5xx: bool = False
    ) -> WindowCounts:
        total = bad = 0
        for member in self.members:
            counts = member.window(now, seconds, client_class, only_5xx=only_5xx)
            total += counts.total
            bad += counts.bad
        return WindowCounts(total, bad)

    def classes(self) -> dict[str, bool]:
        seen: dict[str, bool] = {}
        for member in self.members:
            seen.update(member.classes())
        return dict(sorted(seen.items()))
