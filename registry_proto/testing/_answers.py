"""The answers the in-memory registry sends: distribution's error bodies (spec §8), its plain
texts and the headers every answer carries (docs/protocol.md §11)."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from urllib.parse import urlencode

from .._models import Headers, Request, Response

__all__ = [
    "JSON",
    "OCTET_STREAM",
    "Answer",
    "blob_created",
    "digest_invalid",
    "error",
    "finish",
    "json_response",
    "manifest_invalid",
    "next_link",
    "plain",
    "with_error",
]

JSON = "application/json; charset=utf-8"
OCTET_STREAM = "application/octet-stream"
_API_VERSION = ("Docker-Distribution-API-Version", "registry/2.0")


class Answer(Exception):
    """Ends request handling early with `response`."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status)
        self.response = response


def finish(request: Request, response: Response) -> Response:
    """`response` as sent: with the API version and `Content-Length`, and no body for `HEAD`."""
    headers = response.headers
    if _API_VERSION[0] not in headers:
        headers = Headers((*headers.items, _API_VERSION))
    if "Content-Length" not in headers:
        headers = headers.with_("Content-Length", str(len(response.body)))
    body = b"" if request.method == "HEAD" else response.body
    return Response(status=response.status, headers=headers, body=body)


def json_response(
    status: int, document: object, headers: Mapping[str, str] | None = None
) -> Response:
    body = json.dumps(document).encode()
    return Response(
        status=status,
        headers=Headers.of({"Content-Type": JSON, **(headers or {})}),
        body=body,
    )


def error(status: int, code: str, message: str, detail: object = None) -> Response:
    """A spec error body `{"errors": [{"code", "message", "detail"}]}` (spec §8)."""
    return json_response(status, {"errors": [{"code": code, "message": message, "detail": detail}]})


def with_error(response: Response, code: str, message: str) -> Response:
    """`response`'s status and headers with an error body (its `Content-Length` is left to
    `finish`)."""
    body = error(response.status, code, message).body
    return dataclasses.replace(
        response, headers=response.headers.with_("Content-Type", JSON), body=body
    )


def digest_invalid(detail: str | None = None) -> Response:
    return error(400, "DIGEST_INVALID", "provided digest did not match uploaded content", detail)


def manifest_invalid(detail: str) -> Response:
    return error(400, "MANIFEST_INVALID", "manifest invalid", detail)


def plain(status: int, text: str) -> Response:
    return Response(
        status=status,
        headers=Headers.of({"Content-Type": "text/plain; charset=utf-8"}),
        body=text.encode() + b"\n",
    )


def blob_created(origin: str, name: str, digest: str, canonical: str) -> Response:
    headers = {
        "Location": f"{origin}/v2/{name}/blobs/{digest}",
        "Docker-Content-Digest": canonical,
        "Content-Length": "0",
    }
    return Response(status=201, headers=Headers.of(headers))


def next_link(path: str, last: str, size: int) -> str:
    return f'<{path}?{urlencode({"last": last, "n": str(size)})}>; rel="next"'
