"""uvicorn's httptools protocol without chunk trailers in the request's headers.

uvicorn's `HttpToolsProtocol` appends every field llhttp reports to the list it hands the app
as `scope["headers"]`, and llhttp reports a chunked body's trailer fields the same way as the
header fields. A request whose whole body (trailers included) arrives with its head is parsed
before the app first runs, so a field sent only as a trailer (`Authorization: Bearer ...`
after the last chunk) reads as a header: it authenticates, and a proxy forwards it. h11 keeps
trailers apart (and uvicorn drops them). `HeadOnlyHttpToolsProtocol` drops them here too:
ASGI has no request trailers, and the decision is taken on the head alone. `gw467 serve` runs
it wherever uvicorn would run httptools; pass it to your own `uvicorn.run(app, http=...)`, or
run gunicorn with `-k gateway.fronts.trailers.HeadOnlyUvicornWorker`.
"""

from __future__ import annotations

import asyncio
import importlib.util

from uvicorn.protocols.http.h11_impl import H11Protocol

HAS_HTTPTOOLS = importlib.util.find_spec("httptools") is not None

if HAS_HTTPTOOLS:
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

    class HeadOnlyHttpToolsProtocol(HttpToolsProtocol):
        """`HttpToolsProtocol` whose requests' headers are the head's fields only, never trailers."""

        _head_complete = False

        def on_message_begin(self) -> None:
            self._head_complete = False
            super().on_message_begin()

        def on_header(self, name: bytes, value: bytes) -> None:
            if not self._head_complete:
                super().on_header(name, value)

        def on_headers_complete(self) -> None:
            self._head_complete = True
            super().on_headers_complete()


def http_protocol(choice: str) -> type[asyncio.Protocol]:
    """The protocol class for uvicorn's `http` setting `choice` ("auto", "h11" or "httptools");
    ValueError for httptools where it is not installed."""
    if choice == "h11" or (choice == "auto" and not HAS_HTTPTOOLS):
        return H11Protocol
    if not HAS_HTTPTOOLS:
        raise ValueError("--http httptools: httptools is not installed (pip install httptools)")
    return HeadOnlyHttpToolsProtocol


if HAS_HTTPTOOLS and importlib.util.find_spec("gunicorn") is not None:
    from uvicorn.workers import UvicornWorker

    class HeadOnlyUvicornWorker(UvicornWorker):
        """gunicorn's `-k` worker class: uvicorn's, on `HeadOnlyHttpToolsProtocol`
        (`gunicorn -k gateway.fronts.trailers.HeadOnlyUvicornWorker ...`)."""

        # As uvicorn declares it (a plain dict attribute, which ClassVar here would contradict).
        CONFIG_KWARGS = {**UvicornWorker.CONFIG_KWARGS, "http": HeadOnlyHttpToolsProtocol}  # noqa: RUF012
