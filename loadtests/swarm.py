"""The Locust processes of one run: a local runner, or a master and N workers, all on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loadtests import LOCUSTFILE, REPORT_VARIABLE, ROOT, STARTED_VARIABLE
from loadtests.server import HOST, free_port, stop_process

# A master waits this long for its workers before giving up, so a run stays bounded.
WORKERS_MAX_WAIT_SECONDS = 30


@dataclass(frozen=True)
class Swarm:
    """What Locust runs against, how hard and how long, and where its reports land."""

    host: str
    users: int
    spawn_rate: float
    duration: int
    user_rate: float
    plans: tuple[Path, ...]
    workers: int
    out: Path

    @property
    def report(self) -> Path:
        return self.out / "loadtest.json"

    @property
    def started_marker(self) -> Path:
        return self.out / "loadtest.started"

    @property
    def csv_prefix(self) -> Path:
        return self.out / "loadtest"

    @property
    def html(self) -> Path:
        return self.out / "loadtest.html"

    def log(self, role: str) -> Path:
        return self.out / f"loadtest-{role}.log"

    def commands(self, master_port: int) -> list[tuple[str, list[str]]]:
        """(role, command) for each process; the first is the one whose exit code is the run's."""
        locust = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
        ours = ["--user-rate", f"{self.user_rate:g}", "--plans", ",".join(str(path) for path in self.plans)]
        runner = [
            *locust,
            "--headless",
            "--host",
            self.host,
            "--users",
            str(self.users),
            "--spawn-rate",
            f"{self.spawn_rate:g}",
            "--run-time",
            f"{self.duration}s",
            "--csv",
            str(self.csv_prefix),
            "--html",
            str(self.html),
            "--only-summary",
            *ours,
        ]
        if self.workers == 0:
            return [("locust", runner)]
        master = [
            *runner,
            "--master",
            "--master-bind-host",
            HOST,
            "--master-bind-port",
            str(master_port),
            "--expect-workers",
            str(self.workers),
            "--expect-workers-max-wait",
            str(WORKERS_MAX_WAIT_SECONDS),
        ]
        worker = [*locust, "--worker", "--master-host", HOST, "--master-port", str(master_port), *ours]
        return [("master", master)] + [(f"worker-{n}", worker) for n in range(1, self.workers + 1)]


@contextmanager
def swarming(swarm: Swarm) -> Iterator[subprocess.Popen[Any]]:
    """Start the Locust processes; yield the runner (or master); stop every one of them on the way out."""
    swarm.out.mkdir(parents=True, exist_ok=True)
    # A report or marker left by an earlier run must never be read as this run's.
    swarm.report.unlink(missing_ok=True)
    swarm.started_marker.unlink(missing_ok=True)
    environment = {
        **os.environ,
        REPORT_VARIABLE: str(swarm.report),
        STARTED_VARIABLE: str(swarm.started_marker),
    }
    with ExitStack() as stack:
        processes: list[subprocess.Popen[Any]] = []
        stack.callback(swarm.started_marker.unlink, missing_ok=True)
        stack.callback(_stop_all, processes)
        for role, command in swarm.commands(free_port() if swarm.workers else 0):
            log = stack.enter_context(swarm.log(role).open("wb"))
            processes.append(
                subprocess.Popen(command, cwd=ROOT, env=environment, stdout=log, stderr=subprocess.STDOUT)
            )
        yield processes[0]


def _stop_all(processes: list[subprocess.Popen[Any]]) -> None:
    """The master first, so it does not wait on workers already gone; workers get a moment to quit."""
    for index, process in enumerate(processes):
        stop_process(process, grace=0.0 if index == 0 else 10.0)
