"""The test helpers themselves: the in-memory registry follows docs/protocol.md, and is total; the
pure driver performs effects the way the real drivers do."""

from __future__ import annotations

import gzip
import hashlib
import json
from collections.abc import Generator
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_proto import (
    BytesBody,
    EmptyBody,
    FileSlice,
    Flow,
    Headers,
    ManifestUnknown,
    Request,
    Response,
    ResponseTooLarge,
    TarReadError,
    TransportFailure,
    http,
    parallel,
)
from registry_proto._effects import decompressed, emit, offload, read_file, sleep
from registry_proto._errors import error_from_response
from registry_proto._headers import parse_link_next
from registry_proto._manifest import DOCKER_MANIFEST, OCI_INDEX, OCI_MANIFEST
from registry_proto.testing import FakeRegistry, PureDriver, RoundRobin
from registry_proto.testing._faults import Faults

BASE = "http://registry.test:5000"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def send(
    fake: FakeRegistry,
    method: str,
    url: str,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
) -> Response:
    if not url.startswith("http"):
        url = BASE + url
    return fake.handle(
        Request(
            method=method,
            url=url,
            headers=Headers.of(headers or {}),
            body=BytesBody(body) if body else EmptyBody(),
        )
    )


def error_codes(response: Response) -> list[str]:
    return [e["code"] for e in json.loads(response.body)["errors"]]


def start(fake: FakeRegistry, name: str = "app") -> str:
    response = send(fake, "POST", f"/v2/{name}/blobs/uploads/")
    assert response.status == 202
    location = response.headers.get("Location")
    assert location is not None
    return location


def manifest_for(fake: FakeRegistry, *layers: bytes, name: str = "app") -> bytes:
    config = b'{"rootfs": {"diff_ids": []}}'
    for blob in (config, *layers):
        fake.add_blob(name, blob)
    return json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST,
            "config": {"mediaType": "x", "digest": digest_of(config), "size": len(config)},
            "layers": [{"mediaType": "y", "digest": digest_of(b), "size": len(b)} for b in layers],
        }
    ).encode()


# -- FakeRegistry: the version check and blobs ---------------------------------------------------


def test_version_check() -> None:
    response = send(FakeRegistry(), "GET", "/v2/")
    assert response.status == 200
    assert response.body == b"{}"
    assert response.headers.get("Docker-Distribution-API-Version") == "registry/2.0"


def test_blob_head_get_and_ranges() -> None:
    fake = FakeRegistry()
    digest = fake.add_blob("app", b"0123456789")
    head = send(fake, "HEAD", f"/v2/app/blobs/{digest}")
    assert head.status == 200
    assert head.body == b""
    assert head.headers.get("Content-Length") == "10"
    assert head.headers.get("Docker-Content-Digest") == digest
    assert send(fake, "GET", f"/v2/app/blobs/{digest}").body == b"0123456789"
    ranged = send(fake, "GET", f"/v2/app/blobs/{digest}", headers={"Range": "bytes=4-"})
    assert (ranged.status, ranged.body) == (206, b"456789")
    assert ranged.headers.get("Content-Range") == "bytes 4-9/10"
    past = send(fake, "GET", f"/v2/app/blobs/{digest}", headers={"Range": "bytes=10-"})
    assert past.status == 416
    assert past.headers.get("Content-Range") == "bytes */10"


def test_blobs_exist_per_repository() -> None:
    fake = FakeRegistry()
    digest = fake.add_blob("app", b"x")
    missing = send(fake, "HEAD", f"/v2/other/blobs/{digest}")
    assert (missing.status, missing.body) == (404, b"")
    assert error_codes(send(fake, "GET", f"/v2/other/blobs/{digest}")) == ["BLOB_UNKNOWN"]


