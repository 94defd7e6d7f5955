"""Shortlinks: a small FastAPI app, written as a team would, to show gw467 in front of your own API.

Route names are the endpoint ids `gw467 catalogue --app examples.fastapi_app.app:app` prints, and
tags their surfaces; the mounted Starlette router shows a typed `{item_id:int}` converter.
"""

from __future__ import annotations

from fastapi import APIRouter, FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse
from starlette.routing import Mount, Route

app = FastAPI(title="Shortlinks", docs_url=None, redoc_url=None, openapi_url=None)
LINKS = {"gw467": "https://example.org/error-467"}


@app.get("/links/{code}", name="links.resolve", tags=["links"])
def resolve(code: str) -> RedirectResponse:
    return RedirectResponse(LINKS.get(code, "https://example.org/"), status_code=301)


@app.post("/links", name="links.create", tags=["links"])
def create(request: Request) -> dict[str, str]:
    client = request.scope.get("state", {}).get("gw467_client")
    return {"created": "abc", "by": client.id if client is not None else "anonymous"}


@app.delete("/links/{code}", name="links.delete", tags=["links"])
def delete(code: str) -> dict[str, str]:
    return {"deleted": code}


@app.get("/links/{code}/stats", name="stats.clicks", tags=["stats"])
def clicks(code: str) -> dict[str, int | str]:
    return {"code": code, "clicks": 467}


admin = APIRouter(prefix="/admin", tags=["admin"])


@admin.get("/audit", name="admin.audit")
def audit() -> dict[str, list[str]]:
    return {"events": []}


app.include_router(admin)


async def item(request: Request) -> JSONResponse:
    return JSONResponse({"item": request.path_params["item_id"]})


app.router.routes.append(
    Mount("/v2", routes=[Route("/items/{item_id:int}", item, name="items.get")], name="v2")
)
