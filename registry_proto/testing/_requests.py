"""Reading a request as distribution's router does: routes, methods, digests, paging
parameters (docs/protocol.md §11)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from .._errors import ValidationError
from .._models import Request
from .._reference import validate_digest, validate_repository
from ._answers import Answer, error, plain

__all__ = [
    "Context",
    "accepted",
    "catalog_key",
    "check_method",
    "check_name",
    "page_size",
    "parse_digest",
    "route",
    "valid_digest",
]

_ROUTES = (
    ("base", re.compile(r"/v2/")),
    ("catalog", re.compile(r"/v2/_catalog")),
    ("tags", re.compile(r"/v2/(?P<name>.+)/tags/list")),
    ("manifest", re.compile(r"/v2/(?P<name>.+)/manifests/(?P<reference>[^/]+)")),
    ("upload", re.compile(r"/v2/(?P<name>.+)/blobs/uploads/(?P<uuid>[^/]*)")),
    ("blob", re.compile(r"/v2/(?P<name>.+)/blobs/(?P<digest>[^/]+)")),
)


@dataclass(frozen=True, slots=True)
class Context:
    """A request being answered, with its origin (empty for relative URLs) and query."""

    request: Request
    origin: str
    query: dict[str, str]


def route(path: str) -> tuple[str, dict[str, str]]:
    """The route `path` takes and its parameters; a plain 404 answer when none."""
    for name, pattern in _ROUTES:
        match = pattern.fullmatch(path)
        if match is not None:
            return name, match.groupdict()
    raise Answer(plain(404, "404 page not found"))


def check_method(request: Request, allowed: tuple[str, ...]) -> None:
    if request.method not in allowed:
        response = plain(405, "405 method not allowed")
        headers = response.headers.with_("Allow", ", ".join(allowed))
        raise Answer(dataclasses.replace(response, headers=headers))


def check_name(name: str) -> None:
    """distribution answers NAME_INVALID only to names that are merely too long; any other bad
    name matches no route."""
    try:
        validate_repository(name)
    except ValidationError:
        if len(name) > 255 and name == name.lower():
            raise Answer(error(400, "NAME_INVALID", "invalid repository name")) from None
        raise Answer(plain(404, "404 page not found")) from None


def valid_digest(digest: str) -> bool:
    try:
        validate_digest(digest, any_algorithm=True)
    except ValidationError:
        return False
    return True


def parse_digest(digest: str, *, route: bool) -> str:
    """The algorithm of a well-formed digest; else a 400 DIGEST_INVALID answer (404 when
    `route` and the text does not even look like a digest, as distribution's router does)."""
    if route and ":" not in digest:
        raise Answer(plain(404, "404 page not found"))
    if not valid_digest(digest):
        raise Answer(error(400, "DIGEST_INVALID", "provided digest is invalid", digest))
    return digest.partition(":")[0]


def accepted(request: Request) -> set[str]:
    """The media types listed in `Accept`, parameters dropped."""
    types: set[str] = set()
    for value in request.headers.get_all("Accept"):
        types.update(item.split(";")[0].strip() for item in value.split(","))
    return types


def page_size(raw: str | None, *, default: int) -> int:
    """distribution's `n`: absent, not a number or negative means the default."""
    if raw is None or not raw.isdigit() or not raw.isascii():
        return default
    return int(raw)


def catalog_key(name: str) -> tuple[str, ...]:
    """The catalog's order: component by component."""
    return tuple(name.split("/"))
