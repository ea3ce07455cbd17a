"""Small pieces every flow shares: checking an answer's status."""

from __future__ import annotations

from .._errors import RemoteProtocolError, error_from_response
from .._headers import Challenge, parse_www_authenticate
from .._models import Request, Response, _redact_url


def expect(response: Response, request: Request, *statuses: int, context: str = "") -> Response:
    """Return `response` if its status is one of `statuses`, else raise the matching error."""
    if response.status in statuses:
        return response
    insufficient = response.status == 401 and any(
        challenge.params.get("error") == "insufficient_scope" for challenge in _challenges(response)
    )
    raise error_from_response(
        response.status,
        response.body,
        method=request.method,
        url=_redact_url(request.url),
        context=context or f"{request.method} {_redact_url(request.url)}",
        insufficient_scope=insufficient,
    )


def _challenges(response: Response) -> list[Challenge]:
    try:
        return parse_www_authenticate(response.headers.get_all("WWW-Authenticate"))
    except RemoteProtocolError:
        return []
