"""Group 3: server CPU time per request under uvicorn, the bare app against the gateway, interleaved.

Each app runs in its own `benchmarks.serve` subprocess pinned to one core; this process, pinned to
another, drives it with `benchmarks.http_client` over a few keep-alive connections. The figure is the
server's CPU time (utime + stime from /proc/PID/stat) over a fixed number of requests, so a busy
machine moves the request rate (reported as information) far more than the figure.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop

from benchmarks.apps import UPSTREAM_BODY
from benchmarks.asgi_bench import KEY, METHOD, PATH
from benchmarks.http_client import connected, fetch, request_bytes
from benchmarks.procfs import CLOCK_TICKS_PER_SECOND, cpu_ticks
from benchmarks.results import HarnessError, Measurement, set_ratios
from benchmarks.serve import HOST
from benchmarks.settings import ROOT, Settings
from benchmarks.stats import Series, round_robin
from gateway.request_path.responses import RULE_HEADER
from loadtests.server import free_port, stop_process

GROUP = "server"
STARTUP_TIMEOUT = 20.0
# Far above any batch's expected time; only a stuck server gets near it.
BATCH_TIMEOUT = 120.0


@dataclass(frozen=True)
class Variant:
    """An app of `benchmarks.serve` and the x-gw467-rule header its answer must carry (None: no header)."""

    name: str
    label: str
    app: str
    rule: str | None
    key: str = KEY  # the bearer key of the request every rep sends


VARIANTS = (
    Variant("server.bare", "uvicorn: bare app", "bare", None),
    Variant("server.gateway", "uvicorn: gateway, metrics off", "gateway", "exempt:first_party"),
    Variant(
        "server.gateway_metrics", "uvicorn: gateway, metrics on", "gateway-metrics", "exempt:first_party"
    ),
)


@dataclass(frozen=True)
class Pinning:
    """The cores the servers and this process (the load client) run on, or why they are not pinned."""

    server_cpu: int | None
    client_cpu: int | None
    note: str


def pinning() -> Pinning:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        return Pinning(None, None, f"not pinned: only {len(cpus)} CPU available, server and client share it")
    return Pinning(cpus[0], cpus[1], f"server pinned to CPU {cpus[0]}, load client to CPU {cpus[1]}")


@dataclass(frozen=True)
class Server:
    variant: Variant
    port: int
    process: subprocess.Popen[Any]
    log: Path

    def exited(self) -> str | None:
        """Why the server is not running (its exit code and last log line), or None while it runs."""
        code = self.process.poll()
        if code is None:
            return None
        last = self.log.read_text(errors="replace").strip().splitlines()[-1:] or ["no output"]
        return f"{self.variant.app} server exited with code {code}: {last[0]}"


@contextmanager
def serving(
    variants: tuple[Variant, ...], cpu: int | None, logs: Path, workers: int = 1
) -> Iterator[list[Server]]:
    """Each variant under `benchmarks.serve` on a free port (pinned to `cpu`, or with `workers`)."""
    logs.mkdir(parents=True, exist_ok=True)
    servers: list[Server] = []
    try:
        for variant in variants:
            port = free_port()
            log = logs / f"bench-server-{variant.app}-{workers}w.log"
            command = [sys.executable, "-m", "benchmarks.serve", variant.app, "--port", str(port)]
            if cpu is not None:
                command += ["--cpu", str(cpu)]
            if workers != 1:
                command += ["--workers", str(workers)]
            with log.open("wb") as output:
                process = subprocess.Popen(command, cwd=ROOT, stdout=output, stderr=subprocess.STDOUT)
            servers.append(Server(variant, port, process, log))
        yield servers
    finally:
        for server in servers:
            stop_process(server.process)


def request(server: Server) -> bytes:
    # The same bytes to every server of a group: the bare app ignores the key, the gateway decides on it.
    return request_bytes(
        METHOD,
        PATH,
        f"{HOST}:{server.port}",
        {"User-Agent": "gw467-bench", "Accept": "*/*", "Authorization": f"Bearer {server.variant.key}"},
    )


async def check(server: Server) -> int:
    """One request on its own connection; HarnessError unless it is the 200 the variant must give."""
    response = await fetch(HOST, server.port, request(server))
    variant = server.variant
    rule = response.headers.get(RULE_HEADER.decode())
    problems = []
    if response.status != 200:
        problems.append(f"status {response.status}, expected 200")
    if response.body != UPSTREAM_BODY:
        problems.append(f"body {response.body[:80]!r}, expected {UPSTREAM_BODY!r}")
    if rule != variant.rule:
        problems.append(f"rule header {rule!r}, expected {variant.rule!r}")
    if problems:
        raise HarnessError(
            f"{variant.name} ({variant.label}) answered {METHOD} {PATH} wrongly: {'; '.join(problems)}"
            " -- refusing to time the wrong code path"
        )
    return response.status


async def until_answering(server: Server) -> int:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while True:
        problem = server.exited()
        if problem is not None:
            raise HarnessError(problem)
        try:
            return await check(server)
        except OSError:
            if time.monotonic() > deadline:
                raise HarnessError(
                    f"{server.variant.app} server did not answer on {HOST}:{server.port} within "
                    f"{STARTUP_TIMEOUT:.0f} s; see {server.log}"
                ) from None
            await asyncio.sleep(0.05)


@dataclass
class _Figures:
    cpu: Series
    requests_per_second: list[float]
    client_cpu_share: list[float]
    server_cpu_share: list[float]
    ticks: list[int]
    requests: list[int]
    observed_status: int


@dataclass(frozen=True)
class TimedBatches:
    """What one rep cost: the server's CPU ticks, and the client's count, wall and CPU seconds."""

    ticks: int
    requests: int
    seconds: float
    client_cpu_seconds: float


async def timed_batches(
    server: Server,
    connections: int,
    requests: int,
    min_ticks: int,
    read_ticks: Callable[[int], int] = cpu_ticks,
    name: str | None = None,
) -> TimedBatches:
    """One batch of `requests` over fresh connections, then more until the server has used
    `min_ticks` clock ticks; `name` (the variant's by default) is what an error names.

    CPU time comes from /proc in whole ticks, so a batch shorter than a few ticks could read as
    zero; the rep goes on until the reading is coarse by at most 1/`min_ticks`. The connections
    are opened before and closed after the readings, so accepts are not counted.
    """
    sent = 0
    seconds = client_cpu = 0.0
    try:
        async with connected(HOST, server.port, request(server), connections) as pool:
            before = read_ticks(server.process.pid)
            while True:
                result = await pool.send(requests, 200, BATCH_TIMEOUT)
                sent += result.requests
                seconds += result.seconds
                client_cpu += result.client_cpu_seconds
                ticks = read_ticks(server.process.pid) - before
                if ticks >= min_ticks:
                    break
    except (HarnessError, OSError) as error:
        raise HarnessError(f"{name or server.variant.name}: {server.exited() or error}") from None
    return TimedBatches(ticks, sent, seconds, client_cpu)


async def _run(settings: Settings, servers: list[Server]) -> dict[str, _Figures]:
    figures = {
        server.variant.name: _Figures(Series(), [], [], [], [], [], await until_answering(server))
        for server in servers
    }
    connections = settings.server_connections
    for server in servers:
        await timed_batches(server, connections, settings.server_warmup, 0)
    for rep, server in round_robin(servers, settings.reps):
        await check(server)
        rep_cost = await timed_batches(
            server, connections, settings.server_requests, settings.server_min_ticks
        )
        series = figures[server.variant.name]
        cpu_seconds = rep_cost.ticks / CLOCK_TICKS_PER_SECOND
        seconds = rep_cost.seconds
        series.cpu.add(round(cpu_seconds * 1e9), rep_cost.requests)
        series.requests_per_second.append(rep_cost.requests / seconds)
        series.client_cpu_share.append(rep_cost.client_cpu_seconds / seconds)
        series.server_cpu_share.append(cpu_seconds / seconds)
        series.ticks.append(rep_cost.ticks)
        series.requests.append(rep_cost.requests)
        print(
            f"  server rep {rep}/{settings.reps} {server.variant.name}: "
            f"{cpu_seconds / rep_cost.requests * 1e6:.1f} us CPU/request, "
            f"{rep_cost.requests / seconds:,.0f} req/s, server CPU {cpu_seconds / seconds:.0%}, "
            f"client CPU {rep_cost.client_cpu_seconds / seconds:.0%}",
            file=sys.stderr,
        )
    return figures


@contextmanager
def _pinned(cpu: int | None) -> Iterator[None]:
    if cpu is None:
        yield
        return
    previous = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        yield
    finally:
        os.sched_setaffinity(0, previous)


def run(settings: Settings) -> list[Measurement]:
    """Each server's CPU per request (ratio to the bare app's) and its request rate (information)."""
    return measure(settings, VARIANTS, GROUP)


def measure(settings: Settings, variants: tuple[Variant, ...], group: str) -> list[Measurement]:
    """`variants` under uvicorn, interleaved: CPU per request (ratios to the first) and req/s."""
    cores = pinning()
    print(
        f"{group}: {len(variants)} uvicorn servers x {settings.reps} reps x {settings.server_requests:,} "
        f"requests over {settings.server_connections} connections; {cores.note}",
        file=sys.stderr,
    )
    with serving(variants, cores.server_cpu, settings.out.parent) as servers, _pinned(cores.client_cpu):
        figures = uvloop.run(_run(settings, servers))
    timings: list[Measurement] = []
    rates: list[Measurement] = []
    for variant in variants:
        figure = figures[variant.name]
        common = {
            "requests_per_batch": settings.server_requests,
            "min_cpu_ticks_per_rep": settings.server_min_ticks,
            "connections": settings.server_connections,
            "pinning": cores.note,
            "request": f"{METHOD} {PATH}",
        }
        timings.append(
            Measurement.timing(
                variant.name,
                f"{variant.label}, CPU/request",
                group,
                "ns/request",
                figure.cpu,
                cpu_ticks=figure.ticks,
                requests_per_rep=figure.requests,
                clock_ticks_per_second=CLOCK_TICKS_PER_SECOND,
                observed_status=figure.observed_status,
                **common,
            )
        )
        rates.append(
            Measurement.spread(
                f"{variant.name}.requests_per_second",
                f"{variant.label}, req/s (server CPU {statistics.median(figure.server_cpu_share):.0%}, "
                f"client {statistics.median(figure.client_cpu_share):.0%})",
                group,
                "req/s",
                figure.requests_per_second,
                server_cpu_share=figure.server_cpu_share,
                client_cpu_share=figure.client_cpu_share,
                **common,
            )
        )
    set_ratios(timings, timings[0])
    return [*timings, *rates]
