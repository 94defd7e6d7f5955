"""The performance targets: bounds on ratios (or figures) of one run, each judged "pass" or "miss".

A miss is reported, never raised: the harness measures, people decide. A target whose figures the run
did not produce (a group left out with --groups) is "n/a".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from benchmarks.results import Measurement
from benchmarks.settings import Settings

GIB_IN_MIB = 1024.0


@dataclass(frozen=True)
class Target:
    """`numerator` (over `denominator`'s median, when given) must be at most, or at least, `limit`."""

    name: str
    label: str
    numerator: str
    denominator: str | None
    bound: str  # "at most" (<=), "under" (<) or "at least" (>=)
    limit: float
    unit: str  # "x", "share", "s", "MiB"


def targets(settings: Settings) -> tuple[Target, ...]:
    """The issue's targets, labelled with this run's sizes."""
    templates = f"{settings.large_templates:,} templates"
    keys = f"{settings.large_keys:,} keys"
    return (
        Target(
            "gateway_allowed_overhead",
            "in process: gateway allowing, metrics off / bare app",
            "asgi.gateway_allowed",
            "asgi.bare",
            "at most",
            1.20,
            "x",
        ),
        Target(
            "gateway_metrics_overhead",
            "in process: gateway allowing, metrics on / bare app",
            "asgi.gateway_metrics",
            "asgi.bare",
            "at most",
            1.35,
            "x",
        ),
        Target(
            "denial_cost",
            "in process: 467 denial / bare app's allowed request",
            "asgi.gateway_467",
            "asgi.bare",
            "at most",
            0.50,
            "x",
        ),
        Target(
            "decide_templates_scaling",
            f"decide: {templates} / {settings.small_templates:,} templates",
            "decide.templates_large",
            "decide.templates_small",
            "at most",
            1.20,
            "x",
        ),
        Target(
            "decide_keys_scaling",
            f"decide: {keys} / {settings.small_keys:,} keys",
            "decide.keys_large",
            "decide.keys_small",
            "at most",
            1.20,
            "x",
        ),
        Target(
            "decide_templates_xlarge_scaling",
            f"decide: {settings.xlarge_templates:,} / {settings.small_templates:,} templates",
            "decide.templates_xlarge",
            "decide.templates_small",
            "at most",
            1.20,
            "x",
        ),
        Target(
            "decide_keys_xlarge_scaling",
            f"decide: {settings.xlarge_keys:,} / 100 keys, in one process"
            if settings.xlarge_keys
            else "decide: --xlarge-keys N / 100 keys, in one process",
            "decide.keys_xlarge",
            "decide.keys_xlarge_reference",
            "at most",
            1.20,
            "x",
        ),
        Target(
            "server_cpu_overhead",
            "uvicorn: server CPU per request, gateway (metrics off) / bare app",
            "server.gateway",
            "server.bare",
            "at most",
            1.15,
            "x",
        ),
        Target(
            "control_detects_basehttp",
            "BaseHTTPMiddleware control / gateway (else the harness is broken)",
            "asgi.basehttp_gateway",
            "asgi.gateway_allowed",
            "at least",
            3.0,
            "x",
        ),
        Target(
            "replay_rate",
            "replay's virtual request rate / in-process gateway call rate",
            # A rate ratio is the inverse time ratio: gateway call time over replay time per request.
            "replay.gateway_call",
            "replay.virtual_request",
            "at least",
            0.50,
            "share",
        ),
        Target(
            "impact_rate",
            "gw467 impact's lines/s on the nginx log / DuckDB's own scan and group-by",
            # As for the replay: the rate ratio is DuckDB's time per line over impact's.
            "impact.nginx_duckdb_raw",
            "impact.nginx_impact",
            "at least",
            0.50,
            "share",
        ),
        Target(
            "keys_compile_time", f"{keys}: compile time", "build.keys_large.compile", None, "under", 10.0, "s"
        ),
        Target(
            "keys_compile_memory",
            f"{keys}: peak RSS growth (PlanSet + compile)",
            "build.keys_large.peak_rss",
            None,
            "under",
            GIB_IN_MIB,
            "MiB",
        ),
        Target(
            "templates_compile_time",
            f"{templates}: compile time",
            "build.templates_large.compile",
            None,
            "under",
            10.0,
            "s",
        ),
        Target(
            "templates_compile_memory",
            f"{templates}: peak RSS growth (PlanSet + compile)",
            "build.templates_large.peak_rss",
            None,
            "under",
            GIB_IN_MIB,
            "MiB",
        ),
    )


@dataclass(frozen=True)
class Judgement:
    """A target with the run's figure, the range of its per-repetition ratios, and the result."""

    target: Target
    value: float | None
    rep_min: float | None
    rep_max: float | None
    result: str  # "pass", "miss" or "n/a"

    def to_json(self) -> dict[str, Any]:
        return {**asdict(self.target), **{k: v for k, v in asdict(self).items() if k != "target"}}


def _per_rep(numerator: Measurement, denominator: Measurement) -> list[float]:
    """Ratios of the samples taken in the same repetition (the variants are interleaved rep by rep)."""
    if len(numerator.samples) != len(denominator.samples) or not numerator.samples:
        return []
    return [n / d for n, d in zip(numerator.samples, denominator.samples, strict=True)]


def judge(target: Target, by_name: dict[str, Measurement]) -> Judgement:
    numerator = by_name.get(target.numerator)
    denominator = by_name.get(target.denominator) if target.denominator else None
    if numerator is None or (target.denominator is not None and denominator is None):
        return Judgement(target, None, None, None, "n/a")
    value = numerator.median if denominator is None else numerator.median / denominator.median
    per_rep = [] if denominator is None else _per_rep(numerator, denominator)
    if target.bound == "at least":
        met = value >= target.limit
    elif target.bound == "under":
        met = value < target.limit
    else:
        met = value <= target.limit
    return Judgement(
        target,
        value,
        min(per_rep) if per_rep else None,
        max(per_rep) if per_rep else None,
        "pass" if met else "miss",
    )


def judge_all(measurements: list[Measurement], settings: Settings) -> list[Judgement]:
    by_name = {measurement.name: measurement for measurement in measurements}
    return [judge(target, by_name) for target in targets(settings)]
