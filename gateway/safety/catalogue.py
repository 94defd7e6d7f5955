"""Endpoint catalogues from what an API already declares: an OpenAPI 3.x spec, or a Starlette or
FastAPI app's own routes; what a plan file cannot express is reported, never dropped; and the drift
between an app and a plan file's catalogue.
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import tomli_w
from starlette.endpoints import HTTPEndpoint
from starlette.routing import Host, Mount, Route, WebSocketRoute

from gateway.core.config import TOO_DEEP, ConfigError, Problems, read_text
from gateway.core.extras import MissingExtra
from gateway.core.planfile import HTTP_METHODS
from gateway.core.plans import Endpoint, PlanSet
from gateway.core.templates import TemplateError, parse_template

try:
    import yaml
except ImportError:  # the `openapi` extra; JSON specs need nothing
    yaml = None  # type: ignore[assignment]

# Nesting a YAML spec may have: an OpenAPI document needs far fewer levels.
MAX_DEPTH = 64
_OPERATIONS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PARAMETER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(?::([A-Za-z_][A-Za-z0-9_]*))?\}")
# Starlette's converters whose values are one whole segment; templates take them as they are
# (`{id:int}` keeps its converter, so literal and typed siblings rank as the app ranks them).
_SEGMENT_CONVERTERS = (None, "str", "int", "float", "uuid")
_NOT_NAME = re.compile(r"[^A-Za-z0-9_.\-]+")
MAX_NAME = 64


@dataclass(frozen=True)
class Unexpressible:
    """A route a plan file cannot list, and why: through the gateway it would answer 404."""

    route: str
    reason: str

    def __str__(self) -> str:
        return f"{self.route}: {self.reason}"


@dataclass(frozen=True)
class Catalogue:
    """The endpoints found, in declaration order, and every route that could not be one."""

    source: str
    endpoints: tuple[Endpoint, ...]
    unexpressible: tuple[Unexpressible, ...]
    renamed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Drift:
    """What an app serves that a plan file's catalogue misses, and the reverse."""

    missing: tuple[Endpoint, ...]
    not_served: tuple[Endpoint, ...]

    @property
    def clean(self) -> bool:
        return not self.missing and not self.not_served


@dataclass(frozen=True)
class _Found:
    name: str
    method: str
    template: str
    surface: str | None


# OpenAPI


def catalogue_from_openapi(path: str | Path) -> Catalogue:
    """The catalogue of an OpenAPI 3.x document (JSON, or YAML with the `openapi` extra)."""
    source = str(path)
    document = _parse_spec(read_text(path), source)
    if not isinstance(document, dict):
        raise ConfigError(source, "", "not an OpenAPI document: the top level must be a mapping")
    version = document.get("openapi")
    if version is None:
        hint = " (Swagger 2.0 is not supported: convert it to OpenAPI 3)" if "swagger" in document else ""
        raise ConfigError(source, "openapi", f"missing required key: not an OpenAPI 3.x document{hint}")
    if not isinstance(version, str) or not version.startswith("3."):
        raise ConfigError(source, "openapi", f"version {version!r} is not OpenAPI 3.x")
    paths = document.get("paths")
    if not isinstance(paths, dict):
        message = "missing required key" if paths is None else "must be a mapping of paths to path items"
        raise ConfigError(source, "paths", message)
    prefix, problems = _server_prefix(document.get("servers"), source)
    found: list[_Found] = []
    # Every path is read, whatever the others hold, so one run names every malformed one.
    malformed = Problems(source)
    for template, item in paths.items():
        where = f"paths.{template}"
        if not isinstance(template, str) or not template.startswith("/"):
            malformed.add(where, "a path must start with '/'")
            continue
        if not isinstance(item, dict):
            malformed.add(where, "must be a mapping (a path item)")
            continue
        if "$ref" in item:
            problems.append(Unexpressible(template, "the path item is a $ref: resolve references first"))
            continue
        for operation in _OPERATIONS:
            if operation not in item:
                continue
            entry = item[operation]
            method = operation.upper()
            if not isinstance(entry, dict):
                malformed.add(f"{where}.{operation}", "must be a mapping (an operation)")
                continue
            operation_id = entry.get("operationId")
            tags = entry.get("tags", [])
            usable = True
            if operation_id is not None and not isinstance(operation_id, str):
                malformed.add(f"{where}.{operation}.operationId", "must be a string")
                usable = False
            if not isinstance(tags, list) or not all(isinstance(tag, str) for tag in tags):
                malformed.add(f"{where}.{operation}.tags", "must be a list of strings")
                usable = False
            if usable:
                name = operation_id or f"{operation}{template}"
                found.append(_Found(name, method, prefix + template, tags[0] if tags else None))
    malformed.raise_any()
    return _catalogue(source, found, problems)


