"""`gw467 catalogue`: `[[endpoints]]` TOML from an OpenAPI spec or an app's routes; `--check` for drift."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from gateway.cli.errors import EXIT_FAILED, EXIT_OK
from gateway.core.planfile import load_plan_set
from gateway.safety.catalogue import (
    catalogue_drift,
    catalogue_from_app,
    catalogue_from_openapi,
    dump_catalogue,
    load_app,
)


def register(commands: argparse._SubParsersAction[Any]) -> None:
    catalogue = commands.add_parser(
        "catalogue",
        help="print [[endpoints]] TOML from an OpenAPI spec or a Starlette/FastAPI app; --check for drift",
        description=(
            "Print a plan file's [[endpoints]] tables for an API: the id from operationId or the route "
            "name, the method, the path template, the surface from the first tag or path segment. "
            "Routes a plan file cannot express (custom or path converters, parameters that are not "
            "whole segments, mounted apps without routes, WebSockets) are reported one per line on "
            "stderr. With --check PLAN_FILE, list instead the routes the plan file's catalogue misses "
            "(the gateway would answer them 404) and its endpoints the API does not serve: exit 0 when "
            "there are none, 1 when there are, 2 for input that cannot be used."
        ),
    )
    source = catalogue.add_mutually_exclusive_group(required=True)
    source.add_argument("--openapi", metavar="SPEC", help="an OpenAPI 3.x document, JSON or YAML")
    source.add_argument("--app", metavar="MODULE:APP", help="a Starlette or FastAPI app, e.g. myapi.main:app")
    catalogue.add_argument("--check", metavar="PLAN_FILE", help="compare with this plan file's catalogue")
    catalogue.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    if args.openapi is not None:
        catalogue = catalogue_from_openapi(args.openapi)
    else:
        catalogue = catalogue_from_app(load_app(args.app), args.app)
    for line in (*catalogue.unexpressible, *catalogue.renamed):
        print(f"gw467 catalogue: {catalogue.source}: {line}", file=sys.stderr)
    if args.check is None:
        sys.stdout.write(dump_catalogue(catalogue))
        return EXIT_OK
    drift = catalogue_drift(catalogue, load_plan_set(args.check))
    for endpoint in drift.missing:
        print(
            f"missing from {args.check}: {endpoint.method} {endpoint.path} (route {endpoint.id}): "
            "the gateway answers it 404"
        )
    for endpoint in drift.not_served:
        print(f"not served by {catalogue.source}: endpoint {endpoint.id!r} {endpoint.method} {endpoint.path}")
    if drift.clean:
        print(f"ok {args.check}: its catalogue lists every route of {catalogue.source}, and only those")
        return EXIT_OK
    print(f"{len(drift.missing)} routes missing from the catalogue, {len(drift.not_served)} not served")
    return EXIT_FAILED