def test_malformed_digest_and_unknown_routes() -> None:
    fake = FakeRegistry()
    assert error_codes(send(fake, "GET", "/v2/app/blobs/sha256:abc")) == ["DIGEST_INVALID"]
    assert send(fake, "HEAD", "/v2/app/blobs/sha256:abc").status == 400
    plain = send(fake, "GET", "/v2/app/blobs/notadigest")
    assert (plain.status, plain.body) == (404, b"404 page not found\n")
    assert send(fake, "GET", "/v2/UPPER/tags/list").status == 404
    assert send(fake, "GET", "/elsewhere").status == 404
    not_allowed = send(fake, "HEAD", "/v2/app/tags/list")
    assert not_allowed.status == 405
    assert not_allowed.headers.get("Allow") == "GET"


def test_blob_delete() -> None:
    fake = FakeRegistry()
    digest = fake.add_blob("app", b"x")
    assert send(fake, "DELETE", f"/v2/app/blobs/{digest}").status == 202
    assert error_codes(send(fake, "DELETE", f"/v2/app/blobs/{digest}")) == ["BLOB_UNKNOWN"]
    disabled = FakeRegistry(delete_enabled=False)
    digest = disabled.add_blob("app", b"x")
    assert error_codes(send(disabled, "DELETE", f"/v2/app/blobs/{digest}")) == ["UNSUPPORTED"]


# -- FakeRegistry: uploads (docs/protocol.md §3) -------------------------------------------------


def test_post_opens_a_session_with_an_absolute_location_and_state() -> None:
    fake = FakeRegistry()
    response = send(fake, "POST", "/v2/app/blobs/uploads/")
    assert response.headers.get("Range") == "0-0"
    assert response.headers.get("Docker-Upload-UUID")
    location = response.headers.get("Location") or ""
    assert location.startswith(f"{BASE}/v2/app/blobs/uploads/")
    assert "?_state=" in location
    assert fake.upload_sessions() == 1


def test_relative_locations() -> None:
    location = start(FakeRegistry(relative_urls=True))
    assert location.startswith("/v2/app/blobs/uploads/")


def test_monolithic_put() -> None:
    fake = FakeRegistry()
    location = start(fake)
    digest = digest_of(b"blob")
    done = send(fake, "PUT", f"{location}&digest={quote(digest)}", b"blob")
    assert done.status == 201
    assert done.headers.get("Docker-Content-Digest") == digest
    assert done.headers.get("Location") == f"{BASE}/v2/app/blobs/{digest}"
    assert fake.blobs("app") == {digest: b"blob"}
    assert fake.upload_sessions() == 0


def test_patch_appends_and_rotates_the_state() -> None:
    fake = FakeRegistry()
    first = start(fake)
    answer = send(fake, "PATCH", first, b"abc", {"Content-Range": "0-2"})
    assert answer.status == 202
    assert answer.headers.get("Range") == "0-2"
    second = answer.headers.get("Location") or ""
    assert second != first
    assert urlsplit(second).path == urlsplit(first).path
    # The old Location no longer works (distribution's `_state` records the offset).
    stale = send(fake, "PATCH", first, b"def")
    assert (stale.status, error_codes(stale)) == (404, ["BLOB_UPLOAD_INVALID"])
    third = send(fake, "PATCH", second, b"def").headers.get("Location") or ""
    status = send(fake, "GET", third)
    assert (status.status, status.headers.get("Range")) == (204, "0-5")
    done = send(fake, "PUT", f"{third}&digest={quote(digest_of(b'abcdef'))}")
    assert done.status == 201
    assert fake.blobs("app")[digest_of(b"abcdef")] == b"abcdef"


def test_distribution_does_not_check_content_range() -> None:
    fake = FakeRegistry()
    answer = send(fake, "PATCH", start(fake), b"abcde", {"Content-Range": "100-104"})
    assert (answer.status, answer.headers.get("Range")) == (202, "0-4")


def test_strict_ranges() -> None:
    fake = FakeRegistry(strict_ranges=True)
    location = start(fake)
    refused = send(fake, "PATCH", location, b"abcde", {"Content-Range": "100-104"})
    assert (refused.status, error_codes(refused)) == (416, ["RANGE_INVALID"])
    assert refused.headers.get("Location") == location
    short = send(fake, "PATCH", location, b"abc", {"Content-Range": "0-4"})
    assert error_codes(short) == ["SIZE_INVALID"]
    assert send(fake, "PATCH", location, b"abcde", {"Content-Range": "0-4"}).status == 202


