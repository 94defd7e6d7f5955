"""Group 5: compile time and resident memory of large decision tables, each in a fresh process.

One run of `benchmarks.memory_probe` per plan set: the large catalogue (traced with tracemalloc too,
which is cheap at that size), the xlarge catalogue (100,000 templates, not traced), the large key
table (not traced: tracemalloc would triple its compile time) and the medium key table (traced, for
Python's own count of bytes per key). With `--xlarge-keys N` (10,000,000 for the 10M-key figure), one more
probe builds that table, reports its memory and times decide() on it against 100 keys in the same
process: too large to build twice, or beside the other tables in the decide group.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from benchmarks.results import HarnessError, Measurement, set_ratios
from benchmarks.settings import ROOT, Settings
from benchmarks.stats import Series

GROUP = "memory"
MIB = 1024 * 1024
PROBE_TIMEOUT = 300
XLARGE_PROBE_TIMEOUT = 1800


def _probe(
    templates: int, keys: int, trace: bool, decisions: int = 0, reps: int = 0, timeout: float = PROBE_TIMEOUT
) -> dict[str, Any]:
    command = [
        sys.executable,
        "-m",
        "benchmarks.memory_probe",
        "--templates",
        str(templates),
        "--keys",
        str(keys),
    ]
    if trace:
        command.append("--trace")
    if decisions:
        command += ["--decisions", str(decisions), "--reps", str(reps)]
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=timeout)
    if done.returncode != 0:
        raise HarnessError(
            f"memory probe for {templates:,} templates, {keys:,} keys exited {done.returncode}"
        )
    figures: dict[str, Any] = json.loads(done.stdout)
    return figures


def _mib(name: str, label: str, value: float | None, **details: Any) -> list[Measurement]:
    if value is None:
        return []
    return [Measurement.info(name, label, GROUP, "MiB", value / MIB, bytes=value, **details)]


def _xlarge_catalogue(templates: int) -> list[Measurement]:
    figures = _probe(templates, 1, trace=False)
    label = f"{templates:,} templates"
    return [
        Measurement.info(
            "build.templates_xlarge.compile", f"{label}: compile", GROUP, "s", figures["compile_seconds"]
        ),
        *_mib("build.templates_xlarge.table_rss", f"{label}: table RSS growth", figures["table_rss_bytes"]),
        *_mib(
            "build.templates_xlarge.peak_rss",
            f"{label}: peak RSS growth (PlanSet + compile)",
            figures["peak_rss_growth_bytes"],
            peak_reset=figures["peak_reset"],
        ),
    ]


def _key_table_rows(name: str, label: str, figures: dict[str, Any], keys: int) -> list[Measurement]:
    """The rows of one key-table probe: build and compile times, RSS growth of each and the peak."""
    return [
        Measurement.info(
            f"build.{name}.plan_set", f"{label}: build PlanSet", GROUP, "s", figures["plan_set_seconds"]
        ),
        Measurement.info(
            f"build.{name}.compile", f"{label}: compile", GROUP, "s", figures["compile_seconds"]
        ),
        *_mib(
            f"build.{name}.plan_set_rss",
            f"{label}: PlanSet RSS growth",
            figures["plan_set_rss_bytes"],
            bytes_per_key=figures["plan_set_rss_bytes"] / keys,
        ),
        *_mib(
            f"build.{name}.table_rss",
            f"{label}: table RSS growth",
            figures["table_rss_bytes"],
            bytes_per_key=figures["table_rss_bytes"] / keys,
        ),
        *_mib(
            f"build.{name}.peak_rss",
            f"{label}: peak RSS growth (PlanSet + compile)",
            figures["peak_rss_growth_bytes"],
            peak_reset=figures["peak_reset"],
        ),
    ]


def _xlarge_keys(settings: Settings, keys: int) -> list[Measurement]:
    print(f"memory: a fresh process building and timing {keys:,} keys (minutes)", file=sys.stderr)
    figures = _probe(
        settings.small_templates, keys, False, settings.decisions, settings.reps, XLARGE_PROBE_TIMEOUT
    )
    label, reference = f"{keys:,} keys", figures["reference_keys"]
    common = {"keys": keys, "decisions_per_rep": figures["decisions_per_rep"], "process": "memory probe"}
    timed = Measurement.timing(
        "decide.keys_xlarge",
        f"decide, {label} (own process)",
        GROUP,
        "ns/decision",
        Series(figures["decide_ns"]),
        **common,
    )
    baseline = Measurement.timing(
        "decide.keys_xlarge_reference",
        f"decide, {reference:,} keys (same process)",
        GROUP,
        "ns/decision",
        Series(figures["reference_decide_ns"]),
        **{**common, "keys": reference},
    )
    set_ratios([baseline, timed], baseline)
    return [
        baseline,
        timed,
        *_key_table_rows("keys_xlarge", label, figures, keys),
    ]


def run(settings: Settings) -> list[Measurement]:
    """Compile times (s) and memory (MiB) as information rows; the targets judge some of them."""
    templates, keys, medium_keys = settings.large_templates, settings.large_keys, settings.medium_keys
    print(
        f"memory: fresh processes compiling {templates:,} and {settings.xlarge_templates:,} templates, "
        f"{keys:,} keys",
        file=sys.stderr,
    )
    catalogue = _probe(templates, 1, trace=True)
    key_table = _probe(settings.small_templates, keys, trace=False)
    traced_keys = _probe(settings.small_templates, medium_keys, trace=True)
    t_label, k_label = f"{templates:,} templates", f"{keys:,} keys"
    xlarge = _xlarge_catalogue(settings.xlarge_templates)
    if settings.xlarge_keys:
        xlarge += _xlarge_keys(settings, settings.xlarge_keys)
    return [
        Measurement.info(
            "build.templates_large.compile", f"{t_label}: compile", GROUP, "s", catalogue["compile_seconds"]
        ),
        *_mib(
            "build.templates_large.table_rss", f"{t_label}: table RSS growth", catalogue["table_rss_bytes"]
        ),
        *_mib(
            "build.templates_large.peak_rss",
            f"{t_label}: peak RSS growth (PlanSet + compile)",
            catalogue["peak_rss_growth_bytes"],
            peak_reset=catalogue["peak_reset"],
        ),
        *_mib(
            "build.templates_large.traced_peak",
            f"{t_label}: tracemalloc peak of compile",
            catalogue["traced_peak_bytes"],
            retained=catalogue["traced_retained_bytes"],
        ),
        *_key_table_rows("keys_large", k_label, key_table, keys),
        *_mib(
            "build.keys_medium.traced_peak",
            f"{medium_keys:,} keys: tracemalloc peak of compile",
            traced_keys["traced_peak_bytes"],
            retained=traced_keys["traced_retained_bytes"],
            bytes_per_key=traced_keys["traced_peak_bytes"] / medium_keys,
        ),
        *xlarge,
    ]
