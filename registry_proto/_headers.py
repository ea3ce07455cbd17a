"""Pure parsers for the header fields the registry protocol depends on.

- `WWW-Authenticate` challenges (RFC 9110 §11.6.1, RFC 6750 §3), several per field value;
- `Link: <url>; rel="next"` pagination (RFC 8288; distribution-spec "Listing Tags");
- upload `Range: 0-<end>` (distribution-spec "Pushing a blob in chunks");
- `Location` resolution against the request URL (RFC 3986 §5) and adding query parameters
  to a Location that already has some (distribution's `_state` must survive untouched).

Every URL a server sends goes through `resolve_url`, which refuses to leave https for plain
http, whatever the case of the scheme (RFC 3986 §3.1: schemes are case-insensitive).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlencode, urljoin, urlsplit, urlunsplit

from ._errors import RemoteProtocolError
from ._reference import MAX_URL_LENGTH, usable_host

__all__ = [
    "Challenge",
    "add_query",
    "parse_link_next",
    "parse_upload_range",
    "parse_www_authenticate",
    "resolve_location",
    "resolve_url",
]

_TOKEN = r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+"
_TOKEN68 = r"[A-Za-z0-9\-._~+/]+=*"
_QUOTED = r'"(?:[^"\\]|\\.)*"'
_SCANNER = re.compile(
    rf"""
    (?P<ws>[\s,]+)
  | (?P<param>(?P<name>{_TOKEN})\s*=\s*(?P<value>{_QUOTED}|{_TOKEN}))
  | (?P<token68>{_TOKEN68})
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class Challenge:
    """One authentication challenge: a scheme (lower-cased) and its parameters.

    Parameter names are lower-cased; values keep their case, unquoted.
    """

    scheme: str
    params: dict[str, str] = field(default_factory=dict)

    def __hash__(self) -> int:
        return hash((self.scheme, tuple(sorted(self.params.items()))))


def parse_www_authenticate(values: list[str] | str) -> list[Challenge]:
    """Parse every challenge in one or more `WWW-Authenticate` field values.

    A bare token starts a new challenge; `name=value` pairs belong to the current one, so
    several challenges joined by commas (as HTTP libraries join repeated fields) split
    correctly, and commas inside quoted strings stay part of their value.
    """
    if isinstance(values, str):
        values = [values]
    challenges: list[Challenge] = []
    for value in values:
        scheme: str | None = None
        params: dict[str, str] = {}
        pos = 0
        while pos < len(value):
            match = _SCANNER.match(value, pos)
            if match is None:
                raise RemoteProtocolError(f"malformed WWW-Authenticate header: {value!r}")
            pos = match.end()
            if match.group("ws"):
                continue
            if match.group("param") and scheme is not None:
                raw = match.group("value")
                if raw.startswith('"'):
                    raw = re.sub(r"\\(.)", r"\1", raw[1:-1])
                params[match.group("name").lower()] = raw
                continue
            token = match.group(0)
            if match.group("param"):
                # `name=value` with no scheme before it: not a challenge we can use.
                raise RemoteProtocolError(f"malformed WWW-Authenticate header: {value!r}")
            if scheme is not None and re.fullmatch(_TOKEN68, token) and "=" in token:
                params[""] = token  # token68 credentials-style parameter
                continue
            if scheme is not None:
                challenges.append(Challenge(scheme, params))
            scheme, params = token.lower(), {}
        if scheme is not None:
            challenges.append(Challenge(scheme, params))
    return challenges


_LINK_RE = re.compile(r"<(?P<url>[^>]*)>(?P<params>(?:\s*;\s*[^,;<]+)*)")


def parse_link_next(values: list[str] | str, base_url: str) -> str | None:
    """The absolute URL of the `rel="next"` link, or None when there is none.

    Relative targets (distribution sends `</v2/_catalog?last=x&n=100>`) are resolved against
    `base_url`, the URL of the request that got this header.
    """
    if isinstance(values, str):
        values = [values]
    for value in values:
        for match in _LINK_RE.finditer(value):
            for param in match.group("params").split(";"):
                name, _, raw = param.strip().partition("=")
                if name.strip().lower() != "rel":
                    continue
                rels = raw.strip().strip('"').lower().split()
                if "next" in rels:
                    return resolve_url(base_url, str(match.group("url")), "Link target")
    return None


_RANGE_RE = re.compile(r"(?:bytes=)?\s*(\d+)-(\d+)\s*")


def parse_upload_range(value: str | None) -> tuple[int, int] | None:
    """Parse an upload `Range: 0-<end>` (older text shows `bytes=0-<end>`): inclusive bounds.

    Returns None when the header is missing; raises `RemoteProtocolError` when it is garbage.
    Note `0-0` is ambiguous (nothing or one byte received): callers keep their own count.
    """
    if value is None:
        return None
    match = _RANGE_RE.fullmatch(value)
    if match is None:
        raise RemoteProtocolError(f"malformed upload Range header: {value!r}")
    start, end = int(match.group(1)), int(match.group(2))
    if end < start:
        raise RemoteProtocolError(f"malformed upload Range header: {value!r}")
    return start, end


def resolve_url(base_url: str, target: str, what: str) -> str:
    """`target`, a URL a server sent in answer to a request for `base_url`, made absolute.

    Relative targets resolve against `base_url` (RFC 3986 §5). The result is an http(s) URL
    with a lower-case scheme, and never plain http when `base_url` is https: a downgrade would
    expose the request, and whatever it carries, to anyone on the path.
    """
    unusable = RemoteProtocolError(f"the registry sent an unusable {what}: {target[:200]!r}")
    try:
        resolved = urljoin(base_url, target.strip())
        parts = urlsplit(resolved)
        parts.port  # noqa: B018 - raises ValueError on a port out of range
    except ValueError:  # an unbalanced IPv6 bracket, a bad port
        raise unusable from None
    if parts.scheme not in ("http", "https") or not usable_host(parts.hostname or ""):
        raise unusable
    if len(resolved) > MAX_URL_LENGTH or not resolved.isprintable() or " " in resolved:
        raise unusable
    if parts.scheme == "http" and urlsplit(base_url).scheme.lower() == "https":
        # Only the host is shown: the rest may be a signed URL, good for anyone who reads it.
        raise RemoteProtocolError(
            f"refusing a {what} from https to http (to {parts.hostname or parts.netloc})"
        )
    return parts.scheme + resolved[len(parts.scheme) :]


def resolve_location(request_url: str, location: str | None, *, what: str = "Location") -> str:
    """Resolve a `Location` header against the URL of the request that returned it.

    Registries answer with absolute URLs (distribution's default) or bare paths
    (`http.relativeurls`); both are valid (RFC 9110 §10.2.2). Only http(s) targets are
    accepted, and none that leaves https for http (`resolve_url`).
    """
    if not location or not location.strip():
        raise RemoteProtocolError(f"the registry sent no {what} header")
    return resolve_url(request_url, location, what)


def add_query(url: str, params: list[tuple[str, str]]) -> str:
    """Append query parameters to `url`, keeping any query it already has byte for byte.

    distribution's upload Location carries a signed `_state` parameter; re-encoding it or
    appending a second `?` breaks the upload (404 BLOB_UPLOAD_INVALID).
    """
    parts = urlsplit(url)
    extra = urlencode(params)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit(parts._replace(query=query))
