"""The error contract: whatever the registry answers, a flow ends in a result or a
`RegistryProtoError`, never any other exception.

Purely random answers rarely get past the first request, so each case starts from the valid
traffic of the in-memory registry and perturbs ONE field of ONE answer: its status, one header
(removed or garbled) or its body. Or the transport fails on that request.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from registry_proto import Flow, Headers, RegistryProtoError, Request, Response, TransportFailure
from registry_proto.operations import (
    check_registry_connectivity,
    delete_image,
    get_image_info,
    list_repositories,
    list_tags,
    push_docker_tar,
    push_docker_tar_with_all_original_tags,
)
from registry_proto.testing import FakeRegistry, PureDriver
from tests.proto.pure_support import REGISTRY, fixture_files, fixture_path

_MAX_REQUESTS = 5_000

STATUSES = (
    st.sampled_from(
        [100, 200, 201, 202, 204, 206, 301, 302, 307, 308, 400, 401, 403, 404, 405, 409, 413]
    )
    | st.sampled_from([416, 429, 500, 502, 503])
    | st.integers(min_value=0, max_value=999)
)

GARBAGE_VALUES = st.sampled_from(
    [
        "",
        " ",
        "0-",
        "-1",
        "0--1",
        "bytes=",
        "5-3",
        "0-99999999999999999999999999",
        "²",
        "٣",
        "http://[::1",
        "http://host:99999/x",
        "ftp://elsewhere/x",
        "//",
        "?",
        "#",
        "/v2/../../etc",
        "sha256:zz",
        "sha256:" + "0" * 64,
        'Bearer realm="',
        'Bearer realm="https://auth/token",scope="x"',
        "\x00",
        "\udcff",
        "<http://[::1>; rel=next",
    ]
) | st.text(max_size=40)

BODIES = st.sampled_from(
    [
        b"",
        b"{}",
        b"null",
        b"[]",
        b"[" * 50_000,
        b'{"errors": [{"code": "BLOB_UNKNOWN"}]}',
        b'{"errors": [{"code": "DIGEST_INVALID", "detail": {"a": [1, 2]}}]}',
        b'{"errors": "x"}',
        b"\xff\xfe\x00",
    ]
) | st.binary(max_size=200)


@dataclasses.dataclass
class Perturbation:
    """What to do to the answer of request number `index`."""

    index: int
    kind: str
    status: int = 0
    header: int = 0
    value: str = ""
    body: bytes = b""

    def __repr__(self) -> str:
        body = self.body if len(self.body) <= 40 else self.body[:40] + b"..."
        return (
            f"Perturbation(index={self.index}, kind={self.kind!r}, status={self.status}, "
            f"header={self.header}, value={self.value!r}, body={body!r} ({len(self.body)} bytes))"
        )


@st.composite
def perturbations(draw: st.DrawFn, requests: int) -> Perturbation:
    kind = draw(st.sampled_from(["status", "drop-header", "garble-header", "body", "transport"]))
    return Perturbation(
        index=draw(st.integers(min_value=0, max_value=requests - 1)),
        kind=kind,
        status=draw(STATUSES) if kind == "status" else 0,
        header=draw(st.integers(min_value=0, max_value=10)),
        value=draw(GARBAGE_VALUES) if kind == "garble-header" else "",
        body=draw(BODIES) if kind == "body" else b"",
    )


def perturb(response: Response, change: Perturbation) -> Response:
    items = response.headers.items
    if change.kind == "status":
        return dataclasses.replace(response, status=change.status)
    if change.kind == "body":
        return dataclasses.replace(response, body=change.body)
    if not items:
        return response
    position = change.header % len(items)
    name = items[position][0]
    if change.kind == "drop-header":
        kept = items[:position] + items[position + 1 :]
    else:
        kept = (*items[:position], (name, change.value), *items[position + 1 :])
    return dataclasses.replace(response, headers=Headers(kept))


def perturbed(fake: FakeRegistry, change: Perturbation) -> Callable[[Request], Response]:
    count = 0

    def handler(request: Request) -> Response:
        nonlocal count
        count += 1
        assert count <= _MAX_REQUESTS, "the flow does not stop"
        if count - 1 == change.index and change.kind == "transport":
            raise TransportFailure("connection reset by peer")
        response = fake.handle(request)
        return perturb(response, change) if count - 1 == change.index else response

    return handler


@dataclasses.dataclass(frozen=True)
class Scenario:
    archive: str
    flow: Callable[[], Flow[Any]]
    registry: Callable[[], FakeRegistry] = FakeRegistry


TWO_LAYERS = "a-legacy-docker-save-2layers.tar"
TWO_IMAGES = "e-docker-save-two-images-symlinked-layer.tar"
OCI_GZIP = "c-containerd-store-busybox-multiplatform-index-armv7-only.tar"

SCENARIOS: dict[str, Scenario] = {
    "push": Scenario(
        TWO_LAYERS, lambda: push_docker_tar(fixture_path(TWO_LAYERS), REGISTRY, "app", "1")
    ),
    "push-chunked": Scenario(
        TWO_LAYERS,
        lambda: push_docker_tar(fixture_path(TWO_LAYERS), REGISTRY, "app", "1", chunk_size=4096),
    ),
    "push-min-chunk": Scenario(
        TWO_LAYERS,
        lambda: push_docker_tar(fixture_path(TWO_LAYERS), REGISTRY, "app", "1", chunk_size=1000),
        lambda: FakeRegistry(chunk_min_length=5000, strict_ranges=True, relative_urls=True),
    ),
    "push-gzip": Scenario(
        TWO_LAYERS,
        lambda: push_docker_tar(
            fixture_path(TWO_LAYERS), REGISTRY, "app", "1", compression="gzip", chunk_size=2048
        ),
    ),
    "push-stored-manifest": Scenario(
        OCI_GZIP, lambda: push_docker_tar(fixture_path(OCI_GZIP), REGISTRY, "app", "1")
    ),
    "push-all-tags": Scenario(
        TWO_IMAGES,
        lambda: push_docker_tar_with_all_original_tags(fixture_path(TWO_IMAGES), REGISTRY),
    ),
    "connectivity": Scenario(TWO_LAYERS, lambda: check_registry_connectivity(REGISTRY)),
    "catalog": Scenario(
        TWO_IMAGES, lambda: list_repositories(REGISTRY, page_size=1), lambda: seeded()
    ),
    "tags": Scenario(
        TWO_IMAGES, lambda: list_tags(REGISTRY, "bazel/v1/tarball", page_size=1), lambda: seeded()
    ),
    "info": Scenario(
        OCI_GZIP, lambda: get_image_info(REGISTRY, "busybox", "latest"), lambda: seeded(OCI_GZIP)
    ),
    "delete": Scenario(
        TWO_IMAGES,
        lambda: delete_image(REGISTRY, "bazel/v1/tarball", "test_image_3"),
        lambda: seeded(),
    ),
}


def seeded(archive: str = TWO_IMAGES) -> FakeRegistry:
    """A registry holding every image of `archive` under its recorded tags, and again in a
    second repository (so that listings have several pages), with an empty request log."""
    fake = FakeRegistry()
    driver = PureDriver(fake.handle, files=fixture_files(archive))
    path = fixture_path(archive)
    for result in driver.run(push_docker_tar_with_all_original_tags(path, REGISTRY)):
        source = f"{result.repository}:{result.tag}"
        driver.run(push_docker_tar(path, REGISTRY, "copy", result.tag, source=source))
    fake.exchanges.clear()
    return fake


def traffic(name: str) -> int:
    """How many requests the scenario makes when nothing goes wrong."""
    scenario = SCENARIOS[name]
    fake = scenario.registry()
    PureDriver(fake.handle, files=fixture_files(scenario.archive)).run(scenario.flow())
    return len(fake.requests)


TRAFFIC = {name: traffic(name) for name in SCENARIOS}


def test_scenarios_make_several_requests() -> None:
    assert TRAFFIC["connectivity"] == 1
    assert all(TRAFFIC[name] >= 5 for name in SCENARIOS if name.startswith("push"))
    assert TRAFFIC["catalog"] >= 3
    assert TRAFFIC["tags"] >= 2
    assert TRAFFIC["push-chunked"] > TRAFFIC["push"]
    assert TRAFFIC["push-min-chunk"] > TRAFFIC["push"]


@settings(max_examples=300)
@given(st.sampled_from(sorted(SCENARIOS)), st.data())
def test_only_registry_proto_errors_escape(name: str, data: st.DataObject) -> None:
    scenario = SCENARIOS[name]
    change = data.draw(perturbations(TRAFFIC[name]), label="perturbation")
    fake = scenario.registry()
    driver = PureDriver(perturbed(fake, change), files=fixture_files(scenario.archive))
    try:
        result = driver.run(scenario.flow())
    except RegistryProtoError:
        return
    if name in ("connectivity", "delete"):
        assert isinstance(result, bool)
    else:
        assert result


NASTY_VALUES = ["", "²", "-1", "0-", "http://[::1", "\udcff", "99999999999999999999999999"]


def _shape(request: Request) -> str:
    path = request.url.split("?")[0]
    for part in ("/blobs/uploads/", "/blobs/", "/manifests/", "/tags/", "/_catalog", "/v2/"):
        if part in path:
            return part
    return path


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_header_of_every_kind_of_answer_garbled(name: str) -> None:
    """Deterministic sweep: each header of each kind of answer, set to each nasty value."""
    scenario = SCENARIOS[name]
    fake = scenario.registry()
    PureDriver(fake.handle, files=fixture_files(scenario.archive)).run(scenario.flow())
    first_seen: dict[tuple[str, str, str], tuple[int, int]] = {}
    for index, (request, response) in enumerate(fake.exchanges):
        for position, (header, _) in enumerate(response.headers.items):
            first_seen.setdefault((request.method, _shape(request), header), (index, position))
    assert first_seen
    for key, (index, position) in first_seen.items():
        for value in NASTY_VALUES:
            change = Perturbation(index=index, kind="garble-header", header=position, value=value)
            fresh = scenario.registry()
            driver = PureDriver(perturbed(fresh, change), files=fixture_files(scenario.archive))
            try:
                driver.run(scenario.flow())
            except RegistryProtoError:
                pass
            except Exception as exc:
                raise AssertionError(f"{key} set to {value!r}: {exc!r}") from exc
