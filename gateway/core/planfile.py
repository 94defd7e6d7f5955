"""Plan files: the TOML format, its validation, and conversion to and from `PlanSet`.

`load_plan_set(path)` is the only way a file becomes a `PlanSet`; whatever it
refuses raises `ConfigError` with one line naming the file and the key at fault.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from gateway.core.config import Problems, parse_toml, read_text, validate_model
from gateway.core.plans import (
    FIRST_PARTY,
    THIRD_PARTY,
    Client,
    Endpoint,
    EndpointLookup,
    Grant,
    Plan,
    PlanSet,
    Policy,
    Quota,
)
from gateway.core.refusals import MAX_REFUSAL_BYTES, REFUSAL_KINDS, Refusal, Responses
from gateway.core.schemas import schema_of
from gateway.core.shipped import locate
from gateway.core.templates import AmbiguityKey, TemplateError, ambiguity_key, parse_template

SCHEMA_VERSION = 1
MIN_KEY_LENGTH = 12

Method = Literal["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
HTTP_METHODS: tuple[str, ...] = get_args(Method)
Name = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$", max_length=64)]
ApiKey = Annotated[str, Field(min_length=MIN_KEY_LENGTH, max_length=256)]
# Fields whose values are never shown in an error message.
SECRET_FIELDS = {"key", "keys"}
EndpointPattern = Annotated[str, Field(pattern=r"^[A-Za-z0-9_.\-*?\[\]!]+$", max_length=64)]
_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class EndpointEntry(_Strict):
    id: Name
    method: Method
    path: str
    surface: Name
    public: bool = False


class GrantEntry(_Strict):
    endpoints: Annotated[list[EndpointPattern], Field(min_length=1)]
    methods: list[Method] = []


class QuotaEntry(_Strict):
    requests: Annotated[int, Field(gt=0)]
    window_seconds: Annotated[int, Field(gt=0)]


class PlanEntry(_Strict):
    tier: Annotated[int, Field(ge=0)]
    grants: list[GrantEntry]
    quota: QuotaEntry | None = None


class ClientEntry(_Strict):
    client_class: Name = Field(alias="class")
    first_party: bool
    key: ApiKey | None = None
    key_sha256: str | None = None
    keys: list[ApiKey] = []
    key_sha256s: list[str] = []
    plan: Name | None = None


class PolicyEntry(_Strict):
    exempt: list[str] = []
    default_plan: Name | None = None
    cors_preflight: bool = False
    cors_origins: Annotated[list[Annotated[str, Field(max_length=256)]], Field(max_length=100)] = []


class RefusalEntry(_Strict):
    message: Annotated[str, Field(min_length=1, max_length=1024)] | None = None
    code: int | None = None
    body: Annotated[str, Field(min_length=1, max_length=4096)] | None = None


class ResponsesEntry(_Strict):
    not_entitled: RefusalEntry | None = None
    unauthenticated: RefusalEntry | None = None
    no_route: RefusalEntry | None = None
    quota: RefusalEntry | None = None


class PlanFile(_Strict):
    schema_: Literal[1] = Field(default=1, alias="schema")
    version: Annotated[str, Field(min_length=1, max_length=128)]
    description: str = ""
    policy: PolicyEntry = PolicyEntry()
    plans: dict[Name, PlanEntry]
    endpoints: Annotated[list[EndpointEntry], Field(min_length=1)]
    clients: Annotated[dict[Name, ClientEntry], Field(min_length=1)]
    responses: ResponsesEntry = ResponsesEntry()


def json_schema() -> dict[str, Any]:
    """The plan file's JSON Schema: its keys and types as `PlanFile` validates them (the
    cross-reference checks, such as a grant naming a known endpoint, are `gw467 check`'s)."""
    return schema_of(
        PlanFile,
        "gw467 plan file",
        "Endpoints, plans, clients and policy of a gw467 gateway (validated by `gw467 check`).",
    )


