"""A small HTTP/1.1 load client: a few keep-alive connections sending one fixed request, full responses read.

Raw asyncio protocols (run it on uvloop), one request in flight per connection, no pipelining; each
response is delimited by its Content-Length and its status checked, so a wrong answer aborts the run.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import cast

from benchmarks.results import HarnessError

_HEAD_END = b"\r\n\r\n"
_CONTENT_LENGTH = b"\r\ncontent-length:"


def request_bytes(method: str, path: str, host: str, headers: dict[str, str]) -> bytes:
    """The request every connection sends, keep-alive being HTTP/1.1's default."""
    lines = [
        f"{method} {path} HTTP/1.1",
        f"Host: {host}",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


@dataclass(frozen=True)
class Response:
    """One full response: status, headers (names lower-cased) and body."""

    status: int
    headers: dict[str, str]
    body: bytes


def _parse_head(head: bytes) -> tuple[int, int]:
    """Status and Content-Length of a response head (without its blank line)."""
    if not head.startswith(b"HTTP/1.1 "):
        raise HarnessError(f"not an HTTP/1.1 response: {head[:60]!r}")
    status = int(head[9:12])
    start = head.lower().find(_CONTENT_LENGTH)
    if start < 0:
        raise HarnessError(f"response {status} has no Content-Length; the load client reads only those")
    start += len(_CONTENT_LENGTH)
    end = head.find(b"\r\n", start)
    return status, int(head[start : end if end >= 0 else len(head)])


async def fetch(host: str, port: int, request: bytes, timeout: float = 5.0) -> Response:
    """One request on a fresh connection, answered in full (to check what a server says)."""
    reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    try:
        writer.write(request)
        head = await asyncio.wait_for(reader.readuntil(_HEAD_END), timeout)
        status, length = _parse_head(head[: -len(_HEAD_END)])
        body = await asyncio.wait_for(reader.readexactly(length), timeout)
    finally:
        writer.close()
    headers = {}
    for line in head.decode("latin-1").split("\r\n")[1:]:
        name, _, value = line.partition(":")
        if name:
            headers[name.strip().lower()] = value.strip()
    return Response(status, headers, body)


class _Batch:
    """What the connections of one batch share: requests left to send, answers counted, the outcome."""

    def __init__(self, requests: int, expected_status: int) -> None:
        self.requests = requests
        self.unsent = requests
        self.answered = 0
        self.expected_status = expected_status
        self.done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def take(self) -> bool:
        if self.unsent and not self.done.done():
            self.unsent -= 1
            return True
        return False

    def answer(self, status: int) -> None:
        if status != self.expected_status:
            self.fail(
                f"the server answered {status} (response {self.answered + 1:,} of {self.requests:,}); "
                f"expected {self.expected_status}"
            )
            return
        self.answered += 1
        if self.answered == self.requests and not self.done.done():
            self.done.set_result(None)

    def fail(self, message: str) -> None:
        if not self.done.done():
            self.done.set_exception(HarnessError(message))


class _Connection(asyncio.Protocol):
    """A keep-alive connection: sends the request, reads the answer, sends again while the batch wants."""

    def __init__(self, request: bytes) -> None:
        self.request = request
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.length: int | None = None
        self.status = 0
        self.batch: _Batch | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement asyncio.Transport without subclassing it.
        self.transport = cast(asyncio.Transport, transport)

    def start(self, batch: _Batch) -> None:
        self.batch = batch
        if batch.take():
            self._send()

    def _send(self) -> None:
        assert self.transport is not None
        self.transport.write(self.request)

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer
        buffer += data
        while True:
            if self.length is None:
                end = buffer.find(_HEAD_END)
                if end < 0:
                    return
                try:
                    self.status, body_length = _parse_head(bytes(buffer[:end]))
                except HarnessError as error:
                    self._fail(str(error))
                    return
                self.length = end + len(_HEAD_END) + body_length
            if len(buffer) < self.length:
                return
            del buffer[: self.length]
            self.length = None
            batch = self.batch
            if batch is None:
                self._fail("a response arrived before any request was sent")
                return
            batch.answer(self.status)
            if batch.take():
                self._send()

    def connection_lost(self, exc: Exception | None) -> None:
        batch = self.batch
        if batch is not None and batch.answered < batch.requests:
            batch.fail(
                f"the server closed a connection after {batch.answered:,} of {batch.requests:,} answers"
            )

    def _fail(self, message: str) -> None:
        if self.batch is not None:
            self.batch.fail(message)
        if self.transport is not None:
            self.transport.close()


@dataclass(frozen=True)
class BatchResult:
    """How long a batch took (wall) and how much CPU this process (the client) spent on it."""

    requests: int
    seconds: float
    client_cpu_seconds: float


class Connections:
    """Open keep-alive connections to one server; `send` runs batches of the fixed request over them."""

    def __init__(self, connections: list[_Connection]) -> None:
        self._connections = connections

    async def send(self, requests: int, expected_status: int, timeout: float) -> BatchResult:
        """`requests` requests over all connections; raises HarnessError on any other status."""
        batch = _Batch(requests, expected_status)
        cpu, wall = time.process_time(), time.perf_counter()
        for connection in self._connections:
            connection.start(batch)
        try:
            await asyncio.wait_for(asyncio.shield(batch.done), timeout)
        except TimeoutError:
            raise HarnessError(
                f"{batch.answered:,} of {requests:,} answers within {timeout:.0f} s; is the server stuck?"
            ) from None
        return BatchResult(requests, time.perf_counter() - wall, time.process_time() - cpu)


@asynccontextmanager
async def connected(host: str, port: int, request: bytes, count: int) -> AsyncIterator[Connections]:
    """`count` connections to host:port, closed on the way out."""
    loop = asyncio.get_running_loop()
    connections: list[_Connection] = []
    try:
        for _ in range(count):
            _, protocol = await loop.create_connection(lambda: _Connection(request), host, port)
            connections.append(protocol)
        yield Connections(connections)
    finally:
        for connection in connections:
            connection.batch = None
            if connection.transport is not None:
                connection.transport.close()
