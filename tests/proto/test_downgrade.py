"""No URL the registry sends takes a request from https to plain http: blob redirects, upload
`Location`s, pagination `Link`s, whatever the case of the scheme (RFC 3986 §3.1: schemes are
case-insensitive)."""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

import pytest

from registry_proto import Headers, RemoteProtocolError, Request, Response
from registry_proto import operations as ops
from registry_proto._headers import parse_link_next, resolve_location
from registry_proto.testing import FakeRegistry, PureDriver
from registry_proto.testing._faults import Faults
from tests.proto.pure_support import make_image_archive

HTTPS_REGISTRY = "https://registry.test"
BASE = f"{HTTPS_REGISTRY}/v2/app/blobs/uploads/"
PLAIN_TARGETS = ["http://registry.test/x", "HTTP://registry.test/x", "Http://elsewhere.test/x"]
ARCHIVE = "image.tar"
FILES = {ARCHIVE: make_image_archive([b"layer " * 100], repo_tags=["app:1"])}


@pytest.mark.parametrize("target", PLAIN_TARGETS)
def test_locations_leaving_https_are_refused(target: str) -> None:
    with pytest.raises(RemoteProtocolError, match="https to http"):
        resolve_location(BASE, target)


@pytest.mark.parametrize("target", PLAIN_TARGETS)
def test_links_leaving_https_are_refused(target: str) -> None:
    with pytest.raises(RemoteProtocolError, match="https to http"):
        parse_link_next(f'<{target}>; rel="next"', f"{HTTPS_REGISTRY}/v2/_catalog")


def test_https_targets_are_kept_with_the_scheme_in_lower_case() -> None:
    assert resolve_location(BASE, "HTTPS://other.test/x") == "https://other.test/x"
    relative = resolve_location(BASE, "/v2/app/blobs/uploads/1?_state=s")
    assert relative == f"{HTTPS_REGISTRY}/v2/app/blobs/uploads/1?_state=s"


def test_plain_http_registries_may_point_anywhere() -> None:
    assert resolve_location("http://registry.test/v2/", "HTTP://other/x") == "http://other/x"
    assert resolve_location("http://registry.test/v2/", "https://other/x") == "https://other/x"


def _downgrading(fake: FakeRegistry, faults: Faults, method: str, marker: str) -> None:
    """Rewrite the `Location` of answers to `method` requests whose URL holds `marker` to
    plain http (upper case), as a hostile or misconfigured registry would."""

    def rewrite(request: Request) -> Response | None:
        if request.method != method or marker not in request.url:
            return None
        faults.on_request = None
        answer = fake.handle(request)
        faults.on_request = rewrite
        location = answer.headers.get("Location")
        if location is None:
            return answer
        plain = "HTTP://" + location.partition("://")[2]
        return dataclasses.replace(answer, headers=answer.headers.with_("Location", plain))

    faults.on_request = rewrite


def _plain_requests(driver: PureDriver) -> list[Request]:
    return [r for r in driver.requests if urlsplit(r.url).scheme.lower() != "https"]


@pytest.mark.parametrize(
    ("method", "marker", "chunk_size"),
    [("POST", "/blobs/uploads/", None), ("PATCH", "/blobs/uploads/", 200)],
    ids=["session location", "chunk location"],
)
def test_uploads_never_follow_a_location_to_http(
    method: str, marker: str, chunk_size: int | None
) -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    _downgrading(fake, faults, method, marker)
    driver = PureDriver(fake.handle, files=FILES)

    with pytest.raises(RemoteProtocolError, match="https to http"):
        driver.run(ops.push_docker_tar(ARCHIVE, HTTPS_REGISTRY, "app", "1", chunk_size=chunk_size))

    assert _plain_requests(driver) == []
    assert fake.manifest("app", "1") is None


def test_blob_redirects_to_upper_case_http_are_refused() -> None:
    faults = Faults()
    fake = FakeRegistry(files=FILES, faults=faults)
    PureDriver(fake.handle, files=FILES).run(
        ops.push_docker_tar(ARCHIVE, HTTPS_REGISTRY, "app", "1")
    )

    def redirect(request: Request) -> Response | None:
        if request.method == "GET" and "/blobs/sha256:" in request.url:
            target = "HTTP://storage.test/bucket/blob?signature=abc"
            return Response(status=307, headers=Headers.of({"Location": target}))
        return None

    faults.on_request = redirect
    driver = PureDriver(fake.handle)
    with pytest.raises(RemoteProtocolError, match="https to http") as caught:
        driver.run(ops.get_image_info(HTTPS_REGISTRY, "app", "1"))
    assert _plain_requests(driver) == []
    assert "signature" not in str(caught.value)


def test_listings_never_follow_a_link_to_http() -> None:
    faults = Faults()
    fake = FakeRegistry(faults=faults)
    for number in range(3):
        fake.add_blob(f"repo{number}", b"x")

    def link_to_http(request: Request) -> Response | None:
        if "/_catalog" in request.url:
            faults.on_request = None
            answer = fake.handle(request)
            faults.on_request = link_to_http
            link = '<HTTP://registry.test/v2/_catalog?last=repo0&n=1>; rel="next"'
            return dataclasses.replace(answer, headers=answer.headers.with_("Link", link))
        return None

    faults.on_request = link_to_http
    driver = PureDriver(fake.handle)
    with pytest.raises(RemoteProtocolError, match="https to http"):
        driver.run(ops.list_repositories(HTTPS_REGISTRY, page_size=1))
    assert _plain_requests(driver) == []
