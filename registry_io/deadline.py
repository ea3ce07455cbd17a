"""A call's deadline (the `deadline=` client option), as the drivers enforce it.

The async driver runs a call in an anyio cancel scope. The blocking driver cannot be cancelled
from outside, so it checks a monotonic end time between steps and while bytes move, and caps
each request's timeouts at the time left. Either way the flow is stopped as a cancellation
stops it (closed, never thrown into), and the caller gets `DeadlineExceeded`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from registry_proto import DeadlineExceeded

# Imported where used: by then a client has imported it (docs/performance.md).
if TYPE_CHECKING:
    import httpx

__all__ = ["Deadline", "Expired", "exceeded"]


class Expired(BaseException):
    """The blocking driver's signal that the deadline passed: a `BaseException`, like a
    cancellation, so that no flow catches it; the driver reports `DeadlineExceeded`."""


def exceeded(seconds: float) -> DeadlineExceeded:
    return DeadlineExceeded(f"the call did not finish within its deadline of {seconds:g} s")


@dataclass(frozen=True, slots=True)
class Deadline:
    """`seconds` from when it was set, ending at `ends_at` on the monotonic clock."""

    seconds: float
    ends_at: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(seconds, time.monotonic() + seconds)

    def remaining(self) -> float:
        return self.ends_at - time.monotonic()

    def check(self) -> None:
        """Raise `Expired` once the deadline has passed."""
        if self.remaining() <= 0:
            raise Expired(self.seconds)

    def capped(self, timeout: httpx.Timeout) -> httpx.Timeout:
        """`timeout`, no part of it longer than the time left."""
        import httpx

        left = max(self.remaining(), 0.001)

        def cap(value: float | None) -> float:
            return left if value is None else min(value, left)

        return httpx.Timeout(
            connect=cap(timeout.connect),
            read=cap(timeout.read),
            write=cap(timeout.write),
            pool=cap(timeout.pool),
        )
