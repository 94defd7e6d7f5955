"""examples/fastapi_app end to end, as its CI runs it: catalogue --check, check, test, diff against the
released plan file, then requests through EntitlementMiddleware in front of the FastAPI app, in process."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from examples.fastapi_app.app import app as shortlinks
from gateway import EntitlementMiddleware
from gateway.cli.errors import EXIT_OK
from gateway.cli.main import main
from tests.conftest import ROOT

PLANS = ROOT / "examples" / "fastapi_app" / "plans"
PLAN_FILE = PLANS / "shortlinks.toml"


def test_the_ci_gate_of_the_example_passes(capsys: pytest.CaptureFixture[str]) -> None:
    app = "examples.fastapi_app.app:app"
    assert main(["catalogue", "--app", app, "--check", str(PLAN_FILE)]) == EXIT_OK
    assert main(["check", str(PLAN_FILE)]) == EXIT_OK
    assert main(["test", str(PLAN_FILE), "--coverage-threshold", "100"]) == EXIT_OK
    released = PLANS / "shortlinks-released.toml"
    assert main(["diff", str(released), str(PLAN_FILE), "--fail-on", "first-party-loss"]) == EXIT_OK
    out = capsys.readouterr().out
    assert "coverage of shortlinks-2: exemptions 1/1, grants 4/4, plans 2/2, endpoints 6/6" in out
    assert "10 passed, 0 failed" in out
    assert "no first-party loss" in out


def test_the_gateway_in_front_of_the_fastapi_app_decides_as_the_suite_says() -> None:
    guarded = EntitlementMiddleware(shortlinks, PLAN_FILE, clock=lambda: 1_678_118_400.0)

    async def exchange() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=guarded)
        async with httpx.AsyncClient(transport=transport, base_url="http://shortlinks.test") as client:

            def key(name: str) -> dict[str, str]:
                return {"Authorization": f"Bearer shortlinks-demo-{name}"}

            return [
                await client.get("/links/gw467", headers=key("dashboard")),
                await client.post("/links", headers=key("partner")),
                await client.post("/links", headers=key("hobbyist")),
                await client.get("/v2/items/7", headers=key("partner")),
                await client.get("/admin/audit", headers=key("partner")),
                await client.get("/links/gw467"),
                await client.get("/links/gw467/qr", headers=key("dashboard")),
            ]

    resolve, create, free_create, item, audit, anonymous, unlisted = asyncio.run(exchange())
    assert resolve.status_code == 301 and resolve.headers["location"] == "https://example.org/error-467"
    assert resolve.headers["x-gw467-rule"] == "exempt:first_party"
    assert create.json() == {"created": "abc", "by": "partner"}
    assert free_create.status_code == 467 and free_create.headers["x-gw467-rule"] == "plan:free/deny"
    assert item.json() == {"item": 7}
    assert audit.status_code == 467
    assert anonymous.status_code == 401
    assert unlisted.status_code == 404
