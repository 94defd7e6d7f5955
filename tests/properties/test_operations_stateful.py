"""Stateful: an operator pushes valid and invalid plan files, shadows, canaries, promotes and rolls
back through the admin API of any worker while requests arrive; a model says what every request
must get at each step. The same machine runs against each kind of deployment: one local gateway,
and fleets of two workers on a shared in-memory store and on a real redis-server.

Invariants: every worker converges on the version the model says is in force; a refused file
changes no worker's decisions; a rollback restores exactly the earlier decisions, as far back as
the history goes; every request is decided by the table the model says is in force for it.
The profile bounds the sessions `make test` runs; 200-operation sessions are `deep`.
"""

from __future__ import annotations

import asyncio
import itertools
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from gateway.control_plane.deployment import Deployment
from gateway.control_plane.fleet.deployment import FleetDeployment
from gateway.control_plane.local_deployment import LocalDeployment
from gateway.control_plane.stage_document import HISTORY_LIMIT
from gateway.core.compiler import compile_plan_set
from gateway.core.decision import DecisionTable, decide
from gateway.core.planfile import load_plan_set
from gateway.fronts.inprocess import call_asgi
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.fronts.settings import GatewaySettings
from gateway.request_path.canary import CanaryController, CanaryPolicy
from gateway.request_path.stage import CANARY
from gateway.stores.redis_store import RedisStore
from gateway.stores.state_store import MemoryStore, StateStore
from gateway.verification import RecordingUpstream
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, FIXED
from tests.processes import RedisServer

TOKEN = "stateful-admin-token"
SECRET = b"stateful-fleet-secret-0123456789"
FILES = {"baseline": BASELINE, "billing": BILLING, "fixed": FIXED}
TABLES = {name: compile_plan_set(load_plan_set(path)) for name, path in FILES.items()}
INVALID_FILES = {
    "empty": b"",
    "syntax": b"[plans\n",
    "missing keys": b'version = "x"\n',
    "unknown plan": BILLING.read_bytes().replace(b'plan = "basic"', b'plan = "gold"'),
    "conflicting templates": BILLING.read_bytes().replace(
        b'path = "/2/users/by/username/{username}"', b'path = "/2/users/{username}"'
    ),
    "not utf-8": b"\xff\xfe\x00",
}
PROBE_ENDPOINTS = ("links.resolve", "media.view", "tweetdeck.column_feed", "login.flow", "tweets.create")
CANARY_FOR_TESTS = CanaryPolicy(fraction=0.5, threshold=1.0)  # never trips: tripping is tested elsewhere
FLEET_WORKERS = 2
SLOW = [HealthCheck.too_slow]
NAMESPACES = itertools.count()  # one per fleet on the shared redis-server, so examples never meet


def probes() -> list[tuple[str, str, str, str]]:
    plan_set = load_plan_set(BASELINE)
    found = []
    for client in DEMO_KEYS:
        for endpoint_id in PROBE_ENDPOINTS:
            endpoint = plan_set.endpoint(endpoint_id)
            found.append(
                (client, endpoint_id, endpoint.method, endpoint.path.replace("{", "p").replace("}", ""))
            )
    return found


PROBES = probes()
CLASS_OF = {client.id: client.client_class for client in load_plan_set(BASELINE).clients}


class Clock:
    """Moves a whole quota window per reading, so quotas never decide a probe."""

    def __init__(self) -> None:
        self.now = 1_678_118_400.0

    def __call__(self) -> float:
        self.now += 900.0
        return self.now


def local_workers() -> list[EntitlementMiddleware]:
    return [EntitlementMiddleware(RecordingUpstream(), TABLES["baseline"], clock=Clock(), admin_token=TOKEN)]


def fleet_workers(stores: list[StateStore]) -> list[EntitlementMiddleware]:
    """A fleet: one worker per store given (the same store object, or each its own client)."""
    workers = []
    for store in stores:
        gateway = GatewaySettings.embedded().runtime(TABLES["baseline"], Clock(), store=store)
        deployment = FleetDeployment(gateway, Path(tempfile.mkdtemp(prefix="gw467-stateful-")), SECRET)
        workers.append(
            EntitlementMiddleware(
                RecordingUpstream(), gateway=gateway, deployment=deployment, admin_token=TOKEN
            )
        )
    return workers


