"""Group 2: `gateway.decision.decide` alone at small and large catalogues and key tables.

Tables are built first (the million-key one with progress, build time and RSS growth), then the
four decision variants are timed round-robin; each is checked to be an allowed, correct decision.
"""

from __future__ import annotations

import gc
import sys
import time
from dataclasses import dataclass

from benchmarks.memory import rss_bytes
from benchmarks.results import HarnessError, Measurement, set_ratios
from benchmarks.settings import Settings
from benchmarks.stats import Series, round_robin
from benchmarks.synthetic import Case, build_case
from gateway.compiler import compile_plan_set
from gateway.decision import DecisionTable, decide

GROUP = "decide"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    case: Case
    table: DecisionTable
    baseline: str


def _check(variant: Variant) -> None:
    case = variant.case
    decision = decide(variant.table, case.method, case.path, [b"Bearer " + case.key])
    endpoint = decision.endpoint.id if decision.endpoint else None
    client = decision.client.id if decision.client else None
    if decision.status is not None or endpoint != case.endpoint_id or client != case.client_id:
        raise HarnessError(
            f"decision variant {variant.name!r} ({variant.label}): {case.method} {case.path} decided "
            f"status={decision.status} rule={decision.rule!r} endpoint={endpoint!r} client={client!r}; "
            f"expected an allowed decision for endpoint {case.endpoint_id!r}, client {case.client_id!r}"
        )


def _time(variant: Variant, decisions: int) -> int:
    case = variant.case
    table, method, path, authorization = variant.table, case.method, case.path, [b"Bearer " + case.key]
    clock = time.perf_counter_ns
    start = clock()
    for _ in range(decisions):
        decide(table, method, path, authorization)
    return clock() - start


def _build_large_keys(settings: Settings, info: list[Measurement]) -> tuple[Case, DecisionTable]:
    count = settings.large_keys
    gc.collect()
    before = rss_bytes()
    print(f"  building a plan set with {count:,} keys ...", file=sys.stderr)
    started = time.perf_counter()
    case = build_case(settings.small_templates, count, progress=True)
    built = time.perf_counter()
    print(f"  compiling {count:,} keys ...", file=sys.stderr)
    table = compile_plan_set(case.plan_set)
    compiled = time.perf_counter()
    gc.collect()
    after = rss_bytes()
    print(
        f"  {count:,} keys: plan set {built - started:.1f} s, compile {compiled - built:.1f} s",
        file=sys.stderr,
    )
    label = f"{count:,} keys"
    info.append(
        Measurement.info("build.keys_large.plan_set", f"{label}: build PlanSet", GROUP, "s", built - started)
    )
    info.append(
        Measurement.info("build.keys_large.compile", f"{label}: compile", GROUP, "s", compiled - built)
    )
    if before is not None and after is not None:
        growth = after - before
        info.append(
            Measurement.info(
                "build.keys_large.rss_growth",
                f"{label}: RSS growth (PlanSet + table)",
                GROUP,
                "MiB",
                growth / MIB,
                bytes_per_key=growth / count,
            )
        )
    return case, table


def _variant(name: str, label: str, case: Case, baseline: str) -> tuple[Variant, float]:
    """The variant with its table compiled, and the compile time in seconds."""
    started = time.perf_counter()
    table = compile_plan_set(case.plan_set)
    return Variant(name, label, case, table, baseline), time.perf_counter() - started


def run(settings: Settings) -> list[Measurement]:
    """Decision cost per variant, interleaved; ratios large/small; build figures as info rows."""
    small_t, large_t = settings.small_templates, settings.large_templates
    small_k, large_k = settings.small_keys, settings.large_keys
    print(f"decide: building tables ({large_t:,} templates, {large_k:,} keys)", file=sys.stderr)
    t_small, _ = _variant(
        "decide.templates_small",
        f"decide, {small_t:,} templates",
        build_case(small_t, 1),
        "decide.templates_small",
    )
    t_large, t_large_compile = _variant(
        "decide.templates_large",
        f"decide, {large_t:,} templates",
        build_case(large_t, 1),
        "decide.templates_small",
    )
    k_small, _ = _variant(
        "decide.keys_small", f"decide, {small_k:,} keys", build_case(small_t, small_k), "decide.keys_small"
    )
    info = [
        Measurement.info(
            "build.templates_large.compile", f"{large_t:,} templates: compile", GROUP, "s", t_large_compile
        )
    ]
    variants = [t_small, t_large, k_small]
    case, table = _build_large_keys(settings, info)
    variants.append(
        Variant("decide.keys_large", f"decide, {large_k:,} keys", case, table, "decide.keys_small")
    )
    for variant in variants:
        _check(variant)
        _time(variant, max(1, settings.decisions // 10))
    # Keep the collector from walking the million-key table on every full collection while timing.
    gc.collect()
    gc.freeze()
    try:
        series = {variant.name: Series() for variant in variants}
        for rep, variant in round_robin(variants, settings.reps):
            _check(variant)
            elapsed = _time(variant, settings.decisions)
            series[variant.name].add(elapsed, settings.decisions)
            print(
                f"  decide rep {rep}/{settings.reps} {variant.name}: {elapsed / settings.decisions:.0f} ns",
                file=sys.stderr,
            )
    finally:
        gc.unfreeze()
    measurements = {
        variant.name: Measurement.timing(
            variant.name,
            variant.label,
            GROUP,
            "ns/decision",
            series[variant.name],
            templates=len(variant.case.plan_set.endpoints),
            keys=len(variant.case.plan_set.clients),
            request=f"{variant.case.method} {variant.case.path}",
            decisions_per_rep=settings.decisions,
        )
        for variant in variants
    }
    for variant in variants:
        set_ratios([measurements[variant.name]], measurements[variant.baseline])
    return [*measurements.values(), *info]
