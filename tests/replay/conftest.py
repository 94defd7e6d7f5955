"""Helpers for replay tests: short scenarios written next to the test, pointing at the real plans,
and the shipped scenarios replayed in full once per test session, shared by every test that reads one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from gateway.fronts.inprocess import call_asgi
from gateway.replay.engine import ReplayEngine, ReplayRecord, StatusAtMinute
from gateway.replay.scenario import load_scenario
from tests.conftest import BASELINE, BILLING, ROOT

SHORT_TRAFFIC = """
[[traffic]]
client = "tco"
key = "gw467-demo-tco"
per_minute = 40
mix = { "links.resolve" = 1 }

[[traffic]]
client = "media"
key = "gw467-demo-media"
per_minute = 30
mix = { "media.view" = 3, "media.upload" = 1 }

[[traffic]]
client = "web"
key = "gw467-demo-web"
per_minute = 50
mix = { "timeline.home" = 2, "tweets.create" = 1, "links.resolve" = 1 }

[[traffic]]
client = "newsdesk-pro"
key = "gw467-demo-newsdesk-pro"
per_minute = 20
mix = { "tweets.lookup" = 1, "search.all" = 1 }
"""


def short_scenario(
    directory: Path,
    *,
    events: str | None = None,
    minutes: int = 6,
    header_extra: str = "",
    traffic: str = SHORT_TRAFFIC,
) -> Path:
    """A 6-minute scenario: billing plan pushed at minute 2, rolled back at minute 4."""
    if events is None:
        events = f"""
[[events]]
minute = 2
action = "push_plans"
file = "{BILLING}"
note = "billing ships"

[[events]]
minute = 4
action = "rollback_plans"
note = "rolled back"
"""
    text = f"""
name = "short"
title = "a short replay"
start = 2023-03-06T08:58:00-08:00
timezone = "PST"
minutes = {minutes}
seed = 7
plans = "{BASELINE}"
services = "{ROOT / "scenarios" / "services" / "healthy.toml"}"
{header_extra}
{traffic}
{events}
"""
    path = directory / "short.toml"
    path.write_text(text)
    return path


@dataclass(frozen=True)
class ShippedReplay:
    """A shipped scenario replayed in full: the record, and GET /_gw467/status at the end of each minute."""

    record: ReplayRecord
    status_pages: tuple[dict[str, object], ...]

    def by_minute(self) -> Iterator[tuple[int, dict[str, object], StatusAtMinute]]:
        """(minute, the status page served then, what the record kept of it), for every minute."""
        for minute, kept in enumerate(self.record.status_by_minute):
            yield minute, self.status_pages[minute], kept


def replay_in_full(name: str) -> ShippedReplay:
    engine = ReplayEngine(load_scenario(ROOT / "scenarios" / f"{name}.toml"))
    pages: list[dict[str, object]] = []

    def read_status_page(minute: int) -> None:
        # on_minute runs inside the replay's event loop, so the in-process call gets a loop of its own.
        with ThreadPoolExecutor(max_workers=1) as thread:
            response = thread.submit(asyncio.run, call_asgi(engine.front, "GET", "/_gw467/status")).result()
        assert response.status == 200, (name, minute, response.body)
        pages.append(json.loads(response.body))

    record = asyncio.run(engine.run(on_minute=read_status_page))
    return ShippedReplay(record, tuple(pages))


@pytest.fixture(scope="session")
def _shipped_replays() -> dict[str, ShippedReplay]:
    return {}


@pytest.fixture
def shipped(request: pytest.FixtureRequest, _shipped_replays: dict[str, ShippedReplay]) -> ShippedReplay:
    """The full replay of the test module's `SCENARIO` (scenarios/SCENARIO.toml), run on first use, kept.

    A full hour is 300,000 requests and 25 to 60 s; every test of a shipped scenario shares its
    replay, so each is replayed once per session. One module per scenario (test_shipped_*.py):
    pytest-xdist (`make test`, --dist loadfile) keeps a module on one worker, so that holds there too.
    """
    name: str = request.module.SCENARIO
    if name not in _shipped_replays:
        _shipped_replays[name] = replay_in_full(name)
    return _shipped_replays[name]
