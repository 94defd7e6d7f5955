"""`/_gw467/check`: the decision for a request another proxy holds (nginx `auth_request`, Envoy ext_authz).

The request to decide is named by `X-Original-Method` and `X-Original-URI` (the path as the
client sent it, query and all), with the client's own Authorization header; it is decided,
admitted and observed exactly as `EntitlementMiddleware` would, by the same runtime. The
answer has an empty body: 200 when the request may pass (with `x-gw467-client`,
`x-gw467-class` and `x-gw467-plan` for the app), else the refusal's status (400, 401, 404,
429 or 467) with the body the middleware would send in `x-gw467-body`, so the proxy can
answer with it. Only loopback callers, or callers that send `x-gw467-check-token`, are
answered: anyone else gets 403.
"""

from __future__ import annotations

import hmac
import time

from starlette.types import Scope, Send

from gateway.core.decision import preflight_method
from gateway.core.rules import STATUS_UNAUTHENTICATED, Rule
from gateway.serving.peers import from_loopback
from gateway.serving.responses import BEARER_CHALLENGE, RULE_HEADER, body_for
from gateway.serving.runtime import Gateway, Headers

CHECK_PATH = "/_gw467/check"
PASSED = 200
TOKEN_HEADER = b"x-gw467-check-token"
BODY_HEADER = b"x-gw467-body"
_ORIGINAL_METHOD = b"x-original-method"
_ORIGINAL_URI = b"x-original-uri"
_AUTHORIZATION = b"authorization"


def may_ask(scope: Scope, check_token: bytes | None) -> bool:
    """A loopback caller, or one with the check token (compared in constant time)."""
    if from_loopback(scope):
        return True
    if check_token is None:
        return False
    sent = [value for name, value in scope["headers"] if name.lower() == TOKEN_HEADER]
    return len(sent) == 1 and hmac.compare_digest(sent[0], check_token)


async def answer_check(gateway: Gateway, scope: Scope, send: Send) -> bool:
    """Decide the request the headers name and answer; False when they do not name one."""
    started = time.perf_counter()
    method = uri = None
    authorization: list[bytes] = []
    for name, value in scope["headers"]:
        lowered = name.lower()
        if lowered == _ORIGINAL_METHOD:
            method = value.decode("latin-1").strip().upper()
        elif lowered == _ORIGINAL_URI:
            uri = value.decode("latin-1")
        elif lowered == _AUTHORIZATION:
            authorization.append(value)
    if not method or uri is None:
        return False
    raw_path = uri.partition("?")[0]
    preflight = preflight_method(scope["headers"]) if method == "OPTIONS" else None
    decision, canary = gateway.decide(method, raw_path, authorization, preflight)
    if decision.status is not None:
        headers = [(BODY_HEADER, body_for(decision.status, decision.rule, decision.bodies))]
        await _answer(send, decision.status, decision.rule, headers)
        gateway.observe(
            decision, decision.status, decision.rule, True, _since(started), canary, method, raw_path
        )
        return True
    admission = await gateway.admit(decision)
    if not admission.admitted:
        status = admission.status
        headers = [(BODY_HEADER, body_for(status, admission.rule, decision.bodies)), *admission.headers]
        await _answer(send, status, admission.rule, headers)
        gateway.observe(decision, status, admission.rule, True, _since(started), canary, method, raw_path)
        return True
    headers = list(admission.headers)
    client = decision.client
    if client is not None:
        headers += [(b"x-gw467-client", client.id.encode()), (b"x-gw467-class", client.client_class.encode())]
    plan = decision.verdict.plan if decision.verdict is not None else None
    if plan is not None:
        headers.append((b"x-gw467-plan", plan.encode()))
    await _answer(send, PASSED, admission.rule, headers)
    # The app's own status is not seen here: the outcome counted is the check's answer.
    gateway.observe(decision, PASSED, admission.rule, False, _since(started), canary, method, raw_path)
    return True


async def _answer(send: Send, status: int, rule: Rule, extra: Headers) -> None:
    headers = [(b"content-length", b"0"), (RULE_HEADER, rule.encoded), *extra]
    if status == STATUS_UNAUTHENTICATED:
        headers.append(BEARER_CHALLENGE)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})


def _since(started: float) -> float:
    return time.perf_counter() - started
