"""The error tree. Every failure the library reports is one of these.

    RegistryProtoError
    ├── ValidationError          bad input from the caller (names, tags, digests, archives)
    ├── TarReadError             the archive cannot be read (truncated, corrupt, unsafe names)
    ├── ArchiveWriteError        a pulled image's archive cannot be written
    ├── RegistryError            the registry answered with an error (one subclass per code)
    ├── RemoteProtocolError      the registry broke the protocol (202 without Location, ...)
    │   └── ResponseTooLarge     an answer over the size the request allows (never retried)
    └── TransportFailure         the connection failed (thrown into flows by the drivers)
        ├── ConnectFailure       no connection could be made
        └── TimedOut             nothing moved for the client's timeout (never retried)
            └── DeadlineExceeded the call ran past its deadline (raised by the drivers)

The contract: driving any flow with any sequence of responses ends in a result or one of these
errors. Anything else escaping is a bug.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar

__all__ = [
    "ArchiveWriteError",
    "BlobUnknown",
    "BlobUploadInvalid",
    "BlobUploadUnknown",
    "ConnectFailure",
    "DeadlineExceeded",
    "DeletesDisabled",
    "Denied",
    "DigestInvalid",
    "DigestMismatch",
    "ErrorDetail",
    "ManifestBlobUnknown",
    "ManifestInvalid",
    "ManifestUnknown",
    "NameInvalid",
    "NameUnknown",
    "NotFound",
    "RangeInvalid",
    "RegistryError",
    "RegistryProtoError",
    "RemoteProtocolError",
    "ResponseTooLarge",
    "ScopeDenied",
    "ServerError",
    "SizeInvalid",
    "TarReadError",
    "TimedOut",
    "TooManyRequests",
    "TransportFailure",
    "Unauthorized",
    "Unavailable",
    "Unsupported",
    "ValidationError",
    "error_from_response",
]


class RegistryProtoError(Exception):
    """Root of every error this library raises."""


class ValidationError(RegistryProtoError, ValueError):
    """The caller's input breaks a rule: a name, tag, digest, URL or image archive."""


class TarReadError(RegistryProtoError):
    """An archive cannot be read: truncated, corrupt, or with unsafe member names."""


class ArchiveWriteError(RegistryProtoError):
    """An archive being written (a pulled image) cannot be: no such directory, disk full."""


class RemoteProtocolError(RegistryProtoError):
    """The registry's answer breaks the protocol (missing or malformed headers, loops)."""


class ResponseTooLarge(RemoteProtocolError):
    """An answer's body exceeds the request's `max_response_bytes`.

    The drivers stop reading at the cap. Not retried: the same request gets the same answer.
    """


class DigestMismatch(RemoteProtocolError):
    """Content did not hash to the digest it was sent or asked for under."""


class TransportFailure(RegistryProtoError):
    """The request could not be completed: connection refused or reset, timeout, TLS failure.

    Drivers translate their HTTP library's exceptions into this one and throw it into the flow,
    which may retry or recover. They say when it failed (`failed_at`, a monotonic timestamp like
    `Response.received_at`; None if unknown) and, for a request whose answer went into a
    `FileSink`, how many bytes of it are already in place (`received`, from the sink's start);
    the retry wrapper notes which request failed (`url`, without credentials).
    """

    def __init__(
        self, message: str = "", *, url: str = "", failed_at: float | None = None, received: int = 0
    ) -> None:
        super().__init__(message)
        self.url = url
        self.failed_at = failed_at
        self.received = received


class ConnectFailure(TransportFailure):
    """No connection could be made at all (refused, unresolvable, timed out connecting).

    A registry that has not answered yet in an operation is not asked again: one that is not
    there answers the same a moment later, and saying so at once is more useful. One that
    answered earlier is restarting, and is waited for a while (`RetryPolicy.outage`).
    """


class TimedOut(TransportFailure):
    """Nothing was sent or received for as long as the client's `timeout` allows: the registry
    stalled. Not retried: a registry silent that long is not expected back sooner by asking
    again, and failing within about one timeout is more useful."""


