"""What every test server shares: `Started`, the context-manager half (a server says how it
starts and stops; `with Server(...) as server:` starts it, stops it afterwards, and stops what
a failed start left half-running), and `serve_in_thread` / `shut` for the servers built on
`socketserver`."""

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


def serve_in_thread(server: socketserver.BaseServer) -> threading.Thread:
    """Start answering on `server` in a daemon thread (it notices a shutdown within 50 ms)."""
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    return thread


def shut(server: socketserver.BaseServer | None, thread: threading.Thread | None) -> None:
    """Stop `server` and its thread from `serve_in_thread`, either of which may be missing."""
    if server is not None:
        server.shutdown()
        server.server_close()
    if thread is not None:
        thread.join()