def test_patch_content_type() -> None:
    fake = FakeRegistry()
    answer = send(fake, "PATCH", start(fake), b"a", {"Content-Type": "text/plain"})
    assert (answer.status, error_codes(answer)) == (500, ["UNKNOWN"])


def test_wrong_digest_keeps_the_session_holding_the_bytes() -> None:
    fake = FakeRegistry()
    location = start(fake)
    wrong = send(fake, "PUT", f"{location}&digest={quote(digest_of(b'other'))}", b"blob")
    assert (wrong.status, error_codes(wrong)) == (400, ["DIGEST_INVALID"])
    assert send(fake, "GET", location).headers.get("Range") == "0-3"
    # A retry through the same session fails too: it already holds the bytes.
    retry = send(fake, "PUT", f"{location}&digest={quote(digest_of(b'blob'))}", b"blob")
    assert retry.status == 400
    assert send(fake, "DELETE", location).status == 204
    assert error_codes(send(fake, "GET", location)) == ["BLOB_UPLOAD_UNKNOWN"]
    assert fake.blobs("app") == {}


@pytest.mark.parametrize("query", ["", "&digest=", "&digest=sha256:abc", "&digest=md5:abc"])
def test_missing_or_bad_digest_on_put(query: str) -> None:
    fake = FakeRegistry()
    location = start(fake)
    answer = send(fake, "PUT", location + query, b"blob")
    assert (answer.status, error_codes(answer)) == (400, ["DIGEST_INVALID"])
    assert fake.upload_sessions() == 1


def test_digest_on_post_is_ignored_like_distribution() -> None:
    fake = FakeRegistry()
    answer = send(fake, "POST", f"/v2/app/blobs/uploads/?digest={digest_of(b'x')}", b"x")
    assert answer.status == 202
    assert fake.blobs("app") == {}


def test_other_algorithms_are_stored_under_both_digests() -> None:
    fake = FakeRegistry()
    sha512 = "sha512:" + hashlib.sha512(b"blob").hexdigest()
    done = send(fake, "PUT", f"{start(fake)}&digest={quote(sha512)}", b"blob")
    assert done.headers.get("Docker-Content-Digest") == digest_of(b"blob")
    assert set(fake.blobs("app")) == {sha512, digest_of(b"blob")}


def test_mount() -> None:
    fake = FakeRegistry()
    digest = fake.add_blob("source", b"shared")
    mounted = send(fake, "POST", f"/v2/app/blobs/uploads/?mount={quote(digest)}&from=source")
    assert mounted.status == 201
    assert fake.blobs("app") == {digest: b"shared"}
    missing = send(fake, "POST", f"/v2/app/blobs/uploads/?mount={quote(digest)}&from=nowhere")
    assert missing.status == 202


def test_chunk_min_length() -> None:
    answer = send(FakeRegistry(chunk_min_length=1024), "POST", "/v2/app/blobs/uploads/")
    assert answer.headers.get("OCI-Chunk-Min-Length") == "1024"


def test_unknown_session() -> None:
    answer = send(FakeRegistry(), "PATCH", "/v2/app/blobs/uploads/nope?_state=x", b"a")
    assert (answer.status, error_codes(answer)) == (404, ["BLOB_UPLOAD_UNKNOWN"])


def test_file_slice_bodies_resolve_through_files() -> None:
    fake = FakeRegistry(files={"layer.tar": b"..blob.."})
    location = start(fake)
    request = Request(
        method="PUT",
        url=f"{location}&digest={quote(digest_of(b'blob'))}",
        body=FileSlice("layer.tar", 2, 4),
    )
    assert fake.handle(request).status == 201
    missing = Request(method="PATCH", url=start(fake), body=FileSlice("gone.tar", 0, 4))
    assert fake.handle(missing).status == 400


# -- FakeRegistry: manifests (docs/protocol.md §6) -----------------------------------------------


