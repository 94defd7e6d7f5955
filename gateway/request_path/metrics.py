"""The gateway's Prometheus metrics: `GatewayMetrics` and its text exposition.

Aggregated across uvicorn workers when PROMETHEUS_MULTIPROC_DIR is set (see `GatewayMetrics`).
"""

from __future__ import annotations

import os
from typing import Generic, Literal, TypeVar

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client import values as _values
from prometheus_client.metrics import MetricWrapperBase
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROC_DIR_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"

# Label values for requests refused before the client (401) or endpoint (400, 404) is known.
UNKNOWN = "unknown"

# An in-process decision takes tens of microseconds; a forwarded request to a slow
# upstream can take most of a second. A 1-2.5-5 ladder covers both ends.
DURATION_BUCKETS = (
    0.00005,
    0.0001,
    0.00025,
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1.0,
)

# Both gauges hold 0/1 flags. "livemax" (multiprocess docs, "Metrics tuning (Gauge)")
# yields one series per label set, the maximum over *living* workers: a deployment or
# alert reads 1 while any live worker reports it, so workers that disagree show up as
# two deployments at 1 instead of being averaged away, and the series keep the shape
# they have in a single process (no pid label, unlike "liveall"). The "live" prefix
# lets a server's child-exit hook drop an exited worker's file with prometheus_client's
# mark_process_dead; uvicorn has no such hook, so the directory is wiped at each start.
_FLAG_MULTIPROCESS_MODE: Literal["livemax"] = "livemax"

_M = TypeVar("_M", bound=MetricWrapperBase)
_RequestKey = tuple[str, str, int, str]


class _Children(Generic[_M]):
    """A metric's labelled children, looked up once per distinct label tuple.

    `.labels()` validates and stringifies its arguments under a lock; a dict hit does
    not. The cache holds exactly the children the metric already keeps, so it grows no
    further than the metric's own cardinality. Two threads missing at once both call
    `.labels()`, which returns the same child, so the race is harmless.
    """

    def __init__(self, metric: _M) -> None:
        self._metric = metric
        self._by_labels: dict[tuple[str, ...], _M] = {}

    def __call__(self, *labels: str) -> _M:
        child = self._by_labels.get(labels)
        if child is None:
            child = self._by_labels[labels] = self._metric.labels(*labels)
        return child


def multiprocess_dir() -> str | None:
    """The directory shared by the workers, or None in single-process mode."""
    return os.environ.get(MULTIPROC_DIR_VARIABLE) or None


def _check_multiprocess_setup(directory: str | None) -> None:
    """Fail at start-up, not on the first request or scrape, if multiprocess mode is half on.

    prometheus_client picks in-memory or mmap-file values once, when it is imported;
    metrics created after the variable changes would silently never reach the files.
    """
    if directory is not None and not os.path.isdir(directory):
        raise RuntimeError(f"{MULTIPROC_DIR_VARIABLE}={directory} is not a directory; create it first")
    # Both value classes prometheus_client defines carry this private flag; should a
    # release drop it, skip the check rather than refuse to start.
    files_backed: bool = getattr(_values.ValueClass, "_multiprocess", directory is not None)
    if files_backed != (directory is not None):
        raise RuntimeError(
            f"{MULTIPROC_DIR_VARIABLE} changed after prometheus_client was imported; "
            "set it in the environment before the process starts"
        )


