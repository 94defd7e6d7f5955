"""A real redis-server for the fleet tests (`tests.processes.RedisServer`), stopped when the test ends.

Tests may kill it (`stop(kill=True)`) and start it again on the same port, as an outage would.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.processes import RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    directory = tmp_path / "redis"
    directory.mkdir()
    server = RedisServer(directory)
    server.start()
    try:
        yield server
    finally:
        server.stop()
