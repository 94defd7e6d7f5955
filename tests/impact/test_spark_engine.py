"""On Spark, with two executor processes, `gw467 impact` counts what the middleware decides for
every line of the incident hour's decision log, and gives reports byte-identical to DuckDB's on
every log format, gzip and undecidable lines included.

One Spark application for the module (`local-cluster[2,1,1024]`: a master, two workers, one
executor each), started here and stopped at the end: Spark's start-up is the slow part."""

from __future__ import annotations

import gzip
import signal
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.impact.clients import ClientMapping, load_mapping
from gateway.impact.duckdb_engine import DuckDBEngine
from gateway.impact.engine import ImpactInput
from gateway.impact.formats import line_format
from gateway.impact.report import build_impact, impact_json
from gateway.impact.sources import log_files
from gateway.impact.spark_engine import SparkEngine
from tests.conftest import BASELINE, BILLING
from tests.impact import logs
from tests.impact.incident import incident_log, reference_counts
from tests.impact.test_duckdb_engine import decided_counts

pytestmark = pytest.mark.slow
MASTER = "local-cluster[2,1,1024]"
NO_MAPPING = ClientMapping()


@pytest.fixture(scope="module")
def spark() -> Iterator[Any]:
    session = SparkEngine(MASTER).session()
    session.sparkContext.setLogLevel("ERROR")
    try:
        yield session
    finally:
        session.stop()


def executors(session: Any) -> int:
    """Executors registered with the driver (the JVM's count includes the driver itself)."""
    deadline = time.monotonic() + 120
    while True:
        found = int(session.sparkContext._jsc.sc().getExecutorMemoryStatus().size()) - 1
        if found >= 2 or time.monotonic() > deadline:
            return found
        time.sleep(0.5)


def both(
    spark: Any, paths: list[str], form: str, mapping: ClientMapping = NO_MAPPING, **options: str
) -> tuple[str, str]:
    old, new = (compile_plan_set(load_plan_set(path)) for path in (BASELINE, BILLING))
    run = ImpactInput(
        log_files(paths), line_format(form, options.get("client_field") or mapping.field), mapping, old, new
    )
    reports = []
    for engine in (DuckDBEngine(), SparkEngine(MASTER, session=spark)):
        reports.append(impact_json(build_impact(engine.outcomes(run), old, new)))
    return reports[0], reports[1]


def test_spark_counts_equal_the_middlewares_line_by_line_with_two_executors(
    spark: Any, tmp_path: Path
) -> None:
    assert executors(spark) == 2
    log = incident_log(tmp_path)
    old, new = (compile_plan_set(load_plan_set(path)) for path in (BASELINE, BILLING))
    run = ImpactInput(log_files([str(log)]), line_format("gw467"), ClientMapping(), old, new)
    rows = SparkEngine(MASTER, session=spark).outcomes(run)
    assert decided_counts(rows) == reference_counts(log)
    assert rows == DuckDBEngine().outcomes(run)


def test_spark_and_duckdb_reports_are_byte_identical_on_nginx_alb_and_envoy_logs(
    spark: Any, tmp_path: Path
) -> None:
    traffic = logs.traffic()
    nginx = tmp_path / "access.log.gz"
    lines = [logs.nginx_combined(*request) for request in traffic]
    lines += [logs.nginx_combined(traffic[0][0], "-", "GET", "/2/tweets/12"), "garbage", ""]
    nginx.write_bytes(gzip.compress(("\n".join(lines) + "\n").encode() + b"bad \xff line\n"))
    mapping = tmp_path / "clients.toml"
    mapping.write_text(logs.MAPPING_TOML)
    alb = tmp_path / "alb.log"
    alb.write_text("".join(logs.alb(m, logs.USER_AGENTS[c], method, t) + "\n" for m, c, method, t in traffic))
    envoy = tmp_path / "envoy.json"
    envoy.write_text("".join(logs.envoy(*request) + "\n" for request in traffic) + "{not json\n")
    for paths, form, found_mapping, options in (
        ([str(nginx)], "nginx", ClientMapping(), {}),
        ([str(alb)], "alb", load_mapping(mapping), {}),
        ([str(envoy)], "envoy", ClientMapping(), {"client_field": "x_client_id"}),
    ):
        duck, spark_report = both(spark, paths, form, found_mapping, **options)
        assert duck == spark_report, form
        assert '"lines": ' in duck


def test_starting_spark_leaves_the_ctrl_c_handler_as_it_was(spark: Any) -> None:
    """SparkContext installs its own SIGINT handler; gw467's (and pytest's) is given back."""
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
