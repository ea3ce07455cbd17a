"""A misbehaving HTTP server on a free 127.0.0.1 port: for each request, answer properly,
never answer (a stalled registry), or send a body one byte at a time (a trickling one).

A raw socket server, since a well-behaved HTTP library cannot misbehave this way. Stopping it
releases every connection it holds.
"""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Self

from tests.integration.lifecycle import Started


@dataclass(frozen=True)
class Answer:
    """Answer at once: `status`, `headers`, `body`."""

    status: int
    body: bytes = b""
    headers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class Stall:
    """Read the request, then say nothing until the server stops."""


@dataclass(frozen=True)
class Trickle:
    """Send the head of a 200 announcing `length` bytes, then one byte every `interval`
    seconds until the server stops (or `length` bytes went out)."""

    length: int
    interval: float = 0.05
    content_type: str = "application/octet-stream"


Behaviour = Answer | Stall | Trickle
Plan = Callable[[str, str], Behaviour]  # (method, path) -> what to do


class SlowServer(Started):
    """Serve `plan` on 127.0.0.1 in background threads; `requests` lists `(method, path)`."""

    def __init__(self, plan: Plan) -> None:
        self._plan = plan
        self._stopping = threading.Event()
        self._listener: socket.socket | None = None
        self._threads: list[threading.Thread] = []
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()
        self.requests: list[tuple[str, str]] = []

    @property
    def url(self) -> str:
        assert self._listener is not None
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> Self:
        listener = socket.create_server(("127.0.0.1", 0))
        listener.settimeout(0.05)
        self._listener = listener
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        self._stopping.set()
        with self._lock:
            threads = list(self._threads)
        for thread in threads:
            thread.join()
        with self._lock:
            for connection in self._connections:
                connection.close()
        if self._listener is not None:
            self._listener.close()

    def _spawn(self, target: Callable[..., None], *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        assert self._listener is not None
        while not self._stopping.is_set():
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            with self._lock:
                self._connections.append(connection)
            self._spawn(self._serve, connection)

    def _serve(self, connection: socket.socket) -> None:
        connection.settimeout(0.05)
        buffer = b""
        with contextlib.suppress(OSError, EOFError):
            while not self._stopping.is_set():
                head, sep, rest = buffer.partition(b"\r\n\r\n")
                if not sep:
                    buffer += self._receive(connection)
                    continue
                method, path = head.split(b" ")[:2]
                length = _content_length(head)
                while len(rest) < length and not self._stopping.is_set():
                    rest += self._receive(connection)
                buffer = rest[length:]
                request = (method.decode(), path.decode())
                with self._lock:
                    self.requests.append(request)
                self._behave(connection, self._plan(*request))

    @staticmethod
    def _receive(connection: socket.socket) -> bytes:
        """What arrived on `connection` (nothing yet: empty); `EOFError` once it closed."""
        try:
            data = connection.recv(65536)
        except TimeoutError:
            return b""
        if not data:
            raise EOFError
        return data

    def _behave(self, connection: socket.socket, behaviour: Behaviour) -> None:
        if isinstance(behaviour, Answer):
            headers = [*behaviour.headers, ("Content-Length", str(len(behaviour.body)))]
            connection.sendall(_head(behaviour.status, headers) + behaviour.body)
        elif isinstance(behaviour, Stall):
            self._stopping.wait()
        else:
            headers = [
                ("Content-Type", behaviour.content_type),
                ("Content-Length", str(behaviour.length)),
            ]
            connection.sendall(_head(200, headers))
            sent = 0
            while sent < behaviour.length and not self._stopping.wait(behaviour.interval):
                connection.sendall(b" ")
                sent += 1


def _content_length(head: bytes) -> int:
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return int(value.strip())
    return 0


def _head(status: int, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} X", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()
