"""API version check: `GET /v2/` (distribution-spec "Determining support", docs/protocol.md §1)."""

from __future__ import annotations

from dataclasses import dataclass

from .._effects import Flow, http
from .._headers import parse_www_authenticate
from .._models import Request
from .._reference import RegistryEndpoint
from ._common import expect

__all__ = ["ApiVersion", "check_api_version"]


@dataclass(frozen=True, slots=True)
class ApiVersion:
    """What `GET /v2/` said.

    `api_version` is the `Docker-Distribution-API-Version` header (`registry/2.0`) when sent;
    `auth_schemes` the schemes the registry challenged with (empty when no login is needed).
    """

    api_version: str | None
    auth_schemes: tuple[str, ...]

    @property
    def requires_auth(self) -> bool:
        return bool(self.auth_schemes)


def check_api_version(endpoint: RegistryEndpoint) -> Flow[ApiVersion]:
    """Ask the registry whether it speaks the v2 API.

    200 means yes; 401 also means yes, with a login required. Anything else raises.
    """
    request = Request(method="GET", url=endpoint.url("/v2/"))
    response = yield from http(request)
    expect(response, request, 200, 401, context="registry API version check")
    schemes: tuple[str, ...] = ()
    if response.status == 401:
        challenges = parse_www_authenticate(response.headers.get_all("WWW-Authenticate"))
        schemes = tuple(dict.fromkeys(c.scheme for c in challenges)) or ("unknown",)
    return ApiVersion(response.headers.get("Docker-Distribution-API-Version"), schemes)
