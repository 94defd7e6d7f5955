"""Hypothesis strategies for plan sets, clients, requests and path-encoding variants.

Generated plan sets are valid by construction (no two templates matching the same
requests, grants that match something, unique keys) and come with their clients'
raw keys, so tests can send authenticated requests. Catalogues mix literals,
converters (`int`, `uuid`, `float`, `str`, a trailing `path`) and siblings that
only precedence tells apart (`/users/me` beside `/users/{id}`), and some endpoints
are public.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

from hypothesis import strategies as st

from gateway.core.planfile import sha256_hex
from gateway.core.plans import (
    FIRST_PARTY,
    THIRD_PARTY,
    Client,
    Endpoint,
    Grant,
    Plan,
    PlanSet,
    Policy,
    Quota,
)
from gateway.core.templates import parse_template, templates_ambiguous

METHODS = ("GET", "POST", "PUT", "DELETE")
SURFACES = ("links", "media", "timeline", "tweets", "login", "users")
FIRST_PARTY_CLASSES = ("web", "ios", "android", "tweetdeck", "tco", "media", "login")
# A small literal alphabet, so that generated templates share prefixes and nearly overlap.
LITERALS = ("2", "1.1", "tweets", "users", "media", "Links", "search", "x.json")
PARAMETER_VALUE = st.from_regex(r"[A-Za-z0-9_\-]{1,12}", fullmatch=True).filter(
    lambda value: value not in (".", "..")
)
# Values for each converter, spelled as plain ASCII (so every encoding variant applies to them).
CONVERTER_VALUES: dict[str, st.SearchStrategy[str]] = {
    "str": PARAMETER_VALUE | st.sampled_from(("42", "me", "featured", "3.5")),
    "int": st.from_regex(r"[0-9]{1,6}", fullmatch=True),
    "float": st.from_regex(r"[0-9]{1,3}(\.[0-9]{1,2})?", fullmatch=True),
    "uuid": st.uuids().map(str),
    "path": st.lists(PARAMETER_VALUE, min_size=1, max_size=3).map("/".join),
}
# Percent-encoded values that decode to spaces or non-ASCII UTF-8, as Starlette would pass them on.
ENCODED_VALUES = ("hello%20world", "jos%C3%A9", "%E2%9C%93", "caf%c3%a9%20au%20lait", "%F0%9F%90%A6")
TYPED = ("int", "uuid", "float")

# The shapes a plan file's cors_origins takes: none, any origin, and named origins.
CORS_ORIGINS: tuple[tuple[str, ...], ...] = ((), ("*",), ("https://app.example", "http://127.0.0.1:8080"))


@dataclass(frozen=True)
class KeyedPlanSet:
    """A plan set and the raw API key of each of its clients (keys are not in PlanSet)."""

    plan_set: PlanSet
    keys: Mapping[str, str]


def _parameter(position: int, converter: str) -> str:
    return f"{{p{position}}}" if converter == "" else f"{{p{position}:{converter}}}"


@st.composite
def path_templates(draw: st.DrawFn) -> str:
    """A template of 1 to 4 segments: literals from a small alphabet, or parameters, typed or not,
    the last one maybe a `path` catch-all."""
    size = draw(st.integers(1, 4))
    parts = []
    for position in range(size):
        if draw(st.booleans()):
            parts.append(draw(st.sampled_from(LITERALS)))
            continue
        converters = ["", "", "str", *TYPED] + (["path"] if position == size - 1 else [])
        parts.append(_parameter(position, draw(st.sampled_from(converters))))
    return "/" + "/".join(parts)


@st.composite
def sibling_templates(draw: st.DrawFn, template: str) -> str:
    """`template` with one parameter made a literal or given another converter: a sibling that
    only precedence tells apart from it."""
    parts = template.split("/")[1:]
    positions = [index for index, part in enumerate(parts) if part.startswith("{")]
    if not positions:
        return template
    position = draw(st.sampled_from(positions))
    last = position == len(parts) - 1
    converters = ["", *TYPED] + (["path"] if last else [])
    parts[position] = draw(
        st.sampled_from(("me", "featured", "42", *LITERALS))
        | st.sampled_from(converters).map(lambda converter: _parameter(position, converter))
    )
    return "/" + "/".join(parts)


@st.composite
def endpoint_catalogues(draw: st.DrawFn, max_size: int = 12) -> tuple[Endpoint, ...]:
    """Endpoints with unique ids and no two templates of one method matching the same requests;
    some are siblings of another (see `sibling_templates`), about one in eight is public."""
    drafts = draw(
        st.lists(
            st.tuples(st.sampled_from(METHODS), path_templates(), st.sampled_from(SURFACES)),
            min_size=1,
            max_size=max_size,
        )
    )
    for method, template, surface in list(drafts[: max_size // 2]):
        if draw(st.booleans()):
            drafts.append((method, draw(sibling_templates(template)), surface))
    endpoints: list[Endpoint] = []
    for index, (method, template, surface) in enumerate(drafts):
        segments = parse_template(template)
        if any(
            other.method == method and templates_ambiguous(segments, parse_template(other.path))
            for other in endpoints
        ):
            continue
        public = draw(st.integers(0, 7)) == 0
        endpoints.append(Endpoint(f"{surface}.e{index}", method, template, surface, public))
    return tuple(endpoints)


@st.composite
def grants(draw: st.DrawFn, endpoints: tuple[Endpoint, ...]) -> Grant:
    """A grant that admits at least one endpoint: ids, surface globs or '*', maybe by method."""
    anchor = draw(st.sampled_from(endpoints))
    kind = draw(st.sampled_from(("id", "surface", "all")))
    pattern = {"id": anchor.id, "surface": f"{anchor.surface}.*", "all": "*"}[kind]
    methods = (anchor.method,) if draw(st.booleans()) else ()
    eligible = [e.id for e in endpoints if not methods or e.method in methods]
    extra = draw(st.lists(st.sampled_from(eligible), max_size=2, unique=True))
    return Grant(tuple(dict.fromkeys([pattern, *extra])), methods)


@st.composite
def keyed_plan_sets(draw: st.DrawFn, max_endpoints: int = 12, max_clients: int = 6) -> KeyedPlanSet:
    """A valid plan set of a few endpoints, plans, clients and a policy, with the raw keys."""
    endpoints = draw(endpoint_catalogues(max_endpoints))
    plan_count = draw(st.integers(1, 3))
    plans = []
    for tier in range(plan_count):
        plan_grants = draw(st.lists(grants(endpoints), max_size=3))
        quota = draw(st.none() | st.builds(Quota, st.integers(1, 50), st.sampled_from((60, 900))))
        plans.append(Plan(f"plan{tier}", tier, tuple(plan_grants), quota))
    plan_names = [plan.name for plan in plans]
    clients = []
    keys: dict[str, str] = {}
    for index in range(draw(st.integers(1, max_clients))):
        client_class = draw(st.sampled_from((*FIRST_PARTY_CLASSES, THIRD_PARTY)))
        key = f"key-{index}-{draw(st.from_regex(r'[a-f0-9]{8}', fullmatch=True))}"
        client_id = f"c{index}"
        keys[client_id] = key
        clients.append(
            Client(
                id=client_id,
                client_class=client_class,
                first_party=client_class != THIRD_PARTY,
                key_sha256s=(sha256_hex(key),),
                plan=draw(st.none() | st.sampled_from(plan_names)),
            )
        )
    selectors = [FIRST_PARTY, THIRD_PARTY]
    selectors += [f"class:{c.client_class}" for c in clients] + [f"client:{c.id}" for c in clients]
    exempt = draw(st.lists(st.sampled_from(selectors), max_size=2, unique=True))
    policy = Policy(
        tuple(exempt),
        draw(st.none() | st.sampled_from(plan_names)),
        draw(st.booleans()),
        draw(st.sampled_from(CORS_ORIGINS)),
    )
    plan_set = PlanSet("generated", tuple(endpoints), tuple(plans), tuple(clients), policy)
    return KeyedPlanSet(plan_set, keys)


def filled_path(template: str, values: list[str]) -> str:
    """The template with its parameters replaced, in order, by `values`."""
    parts = []
    remaining = iter(values)
    for part in template.split("/")[1:]:
        parts.append(next(remaining) if part.startswith("{") else part)
    return "/" + "/".join(parts)


# One value per converter that no generated literal or narrower converter also matches.
EXAMPLE_VALUES = {
    "str": "vx",
    "int": "7",
    "uuid": "123e4567-e89b-12d3-a456-426614174000",
    "float": "0.5",
    "path": "vx",
}


def generated_catalogue_path(template: str) -> str:
    """A concrete path that routes to `template` in a generated catalogue (its siblings' literals
    and narrower converters never match the values chosen)."""
    values = [EXAMPLE_VALUES[_converter_of(part)] for part in template.split("/")[1:] if part.startswith("{")]
    return filled_path(template, values)


def _converter_of(part: str) -> str:
    inside = part[1:-1]
    return inside.partition(":")[2] or "str"


@st.composite
def template_paths(draw: st.DrawFn, template: str) -> str:
    """A concrete path for `template`, each parameter given a value its converter accepts."""
    parameters = [part for part in template.split("/")[1:] if part.startswith("{")]
    values = [draw(CONVERTER_VALUES[_converter_of(part)]) for part in parameters]
    return filled_path(template, values)


@st.composite
def encoded_template_paths(draw: st.DrawFn, template: str) -> str:
    """A raw path for `template` whose `str` and `path` values may be percent-encoded UTF-8 or spaces."""
    values = []
    for part in template.split("/")[1:]:
        if not part.startswith("{"):
            continue
        converter = _converter_of(part)
        if converter in ("str", "path") and draw(st.booleans()):
            values.append(draw(st.sampled_from(ENCODED_VALUES)))
        else:
            values.append(draw(CONVERTER_VALUES[converter]))
    return filled_path(template, values)


def _escape(char: str, lower: bool = False) -> str:
    escaped = f"%{ord(char):02X}"
    return escaped.lower() if lower else escaped


# Each variant maps a canonical path to another spelling of it, which must be normalized...
NORMALIZED_VARIANTS = (
    "identity",
    "escape-unreserved",
    "escape-unreserved-lowercase-hex",
    "double-slash",
    "trailing-slash",
    "upper-case",
)
# ...or to an attack on it, which must be refused with 400.
REFUSED_VARIANTS = (
    "encoded-slash",
    "encoded-slash-lowercase",
    "dot-segment",
    "encoded-dot-segment",
    "double-encoding",
    "path-parameter",
    "fragment",
    "nul",
    "backslash",
)
ENCODING_VARIANTS = NORMALIZED_VARIANTS + REFUSED_VARIANTS


@st.composite
def encoding_variants(draw: st.DrawFn, path: str) -> tuple[str, str]:
    """(variant name, raw path): the canonical `path` spelled in one of ENCODING_VARIANTS."""
    variant = draw(st.sampled_from(ENCODING_VARIANTS))
    segments = path[1:].split("/")
    position = draw(st.integers(0, len(segments) - 1))
    segment = segments[position]
    if variant == "identity":
        changed = segment
    elif variant.startswith("escape-unreserved"):
        at = draw(st.integers(0, len(segment) - 1))
        changed = segment[:at] + _escape(segment[at], variant.endswith("hex")) + segment[at + 1 :]
    elif variant == "double-slash":
        changed = "/" + segment
    elif variant == "trailing-slash":
        changed = segment + ("/" if position == len(segments) - 1 else "")
    elif variant == "upper-case":
        changed = segment.upper()
    elif variant == "encoded-slash":
        changed = segment + "%2F.."
    elif variant == "encoded-slash-lowercase":
        changed = segment + "%2f" + segment
    elif variant == "dot-segment":
        changed = segment + "/../" + segment
    elif variant == "encoded-dot-segment":
        changed = segment + "/%2e%2E/" + segment
    elif variant == "double-encoding":
        changed = segment + "%252F"
    elif variant == "path-parameter":
        changed = segment + ";jsessionid=1"
    elif variant == "fragment":
        changed = segment + "#frag"
    elif variant == "nul":
        changed = segment + "%00"
    else:
        changed = segment + "\\" + segment
    segments[position] = changed
    return variant, "/" + "/".join(segments)


@st.composite
def authorization_headers(draw: st.DrawFn, keyed: KeyedPlanSet) -> list[bytes]:
    """Authorization header values: a client's key (mostly), unknown, malformed, none, or two."""
    choice = draw(st.sampled_from(("client", "client", "client", "unknown", "malformed", "none", "two")))
    client_key = draw(st.sampled_from(sorted(keyed.keys.values())))
    scheme = draw(st.sampled_from(("Bearer", "bearer", "BEARER")))
    if choice == "client":
        return [f"{scheme} {client_key}".encode()]
    if choice == "unknown":
        return [f"Bearer {client_key}x".encode()]
    if choice == "malformed":
        return [
            draw(
                st.sampled_from((f"Basic {client_key}", client_key, "Bearer ", f"Bearer a {client_key}"))
            ).encode()
        ]
    if choice == "none":
        return []
    return [f"Bearer {client_key}".encode(), f"Bearer {client_key}".encode()]


