"""Run settings: sizes, repetitions and paths, with the `--quick` preset."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLANS = ROOT / "plans"
ALLOWING_PLANS = PLANS / "2023-03-06-billing-fixed.toml"
DENYING_PLANS = PLANS / "2023-03-06-billing.toml"
DEFAULT_OUT = Path("out") / "bench.json"


@dataclass(frozen=True)
class Settings:
    """Everything a run depends on; the defaults are the full run (about a minute on 2 cores)."""

    reps: int = 5
    requests: int = 20_000
    decisions: int = 100_000
    small_templates: int = 10
    large_templates: int = 10_000
    small_keys: int = 100
    large_keys: int = 1_000_000
    out: Path = DEFAULT_OUT
    quick: bool = False


QUICK = Settings(reps=3, requests=300, decisions=1_000, large_templates=200, large_keys=1_000, quick=True)


def quick(settings: Settings) -> Settings:
    """The `--quick` preset, keeping the output path of `settings`."""
    return replace(QUICK, out=settings.out)