def test_manifest_put_and_get() -> None:
    fake = FakeRegistry()
    data = manifest_for(fake, b"layer")
    put = send(fake, "PUT", "/v2/app/manifests/1", data, {"Content-Type": OCI_MANIFEST})
    assert put.status == 201
    digest = digest_of(data)
    assert put.headers.get("Docker-Content-Digest") == digest
    assert fake.manifest("app", "1") == (OCI_MANIFEST, data)
    assert fake.manifest("app", digest) == (OCI_MANIFEST, data)
    for reference in ("1", digest):
        got = send(fake, "GET", f"/v2/app/manifests/{reference}", headers={"Accept": OCI_MANIFEST})
        assert (got.status, got.body) == (200, data)
        assert got.headers.get("Content-Type") == OCI_MANIFEST
        assert got.headers.get("Docker-Content-Digest") == digest
    head = send(fake, "HEAD", "/v2/app/manifests/1", headers={"Accept": OCI_MANIFEST})
    assert (head.status, head.body, head.headers.get("Content-Length")) == (
        200,
        b"",
        str(len(data)),
    )


def test_oci_manifests_need_accept() -> None:
    fake = FakeRegistry()
    data = manifest_for(fake)
    send(fake, "PUT", "/v2/app/manifests/1", data, {"Content-Type": OCI_MANIFEST})
    assert error_codes(send(fake, "GET", "/v2/app/manifests/1")) == ["MANIFEST_UNKNOWN"]
    accept = {"Accept": f"{DOCKER_MANIFEST}, {OCI_MANIFEST};q=0.9"}
    assert send(fake, "GET", "/v2/app/manifests/1", headers=accept).status == 200


def test_manifest_blob_unknown_lists_every_missing_blob() -> None:
    fake = FakeRegistry()
    data = manifest_for(fake, b"l1", b"l2")
    fake = FakeRegistry()  # the same document, with none of its blobs
    answer = send(fake, "PUT", "/v2/app/manifests/1", data, {"Content-Type": OCI_MANIFEST})
    assert (answer.status, error_codes(answer)) == (400, ["MANIFEST_BLOB_UNKNOWN"] * 3)
    assert fake.manifest("app", "1") is None


@pytest.mark.parametrize(
    ("content_type", "body", "code"),
    [
        (None, None, "MANIFEST_INVALID"),
        (DOCKER_MANIFEST, None, "MANIFEST_INVALID"),
        (OCI_MANIFEST, b"not json", "MANIFEST_INVALID"),
        (OCI_MANIFEST, b"[" * 100_000, "MANIFEST_INVALID"),
        (OCI_MANIFEST, b'{"schemaVersion": 1}', "MANIFEST_INVALID"),
        (OCI_MANIFEST, b'{"schemaVersion": 2, "config": 5, "layers": []}', "MANIFEST_INVALID"),
        (OCI_MANIFEST, b"x" * (4 * 1024 * 1024 + 1), "MANIFEST_INVALID"),
    ],
)
def test_manifest_put_refusals(content_type: str | None, body: bytes | None, code: str) -> None:
    fake = FakeRegistry()
    data = body if body is not None else manifest_for(fake)
    headers = {"Content-Type": content_type} if content_type else {}
    answer = send(fake, "PUT", "/v2/app/manifests/1", data, headers)
    assert (answer.status, error_codes(answer)) == (400, [code])


def test_manifest_put_by_wrong_digest() -> None:
    fake = FakeRegistry()
    data = manifest_for(fake)
    url = f"/v2/app/manifests/{digest_of(b'other')}"
    answer = send(fake, "PUT", url, data, {"Content-Type": OCI_MANIFEST})
    assert error_codes(answer) == ["DIGEST_INVALID"]


def test_index_needs_its_children() -> None:
    fake = FakeRegistry()
    child = manifest_for(fake)
    index = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": OCI_INDEX,
            "manifests": [
                {"mediaType": OCI_MANIFEST, "digest": digest_of(child), "size": len(child)}
            ],
        }
    ).encode()
    refused = send(fake, "PUT", "/v2/app/manifests/multi", index, {"Content-Type": OCI_INDEX})
    assert error_codes(refused) == ["MANIFEST_BLOB_UNKNOWN"]
    child_url = f"/v2/app/manifests/{digest_of(child)}"
    assert send(fake, "PUT", child_url, child, {"Content-Type": OCI_MANIFEST}).status == 201
    assert fake.tags("app") == {}  # a push by digest creates no tag
    accepted = send(fake, "PUT", "/v2/app/manifests/multi", index, {"Content-Type": OCI_INDEX})
    assert accepted.status == 201


