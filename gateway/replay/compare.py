"""The layer-by-layer comparison: the same hour replayed once per safety layer, side by side.

Every row is an actual replay of the scenario with that layer in force (and, for
canary and alert, under each SLI definition), so every figure comes from the real
gateway. Minutes to detect count from the push to the first minute something saw
the problem: the layer itself, or, when it saw nothing, the users, whose reports
reach the operators `user_reports_after_minutes` after the impact starts.

A scenario that declares a fleet adds three rows on that fleet: the push replicated to
every instance within the propagation delay, as on the day; the same with the ring
controller's halt on the first-party SLI; and the scenario's rings. (The layer rows replay
the same hour on one gateway.) Every row counts the instances that ever enforced the
hour's first pushed plan table.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import signal
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from gateway.replay.engine import ReplayEngine, ReplayRecord
from gateway.replay.scenario import Scenario, load_scenario
from gateway.replay.summary import minute_rows, summarize

MONTH_MINUTES = 30 * 24 * 60
SLO = 0.999

# (layer, SLI): canary and alert depend on what counts as a failure, so they run under both.
CONFIGURATIONS: tuple[tuple[str, str], ...] = (
    ("none", "first-party-denials"),
    ("diff", "first-party-denials"),
    ("shadow", "first-party-denials"),
    ("canary", "5xx"),
    ("canary", "first-party-denials"),
    ("alert", "5xx"),
    ("alert", "first-party-denials"),
)
SLI_MATTERS = {"canary", "alert"}
# A fleet's rows: replicated everywhere (no halt, then halted on the SLI), then its rings.
FLEET_VARIANTS = ("everywhere", "everywhere, halt on SLI", "rings")

# One replay to run: the scenario, the seed (None: the scenario's), the layer and the SLI.
Job = tuple[Scenario, int | None, str, str]


@dataclass(frozen=True)
class ComparisonRow:
    layer: str
    sli: str
    first_party_failed: int
    minutes_to_detect: int | None
    detected_by: str | None
    minutes_to_recover: int
    error_budget_share: float
    third_party_467: int
    third_party_failure_rate_during_change: float
    in_force_at_end: str
    instances: int
    instances_ran_pushed_table: int


@dataclass(frozen=True)
class Comparison:
    scenario: str
    title: str
    seed: int
    rows: tuple[ComparisonRow, ...]
    records: tuple[ReplayRecord, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": self.scenario,
            "seed": self.seed,
            "slo": SLO,
            "rows": [asdict(row) for row in self.rows],
        }


def compare(scenario_path: str | Path, seed: int | None = None, workers: int = 2) -> Comparison:
    """Replay the scenario once per configuration (in `workers` processes) and compare."""
    scenario = load_scenario(scenario_path)
    one_gateway = replace(scenario, fleet=None)
    jobs = [(one_gateway, seed, layer, sli) for layer, sli in CONFIGURATIONS]
    jobs += [(fleet_scenario, seed, "none", FLEET_SLI) for fleet_scenario in fleet_variants(scenario)]
    records = _in_processes(jobs, workers) if workers > 1 else [_replay(job) for job in jobs]
    rows = tuple(comparison_row(record) for record in records)
    return Comparison(scenario.name, scenario.title, records[0].seed, rows, tuple(records))


FLEET_SLI = "first-party-denials"


def fleet_variants(scenario: Scenario) -> list[Scenario]:
    """The scenario on its fleet, one per FLEET_VARIANTS entry; none without a fleet."""
    fleet = scenario.fleet
    if fleet is None:
        return []
    return [
        replace(scenario, fleet=fleet.everywhere(halt=False)),
        replace(scenario, fleet=fleet.everywhere(halt=True)),
        scenario,
    ]


def _in_processes(jobs: list[Job], workers: int) -> list[ReplayRecord]:
    """Run the jobs in worker processes; on Ctrl-C (or any error) the workers are ended at once.

    Only this process answers Ctrl-C: the workers ignore SIGINT, which a terminal sends to the
    whole process group, so no worker dies half-way through sending a result and leaves the
    pool waiting for it. Leaving the block terminates the workers and waits for them.
    """
    with multiprocessing.Pool(
        workers, initializer=signal.signal, initargs=(signal.SIGINT, signal.SIG_IGN)
    ) as pool:
        return pool.map(_replay, jobs)


def _replay(job: Job) -> ReplayRecord:
    scenario, seed, layer, sli = job
    return asyncio.run(ReplayEngine(scenario, seed=seed, safety=layer, sli=sli).run())


def comparison_row(record: ReplayRecord) -> ComparisonRow:
    summary = summarize(record)
    push = next((e.minute for e in record.scenario.events if e.action.startswith("push_")), 0)
    detected_minute, detected_by = record.detected_minute, record.detected_by
    if detected_minute is None and summary.impact_first_minute is not None:
        detected_minute = summary.impact_first_minute + record.scenario.operators.user_reports_after_minutes
        detected_by = "users"
    recover = summary.impact_last_minute + 1 - push if summary.impact_last_minute is not None else 0
    per_minute = summary.first_party_requests / record.scenario.minutes
    budget = (1 - SLO) * per_minute * MONTH_MINUTES
    fleet = record.scenario.fleet
    sli_matters = record.safety in SLI_MATTERS or (fleet is not None and fleet.halt)
    pushed = record.pushed_plans[0] if record.pushed_plans else None
    return ComparisonRow(
        layer=record.layer,
        sli=record.sli if sli_matters else "-",
        first_party_failed=summary.first_party_failed,
        minutes_to_detect=detected_minute - push if detected_minute is not None else None,
        detected_by=detected_by,
        minutes_to_recover=recover,
        error_budget_share=summary.first_party_failed / budget if budget else 0.0,
        third_party_467=summary.third_party_467,
        third_party_failure_rate_during_change=summary.third_party_failure_rate_during_change,
        in_force_at_end=record.plans_by_minute[-1],
        instances=record.instances,
        instances_ran_pushed_table=record.instances_ran.get(pushed, 0) if pushed is not None else 0,
    )


def failure_share_by_minute(record: ReplayRecord) -> list[float]:
    """The share of first-party requests failing in each minute (for the comparison chart)."""
    return [row.first_party_failure_rate for row in minute_rows(record)]