@st.composite
def requests(draw: st.DrawFn, keyed: KeyedPlanSet) -> tuple[str, str, list[bytes]]:
    """(method, raw path, authorization values) aimed mostly at the catalogue's endpoints."""
    endpoints = keyed.plan_set.endpoints
    if draw(st.integers(0, 9)) < 8:
        endpoint = draw(st.sampled_from(endpoints))
        method = endpoint.method if draw(st.integers(0, 4)) else draw(st.sampled_from(METHODS))
        if draw(st.integers(0, 3)) == 0:
            path = draw(encoded_template_paths(endpoint.path))
        else:
            path = draw(template_paths(endpoint.path))
            if draw(st.booleans()):
                _, path = draw(encoding_variants(path))
    else:
        method = draw(st.sampled_from(METHODS))
        prefix = draw(st.sampled_from(("/", "/", "/", "")))
        path = prefix + draw(st.text(alphabet="/ab.%2Fe;#\\", max_size=12))
    return method, path, draw(authorization_headers(keyed))


def rekeyed(plan_set: PlanSet) -> KeyedPlanSet:
    """The plan set with every client given a known test key, so requests can authenticate.

    A user's plan file usually holds only key digests; keys decide nothing but who is
    calling, so replacing them keeps every entitlement decision the same.
    """
    keys = {client.id: f"gw467-test-key-{index:06d}" for index, client in enumerate(plan_set.clients)}
    clients = tuple(
        dataclasses.replace(client, key_sha256s=(sha256_hex(keys[client.id]),)) for client in plan_set.clients
    )
    return KeyedPlanSet(dataclasses.replace(plan_set, clients=clients), keys)