def test_manifest_delete() -> None:
    fake = FakeRegistry()
    data = manifest_for(fake)
    for tag in ("a", "b"):
        send(fake, "PUT", f"/v2/app/manifests/{tag}", data, {"Content-Type": OCI_MANIFEST})
    by_tag = send(fake, "DELETE", "/v2/app/manifests/a")
    assert (by_tag.status, error_codes(by_tag)) == (400, ["DIGEST_INVALID"])
    assert send(fake, "DELETE", f"/v2/app/manifests/{digest_of(data)}").status == 202
    assert fake.tags("app") == {}
    listed = send(fake, "GET", "/v2/app/tags/list")
    assert json.loads(listed.body) == {"name": "app", "tags": None}
    disabled = FakeRegistry(delete_enabled=False)
    answer = send(disabled, "DELETE", f"/v2/app/manifests/{digest_of(data)}")
    assert (answer.status, error_codes(answer)) == (405, ["UNSUPPORTED"])


# -- FakeRegistry: listing (docs/protocol.md §7) -------------------------------------------------


def walk(fake: FakeRegistry, url: str, field: str) -> tuple[list[str], int]:
    """Follow `Link` headers; every name seen, and how many requests it took."""
    names: list[str] = []
    requests = 0
    next_url: str | None = BASE + url
    while next_url is not None:
        answer = send(fake, "GET", next_url)
        requests += 1
        assert answer.status == 200
        names += json.loads(answer.body)[field] or []
        next_url = parse_link_next(answer.headers.get_all("Link"), next_url)
    return names, requests


@settings(max_examples=50)
@given(
    st.sets(st.from_regex(r"[a-z]{1,3}(/[a-z]{1,3})?", fullmatch=True), max_size=25),
    st.integers(min_value=1, max_value=10),
)
def test_catalog_pages_list_every_repository_once(repositories: set[str], page: int) -> None:
    fake = FakeRegistry()
    for name in repositories:
        fake.add_blob(name, b"x")
    names, requests = walk(fake, f"/v2/_catalog?n={page}", "repositories")
    assert sorted(names) == sorted(repositories)
    assert len(names) == len(set(names))
    # distribution links on from every full page, so an exact multiple ends with an empty one.
    assert requests == len(repositories) // page + 1


def test_catalog_link_is_relative_like_distribution() -> None:
    fake = FakeRegistry()
    for name in ("test/a", "test/b"):
        fake.add_blob(name, b"x")
    answer = send(fake, "GET", "/v2/_catalog?n=1")
    assert answer.headers.get("Link") == '</v2/_catalog?last=test%2Fa&n=1>; rel="next"'


def test_catalog_limits() -> None:
    fake = FakeRegistry(catalog_default_page=2, catalog_max_entries=5)
    for name in "abc":
        fake.add_blob(name, b"x")
    assert json.loads(send(fake, "GET", "/v2/_catalog").body) == {"repositories": ["a", "b"]}
    assert json.loads(send(fake, "GET", "/v2/_catalog?n=x").body) == {"repositories": ["a", "b"]}
    zero = send(fake, "GET", "/v2/_catalog?n=0")
    assert (json.loads(zero.body), zero.headers.get("Link")) == ({"repositories": []}, None)
    assert error_codes(send(fake, "GET", "/v2/_catalog?n=6")) == ["PAGINATION_NUMBER_INVALID"]


@settings(max_examples=50)
@given(st.sets(st.from_regex(r"[a-z0-9]{1,4}", fullmatch=True), min_size=1, max_size=20))
def test_tags_pages(tags: set[str]) -> None:
    fake = FakeRegistry()
    for tag in tags:
        fake.add_manifest("app", OCI_MANIFEST, b"{}", tag=tag)
    names, requests = walk(fake, "/v2/app/tags/list?n=3", "tags")
    assert names == sorted(tags)
    assert requests == (len(tags) + 2) // 3


