"""Telling work on other threads and tasks to stop: a cancelled task's worker, a run's
parallel children after a failure or a Ctrl-C.

A thread cannot be interrupted from outside, so work checks a `StopFlag` and raises
`Stopped` once it is set. `Stopped` is a `BaseException`, like a cancellation: it unwinds the
work and is never thrown into a flow. A flag is set in one of two ways:

- after the current step (`set()`): the work finishes the request it is sending and stops
  before the next effect. That is how the siblings of a failed child stop: a body cut off in
  the middle leaves an upload session that distribution can no longer cancel, since it
  refuses any request whose `_state` does not match the bytes it holds;
- at once (`set(now=True)`): the work stops between two chunks of a body or a decompression
  too. That is how an interrupt or a cancellation stops it.
"""

from __future__ import annotations

import threading

__all__ = ["FAILURE_GRACE", "StopFlag", "Stopped"]

# How long the siblings of a failed child may take to finish the request they are sending
# before they are stopped at once.
FAILURE_GRACE = 2.0


class Stopped(BaseException):
    """Raised in work whose `StopFlag` was set; the driver that set it handles it."""


class StopFlag:
    """Set once or twice (after the current step, then at once), from any thread; setting it
    sets every flag made by `child()` too."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._now = threading.Event()
        self._children: list[StopFlag] = []
        self._lock = threading.Lock()

    def child(self) -> StopFlag:
        """A flag of its own (for one part of the work) that this one's setting also sets."""
        flag = StopFlag()
        with self._lock:
            self._children.append(flag)
            now = self._now.is_set()
            if self._stop.is_set():
                flag.set(now=now)
        return flag

    def set(self, *, now: bool = False) -> None:
        with self._lock:
            self._stop.set()
            if now:
                self._now.set()
            children = list(self._children)
        for child in children:
            child.set(now=now)

    def is_set(self) -> bool:
        return self._stop.is_set()

    def check(self) -> None:
        """Before a step: raise `Stopped` if the flag is set at all."""
        if self._stop.is_set():
            raise Stopped

    def check_now(self) -> None:
        """Within a step (between chunks): raise `Stopped` if the flag is set at once."""
        if self._now.is_set():
            raise Stopped

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less if the flag is set meanwhile; then `check()`."""
        self._stop.wait(max(seconds, 0.0))
        self.check()
