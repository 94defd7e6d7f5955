"""Group 2: `gateway.core.decision.decide` alone at three catalogue sizes and three key-table sizes.

Tables are built first (the large key tables with progress), then the six decision variants are
timed round-robin; each is checked to be an allowed, correct decision. Build time and memory are
the memory group's (a fresh process each), not measured here.
"""

from __future__ import annotations

import gc
import sys
import time
from dataclasses import dataclass

from benchmarks.results import HarnessError, Measurement, set_ratios
from benchmarks.settings import Settings
from benchmarks.stats import Series, round_robin
from benchmarks.synthetic import Case, build_case
from gateway.core.compiler import compile_plan_set
from gateway.core.decision import DecisionTable, decide

GROUP = "decide"
# Key tables this large get build progress on stderr (they take seconds).
PROGRESS_FROM = 100_000


@dataclass(frozen=True)
class Variant:
    name: str
    label: str
    case: Case
    table: DecisionTable
    baseline: str


def check_allowed(case: Case, table: DecisionTable, what: str) -> None:
    """HarnessError unless `table` allows the case's request for its endpoint and client."""
    decision = decide(table, case.method, case.path, [b"Bearer " + case.key])
    endpoint = decision.endpoint.id if decision.endpoint else None
    client = decision.client.id if decision.client else None
    if decision.status is not None or endpoint != case.endpoint_id or client != case.client_id:
        raise HarnessError(
            f"decision variant {what}: {case.method} {case.path} decided "
            f"status={decision.status} rule={decision.rule!r} endpoint={endpoint!r} client={client!r}; "
            f"expected an allowed decision for endpoint {case.endpoint_id!r}, client {case.client_id!r}"
        )


def time_decisions(case: Case, table: DecisionTable, decisions: int) -> int:
    """Nanoseconds for `decisions` calls of decide() on the case's request."""
    method, path, authorization = case.method, case.path, [b"Bearer " + case.key]
    clock = time.perf_counter_ns
    start = clock()
    for _ in range(decisions):
        decide(table, method, path, authorization)
    return clock() - start


def _check(variant: Variant) -> None:
    check_allowed(variant.case, variant.table, f"{variant.name!r} ({variant.label})")


def _time(variant: Variant, decisions: int) -> int:
    return time_decisions(variant.case, variant.table, decisions)


def _variant(name: str, label: str, case: Case, baseline: str) -> Variant:
    return Variant(name, label, case, compile_plan_set(case.plan_set), baseline)


def _variants(settings: Settings) -> list[Variant]:
    """Catalogues of small to xlarge templates with one key; key tables with the small catalogue.

    The `--xlarge-keys` table is not built here: the memory group times it in a process of its own.
    """
    variants = []
    for size, templates in (
        ("small", settings.small_templates),
        ("medium", settings.medium_templates),
        ("large", settings.large_templates),
        ("xlarge", settings.xlarge_templates),
    ):
        name = f"decide.templates_{size}"
        label = f"decide, {templates:,} templates"
        variants.append(_variant(name, label, build_case(templates, 1), "decide.templates_small"))
    for size, keys in (
        ("small", settings.small_keys),
        ("medium", settings.medium_keys),
        ("large", settings.large_keys),
    ):
        started = time.perf_counter()
        case = build_case(settings.small_templates, keys, progress=keys >= PROGRESS_FROM)
        variants.append(_variant(f"decide.keys_{size}", f"decide, {keys:,} keys", case, "decide.keys_small"))
        if keys >= PROGRESS_FROM:
            print(
                f"  {keys:,} keys built and compiled in {time.perf_counter() - started:.1f} s",
                file=sys.stderr,
            )
    return variants


def run(settings: Settings) -> list[Measurement]:
    """Decision cost per variant, interleaved; ratios to the smallest catalogue and key table."""
    print(
        f"decide: building tables ({settings.xlarge_templates:,} templates, {settings.large_keys:,} keys)",
        file=sys.stderr,
    )
    variants = _variants(settings)
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
    return list(measurements.values())