def test_tags_without_pagination_like_distribution() -> None:
    fake = FakeRegistry(paginate_tags=False)
    for tag in ("b", "a", "c"):
        fake.add_manifest("app", OCI_MANIFEST, b"{}", tag=tag)
    answer = send(fake, "GET", "/v2/app/tags/list?n=1")
    assert json.loads(answer.body)["tags"] == ["b", "a", "c"]
    assert answer.headers.get("Link") is None


def test_tags_of_an_unknown_repository() -> None:
    answer = send(FakeRegistry(), "GET", "/v2/nothing/tags/list")
    assert (answer.status, error_codes(answer)) == (404, ["NAME_UNKNOWN"])


# -- FakeRegistry: fault injection and totality --------------------------------------------------


def test_fail_next_matches_method_and_path_and_skips() -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    faults.fail_next(503, method="GET", path_contains="/v2/", skip=1, times=2)
    statuses = [send(fake, "GET", "/v2/").status for _ in range(4)]
    assert statuses == [200, 503, 503, 200]
    assert error_codes(fake.exchanges[1][1]) == ["UNAVAILABLE"]
    faults.fail_next(429, headers={"Retry-After": "3"})
    limited = send(fake, "HEAD", "/v2/")
    assert (limited.status, limited.headers.get("Retry-After")) == (429, "3")


def test_on_request_hook() -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    faults.on_request = lambda r: Response(status=418) if r.method == "POST" else None
    assert send(fake, "POST", "/v2/app/blobs/uploads/").status == 418
    assert send(fake, "GET", "/v2/").status == 200


_PIECES = st.sampled_from(
    [
        *("/v2/", "_catalog", "app", "a/b", "/blobs/", "uploads/", "/manifests/", "/tags/list"),
        *("sha256:" + "0" * 64, "sha256:abc", "latest", "%zz", "..", "?", "&", "_state=", "#"),
        *("digest=", "last=", "n=", "mount=", "from=", "[", "]", ":99999", "\udcff", "UPPER", " "),
    ]
)
_URLS = st.one_of(
    st.lists(_PIECES, max_size=10).map(lambda parts: BASE + "".join(parts)),
    st.text(max_size=40),
)
_REQUESTS = st.builds(
    lambda method, url, headers, body: Request(
        method=method, url=url, headers=Headers.of(headers), body=body
    ),
    st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "get", ""]),
    _URLS,
    st.dictionaries(
        st.sampled_from(["Content-Type", "Range", "Content-Range", "Accept", "X"]),
        st.sampled_from(["", "bytes=0-", "0-0", "5-1", OCI_MANIFEST, "a;b", "x"]) | st.text(),
        max_size=3,
    ),
    st.one_of(
        st.just(EmptyBody()),
        st.binary(max_size=50).map(BytesBody),
        st.builds(FileSlice, st.sampled_from(["f", "g"]), st.integers(0, 9), st.integers(0, 9)),
    ),
)


@settings(max_examples=300)
@given(st.lists(_REQUESTS, min_size=1, max_size=8), st.data())
def test_the_fake_is_total(requests: list[Request], data: st.DataObject) -> None:
    fake = FakeRegistry(files={"f": b"0123456789"})
    location = start(fake)
    for request in requests:
        if data.draw(st.booleans()):
            # Aim some requests at a live session, with the path or query bent.
            suffix = data.draw(st.sampled_from(["", "x", "&digest=sha256:1", "&_state=z", "/.."]))
            request = Request(
                method=request.method,
                url=location + suffix,
                headers=request.headers,
                body=request.body,
            )
        response = fake.handle(request)
        assert 200 <= response.status < 600
        assert response.headers.get("Docker-Distribution-API-Version") == "registry/2.0"
        if response.status >= 400 and request.method != "HEAD" and response.body[:1] == b"{":
            assert json.loads(response.body)["errors"]
        new_location = response.headers.get("Location")
        if response.status == 202 and new_location:
            location = new_location


