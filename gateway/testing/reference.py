"""A slow, plainly-written evaluator of the decision rules, for differential tests only.

It reads the `PlanSet` directly: no trie, no bitsets, no precomputed verdicts,
no shared helpers from the fast path. Every rule is written out in the order
the docs state it, so a disagreement with `gateway.core.decision.decide` is a bug in
one of them. Never used to serve requests.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from gateway.core.plans import Client, Endpoint, PlanSet

_UNRESERVED_AND_ALLOWED = set(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@"
)


@dataclass(frozen=True)
class ReferenceDecision:
    status: int | None
    rule: str
    client_id: str | None = None
    endpoint_id: str | None = None
    path: str | None = None


class _Refused(Exception):
    def __init__(self, reason: str) -> None:
        self.reason = reason


def reference_decide(
    plan_set: PlanSet,
    method: str,
    raw_path: str,
    authorization: list[bytes],
    client_id: str | None = None,
) -> ReferenceDecision:
    """Decide one request; with `client_id`, as that client, skipping authentication."""
    try:
        segments = _canonical(raw_path)
    except _Refused as refused:
        return ReferenceDecision(400, "path:" + refused.reason)

    if client_id is not None:
        return _decide_for(plan_set, next(c for c in plan_set.clients if c.id == client_id), method, segments)
    if len(authorization) == 0:
        return ReferenceDecision(401, "auth:missing")
    if len(authorization) > 1:
        return ReferenceDecision(401, "auth:ambiguous")
    header = authorization[0]
    if header[:7].lower() != b"bearer ":
        return ReferenceDecision(401, "auth:malformed")
    key = header[7:].strip(b" \t")
    if key == b"" or b" " in key or b"\t" in key:
        return ReferenceDecision(401, "auth:malformed")
    presented = hashlib.sha256(key).hexdigest()
    client = None
    for candidate in plan_set.clients:
        if candidate.key_sha256 == presented:
            client = candidate
    if client is None:
        return ReferenceDecision(401, "auth:unknown-key")
    return _decide_for(plan_set, client, method, segments)


def _decide_for(plan_set: PlanSet, client: Client, method: str, segments: list[str]) -> ReferenceDecision:
    endpoint = None
    for candidate_endpoint in plan_set.endpoints:
        if candidate_endpoint.method == method and _template_matches(candidate_endpoint.path, segments):
            endpoint = candidate_endpoint
    if endpoint is None:
        return ReferenceDecision(404, "route:none", client.id)

    rule = _entitlement_rule(plan_set, client, endpoint)
    if rule.endswith("/deny"):
        return ReferenceDecision(467, rule, client.id, endpoint.id)
    forwarded = []
    for template_part, value in zip(endpoint.path.split("/")[1:], segments, strict=True):
        forwarded.append(value if template_part.startswith("{") else template_part)
    return ReferenceDecision(None, rule, client.id, endpoint.id, "/" + "/".join(forwarded))


def _canonical(raw_path: str) -> list[str]:
    if len(raw_path) > 2048:
        raise _Refused("too-long")
    if not raw_path.startswith("/"):
        raise _Refused("not-absolute")
    for char in raw_path:
        if char in _UNRESERVED_AND_ALLOWED or char in "%/":
            continue
        if ord(char) < 32 or ord(char) == 127:
            raise _Refused("control-character")
        if ord(char) > 126:
            raise _Refused("non-ascii")
        if char == "\\":
            raise _Refused("backslash")
        if char == ";":
            raise _Refused("path-parameter")
        if char == "#":
            raise _Refused("fragment")
        raise _Refused("forbidden-character")
    segments = []
    for part in raw_path.split("/"):
        if part == "":
            continue
        decoded = ""
        position = 0
        while position < len(part):
            if part[position] != "%":
                decoded += part[position]
                position += 1
                continue
            digits = part[position + 1 : position + 3]
            if not re.fullmatch(r"[0-9A-Fa-f]{2}", digits):
                raise _Refused("bad-percent-encoding")
            char = chr(int(digits, 16))
            if char == "/" or char == "\\":
                raise _Refused("encoded-slash")
            if char == "%":
                raise _Refused("double-encoding")
            if ord(char) < 32 or ord(char) == 127:
                raise _Refused("control-character")
            if char not in _UNRESERVED_AND_ALLOWED:
                raise _Refused("forbidden-encoded-character")
            decoded += char
            position += 3
        if decoded == "." or decoded == "..":
            raise _Refused("dot-segment")
        segments.append(decoded)
    return segments


def _template_matches(template: str, segments: list[str]) -> bool:
    parts = [] if template == "/" else template.split("/")[1:]
    if len(parts) != len(segments):
        return False
    for part, segment in zip(parts, segments, strict=True):
        if part.startswith("{") and part.endswith("}"):
            continue
        if part.lower() != segment.lower():
            return False
    return True


def _entitlement_rule(plan_set: PlanSet, client: Client, endpoint: Endpoint) -> str:
    for selector in plan_set.policy.exempt:
        if selector == "first_party" and client.first_party:
            return f"exempt:{selector}"
        if selector == "third_party" and not client.first_party:
            return f"exempt:{selector}"
        if selector == f"class:{client.client_class}" or selector == f"client:{client.id}":
            return f"exempt:{selector}"
    plan_name = client.plan if client.plan is not None else plan_set.policy.default_plan
    if plan_name is None:
        return "plan:none/deny"
    plan = next(plan for plan in plan_set.plans if plan.name == plan_name)
    for grant in plan.grants:
        if grant.methods and endpoint.method not in grant.methods:
            continue
        for pattern in grant.endpoints:
            if fnmatchcase(endpoint.id, pattern):
                return f"plan:{plan.name}/grant:{pattern}"
    return f"plan:{plan.name}/deny"
