"""Listing, inspecting and deleting against a real registry, through every adapter."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

import registry_async
import registry_sync
from registry_proto import (
    DeletesDisabled,
    ManifestUnknown,
    NotFound,
    RegistryEndpoint,
    ValidationError,
)
from registry_proto.flows import get_manifest, put_manifest
from tests.fixture_archives import fixture_path
from tests.integration.adapters import ADAPTERS, call
from tests.integration.images import (
    DOCKER_MANIFEST,
    OCI_INDEX,
    OCI_MANIFEST,
    skopeo_inspect,
    skopeo_push_archive,
)
from tests.integration.loopback import LoopbackServer, RecordedRequest, Reply
from tests.integration.registry_server import (
    RegistryConfig,
    RegistryFactory,
    RegistryServer,
)

SMALL = "a-legacy-docker-save-almostempty.tar"


@pytest.fixture(scope="module")
def crowded_registry() -> Iterator[RegistryServer]:
    """A registry holding 105 repositories and one repository with 105 tags.

    The reference registry pages its catalog at 100 entries, so both listings need paging.
    """
    archive = fixture_path(SMALL)
    with RegistryServer() as server, registry_sync.RegistryClient() as client:
        for number in range(105):
            client.push_docker_tar(archive, server.url, f"crowd/repo-{number:03d}", "t")
        for number in range(105):
            client.push_docker_tar(archive, server.url, "crowd/tagged", f"v{number:03d}")
        yield server


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("page_size", [None, 7, 100])
def test_list_repositories_follows_every_page(
    adapter: str, page_size: int | None, crowded_registry: RegistryServer
) -> None:
    names = call(adapter, "list_repositories", crowded_registry.url, page_size=page_size)
    expected = {f"crowd/repo-{n:03d}" for n in range(105)} | {"crowd/tagged"}
    assert sorted(names) == sorted(expected)
    assert len(names) == len(set(names))


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_list_tags_beyond_one_hundred(adapter: str, crowded_registry: RegistryServer) -> None:
    tags = call(adapter, "list_tags", crowded_registry.url, "crowd/tagged", page_size=10)
    assert sorted(tags) == [f"v{n:03d}" for n in range(105)]


def test_iterators_stream_every_name(crowded_registry: RegistryServer) -> None:
    streamed = list(registry_sync.iter_repositories(crowded_registry.url, page_size=20))
    assert len(streamed) == 106

    async def collect() -> list[str]:
        return [tag async for tag in registry_async.iter_tags(crowded_registry.url, "crowd/tagged")]

    for backend in ("asyncio", "trio"):
        assert len(anyio.run(collect, backend=backend)) == 105


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_info_of_an_oci_manifest(
    adapter: str, registry_server: RegistryServer, docker_archive: Path
) -> None:
    repository = f"info/oci-{adapter}"
    digest = registry_sync.push_docker_tar(docker_archive, registry_server.url, repository, "1")
    info = call(adapter, "get_image_info", registry_server.url, repository, "1")

    raw = skopeo_inspect(registry_server.host, repository, digest, raw=True)
    assert info.digest == digest
    assert info.media_type == OCI_MANIFEST
    assert info.config_digest == raw["config"]["digest"]
    assert [layer.digest for layer in info.layers] == [layer["digest"] for layer in raw["layers"]]
    assert info.total_size == raw["config"]["size"] + sum(layer["size"] for layer in raw["layers"])
    assert str(info.platform) == "linux/amd64"
    assert info.entrypoint == ("/opt/demo/bin/true",)
    assert info.cmd == ("harness-arg",)
    assert "HARNESS=1" in info.env
    assert info.working_dir == "/opt/demo"
    assert info.labels["org.opencontainers.image.title"] == "registry-harness-demo"
    by_digest = call(adapter, "get_image_info", registry_server.url, repository, digest)
    assert by_digest.layers == info.layers


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_info_of_a_docker_schema2_manifest(
    adapter: str, registry_factory: RegistryFactory, docker_archive: Path
) -> None:
    # skopeo pushes a docker-archive as a Docker schema 2 manifest with gzip layers. A
    # registry of its own keeps skopeo's blob-info cache from reusing uncompressed copies.
    registry_server = registry_factory(RegistryConfig())
    repository = f"info/schema2-{adapter}"
    skopeo_push_archive(docker_archive, registry_server.host, repository, "1")
    info = call(adapter, "get_image_info", registry_server.url, repository, "1")

    assert info.media_type == DOCKER_MANIFEST
    assert info.digest == skopeo_inspect(registry_server.host, repository, "1")["Digest"]
    assert all(layer.media_type.endswith("tar.gzip") for layer in info.layers)
    assert info.entrypoint == ("/opt/demo/bin/true",)


def _push_index(server: RegistryServer, repository: str) -> tuple[str, str, str]:
    """Push an amd64 and an arm64 image by digest, then an OCI index of both as `multi`.

    Returns the digests of the index, the amd64 image and the arm64 image.
    """
    endpoint = RegistryEndpoint.parse(server.url)
    images = (
        ("b-docker25-save-hello-world.tar", "amd64"),
        ("b-docker25-save-hello-world-untagged-nullindex.tar", "arm64"),
    )
    entries = []
    digests = []
    with registry_sync.RegistryClient() as client:
        for name, arch in images:
            digest = client.push_docker_tar(fixture_path(name), server.url, repository, arch)
            stored = client.run(get_manifest(endpoint, repository, digest))
            digests.append(digest)
            entries.append(
                {
                    "mediaType": stored.media_type,
                    "digest": digest,
                    "size": len(stored.data),
                    "platform": {"os": "linux", "architecture": arch},
                }
            )
        document = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": entries}
        index = json.dumps(document).encode()
        index_digest = client.run(put_manifest(endpoint, repository, "multi", OCI_INDEX, index))
    return index_digest, digests[0], digests[1]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_info_of_an_index_and_of_one_platform(
    adapter: str, registry_server: RegistryServer
) -> None:
    repository = f"info/index-{adapter}"
    index_digest, amd64, arm64 = _push_index(registry_server, repository)

    info = call(adapter, "get_image_info", registry_server.url, repository, "multi")
    assert info.is_index
    assert info.digest == index_digest
    assert info.media_type == OCI_INDEX
    assert [(p.digest, str(p.platform)) for p in info.platforms] == [
        (amd64, "linux/amd64"),
        (arm64, "linux/arm64"),
    ]
    assert info.layers == ()

    arm = call(
        adapter, "get_image_info", registry_server.url, repository, "multi", platform="linux/arm64"
    )
    assert arm.digest == arm64
    assert arm.architecture == "arm64"
    assert len(arm.layers) == 1

    with pytest.raises(ValidationError, match="linux/s390x"):
        call(
            adapter,
            "get_image_info",
            registry_server.url,
            repository,
            "multi",
            platform="linux/s390x",
        )


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_delete_by_tag_removes_every_tag_of_that_digest(
    adapter: str, registry_server: RegistryServer
) -> None:
    repository = f"delete/by-tag-{adapter}"
    archive = fixture_path(SMALL)
    with registry_sync.RegistryClient() as client:
        client.push_docker_tar(archive, registry_server.url, repository, "a")
        client.push_docker_tar(archive, registry_server.url, repository, "b")

    assert call(adapter, "delete_image", registry_server.url, repository, "a") is True
    # Both tags named the same manifest; distribution answers `"tags": null` now.
    assert call(adapter, "list_tags", registry_server.url, repository) == []
    with pytest.raises(ManifestUnknown):
        call(adapter, "delete_image", registry_server.url, repository, "b")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_delete_by_digest_and_index_by_tag(adapter: str, registry_server: RegistryServer) -> None:
    repository = f"delete/index-{adapter}"
    index_digest, amd64, _ = _push_index(registry_server, repository)

    # By tag, the index itself is deleted, never one of its children.
    assert call(adapter, "delete_image", registry_server.url, repository, "multi") is True
    with pytest.raises(ManifestUnknown):
        call(adapter, "get_image_info", registry_server.url, repository, index_digest)
    assert call(adapter, "get_image_info", registry_server.url, repository, amd64).digest == amd64

    assert call(adapter, "delete_image", registry_server.url, repository, amd64) is True
    assert sorted(call(adapter, "list_tags", registry_server.url, repository)) == ["arm64"]
    with pytest.raises(ManifestUnknown):
        call(adapter, "delete_image", registry_server.url, repository, amd64)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_delete_on_a_registry_without_deletes(
    adapter: str, registry_factory: RegistryFactory
) -> None:
    server = registry_factory(RegistryConfig(delete_enabled=False))
    registry_sync.push_docker_tar(fixture_path(SMALL), server.url, "keep/me", "t")

    with pytest.raises(DeletesDisabled, match="does not allow deleting"):
        call(adapter, "delete_image", server.url, "keep/me", "t")
    assert call(adapter, "list_tags", server.url, "keep/me") == ["t"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_ping_reports_the_api_version(adapter: str, registry_server: RegistryServer) -> None:
    if adapter == "sync":
        with registry_sync.RegistryClient() as client:
            version = client.ping(registry_server.url)
    else:

        async def ping() -> registry_async.ApiVersion:
            async with registry_async.AsyncRegistryClient() as client:
                return await client.ping(registry_server.url)

        version = anyio.run(ping, backend=adapter)
    assert version.api_version == "registry/2.0"
    assert version.auth_schemes == ()


WEB_PAGE = (
    b"<!DOCTYPE html>\n<html>\n<head>\n<title>Welcome to the web server</title>\n</head>\n"
    + b"<body>\n"
    + b"<p>This is a web site, not a registry.</p>\n" * 200
    + b"</body>\n</html>\n"
)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_web_server_is_named_in_one_short_line(adapter: str) -> None:
    def page(request: RecordedRequest) -> Reply:
        return Reply(404, WEB_PAGE, {"Content-Type": "text/html"})

    with LoopbackServer(page) as server, pytest.raises(NotFound) as caught:
        call(adapter, "list_tags", server.url, "app", docker_config=False)
    message = str(caught.value)
    assert message.endswith(
        "HTTP 404: an HTML page (Welcome to the web server): is this the URL of a registry?"
    )
    assert "\n" not in message
    assert len(message) < 200
