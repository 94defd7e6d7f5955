"""The demo upstream serves every catalogue endpoint with a plausible answer."""

from __future__ import annotations

import asyncio
import dataclasses
import json

import pytest

from gateway.core.planfile import load_plan_set
from gateway.core.plans import Endpoint
from gateway.fronts.demo_upstream import PIXEL_PNG, build_demo_app
from gateway.fronts.inprocess import call_asgi
from tests.conftest import FIXED

PLAN_SET = load_plan_set(FIXED)
APP = build_demo_app(PLAN_SET)


@pytest.mark.parametrize("endpoint", PLAN_SET.endpoints, ids=lambda e: e.id)
def test_every_catalogue_endpoint_is_served_without_error(endpoint: object) -> None:
    path = endpoint.path.replace("{", "v").replace("}", "")  # type: ignore[attr-defined]
    response = asyncio.run(call_asgi(APP, endpoint.method, path))  # type: ignore[attr-defined]
    assert response.status in (200, 201, 204, 301)


def test_link_resolution_redirects_to_the_target() -> None:
    response = asyncio.run(call_asgi(APP, "GET", "/2/links/abc"))
    assert response.status == 301
    assert response.header("location") == "https://example.org/a/abc"


def test_media_view_answers_with_a_tiny_png() -> None:
    response = asyncio.run(call_asgi(APP, "GET", "/2/media/3_99"))
    assert response.header("content-type") == "image/png"
    assert response.body == PIXEL_PNG and response.body.startswith(b"\x89PNG")


def test_timeline_answers_with_tweets_as_json_and_is_deterministic() -> None:
    first = asyncio.run(call_asgi(APP, "GET", "/2/users/7/timelines/reverse_chronological"))
    second = asyncio.run(call_asgi(APP, "GET", "/2/users/7/timelines/reverse_chronological"))
    payload = json.loads(first.body)
    assert payload["meta"]["result_count"] == len(payload["data"]) == 3
    assert first.body == second.body


def test_tweet_create_answers_201() -> None:
    response = asyncio.run(call_asgi(APP, "POST", "/2/tweets", body=b'{"text":"hi"}'))
    assert response.status == 201
    assert "id" in json.loads(response.body)["data"]


def test_the_demo_app_lists_routes_in_the_gateways_precedence_whatever_the_catalogue_order() -> None:
    endpoints = (
        Endpoint("rest", "GET", "/v1/items/{rest:path}", "items"),
        Endpoint("lookup", "GET", "/v1/items/{id}", "items"),
        Endpoint("number", "GET", "/v1/items/{n:int}", "items"),
        Endpoint("featured", "GET", "/v1/items/featured", "items"),
    )
    app = build_demo_app(dataclasses.replace(PLAN_SET, endpoints=endpoints))
    served = {
        path: json.loads(asyncio.run(call_asgi(app, "GET", path)).body)["data"]["endpoint"]
        for path in ("/v1/items/featured", "/v1/items/42", "/v1/items/x", "/v1/items/x/y")
    }
    assert served == {
        "/v1/items/featured": "featured",
        "/v1/items/42": "number",
        "/v1/items/x": "lookup",
        "/v1/items/x/y": "rest",
    }
