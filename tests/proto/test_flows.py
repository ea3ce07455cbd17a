"""Push flows end to end against the in-memory registry, with no I/O
(docs/protocol.md §3, §6, §10.9)."""

from __future__ import annotations

import itertools
import json
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_proto import (
    DigestInvalid,
    Headers,
    Request,
    Response,
    ServerError,
    TransportFailure,
    ValidationError,
)
from registry_proto.operations import (
    check_registry_connectivity,
    push_docker_tar,
    push_docker_tar_with_all_original_tags,
    push_docker_tar_with_original_tags,
)
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import (
    PLAIN,
    REGISTRY,
    fixture_files,
    fixture_path,
    make_image_archive,
    sha256,
)

TWO_IMAGES = "e-docker-save-two-images-symlinked-layer.tar"
TWO_LAYERS = "a-legacy-docker-save-2layers.tar"


def push(
    name: str,
    fake: FakeRegistry | None = None,
    *,
    driver: PureDriver | None = None,
    repository: str = "app",
    tag: str = "1",
    **options: Any,
) -> tuple[str, FakeRegistry, PureDriver]:
    fake = fake if fake is not None else FakeRegistry()
    driver = driver if driver is not None else PureDriver(fake.handle, files=fixture_files(name))
    if len(PLAIN.get(name, [])) > 1:
        options.setdefault("source", PLAIN[name][0].repo_tags[0])
    flow = push_docker_tar(fixture_path(name), REGISTRY, repository, tag, **options)
    return driver.run(flow), fake, driver


def assert_stored(fake: FakeRegistry, repository: str, tag: str, digest: str) -> dict[str, Any]:
    """The tag points at `digest`, and every blob its manifest names is stored intact."""
    stored = fake.manifest(repository, tag)
    assert stored is not None
    media_type, data = stored
    assert sha256(data) == digest
    assert fake.tags(repository)[tag] == digest
    document: dict[str, Any] = json.loads(data)
    assert document["mediaType"] == media_type
    blobs = fake.blobs(repository)
    for descriptor in [document["config"], *document["layers"]]:
        blob = blobs[descriptor["digest"]]
        assert sha256(blob) == descriptor["digest"]
        assert len(blob) == descriptor["size"]
    assert fake.upload_sessions() == 0
    return document


def is_blob_upload(request: Request) -> bool:
    return "/blobs/uploads/" in request.url and request.method in ("POST", "PATCH", "PUT")


@pytest.mark.parametrize("name", PLAIN)
def test_push_every_fixture(name: str) -> None:
    digest, fake, driver = push(name)
    document = assert_stored(fake, "app", "1", digest)
    last = fake.requests[-1]
    assert (last.method, urlsplit(last.url).path) == ("PUT", "/v2/app/manifests/1")
    data = fixture_files(name)[fixture_path(name)]
    image = PLAIN[name][0]
    assert len(document["layers"]) == image.layers
    # The layers stored are the archive's bytes, untouched.
    for descriptor in document["layers"]:
        assert fake.blobs("app")[descriptor["digest"]] in data
    assert driver.slept == 0


def test_second_push_only_checks_blobs() -> None:
    fake = FakeRegistry()
    digest, _, _ = push(TWO_LAYERS, fake)
    first = len(fake.requests)
    again, _, _ = push(TWO_LAYERS, fake)
    assert again == digest
    second = fake.requests[first:]
    assert not [r for r in second if is_blob_upload(r)]
    blob_requests = [r for r in second if "/blobs/" in r.url]
    assert blob_requests
    assert {r.method for r in blob_requests} == {"HEAD"}
    assert (second[-1].method, urlsplit(second[-1].url).path) == ("PUT", "/v2/app/manifests/1")


@settings(max_examples=100)
@given(st.data(), st.integers(min_value=1, max_value=4), st.sampled_from([None, 4096, 50_000]))
def test_any_interleaving_pushes_correctly(
    data: st.DataObject, limit: int, chunk_size: int | None
) -> None:
    fake = FakeRegistry()
    driver = PureDriver(
        fake.handle,
        files=fixture_files("e-skopeo-docker-archive-untagged.tar"),
        scheduler=lambda active: data.draw(st.integers(0, active - 1), label="next child"),
    )
    digest, _, _ = push(
        "e-skopeo-docker-archive-untagged.tar",
        fake,
        driver=driver,
        max_concurrency=limit,
        chunk_size=chunk_size,
    )
    assert_stored(fake, "app", "1", digest)
    manifest_puts = [i for i, r in enumerate(fake.requests) if "/manifests/" in r.url]
    assert manifest_puts == [len(fake.requests) - 1]
    assert driver.max_active <= limit


