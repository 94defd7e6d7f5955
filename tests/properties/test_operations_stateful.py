"""Stateful: an operator pushes valid and invalid plan files, shadows, canaries, promotes and rolls
back while requests arrive; a model says what every request must get at each step.

Invariants: a refused file never changes a decision; a rollback restores exactly the earlier
decisions; every request is decided by the table the model says is in force for it.
The profile bounds the sessions `make test` runs; 200-operation sessions are `deep`.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import DecisionTable, decide
from gateway.core.planfile import load_plan_set
from gateway.fronts.inprocess import call_asgi
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.request_path.canary import CanaryController, CanaryPolicy
from gateway.request_path.stage import CANARY
from gateway.verification import RecordingUpstream
from tests.conftest import BASELINE, BILLING, DEMO_KEYS, FIXED, change_now

TOKEN = "stateful-admin-token"
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


class GatewayOperations(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.gateway = EntitlementMiddleware(
            RecordingUpstream(), TABLES["baseline"], clock=Clock(), admin_token=TOKEN
        )
        self.active = TABLES["baseline"]
        self.history: list[tuple[DecisionTable, list[tuple[int, str | None]]]] = []
        self.candidate: DecisionTable | None = None
        self.canary = False
        # The model's own draw of the canary slice: the gateway draws once per probe it answers
        # during a canary, so the model draws once per probe it predicts, in the same order.
        self.slice: CanaryController | None = None

    def admin(self, method: str, action: str, body: bytes = b"") -> int:
        headers = [(b"authorization", f"Bearer {TOKEN}".encode())]
        return asyncio.run(call_asgi(self.gateway, method, f"/_gw467/admin/{action}", headers, body)).status

    def fingerprint(self) -> list[tuple[int, str | None]]:
        # One event loop for all the probes: a loop per probe cost three times the gateway's work.
        return asyncio.run(self._probe_answers())

    async def _probe_answers(self) -> list[tuple[int, str | None]]:
        answers = []
        for client, _, method, path in PROBES:
            headers = [(b"authorization", f"Bearer {DEMO_KEYS[client]}".encode())]
            response = await call_asgi(self.gateway, method, path, headers)
            answers.append((response.status, response.header("x-gw467-rule")))
        return answers

    def expected(self, active_only: bool = False) -> list[tuple[int, str | None]]:
        """What the probes must get: the model's active table, or the candidate in the canary slice."""
        answers: list[tuple[int, str | None]] = []
        for client, _endpoint_id, method, path in PROBES:
            table = self.active
            candidate = self.candidate if self.canary and not active_only else None
            if candidate is not None and self.slice is not None and self.slice.in_slice(CLASS_OF[client]):
                table = candidate
            decision = decide(table, method, path, [f"Bearer {DEMO_KEYS[client]}".encode()])
            answers.append((decision.status or 200, decision.rule.text))
        return answers

    @rule(name=st.sampled_from(sorted(FILES)))
    def push_a_valid_file(self, name: str) -> None:
        assert self.admin("POST", "plans", FILES[name].read_bytes()) == 200
        self.history.append((self.active, self.expected(active_only=True)))
        self.active, self.candidate, self.canary = TABLES[name], None, False

    @rule(name=st.sampled_from(sorted(INVALID_FILES)))
    def push_an_invalid_file(self, name: str) -> None:
        assert self.admin("POST", "plans", INVALID_FILES[name]) == 400
        assert self.fingerprint() == self.expected(), f"the refused file ({name}) changed a decision"

    @rule(name=st.sampled_from(sorted(FILES)))
    def shadow_a_file(self, name: str) -> None:
        # A shadow replaces any canary in progress, so what must not change is the active table's answers.
        before = self.expected(active_only=True)
        assert self.admin("POST", "plans?mode=shadow", FILES[name].read_bytes()) == 200
        self.candidate, self.canary = TABLES[name], False
        assert self.fingerprint() == before, "a shadowed candidate changed a decision"

    @rule(name=st.sampled_from(sorted(FILES)))
    def canary_a_file(self, name: str) -> None:
        change_now(self.gateway.deployment.push(TABLES[name], CANARY, CANARY_FOR_TESTS))
        self.candidate, self.canary = TABLES[name], True
        self.slice = CanaryController(CANARY_FOR_TESTS)

    @precondition(lambda self: self.candidate is not None)
    @rule()
    def promote(self) -> None:
        assert self.admin("POST", "promote") == 200
        assert self.candidate is not None
        self.history.append((self.active, self.expected(active_only=True)))
        self.active, self.candidate, self.canary = self.candidate, None, False

    @rule()
    def roll_back(self) -> None:
        status = self.admin("POST", "rollback")
        if self.candidate is not None:
            assert status == 200
            self.candidate, self.canary = None, False
        elif self.history:
            assert status == 200
            self.active, earlier = self.history.pop()
            assert self.fingerprint() == earlier, "a rollback did not restore the earlier decisions"
        else:
            assert status == 409

    @invariant()
    def every_probe_is_decided_by_the_table_the_model_says(self) -> None:
        assert self.fingerprint() == self.expected()


TestGatewayOperations = GatewayOperations.TestCase


class LongOperatorSessions(GatewayOperations):
    """Sessions of 200 operations, whatever the profile: rollbacks through long histories."""


# A machine of its own, so these settings do not touch TestGatewayOperations (Hypothesis keeps
# one TestCase per machine class).
TestLongOperatorSessions = pytest.mark.deep(LongOperatorSessions.TestCase)
TestLongOperatorSessions.settings = settings(
    max_examples=40, stateful_step_count=200, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def test_probe_set_covers_every_demo_client() -> None:
    assert {client for client, *_ in PROBES} == set(DEMO_KEYS)
