"""Values that cross the boundary between the core and a driver.

Everything here is a frozen dataclass: a request is a *description* of what to send, a response
is what came back. Bodies are descriptions too (`FileSlice` names a byte range of a file, the
driver streams it), so a request can be replayed on retry and inspected in tests.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "Body",
    "BytesBody",
    "EmptyBody",
    "FileSink",
    "FileSlice",
    "Headers",
    "Request",
    "Response",
]


@dataclass(frozen=True, slots=True)
class Headers:
    """An ordered, case-insensitive multi-map of header fields (RFC 9110 §5)."""

    items: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]] | dict[str, str] | None = None) -> Headers:
        if pairs is None:
            return cls()
        if isinstance(pairs, dict):
            pairs = pairs.items()
        return cls(tuple((str(k), str(v)) for k, v in pairs))

    def get(self, name: str, default: str | None = None) -> str | None:
        """The first value of `name`, or `default`."""
        wanted = name.lower()
        for key, value in self.items:
            if key.lower() == wanted:
                return value
        return default

    def get_all(self, name: str) -> list[str]:
        """Every value of `name`, in order (repeated fields stay separate)."""
        wanted = name.lower()
        return [value for key, value in self.items if key.lower() == wanted]

    def with_(self, name: str, value: str) -> Headers:
        """A copy where `name` is replaced by the single `value`."""
        wanted = name.lower()
        kept = tuple((k, v) for k, v in self.items if k.lower() != wanted)
        return Headers((*kept, (name, value)))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __repr__(self) -> str:
        # Credentials must never reach logs or tracebacks through a repr.
        shown = [(k, "[redacted]" if k.lower() == "authorization" else v) for k, v in self.items]
        return f"Headers({shown!r})"


@dataclass(frozen=True, slots=True)
class EmptyBody:
    """No body at all (`Content-Length: 0` where the method needs one)."""

    @property
    def length(self) -> int:
        return 0


@dataclass(frozen=True, slots=True)
class BytesBody:
    """A small in-memory body: a manifest, a config, a token request form."""

    data: bytes

    @property
    def length(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"BytesBody(<{len(self.data)} bytes>)"


@dataclass(frozen=True, slots=True)
class FileSlice:
    """`length` bytes of the file at `path` starting at `offset`, streamed by the driver.

    A layer inside an image archive is exactly such a slice of the tar file: it is never
    extracted or loaded into memory.
    """

    path: str
    offset: int
    length: int

    def __post_init__(self) -> None:
        if self.offset < 0 or self.length < 0:
            raise ValueError(f"invalid file slice {self.offset}+{self.length}")


Body = EmptyBody | BytesBody | FileSlice


@dataclass(frozen=True, slots=True)
class FileSink:
    """Where a response body goes instead of memory: `length` bytes of the file at `path`
    from `offset` (a blob's place in an archive being written).

    Only answers whose status is in `statuses` are written; any other is read into memory as
    usual (an error document, a redirect). The driver reports how many bytes it wrote and
    their digest by `algorithm` (a hashlib name: sha256 or sha512) in the `Response`, and
    fails if more than `length` arrive.
    """

    path: str
    offset: int
    length: int
    statuses: tuple[int, ...] = (200,)
    algorithm: str = "sha256"


@dataclass(frozen=True, slots=True, kw_only=True)
class Request:
    """An HTTP request for the driver to send.

    The driver sends exactly these headers (plus what its HTTP library adds, such as `Host`)
    and never follows redirects: redirects are the core's business, so that credentials are
    never carried to another host.

    `response_body` says what the flow needs back: `"bytes"` reads the body (up to
    `max_response_bytes`), `"discard"` drops it unread, a `FileSink` streams it into a file.

    `progress_key`, when set, asks the driver to report the bytes of the request body as they
    are sent, or of a response body as it is written into a `FileSink` (as `BlobProgress`
    events keyed `progress_key`), if anyone listens.

    `resent_whole` marks a request that is one step of a larger whole (a blob's upload) which
    the retry wrapper re-sends whole after a failure; drivers ignore it.
    """

    method: str
    url: str
    headers: Headers = field(default_factory=Headers)
    body: Body = field(default_factory=EmptyBody)
    response_body: Literal["bytes", "discard"] | FileSink = "bytes"
    max_response_bytes: int = 16 * 1024 * 1024
    progress_key: str | None = None
    resent_whole: bool = False

    def with_headers(self, headers: Headers) -> Request:
        """A copy of this request with `headers` instead of its own."""
        return dataclasses.replace(self, headers=headers)

    @property
    def display_url(self) -> str:
        """The URL as it may be shown in messages and logs: without userinfo, and without the
        values of query parameters that carry secrets (tokens, signatures)."""
        return _redact_url(self.url)

    def __repr__(self) -> str:
        return f"Request({self.method} {self.display_url})"


@dataclass(frozen=True, slots=True, kw_only=True)
class Response:
    """What the registry answered.

    `received_at` is a monotonic timestamp in seconds taken by the driver when the response
    headers arrived; the core never reads a clock itself. When the body went to a `FileSink`,
    `written` counts its bytes and `written_digest` is their digest (`algorithm:hex`).
    """

    status: int
    headers: Headers = field(default_factory=Headers)
    body: bytes = b""
    received_at: float = 0.0
    written: int = 0
    written_digest: str | None = None

    def __repr__(self) -> str:
        return f"Response({self.status}, <{len(self.body)} bytes>)"


# Query parameters whose values are credentials: tokens, and the signatures of the
# pre-signed URLs object stores redirect blob downloads to (S3, GCS, Azure).
_SECRET_WORDS = ("token", "signature", "credential", "secret", "password")
_SECRET_NAMES = frozenset({"sig", "key", "code"})


def _secret_param(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_NAMES or any(word in lowered for word in _SECRET_WORDS)


def _redact_url(url: str) -> str:
    """`url` as it may be shown anywhere: no `user:password@` part, and the values of secret
    query parameters (tokens, signatures) replaced.

    Everything up to the last `@` goes: a password holding `/`, `?` or `#` does not parse as
    one, yet must not show either.
    """
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url
    userinfo = ""
    if "@" in rest:
        userinfo, rest = "[redacted]@", rest.rpartition("@")[2]
    authority, slash, path = rest.partition("/")
    path, question, query = path.partition("?")
    if question:
        fields = []
        for field_ in query.split("&"):
            name, equals, _ = field_.partition("=")
            fields.append(f"{name}=[redacted]" if equals and _secret_param(name) else field_)
        query = "&".join(fields)
    return f"{scheme}://{userinfo}{authority}{slash}{path}{question}{query}"
