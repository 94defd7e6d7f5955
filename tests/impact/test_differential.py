"""`gw467 impact` on DuckDB counts exactly what the middleware decides for every line of a
decision log of the replay's incident hour, and its gate states the same first-party figure."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.cli.main import main
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import load_plan_set
from gateway.impact.clients import ClientMapping
from gateway.impact.duckdb_engine import DuckDBEngine
from gateway.impact.engine import ImpactInput
from gateway.impact.formats import line_format
from gateway.impact.sources import log_files
from tests.conftest import BASELINE, BILLING
from tests.impact.incident import first_party_losses, incident_log, reference_counts
from tests.impact.test_duckdb_engine import decided_counts, reasons
from tests.impact.test_impact_command import gate_figure


@pytest.fixture(scope="module")
def log(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return incident_log(tmp_path_factory.mktemp("incident"))


def test_the_replay_log_holds_method_path_and_the_version_in_force_on_every_line(log: Path) -> None:
    text = log.read_text()
    baseline, billing = (load_plan_set(path).digest for path in (BASELINE, BILLING))
    assert text.count('"plan_version":"') == len(text.splitlines()) > 5000
    assert f'"plan_version":"{baseline}"' in text and f'"plan_version":"{billing}"' in text
    assert '"method":null' not in text and '"path":null' not in text


@pytest.mark.slow
def test_duckdb_counts_equal_the_middlewares_line_by_line(
    log: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old, new = (compile_plan_set(load_plan_set(path)) for path in (BASELINE, BILLING))
    run = ImpactInput(log_files([str(log)]), line_format("gw467"), ClientMapping(), old, new)
    rows = DuckDBEngine().outcomes(run)
    expected = reference_counts(log)
    assert decided_counts(rows) == expected and reasons(rows) == {}
    first_party = {client.id for client in old.clients if client.first_party}
    losses = first_party_losses(expected, first_party)
    assert losses > 1000
    assert main(["impact", str(BASELINE), str(BILLING), str(log)]) == 1
    assert gate_figure(capsys.readouterr().out) == losses