def _parse_spec(text: str, source: str) -> Any:
    if not text.strip():
        raise ConfigError(source, "", "file is empty")
    if Path(source).suffix.lower() in (".yaml", ".yml"):
        return _parse_yaml(text, source)
    try:
        return json.loads(text)
    except RecursionError:
        raise ConfigError(source, "", f"JSON {TOO_DEEP}") from None
    except json.JSONDecodeError as error:
        if Path(source).suffix.lower() == ".json" or text.lstrip().startswith(("{", "[")):
            raise ConfigError(
                source, "", f"JSON syntax error: {error.msg}", error.lineno, error.colno
            ) from None
        return _parse_yaml(text, source)


def _parse_yaml(text: str, source: str) -> Any:
    """YAML as a spec uses it: no aliases (a few hundred bytes of them expand to gigabytes),
    at most MAX_DEPTH levels of nesting, read by libyaml's C parser where PyYAML has it."""
    if yaml is None:
        raise MissingExtra("yaml", f"reading the YAML spec {source}")
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    try:
        depth = 0
        for event in yaml.parse(text, Loader=loader):
            if isinstance(event, yaml.AliasEvent):
                mark = event.start_mark
                where = (mark.line + 1, mark.column + 1) if mark is not None else (None, 0)
                raise ConfigError(source, "", "YAML aliases (*name) are not accepted in a spec", *where)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise ConfigError(source, "", f"YAML {TOO_DEEP} (more than {MAX_DEPTH} levels)")
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        return yaml.load(text, Loader=loader)  # a safe loader; aliases were refused above
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        problem = getattr(error, "problem", None) or str(error).splitlines()[0]
        if mark is not None:
            raise ConfigError(
                source, "", f"YAML syntax error: {problem}", mark.line + 1, mark.column + 1
            ) from None
        raise ConfigError(source, "", f"YAML syntax error: {problem}") from None


def _server_prefix(servers: Any, source: str) -> tuple[str, list[Unexpressible]]:
    """The path of the first server URL, which every path of the spec is under."""
    if not servers:
        return "", []
    if not isinstance(servers, list) or not isinstance(servers[0], dict) or "url" not in servers[0]:
        raise ConfigError(source, "servers", "must be a list of server objects with a 'url'")
    url = str(servers[0]["url"])
    if "{" in url:
        return "", [
            Unexpressible(f"servers[0].url {url!r}", "has variables: paths are listed without its prefix")
        ]
    return urlparse(url).path.rstrip("/"), []


# Starlette and FastAPI apps


def load_app(spec: str) -> Any:
    """Import `module:attribute` (as uvicorn does, from the current directory) and return the app."""
    module_name, colon, attribute = spec.partition(":")
    if not colon or not module_name or not attribute:
        raise ConfigError(spec, "", "give the app as MODULE:ATTRIBUTE, e.g. examples.fastapi_app.app:app")
    if "" not in sys.path and str(Path.cwd()) not in sys.path:
        sys.path.insert(0, str(Path.cwd()))
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise ConfigError(spec, "", f"cannot import module {module_name!r}: {error}") from None
    except Exception as error:  # the user's module failed while importing: say how, in one line
        raise ConfigError(
            spec, "", f"importing {module_name!r} raised {type(error).__name__}: {error}"
        ) from None
    app: Any = module
    for part in attribute.split("."):
        if not hasattr(app, part):
            raise ConfigError(spec, "", f"module {module_name!r} has no attribute {attribute!r}")
        app = getattr(app, part)
    if not isinstance(getattr(app, "routes", None), list):
        raise ConfigError(spec, "", f"{attribute!r} is not a Starlette or FastAPI app (it has no routes)")
    return app


