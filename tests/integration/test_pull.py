"""Pulling images into archives from a real registry, through every adapter."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

import registry_sync
from registry_proto import (
    ArchiveWriteError,
    DigestMismatch,
    ManifestUnknown,
    RemoteProtocolError,
    TransportFailure,
    ValidationError,
)
from tests.fixture_archives import fixture_path
from tests.integration.adapters import ADAPTERS, call
from tests.integration.images import verify_pushed_image
from tests.integration.loopback import LoopbackServer, RecordedRequest, Reply
from tests.integration.raw_upload import put_image
from tests.integration.registry_server import RegistryServer

SKOPEO = ["skopeo", "--insecure-policy"]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_pull_round_trip_keeps_the_digest(
    adapter: str, registry_server: RegistryServer, docker_archive: Path, tmp_path: Path
) -> None:
    repository = f"pull/round-{adapter}"
    digest = registry_sync.push_docker_tar(docker_archive, registry_server.url, repository, "1")
    destination = tmp_path / "pulled.tar"

    result = call(adapter, "pull_image", registry_server.url, repository, "1", destination)

    assert result.digest == digest
    assert result.path == str(destination)
    assert result.size == destination.stat().st_size
    assert str(result.platform) == "linux/amd64"
    # The archive names the image by where it came from, so its original tag pushes it back.
    recorded = registry_sync.extract_original_tags(destination)
    assert recorded == [f"{registry_server.host}/{repository}:1"]
    again = registry_sync.push_docker_tar(destination, registry_server.url, f"{repository}-b", "1")
    assert again == digest
    assert (
        verify_pushed_image(registry_server.host, f"{repository}-b", "1").manifest_digest == digest
    )
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".registry-")]


@pytest.mark.parametrize("transport", ["docker-archive", "oci-archive"])
def test_pulled_archives_are_read_by_skopeo(
    transport: str, registry_server: RegistryServer, tmp_path: Path
) -> None:
    path = fixture_path("c-containerd-store-busybox-multiplatform-index-armv7-only.tar")
    registry_sync.push_docker_tar(path, registry_server.url, "pull/skopeo", "v7")
    destination = tmp_path / "busybox.tar"
    registry_sync.pull_image(registry_server.url, "pull/skopeo", "v7", destination)

    inspected = json.loads(
        subprocess.run(
            [*SKOPEO, "inspect", f"{transport}:{destination}"],
            check=True,
            capture_output=True,
            timeout=120,
        ).stdout
    )
    assert inspected["Architecture"] == "arm"
    # skopeo copies the archive back into the registry: every blob checks out.
    subprocess.run(
        [
            *SKOPEO,
            "copy",
            "--dest-tls-verify=false",
            f"{transport}:{destination}",
            f"docker://{registry_server.host}/pull/skopeo-back:{transport}",
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    verify_pushed_image(registry_server.host, "pull/skopeo-back", transport)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_pull_one_platform_of_an_index(
    adapter: str, registry_server: RegistryServer, tmp_path: Path
) -> None:
    path = fixture_path("c-containerd-store-busybox-arm64-attestation.tar")
    repository = f"pull/index-{adapter}"
    registry_sync.push_docker_tar(path, registry_server.url, repository, "v3", all_platforms=True)

    # The attestation manifest is no platform: the arm64 image is the only choice.
    result = call(adapter, "pull_image", registry_server.url, repository, "v3", tmp_path / "a.tar")
    assert str(result.platform) == "linux/arm64"
    result = call(
        adapter,
        "pull_image",
        registry_server.url,
        repository,
        "v3",
        tmp_path / "b.tar",
        platform="linux/arm64",
    )
    assert str(result.platform) == "linux/arm64"
    with pytest.raises(ValidationError, match="linux/s390x"):
        call(
            adapter,
            "pull_image",
            registry_server.url,
            repository,
            "v3",
            tmp_path / "c.tar",
            platform="linux/s390x",
        )
    assert not (tmp_path / "c.tar").exists()


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_failed_pulls_leave_nothing_behind(
    adapter: str, registry_server: RegistryServer, tmp_path: Path
) -> None:
    with pytest.raises(ManifestUnknown):
        call(adapter, "pull_image", registry_server.url, "pull/none", "x", tmp_path / "x.tar")
    path = fixture_path("a-legacy-docker-save-almostempty.tar")
    registry_sync.push_docker_tar(path, registry_server.url, "pull/there", "1")
    with pytest.raises(ArchiveWriteError):
        call(
            adapter,
            "pull_image",
            registry_server.url,
            "pull/there",
            "1",
            tmp_path / "no" / "such" / "dir.tar",
        )
    assert list(tmp_path.iterdir()) == []


def _manifest_and_config() -> tuple[bytes, bytes, bytes]:
    layer = b"layer bytes " * 100
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    config = json.dumps(
        {
            "os": "linux",
            "architecture": "amd64",
            "rootfs": {
                "type": "layers",
                "diff_ids": [diff_id],
            },
        }
    ).encode()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {
                "mediaType": "application/vnd.oci.image.config.v1+json",
                "digest": "sha256:" + hashlib.sha256(config).hexdigest(),
                "size": len(config),
            },
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": "sha256:" + hashlib.sha256(layer).hexdigest(),
                    "size": len(layer),
                }
            ],
        }
    ).encode()
    return manifest, config, layer


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("corruption", ["one byte off", "too long"])
def test_corrupt_blob_fails_the_pull(adapter: str, corruption: str, tmp_path: Path) -> None:
    """A registry serving a layer that does not match its descriptor: nothing is written."""
    manifest, config, layer = _manifest_and_config()
    served = b"X" + layer[1:] if corruption == "one byte off" else layer + b"extra" * 300_000

    def answer(request: RecordedRequest) -> Reply:
        path = request.path
        if path.endswith("/manifests/1"):
            headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
            return Reply(200, manifest, headers)
        if path.endswith(hashlib.sha256(config).hexdigest()):
            return Reply(200, config)
        if "/blobs/" in path:
            return Reply(200, served)
        return Reply(200, b"{}")

    expected = DigestMismatch if corruption == "one byte off" else TransportFailure
    with LoopbackServer(answer) as server, pytest.raises(expected):
        call(adapter, "pull_image", server.url, "evil/app", "1", tmp_path / "out.tar", retries=0)
    assert list(tmp_path.iterdir()) == []


def test_pulled_archive_is_a_valid_tar(registry_server: RegistryServer, tmp_path: Path) -> None:
    path = fixture_path("a-legacy-docker-save-2layers.tar")
    registry_sync.push_docker_tar(path, registry_server.url, "pull/tar", "1")
    destination = tmp_path / "out.tar"
    registry_sync.pull_image(registry_server.url, "pull/tar", "1", destination)
    with tarfile.open(destination) as tar:
        names = tar.getnames()
        assert names[:3] == ["oci-layout", "index.json", "manifest.json"]
        for member in tar.getmembers():
            if member.name.startswith("blobs/sha256/"):
                file = tar.extractfile(member)
                assert file is not None
                assert hashlib.sha256(file.read()).hexdigest() == os.path.basename(member.name)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_pull_that_fails_leaves_the_destination_alone(
    adapter: str, registry_server: RegistryServer, tmp_path: Path
) -> None:
    """An image config that is no JSON object is refused before the archive replaces anything."""
    repository = f"pull/array-config-{adapter}"
    put_image(registry_server.url, repository, "1", b"[]", [b"a layer"])
    destination = tmp_path / "mine.tar"
    destination.write_bytes(b"the user's own file")

    with pytest.raises(RemoteProtocolError, match="image config"):
        call(adapter, "pull_image", registry_server.url, repository, "1", destination)

    assert destination.read_bytes() == b"the user's own file"
    assert [p.name for p in tmp_path.iterdir()] == ["mine.tar"]


SHA512_CONFIG = json.dumps({"os": "linux", "architecture": "arm64", "rootfs": {}}).encode()


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_sha512_images_are_pulled_and_verified(
    adapter: str, registry_server: RegistryServer, tmp_path: Path
) -> None:
    """Blobs named by sha512 digests are verified and stored under their long names (pax)."""
    repository = f"pull/sha512-{adapter}"
    layer = b"a sha512 layer " * 1000
    put_image(registry_server.url, repository, "1", SHA512_CONFIG, [layer], algorithm="sha512")
    destination = tmp_path / "out.tar"

    result = call(adapter, "pull_image", registry_server.url, repository, "1", destination)

    assert str(result.platform) == "linux/arm64"
    with tarfile.open(destination) as tar:
        for data in (SHA512_CONFIG, layer):
            name = "blobs/sha512/" + hashlib.sha512(data).hexdigest()
            member = tar.extractfile(name)
            assert member is not None
            assert member.read() == data


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_a_sha512_blob_that_does_not_match_fails_the_pull(adapter: str, tmp_path: Path) -> None:
    """A registry serving other bytes under a sha512 digest: nothing is written."""
    layer = b"the real layer " * 500
    config_digest = "sha512:" + hashlib.sha512(SHA512_CONFIG).hexdigest()
    manifest = json.dumps(
        {
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "config": {"mediaType": "x", "digest": config_digest, "size": len(SHA512_CONFIG)},
            "layers": [
                {
                    "mediaType": "application/vnd.oci.image.layer.v1.tar",
                    "digest": "sha512:" + hashlib.sha512(layer).hexdigest(),
                    "size": len(layer),
                }
            ],
        }
    ).encode()

    def answer(request: RecordedRequest) -> Reply:
        if request.path.endswith("/manifests/1"):
            headers = {"Content-Type": "application/vnd.oci.image.manifest.v1+json"}
            return Reply(200, manifest, headers)
        if request.path.endswith(config_digest):
            return Reply(200, SHA512_CONFIG)
        return Reply(200, b"X" + layer[1:])

    with LoopbackServer(answer) as server, pytest.raises(DigestMismatch, match="sha512"):
        call(adapter, "pull_image", server.url, "evil/app", "1", tmp_path / "out.tar", retries=0)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_other_digest_algorithms_are_refused(
    adapter: str, registry_server: RegistryServer, tmp_path: Path
) -> None:
    repository = f"pull/sha384-{adapter}"
    put_image(registry_server.url, repository, "1", SHA512_CONFIG, [b"x"], algorithm="sha384")
    with pytest.raises(RemoteProtocolError, match="'sha384' is not sha256 or sha512"):
        call(adapter, "pull_image", registry_server.url, repository, "1", tmp_path / "out.tar")
    with pytest.raises(RemoteProtocolError, match="'sha384' is not sha256 or sha512"):
        call(adapter, "get_image_info", registry_server.url, repository, "1")
    assert list(tmp_path.iterdir()) == []
