"""The deployment a runtime gets: a fleet's when its store is shared with other workers, else
its own (the one place that chooses between the two kinds)."""

from __future__ import annotations

from pathlib import Path

from gateway.control_plane.deployment import Deployment
from gateway.control_plane.fleet.deployment import FleetDeployment
from gateway.control_plane.local_deployment import LocalDeployment
from gateway.request_path.runtime import Gateway


def deployment_for(gateway: Gateway, state_dir: Path | None = None) -> Deployment:
    """`state_dir`: where a fleet worker keeps its last good version (see `FleetWorker`)."""
    if gateway.store.shared:
        return FleetDeployment(gateway, state_dir)
    return LocalDeployment(gateway)