class DeadlineExceeded(TimedOut):
    """The call ran past its `deadline`. Raised by the drivers, which stop the call (as a
    cancellation would: the flow is closed, never thrown into) and report this instead."""


@dataclass(frozen=True, slots=True)
class ErrorDetail:
    """One entry of a spec error body `{"errors": [{"code", "message", "detail"}]}` (spec §8)."""

    code: str
    message: str = ""
    detail: Any = None


class RegistryError(RegistryProtoError):
    """The registry answered with an error status.

    `status` is the HTTP status (None for an error raised without an answer, as callers may:
    every error class is constructible from a message alone), `errors` the parsed error entries
    (empty when the body was not a spec error document, e.g. on HEAD), `code` the first error
    code or `""`.
    """

    code_name: ClassVar[str] = ""

    def __init__(
        self,
        message: str = "",
        *,
        status: int | None = None,
        errors: tuple[ErrorDetail, ...] = (),
        method: str = "",
        url: str = "",
    ) -> None:
        super().__init__(message)
        self.status = status
        self.errors = errors
        self.method = method
        self.url = url

    @property
    def code(self) -> str:
        return self.errors[0].code if self.errors else self.code_name


class NotFound(RegistryError):
    """Something the request named does not exist (HTTP 404 without a more precise code)."""


class BlobUnknown(NotFound):
    code_name = "BLOB_UNKNOWN"


class BlobUploadInvalid(RegistryError):
    code_name = "BLOB_UPLOAD_INVALID"


class BlobUploadUnknown(NotFound):
    code_name = "BLOB_UPLOAD_UNKNOWN"


class DigestInvalid(RegistryError):
    code_name = "DIGEST_INVALID"


class ManifestBlobUnknown(RegistryError):
    code_name = "MANIFEST_BLOB_UNKNOWN"


class ManifestInvalid(RegistryError):
    code_name = "MANIFEST_INVALID"


class ManifestUnknown(NotFound):
    code_name = "MANIFEST_UNKNOWN"


class NameInvalid(RegistryError):
    code_name = "NAME_INVALID"


class NameUnknown(NotFound):
    code_name = "NAME_UNKNOWN"


class SizeInvalid(RegistryError):
    code_name = "SIZE_INVALID"


class RangeInvalid(RegistryError):
    code_name = "RANGE_INVALID"


class Unauthorized(RegistryError):
    """Credentials are missing or wrong (HTTP 401)."""

    code_name = "UNAUTHORIZED"


class Denied(RegistryError):
    """Authenticated, but not allowed (HTTP 403)."""

    code_name = "DENIED"


class ScopeDenied(Denied):
    """The credentials are good but do not grant this action on this repository.

    Token registries answer 401 with `error="insufficient_scope"` (not 403) when the token
    server granted less than was asked for (distribution's token spec).
    """


class Unsupported(RegistryError):
    """The registry does not support this operation (e.g. deletes disabled, HTTP 405)."""

    code_name = "UNSUPPORTED"


class DeletesDisabled(Unsupported):
    """The registry refuses deletes (distribution answers 405 unless deletes are enabled)."""


class TooManyRequests(RegistryError):
    """Rate limited (HTTP 429)."""

    code_name = "TOOMANYREQUESTS"


class ServerError(RegistryError):
    """The registry failed internally (HTTP 5xx)."""

    code_name = "UNKNOWN"


class Unavailable(ServerError):
    code_name = "UNAVAILABLE"


# The one table from spec error codes (spec §8.2 and distribution's extras) to classes.
_BY_CODE: dict[str, type[RegistryError]] = {
    cls.code_name: cls
    for cls in (
        BlobUnknown,
        BlobUploadInvalid,
        BlobUploadUnknown,
        DigestInvalid,
        ManifestBlobUnknown,
        ManifestInvalid,
        ManifestUnknown,
        NameInvalid,
        NameUnknown,
        SizeInvalid,
        RangeInvalid,
        Unauthorized,
        Denied,
        Unsupported,
        TooManyRequests,
        Unavailable,
    )
}