# -- PureDriver ----------------------------------------------------------------------------------


def _effects_flow(log: list[str]) -> Generator[Any, Any, tuple[bytes, int]]:
    try:
        yield from sleep(1.5)
        yield from sleep(0.5)
        yield from emit("hello")
        data = yield from read_file("f", 2, 3)
        length = yield from offload(len, b"four")
        return data, length
    finally:
        log.append("closed")


def test_leaf_effects() -> None:
    log: list[str] = []
    driver = PureDriver(FakeRegistry().handle, files={"f": b"0123456789"})
    assert driver.run(_effects_flow(log)) == (b"234", 4)
    assert driver.sleeps == [1.5, 0.5]
    assert driver.slept == 2.0
    assert driver.events == ["hello"]
    assert log == ["closed"]


def test_read_file_of_a_missing_path_raises_tar_read_error_into_the_flow() -> None:
    def flow() -> Flow[str]:
        try:
            yield from read_file("missing", 0, 10)
        except TarReadError as exc:
            return str(exc)
        return "read"

    assert "missing" in PureDriver(FakeRegistry().handle).run(flow())


def test_decompress() -> None:
    def flow() -> Flow[bytes]:
        path = yield from decompressed("a.gz", "gzip")
        return (yield from read_file(path, 0, 100))

    driver = PureDriver(FakeRegistry().handle, files={"a.gz": gzip.compress(b"plain")})
    assert driver.run(flow()) == b"plain"
    bad = PureDriver(FakeRegistry().handle, files={"a.gz": b"\x1f\x8bgarbage"})
    with pytest.raises(TarReadError, match="gzip"):
        bad.run(flow())


def test_received_at_comes_from_a_fake_clock() -> None:
    def flow() -> Flow[list[float]]:
        first = yield from http(Request(method="GET", url=f"{BASE}/v2/"))
        yield from sleep(10)
        second = yield from http(Request(method="GET", url=f"{BASE}/v2/"))
        return [first.received_at, second.received_at]

    first, second = PureDriver(FakeRegistry().handle, tick=1.0).run(flow())
    assert (first, second) == (1.0, 12.0)


def test_response_body_options() -> None:
    def flow() -> Flow[bytes]:
        discarded = yield from http(
            Request(method="GET", url=f"{BASE}/v2/", response_body="discard")
        )
        assert discarded.body == b""
        yield from http(Request(method="GET", url=f"{BASE}/v2/", max_response_bytes=1))
        return b"unreachable"

    with pytest.raises(ResponseTooLarge, match="larger than 1 bytes"):
        PureDriver(FakeRegistry().handle).run(flow())


def test_file_slice_bodies_are_read_by_the_driver() -> None:
    seen: list[Request] = []

    def handler(request: Request) -> Response:
        seen.append(request)
        return Response(status=200)

    def flow(path: str) -> Flow[int]:
        body = FileSlice(path, 1, 3)
        response = yield from http(Request(method="PUT", url=f"{BASE}/x", body=body))
        return response.status

    driver = PureDriver(handler, files={"f": b"abcdef"})
    assert driver.run(flow("f")) == 200
    assert seen[0].body == BytesBody(b"bcd")
    assert driver.requests[0].body == FileSlice("f", 1, 3)
    with pytest.raises(TarReadError):
        driver.run(flow("missing"))


def _child(name: str, steps: int, log: list[str]) -> Flow[str]:
    try:
        for step in range(steps):
            yield from emit(f"{name}{step}")
    finally:
        log.append(f"{name} closed")
    return name


def test_parallel_round_robin_interleaves_one_effect_at_a_time() -> None:
    log: list[str] = []

    def flow() -> Flow[list[str]]:
        children = [_child(n, 2, log) for n in "abc"]
        return (yield from parallel(children, limit=3))

    driver = PureDriver(FakeRegistry().handle)
    assert driver.run(flow()) == ["a", "b", "c"]
    assert driver.events == ["a0", "b0", "c0", "a1", "b1", "c1"]
    assert driver.max_active == 3


