"""Copying images within and between real registries, through every adapter."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import registry_async
import registry_sync
from registry_proto import (
    BlobMounted,
    BlobUploaded,
    ManifestPushed,
    ManifestUnknown,
    PushEvent,
    TransferStarted,
    Unauthorized,
)
from tests.fixture_archives import fixture_path
from tests.integration.adapters import ADAPTERS, call
from tests.integration.images import OCI_INDEX, skopeo_inspect, verify_pushed_image
from tests.integration.registry_server import (
    RegistryConfig,
    RegistryFactory,
    RegistryServer,
)
from tests.integration.system_tools import require_binary

INDEX_FIXTURE = "c-containerd-store-busybox-arm64-attestation.tar"


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_copy_between_registries_keeps_the_digest(
    adapter: str, registry_server: RegistryServer, registry_factory: RegistryFactory
) -> None:
    other = registry_factory(RegistryConfig())
    path = fixture_path("a-legacy-docker-save-2layers.tar")
    digest = registry_sync.push_docker_tar(path, registry_server.url, f"copy/src-{adapter}", "1")

    copied = call(
        adapter,
        "copy_image",
        registry_server.url,
        f"copy/src-{adapter}",
        "1",
        other.url,
        "copy/dst",
    )

    assert copied == digest
    assert verify_pushed_image(other.host, "copy/dst", "1").manifest_digest == digest
    # Copying again finds everything there.
    again = call(
        adapter,
        "copy_image",
        registry_server.url,
        f"copy/src-{adapter}",
        digest,
        other.url,
        "copy/dst",
        "2",
    )
    assert again == digest
    assert sorted(registry_sync.list_tags(other.url, "copy/dst")) == ["1", "2"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_copy_within_a_registry_mounts(adapter: str, registry_server: RegistryServer) -> None:
    path = fixture_path("b-docker25-save-hello-world.tar")
    digest = registry_sync.push_docker_tar(path, registry_server.url, f"copy/here-{adapter}", "1")
    events: list[PushEvent] = []
    if adapter == "sync":
        with registry_sync.RegistryClient() as client:
            copied = client.copy_image(
                registry_server.url,
                f"copy/here-{adapter}",
                "1",
                registry_server.url,
                f"copy/there-{adapter}",
                progress=events.append,
            )
    else:
        import anyio

        async def main() -> str:
            async with registry_async.AsyncRegistryClient() as client:
                return await client.copy_image(
                    registry_server.url,
                    f"copy/here-{adapter}",
                    "1",
                    registry_server.url,
                    f"copy/there-{adapter}",
                    progress=events.append,
                )

        copied = anyio.run(main, backend=adapter)
    assert copied == digest
    assert [type(e) for e in events] == [TransferStarted, BlobMounted, BlobMounted, ManifestPushed]
    assert not [e for e in events if isinstance(e, BlobUploaded)]
    verify_pushed_image(registry_server.host, f"copy/there-{adapter}", "1")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_copy_a_whole_index_or_one_platform(
    adapter: str, registry_server: RegistryServer, registry_factory: RegistryFactory
) -> None:
    other = registry_factory(RegistryConfig())
    source = f"copy/index-{adapter}"
    index = registry_sync.push_docker_tar(
        fixture_path(INDEX_FIXTURE), registry_server.url, source, "v3", all_platforms=True
    )

    copied = call(
        adapter,
        "copy_image",
        registry_server.url,
        source,
        "v3",
        other.url,
        "copy/all",
        all_platforms=True,
    )
    assert copied == index
    raw = skopeo_inspect(other.host, "copy/all", "v3", raw=True)
    assert raw["mediaType"] == OCI_INDEX
    verify_pushed_image(other.host, "copy/all", "v3")

    single = call(
        adapter, "copy_image", registry_server.url, source, "v3", other.url, "copy/one", "arm64"
    )
    info = registry_sync.get_image_info(other.url, "copy/one", "arm64")
    assert info.digest == single
    assert info.architecture == "arm64"
    assert not info.is_index


def test_copy_of_nothing_writes_nothing(
    registry_server: RegistryServer, registry_factory: RegistryFactory
) -> None:
    other = registry_factory(RegistryConfig())
    with pytest.raises(ManifestUnknown):
        registry_sync.copy_image(registry_server.url, "copy/none", "1", other.url, "copy/none")
    assert registry_sync.list_repositories(other.url) == []


def _htpasswd(path: Path, user: str, password: str) -> Path:
    line = subprocess.run(
        [require_binary("htpasswd"), "-Bbn", user, password],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    ).stdout.strip()
    path.write_text(line + "\n")
    return path


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_copy_between_registries_with_their_own_credentials(
    adapter: str, registry_factory: RegistryFactory, tmp_path: Path
) -> None:
    source = registry_factory(
        RegistryConfig(htpasswd_path=_htpasswd(tmp_path / "a", "alice", "source-secret"))
    )
    target = registry_factory(
        RegistryConfig(htpasswd_path=_htpasswd(tmp_path / "b", "bob", "target-secret"))
    )
    credentials = {source.host: ("alice", "source-secret"), target.host: ("bob", "target-secret")}
    path = fixture_path("a-legacy-docker-save-almostempty.tar")
    digest = registry_sync.push_docker_tar(
        path, source.url, "app", "1", registry_credentials=credentials, docker_config=False
    )

    copied = call(
        adapter,
        "copy_image",
        source.url,
        "app",
        "1",
        target.url,
        "app",
        registry_credentials=credentials,
        docker_config=False,
    )
    assert copied == digest
    verified = verify_pushed_image(target.host, "app", "1", creds="bob:target-secret")
    assert verified.manifest_digest == digest
    # One password for both registries cannot do it.
    with pytest.raises(Unauthorized):
        call(
            adapter,
            "copy_image",
            source.url,
            "app",
            "1",
            target.url,
            "app",
            "2",
            username="alice",
            password="source-secret",
            docker_config=False,
        )
