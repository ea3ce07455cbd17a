"""The error tree and the one table from spec error codes to classes (docs/protocol.md §8)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

import registry_proto
from registry_proto import (
    BlobUnknown,
    BlobUploadInvalid,
    BlobUploadUnknown,
    Denied,
    DigestInvalid,
    DigestMismatch,
    ManifestBlobUnknown,
    ManifestInvalid,
    ManifestUnknown,
    NameInvalid,
    NameUnknown,
    NotFound,
    RangeInvalid,
    RegistryError,
    RegistryProtoError,
    RemoteProtocolError,
    ServerError,
    SizeInvalid,
    TarReadError,
    TooManyRequests,
    TransportFailure,
    Unauthorized,
    Unavailable,
    Unsupported,
    ValidationError,
)
from registry_proto._errors import ErrorDetail, error_from_response, parse_error_body

# Code, the status distribution answers with, and the class (docs/protocol.md §8.2).
CODES: list[tuple[str, int, type[RegistryError]]] = [
    ("BLOB_UNKNOWN", 404, BlobUnknown),
    ("BLOB_UPLOAD_INVALID", 404, BlobUploadInvalid),
    ("BLOB_UPLOAD_UNKNOWN", 404, BlobUploadUnknown),
    ("DIGEST_INVALID", 400, DigestInvalid),
    ("MANIFEST_BLOB_UNKNOWN", 400, ManifestBlobUnknown),
    ("MANIFEST_INVALID", 400, ManifestInvalid),
    ("MANIFEST_UNKNOWN", 404, ManifestUnknown),
    ("NAME_INVALID", 400, NameInvalid),
    ("NAME_UNKNOWN", 404, NameUnknown),
    ("SIZE_INVALID", 400, SizeInvalid),
    ("RANGE_INVALID", 416, RangeInvalid),
    ("UNAUTHORIZED", 401, Unauthorized),
    ("DENIED", 403, Denied),
    ("UNSUPPORTED", 405, Unsupported),
    ("TOOMANYREQUESTS", 429, TooManyRequests),
    ("UNAVAILABLE", 503, Unavailable),
]


def _body(*errors: dict[str, object]) -> bytes:
    return json.dumps({"errors": list(errors)}).encode()


@pytest.mark.parametrize(("code", "status", "cls"), CODES)
def test_every_code_maps_to_its_class(code: str, status: int, cls: type[RegistryError]) -> None:
    error = error_from_response(
        status, _body({"code": code, "message": "what happened", "detail": {"k": "v"}})
    )
    assert type(error) is cls
    assert error.code == code == cls.code_name
    assert error.status == status
    assert error.errors == (ErrorDetail(code, "what happened", {"k": "v"}),)
    assert code in str(error)
    assert "what happened" in str(error)
    assert '"k": "v"' in str(error)


@pytest.mark.parametrize(("code", "status", "cls"), CODES)
def test_the_code_wins_over_the_status(code: str, status: int, cls: type[RegistryError]) -> None:
    # distribution takes its status from the first error; a proxy may change it.
    assert type(error_from_response(500, _body({"code": code}))) is cls


def test_first_error_picks_the_class_and_all_are_kept() -> None:
    error = error_from_response(
        400,
        _body(
            {"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown", "detail": "sha256:aa"},
            {"code": "MANIFEST_BLOB_UNKNOWN", "message": "blob unknown", "detail": "sha256:bb"},
        ),
    )
    assert isinstance(error, ManifestBlobUnknown)
    assert [e.detail for e in error.errors] == ["sha256:aa", "sha256:bb"]
    assert "sha256:aa" in str(error)
    assert "sha256:bb" in str(error)


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (401, Unauthorized),
        (403, Denied),
        (404, NotFound),
        (405, Unsupported),
        (416, RangeInvalid),
        (429, TooManyRequests),
        (503, Unavailable),
        (500, ServerError),
        (502, ServerError),
        (504, ServerError),
        (400, RegistryError),
        (409, RegistryError),
        (418, RegistryError),
    ],
)
def test_status_fallback_without_a_body(status: int, cls: type[RegistryError]) -> None:
    # HEAD answers carry no body at all.
    error = error_from_response(status, b"", method="HEAD", url="http://r/v2/a/blobs/x")
    assert type(error) is cls
    assert error.errors == ()
    assert error.status == status
    assert error.method == "HEAD"
    assert error.url == "http://r/v2/a/blobs/x"
    assert f"HTTP {status}" in str(error)
    assert "no error body" in str(error)


def test_unknown_codes_fall_back_to_the_status() -> None:
    assert type(error_from_response(400, _body({"code": "TAG_INVALID"}))) is RegistryError
    assert type(error_from_response(500, _body({"code": "UNKNOWN"}))) is ServerError
    error = error_from_response(400, _body({"code": "PAGINATION_NUMBER_INVALID"}))
    assert type(error) is RegistryError
    assert error.code == "PAGINATION_NUMBER_INVALID"


def test_plain_text_body_is_shown() -> None:
    error = error_from_response(404, b"404 page not found\n")
    assert type(error) is NotFound
    assert error.errors == ()
    assert str(error) == "HTTP 404: 404 page not found"


NGINX_404 = (
    b"<html>\r\n<head><title>404 Not Found</title></head>\r\n<body>\r\n"
    b"<center><h1>404 Not Found</h1></center>\r\n<hr><center>nginx</center>\r\n"
    b"</body>\r\n</html>\r\n"
)
WELCOME = (
    b"<!DOCTYPE html>\n<!-- a site -->\n<html lang=en>\n<head><meta charset=utf-8></head>\n"
    b"<body>\n\n  <p>Welcome &amp; hello</p>\n" + b"<p>more</p>\n" * 5000 + b"</body></html>"
)


@pytest.mark.parametrize(
    ("body", "shown"),
    [
        (NGINX_404, "an HTML page (404 Not Found): is this the URL of a registry?"),
        (WELCOME, "an HTML page (Welcome & hello): is this the URL of a registry?"),
        (b"<html><body></body></html>", "an HTML page: is this the URL of a registry?"),
        (b"\n\n  first   line  \nsecond line\n", "first line"),
        (b"y" * 500, "y" * 117 + "..."),
    ],
)
def test_a_body_that_is_no_registry_error_is_one_short_line(body: bytes, shown: str) -> None:
    error = error_from_response(404, body, context="getting manifest app:1")
    assert str(error) == f"getting manifest app:1: HTTP 404: {shown}"


def test_plain_http_to_an_https_registry_says_which_url() -> None:
    body = b"Client sent an HTTP request to an HTTPS server.\n"
    error = error_from_response(400, body, url="http://127.0.0.1:5000/v2/app/tags/list")
    assert str(error) == (
        "HTTP 400: Client sent an HTTP request to an HTTPS server. Use https://127.0.0.1:5000"
    )


def test_context_prefixes_the_message() -> None:
    error = error_from_response(
        404, _body({"code": "BLOB_UNKNOWN", "message": "blob unknown"}), context="checking blob x"
    )
    assert str(error) == "checking blob x: HTTP 404: BLOB_UNKNOWN: blob unknown"


def test_long_bodies_and_details_are_shortened() -> None:
    error = error_from_response(500, b"x" * 10_000)
    assert len(str(error)) < 300
    error = error_from_response(400, _body({"code": "DENIED", "detail": "d" * 10_000}))
    assert len(str(error)) < 400


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00garbage",
        b"{",
        b"[]",
        b"null",
        b'"errors"',
        b'{"errors": {}}',
        b'{"errors": [1, "x", null]}',
        b'{"errors": [{"message": "no code"}]}',
        b'{"errors": [{"code": 5}]}',
        b'{"details": "token server shape"}',
        b"[" * 100_000,
        b'{"errors":' * 50_000,
    ],
)
def test_bodies_that_are_not_spec_errors(body: bytes) -> None:
    assert parse_error_body(body) == ()
    error = error_from_response(403, body)
    assert type(error) is Denied
    assert error.errors == ()


def test_non_string_message_is_dropped() -> None:
    (entry,) = parse_error_body(_body({"code": "DENIED", "message": 5, "detail": None}))
    assert entry == ErrorDetail("DENIED", "", None)


@given(st.integers(min_value=100, max_value=999), st.binary(max_size=300))
def test_any_answer_becomes_a_registry_error(status: int, body: bytes) -> None:
    error = error_from_response(status, body)
    assert isinstance(error, RegistryError)
    assert error.status == status
    assert str(error)


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=10),
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(st.sampled_from(["code", "message", "detail", "errors", "x"]), children)
    ),
    max_leaves=20,
)


@given(st.integers(min_value=400, max_value=599), _JSON)
def test_any_json_body_becomes_a_registry_error(status: int, document: object) -> None:
    error = error_from_response(status, json.dumps({"errors": [document]}).encode())
    assert isinstance(error, RegistryError)
    assert all(isinstance(e.code, str) for e in error.errors)


@pytest.mark.parametrize(
    "cls",
    [
        ValidationError,
        TarReadError,
        RegistryError,
        RemoteProtocolError,
        DigestMismatch,
        TransportFailure,
        *(cls for _, _, cls in CODES),
        NotFound,
        ServerError,
    ],
)
def test_every_error_is_a_registry_proto_error(cls: type[Exception]) -> None:
    assert issubclass(cls, RegistryProtoError)


def test_every_exported_exception_is_in_the_tree() -> None:
    exported = [getattr(registry_proto, name) for name in registry_proto.__all__]
    exceptions = [obj for obj in exported if isinstance(obj, type) and issubclass(obj, Exception)]
    assert len(exceptions) > 20
    assert all(issubclass(cls, RegistryProtoError) for cls in exceptions)


def test_validation_error_is_also_a_value_error() -> None:
    assert issubclass(ValidationError, ValueError)


def test_not_found_family() -> None:
    for cls in (BlobUnknown, BlobUploadUnknown, ManifestUnknown, NameUnknown):
        assert issubclass(cls, NotFound)
    assert issubclass(Unavailable, ServerError)
    assert issubclass(DigestMismatch, RemoteProtocolError)