# Headers a caller can set that a careless gateway might trust to mean "internal" or "exempt".
SPOOFING_HEADER_NAMES = (
    "x-internal",
    "x-first-party",
    "x-client-class",
    "x-client-id",
    "x-exempt",
    "x-api-plan",
    "x-gw467-rule",
    "x-gw467-client",
    "x-forwarded-for",
    "x-real-ip",
    "x-twitter-client",
    "x-original-url",
    "x-rewrite-url",
    "x-http-method-override",
)
SPOOFING_HEADER_VALUES = (
    "true",
    "1",
    "yes",
    "web",
    "first_party",
    "exempt:first_party",
    "enterprise",
    "127.0.0.1",
    "/2/tweets/1",
    "GET",
)


# The pairs a careless gateway is most likely to trust, tried first and often.
PLAUSIBLE_SPOOFS = (
    ("x-internal", "true"),
    ("x-internal", "1"),
    ("x-first-party", "true"),
    ("x-client-class", "web"),
    ("x-client-id", "web"),
    ("x-exempt", "true"),
    ("x-api-plan", "enterprise"),
    ("x-gw467-rule", "exempt:first_party"),
    ("x-gw467-client", "web"),
    ("x-forwarded-for", "127.0.0.1"),
    ("x-real-ip", "10.0.0.1"),
    ("x-twitter-client", "Twitter for iPhone"),
    ("x-original-url", "/2/tweets/1"),
    ("x-http-method-override", "GET"),
)