def catalogue_from_app(app: Any, source: str = "<app>") -> Catalogue:
    """The catalogue of a Starlette or FastAPI app's routes, mounted routers included."""
    found: list[_Found] = []
    problems: list[Unexpressible] = []
    _walk(app.routes, "", "", found, problems)
    return _catalogue(source, found, problems)


def _walk(
    routes: Iterable[Any], prefix: str, names: str, found: list[_Found], problems: list[Unexpressible]
) -> None:
    for route in routes:
        if isinstance(route, Mount):
            path = prefix + route.path
            inner = names + route.name + "." if route.name else names
            if route.routes:
                _walk(route.routes, path, inner, found, problems)
            else:
                kind = type(route.app).__name__
                problems.append(
                    Unexpressible(f"mount {path or '/'}", f"serves a {kind}, whose routes cannot be listed")
                )
        elif isinstance(route, Host):
            problems.append(
                Unexpressible(f"host {route.host}", "routes chosen by the Host header cannot be listed")
            )
        elif isinstance(route, WebSocketRoute):
            problems.append(
                Unexpressible(
                    f"websocket {prefix + route.path}", "plan files cannot grant WebSocket endpoints"
                )
            )
        elif isinstance(route, Route):
            _route(route, prefix, names, found, problems)
        elif callable(getattr(route, "effective_route_contexts", None)):
            # FastAPI >= 0.120 keeps an included APIRouter as one route; its contexts are the
            # routes it serves, each with the path, methods, name and tags of a Route.
            for context in route.effective_route_contexts():
                _route(context, prefix, names, found, problems)
        else:
            where = f"{type(route).__name__} {prefix}{getattr(route, 'path', '')}"
            problems.append(Unexpressible(where, "not a Route, Mount, Host or WebSocketRoute"))


def _route(route: Any, prefix: str, names: str, found: list[_Found], problems: list[Unexpressible]) -> None:
    """A Route, or anything with its path, methods, name and endpoint (FastAPI's route contexts)."""
    path = prefix + str(route.path)
    methods = _methods(route)
    if methods is None:
        problems.append(Unexpressible(f"* {path}", "the route accepts every method; list them on the route"))
        return
    tags = [str(tag) for tag in getattr(route, "tags", None) or []]
    name = str(getattr(route, "operation_id", None) or route.name)
    for method in methods:
        suffix = f".{method.lower()}" if len(methods) > 1 else ""
        found.append(_Found(names + name + suffix, method, path, tags[0] if tags else None))


def _methods(route: Any) -> list[str] | None:
    methods = route.methods
    if methods is None:
        endpoint = route.endpoint
        if isinstance(endpoint, type) and issubclass(endpoint, HTTPEndpoint):
            return [m for m in HTTP_METHODS if hasattr(endpoint, m.lower())]
        return None
    # Starlette adds HEAD to every GET route itself; list HEAD only when it is the route's own.
    listed = [m for m in HTTP_METHODS if m in methods]
    if "GET" in listed and "HEAD" in listed:
        listed.remove("HEAD")
    return listed + sorted(m for m in methods if m not in HTTP_METHODS)


# Shared: templates, ids, surfaces


