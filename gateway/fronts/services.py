"""The demo upstream's service map: which backend pool serves each surface, and its hosts.

A service-map file is the upstream's own configuration, as a plan file is the
gateway's. A pool with no hosts cannot serve: every request routed to it gets
503 "Something is technically wrong." That is the mechanism the 2019-07-11
scenario uses: an internal configuration change that routes the core surfaces
to a pool nobody has filled fails every caller alike, whatever their plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from gateway.core.config import ConfigError, parse_toml, read_text, validate_model

DEFAULT_POOL = "*"

Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]


class _PoolEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    hosts: list[Name]


class _ServiceMapFile(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)
    version: Annotated[str, Field(min_length=1, max_length=128)]
    description: str = ""
    pools: Annotated[dict[Name, _PoolEntry], Field(min_length=1)]
    routes: Annotated[dict[str, Name], Field(min_length=1)]


@dataclass(frozen=True)
class ServiceMap:
    """Surface -> pool -> hosts. `routes` may use '*' for every surface not named."""

    version: str
    pools: dict[str, tuple[str, ...]]
    routes: dict[str, str]

    def pool_for(self, surface: str) -> str:
        return self.routes.get(surface, self.routes.get(DEFAULT_POOL, ""))

    def hosts_for(self, surface: str) -> tuple[str, ...]:
        return self.pools.get(self.pool_for(surface), ())


HEALTHY = ServiceMap("default", {"core": ("core-1", "core-2", "core-3")}, {DEFAULT_POOL: "core"})


def load_service_map(path: str | Path) -> ServiceMap:
    source = str(path)
    document = parse_toml(read_text(path), source)
    entry = validate_model(_ServiceMapFile, document, source)
    for surface, pool in entry.routes.items():
        if pool not in entry.pools:
            known = ", ".join(sorted(entry.pools))
            raise ConfigError(source, f"routes.{surface}", f"unknown pool {pool!r} (pools: {known})")
    return ServiceMap(
        entry.version,
        {name: tuple(pool.hosts) for name, pool in entry.pools.items()},
        dict(entry.routes),
    )
