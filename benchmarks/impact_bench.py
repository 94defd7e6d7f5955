"""Group `impact`: `gw467 impact`'s lines per second per core, beside DuckDB's own scan and group-by.

Two generated logs of `impact_lines` lines each: nginx `combined` (a path of its own on almost
every line: the worst case for deciding, since each distinct request is decided) and the gw467
decision log. Per repetition, interleaved: DuckDB alone (the same parse and group-by that
`gw467 impact` runs, fetched as Arrow: the limit for this design), then the whole impact run
(the same plus deciding each distinct request under both plans and summing the outcomes). Both
on one DuckDB thread, so the figures are per core; the ratio is impact's rate over DuckDB's.
Then one run on Spark local (`local[2]`) on the nginx file, start-up excluded. A rich progress
bar shows on a terminal; piped, the group prints one line per step.
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from rich.progress import Progress

from benchmarks.results import HarnessError, Measurement
from benchmarks.settings import ALLOWING_PLANS, PLANS, Settings
from benchmarks.stats import Series
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.impact.clients import ClientMapping
from gateway.impact.duckdb_engine import DuckDBEngine, lines_query
from gateway.impact.engine import ImpactInput
from gateway.impact.formats import line_format
from gateway.impact.query import DUCKDB, requests_query
from gateway.impact.sources import log_files
from gateway.impact.spark_engine import SparkEngine

GROUP = "impact"
BASELINE = PLANS / "2023-02-baseline.toml"
CLIENTS = ("web", "ios", "android", "tweetdeck", "tco", "media", "login", "sunrise-bot", "newsdesk-pro")
# Paths by template, the first with a value of its own per line (so about a million distinct paths).
TEMPLATES = ("/2/tweets/{n}", "/2/links/t{n}", "/2/users/{n}", "/2/timeline/home", "/2/media/3_{n}")


def write_nginx(path: Path, lines: int) -> None:
    with path.open("w") as out:
        for n in range(lines):
            minute, second = divmod(n * 3600 // max(lines, 1), 60)
            target = TEMPLATES[n % len(TEMPLATES)].format(n=n)
            stamp = f"06/Mar/2023:09:{minute % 60:02d}:{second:02d} -0800"
            out.write(
                f"203.0.113.{n % 250} - {CLIENTS[n % len(CLIENTS)]} [{stamp}] "
                f'"GET {target}?cursor={n} HTTP/1.1" 200 {n % 9000} "-" "Mozilla/5.0 (bench)"\n'
            )


def write_decision_log(path: Path, lines: int) -> None:
    with path.open("w") as out:
        for n in range(lines):
            minute, second = divmod(n * 3600 // max(lines, 1), 60)
            record = {
                "time": f"2023-03-06T17:{minute % 60:02d}:{second:02d}.000Z",
                "client": CLIENTS[n % len(CLIENTS)],
                "class": "web",
                "method": "GET",
                "path": TEMPLATES[n % len(TEMPLATES)].format(n=n % 50_000),
                "endpoint": "tweets.lookup",
                "rule": "exempt:first_party",
                "status": 200,
                "duration_ms": 0.1,
                "plan_version": "0" * 64,
            }
            out.write(json.dumps(record, separators=(",", ":")) + "\n")


@contextmanager
def progress_of(total: int) -> Iterator[Callable[[str], None]]:
    """A rich progress bar on a terminal; one line per step on stderr when piped."""
    with Progress(disable=not sys.stderr.isatty(), transient=True) as progress:
        task = progress.add_task("impact", total=total)

        def step(what: str) -> None:
            progress.update(task, advance=1, description=what)
            if progress.disable:
                print(f"  impact: {what}", file=sys.stderr)

        yield step


def raw_scan(run: ImpactInput) -> int:
    """DuckDB alone: the impact run's parse and group-by, fetched as Arrow; the distinct requests."""
    connection = DuckDBEngine(threads=1).connect()
    try:
        connection.execute(f"CREATE VIEW lines AS {lines_query(run.files)}")
        return int(connection.sql(requests_query(DUCKDB, run.form, run.mapping)).to_arrow_table().num_rows)
    finally:
        connection.close()


