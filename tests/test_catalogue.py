"""`gw467 catalogue`: endpoints from OpenAPI specs and Starlette/FastAPI routes, what cannot be
listed reported one line each, drift against a plan file, and one-line errors for bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.endpoints import HTTPEndpoint
from starlette.responses import PlainTextResponse
from starlette.routing import Host, Mount, Route, Router, WebSocketRoute
from starlette.types import Receive, Scope, Send

from examples.fastapi_app.app import app as shortlinks
from gateway.cli.errors import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from gateway.cli.main import main
from gateway.core.planfile import parse_plan_set
from gateway.safety.catalogue import catalogue_from_app, catalogue_from_openapi, dump_catalogue
from tests.conftest import ROOT

EXAMPLE_PLAN = ROOT / "examples" / "fastapi_app" / "plans" / "shortlinks.toml"


def _rows(endpoints: object) -> list[tuple[str, str, str, str]]:
    return [(e.id, e.method, e.path, e.surface) for e in endpoints]  # type: ignore[attr-defined]


def _page(request: object) -> PlainTextResponse:
    return PlainTextResponse("ok")


async def _bare_asgi(scope: Scope, receive: Receive, send: Send) -> None:
    """An ASGI app with no routes to list, as StaticFiles is."""


class _HexColour(Convertor[str]):
    regex = "[0-9a-f]{6}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("hexcolour", _HexColour())


class _Notes(HTTPEndpoint):
    async def get(self, request: object) -> PlainTextResponse:
        return PlainTextResponse("notes")

    async def post(self, request: object) -> PlainTextResponse:
        return PlainTextResponse("noted")


def test_the_example_apps_routes_become_endpoints_with_names_tags_mounts_and_converters() -> None:
    catalogue = catalogue_from_app(shortlinks)
    assert _rows(catalogue.endpoints) == [
        ("links.resolve", "GET", "/links/{code}", "links"),
        ("links.create", "POST", "/links", "links"),
        ("links.delete", "DELETE", "/links/{code}", "links"),
        ("stats.clicks", "GET", "/links/{code}/stats", "stats"),
        ("admin.audit", "GET", "/admin/audit", "admin"),
        ("v2.items.get", "GET", "/v2/items/{item_id:int}", "v2"),
    ]
    assert catalogue.unexpressible == ()


def test_what_a_template_cannot_express_is_reported_one_line_each_never_dropped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    app = Starlette(
        routes=[
            Route("/notes", _Notes, name="notes"),
            Route("/pages/{slug}", _page, methods=["GET", "PUT"], name="page"),
            Route("/files/{name}.json", _page, name="file"),
            Route("/docs/{rest:path}/raw", _page, name="raw"),
            Route("/assets/{rest:path}", _page, name="asset"),
            Route("/colours/{hex:hexcolour}", _page, name="colour"),
            Route("/trailing/", _page, name="trailing"),
            Mount("/static", app=_bare_asgi),
            Mount("/api", routes=[Route("/users/{user_id:int}", _page, name="user")]),
            Host("admin.example.org", app=Router()),
            WebSocketRoute("/ws", _bare_asgi),
        ]
    )
    catalogue = catalogue_from_app(app)
    assert _rows(catalogue.endpoints) == [
        ("notes.get", "GET", "/notes", "notes"),
        ("notes.post", "POST", "/notes", "notes"),
        ("page.get", "GET", "/pages/{slug}", "pages"),
        ("page.put", "PUT", "/pages/{slug}", "pages"),
        ("asset", "GET", "/assets/{rest:path}", "assets"),
        ("user", "GET", "/api/users/{user_id:int}", "api"),
    ]
    assert [str(problem) for problem in catalogue.unexpressible] == [
        "mount /static: serves a function, whose routes cannot be listed",
        "host admin.example.org: routes chosen by the Host header cannot be listed",
        "websocket /ws: plan files cannot grant WebSocket endpoints",
        "GET /files/{name}.json: segment '{name}.json': a parameter must be a whole segment",
        "GET /docs/{rest:path}/raw: {rest:path} spans several segments; a template parameter is one segment",
        "GET /colours/{hex:hexcolour}: {hex:hexcolour} uses converter 'hexcolour', a pattern templates "
        "cannot match",
        "GET /trailing/: a trailing '/': the gateway forwards the path without it",
    ]
    # The same through the command line: TOML on stdout, one line per problem on stderr.
    module = tmp_path / "unlistable.py"
    module.write_text(
        "from starlette.applications import Starlette\nfrom starlette.routing import Route, WebSocketRoute\n"
        "async def page(request): ...\n"
        "app = Starlette(routes=[Route('/a/{x}.txt', page), Route('/b', page),\n"
        "    WebSocketRoute('/ws', page)])\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert main(["catalogue", "--app", "unlistable:app"]) == EXIT_OK
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "gw467 catalogue: unlistable:app: websocket /ws: plan files cannot grant WebSocket endpoints",
        "gw467 catalogue: unlistable:app: GET /a/{x}.txt: segment '{x}.txt': a parameter must be a "
        "whole segment",
    ]
    assert '[[endpoints]]\nid = "page"\nmethod = "GET"\npath = "/b"\nsurface = "b"\n' in out


def test_the_catalogue_of_the_app_passes_check_once_plans_and_clients_are_added(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["catalogue", "--app", "examples.fastapi_app.app:app"]) == EXIT_OK
    printed = capsys.readouterr().out
    hand_written = EXAMPLE_PLAN.read_text().split("# ----", 1)[0]
    plan_file = tmp_path / "mine.toml"
    plan_file.write_text(hand_written + printed)
    assert main(["check", str(plan_file)]) == EXIT_OK
    assert "6 endpoints on 4 surfaces" in capsys.readouterr().out
    assert printed in EXAMPLE_PLAN.read_text()  # the shipped plan file is this very output


def test_check_reports_a_route_added_to_the_app_but_not_to_the_catalogue_and_an_endpoint_not_served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        main(["catalogue", "--app", "examples.fastapi_app.app:app", "--check", str(EXAMPLE_PLAN)]) == EXIT_OK
    )
    assert capsys.readouterr().out.startswith(f"ok {EXAMPLE_PLAN}: its catalogue lists every route")
    source = (ROOT / "examples" / "fastapi_app" / "app.py").read_text()
    grown = source + (
        '\n\n@app.get("/links/{code}/qr", name="links.qr", tags=["links"])\n'
        "def qr(code: str) -> dict[str, str]:\n    return {}\n"
    )
    (tmp_path / "grown_app.py").write_text(grown)
    monkeypatch.syspath_prepend(str(tmp_path))
    plan_file = tmp_path / "plan.toml"
    plan_file.write_text(
        EXAMPLE_PLAN.read_text() + '\n[[endpoints]]\nid = "links.gone"\nmethod = "GET"\npath = "/gone"\n'
        'surface = "links"\n'
    )
    assert main(["catalogue", "--app", "grown_app:app", "--check", str(plan_file)]) == EXIT_FAILED
    assert capsys.readouterr().out.splitlines() == [
        f"missing from {plan_file}: GET /links/{{code}}/qr (route links.qr): the gateway answers it 404",
        "not served by grown_app:app: endpoint 'links.gone' GET /gone",
        "1 routes missing from the catalogue, 1 not served",
    ]


def test_an_openapi_spec_gives_the_same_endpoints_as_the_apps_routes(tmp_path: Path) -> None:
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(shortlinks.openapi()))
    from_spec = catalogue_from_openapi(spec)
    from_app = catalogue_from_app(shortlinks)
    shape = {(e.method, e.path, e.surface) for e in from_spec.endpoints}
    # The mounted Starlette router is not in FastAPI's spec; everything else is, with the same shape.
    assert shape == {(e.method, e.path, e.surface) for e in from_app.endpoints if e.surface != "v2"}
    operation_id = shortlinks.openapi()["paths"]["/links/{code}"]["get"]["operationId"]
    assert from_spec.endpoints[0].id == operation_id


def test_a_yaml_spec_with_a_server_prefix_tags_refs_and_trace(tmp_path: Path) -> None:
    spec = tmp_path / "api.yaml"
    spec.write_text(
        "openapi: 3.1.0\n"
        "servers: [{url: 'https://api.example.org/v1/'}]\n"
        "paths:\n"
        "  /orders/{order_id}:\n"
        "    get: {operationId: orders.get, tags: [orders]}\n"
        "    trace: {operationId: orders.trace}\n"
        "  /health:\n"
        "    get: {}\n"
        "  /other:\n"
        "    $ref: '#/components/pathItems/other'\n"
    )
    catalogue = catalogue_from_openapi(spec)
    assert _rows(catalogue.endpoints) == [
        ("orders.get", "GET", "/v1/orders/{order_id}", "orders"),
        ("get_health", "GET", "/v1/health", "v1"),
    ]
    assert [str(p) for p in catalogue.unexpressible] == [
        "/other: the path item is a $ref: resolve references first",
        "TRACE /v1/orders/{order_id}: TRACE is not a method plan files take",
    ]
    dumped = dump_catalogue(catalogue)
    assert "2 endpoints; 2 routes could not be listed (see stderr)" in dumped
    plan = dumped + '[clients.c]\nclass = "web"\nfirst_party = true\nkey = "a-long-enough-key"\n[plans]\n'
    assert len(parse_plan_set('version = "v"\n' + plan).endpoints) == 2


def test_duplicate_ids_are_renamed_and_said_so(tmp_path: Path) -> None:
    spec = tmp_path / "api.json"
    operations = {"get": {"operationId": "fetch"}}
    spec.write_text(json.dumps({"openapi": "3.0.3", "paths": {"/a": operations, "/b": operations}}))
    catalogue = catalogue_from_openapi(spec)
    assert [e.id for e in catalogue.endpoints] == ["fetch", "fetch-2"]
    assert catalogue.renamed == ("GET /b: id 'fetch' is taken; listed as 'fetch-2'",)


@pytest.mark.parametrize(
    ("name", "text", "message"),
    [
        (
            "api.json",
            '{"openapi": "3.0.0",\n "paths": {,}}',
            "api.json:2:12: JSON syntax error: Expecting property name",
        ),
        ("api.yaml", "openapi: 3.0.0\npaths:\n  /a: [\n", "api.yaml:4:1: YAML syntax error:"),
        (
            "api.json",
            '{"swagger": "2.0", "paths": {}}',
            "api.json: openapi: missing required key: not an OpenAPI 3.x "
            "document (Swagger 2.0 is not supported: convert it to OpenAPI 3)",
        ),
        (
            "api.json",
            '{"openapi": "2.9", "paths": {}}',
            "api.json: openapi: version '2.9' is not OpenAPI 3.x",
        ),
        ("api.json", '{"openapi": "3.0.0"}', "api.json: paths: missing required key"),
        ("api.json", '{"openapi": "3.0.0", "paths": []}', "api.json: paths: must be a mapping of paths"),
        (
            "api.json",
            '{"openapi": "3.0.0", "paths": {"a": {}}}',
            "api.json: paths.a: a path must start with '/'",
        ),
        (
            "api.json",
            '{"openapi": "3.0.0", "paths": {"/a": {"get": 1}}}',
            "api.json: paths./a.get: must be a mapping",
        ),
        (
            "api.json",
            '{"openapi": "3.0.0", "paths": {"/a": {"get": {"operationId": 7}}}}',
            "api.json: paths./a.get.operationId: must be a string",
        ),
        ("api.json", "[1, 2]", "api.json: not an OpenAPI document: the top level must be a mapping"),
        ("api.json", "", "api.json: file is empty"),
    ],
)
def test_malformed_specs_are_one_line_with_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str, text: str, message: str
) -> None:
    spec = tmp_path / name
    spec.write_text(text)
    assert main(["catalogue", "--openapi", str(spec)]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert err.startswith(f"gw467: error: {tmp_path}/{message}"), err


@pytest.mark.parametrize(
    ("app", "message"),
    [
        ("examples.fastapi_app.app", "give the app as MODULE:ATTRIBUTE"),
        ("no_such_module_467:app", "cannot import module 'no_such_module_467': No module named"),
        (
            "examples.fastapi_app.app:application",
            "module 'examples.fastapi_app.app' has no attribute 'application'",
        ),
        ("examples.fastapi_app.app:LINKS", "'LINKS' is not a Starlette or FastAPI app (it has no routes)"),
    ],
)
def test_an_app_that_cannot_be_loaded_is_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], app: str, message: str
) -> None:
    assert main(["catalogue", "--app", app]) == EXIT_USAGE
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_a_missing_spec_file_is_one_line_with_exit_2(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["catalogue", "--openapi", str(tmp_path / "nope.json")]) == EXIT_USAGE
    assert capsys.readouterr().err == f"gw467: error: {tmp_path}/nope.json: no such file\n"


def test_every_malformed_path_of_a_spec_is_a_line_of_its_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = tmp_path / "api.json"
    paths = {
        "a": {},
        "/b": {"get": 1},
        "/c": {"get": {"operationId": 7, "tags": "x"}, "post": {"operationId": "fine"}},
        "/d": [],
    }
    spec.write_text(json.dumps({"openapi": "3.0.0", "paths": paths}))
    assert main(["catalogue", "--openapi", str(spec)]) == EXIT_USAGE
    assert capsys.readouterr().err.splitlines() == [
        f"gw467: error: {spec}: paths.a: a path must start with '/'",
        f"gw467: error: {spec}: paths./b.get: must be a mapping (an operation)",
        f"gw467: error: {spec}: paths./c.get.operationId: must be a string",
        f"gw467: error: {spec}: paths./c.get.tags: must be a list of strings",
        f"gw467: error: {spec}: paths./d: must be a mapping (a path item)",
    ]
    assert main(["catalogue", "--openapi", str(spec), "--max-problems", "2"]) == EXIT_USAGE
    assert capsys.readouterr().err.splitlines()[2:] == [
        "gw467: error: 3 more problems; --max-problems to see them"
    ]
