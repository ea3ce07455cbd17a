"""Pushing image archives to a real registry through every adapter, checked by skopeo."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tarfile
from pathlib import Path
from typing import IO

import anyio
import pytest

import registry_async
import registry_sync
from registry_proto import (
    DigestInvalid,
    RegistryProtoError,
    TarReadError,
    TransportFailure,
    ValidationError,
)
from tests.fixture_archives import fixture_path
from tests.integration.adapters import ADAPTERS, call
from tests.integration.images import skopeo_inspect, verify_pushed_image
from tests.integration.registry_server import RegistryServer, free_port

# Archives in the formats read through manifest.json: legacy docker save, skopeo/podman
# docker-archive, docker 25+ and the containerd store. (name, source tag or None)
MANIFEST_JSON_FIXTURES = [
    ("a-legacy-docker-save-almostempty.tar", None),
    ("a-legacy-docker-save-2layers.tar", None),
    ("b-docker25-save-hello-world.tar", None),
    ("b-docker25-save-hello-world-untagged-nullindex.tar", None),
    ("c-containerd-store-busybox-arm64-attestation.tar", None),
    ("c-containerd-store-busybox-multiplatform-index-armv7-only.tar", None),
    ("e-docker-save-two-images-symlinked-layer.tar", "bazel/v1/tarball:test_image_3"),
    ("e-skopeo-docker-archive-untagged.tar", None),
]


def archive_config(path: Path, source: str | None = None) -> bytes:
    """The config bytes of the (selected) image, read with the standard library."""
    with tarfile.open(path) as tar:
        entries = json.load(_extract(tar, "manifest.json"))
        entry = next(e for e in entries if source is None or source in (e["RepoTags"] or []))
        return _extract(tar, entry["Config"]).read()


def _extract(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    file = tar.extractfile(name)
    assert file is not None
    return file


def sha256(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_push_built_archive_reads_back_complete(
    adapter: str, registry_server: RegistryServer, docker_archive: Path
) -> None:
    repository = f"built/{adapter}"
    digest = call(adapter, "push_docker_tar", docker_archive, registry_server.url, repository, "v1")

    verified = verify_pushed_image(registry_server.host, repository, "v1")
    assert verified.manifest_digest == digest
    assert verified.config_digest == sha256(archive_config(docker_archive))
    assert len(verified.layer_digests) == 2
    assert list(verified.layer_digests) == list(verified.diff_ids)  # uncompressed, unchanged


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(("name", "source"), MANIFEST_JSON_FIXTURES)
def test_push_real_archives(
    adapter: str, name: str, source: str | None, registry_server: RegistryServer
) -> None:
    path = fixture_path(name)
    repository = f"fixtures/{name.removesuffix('.tar').lower()}"
    digest = call(
        adapter, "push_docker_tar", path, registry_server.url, repository, adapter, source=source
    )

    verified = verify_pushed_image(registry_server.host, repository, adapter)
    assert verified.manifest_digest == digest
    # The config goes up byte for byte, so the image ID survives the push.
    assert verified.config_digest == sha256(archive_config(path, source))


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_same_archive_same_digest_through_every_adapter(
    adapter: str, registry_server: RegistryServer
) -> None:
    path = fixture_path("a-legacy-docker-save-2layers.tar")
    expected = registry_sync.push_docker_tar(path, registry_server.url, "parity/ref", "t")
    digest = call(adapter, "push_docker_tar", path, registry_server.url, "parity/x", adapter)
    assert digest == expected


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_push_with_original_tags_drops_the_registry_host(
    adapter: str, registry_server: RegistryServer, docker_archive: Path
) -> None:
    # The builder records `example.com/harness/demo:1.0`.
    assert registry_sync.extract_original_tags(docker_archive) == ["example.com/harness/demo:1.0"]
    assert registry_sync.get_primary_tag(docker_archive) == ("harness/demo", "1.0")

    digest = call(
        adapter, "push_docker_tar_with_original_tags", docker_archive, registry_server.url
    )

    assert "1.0" in registry_sync.list_tags(registry_server.url, "harness/demo")
    inspected = skopeo_inspect(registry_server.host, "harness/demo", "1.0")
    assert inspected["Digest"] == digest


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_push_with_all_original_tags_pushes_every_image(
    adapter: str, registry_server: RegistryServer
) -> None:
    path = fixture_path("e-docker-save-two-images-symlinked-layer.tar")
    results = call(adapter, "push_docker_tar_with_all_original_tags", path, registry_server.url)

    assert [(r.repository, r.tag) for r in results] == [
        ("bazel/v1/tarball", "test_image_1"),
        ("bazel/v1/tarball", "test_image_3"),
    ]
    for result in results:
        verified = verify_pushed_image(registry_server.host, result.repository, result.tag)
        assert verified.manifest_digest == result.digest


@pytest.mark.parametrize("backend", ["asyncio", "trio"])
def test_gathered_pushes_share_one_client(
    backend: str, registry_server: RegistryServer, docker_archive: Path
) -> None:
    digests: dict[str, str] = {}

    async def main() -> None:
        async with registry_async.AsyncRegistryClient(max_concurrency=2) as client:

            async def push(name: str) -> None:
                digests[name] = await client.push_docker_tar(
                    docker_archive, registry_server.url, f"gathered/{backend}-{name}", "latest"
                )

            async with anyio.create_task_group() as group:
                for name in ("app1", "app2", "app3"):
                    group.start_soon(push, name)

    anyio.run(main, backend=backend)
    assert len(set(digests.values())) == 1  # same archive, same manifest
    for name in digests:
        verify_pushed_image(registry_server.host, f"gathered/{backend}-{name}", "latest")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_connectivity(adapter: str, registry_server: RegistryServer) -> None:
    assert call(adapter, "check_registry_connectivity", registry_server.url) is True
    # Nothing listens on a port just released by the OS.
    assert call(adapter, "check_registry_connectivity", f"http://127.0.0.1:{free_port()}") is False


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_push_to_nothing_is_a_transport_failure(adapter: str, docker_archive: Path) -> None:
    with pytest.raises(TransportFailure):
        call(
            adapter, "push_docker_tar", docker_archive, f"http://127.0.0.1:{free_port()}", "a", "b"
        )


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_corrupt_layer_fails_and_leaves_no_tag(
    adapter: str, registry_server: RegistryServer, tmp_path: Path
) -> None:
    source = fixture_path("a-legacy-docker-save-2layers.tar")
    corrupt = tmp_path / "corrupt.tar"
    shutil.copyfile(source, corrupt)
    with tarfile.open(source) as tar:
        layer = next(m for m in tar.getmembers() if m.name.endswith("layer.tar") and m.size)
    with open(corrupt, "r+b") as file:  # flip one byte inside the first layer's data
        file.seek(layer.offset_data + layer.size // 2)
        byte = file.read(1)
        file.seek(-1, os.SEEK_CUR)
        file.write(bytes([byte[0] ^ 0xFF]))

    repository = f"corrupt/{adapter}"
    with pytest.raises(DigestInvalid) as caught:
        call(adapter, "push_docker_tar", corrupt, registry_server.url, repository, "t")
    assert "sha256:" in str(caught.value)
    # The manifest was never written: the repository has no tags at all.
    with pytest.raises(RegistryProtoError):
        registry_sync.list_tags(registry_server.url, repository)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_bad_input_fails_before_any_traffic(
    adapter: str, docker_archive: Path, tmp_path: Path
) -> None:
    # No registry listens here: a validation error proves no request was needed.
    url = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(ValidationError, match="repository"):
        call(adapter, "push_docker_tar", docker_archive, url, "Upper/Case", "t")
    with pytest.raises(ValidationError, match="tag"):
        call(adapter, "push_docker_tar", docker_archive, url, "ok", "-bad")
    with pytest.raises(ValidationError, match="http or https"):
        call(adapter, "push_docker_tar", docker_archive, "ftp://example.com", "ok", "t")
    not_a_tar = tmp_path / "not-a-tar.tar"
    not_a_tar.write_bytes(b"hello" * 200)
    with pytest.raises(TarReadError):
        call(adapter, "push_docker_tar", not_a_tar, url, "ok", "t")
    with pytest.raises(TarReadError, match="cannot read"):
        call(adapter, "push_docker_tar", tmp_path / "missing.tar", url, "ok", "t")