def spoofing_headers() -> st.SearchStrategy[list[tuple[bytes, bytes]]]:
    """Client-settable headers claiming to be internal, first-party, exempt or on a better plan."""
    plausible = st.sampled_from(PLAUSIBLE_SPOOFS)
    mixed = st.tuples(st.sampled_from(SPOOFING_HEADER_NAMES), st.sampled_from(SPOOFING_HEADER_VALUES))
    header = (plausible | mixed).map(lambda pair: (pair[0].encode(), pair[1].encode()))
    return st.lists(header, min_size=1, max_size=4)


@st.composite
def reordered_headers(draw: st.DrawFn, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """The same headers in another order, each name in another letter case, with harmless extras."""
    extras = draw(
        st.lists(
            st.sampled_from([(b"accept", b"*/*"), (b"user-agent", b"gw467-test"), (b"x-request-id", b"42")]),
            max_size=3,
        )
    )
    shuffled = draw(st.permutations([*headers, *extras]))
    result = []
    for name, value in shuffled:
        case = draw(st.sampled_from(("lower", "upper", "title")))
        text = name.decode("latin-1")
        spelled = {"lower": text.lower(), "upper": text.upper(), "title": text.title()}[case]
        result.append((spelled.encode("latin-1"), value))
    return result


CONFIG_CHANGES = (
    "drop exemption",
    "add exemption",
    "narrow exemption",
    "change client plan",
    "swap client plans",
    "reclassify class",
    "drop grant",
    "change default plan",
    "remove endpoint",
    "rename endpoint",
    "respell template",
    "move template",
    "change method",
    "add literal sibling",
)


@st.composite
def config_changes(draw: st.DrawFn, plan_set: PlanSet) -> tuple[str, PlanSet]:
    """(what changed, the changed plan set): one edit an operator could make to a plan file.

    Policy edits (exemptions, plans, default plan, a class moved between first- and
    third-party), grant edits, and catalogue edits (an endpoint removed or renamed, a
    template respelled or moved, a method changed, a literal sibling added beside a
    parameter, which takes the requests with that literal). Every result is valid (it would
    pass `gw467 check`: grants left matching nothing are dropped with the endpoint),
    so it can be compared with the original by the invariant checks.
    """
    kind = draw(st.sampled_from(CONFIG_CHANGES))
    policy = plan_set.policy
    clients = plan_set.clients
    if kind == "drop exemption" and policy.exempt:
        selector = draw(st.sampled_from(policy.exempt))
        exempt = tuple(s for s in policy.exempt if s != selector)
        return f"drop exemption {selector!r}", dataclasses.replace(
            plan_set, policy=dataclasses.replace(policy, exempt=exempt)
        )
    if kind == "add exemption":
        selector = draw(st.sampled_from([FIRST_PARTY, THIRD_PARTY, *(f"client:{c.id}" for c in clients)]))
        if selector not in policy.exempt:
            return f"add exemption {selector!r}", dataclasses.replace(
                plan_set, policy=dataclasses.replace(policy, exempt=(*policy.exempt, selector))
            )
    if kind == "narrow exemption" and FIRST_PARTY in policy.exempt:
        classes = sorted({c.client_class for c in clients if c.first_party}) or ["web"]
        narrower = f"class:{draw(st.sampled_from(classes))}"
        exempt = tuple(dict.fromkeys(narrower if s == FIRST_PARTY else s for s in policy.exempt))
        return f"narrow exemption first_party -> {narrower!r}", dataclasses.replace(
            plan_set, policy=dataclasses.replace(policy, exempt=exempt)
        )
    if kind == "change client plan" and plan_set.plans:
        client = draw(st.sampled_from(clients))
        new_plan = draw(st.none() | st.sampled_from([p.name for p in plan_set.plans]))
        changed = tuple(dataclasses.replace(c, plan=new_plan) if c.id == client.id else c for c in clients)
        return f"client {client.id!r} plan -> {new_plan!r}", dataclasses.replace(plan_set, clients=changed)
    if kind == "swap client plans" and len(clients) >= 2:
        first, second = draw(
            st.lists(st.sampled_from(clients), min_size=2, max_size=2, unique_by=lambda c: c.id)
        )
        plans_of = {first.id: second.plan, second.id: first.plan}
        changed = tuple(
            dataclasses.replace(c, plan=plans_of[c.id]) if c.id in plans_of else c for c in clients
        )
        return f"swap plans of {first.id!r} and {second.id!r}", dataclasses.replace(plan_set, clients=changed)
    # The classes named `first_party` and `third_party` are what they say; any other may move.
    movable = sorted({c.client_class for c in clients} - {FIRST_PARTY, THIRD_PARTY})
    if kind == "reclassify class" and movable:
        moved = draw(st.sampled_from(movable))
        first_party = not next(c.first_party for c in clients if c.client_class == moved)
        changed = tuple(
            dataclasses.replace(c, first_party=first_party) if c.client_class == moved else c for c in clients
        )
        party = "first" if first_party else "third"
        return f"class {moved!r} becomes {party}-party", dataclasses.replace(plan_set, clients=changed)
    if kind == "drop grant" and any(p.grants for p in plan_set.plans):
        plan = draw(st.sampled_from([p for p in plan_set.plans if p.grants]))
        index = draw(st.integers(0, len(plan.grants) - 1))
        kept = plan.grants[:index] + plan.grants[index + 1 :]
        plans = tuple(
            dataclasses.replace(p, grants=kept) if p.name == plan.name else p for p in plan_set.plans
        )
        return f"drop grant {index} of plan {plan.name!r}", dataclasses.replace(plan_set, plans=plans)
    if kind == "change default plan" and plan_set.plans:
        default = draw(st.none() | st.sampled_from([p.name for p in plan_set.plans]))
        return f"default plan -> {default!r}", dataclasses.replace(
            plan_set, policy=dataclasses.replace(policy, default_plan=default)
        )
    if kind in (
        "remove endpoint",
        "rename endpoint",
        "respell template",
        "move template",
        "change method",
    ) and (len(plan_set.endpoints) > 1 or kind != "remove endpoint"):
        endpoint = draw(st.sampled_from(plan_set.endpoints))
        edited = _edited_endpoint(draw, kind, endpoint)
        others = tuple(e for e in plan_set.endpoints if e.id != endpoint.id)
        if edited is not None and any(
            other.method == edited.method
            and templates_ambiguous(parse_template(edited.path), parse_template(other.path))
            for other in others
        ):
            return "no change", plan_set
        if edited is None:
            endpoints = others
        else:
            endpoints = tuple(edited if e.id == endpoint.id else e for e in plan_set.endpoints)
        return f"{kind} {endpoint.id!r}", _with_live_grants(
            dataclasses.replace(plan_set, endpoints=endpoints)
        )
    with_parameter = [e for e in plan_set.endpoints if "{" in e.path]
    if kind == "add literal sibling" and with_parameter:
        endpoint = draw(st.sampled_from(with_parameter))
        parts = endpoint.path.split("/")
        position = draw(st.sampled_from([i for i, part in enumerate(parts) if part.startswith("{")]))
        parts[position] = draw(st.sampled_from(LITERALS))
        sibling = Endpoint(f"{endpoint.surface}.sibling", endpoint.method, "/".join(parts), endpoint.surface)
        if sibling.id in {e.id for e in plan_set.endpoints} or any(
            other.method == sibling.method
            and templates_ambiguous(parse_template(sibling.path), parse_template(other.path))
            for other in plan_set.endpoints
        ):
            return "no change", plan_set
        return f"add {sibling.path!r} beside {endpoint.path!r}", dataclasses.replace(
            plan_set, endpoints=(*plan_set.endpoints, sibling)
        )
    return "no change", plan_set


def _edited_endpoint(draw: st.DrawFn, kind: str, endpoint: Endpoint) -> Endpoint | None:
    """The endpoint after a catalogue edit of `kind` (None: removed)."""
    if kind == "remove endpoint":
        return None
    if kind == "rename endpoint":
        # The new id keeps the old one as a prefix: surface globs still match, exact ids do not.
        return dataclasses.replace(endpoint, id=endpoint.id + "r")
    segments = parse_template(endpoint.path)
    if kind == "respell template":
        parts = [f"{{{s.value}r}}" if s.is_parameter else s.value for s in segments]
    elif kind == "move template":
        position = draw(st.integers(0, len(segments) - 1))
        parts = [s.value if not s.is_parameter else f"{{{s.value}}}" for s in segments]
        parts[position] = draw(st.sampled_from(LITERALS)) if draw(st.booleans()) else f"{{m{position}}}"
    else:
        return dataclasses.replace(
            endpoint, method=draw(st.sampled_from([m for m in METHODS if m != endpoint.method]))
        )
    return dataclasses.replace(endpoint, path="/" + "/".join(parts))


def _with_live_grants(plan_set: PlanSet) -> PlanSet:
    """The plan set without the grant patterns that no longer match an endpoint, and without the
    grants left empty: what an operator removing or renaming an endpoint also edits."""

    def live(grant: Grant) -> Grant | None:
        patterns = tuple(
            pattern
            for pattern in grant.endpoints
            if any(Grant((pattern,), grant.methods).covers(e) for e in plan_set.endpoints)
        )
        return dataclasses.replace(grant, endpoints=patterns) if patterns else None

    plans = tuple(
        dataclasses.replace(plan, grants=tuple(g for g in map(live, plan.grants) if g is not None))
        for plan in plan_set.plans
    )
    return dataclasses.replace(plan_set, plans=plans)
