"""Run settings: sizes, repetitions and paths, with the `--quick` preset."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "plans"
ALLOWING_PLANS = PLANS / "2023-03-06-billing-fixed.toml"
DENYING_PLANS = PLANS / "2023-03-06-billing.toml"
DEFAULT_OUT = Path("out") / "bench.json"
GROUPS = ("asgi", "pure", "decide", "replay", "server", "workers", "memory", "store", "validate", "impact")


@dataclass(frozen=True)
class Settings:
    """Everything a run depends on; the defaults are the full run (about three minutes on 2 cores)."""

    reps: int = 5
    requests: int = 20_000
    decisions: int = 100_000
    small_templates: int = 10
    medium_templates: int = 1_000
    large_templates: int = 10_000
    xlarge_templates: int = 100_000
    small_keys: int = 100
    medium_keys: int = 100_000
    large_keys: int = 1_000_000
    # 10,000,000 keys take 4 to 6 minutes and 8 GiB in a process of their own: only when asked.
    xlarge_keys: int | None = None
    server_requests: int = 20_000
    # A rep sends batches of `server_requests` until the server has used this many clock ticks
    # (10 ms each at Linux's usual 100 Hz): fewer ticks than that are too coarse a CPU reading.
    server_min_ticks: int = 50
    server_warmup: int = 2_000
    server_connections: int = 8
    # Lines in each generated log of the impact group (10,000,000 with --impact-lines).
    impact_lines: int = 1_000_000
    groups: tuple[str, ...] = GROUPS
    out: Path = DEFAULT_OUT
    quick: bool = False


QUICK = Settings(
    reps=3,
    requests=300,
    decisions=1_000,
    medium_templates=50,
    large_templates=200,
    xlarge_templates=400,
    medium_keys=300,
    large_keys=1_000,
    server_requests=300,
    server_min_ticks=5,
    server_warmup=50,
    impact_lines=3_000,
    quick=True,
)


def quick(settings: Settings) -> Settings:
    """The `--quick` preset, keeping the output path and groups of `settings`."""
    return replace(QUICK, out=settings.out, groups=settings.groups)