def test_chunked_upload_always_uses_the_newest_location() -> None:
    digest, fake, _ = push(TWO_LAYERS, chunk_size=1000)
    assert_stored(fake, "app", "1", digest)
    # Each session's exchanges, keyed by its path (the POST answer's Location names it).
    sessions: dict[str, list[tuple[Request, Response]]] = {}
    for request, response in fake.exchanges:
        if "/blobs/uploads/" not in request.url:
            continue
        url = response.headers.get("Location") if request.method == "POST" else request.url
        sessions.setdefault(urlsplit(url or "").path, []).append((request, response))
    longest = max(len(exchanges) for exchanges in sessions.values())
    assert longest > 3  # POST, several PATCH, PUT
    for exchanges in sessions.values():
        for (_, answer), (following, _) in itertools.pairwise(exchanges):
            newest = answer.headers.get("Location")
            assert following.url.split("&digest=")[0] == newest


def test_chunked_upload_on_a_registry_that_checks_ranges() -> None:
    digest, fake, _ = push(TWO_LAYERS, FakeRegistry(strict_ranges=True), chunk_size=3000)
    assert_stored(fake, "app", "1", digest)


def test_compressed_push() -> None:
    digest, fake, _ = push(TWO_LAYERS, compression="gzip")
    document = assert_stored(fake, "app", "1", digest)
    assert {d["mediaType"] for d in document["layers"]} == {
        "application/vnd.oci.image.layer.v1.tar+gzip"
    }


def test_upload_put_keeps_the_state_query_and_adds_the_digest() -> None:
    _, fake, _ = push("a-legacy-docker-save-almostempty.tar")
    started = [resp for req, resp in fake.exchanges if req.method == "POST"]
    puts = [req for req in fake.requests if req.method == "PUT" and "/blobs/uploads/" in req.url]
    assert len(started) == len(puts) == 2
    locations = {resp.headers.get("Location") for resp in started}
    for put in puts:
        location, _, added = put.url.rpartition("&")
        assert location in locations
        assert "?_state=" in location
        digest = dict(parse_qsl(urlsplit(put.url).query))["digest"]
        assert added == f"digest={quote(digest, safe='')}"


def test_blob_that_does_not_match_its_digest() -> None:
    wrong = sha256(b"something else")
    archive = make_image_archive([b"real layer bytes"], diff_ids=[wrong])
    fake = FakeRegistry()
    driver = PureDriver(fake.handle, files={"bad.tar": archive})
    with pytest.raises(DigestInvalid, match=wrong) as caught:
        driver.run(push_docker_tar("bad.tar", REGISTRY, "app", "1"))
    assert caught.value.status == 400
    deletes = [r for r in fake.requests if r.method == "DELETE"]
    assert len(deletes) == 1
    assert "/blobs/uploads/" in deletes[0].url
    assert fake.upload_sessions() == 0
    assert fake.manifest("app", "1") is None
    assert not [r for r in fake.requests if "/manifests/" in r.url]


def test_server_error_on_a_blob_upload_leaves_no_manifest() -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    faults.fail_next(500, method="PUT", path_contains="/blobs/uploads/")
    with pytest.raises(ServerError) as caught:
        push(TWO_LAYERS, fake)
    assert caught.value.status == 500
    assert fake.manifest("app", "1") is None
    assert not [r for r in fake.requests if "/manifests/" in r.url]


def test_failure_stops_the_other_uploads() -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    faults.fail_next(500, method="POST")
    with pytest.raises(ServerError):
        push(TWO_LAYERS, fake, max_concurrency=1)
    # With one upload at a time, the failing first one means the others never start.
    assert len([r for r in fake.requests if r.method == "POST"]) == 1