def _catalogue(source: str, found: Sequence[_Found], problems: list[Unexpressible]) -> Catalogue:
    endpoints: list[Endpoint] = []
    renamed: list[str] = []
    taken: set[str] = set()
    for item in found:
        where = f"{item.method} {item.template}"
        if item.method not in HTTP_METHODS:
            problems.append(Unexpressible(where, f"{item.method} is not a method plan files take"))
            continue
        template = _template(item.template)
        if isinstance(template, Unexpressible):
            problems.append(Unexpressible(where, template.reason))
            continue
        identifier = _name(item.name) or _name(f"{item.method.lower()}{item.template}") or "endpoint"
        unique, number = identifier, 1
        while unique in taken:
            number += 1
            unique = f"{identifier[: MAX_NAME - 4]}-{number}"
        if unique != identifier:
            renamed.append(f"{where}: id {identifier!r} is taken; listed as {unique!r}")
        taken.add(unique)
        surface = _name(item.surface or "") or _first_literal(template) or "root"
        endpoints.append(Endpoint(unique, item.method, template, surface))
    return Catalogue(source, tuple(endpoints), tuple(problems), tuple(renamed))


def _template(path: str) -> str | Unexpressible:
    """The plan-file template of a route path, or why there is none."""
    if path != "/" and path.endswith("/"):
        # The gateway forwards '/items/' as '/items', which the app would redirect back.
        return Unexpressible(path, "a trailing '/': the gateway forwards the path without it")
    segments: list[str] = []
    parts = path.strip("/").split("/") if path != "/" else []
    for index, part in enumerate(parts):
        parameter = _PARAMETER.fullmatch(part)
        if parameter is None:
            if "{" in part or "}" in part:
                return Unexpressible(path, f"segment {part!r}: a parameter must be a whole segment")
            segments.append(part)
            continue
        name, converter = parameter.groups()
        if converter in _SEGMENT_CONVERTERS:
            segments.append(part if converter not in (None, "str") else f"{{{name}}}")
        elif converter == "path" and index == len(parts) - 1:
            segments.append(part)  # a trailing catch-all
        elif converter == "path":
            return Unexpressible(path, f"{part} spans several segments; a template parameter is one segment")
        else:
            return Unexpressible(
                path, f"{part} uses converter {converter!r}, a pattern templates cannot match"
            )
    template = "/" + "/".join(segments)
    try:
        parse_template(template)
    except TemplateError as error:
        return Unexpressible(path, str(error))
    return template


def _name(text: str) -> str:
    return _NOT_NAME.sub("_", text).strip("_.-")[:MAX_NAME]


def _first_literal(template: str) -> str:
    for segment in parse_template(template):
        if not segment.is_parameter:
            return _name(segment.value)
    return ""


def dump_catalogue(catalogue: Catalogue) -> str:
    """`[[endpoints]]` tables for a plan file, ready to paste."""
    header = (
        f"# Endpoint catalogue made by `gw467 catalogue` from {catalogue.source}:\n"
        f"# {len(catalogue.endpoints)} endpoints"
        + (
            f"; {len(catalogue.unexpressible)} routes could not be listed (see stderr)"
            if catalogue.unexpressible
            else ""
        )
        + ".\n\n"
    )
    tables = (
        "[[endpoints]]\n"
        + tomli_w.dumps({"id": e.id, "method": e.method, "path": e.path, "surface": e.surface})
        for e in catalogue.endpoints
    )
    return header + "\n".join(tables)


# Drift between an app and a plan file


def _shape(endpoint: Endpoint) -> tuple[str, tuple[str | None, ...]]:
    """What requests an endpoint matches: its method and its literals (parameters by position)."""
    segments = parse_template(endpoint.path)
    return endpoint.method, tuple(None if s.is_parameter else s.folded for s in segments)


def catalogue_drift(catalogue: Catalogue, plan_set: PlanSet) -> Drift:
    """Routes of the app the plan file misses (404 through the gateway), and endpoints it does not serve."""
    listed = {_shape(endpoint) for endpoint in plan_set.endpoints}
    served = {_shape(endpoint) for endpoint in catalogue.endpoints}
    missing = tuple(e for e in catalogue.endpoints if _shape(e) not in listed)
    not_served = tuple(e for e in plan_set.endpoints if _shape(e) not in served)
    return Drift(missing, not_served)
