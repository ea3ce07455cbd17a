"""A TCP proxy on a free 127.0.0.1 port that forwards to a server at a limited rate.

Uploads through it take a predictable while, so a test can interrupt one in the middle.
Answers come back at full speed.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from typing import Self

from tests.integration.lifecycle import Started

_PIECE = 16 * 1024


class ThrottlingProxy(Started):
    """Forward connections to `upstream` (`host`, `port`), client bytes at `rate` bytes/s."""

    def __init__(self, upstream: tuple[str, int], rate: int) -> None:
        self._upstream = upstream
        self._rate = rate
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._sockets: list[socket.socket] = []
        self._threads: list[threading.Thread] = []
        self._lock = threading.Lock()
        self._closed = False

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._listener.getsockname()[1]}"

    def start(self) -> Self:
        self._spawn(self._accept)
        return self

    def stop(self) -> None:
        with self._lock:
            self._closed = True
            sockets = [self._listener, *self._sockets]
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
        for thread in list(self._threads):
            thread.join()

    def _spawn(self, target: object, *args: object) -> None:
        thread = threading.Thread(target=target, args=args, daemon=True)  # type: ignore[arg-type]
        with self._lock:
            self._threads.append(thread)
        thread.start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self._upstream)
            with self._lock:
                if self._closed:
                    client.close()
                    upstream.close()
                    return
                self._sockets += [client, upstream]
            self._spawn(self._pump, client, upstream, self._rate)
            self._spawn(self._pump, upstream, client, None)

    @staticmethod
    def _pump(source: socket.socket, target: socket.socket, rate: int | None) -> None:
        try:
            while data := source.recv(_PIECE):
                target.sendall(data)
                if rate is not None:
                    time.sleep(len(data) / rate)  # the throttle itself
        except OSError:
            pass
        with contextlib.suppress(OSError):
            target.shutdown(socket.SHUT_WR)