class GatewayOperations(RuleBasedStateMachine):
    """The machine, on the workers `make_workers` builds (in this machine's own event loop)."""

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.workers = self.loop.run_until_complete(self._build())
        self.active = TABLES["baseline"]
        self.history: list[tuple[DecisionTable, list[tuple[int, str | None]]]] = []
        self.candidate: DecisionTable | None = None
        self.canary = False
        # The model's own draw of each worker's canary slice: a worker draws once per probe it
        # answers during a canary, so the model draws once per probe it predicts for that worker.
        self.slices: list[CanaryController | None] = [None] * len(self.workers)
        self.settle()

    async def _build(self) -> list[EntitlementMiddleware]:
        return self.make_workers()

    def make_workers(self) -> list[EntitlementMiddleware]:
        return local_workers()

    @property
    def deployments(self) -> list[Deployment]:
        return [worker.deployment for worker in self.workers]

    def settle(self) -> None:
        """Let every fleet worker catch up with the store's stage (what pub/sub triggers)."""

        async def catch_up() -> None:
            for deployment in self.deployments:
                if isinstance(deployment, FleetDeployment):
                    await deployment.worker.tick()

        self.loop.run_until_complete(catch_up())

    def teardown(self) -> None:
        async def stop() -> None:
            for deployment in self.deployments:
                await deployment.stop()

        self.loop.run_until_complete(stop())
        self.loop.close()
        for deployment in self.deployments:
            if isinstance(deployment, FleetDeployment):
                shutil.rmtree(deployment.worker.state_dir)

    def admin(self, worker: int, method: str, action: str, body: bytes = b"") -> int:
        """Call the admin API of worker `worker` (modulo the workers there are)."""
        worker %= len(self.workers)
        headers = [(b"authorization", f"Bearer {TOKEN}".encode())]
        call = call_asgi(self.workers[worker], method, f"/_gw467/admin/{action}", headers, body)
        status = self.loop.run_until_complete(call).status
        self.settle()
        return status

    def fingerprint(self, worker: int) -> list[tuple[int, str | None]]:
        return self.loop.run_until_complete(self._probe_answers(self.workers[worker]))

    async def _probe_answers(self, app: EntitlementMiddleware) -> list[tuple[int, str | None]]:
        answers = []
        for client, _, method, path in PROBES:
            headers = [(b"authorization", f"Bearer {DEMO_KEYS[client]}".encode())]
            response = await call_asgi(app, method, path, headers)
            answers.append((response.status, response.header("x-gw467-rule")))
        return answers

    def expected(self, worker: int, active_only: bool = False) -> list[tuple[int, str | None]]:
        """What the probes must get: the model's active table, or the candidate in the canary slice."""
        answers: list[tuple[int, str | None]] = []
        draw = self.slices[worker]
        for client, _endpoint_id, method, path in PROBES:
            table = self.active
            candidate = self.candidate if self.canary and not active_only else None
            if candidate is not None and draw is not None and draw.in_slice(CLASS_OF[client]):
                table = candidate
            decision = decide(table, method, path, [f"Bearer {DEMO_KEYS[client]}".encode()])
            answers.append((decision.status or 200, decision.rule.text))
        return answers

    def remember_active(self) -> None:
        self.history.append((self.active, self.expected(0, active_only=True)))
        del self.history[:-HISTORY_LIMIT]

    def everywhere(self) -> range:
        return range(len(self.workers))

    @rule(name=st.sampled_from(sorted(FILES)), worker=st.integers(0, FLEET_WORKERS - 1))
    def push_a_valid_file(self, name: str, worker: int) -> None:
        assert self.admin(worker, "POST", "plans", FILES[name].read_bytes()) == 200
        self.remember_active()
        self.active, self.candidate, self.canary = TABLES[name], None, False

    @rule(name=st.sampled_from(sorted(INVALID_FILES)), worker=st.integers(0, FLEET_WORKERS - 1))
    def push_an_invalid_file(self, name: str, worker: int) -> None:
        assert self.admin(worker, "POST", "plans", INVALID_FILES[name]) == 400
        for each in self.everywhere():
            assert self.fingerprint(each) == self.expected(each), (
                f"the refused file ({name}) changed worker {each}"
            )

    @rule(name=st.sampled_from(sorted(FILES)), worker=st.integers(0, FLEET_WORKERS - 1))
    def shadow_a_file(self, name: str, worker: int) -> None:
        # A shadow replaces any canary in progress, so what must not change is the active table's answers.
        before = [self.expected(each, active_only=True) for each in self.everywhere()]
        assert self.admin(worker, "POST", "plans?mode=shadow", FILES[name].read_bytes()) == 200
        self.candidate, self.canary = TABLES[name], False
        for each in self.everywhere():
            assert self.fingerprint(each) == before[each], f"a shadowed candidate changed worker {each}"

    @rule(name=st.sampled_from(sorted(FILES)), worker=st.integers(0, FLEET_WORKERS - 1))
    def canary_a_file(self, name: str, worker: int) -> None:
        # Through the deployment: the admin API sets a canary's slice, not its threshold.
        deployment = self.deployments[worker % len(self.workers)]
        self.loop.run_until_complete(deployment.push(TABLES[name], CANARY, CANARY_FOR_TESTS))
        self.settle()
        self.candidate, self.canary = TABLES[name], True
        self.slices = [CanaryController(CANARY_FOR_TESTS) for _ in self.everywhere()]

    @precondition(lambda self: self.candidate is not None)
    @rule(worker=st.integers(0, FLEET_WORKERS - 1))
    def promote(self, worker: int) -> None:
        assert self.admin(worker, "POST", "promote") == 200
        assert self.candidate is not None
        self.remember_active()
        self.active, self.candidate, self.canary = self.candidate, None, False

    @rule(worker=st.integers(0, FLEET_WORKERS - 1))
    def roll_back(self, worker: int) -> None:
        status = self.admin(worker, "POST", "rollback")
        if self.candidate is not None:
            assert status == 200
            self.candidate, self.canary = None, False
        elif self.history:
            assert status == 200
            self.active, earlier = self.history.pop()
            for each in self.everywhere():
                assert self.fingerprint(each) == earlier, f"a rollback did not restore worker {each}"
        else:
            assert status == 409

    @invariant()
    def every_worker_runs_the_version_the_model_says(self) -> None:
        async def documents() -> list[tuple[str, str | None, str]]:
            found = []
            for deployment in self.deployments:
                document = await deployment.document()
                found.append((document["active"], document["candidate"], document["mode"]))
            return found

        candidate = self.candidate.version if self.candidate is not None else None
        mode = "none" if candidate is None else "canary" if self.canary else "shadow"
        assert set(self.loop.run_until_complete(documents())) == {(self.active.version, candidate, mode)}

    @invariant()
    def every_probe_is_decided_by_the_table_the_model_says(self) -> None:
        for each in self.everywhere():
            assert self.fingerprint(each) == self.expected(each), f"worker {each}"


