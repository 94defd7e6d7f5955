"""`gw467 serve`'s fleet options: a bad store URL is one line and exit 2; no admin API over workers
that share nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

PLANS = Path(__file__).resolve().parents[2] / "plans" / "2023-02-baseline.toml"


def serve(*options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gateway", "serve", "--plans", str(PLANS), *options],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
        env={**os.environ, **(env or {})},
    )


def test_a_store_url_that_names_no_redis_is_one_line_and_exit_2() -> None:
    for url in ("redis://127.0.0.1:port/0", "postgres://127.0.0.1/0", "redis://127.0.0.1:6379/zero"):
        done = serve("--store", url)
        assert done.returncode == 2, url
        assert done.stderr.count("\n") == 1 and "--store" in done.stderr and "Traceback" not in done.stderr


def test_the_admin_api_over_several_workers_is_refused_without_a_shared_store() -> None:
    done = serve("--workers", "2", "--store", "memory", env={"GW467_ADMIN_TOKEN": "t"})
    assert done.returncode == 2
    assert "--store redis://" in done.stderr