def test_round_robin() -> None:
    scheduler = RoundRobin()
    assert [scheduler(3) for _ in range(5)] == [0, 1, 2, 0, 1]


def test_parallel_limit() -> None:
    def flow() -> Flow[list[str]]:
        return (yield from parallel([_child(n, 2, []) for n in "abcd"], limit=2))

    driver = PureDriver(FakeRegistry().handle)
    assert driver.run(flow()) == ["a", "b", "c", "d"]
    assert driver.max_active == 2
    assert driver.events.index("c0") > driver.events.index("a1")


@settings(max_examples=100)
@given(st.data(), st.integers(min_value=1, max_value=4))
def test_parallel_results_keep_input_order_under_any_schedule(
    data: st.DataObject, limit: int
) -> None:
    def flow() -> Flow[list[str]]:
        children = [_child(n, steps, []) for n, steps in zip("abcde", [3, 0, 2, 5, 1], strict=True)]
        return (yield from parallel(children, limit=limit))

    driver = PureDriver(FakeRegistry().handle, scheduler=lambda n: data.draw(st.integers(0, n - 1)))
    assert driver.run(flow()) == list("abcde")
    assert sorted(map(str, driver.events)) == sorted(
        f"{n}{i}" for n, steps in zip("abcde", [3, 0, 2, 5, 1], strict=True) for i in range(steps)
    )
    assert driver.max_active <= limit


def test_nested_parallel() -> None:
    def inner(prefix: str) -> Flow[list[str]]:
        return (yield from parallel([_child(prefix + n, 1, []) for n in "xy"], limit=2))

    def flow() -> Flow[list[list[str]]]:
        return (yield from parallel([inner("a"), inner("b")], limit=2))

    assert PureDriver(FakeRegistry().handle).run(flow()) == [["ax", "ay"], ["bx", "by"]]


def test_failing_child_closes_the_others_and_surfaces_its_own_error() -> None:
    log: list[str] = []

    def failing() -> Flow[str]:
        yield from emit("about to fail")
        response = yield from http(Request(method="GET", url=f"{BASE}/v2/app/manifests/nope"))
        raise error_from_response(response.status, response.body)

    def flow() -> Flow[ManifestUnknown | None]:
        try:
            yield from parallel([_child("slow", 10, log), failing()], limit=2)
        except ManifestUnknown as exc:
            return exc
        return None

    caught = PureDriver(FakeRegistry().handle).run(flow())
    assert isinstance(caught, ManifestUnknown)
    assert caught.code == "MANIFEST_UNKNOWN"
    assert isinstance(caught.__cause__, ExceptionGroup)
    assert caught.__cause__.exceptions == (caught,)
    assert log == ["slow closed"]


def test_handler_exceptions_are_thrown_into_the_flow() -> None:
    def handler(request: Request) -> Response:
        raise TransportFailure("reset")

    def flow() -> Flow[str]:
        try:
            yield from http(Request(method="GET", url=f"{BASE}/v2/"))
        except TransportFailure as exc:
            return str(exc)
        return "answered"

    assert PureDriver(handler).run(flow()) == "reset"


def test_the_flow_is_closed_when_run_is_interrupted() -> None:
    log: list[str] = []

    def handler(request: Request) -> Response:
        raise KeyboardInterrupt

    def flow() -> Flow[None]:
        try:
            # The child starts first (round-robin), then the request interrupts everything.
            yield from parallel(
                [_child("c", 3, log), http(Request(method="GET", url=f"{BASE}/v2/"))], limit=2
            )
        finally:
            log.append("parent closed")

    with pytest.raises(KeyboardInterrupt):
        PureDriver(handler).run(flow())
    assert log == ["c closed", "parent closed"]


def test_scheduler_out_of_range() -> None:
    def flow() -> Flow[list[str]]:
        return (yield from parallel([_child("a", 1, []), _child("b", 1, [])], limit=2))

    with pytest.raises(ValueError, match="scheduler chose 5"):
        PureDriver(FakeRegistry().handle, scheduler=lambda n: 5).run(flow())