def load_plan_set(path: str | Path) -> PlanSet:
    """Read and validate a plan file, or a shipped one by name ("2023-03-06-billing-fixed", as the
    CLI takes it); raise ConfigError (one line) on any problem.

    A path that exists is read as given; a bare name that is no file here is looked up among the
    plan files the package ships, so a user's own module can name one from anywhere.
    """
    located = locate("plans", str(path))
    return parse_plan_set(read_text(located), str(located))


def parse_plan_set(text: str, source: str = "<plan file>") -> PlanSet:
    """Validate plan-file text (as read from `source`) into a PlanSet."""
    document = parse_toml(text, source)
    entry = validate_model(PlanFile, document, source, _endpoint_label(document), secret_keys=SECRET_FIELDS)
    return _build(entry, source, text)


def sha256_hex(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _endpoint_label(document: dict[str, Any]) -> Any:
    endpoints = document.get("endpoints")

    def label(location: list[int | str]) -> str:
        if location[0] == "endpoints" and len(location) == 2 and isinstance(endpoints, list):
            index = location[1]
            if isinstance(index, int) and index < len(endpoints):
                entry = endpoints[index]
                if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                    return f" (id {entry['id']!r})"
        return ""

    return label


def _build(entry: PlanFile, source: str, text: str) -> PlanSet:
    # Every check runs, whatever the others found, so one run names every problem of the file.
    problems = Problems(source)
    endpoints = _build_endpoints(entry.endpoints, problems)
    plans = _build_plans(entry.plans, endpoints, problems)
    plan_names = set(entry.plans)
    clients = _build_clients(entry.clients, plan_names, problems)
    policy = _build_policy(entry.policy, plan_names, clients, problems)
    responses = _build_responses(entry.responses, problems)
    problems.raise_any()
    return PlanSet(
        version=entry.version,
        description=entry.description,
        endpoints=endpoints,
        plans=plans,
        clients=clients,
        policy=policy,
        source=source,
        responses=responses,
        text=text,
    )


def _build_endpoints(entries: list[EndpointEntry], problems: Problems) -> tuple[Endpoint, ...]:
    seen: dict[str, int] = {}
    # Templates that match the same requests share a key, so one dict finds any earlier twin.
    by_requests: dict[tuple[str, AmbiguityKey], Endpoint] = {}
    endpoints: list[Endpoint] = []
    for index, item in enumerate(entries):
        where = f"endpoints[{index}] (id {item.id!r})"
        if item.id in seen:
            problems.add(f"{where}.id", f"duplicate endpoint id, first defined at endpoints[{seen[item.id]}]")
            continue
        seen[item.id] = index
        endpoint = Endpoint(item.id, item.method, item.path, item.surface, item.public)
        # Kept even when its path is refused, so grants naming it are not reported as well.
        endpoints.append(endpoint)
        try:
            segments = parse_template(item.path)
        except TemplateError as error:
            problems.add(f"{where}.path", str(error))
            continue
        other = by_requests.setdefault((endpoint.method, ambiguity_key(segments)), endpoint)
        if other is not endpoint:
            problems.add(
                f"{where}.path",
                f"{item.method} {item.path!r} matches the same requests as endpoint "
                f"{other.id!r} ({other.method} {other.path!r})",
            )
    return tuple(endpoints)


def _build_plans(
    entries: dict[str, PlanEntry], endpoints: tuple[Endpoint, ...], problems: Problems
) -> tuple[Plan, ...]:
    tiers: dict[int, str] = {}
    plans: list[Plan] = []
    ids = [endpoint.id for endpoint in endpoints]
    lookup = EndpointLookup(endpoints)
    for name, item in entries.items():
        if item.tier in tiers:
            problems.add(
                f"plans.{name}.tier", f"tier {item.tier} is also the tier of plan {tiers[item.tier]!r}"
            )
        tiers.setdefault(item.tier, name)
        grants: list[Grant] = []
        for index, grant_entry in enumerate(item.grants):
            where = f"plans.{name}.grants[{index}]"
            grant = Grant(tuple(grant_entry.endpoints), tuple(dict.fromkeys(grant_entry.methods)))
            for pattern_index, pattern in enumerate(grant.endpoints):
                matched = lookup.matching(pattern)
                if not matched:
                    problems.add(
                        f"{where}.endpoints[{pattern_index}]",
                        f"{pattern!r} matches no endpoint id (unknown endpoint)" + _suggest(pattern, ids),
                    )
                elif grant.methods and not any(endpoints[n].method in grant.methods for n in matched):
                    problems.add(
                        f"{where}.endpoints[{pattern_index}]",
                        f"{pattern!r} matches no endpoint with method {' or '.join(grant.methods)} "
                        "(a dead grant pattern)",
                    )
            grants.append(grant)
        quota = Quota(item.quota.requests, item.quota.window_seconds) if item.quota else None
        plans.append(Plan(name, item.tier, tuple(grants), quota))
    plans.sort(key=lambda plan: plan.tier)
    return tuple(plans)


def _build_clients(
    entries: dict[str, ClientEntry], plan_names: set[str], problems: Problems
) -> tuple[Client, ...]:
    clients: list[Client] = []
    digests: dict[str, str] = {}
    # Status, alerts and metrics are kept per class, so a class is wholly first- or third-party.
    party_of_class: dict[str, tuple[bool, str]] = {}
    for client_id, item in entries.items():
        where = f"clients.{client_id}"
        if item.client_class == THIRD_PARTY and item.first_party:
            problems.add(f"{where}.first_party", "a client of class 'third_party' cannot be first-party")
        elif item.client_class == FIRST_PARTY and not item.first_party:
            problems.add(f"{where}.first_party", "a client of class 'first_party' must be first-party")
        else:
            first_party, other = party_of_class.setdefault(item.client_class, (item.first_party, client_id))
            if first_party != item.first_party:
                problems.add(
                    f"{where}.first_party",
                    f"class {item.client_class!r} mixes first- and third-party clients "
                    f"(client {other!r} is {'first' if first_party else 'third'}-party)",
                )
        client_digests = _client_digests(item, where, problems)
        for field_name, digest in client_digests:
            if digest in digests:
                # Name the other client, never the key itself.
                problems.add(
                    f"{where}.{field_name}", f"duplicate API key: client {digests[digest]!r} has the same key"
                )
            digests.setdefault(digest, client_id)
        if item.plan is not None and item.plan not in plan_names:
            problems.add(
                f"{where}.plan",
                f"unknown plan {item.plan!r} (plans: {', '.join(sorted(plan_names)) or 'none'})",
            )
        key_sha256s = tuple(digest for _, digest in client_digests)
        clients.append(Client(client_id, item.client_class, item.first_party, key_sha256s, item.plan))
    return tuple(clients)


def _client_digests(item: ClientEntry, where: str, problems: Problems) -> list[tuple[str, str]]:
    """(field, digest) for every usable key of a client, in file order: `key`, `keys`, then the
    digests; each unusable one is a problem."""
    keys = [("key", item.key)] if item.key is not None else []
    keys += [(f"keys[{index}]", key) for index, key in enumerate(item.keys)]
    given = [("key_sha256", item.key_sha256)] if item.key_sha256 is not None else []
    given += [(f"key_sha256s[{index}]", digest) for index, digest in enumerate(item.key_sha256s)]
    if not keys and not given:
        problems.add(where, "give a key: 'key', 'keys', 'key_sha256' or 'key_sha256s'")
    digests: list[tuple[str, str]] = []
    for field_name, key in keys:
        if any(ch.isspace() for ch in key):
            problems.add(f"{where}.{field_name}", "an API key cannot contain whitespace")
        elif not all("!" <= ch <= "~" for ch in key):
            problems.add(
                f"{where}.{field_name}", "an API key must be printable ASCII, or no client could send it"
            )
        else:
            digests.append((field_name, sha256_hex(key)))
    for field_name, digest in given:
        if not _HEX_DIGEST.fullmatch(digest):
            problems.add(f"{where}.{field_name}", "must be 64 lowercase hexadecimal digits")
        else:
            digests.append((field_name, digest))
    seen: dict[str, str] = {}
    unique: list[tuple[str, str]] = []
    for field_name, digest in digests:
        if digest in seen:
            problems.add(f"{where}.{field_name}", f"duplicate API key: {seen[digest]} is the same key")
            continue
        seen[digest] = field_name
        unique.append((field_name, digest))
    return unique


def _build_responses(entry: ResponsesEntry, problems: Problems) -> Responses:
    refusals: dict[str, Refusal] = {}
    for kind in REFUSAL_KINDS:
        item: RefusalEntry | None = getattr(entry, kind)
        if item is None:
            continue
        where = f"responses.{kind}"
        if (item.message is None) == (item.body is None):
            problems.add(where, "give exactly one of 'message' (with an optional 'code') or 'body'")
            continue
        if item.body is not None:
            if item.code is not None:
                problems.add(f"{where}.code", "'code' goes with 'message'; a 'body' is sent as written")
            try:
                json.loads(item.body)
            except ValueError:
                problems.add(f"{where}.body", "must be JSON (it is sent as application/json)")
                continue
            refusals[kind] = Refusal(body=item.body)
        else:
            assert item.message is not None
            refusals[kind] = Refusal(item.message, item.code)
        if len(refusals[kind].header_value()) > MAX_REFUSAL_BYTES:
            problems.add(
                where,
                f"longer than {MAX_REFUSAL_BYTES:,} bytes as one line of JSON: behind nginx it "
                "travels in a header, which nginx's default buffers cannot hold",
            )
    return Responses(**refusals)


def _build_policy(
    entry: PolicyEntry, plan_names: set[str], clients: tuple[Client, ...], problems: Problems
) -> Policy:
    classes = {client.client_class for client in clients}
    ids = {client.id for client in clients}
    for index, selector in enumerate(entry.exempt):
        kind, colon, value = selector.partition(":")
        valid = selector in (FIRST_PARTY, THIRD_PARTY) or (
            colon and ((kind == "class" and value in classes) or (kind == "client" and value in ids))
        )
        if not valid:
            problems.add(
                f"policy.exempt[{index}]",
                f"unknown selector {selector!r}: use 'first_party', 'third_party', "
                "'class:<a client class>' or 'client:<a client id>'",
            )
    if entry.exempt and len(set(entry.exempt)) != len(entry.exempt):
        repeated = next(s for s, n in Counter(entry.exempt).items() if n > 1)
        problems.add("policy.exempt", f"selector {repeated!r} is listed twice")
    if entry.default_plan is not None and entry.default_plan not in plan_names:
        problems.add(
            "policy.default_plan",
            f"unknown plan {entry.default_plan!r} (plans: {', '.join(sorted(plan_names)) or 'none'})",
        )
    return Policy(
        tuple(entry.exempt),
        entry.default_plan,
        entry.cors_preflight,
        _cors_origins(entry.cors_origins, problems),
    )


# An origin as browsers send it: scheme, host and an optional port; no path, query or user.
_ORIGIN = re.compile(r"https?://[a-z0-9.-]+(:[0-9]{1,5})?|https?://\[[0-9a-f:.]+\](:[0-9]{1,5})?")


def _cors_origins(origins: list[str], problems: Problems) -> tuple[str, ...]:
    """The origins whose pages may read refusals, lower-cased as browsers send them; `*` alone."""
    if "*" in origins and len(origins) > 1:
        problems.add("policy.cors_origins", "'*' (any origin) stands alone, without other origins")
    normalized: list[str] = []
    for index, origin in enumerate(origins):
        lowered = origin.lower()
        if origin != "*" and not _ORIGIN.fullmatch(lowered):
            problems.add(
                f"policy.cors_origins[{index}]",
                f"{origin!r} is not an origin: scheme://host[:port], http or https, no path, e.g. "
                "'https://app.example'",
            )
        elif lowered in normalized:
            problems.add(f"policy.cors_origins[{index}]", f"origin {origin!r} is listed twice")
        else:
            normalized.append(lowered)
    return tuple(normalized)


def _suggest(pattern: str, ids: list[str]) -> str:
    from difflib import get_close_matches

    close = get_close_matches(pattern, ids, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""
