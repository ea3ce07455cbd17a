"""Telling work on other threads to stop: a cancelled task's worker, a blocking run's parallel
children after a failure or a Ctrl-C.

A thread cannot be interrupted from outside, so long work checks a `StopFlag` between its
steps (between the chunks of a body or a decompression, between effects) and raises `Stopped`
once it is set. `Stopped` is a `BaseException`, like a cancellation: it unwinds the worker and
is never thrown into a flow.
"""

from __future__ import annotations

import threading

__all__ = ["StopFlag", "Stopped"]


class Stopped(BaseException):
    """Raised in a thread whose `StopFlag` was set; the driver that set it handles it."""


class StopFlag:
    """Set once, from any thread; setting it sets every flag made by `child()` too."""

    def __init__(self) -> None:
        self._event = threading.Event()
        self._children: list[StopFlag] = []
        self._lock = threading.Lock()

    def child(self) -> StopFlag:
        """A flag of its own (for one part of the work) that this one's setting also sets."""
        flag = StopFlag()
        with self._lock:
            self._children.append(flag)
            if self._event.is_set():
                flag.set()
        return flag

    def set(self) -> None:
        with self._lock:
            self._event.set()
            children = list(self._children)
        for child in children:
            child.set()

    def is_set(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise `Stopped` if the flag is set."""
        if self._event.is_set():
            raise Stopped

    def sleep(self, seconds: float) -> None:
        """Wait `seconds`, or less if the flag is set meanwhile; then `check()`."""
        self._event.wait(max(seconds, 0.0))
        self.check()
