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

from benchmarks.procfs import CLOCK_TICKS_PER_SECOND, tree_cpu_ticks
from benchmarks.results import Measurement, set_ratios
from benchmarks.server_bench import (
    VARIANTS,
    Server,
    TimedBatches,
    check,
    serving,
    timed_batches,
    until_answering,
)
from benchmarks.settings import Settings
from benchmarks.stats import Series, round_robin

GROUP = "workers"
WORKER_COUNTS = (1, 2, 4)
SHORT = {"bare": "bare app", "gateway": "gateway, metrics off"}
APPS = tuple(variant for variant in VARIANTS if variant.app in SHORT)


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


async def _timed(deployment: Deployment, settings: Settings, requests: int, min_ticks: int) -> TimedBatches:
    """One rep: the supervisor's and every worker's CPU ticks, over at least two connections per worker."""
    connections = max(settings.server_connections, 2 * deployment.workers)
    return await timed_batches(
        deployment.server, connections, requests, min_ticks, tree_cpu_ticks, deployment.name
    )


async def _run(
    settings: Settings, deployments: list[Deployment]
) -> dict[str, tuple[Series, list[float], list[int]]]:
    for deployment in deployments:
        await until_answering(deployment.server)
        await _timed(deployment, settings, settings.server_warmup, 0)  # every worker imported and warm
    figures: dict[str, tuple[Series, list[float], list[int]]] = {
        d.name: (Series(), [], []) for d in deployments
    }
    for rep, deployment in round_robin(deployments, settings.reps):
        await check(deployment.server)
        rep_cost = await _timed(deployment, settings, settings.server_requests, settings.server_min_ticks)
        cpu, rates, ticks = figures[deployment.name]
        ticks.append(rep_cost.ticks)
        cpu.add(round(rep_cost.ticks / CLOCK_TICKS_PER_SECOND * 1e9), rep_cost.requests)
        rates.append(rep_cost.requests / rep_cost.seconds)
        print(
            f"  workers rep {rep}/{settings.reps} {deployment.name}: "
            f"{rep_cost.ticks / CLOCK_TICKS_PER_SECOND / rep_cost.requests * 1e6:.1f} us CPU/request, "
            f"{rep_cost.requests / rep_cost.seconds:,.0f} req/s",
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
            cpu, per_second, ticks = figures[deployment.name]
            plural = "s" if workers > 1 else ""
            label = f"uvicorn, {workers} worker{plural}: {SHORT[deployment.server.variant.app]}"
            common = {"workers": workers, "cores": len(os.sched_getaffinity(0)), "note": note}
            timings.append(
                Measurement.timing(
                    deployment.name,
                    f"{label}, CPU/request",
                    GROUP,
                    "ns/request",
                    cpu,
                    cpu_ticks=ticks,
                    **common,
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