def test_push_with_original_tags_on_a_two_image_archive() -> None:
    fake = FakeRegistry()
    driver = PureDriver(fake.handle, files=fixture_files(TWO_IMAGES))
    digest = driver.run(push_docker_tar_with_original_tags(fixture_path(TWO_IMAGES), REGISTRY))
    document = assert_stored(fake, "bazel/v1/tarball", "test_image_1", digest)
    assert len(document["layers"]) == 1
    assert fake.tags("bazel/v1/tarball") == {"test_image_1": digest}


def test_push_with_all_original_tags_on_a_two_image_archive() -> None:
    fake = FakeRegistry()
    driver = PureDriver(fake.handle, files=fixture_files(TWO_IMAGES))
    results = driver.run(push_docker_tar_with_all_original_tags(fixture_path(TWO_IMAGES), REGISTRY))
    assert [(r.repository, r.tag) for r in results] == [
        ("bazel/v1/tarball", "test_image_1"),
        ("bazel/v1/tarball", "test_image_3"),
    ]
    assert results[0].digest != results[1].digest
    layer_counts = [
        len(assert_stored(fake, r.repository, r.tag, r.digest)["layers"]) for r in results
    ]
    assert layer_counts == [1, 2]


def test_untagged_archive_cannot_be_pushed_under_its_original_tag() -> None:
    name = "e-skopeo-docker-archive-untagged.tar"
    driver = PureDriver(FakeRegistry().handle, files=fixture_files(name))
    with pytest.raises(ValidationError, match="records no tag"):
        driver.run(push_docker_tar_with_original_tags(fixture_path(name), REGISTRY))


def test_two_image_archive_needs_a_source() -> None:
    driver = PureDriver(FakeRegistry().handle, files=fixture_files(TWO_IMAGES))
    with pytest.raises(ValidationError, match="source"):
        driver.run(push_docker_tar(fixture_path(TWO_IMAGES), REGISTRY, "app", "1"))


@pytest.mark.parametrize(
    ("args", "options"),
    [
        (("x.tar", REGISTRY, "UPPER", "1"), {}),
        (("x.tar", REGISTRY, "app", "-bad"), {}),
        (("x.tar", "ftp://r", "app", "1"), {}),
        (("", REGISTRY, "app", "1"), {}),
        (("x.tar", REGISTRY, "app", "1"), {"max_concurrency": 0}),
        (("x.tar", REGISTRY, "app", "1"), {"max_concurrency": True}),
        (("x.tar", REGISTRY, "app", "1"), {"compression": "lz4"}),
    ],
)
def test_arguments_are_checked_before_anything_runs(
    args: tuple[str, str, str, str], options: dict[str, Any]
) -> None:
    with pytest.raises(ValidationError):
        push_docker_tar(*args, **options)


# -- connectivity --------------------------------------------------------------------------------


def test_connectivity_to_a_registry() -> None:
    fake = FakeRegistry()
    assert PureDriver(fake.handle).run(check_registry_connectivity(REGISTRY)) is True
    assert [(r.method, r.url) for r in fake.requests] == [("GET", f"{REGISTRY}/v2/")]


def test_connectivity_to_a_registry_that_wants_a_login() -> None:
    def handler(request: Request) -> Response:
        challenge = 'Bearer realm="https://auth.example/token",service="registry"'
        return Response(status=401, headers=Headers.of({"WWW-Authenticate": challenge}))

    assert PureDriver(handler).run(check_registry_connectivity(REGISTRY)) is True


def test_no_connectivity_when_the_transport_fails() -> None:
    def handler(request: Request) -> Response:
        raise TransportFailure("connection refused")

    assert PureDriver(handler).run(check_registry_connectivity(REGISTRY)) is False


@pytest.mark.parametrize(
    "response",
    [
        Response(status=404, body=b"404 page not found\n"),
        Response(status=200 + 300, body=b"<html>oops</html>"),
        Response(status=301, headers=Headers.of({"Location": "https://elsewhere/"})),
    ],
)
def test_no_connectivity_to_something_else(response: Response) -> None:
    assert PureDriver(lambda request: response).run(check_registry_connectivity(REGISTRY)) is False


def test_connectivity_refuses_a_malformed_url() -> None:
    with pytest.raises(ValidationError):
        check_registry_connectivity("http://user:pw@registry")
