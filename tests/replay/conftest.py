"""Helpers for replay tests: short scenarios written next to the test, pointing at the real plans."""

from __future__ import annotations

from pathlib import Path

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
