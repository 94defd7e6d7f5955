"""A slow, plainly-written evaluator of the decision rules, for differential tests only.

It reads the `PlanSet` directly: no trie, no bitsets, no precomputed verdicts,
no shared helpers from the fast path. Every rule is written out in the order
the docs state it, so a disagreement with `gateway.core.decision.decide` is a bug in
one of them. Never used to serve requests.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from fnmatch import fnmatchcase

from gateway.core.plans import Client, Endpoint, PlanSet

_UNRESERVED_AND_ALLOWED = set(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~!$&'()*+,=:@"
)

# Starlette's converter patterns, written out again here.
_CONVERTER_PATTERNS = {
    "int": r"[0-9]+",
    "uuid": r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}",
    "float": r"[0-9]+(\.[0-9]+)?",
    "str": r".+",
}


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
    preflight: str | None = None,
) -> ReferenceDecision:
    """Decide one request; with `client_id`, as that client, skipping authentication.

    `preflight` is the Access-Control-Request-Method of a CORS preflight, if it is one.
    """
    try:
        segments = _canonical(raw_path)
    except _Refused as refused:
        return ReferenceDecision(400, "path:" + refused.reason)

    if method == "OPTIONS" and preflight is not None and plan_set.policy.cors_preflight:
        endpoint = _find_endpoint(plan_set, preflight, segments)
        if endpoint is None:
            return ReferenceDecision(404, "route:none")
        return ReferenceDecision(None, "cors:preflight", None, endpoint.id, _forwarded(endpoint, segments))

    endpoint = _find_endpoint(plan_set, method, segments)
    if endpoint is not None and endpoint.public:
        caller = None
        if client_id is not None:
            caller = next(c for c in plan_set.clients if c.id == client_id)
        elif authorization:
            found = _authenticate(plan_set, authorization)
            if not isinstance(found, str):
                caller = found
        return ReferenceDecision(
            None, "public", caller.id if caller else None, endpoint.id, _forwarded(endpoint, segments)
        )

    if client_id is not None:
        client = next(c for c in plan_set.clients if c.id == client_id)
    else:
        found = _authenticate(plan_set, authorization)
        if isinstance(found, str):
            return ReferenceDecision(401, "auth:" + found)
        client = found
    if endpoint is None:
        return ReferenceDecision(404, "route:none", client.id)
    rule = _entitlement_rule(plan_set, client, endpoint)
    if rule.endswith("/deny"):
        return ReferenceDecision(467, rule, client.id, endpoint.id)
    return ReferenceDecision(None, rule, client.id, endpoint.id, _forwarded(endpoint, segments))


def _authenticate(plan_set: PlanSet, authorization: list[bytes]) -> Client | str:
    """The client whose key the request carries, or why there is none."""
    if len(authorization) == 0:
        return "missing"
    if len(authorization) > 1:
        return "ambiguous"
    header = authorization[0]
    if header[:7].lower() != b"bearer ":
        return "malformed"
    key = header[7:].strip(b" \t")
    if key == b"" or b" " in key or b"\t" in key:
        return "malformed"
    presented = hashlib.sha256(key).hexdigest()
    for candidate in plan_set.clients:
        if presented in candidate.key_sha256s:
            return candidate
    return "unknown-key"


def _find_endpoint(plan_set: PlanSet, method: str, segments: list[str]) -> Endpoint | None:
    """Of the endpoints matching the request, the one ranked first; HEAD falls back to GET."""
    matching = [e for e in plan_set.endpoints if e.method == method and _template_matches(e.path, segments)]
    if not matching and method == "HEAD":
        matching = [
            e for e in plan_set.endpoints if e.method == "GET" and _template_matches(e.path, segments)
        ]
    if not matching:
        return None
    return min(matching, key=lambda e: [_rank(part) for part in _parts(e.path)])


def _parts(template: str) -> list[str]:
    return [] if template == "/" else template.split("/")[1:]


def _converter(part: str) -> str | None:
    """The converter of a parameter part (`str` when none is named), None for a literal."""
    if not part.startswith("{"):
        return None
    inside = part[1:-1]
    return inside.split(":")[1] if ":" in inside else "str"


def _rank(part: str) -> int:
    return {None: 0, "int": 1, "uuid": 2, "float": 3, "str": 4, "path": 5}[_converter(part)]


def _template_matches(template: str, segments: list[str]) -> bool:
    parts = _parts(template)
    if parts and _converter(parts[-1]) == "path":
        if len(segments) < len(parts):
            return False
        parts = parts[:-1]
        segments = segments[: len(parts)]
    if len(parts) != len(segments):
        return False
    for part, segment in zip(parts, segments, strict=True):
        converter = _converter(part)
        if converter is None:
            if not segment.isascii() or part.lower() != segment.lower():
                return False
        elif not re.fullmatch(_CONVERTER_PATTERNS[converter], segment):
            return False
    return True


def _forwarded(endpoint: Endpoint, segments: list[str]) -> str:
    forwarded = []
    parts = _parts(endpoint.path)
    for position, part in enumerate(parts):
        if _converter(part) == "path":
            forwarded.extend(segments[position:])
        elif part.startswith("{"):
            forwarded.append(segments[position])
        else:
            forwarded.append(part)
    return "/" + "/".join(forwarded)


def _path_of_absolute_form(target: str) -> str:
    """`http://host:port/path` -> `/path`; anything else that does not start with '/' is refused."""
    scheme, separator, rest = target.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        raise _Refused("not-absolute")
    slash = rest.find("/")
    authority, path = (rest, "/") if slash == -1 else (rest[:slash], rest[slash:])
    if authority.startswith("["):
        close = authority.find("]")
        host, after = authority[: close + 1], authority[close + 1 :]
        host_ok = close > 1 and all(char in "0123456789abcdefABCDEF:." for char in host[1:-1])
    else:
        host, colon, port = authority.partition(":")
        after = colon + port
        host_ok = host != "" and all(char.isascii() and (char.isalnum() or char in "-.") for char in host)
    port_ok = after == "" or (after[0] == ":" and after[1:].isdigit() and len(after) <= 6)
    if not (host_ok and port_ok):
        raise _Refused("not-absolute")
    return path


def _canonical(raw_path: str) -> list[str]:
    if len(raw_path) > 2048:
        raise _Refused("too-long")
    if not raw_path.startswith("/"):
        raw_path = _path_of_absolute_form(raw_path)
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
        high_bytes = b""
        position = 0
        while position < len(part):
            if part[position] != "%":
                decoded += _utf8(high_bytes) + part[position]
                high_bytes = b""
                position += 1
                continue
            digits = part[position + 1 : position + 3]
            if not re.fullmatch(r"[0-9A-Fa-f]{2}", digits):
                raise _Refused("bad-percent-encoding")
            position += 3
            if int(digits, 16) >= 128:
                high_bytes += bytes([int(digits, 16)])
                continue
            decoded += _utf8(high_bytes)
            high_bytes = b""
            char = chr(int(digits, 16))
            if char == "/" or char == "\\":
                raise _Refused("encoded-slash")
            if char == "%":
                raise _Refused("double-encoding")
            if ord(char) < 32 or ord(char) == 127:
                raise _Refused("control-character")
            if char not in _UNRESERVED_AND_ALLOWED and char != " ":
                raise _Refused("forbidden-encoded-character")
            decoded += char
        decoded += _utf8(high_bytes)
        if decoded == "." or decoded == "..":
            raise _Refused("dot-segment")
        segments.append(decoded)
    return segments


def _utf8(data: bytes) -> str:
    """Escaped bytes of 0x80 and up, as UTF-8 text; controls and line separators are refused."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise _Refused("bad-utf8") from None
    for char in text:
        if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
            raise _Refused("control-character")
    return text


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
