"""What one run of a flow leaves behind to clean up when it ends, whatever the outcome."""

from __future__ import annotations

import threading

from .files import remove_quietly

__all__ = ["Leftovers"]


class Leftovers:
    """The temporary files of one run (decompressed archives, partial downloads), removed
    when the run ends unless a `MoveFile` put them in place.

    Worker threads add to it, so it is thread-safe; and a file that a worker reports once the
    run has ended (a worker the driver could not wait for) is removed at once, never forgotten.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._temporary: list[str] = []
        self._ended = False

    def add_temporary(self, path: str) -> None:
        with self._lock:
            if not self._ended:
                self._temporary.append(path)
                return
        remove_quietly([path])

    def end(self) -> None:
        """The run is over: remove its temporary files, now and from now on."""
        with self._lock:
            self._ended = True
            paths, self._temporary = self._temporary, []
        remove_quietly(paths)