# When the body names no known code (HEAD responses have no body at all).
_BY_STATUS: dict[int, type[RegistryError]] = {
    401: Unauthorized,
    403: Denied,
    404: NotFound,
    405: Unsupported,
    416: RangeInvalid,
    429: TooManyRequests,
    503: Unavailable,
}


def parse_error_body(body: bytes) -> tuple[ErrorDetail, ...]:
    """Parse a spec error document; anything else yields no entries."""
    try:
        document = json.loads(body)
    except (ValueError, UnicodeDecodeError, RecursionError):  # deep nesting is garbage too
        return ()
    if not isinstance(document, dict) or not isinstance(document.get("errors"), list):
        return ()
    details = []
    for entry in document["errors"]:
        if isinstance(entry, dict) and isinstance(entry.get("code"), str):
            message = entry.get("message")
            details.append(
                ErrorDetail(
                    code=entry["code"],
                    message=message if isinstance(message, str) else "",
                    detail=entry.get("detail"),
                )
            )
    return tuple(details)


def error_from_response(
    status: int,
    body: bytes,
    *,
    method: str = "",
    url: str = "",
    context: str = "",
    insufficient_scope: bool = False,
) -> RegistryError:
    """Build the `RegistryError` subclass for an error answer.

    The first error code in the body picks the class (the registry takes its status from the
    first error too); failing that, the status does. A 401 whose challenge says
    `insufficient_scope` is a `ScopeDenied`.
    """
    errors = parse_error_body(body)
    cls: type[RegistryError] | None = None
    if status == 401 and insufficient_scope:
        cls = ScopeDenied
    elif errors:
        cls = _BY_CODE.get(errors[0].code)
    if cls is None:
        cls = _BY_STATUS.get(status, ServerError if status >= 500 else RegistryError)
    summary = "; ".join(
        f"{e.code}: {e.message}" + (f" ({_short(e.detail)})" if e.detail not in (None, "") else "")
        for e in errors
    )
    if not summary:
        summary = _plain_summary(body, url)
    prefix = f"{context}: " if context else ""
    return cls(
        f"{prefix}HTTP {status}: {summary}", status=status, errors=errors, method=method, url=url
    )


# A body longer than this is not read for its first line: it is no registry's error.
_PEEK = 4096
_LINE = 120
_HTML = re.compile(r"\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body|title)\b", re.I | re.S)
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TAG = re.compile(r"<[^>]*>|<!--.*?-->", re.S)


def _plain_summary(body: bytes, url: str) -> str:
    """One line for a body that is no spec error document: the title of an HTML page (a web
    server answered, not a registry), else the first line of text, cut short."""
    text = body[:_PEEK].decode("utf-8", "replace")
    if _HTML.match(text):
        title = _TITLE.search(text)
        line = _first_line(html.unescape(title.group(1) if title else _TAG.sub("\n", text)))
        shown = f" ({line})" if line else ""
        return f"an HTML page{shown}: is this the URL of a registry?"
    line = _first_line(text)
    if not line:
        return "no error body"
    if "HTTP request to an HTTPS server" in line and url.startswith("http://"):
        # Go's TLS servers (distribution among them) answer plain HTTP with this 400.
        host = url[len("http://") :].partition("/")[0]
        line += f" Use https://{host}"
    return line


def _first_line(text: str) -> str:
    """The first non-blank line of `text`, its spaces collapsed, at most `_LINE` characters."""
    for raw in text.splitlines():
        line = " ".join(raw.split())
        if line:
            return line if len(line) <= _LINE else line[: _LINE - 3] + "..."
    return ""


def _short(detail: Any) -> str:
    text = detail if isinstance(detail, str) else json.dumps(detail, sort_keys=True)
    return text if len(text) <= 200 else text[:197] + "..."
