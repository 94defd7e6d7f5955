"""Group 6: scaling under uvicorn with 1, 2 and 4 worker processes, the bare app against the gateway.

Each (app, workers) pair is a `benchmarks.serve --workers W` subprocess, unpinned; this process drives
it with `benchmarks.http_client` over keep-alive connections. Figures: requests per second and the
server's CPU time per request (the supervisor and every worker, from /proc), interleaved over reps.
The load client shares the machine: with as many workers as cores, or more, the workers and the
client compete for them, so beyond the core count the request rate measures oversubscription.
"""

from __future__ import annotations

import os
import statistics
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass

import uvloop

from benchmarks.http_client import connected
from benchmarks.procfs import CLOCK_TICKS_PER_SECOND, tree_cpu_ticks
from benchmarks.results import HarnessError, Measurement, set_ratios
from benchmarks.serve import HOST
from benchmarks.server_bench import VARIANTS, Server, check, request, serving, until_answering
from benchmarks.settings import Settings
from benchmarks.stats import Series, round_robin

GROUP = "workers"
WORKER_COUNTS = (1, 2, 4)
SHORT = {"bare": "bare app", "gateway": "gateway, metrics off"}
APPS = tuple(variant for variant in VARIANTS if variant.app in SHORT)
BATCH_TIMEOUT = 120.0


@dataclass(frozen=True)
class Deployment:
    """One app under uvicorn with `workers` worker processes."""

    server: Server
    workers: int

    @property
    def name(self) -> str:
        return f"{GROUP}.{self.server.variant.app}_{self.workers}"


def cores_note() -> str:
    cores = len(os.sched_getaffinity(0))
    return (
        f"this machine has {cores} cores: 4 workers oversubscribe them, and the load client shares them"
        if cores < max(WORKER_COUNTS)
        else f"{cores} cores; the load client shares them with the workers"
    )


@contextmanager
def _deployed(settings: Settings) -> Iterator[list[Deployment]]:
    with ExitStack() as stack:
        deployments = []
        for workers in WORKER_COUNTS:
            servers = stack.enter_context(serving(APPS, None, settings.out.parent, workers))
            deployments += [Deployment(server, workers) for server in servers]
        yield deployments


async def _timed(deployment: Deployment, settings: Settings, requests: int) -> tuple[int, float]:
    """Server CPU ticks (supervisor and workers) and wall seconds for one batch over fresh connections."""
    server = deployment.server
    connections = max(settings.server_connections, 2 * deployment.workers)
    try:
        async with connected(HOST, server.port, request(server), connections) as pool:
            before = tree_cpu_ticks(server.process.pid)
            result = await pool.send(requests, 200, BATCH_TIMEOUT)
            after = tree_cpu_ticks(server.process.pid)
    except (HarnessError, OSError) as error:
        raise HarnessError(f"{deployment.name}: {server.exited() or error}") from None
    return after - before, result.seconds


async def _run(settings: Settings, deployments: list[Deployment]) -> dict[str, tuple[Series, list[float]]]:
    for deployment in deployments:
        await until_answering(deployment.server)
        await _timed(deployment, settings, settings.server_warmup)  # every worker imported and warm
    figures: dict[str, tuple[Series, list[float]]] = {d.name: (Series(), []) for d in deployments}
    requests = settings.server_requests
    for rep, deployment in round_robin(deployments, settings.reps):
        await check(deployment.server)
        ticks, seconds = await _timed(deployment, settings, requests)
        cpu, rates = figures[deployment.name]
        cpu.add(round(ticks / CLOCK_TICKS_PER_SECOND * 1e9), requests)
        rates.append(requests / seconds)
        print(
            f"  workers rep {rep}/{settings.reps} {deployment.name}: "
            f"{ticks / CLOCK_TICKS_PER_SECOND / requests * 1e6:.1f} us CPU/request, "
            f"{requests / seconds:,.0f} req/s",
            file=sys.stderr,
        )
    return figures


def run(settings: Settings) -> list[Measurement]:
    """Per (app, workers): server CPU per request (ratio to the bare app at the same workers) and req/s."""
    note = cores_note()
    print(
        f"workers: bare and gateway under uvicorn with {', '.join(map(str, WORKER_COUNTS))} workers x "
        f"{settings.reps} reps x {settings.server_requests:,} requests; {note}",
        file=sys.stderr,
    )
    with _deployed(settings) as deployments:
        figures = uvloop.run(_run(settings, deployments))
    measurements: list[Measurement] = []
    for workers in WORKER_COUNTS:
        timings, rates = [], []
        for deployment in (d for d in deployments if d.workers == workers):
            cpu, per_second = figures[deployment.name]
            plural = "s" if workers > 1 else ""
            label = f"uvicorn, {workers} worker{plural}: {SHORT[deployment.server.variant.app]}"
            common = {"workers": workers, "cores": len(os.sched_getaffinity(0)), "note": note}
            timings.append(
                Measurement.timing(
                    deployment.name, f"{label}, CPU/request", GROUP, "ns/request", cpu, **common
                )
            )
            rates.append(
                Measurement.spread(
                    f"{deployment.name}.requests_per_second",
                    f"{label}, req/s",
                    GROUP,
                    "req/s",
                    per_second,
                    **common,
                )
            )
        set_ratios(timings, timings[0])
        measurements += [*timings, *rates]
    one_worker = {m.name: m for m in measurements}
    for measurement in measurements:
        if measurement.unit == "req/s":
            app = measurement.name.split(".")[1].rsplit("_", 1)[0]
            base = one_worker[f"{GROUP}.{app}_1.requests_per_second"]
            measurement.details["speedup_over_1_worker"] = (
                statistics.median(measurement.samples) / base.median
            )
    return measurements
