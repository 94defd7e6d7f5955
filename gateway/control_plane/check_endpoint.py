"""`/_gw467/check`: the decision for a request another proxy holds (nginx `auth_request`, Envoy ext_authz).

The request to decide is named by `X-Original-Method` and `X-Original-URI` (the path as the
client sent it, query and all), with the client's own Authorization header; it is decided,
admitted and observed exactly as `EntitlementMiddleware` would, by the same runtime. The
answer has an empty body: 200 when the request may pass (with `x-gw467-client`,
`x-gw467-class` and `x-gw467-plan` for the app, and `x-gw467-path`, the path as decided, for
the proxy to forward), else the refusal's status (400, 401, 404,
429 or 467) with the body the middleware would send in `x-gw467-body` (minified to one line
of ASCII JSON: a header cannot hold a line break), so the proxy can answer with it. A request
naming its method or URI twice is a 400 (the proxy and the app might each read a different
one), and so is one that overrides its method or URL, by a header of the client's (which the
proxy passes on) or `_method` in X-Original-URI's query (see `gateway.core.forwarding`; an
X-Original-URL or X-Rewrite-URL naming X-Original-URI's very path and query is the proxy's
own: Kubernetes ingress-nginx sets one on its auth subrequest); so
is one with an `x-gw467-*` header of the client's (other than the check token): the proxy
cannot strip a family of headers, and the app must hear who called from gw467 alone. Only
loopback callers, or callers that send `x-gw467-check-token`, are answered: anyone else gets 403.
"""

from __future__ import annotations

import hmac
import time
from urllib.parse import urlsplit

from starlette.types import Scope, Send

from gateway.core.decision import Decision, preflight_method
from gateway.core.forwarding import (
    GATEWAY_HEADER,
    GATEWAY_NAMED,
    METHOD_NAMED,
    METHOD_OVERRIDE,
    URL_NAMED,
    URL_OVERRIDE,
    header_kind,
    query_overrides_method,
)
from gateway.core.paths import raw_path_for
from gateway.core.refusals import one_line
from gateway.core.rules import STATUS_BAD_PATH, STATUS_UNAUTHENTICATED, Rule, path_refused
from gateway.request_path.peers import from_loopback
from gateway.request_path.responses import BEARER_CHALLENGE, DUPLICATE_ORIGINAL, RULE_HEADER, body_for
from gateway.request_path.runtime import Gateway, Headers

CHECK_PATH = "/_gw467/check"
PASSED = 200
TOKEN_HEADER = b"x-gw467-check-token"
BODY_HEADER = b"x-gw467-body"
PATH_HEADER = b"x-gw467-path"
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
    methods: list[str] = []
    uris: list[str] = []
    authorization: list[bytes] = []
    urls: list[str] = []
    override: str | None = None
    for name, value in scope["headers"]:
        lowered = name.lower()
        if lowered == _ORIGINAL_METHOD:
            methods.append(value.decode("latin-1").strip().upper())
        elif lowered == _ORIGINAL_URI:
            uris.append(value.decode("latin-1"))
        elif lowered == _AUTHORIZATION:
            authorization.append(value)
        else:
            # The proxy passes the client's headers on: an override there would reach the app.
            kind = header_kind(name)
            if kind == GATEWAY_NAMED and lowered != TOKEN_HEADER and override is None:
                # nginx cannot drop a family of headers by prefix: refused instead of stripped.
                override = GATEWAY_HEADER
            elif kind == METHOD_NAMED:
                override = METHOD_OVERRIDE
            elif kind == URL_NAMED:
                urls.append(value.decode("latin-1"))
    if len(methods) > 1 or len(uris) > 1:
        # Which one would the app see? Proxies differ (nginx passes the first, others the last).
        rule = path_refused(DUPLICATE_ORIGINAL)
        body = one_line(body_for(STATUS_BAD_PATH, rule))
        await _answer(send, STATUS_BAD_PATH, rule, [(BODY_HEADER, body)])
        return True
    if not methods or not methods[0] or not uris:
        return False
    method, uri = methods[0], uris[0]
    raw_path, _, query = uri.partition("?")
    if override is None and query and query_overrides_method(query.encode("latin-1")):
        override = METHOD_OVERRIDE
    if override is None and any(_request_target(url) != uri for url in urls):
        # A URL naming the very request decided is a proxy's own (Kubernetes ingress-nginx sets
        # X-Original-URL on its auth subrequest); any other is an override.
        override = URL_OVERRIDE
    if override is not None:
        decision: Decision = Decision(
            STATUS_BAD_PATH, path_refused(override), bodies=gateway.in_force.stage.active.bodies
        )
        canary = None
    else:
        preflight = preflight_method(scope["headers"]) if method == "OPTIONS" else None
        decision, canary = gateway.decide(method, raw_path, authorization, preflight)
    if decision.status is not None:
        headers = [(BODY_HEADER, one_line(body_for(decision.status, decision.rule, decision.bodies)))]
        await _answer(send, decision.status, decision.rule, headers)
        gateway.observe(
            decision, decision.status, decision.rule, True, _since(started), canary, method, raw_path
        )
        return True
    admission = await gateway.admit(decision)
    if not admission.admitted:
        status = admission.status
        body = one_line(body_for(status, admission.rule, decision.bodies))
        headers = [(BODY_HEADER, body), *admission.headers]
        await _answer(send, status, admission.rule, headers)
        gateway.observe(decision, status, admission.rule, True, _since(started), canary, method, raw_path)
        return True
    # The path as decided (canonical, literals spelled as the template spells them), for the
    # proxy to forward instead of the client's spelling: `/2/links//preview` was decided as
    # `/2/links/preview`, and the app must route on that, not on the empty segment.
    headers = list(admission.headers)
    if decision.path is not None:
        headers.append((PATH_HEADER, raw_path_for(decision.path)))
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


def _request_target(url: str) -> str:
    """The path and query of an X-Original-URL / X-Rewrite-URL value (absolute or not)."""
    if "://" not in url:
        return url
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def _since(started: float) -> float:
    return time.perf_counter() - started
