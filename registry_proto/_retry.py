"""Retrying transient failures, as a wrapper around any flow (docs/protocol.md §8.3).

Retried: connections that broke or timed out (not ones that could not be made at all), 429
(waiting as long as `Retry-After` asks, within a cap), and the 502, 503 and 504 of an
overloaded registry or proxy. Only requests that can safely be repeated are retried here:
reads, deletes, manifest puts, and bodiless `POST`s that open an upload. Nothing that ends or
feeds an upload session is: distribution appends blindly, so the upload flow recovers on its
own and a blob that failed is sent again whole, through a new session. Other statuses, 500
among them, are answers, not accidents, and are left to the flow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from ._effects import Flow, http, sleep
from ._errors import ConnectFailure, TransportFailure
from ._intercept import intercept
from ._models import EmptyBody, Request, Response

__all__ = ["RetryPolicy", "with_retries"]

T = TypeVar("T")

_TRANSIENT = frozenset({429, 502, 503, 504})


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry: `attempts` in all, waiting `base_delay * 2**n` seconds
    between them (at most `max_delay`), or what `Retry-After` says (at most `max_retry_after`).
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, response: Response | None) -> float:
        """Seconds to wait before retry number `attempt` (0 for the first retry)."""
        if response is not None:
            asked = _retry_after(response)
            if asked is not None:
                return min(asked, self.max_retry_after)
        return min(self.base_delay * 2.0**attempt, self.max_delay)


def _retry_after(response: Response) -> float | None:
    """`Retry-After` in seconds (RFC 9110 §10.2.3). An HTTP date cannot be compared with the
    monotonic clock the core sees, so it falls back to the policy's own backoff."""
    value = (response.headers.get("Retry-After") or "").strip()
    if value.isascii() and value.isdigit():
        return float(value)
    return None


def _repeatable(request: Request) -> bool:
    if request.method in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return True
    if request.method == "POST":
        return isinstance(request.body, EmptyBody) or request.body.length == 0
    if request.method == "PUT":  # a manifest, not the end of an upload session
        return "/manifests/" in urlsplit(request.url).path
    return False


def with_retries(flow: Flow[T], policy: RetryPolicy | None = None) -> Flow[T]:
    """`flow`, with transient failures of its repeatable requests retried under `policy`."""
    policy = policy or RetryPolicy()

    def send(request: Request) -> Flow[Response]:
        if not _repeatable(request):
            return (yield from http(request))
        attempt = 0
        while True:
            try:
                response = yield from http(request)
            except TransportFailure as exc:
                if isinstance(exc, ConnectFailure) or attempt + 1 >= policy.attempts:
                    raise
                yield from sleep(policy.delay(attempt, None))
            else:
                if response.status not in _TRANSIENT or attempt + 1 >= policy.attempts:
                    return response
                yield from sleep(policy.delay(attempt, response))
            attempt += 1

    return intercept(flow, send)
