"""The rule that decided a request, as a typed value, and the statuses the gateway answers with.

A `Rule` is built by the compiler (verdicts) and by `decide()` (refusals), carried
as a value, and formatted once, into `Rule.text` (`x-gw467-rule`, metrics labels,
logs). Readers use its fields; nothing parses the text back.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from functools import cache
from typing import Final

STATUS_BAD_PATH: Final = 400
STATUS_UNAUTHENTICATED: Final = 401
STATUS_NO_ROUTE: Final = 404
STATUS_NOT_ENTITLED: Final = 467
STATUS_QUOTA: Final = 429
STATUS_STORE_UNAVAILABLE: Final = 503  # the state store is down and its failure policy is "closed"


class StatusKind(StrEnum):
    """What a response status means for availability and reports; every report counts by these."""

    OK = "ok"  # 1xx-3xx: answered
    NOT_ENTITLED = "467"
    QUOTA = "429"
    SERVER_ERROR = "5xx"
    CLIENT_ERROR = "4xx"  # any other 4xx (400, 401, 404, ...)
    NO_RESPONSE = "none"  # status 0: the connection ended without an answer (load tests)


def _classify(status: int) -> StatusKind:
    if status == 0:
        return StatusKind.NO_RESPONSE
    if status < 400:
        return StatusKind.OK
    if status == STATUS_NOT_ENTITLED:
        return StatusKind.NOT_ENTITLED
    if status == STATUS_QUOTA:
        return StatusKind.QUOTA
    if status >= 500:
        return StatusKind.SERVER_ERROR
    return StatusKind.CLIENT_ERROR


# Every status a server can send, classified once: `status_kind` runs for every response.
_KIND_OF_STATUS = {status: _classify(status) for status in (0, *range(100, 600))}


def status_kind(status: int) -> StatusKind:
    """The kind of a response status."""
    kind = _KIND_OF_STATUS.get(status)
    return kind if kind is not None else _classify(status)


class RuleKind(StrEnum):
    """Which step of the decision spoke."""

    PATH = "path"  # the path was refused (400); `reason` says why
    AUTH = "auth"  # no client could be authenticated (401); `reason` says why
    ROUTE = "route"  # no endpoint matches (404)
    EXEMPT = "exempt"  # a policy selector exempts the client; `selector` names it
    GRANT = "grant"  # the client's plan grants the endpoint through `pattern`
    DENY = "deny"  # the client's plan (or the lack of one: `plan` None) grants nothing that matches (467)
    QUOTA = "quota"  # the plan's quota is spent (429)
    PUBLIC = "public"  # a `public = true` endpoint: forwarded whoever calls
    PREFLIGHT = "cors"  # a CORS preflight, passed to the app when the policy allows them
    STORE = "store"  # the state store could not count the quota; `reason` names the failure policy


@dataclass(frozen=True, slots=True)
class Rule:
    """One rule: its kind and the plan, pattern, selector or reason it names."""

    kind: RuleKind
    plan: str | None = None
    pattern: str | None = None
    selector: str | None = None
    reason: str | None = None
    text: str = field(init=False, compare=False, repr=False)
    encoded: bytes = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        text = _format(self)
        object.__setattr__(self, "text", text)
        object.__setattr__(self, "encoded", text.encode("ascii", "backslashreplace"))

    def __str__(self) -> str:
        return self.text

    @property
    def allows(self) -> bool:
        return self.kind in _ALLOWING


_ALLOWING = frozenset((RuleKind.EXEMPT, RuleKind.GRANT, RuleKind.PUBLIC, RuleKind.PREFLIGHT))


def _format(rule: Rule) -> str:
    kind = rule.kind
    if kind is RuleKind.EXEMPT:
        return f"exempt:{rule.selector}"
    if kind is RuleKind.GRANT:
        return f"plan:{rule.plan}/grant:{rule.pattern}"
    if kind is RuleKind.DENY:
        return f"plan:{rule.plan or 'none'}/deny"
    if kind is RuleKind.QUOTA:
        return f"quota:{rule.plan}"
    if kind is RuleKind.ROUTE:
        return "route:none"
    if kind is RuleKind.PUBLIC:
        return "public"
    if kind is RuleKind.PREFLIGHT:
        return "cors:preflight"
    if kind is RuleKind.STORE:
        return f"store:unavailable ({rule.reason})"
    return f"{kind.value}:{rule.reason}"


# What each reason of a `path:` rule (a 400) means, in words: the gateway's 400 body and
# `gw467 explain` both say it, so it lives here, beside the rule, for the server and the tools alike.
PATH_REASONS: Final[dict[str, str]] = {
    "too-long": "the path is longer than 2048 bytes",
    "not-absolute": "the path does not start with '/'",
    "control-character": "the path contains a control character",
    "non-ascii": "the path contains a non-ASCII byte",
    "backslash": "the path contains a backslash",
    "path-parameter": "the path contains ';' (path parameters are not accepted)",
    "fragment": "the path contains '#'",
    "forbidden-character": "the path contains a character that must not appear in a path",
    "bad-percent-encoding": "the path has a malformed percent-escape",
    "encoded-slash": "the path has an encoded slash or backslash",
    "double-encoding": "the path has an encoded '%' (double encoding)",
    "forbidden-encoded-character": "the path has a percent-escape of a character not allowed in a path",
    "dot-segment": "the path has a '.' or '..' segment",
    "bad-utf8": "the path has percent-escapes that are not UTF-8",
    "lookalike-separator": (
        "a path segment reads as a separator, an escape or a dot segment once Unicode is normalized"
    ),
    "lookalike-literal": "a path segment reads as another route's literal once Unicode is normalized",
    "duplicate-original-header": "X-Original-Method or X-Original-URI was sent more than once",
    "method-override": (
        "the request names another method (X-HTTP-Method-Override, X-HTTP-Method, "
        "X-Method-Override or _method in the query)"
    ),
    "url-override": "the request names another URL (X-Original-URL or X-Rewrite-URL)",
    "gateway-header": "the request carries an x-gw467-* header, which only the gateway may set",
}


# Cached: each is built from a small fixed set of reasons or plans, and a gateway answers
# the same few refusals over and over.
@cache
def path_refused(reason: str) -> Rule:
    return Rule(RuleKind.PATH, reason=reason)


@cache
def not_authenticated(reason: str) -> Rule:
    return Rule(RuleKind.AUTH, reason=reason)


@cache
def quota_spent(plan: str | None) -> Rule:
    return Rule(RuleKind.QUOTA, plan=plan)


@cache
def store_unavailable(policy: str) -> Rule:
    """The rule of a request whose quota the store could not count, under failure policy `policy`."""
    return Rule(RuleKind.STORE, reason=policy)


NO_ROUTE: Final = Rule(RuleKind.ROUTE)
PUBLIC: Final = Rule(RuleKind.PUBLIC)
PREFLIGHT: Final = Rule(RuleKind.PREFLIGHT)
