"""`make soak` in miniature: the same harness for a few seconds, so a broken soak is seen in CI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks import soak


@pytest.mark.slow
def test_a_short_soak_sees_no_5xx_no_lost_request_and_a_converged_fleet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    figures = tmp_path / "soak.json"
    assert soak.main(["--minutes", "0.15", "--rate", "80", "--json", str(figures)]) == 0
    result = json.loads(figures.read_text())
    assert result["requests"] > 300 and result["workers"] == 2
    assert result["server_errors"] == result["lost_requests"] == 0
    assert result["first_party_refused"] == 0
    assert result["converged"] is True and len(result["worker_versions"]) == 1
    assert set(result["rss_mib_start"]) == set(result["rss_mib_end"]) and len(result["rss_mib_end"]) == 2
    # The restart happened and was answered by the declared policy, not by 467 or 429.
    assert "redis-server killed" in result["operations"]
    assert result["rules_while_redis_down"]
    assert "soak:" in capsys.readouterr().out
