"""Group `validate`: what `gw467 check` and a push cost as the catalogue grows (read the plan
file, validate it, compile it), per 1,000 endpoints at three sizes. Near-linear validation keeps
the three figures flat; the ratio of the largest to the smallest says how flat.
"""

from __future__ import annotations

import time

from benchmarks.results import Measurement
from benchmarks.settings import Settings
from benchmarks.synthetic import catalogue_text
from gateway.core.compiler import compile_plan_set
from gateway.core.planfile import parse_plan_set

GROUP = "validate"


def _seconds(text: str) -> float:
    started = time.perf_counter()
    compile_plan_set(parse_plan_set(text, "<benchmarks.synthetic>"))
    return time.perf_counter() - started


def run(settings: Settings) -> list[Measurement]:
    rows: list[Measurement] = []
    sizes = (settings.medium_templates, settings.large_templates, settings.xlarge_templates)
    for size in sizes:
        text = catalogue_text(size)
        reps = settings.reps if size < settings.xlarge_templates else 1
        per_thousand = [_seconds(text) / size * 1000 * 1e3 for _ in range(reps)]
        rows.append(
            Measurement.spread(
                f"validate.check_{size}",
                f"check + compile, {size:,} endpoints: per 1,000",
                GROUP,
                "ms",
                per_thousand,
                file_bytes=len(text.encode()),
            )
        )
    smallest, largest = rows[0], rows[-1]
    rows.append(
        Measurement.info(
            "validate.flatness",
            f"cost per 1,000 at {sizes[-1]:,} over at {sizes[0]:,} (1.0 is linear)",
            GROUP,
            "x",
            largest.median / smallest.median,
        )
    )
    return rows
