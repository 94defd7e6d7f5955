"""Group 5: compile time and resident memory of large decision tables, each in a fresh process.

One run of `benchmarks.memory_probe` per plan set: the large catalogue (traced with tracemalloc too,
which is cheap at that size), the large key table (not traced: tracemalloc would triple its compile
time) and the medium key table (traced, for Python's own count of bytes per key).
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

from benchmarks.results import HarnessError, Measurement
from benchmarks.settings import ROOT, Settings

GROUP = "memory"
MIB = 1024 * 1024
PROBE_TIMEOUT = 300


def _probe(templates: int, keys: int, trace: bool) -> dict[str, Any]:
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
    done = subprocess.run(command, cwd=ROOT, stdout=subprocess.PIPE, text=True, timeout=PROBE_TIMEOUT)
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


def run(settings: Settings) -> list[Measurement]:
    """Compile times (s) and memory (MiB) as information rows; the targets judge some of them."""
    templates, keys, medium_keys = settings.large_templates, settings.large_keys, settings.medium_keys
    print(f"memory: fresh processes compiling {templates:,} templates, {keys:,} keys", file=sys.stderr)
    catalogue = _probe(templates, 1, trace=True)
    key_table = _probe(settings.small_templates, keys, trace=False)
    traced_keys = _probe(settings.small_templates, medium_keys, trace=True)
    t_label, k_label = f"{templates:,} templates", f"{keys:,} keys"
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
        Measurement.info(
            "build.keys_large.plan_set",
            f"{k_label}: build PlanSet",
            GROUP,
            "s",
            key_table["plan_set_seconds"],
        ),
        Measurement.info(
            "build.keys_large.compile", f"{k_label}: compile", GROUP, "s", key_table["compile_seconds"]
        ),
        *_mib(
            "build.keys_large.plan_set_rss",
            f"{k_label}: PlanSet RSS growth",
            key_table["plan_set_rss_bytes"],
            bytes_per_key=key_table["plan_set_rss_bytes"] / keys,
        ),
        *_mib(
            "build.keys_large.table_rss",
            f"{k_label}: table RSS growth",
            key_table["table_rss_bytes"],
            bytes_per_key=key_table["table_rss_bytes"] / keys,
        ),
        *_mib(
            "build.keys_large.peak_rss",
            f"{k_label}: peak RSS growth (PlanSet + compile)",
            key_table["peak_rss_growth_bytes"],
            peak_reset=key_table["peak_reset"],
        ),
        *_mib(
            "build.keys_medium.traced_peak",
            f"{medium_keys:,} keys: tracemalloc peak of compile",
            traced_keys["traced_peak_bytes"],
            retained=traced_keys["traced_retained_bytes"],
            bytes_per_key=traced_keys["traced_peak_bytes"] / medium_keys,
        ),
    ]
