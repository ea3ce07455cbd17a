"""Small pieces every flow shares: checking an answer's status."""

from __future__ import annotations

from .._errors import error_from_response
from .._models import Request, Response, _redact_url


def expect(response: Response, request: Request, *statuses: int, context: str = "") -> Response:
    """Return `response` if its status is one of `statuses`, else raise the matching error."""
    if response.status in statuses:
        return response
    raise error_from_response(
        response.status,
        response.body,
        method=request.method,
        url=_redact_url(request.url),
        context=context or f"{request.method} {_redact_url(request.url)}",
    )