def run(settings: Settings) -> list[Measurement]:
    lines = settings.impact_lines
    old, new = compile_plan_set(load_plan_set(BASELINE)), compile_plan_set(load_plan_set(ALLOWING_PLANS))
    measurements: list[Measurement] = []
    spark_steps = 0 if settings.quick else 1
    print(f"impact: {settings.reps} reps on two generated logs of {lines:,} lines", file=sys.stderr)
    with tempfile.TemporaryDirectory() as directory, progress_of(2 + 4 * settings.reps + spark_steps) as step:
        logs = {"nginx": Path(directory) / "access.log", "gw467": Path(directory) / "decisions.log"}
        write_nginx(logs["nginx"], lines)
        step("nginx log written")
        write_decision_log(logs["gw467"], lines)
        step("decision log written")
        runs = {
            name: ImpactInput(log_files([str(path)]), line_format(name), ClientMapping(), old, new)
            for name, path in logs.items()
        }
        for name, impact_run in runs.items():
            raw, full = Series(), Series()
            distinct = 0
            for rep in range(1, settings.reps + 1):
                started = time.perf_counter_ns()
                distinct = raw_scan(impact_run)
                raw.add(time.perf_counter_ns() - started, lines)
                step(f"{name}: DuckDB scan and group-by, rep {rep}")
                started = time.perf_counter_ns()
                rows = DuckDBEngine(threads=1).outcomes(impact_run)
                full.add(time.perf_counter_ns() - started, lines)
                step(f"{name}: gw467 impact, rep {rep}")
                if sum(row.requests for row in rows) != lines:
                    raise HarnessError(
                        f"impact on the {name} log counted {sum(r.requests for r in rows)} lines"
                    )
            raw_row = Measurement.timing(
                f"impact.{name}_duckdb_raw",
                f"{name} log: DuckDB scan and group-by, 1 thread",
                GROUP,
                "ns/line",
                raw,
                lines=lines,
                lines_per_second_per_core=1e9 / raw.median,
                distinct_requests=distinct,
            )
            full_row = Measurement.timing(
                f"impact.{name}_impact",
                f"{name} log: gw467 impact (DuckDB, 1 thread)",
                GROUP,
                "ns/line",
                full,
                lines=lines,
                lines_per_second_per_core=1e9 / full.median,
                share_of_duckdb_rate=raw.median / full.median,
            )
            for row in (raw_row, full_row):
                row.baseline = raw_row.name
                row.ratio = row.median / raw_row.median
            measurements += [raw_row, full_row]
        if spark_steps:
            measurements.append(_spark(runs["nginx"], lines))
            step("nginx: Spark local[2]")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    measurements.append(
        Measurement.info("impact.peak_rss", "impact: peak RSS of the bench process", GROUP, "MiB", peak)
    )
    return measurements


def _spark(impact_run: ImpactInput, lines: int) -> Measurement:
    engine = SparkEngine("local[2]")
    session = engine.session()
    session.sparkContext.setLogLevel("ERROR")
    try:
        started = time.perf_counter_ns()
        rows = engine.outcomes(impact_run)
        elapsed = time.perf_counter_ns() - started
    finally:
        session.stop()
    if sum(row.requests for row in rows) != lines:
        raise HarnessError("impact on Spark counted a different number of lines")
    series = Series()
    series.add(elapsed, lines)
    return Measurement.timing(
        "impact.nginx_spark_local",
        "nginx log: gw467 impact on Spark local[2] (start-up excluded)",
        GROUP,
        "ns/line",
        series,
        lines=lines,
        lines_per_second_per_core=1e9 / series.median / 2,
    )
