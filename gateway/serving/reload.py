"""Re-reading the plan file a gateway was started from (what `gw467 serve` does on SIGHUP).

A file that reads, compiles and keeps every class on its side of the first-party line is
pushed directly; any problem is one line on the operations log, and the table in force stays.
"""

from __future__ import annotations

from pathlib import Path

from gateway.core.compiler import compile_plan_set
from gateway.core.config import ConfigError
from gateway.core.planfile import load_plan_set
from gateway.serving.decision_log import OPERATIONS
from gateway.serving.rollout import DIRECT, RolloutError
from gateway.serving.runtime import Gateway


def reload_plans(gateway: Gateway, path: str | Path, reason: str) -> bool:
    """Push the file at `path` directly, with `reason`; False (and one logged line) when it cannot be."""
    kept = gateway.table.version
    try:
        table = compile_plan_set(load_plan_set(path))
        gateway.push(table, DIRECT, reason=reason)
    except (ConfigError, RolloutError) as error:
        OPERATIONS.error(f"gw467: {reason}: kept version {kept}: {error}")
        return False
    OPERATIONS.info(f"gw467: {reason}: {path}: version {table.version} in force (was {kept})")
    return True
