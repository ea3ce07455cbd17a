"""Retrying what may go away, as a wrapper around any flow (docs/protocol.md §8.3).

`with_retries` makes every retry decision, under one `RetryPolicy`:

- A request that can safely be repeated (reads, deletes, manifest puts, a bodiless `POST`
  that opens an upload) is repeated after a broken connection, 408, 429 (waiting as long as
  `Retry-After` asks, within a cap), and the 502, 503 and 504 of an overloaded registry or
  proxy.
- A connection that cannot be made at all fails at once when the registry has not answered
  yet in this operation (it is not there). Once it has answered, the registry is restarting:
  it is waited for, backing off, while it has been away less than `RetryPolicy.outage`
  seconds, counted on the drivers' clock (`Response.received_at`, `TransportFailure.failed_at`;
  the core reads none). Those waits do not count against the attempts.
- A blob is re-sent whole, through a new upload session, after those same failures or after
  the registry lost its session. distribution appends upload bodies blindly, so no request that
  feeds or ends a session is repeated by itself: the flow marks the upload `resendable` and the
  wrapper decides whether it runs again. A step that can recover on its own (a chunk cut off
  mid-way is resumed where the session stands) asks first too (`may_retry`), and its tries
  count against the blob's.

Everything else is an answer, not an accident, and is left to the flow: any other 4xx, a 500,
an answer over the size the request allows (`ResponseTooLarge`), a registry that stalled for
the whole of the client's timeout (`TimedOut`). Either way a request or a blob
is tried at most `RetryPolicy.attempts` times in all, besides the waits for a registry away.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from ._effects import Emit, Flow, http, sleep
from ._errors import (
    BlobUploadInvalid,
    BlobUploadUnknown,
    ConnectFailure,
    RegistryError,
    RegistryProtoError,
    TimedOut,
    TransportFailure,
)
from ._events import notice
from ._intercept import intercept
from ._models import EmptyBody, Request, Response, _redact_url

__all__ = ["RetryPolicy", "RetryWanted", "may_retry", "resendable", "with_retries"]

T = TypeVar("T")

# 408 Request Timeout and 429 Too Many Requests are the only 4xx worth asking again.
_TRANSIENT = frozenset({408, 429, 502, 503, 504})


def _no_jitter() -> float:
    """The default jitter source: always 0, so that waits are exactly the backoff."""
    return 0.0


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how long to retry: `attempts` in all, waiting `base_delay * 2**n` seconds
    (at most `max_delay`) before retry `n`, or what `Retry-After` says (at most
    `max_retry_after`). A registry that answered earlier in an operation and then refuses
    connections is waited for while it has been away less than `outage` seconds (with one
    attempt, never).

    `jitter` returns a number in [0, 1) that shortens each backoff by up to half, so that
    clients failing together do not retry together. The core has no randomness of its own:
    the clients pass `random.random`, and the default keeps waits exact.
    """

    attempts: int = 4
    base_delay: float = 0.5
    max_delay: float = 8.0
    max_retry_after: float = 60.0
    outage: float = 30.0
    jitter: Callable[[], float] = _no_jitter

    def delay(self, retry: int, response: Response | None) -> float:
        """Seconds to wait before retry number `retry` (0 for the first retry)."""
        if response is not None:
            asked = _retry_after(response)
            if asked is not None:
                return min(asked, self.max_retry_after)  # the registry's word, not jittered
        return self._jittered(min(self.base_delay * 2.0**retry, self.max_delay))

    def outage_delay(self, away: float) -> float | None:
        """Seconds to wait for a registry that has refused connections for the last `away`
        seconds after answering earlier, or None to give up.

        As long again as it has been away, so the waits double as a backoff does (between
        `base_delay` and `max_delay`), and never past the end of the allowance.
        """
        left = self.outage - away
        if self.attempts <= 1 or left <= 0:
            return None
        return min(self._jittered(min(max(away, self.base_delay), self.max_delay)), left)

    def _jittered(self, backoff: float) -> float:
        spread = min(max(self.jitter(), 0.0), 1.0)
        return backoff * (1.0 - spread / 2)


def _retry_after(response: Response) -> float | None:
    """`Retry-After` in seconds (RFC 9110 §10.2.3). An HTTP date cannot be compared with the
    monotonic clock the core sees, so it falls back to the policy's own backoff."""
    value = (response.headers.get("Retry-After") or "").strip()
    if value.isascii() and value.isdigit():
        return float(value)
    return None


def _repeatable(request: Request) -> bool:
    """Whether `request` may be sent again by itself."""
    if request.resent_whole:
        return False
    if request.method in ("GET", "HEAD", "DELETE", "OPTIONS"):
        return True
    if request.method == "POST":
        return isinstance(request.body, EmptyBody) or request.body.length == 0
    if request.method == "PUT":  # a manifest, not the end of an upload session
        return "/manifests/" in urlsplit(request.url).path
    return False


def _worth_retrying(error: RegistryProtoError) -> bool:
    """Failures a flow may try again after: a broken connection, an overloaded registry, an
    upload session the registry lost or no longer accepts. (A connection refused is decided
    by how long the registry has been away.)"""
    if isinstance(error, TransportFailure):
        return not isinstance(error, TimedOut)
    if isinstance(error, BlobUploadUnknown | BlobUploadInvalid):
        return True
    return isinstance(error, RegistryError) and error.status in _TRANSIENT


@dataclass(frozen=True, slots=True)
class RetryWanted:
    """A try failed with `error`, the `failures`-th to fail: the question a flow puts to the
    enclosing `with_retries`, which answers by sleeping (try again) or by raising `error`."""

    error: RegistryProtoError
    failures: int


