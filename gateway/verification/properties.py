"""Ready-made Hypothesis properties over plan files: each factory returns a test function.

Bind one to a test name to run it on your own files, e.g.
`test_no_regression = no_first_party_regression(baseline_table, candidate_table)`;
`gw467 verify OLD NEW` runs them all. Each property's docstring states, in one
sentence, what must hold for every generated input; each failure message is a
complete counterexample.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from hypothesis import given
from hypothesis import strategies as st
from starlette.types import ASGIApp

from gateway.core.compiler import compile_plan_set
from gateway.core.decision import DecisionTable, decide
from gateway.core.forwarding import read_request
from gateway.core.plans import Endpoint
from gateway.core.rules import STATUS_BAD_PATH, path_refused
from gateway.fronts.inprocess import InProcessResponse, call_asgi
from gateway.fronts.middleware import EntitlementMiddleware
from gateway.safety.access import first_party_losses
from gateway.verification.invariants import tier_violations
from gateway.verification.reference import reference_decide
from gateway.verification.strategies import (
    REFUSED_VARIANTS,
    KeyedPlanSet,
    encoding_variants,
    reordered_headers,
    spoofing_headers,
    template_paths,
)
from gateway.verification.upstream import RecordingUpstream

Property = Callable[[], None]
GatewayFactory = Callable[[DecisionTable], ASGIApp]


def recording_gateway(table: DecisionTable) -> ASGIApp:
    """The gateway in front of a recording upstream, on a clock that stands still."""
    return EntitlementMiddleware(RecordingUpstream(), table, clock=lambda: 1_678_118_400.0)


def _send(app: ASGIApp, method: str, path: str, headers: list[tuple[bytes, bytes]]) -> InProcessResponse:
    return asyncio.run(call_asgi(app, method, path, headers))


def _bearer(key: str) -> tuple[bytes, bytes]:
    return (b"authorization", f"Bearer {key}".encode())


def _draw_request(data: st.DataObject, keyed: KeyedPlanSet) -> tuple[str, Endpoint, str]:
    """A client of the plan set, one of its endpoints, and a concrete canonical path for it."""
    client_id = data.draw(st.sampled_from(sorted(keyed.keys)), label="client")
    endpoint = data.draw(st.sampled_from(keyed.plan_set.endpoints), label="endpoint")
    return client_id, endpoint, data.draw(template_paths(endpoint.path), label="path")


def no_first_party_regression(baseline: DecisionTable, candidate: DecisionTable) -> Property:
    """Property: no client that is first-party in the baseline loses, in the candidate, any access it
    had in the baseline (checked exhaustively, every client x endpoint, by `gateway.safety.access`)."""

    def check() -> None:
        losses = first_party_losses(baseline, candidate)
        assert not losses, f"{losses[0]} ({len(losses)} first-party grants lost in all)"

    return check


def tiers_are_monotone(table: DecisionTable) -> Property:
    """Property: a higher tier never reaches less than a lower tier (checked exhaustively: the
    space is only plans x plans x endpoints)."""

    def check() -> None:
        violations = tier_violations(table)
        assert not violations, f"{violations[0]} ({len(violations)} such grants in all)"

    return check


def compiled_matches_reference(keyed: KeyedPlanSet) -> Property:
    """Property: the compiled table decides every request as the plain reference evaluator does."""
    plan_set = keyed.plan_set
    table = compile_plan_set(plan_set)

    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        client = data.draw(st.sampled_from(table.clients), label="client")
        endpoint = data.draw(st.sampled_from(plan_set.endpoints), label="endpoint")
        path = data.draw(template_paths(endpoint.path), label="path")
        _, raw_path = data.draw(encoding_variants(path), label="spelled")
        fast = decide(table, endpoint.method, raw_path, [], client=client)
        slow = reference_decide(plan_set, endpoint.method, raw_path, [], client_id=client.id)
        assert (fast.status, str(fast.rule), fast.path) == (slow.status, slow.rule, slow.path), (
            f"{client.id} {endpoint.method} {raw_path}: compiled says {fast.status} {fast.rule} "
            f"{fast.path}, reference says {slow.status} {slow.rule} {slow.path}"
        )

    return check


def encodings_decide_as_canonical(
    keyed: KeyedPlanSet, gateway: GatewayFactory = recording_gateway
) -> Property:
    """Property: every encoding variant of a request is decided as its canonical form, or refused
    with 400, and the upstream never sees a path other than the one decided."""
    table = compile_plan_set(keyed.plan_set)

    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        client_id, endpoint, canonical = _draw_request(data, keyed)
        variant, raw_path = data.draw(encoding_variants(canonical), label="variant")
        headers = [_bearer(keyed.keys[client_id])]
        app = gateway(table)
        expected = _send(gateway(table), endpoint.method, canonical, headers)
        got = _send(app, endpoint.method, raw_path, headers)
        where = f"{client_id} {endpoint.method} {raw_path!r} ({variant} of {canonical!r})"
        if variant in REFUSED_VARIANTS:
            assert got.status == 400, f"{where}: answered {got.status}, not refused with 400"
            return
        assert (got.status, got.header("x-gw467-rule")) == (
            expected.status,
            expected.header("x-gw467-rule"),
        ), (
            f"{where}: decided {got.status} {got.header('x-gw467-rule')}, canonical form "
            f"{expected.status} {expected.header('x-gw467-rule')}"
        )
        upstream = _upstream_of(app)
        if upstream is not None and upstream.scopes:
            seen = upstream.scopes[-1]["path"]
            again = decide(table, endpoint.method, seen, [headers[0][1]])
            assert str(again.rule) == got.header("x-gw467-rule") and again.path == seen, (
                f"{where}: the upstream saw {seen!r}, which decides as {again.rule}"
            )

    return check


def exemption_ignores_headers(keyed: KeyedPlanSet, gateway: GatewayFactory = recording_gateway) -> Property:
    """Property: an exempt client is decided by its exemption whatever headers it sends, and no
    header sent by a non-exempt client grants an exemption; headers that ask for another method
    or URL (X-HTTP-Method-Override, X-Original-URL, ...) are refused with 400, never obeyed."""
    table = compile_plan_set(keyed.plan_set)

    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        client_id, endpoint, path = _draw_request(data, keyed)
        spoofed = data.draw(spoofing_headers(), label="headers")
        plain = _send(gateway(table), endpoint.method, path, [_bearer(keyed.keys[client_id])])
        tricked = _send(gateway(table), endpoint.method, path, [*spoofed, _bearer(keyed.keys[client_id])])
        override = read_request(spoofed, b"")[1]
        expected = (
            (STATUS_BAD_PATH, path_refused(override).text)
            if override is not None
            else (plain.status, plain.header("x-gw467-rule"))
        )
        assert (tricked.status, tricked.header("x-gw467-rule")) == expected, (
            f"{client_id} {endpoint.method} {path} with {spoofed}: {tricked.status} "
            f"{tricked.header('x-gw467-rule')}, without them {plain.status} {plain.header('x-gw467-rule')}"
        )

    return check


def decisions_ignore_headers_and_other_requests(
    keyed: KeyedPlanSet, gateway: GatewayFactory = recording_gateway
) -> Property:
    """Property: a request is answered the same whatever the order and letter case of its headers,
    and whatever other clients sent before it (no state leaks between requests)."""
    table = compile_plan_set(keyed.plan_set)
    endpoints = keyed.plan_set.endpoints

    @given(data=st.data())
    def check(data: st.DataObject) -> None:
        client_id, endpoint, path = _draw_request(data, keyed)
        headers = [_bearer(keyed.keys[client_id])]
        alone = _send(gateway(table), endpoint.method, path, headers)
        others = [c for c in keyed.keys if c != client_id]
        app = gateway(table)
        if others:
            for _ in range(data.draw(st.integers(0, 6), label="earlier requests")):
                other = data.draw(st.sampled_from(others))
                other_endpoint = data.draw(st.sampled_from(endpoints))
                other_path = data.draw(template_paths(other_endpoint.path))
                _send(app, other_endpoint.method, other_path, [_bearer(keyed.keys[other])])
        shuffled = data.draw(reordered_headers(headers), label="headers")
        after = _send(app, endpoint.method, path, shuffled)
        assert after == alone, (
            f"{client_id} {endpoint.method} {path}: alone {alone.status} {alone.header('x-gw467-rule')}, "
            f"after other clients' requests with headers {shuffled}: {after.status} "
            f"{after.header('x-gw467-rule')}"
        )

    return check


def _upstream_of(app: ASGIApp) -> RecordingUpstream | None:
    upstream = getattr(app, "app", None)
    return upstream if isinstance(upstream, RecordingUpstream) else None
