"""What every test server shares: `Started`, the context-manager half (a server says how it
starts and stops; `with Server(...) as server:` starts it, stops it afterwards, and stops what
a failed start left half-running), and `Serving` for the servers built on `socketserver`."""

from __future__ import annotations

import socketserver
import threading
from types import TracebackType
from typing import Self


class Started:
    """Base of the test servers: `start()` and `stop()` are theirs, `with` is this class's."""

    def start(self) -> Self:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError

    def __enter__(self) -> Self:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class Serving:
    """`server` answering in a daemon thread (it notices a shutdown within 50 ms) until
    `shut()`, which stops it, closes it and waits for the thread."""

    def __init__(self, server: socketserver.TCPServer) -> None:
        self.server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    @property
    def port(self) -> int:
        return int(self.server.server_address[1])

    def shut(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join()
