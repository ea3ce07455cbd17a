"""Failures the in-memory registry injects ahead of its normal answers, to test how flows
retry and recover.

Not part of `registry_proto.testing`'s interface: a test builds a `Faults`, hands it to
`FakeRegistry(faults=...)`, and plans failures on it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .._models import Request, Response
from ._answers import error

__all__ = ["CutBody", "Faults"]

# The error code a planned failure carries when none is given.
_CODES = {
    401: "UNAUTHORIZED",
    403: "DENIED",
    404: "NAME_UNKNOWN",
    405: "UNSUPPORTED",
    429: "TOOMANYREQUESTS",
    503: "UNAVAILABLE",
}


class CutBody(Exception):
    """Raised by a handler of `PureDriver`: `response` starts coming back, and the connection
    breaks after `after` bytes of its body (a `TransportFailure` in the flow)."""

    def __init__(self, response: Response, after: int) -> None:
        super().__init__(after)
        self.response = response
        self.after = after


@dataclass
class _Planned:
    status: int
    code: str
    method: str | None
    path_contains: str | None
    skip: int
    times: int
    headers: tuple[tuple[str, str], ...]

    def matches(self, request: Request, path: str) -> bool:
        if self.method is not None and request.method != self.method:
            return False
        return self.path_contains is None or self.path_contains in path

    def response(self) -> Response:
        response = error(self.status, self.code, "injected failure")
        headers = response.headers
        for name, value in self.headers:
            headers = headers.with_(name, value)
        return dataclasses.replace(response, headers=headers)


class Faults:
    """Answers that replace the registry's own: a hook, then planned failures."""

    def __init__(self) -> None:
        #: Called first with every request; a `Response` it returns is sent instead.
        self.on_request: Callable[[Request], Response | None] | None = None
        self._planned: list[_Planned] = []

    def fail_next(
        self,
        status: int = 503,
        *,
        method: str | None = None,
        path_contains: str | None = None,
        skip: int = 0,
        times: int = 1,
        code: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        """Answer `status` (with a spec error body) to matching requests instead of handling them.

        A request matches when its method is `method` and its URL path contains `path_contains`
        (either may be None for "any"). The first `skip` matches are handled normally, the
        next `times` fail. `fail_next(503, skip=4)` fails the fifth request, whatever it is.
        """
        self._planned.append(
            _Planned(
                status=status,
                code=code or _CODES.get(status, "UNKNOWN"),
                method=method,
                path_contains=path_contains,
                skip=skip,
                times=times,
                headers=tuple((headers or {}).items()),
            )
        )

    def answer(self, request: Request, path: str) -> Response | None:
        """The injected answer to `request` (whose decoded URL path is `path`), if any."""
        if self.on_request is not None:
            injected = self.on_request(request)
            if injected is not None:
                return injected
        for planned in self._planned:
            if planned.times > 0 and planned.matches(request, path):
                if planned.skip > 0:
                    planned.skip -= 1
                    continue
                planned.times -= 1
                return planned.response()
        return None
