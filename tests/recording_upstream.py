"""An HTTP upstream that records every request it receives, as h11 parsed it off the wire.

What the regression suites put behind `gw467 serve --upstream` and the nginx example: each
request's method, target, header fields (names as sent), body, and whether it arrived
complete (h11's EndOfMessage: the last chunk, or Content-Length met) before the connection
ended. Answers 200 with `recorded` to each complete request.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import h11

from tests.processes import free_port


@dataclass
class Received:
    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: bytes = b""
    complete: bool = False

    def names(self) -> list[bytes]:
        """The header names as the upstream reads them: lower case, `_` as `-` (WSGI's reading)."""
        return [name.lower().replace(b"_", b"-") for name, _ in self.headers]

    def values(self, name: bytes) -> list[bytes]:
        return [value for seen, value in self.headers if seen.lower().replace(b"_", b"-") == name]


@dataclass
class RecordingUpstream:
    port: int
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def serve(self, connection: socket.socket) -> None:
        parser = h11.Connection(h11.SERVER)
        current: Received | None = None
        connection.settimeout(10)
        with connection:
            while True:
                try:
                    event = parser.next_event()
                except h11.RemoteProtocolError:
                    return
                if event is h11.NEED_DATA:
                    try:
                        data = connection.recv(65536)
                    except OSError:
                        return
                    parser.receive_data(data)
                    if not data:
                        if parser.their_state is h11.SEND_BODY:
                            return  # cut short: `current` stays incomplete
                        if parser.their_state in (h11.IDLE, h11.DONE):
                            return
                    continue
                if isinstance(event, h11.Request):
                    current = Received(event.method, event.target, list(event.headers.raw_items()))
                    with self.lock:
                        self.received.append(current)
                elif isinstance(event, h11.Data) and current is not None:
                    current.body += event.data
                elif isinstance(event, h11.EndOfMessage) and current is not None:
                    current.complete = True
                    body = b"recorded"
                    answer = h11.Response(status_code=200, headers=[(b"content-length", b"8")])
                    connection.sendall(parser.send(answer) + parser.send(h11.Data(data=body)))
                    connection.sendall(parser.send(h11.EndOfMessage()))
                    if parser.our_state is h11.MUST_CLOSE:
                        return
                    parser.start_next_cycle()
                elif isinstance(event, h11.ConnectionClosed):
                    return


@contextmanager
def recording_upstream() -> Iterator[RecordingUpstream]:
    port = free_port()
    upstream = RecordingUpstream(port)
    listener = socket.create_server(("127.0.0.1", port))
    listener.settimeout(0.2)  # so the accept loop sees `stopping`
    stopping = threading.Event()

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            threading.Thread(target=upstream.serve, args=(connection,), daemon=True).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield upstream
    finally:
        stopping.set()
        listener.close()
        thread.join(timeout=5)
