"""`make soak`: a fleet under mixed traffic for a bounded time, with pushes, rollbacks and one Redis restart.

Starts Debian's redis-server and `gw467 serve --workers 2 --store redis://...` on loopback, sends
first- and third-party requests at a fixed rate from a pool of connections, and on a schedule
pushes the fixed plan, rolls back, pushes the baseline, restarts Redis (killed, down for a few
seconds, started again empty) and pushes once more. It reports what an operator would ask of a
long run: 5xx answers, lost requests (no answer at all), first-party refusals, RSS per worker at
start and end, quota overshoot (requests admitted beyond a window's limit, from the
`x-rate-limit-*` headers, told apart by phase: before the outage, while Redis was down and the
`local` policy held, and after Redis came back without the counters it had lost), and
whether every worker ended on the same version. Figures go to out/soak.json.

The run stops by itself after `--minutes` (10 by default); exit 1 when a 5xx or a lost request
was seen outside the Redis outage, or when the fleet did not converge.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

import httpx

from benchmarks.procfs import rss_bytes
from gateway.control_plane.fleet.trust import SECRET_VARIABLE
from gateway.core.planfile import load_plan_set
from gateway.fronts.settings import ADMIN_TOKEN_VARIABLE
from tests.processes import RedisServer, Server, gw467_serve

PLANS = Path(__file__).resolve().parent.parent / "plans"
BASELINE = PLANS / "2023-02-baseline.toml"
FIXED = PLANS / "2023-03-06-billing-fixed.toml"
# A third-party client whose plan has a quota in both plan files the soak pushes (3,000 and 600
# per 15 minutes on one shared counter), sent more than either limit so the limit is tested.
QUOTA_CLIENT = "pollster-analytics"
REQUESTS = [
    ("web", "GET", "/2/tweets/1"),
    ("ios", "GET", "/2/users/by/username/jack"),
    ("android", "GET", "/2/users/12/timelines/reverse_chronological"),
    ("tweetdeck", "GET", "/1.1/tweetdeck/decks"),
    ("tco", "GET", "/2/links/abc123"),
    ("media", "GET", "/2/media/xyz"),
    ("login", "GET", "/1.1/account/verify_credentials.json"),
    ("pollster-analytics", "GET", "/2/tweets/search/recent"),
    ("newsdesk-pro", "GET", "/2/tweets/1"),
    ("sunrise-bot", "GET", "/2/tweets/1"),
]
DEMO_KEY = "gw467-demo-{}"  # the shipped plans' demo clients' keys
# Redis stays down this long (at most a twentieth of the run), and requests keep counting as
# "redis down" for as long again after it is back: the retry interval may still answer them so.
REDIS_DOWN_SECONDS = 5.0
PHASES = ("before the outage", "redis down", "after the restart")


@dataclass
class Tally:
    """What the traffic saw, split by whether Redis was down when the request was sent."""

    statuses: Counter[int] = field(default_factory=Counter)
    server_errors: int = 0
    server_errors_while_down: int = 0
    lost: int = 0
    lost_while_down: int = 0
    first_party_refused: int = 0
    rules_while_down: Counter[str] = field(default_factory=Counter)
    # x-rate-limit-reset (the window) -> requests of QUOTA_CLIENT admitted in it so far
    quota_windows: dict[int, int] = field(default_factory=dict)
    # requests admitted beyond the limit in force when they were answered, by phase
    overshoot: Counter[str] = field(default_factory=Counter)

    def admitted(self, window: int, limit: int, phase: str) -> None:
        """Count one admitted request of the quota client, in the order the answers came."""
        count = self.quota_windows[window] = self.quota_windows.get(window, 0) + 1
        if count > limit:
            self.overshoot[phase] += 1


class Phase:
    """Where the run is with respect to the Redis restart; read by each request as it is sent."""

    def __init__(self) -> None:
        self.name = PHASES[0]


def rss_mib(pids: list[int]) -> dict[str, float]:
    rss = {str(pid): rss_bytes(pid) for pid in pids}
    return {pid: round(value / 2**20, 1) for pid, value in rss.items() if value is not None}


async def traffic(
    base: str,
    keys: dict[str, str],
    first_party: set[str],
    rate: float,
    until: float,
    phase: Phase,
    tally: Tally,
    connections: int,
) -> None:
    """Send REQUESTS round-robin at `rate` per second until `until` (monotonic)."""
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=5.0, trust_env=False) as client:
        in_flight: set[asyncio.Task[None]] = set()
        interval = 1.0 / rate
        next_at = time.monotonic()
        index = 0
        while (now := time.monotonic()) < until:
            if now < next_at:
                await asyncio.sleep(next_at - now)
            next_at += interval
            client_id, method, path = REQUESTS[index % len(REQUESTS)]
            index += 1
            task = asyncio.create_task(
                one_request(
                    client,
                    keys[client_id],
                    client_id in first_party,
                    client_id == QUOTA_CLIENT,
                    method,
                    path,
                    phase.name,
                    tally,
                )
            )
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            if len(in_flight) > connections * 4:
                await asyncio.wait(in_flight, return_when=asyncio.FIRST_COMPLETED)
        if in_flight:
            await asyncio.wait(in_flight)


async def one_request(
    client: httpx.AsyncClient,
    key: str,
    first_party: bool,
    quota_client: bool,
    method: str,
    path: str,
    phase: str,
    tally: Tally,
) -> None:
    down = phase == "redis down"
    try:
        response = await client.request(method, path, headers={"Authorization": f"Bearer {key}"})
    except httpx.HTTPError:
        if down:
            tally.lost_while_down += 1
        else:
            tally.lost += 1
        return
    status = response.status_code
    tally.statuses[status] += 1
    if status >= 500:
        if down:
            tally.server_errors_while_down += 1
        else:
            tally.server_errors += 1
    if first_party and status >= 400:
        tally.first_party_refused += 1
    if down:
        tally.rules_while_down[response.headers.get("x-gw467-rule", "")] += 1
    if quota_client and status < 400 and "x-rate-limit-reset" in response.headers:
        headers = response.headers
        tally.admitted(int(headers["x-rate-limit-reset"]), int(headers["x-rate-limit-limit"]), phase)


class Admin:
    """The admin API of the fleet, through any worker."""

    def __init__(self, base: str, token: str) -> None:
        self.client = httpx.AsyncClient(
            base_url=base, timeout=10.0, trust_env=False, headers={"Authorization": f"Bearer {token}"}
        )
        self.log: list[str] = []

    async def push(self, plan: Path, reason: str) -> None:
        response = await self.client.post(
            "/_gw467/admin/plans", params={"mode": "direct", "reason": reason}, content=plan.read_bytes()
        )
        self.log.append(f"push {plan.name}: {response.status_code}")

    async def rollback(self, reason: str) -> None:
        response = await self.client.post("/_gw467/admin/rollback", params={"reason": reason})
        self.log.append(f"rollback: {response.status_code}")

    async def fleet(self) -> dict[str, Any]:
        """The fleet part of the deployment document: stage, live workers, converged or not."""
        response = await self.client.get("/_gw467/admin/deployment")
        document: dict[str, Any] = response.json()["fleet"]
        return document

    async def worker_pids(self, expected: int, timeout: float = 15.0) -> list[int]:
        """The pids of the live workers, from their heartbeats, once `expected` of them beat."""
        deadline = time.monotonic() + timeout
        while True:
            pids = sorted({int(worker["pid"]) for worker in (await self.fleet()).get("workers", [])})
            if len(pids) >= expected or time.monotonic() > deadline:
                return pids
            await asyncio.sleep(0.2)


async def operate(admin: Admin, redis: RedisServer, start: float, seconds: float, phase: Phase) -> None:
    """The schedule of changes, at fractions of the run."""

    async def at(fraction: float) -> None:
        await asyncio.sleep(max(0.0, start + fraction * seconds - time.monotonic()))

    await at(0.15)
    await admin.push(FIXED, "soak: fixed plan")
    await at(0.30)
    await admin.rollback("soak: rollback")
    await at(0.45)
    await admin.push(FIXED, "soak: fixed plan again")
    await at(0.55)
    phase.name = "redis down"
    redis.stop(kill=True)
    admin.log.append("redis-server killed")
    outage = min(REDIS_DOWN_SECONDS, seconds / 20)
    await asyncio.sleep(outage)
    redis.start()
    admin.log.append(f"redis-server started again (empty) after {outage:g} s")
    await asyncio.sleep(outage)
    phase.name = "after the restart"
    await at(0.75)
    await admin.push(BASELINE, "soak: baseline after the restart")
    await at(0.90)
    await admin.rollback("soak: last rollback")


async def soak(
    server: Server, redis: RedisServer, token: str, minutes: float, rate: float, connections: int
) -> dict[str, Any]:
    plan_set = load_plan_set(BASELINE)
    keys = {client.id: DEMO_KEY.format(client.id) for client in plan_set.clients}
    first_party = {client.id for client in plan_set.clients if client.first_party}
    seconds = minutes * 60
    admin = Admin(server.base, token)
    await admin.push(BASELINE, "soak: start")  # the store now holds a version every worker runs
    workers = await admin.worker_pids(expected=2)
    tally = Tally()
    phase = Phase()
    warm_up = min(10.0, seconds / 10)
    start = time.monotonic()
    load = asyncio.create_task(
        traffic(server.base, keys, first_party, rate, start + seconds, phase, tally, connections)
    )
    await asyncio.sleep(warm_up)
    rss_start = rss_mib(workers)
    await operate(admin, redis, start, seconds, phase)
    await load
    rss_end = rss_mib(workers)
    await asyncio.sleep(1.5)  # heartbeats after the last change
    fleet = await admin.fleet()
    await admin.client.aclose()
    sent = sum(tally.statuses.values()) + tally.lost + tally.lost_while_down
    return {
        "minutes": minutes,
        "rate_per_second": rate,
        "requests": sent,
        "achieved_per_second": round(sent / seconds, 1),
        "statuses": {str(status): count for status, count in sorted(tally.statuses.items())},
        "server_errors": tally.server_errors,
        "server_errors_while_redis_down": tally.server_errors_while_down,
        "lost_requests": tally.lost,
        "lost_requests_while_redis_down": tally.lost_while_down,
        "first_party_refused": tally.first_party_refused,
        "rules_while_redis_down": dict(tally.rules_while_down.most_common(5)),
        "quota_windows": len(tally.quota_windows),
        "quota_client": QUOTA_CLIENT,
        "quota_admitted_by_window": {
            str(window): count for window, count in sorted(tally.quota_windows.items())
        },
        "quota_overshoot": {phase: tally.overshoot[phase] for phase in PHASES},
        "workers": len(workers),
        "rss_mib_start": rss_start,
        "rss_mib_end": rss_end,
        "converged": fleet.get("converged"),
        "worker_versions": sorted({str(worker.get("version")) for worker in fleet.get("workers", [])}),
        "operations": admin.log,
    }


def print_report(result: dict[str, Any]) -> None:
    print(
        f"soak: {result['minutes']:g} min at {result['rate_per_second']:g} req/s, "
        f"{result['requests']:,} requests ({result['achieved_per_second']:g}/s achieved), "
        f"{result['workers']} workers"
    )
    for name in (
        "server_errors",
        "server_errors_while_redis_down",
        "lost_requests",
        "lost_requests_while_redis_down",
        "first_party_refused",
        "quota_windows",
        "quota_overshoot",
        "converged",
    ):
        print(f"  {name.replace('_', ' '):36} {result[name]}")
    print(f"  {'statuses':36} {result['statuses']}")
    print(f"  {'rules while redis was down':36} {result['rules_while_redis_down']}")
    for pid, start in result["rss_mib_start"].items():
        print(f"  worker {pid} RSS MiB {start} at start, {result['rss_mib_end'].get(pid)} at end")
    print("  operations: " + "; ".join(result["operations"]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0, help="length of the run (default 10)")
    parser.add_argument("--rate", type=float, default=200.0, help="requests per second sent (default 200)")
    parser.add_argument("--connections", type=int, default=16, help="client connections (default 16)")
    parser.add_argument("--json", type=Path, default=Path("out/soak.json"), help="where to write the figures")
    args = parser.parse_args(argv)
    if args.minutes <= 0 or args.rate <= 0 or args.connections <= 0:
        parser.error("--minutes, --rate and --connections must be positive")
    token = secrets.token_urlsafe(24)
    with TemporaryDirectory(prefix="gw467-soak-") as scratch:
        directory = Path(scratch)
        redis = RedisServer(directory)
        redis.start()
        try:
            options = (
                "--workers",
                "2",
                "--store",
                redis.url,
                "--state-dir",
                str(directory / "state"),
                "--no-decision-log",
            )
            # A fleet secret of this run's own, shared by the two workers through the environment.
            env = {ADMIN_TOKEN_VARIABLE: token, SECRET_VARIABLE: secrets.token_hex(16)}
            with gw467_serve(BASELINE, directory, *options, env=env) as server:
                result = asyncio.run(soak(server, redis, token, args.minutes, args.rate, args.connections))
        finally:
            redis.stop()
    print_report(result)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2) + "\n")
    healthy = result["server_errors"] == 0 and result["lost_requests"] == 0 and result["converged"]
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