class FleetOnMemory(GatewayOperations):
    """Two workers sharing one in-memory store (a fleet inside one process)."""

    def make_workers(self) -> list[EntitlementMiddleware]:
        store = MemoryStore(shared=True)
        return fleet_workers([store] * FLEET_WORKERS)


class FleetOnRedis(GatewayOperations):
    """Two workers, each with its own client of a real redis-server (`url`), in a namespace of
    their own."""

    url = ""

    def make_workers(self) -> list[EntitlementMiddleware]:
        namespace = {"GW467_STORE_NAMESPACE": f"stateful-{next(NAMESPACES)}"}
        return fleet_workers([RedisStore(self.url, environment=namespace) for _ in range(FLEET_WORKERS)])


TestLocalDeployment = GatewayOperations.TestCase
TestFleetOnMemory = FleetOnMemory.TestCase
TestFleetOnMemory.settings = settings(max_examples=20, deadline=None)


@pytest.fixture(scope="module")
def redis_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as directory:
        server = RedisServer(Path(directory))
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


def test_a_fleet_on_redis_keeps_every_invariant(redis_url: str) -> None:
    FleetOnRedis.url = redis_url
    run_state_machine_as_test(
        FleetOnRedis,
        settings=settings(max_examples=10, deadline=None, suppress_health_check=SLOW),
    )


class LongOperatorSessions(GatewayOperations):
    """Sessions of 200 operations, whatever the profile: rollbacks through long histories."""


# A machine of its own, so these settings do not touch TestLocalDeployment (Hypothesis keeps
# one TestCase per machine class).
TestLongOperatorSessions = pytest.mark.deep(LongOperatorSessions.TestCase)
TestLongOperatorSessions.settings = settings(
    max_examples=40, stateful_step_count=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


class LongFleetSessions(FleetOnRedis):
    """Sessions of 200 operations on a fleet on redis-server."""


@pytest.mark.deep
def test_long_sessions_on_a_fleet_on_redis_keep_every_invariant(redis_url: str) -> None:
    LongFleetSessions.url = redis_url
    run_state_machine_as_test(
        LongFleetSessions,
        settings=settings(
            max_examples=10,
            stateful_step_count=200,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_probe_set_covers_every_demo_client() -> None:
    assert {client for client, *_ in PROBES} == set(DEMO_KEYS)


def test_each_kind_of_deployment_is_the_one_the_machine_means() -> None:
    """The machines really drive what they say: a local deployment, and fleets of two workers."""
    local = GatewayOperations()
    memory = FleetOnMemory()
    try:
        assert [type(d) for d in local.deployments] == [LocalDeployment]
        assert [type(d) for d in memory.deployments] == [FleetDeployment] * FLEET_WORKERS
    finally:
        local.teardown()
        memory.teardown()