class GatewayMetrics:
    """The gateway's metrics, in a registry of their own.

    Each instance gets a fresh `CollectorRegistry` unless one is given, so two gateways
    in one process (tests, the replay) never share counts. `observe_request` is the hot
    path: one dict lookup, one counter increment, one histogram observation.

    MULTIPROCESS_HOWTO: to run several workers, give them a shared, empty metrics
    directory before the server starts, for example
    `export PROMETHEUS_MULTIPROC_DIR=/tmp/gw467-metrics; rm -rf "$PROMETHEUS_MULTIPROC_DIR";
    mkdir "$PROMETHEUS_MULTIPROC_DIR"; GW467_PLANS=plans/2023-03-06-billing-fixed.toml
    uvicorn --workers 4 --factory gateway.fronts.app:create_app`. The variable must be in the
    environment, not set from Python, because prometheus_client reads it once at import
    and each worker must inherit it. Each worker then writes its values to files in that
    directory and a scrape answered by any worker sums every worker's counters and
    histograms, including those of workers that have exited. Flag gauges (deployment,
    alerts) report the maximum over live workers; uvicorn has no child-exit hook, so a
    worker that exits keeps reporting them until the directory is wiped at the next start. With
    several workers, one GatewayMetrics per process: the files are kept per process id.
    """

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self._multiprocess_dir = multiprocess_dir()
        _check_multiprocess_setup(self._multiprocess_dir)
        self.registry = CollectorRegistry() if registry is None else registry
        labels = ("client_class", "surface", "status", "rule")
        self.requests = Counter(
            "gw467_requests_total", "Requests decided, by deciding rule.", labels, registry=self.registry
        )
        self.request_duration = Histogram(
            "gw467_request_duration_seconds",
            "Time from request to response, by deciding rule.",
            labels,
            registry=self.registry,
            buckets=DURATION_BUCKETS,
        )
        self.shadow_divergences = Counter(
            "gw467_shadow_divergences_total",
            "Requests the shadow candidate would have decided differently.",
            ("client_class", "endpoint", "direction"),
            registry=self.registry,
        )
        self.canary_requests = Counter(
            "gw467_canary_requests_total",
            "Requests decided by the canary candidate, good or bad.",
            ("client_class", "outcome"),
            registry=self.registry,
        )
        self.canary_rollbacks = Counter(
            "gw467_canary_rollbacks_total", "Automatic canary rollbacks.", ("reason",), registry=self.registry
        )
        self.store_failures = Counter(
            "gw467_store_failures_total",
            "Store calls that failed, and requests whose quota the failure policy decided "
            "(operation quota), by policy.",
            ("operation", "policy"),
            registry=self.registry,
        )
        self.deployment_info = Gauge(
            "gw467_deployment_info",
            "The plan versions in force (value 1).",
            ("active_version", "candidate_version", "mode"),
            registry=self.registry,
            multiprocess_mode=_FLAG_MULTIPROCESS_MODE,
        )
        self.alert_firing = Gauge(
            "gw467_alert_firing",
            "1 while the alert rule fires.",
            ("rule",),
            registry=self.registry,
            multiprocess_mode=_FLAG_MULTIPROCESS_MODE,
        )
        self._request_children: dict[_RequestKey, tuple[Counter, Histogram]] = {}
        self._divergences = _Children(self.shadow_divergences)
        self._canary = _Children(self.canary_requests)
        self._rollbacks = _Children(self.canary_rollbacks)
        self._store_failures = _Children(self.store_failures)
        self._alerts = _Children(self.alert_firing)
        self._deployment: tuple[str, str, str] | None = None

    @property
    def multiprocess(self) -> bool:
        return self._multiprocess_dir is not None

    def observe_request(
        self, client_class: str, surface: str, status: int, rule: str, seconds: float
    ) -> None:
        """Count one answered request and its duration (use UNKNOWN for labels not yet known)."""
        # Keyed on the int status so a hit formats nothing.
        key = (client_class, surface, status, rule)
        children = self._request_children.get(key)
        if children is None:
            children = self._request_children_for(key)
        children[0].inc()
        children[1].observe(seconds)

    def _request_children_for(self, key: _RequestKey) -> tuple[Counter, Histogram]:
        client_class, surface, status, rule = key
        labels = (client_class, surface, str(status), rule)
        children = (self.requests.labels(*labels), self.request_duration.labels(*labels))
        self._request_children[key] = children
        return children

    def shadow_divergence(self, client_class: str, endpoint_id: str, direction: str) -> None:
        """Count one divergence; `direction` is "allow_to_deny" or "deny_to_allow"."""
        self._divergences(client_class, endpoint_id, direction).inc()

    def canary_request(self, client_class: str, bad: bool) -> None:
        self._canary(client_class, "bad" if bad else "good").inc()

    def canary_rollback(self, reason: str) -> None:
        self._rollbacks(reason).inc()

    def store_failure(self, operation: str, policy: str) -> None:
        self._store_failures(operation, policy).inc()

    def set_deployment(self, active_version: str, candidate_version: str, mode: str) -> None:
        """Report the deployment in force; mode "none", "shadow" or "canary", candidate "" if none."""
        deployment = (active_version, candidate_version, mode)
        if deployment == self._deployment:
            return
        if self._deployment is not None:
            self._retire_deployment(self._deployment)
        self.deployment_info.labels(*deployment).set(1)
        self._deployment = deployment

    def _retire_deployment(self, deployment: tuple[str, str, str]) -> None:
        if self.multiprocess:
            # The worker's file keeps every label set it ever wrote and remove() would
            # only forget the child, leaving the stale 1 on disk ("Remove and Clear of
            # labels are currently not supported in multiprocess mode"). Zero it instead:
            # the old label set stays exported, at 0.
            self.deployment_info.labels(*deployment).set(0)
        else:
            self.deployment_info.remove(*deployment)

    def set_alert(self, rule_name: str, firing: bool) -> None:
        self._alerts(rule_name).set(1 if firing else 0)

    def exposition(self) -> tuple[bytes, str]:
        """The text exposition format body and its content type, for a /metrics response."""
        if self._multiprocess_dir is None:
            return generate_latest(self.registry), CONTENT_TYPE_LATEST
        # A fresh registry per scrape, holding only the collector, as the multiprocess
        # docs advise: registering our own metrics beside it would export them twice.
        registry = CollectorRegistry()
        MultiProcessCollector(registry, self._multiprocess_dir)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
