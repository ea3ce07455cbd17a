"""What one run of a flow leaves behind to clean up when it ends, whatever the outcome."""

from __future__ import annotations

import threading

from registry_proto import Cleanup, Request

from .files import remove_quietly

__all__ = ["CLEANUP_SECONDS", "Leftovers"]

# How long a run that ended (failed or cancelled, usually) may spend undoing what it left:
# long enough for a few DELETEs to a registry that answers, short enough not to hold a
# cancellation or a Ctrl-C up for long when it does not.
CLEANUP_SECONDS = 2.0


class Leftovers:
    """What one run leaves to clean up: its temporary files (decompressed archives, partial
    downloads), removed when it ends unless a `MoveFile` put them in place, and the requests
    that undo what its flows could not (`Cleanup`: open upload sessions), for the driver to
    send then.

    Worker threads add to it, so it is thread-safe; and a file that a worker reports once the
    run has ended (a worker the driver could not wait for) is removed at once, never forgotten.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._temporary: list[str] = []
        self._undo: dict[str, Request] = {}
        self._ended = False

    def add_temporary(self, path: str) -> None:
        with self._lock:
            if not self._ended:
                self._temporary.append(path)
                return
        remove_quietly([path])

    def keep(self, cleanup: Cleanup) -> None:
        """Keep (or withdraw) the request of a `Cleanup` effect."""
        with self._lock:
            if cleanup.request is None:
                self._undo.pop(cleanup.key, None)
            else:
                self._undo[cleanup.key] = cleanup.request

    def end(self) -> list[Request]:
        """The run is over: remove its temporary files, now and from now on, and return the
        requests left to send."""
        with self._lock:
            self._ended = True
            paths, self._temporary = self._temporary, []
            undo, self._undo = list(self._undo.values()), {}
        remove_quietly(paths)
        return undo