def may_retry(error: RegistryProtoError, failures: int) -> Flow[bool]:
    """Ask the enclosing `with_retries` whether to try again after `error`, the `failures`-th
    failure of what is being tried: True once it has waited. It raises `error` to refuse;
    with no `with_retries` around, the driver answers None, and this False.

    Inside a `resendable` whole, `failures` is the whole's count, not the caller's. A
    connection refused is not counted: how long the registry has been away decides.
    """
    answer = yield Emit(RetryWanted(error, failures))
    return answer is True


def resendable(attempt: Callable[[int], Flow[T]]) -> Flow[T]:
    """Run `attempt(0)`; after a failure, `attempt(1)`, and so on, as long as the enclosing
    `with_retries` lets the whole run again (without one, it runs once).

    None of its requests is repeated by itself: the whole is the unit of retry. Every failure
    within it counts against one budget, those its steps recover from (`may_retry` inside, such
    as a resumed chunk) as well as whole runs; connections refused while the registry
    restarts are the outage's to allow.
    """
    failures = 0

    def ask(error: RegistryProtoError) -> Flow[bool]:
        nonlocal failures
        if not isinstance(error, ConnectFailure):
            failures += 1
        return (yield from may_retry(error, failures))

    def on_event(event: object) -> Flow[bool]:
        if not isinstance(event, RetryWanted):
            return False
        if not (yield from ask(event.error)):
            raise event.error  # nobody to allow a retry: the step gives up
        return True

    run = 0
    while True:
        try:
            return (yield from intercept(attempt(run), _as_step, on_event=on_event))
        except RegistryProtoError as exc:
            if not (yield from ask(exc)):
                raise
            run += 1


def _as_step(request: Request) -> Flow[Response]:
    return (yield from http(dataclasses.replace(request, resent_whole=True)))


class _Answered:
    """When each registry (origin) last answered in one operation: a connection it refuses
    afterwards means it went away, not that it is not there."""

    def __init__(self) -> None:
        self._last: dict[tuple[str, str | None, int | None], float] = {}

    def note(self, url: str, response: Response) -> None:
        origin = _origin(url)
        self._last[origin] = max(self._last.get(origin, response.received_at), response.received_at)

    def away_for(self, failure: ConnectFailure) -> float | None:
        """How long the registry refusing `failure`'s connection has been away, or None when
        it has not answered in this operation (or the driver did not say when it failed)."""
        last = self._last.get(_origin(failure.url))
        if last is None or failure.failed_at is None:
            return None
        return max(failure.failed_at - last, 0.0)


def _origin(url: str) -> tuple[str, str | None, int | None]:
    try:
        parts = urlsplit(url)
        return parts.scheme, parts.hostname, parts.port
    except ValueError:
        return "", url, None


def with_retries(flow: Flow[T], policy: RetryPolicy | None = None) -> Flow[T]:
    """`flow`, with its repeatable requests, `resendable` wholes and `may_retry` questions
    answered under `policy`. A registry that answered in this flow and then refuses
    connections is waited for (`RetryPolicy.outage`)."""
    policy = policy or RetryPolicy()
    answered = _Answered()

    def outage_delay(failure: ConnectFailure) -> float | None:
        away = answered.away_for(failure)
        return None if away is None else policy.outage_delay(away)

    def pause(what: str, reason: str, delay: float, tries: int) -> Flow[None]:
        yield from notice(
            "retry",
            f"{what}: {reason}; trying again in {delay:.2f}s (try {tries + 1} of "
            f"{policy.attempts})",
            reason=reason,
            delay=delay,
            attempt=tries + 1,
        )
        yield from sleep(delay)

    def outage(what: str, failure: ConnectFailure) -> Flow[bool]:
        """Wait for a registry that answered before and now refuses; False: waited too long."""
        delay = outage_delay(failure)
        if delay is None:
            return False
        yield from notice(
            "retry",
            f"{what}: {failure}; the registry answered before: waiting {delay:.2f}s for it",
            reason=str(failure),
            delay=delay,
        )
        yield from sleep(delay)  # the registry's outage, not a try of its own
        return True

    def send(request: Request) -> Flow[Response]:
        repeatable = _repeatable(request)
        what = f"{request.method} {request.display_url}"
        retry = 0
        while True:
            try:
                response = yield from http(request)
            except TransportFailure as exc:
                exc.url = exc.url or _redact_url(request.url)
                if not repeatable:
                    raise
                if isinstance(exc, ConnectFailure):
                    if not (yield from outage(what, exc)):
                        raise
                    continue
                if isinstance(exc, TimedOut) or retry + 1 >= policy.attempts:
                    raise
                yield from pause(what, str(exc), policy.delay(retry, None), retry + 1)
            else:
                answered.note(request.url, response)
                if (
                    not repeatable
                    or response.status not in _TRANSIENT
                    or retry + 1 >= policy.attempts
                ):
                    return response
                reason = f"HTTP {response.status}"
                yield from pause(what, reason, policy.delay(retry, response), retry + 1)
            retry += 1

    def on_event(event: object) -> Flow[bool]:
        if not isinstance(event, RetryWanted):
            return False
        error = event.error
        if isinstance(error, ConnectFailure):
            if not (yield from outage("upload", error)):
                raise error
        elif event.failures < policy.attempts and _worth_retrying(error):
            delay = policy.delay(event.failures - 1, None)
            yield from pause("upload", str(error), delay, event.failures)
        else:
            raise error
        return True

    return intercept(flow, send, on_event=on_event)
