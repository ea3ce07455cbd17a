"""Every kind of image archive, every push option, against a real registry, checked by skopeo."""

from __future__ import annotations

import contextlib
import gzip
import hashlib
import io
import lzma
import tarfile
from collections.abc import Iterator
from pathlib import Path

import anyio
import pytest

import registry_async
import registry_sync
from registry_proto import (
    BlobMounted,
    BlobProgress,
    BlobSkipped,
    BlobUploaded,
    ManifestPushed,
    PushEvent,
    ValidationError,
)
from tests.fixture_archives import fixture_path
from tests.integration.adapters import ADAPTERS, call
from tests.integration.images import OCI_INDEX, skopeo_inspect, verify_pushed_image
from tests.integration.registry_server import RegistryServer

OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"

# Every fixture archive: (file, source tag for multi-image archives, platform of the pushed image)
ALL_FIXTURES = [
    ("a-legacy-docker-save-almostempty.tar", None, "linux/amd64"),
    ("a-legacy-docker-save-2layers.tar", None, "linux/amd64"),
    ("b-docker25-save-hello-world.tar", None, "linux/amd64"),
    ("b-docker25-save-hello-world-untagged-nullindex.tar", None, "linux/arm64"),
    ("c-containerd-store-busybox-arm64-attestation.tar", None, "linux/arm64"),
    ("c-containerd-store-busybox-multiplatform-index-armv7-only.tar", None, "linux/arm/v7"),
    ("d-oci-archive-buildah-devnull.tar", None, "linux/amd64"),
    ("d-oci-archive-buildkit-gzip.tar", None, "linux/arm64"),
    ("d-oci-archive-buildkit-zstd.tar", None, "linux/arm64"),
    ("e-docker-save-gzip-alpine310.tar.gz", None, "linux/amd64"),
    ("e-docker-save-two-images.tar.xz", "example.com/empty/but:different", "linux/amd64"),
    (
        "e-docker-save-two-images-symlinked-layer.tar",
        "bazel/v1/tarball:test_image_1",
        "linux/amd64",
    ),
    ("e-skopeo-docker-archive-untagged.tar", None, "linux/amd64"),
]


@contextlib.contextmanager
def open_tar(path: Path) -> Iterator[tarfile.TarFile]:
    """The archive at `path`, read by the standard library (xz included)."""
    with contextlib.ExitStack() as stack:
        if path.suffix == ".xz":
            stream = stack.enter_context(lzma.open(path))
            yield stack.enter_context(tarfile.open(fileobj=stream))
        else:
            yield stack.enter_context(tarfile.open(path))


def stores_blob(path: Path, digest: str) -> bool:
    with open_tar(path) as tar:
        return f"blobs/sha256/{digest.removeprefix('sha256:')}" in tar.getnames()


def stored_digests(path: Path) -> set[str]:
    """sha256 of every small regular member of an archive, read with the standard library.

    A pushed config must be one of them: configs go up byte for byte, so image IDs survive.
    """
    digests = set()
    with open_tar(path) as tar:
        for member in tar.getmembers():
            if member.isfile() and member.size < 1 << 20:
                file = tar.extractfile(member)
                assert file is not None
                digests.add("sha256:" + hashlib.sha256(file.read()).hexdigest())
    return digests


def repo_for(name: str, suffix: str) -> str:
    stem = name.split(".tar")[0].lower()
    return f"formats/{stem}-{suffix}"


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(("name", "source", "platform"), ALL_FIXTURES)
def test_every_fixture_pushes_and_reads_back_complete(
    adapter: str, name: str, source: str | None, platform: str, registry_server: RegistryServer
) -> None:
    path = fixture_path(name)
    repository = repo_for(name, adapter)
    digest = call(
        adapter, "push_docker_tar", path, registry_server.url, repository, "t", source=source
    )

    verified = verify_pushed_image(registry_server.host, repository, "t")
    assert verified.manifest_digest == digest
    assert verified.config_digest in stored_digests(path)
    config = skopeo_inspect(registry_server.host, repository, "t", config=True)
    pushed = f"{config['os']}/{config['architecture']}"
    if config.get("variant"):
        pushed += f"/{config['variant']}"
    assert pushed == platform


def test_containerd_exports_keep_their_registry_digest(registry_server: RegistryServer) -> None:
    # The archive stores the registry's own manifest bytes; they are pushed unchanged.
    path = fixture_path("c-containerd-store-busybox-multiplatform-index-armv7-only.tar")
    digest = registry_sync.push_docker_tar(path, registry_server.url, "formats/keep", "t")
    assert stores_blob(path, digest)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_platform_choice(adapter: str, registry_server: RegistryServer) -> None:
    path = fixture_path("c-containerd-store-busybox-multiplatform-index-armv7-only.tar")
    url = registry_server.url
    # The index lists ten platforms; only arm/v7 has its blobs in the archive.
    digest = call(
        adapter, "push_docker_tar", path, url, "formats/plat", "v7", platform="linux/arm/v7"
    )
    assert verify_pushed_image(registry_server.host, "formats/plat", "v7").manifest_digest == digest
    # A listed platform whose blobs are missing, and an unlisted one, are both refused clearly.
    with pytest.raises(ValidationError, match=r"no complete linux/amd64 image.*linux/arm/v7"):
        call(adapter, "push_docker_tar", path, url, "formats/plat", "x", platform="linux/amd64")
    with pytest.raises(ValidationError, match="invalid platform"):
        call(adapter, "push_docker_tar", path, url, "formats/plat", "x", platform="arm")
    # The whole index cannot go: most of it is not in the archive.
    with pytest.raises(ValidationError, match="every platform"):
        call(adapter, "push_docker_tar", path, url, "formats/plat", "x", all_platforms=True)


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_whole_index_with_its_attestation(adapter: str, registry_server: RegistryServer) -> None:
    path = fixture_path("c-containerd-store-busybox-arm64-attestation.tar")
    repository = f"formats/index-{adapter}"
    digest = call(
        adapter, "push_docker_tar", path, registry_server.url, repository, "v3", all_platforms=True
    )
    raw = skopeo_inspect(registry_server.host, repository, "v3", raw=True)
    assert raw["mediaType"] == OCI_INDEX
    assert len(raw["manifests"]) == 2  # the image and its attestation manifest
    verified = verify_pushed_image(registry_server.host, repository, "v3")
    assert verified.manifest_digest == digest
    assert stores_blob(path, digest)


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize(
    ("codec", "media_type"), [("gzip", OCI_LAYER_GZIP), ("zstd", OCI_LAYER_ZSTD)]
)
def test_compression_while_streaming(
    adapter: str, codec: str, media_type: str, registry_server: RegistryServer, docker_archive: Path
) -> None:
    repository = f"formats/{codec}-{adapter}"
    digest = call(
        adapter,
        "push_docker_tar",
        docker_archive,
        registry_server.url,
        repository,
        "t",
        compression=codec,
        chunk_size=4096,  # several chunks even for a small layer
    )
    verified = verify_pushed_image(registry_server.host, repository, "t")
    assert verified.manifest_digest == digest
    assert set(verified.layer_media_types) == {media_type}
    assert verified.config_digest in stored_digests(docker_archive)
    # Compression is deterministic: pushing again finds every blob already there.
    again = call(
        adapter,
        "push_docker_tar",
        docker_archive,
        registry_server.url,
        repository,
        "t2",
        compression=codec,
    )
    assert again == digest


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_chunked_upload(
    adapter: str, registry_server: RegistryServer, docker_archive: Path
) -> None:
    repository = f"formats/chunked-{adapter}"
    digest = call(
        adapter,
        "push_docker_tar",
        docker_archive,
        registry_server.url,
        repository,
        "t",
        chunk_size=1000,
    )
    monolithic = registry_sync.push_docker_tar(
        docker_archive, registry_server.url, f"{repository}-mono", "t"
    )
    assert digest == monolithic
    assert verify_pushed_image(registry_server.host, repository, "t").manifest_digest == digest


def _push_with_events(adapter: str, *args: object, **kwargs: object) -> list[PushEvent]:
    events: list[PushEvent] = []
    if adapter == "sync":
        with registry_sync.RegistryClient() as client:
            client.push_docker_tar(*args, progress=events.append, **kwargs)  # type: ignore[arg-type]
        return events

    async def main() -> None:
        async with registry_async.AsyncRegistryClient() as client:
            await client.push_docker_tar(*args, progress=events.append, **kwargs)  # type: ignore[arg-type]

    anyio.run(main, backend=adapter)
    return events


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_progress_skip_and_upload(
    adapter: str, registry_server: RegistryServer, docker_archive: Path
) -> None:
    repository = f"formats/progress-{adapter}"
    first = _push_with_events(adapter, docker_archive, registry_server.url, repository, "a")
    uploaded = [e for e in first if isinstance(e, BlobUploaded)]
    assert len(uploaded) == 3  # config and two layers
    progress = [e for e in first if isinstance(e, BlobProgress)]
    for event in uploaded:
        if event.size > 1024:  # streamed layers report their bytes as they go
            assert any(p.digest == event.source_digest and p.sent == event.size for p in progress)
    assert isinstance(first[-1], ManifestPushed)

    second = _push_with_events(adapter, docker_archive, registry_server.url, repository, "b")
    assert len([e for e in second if isinstance(e, BlobSkipped)]) == 3
    assert not [e for e in second if isinstance(e, BlobUploaded)]


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_second_repository_mounts_instead_of_uploading(
    adapter: str, registry_server: RegistryServer, docker_archive: Path
) -> None:
    events: list[PushEvent] = []
    url = registry_server.url
    if adapter == "sync":
        with registry_sync.RegistryClient() as client:
            client.push_docker_tar(docker_archive, url, f"mount/{adapter}-a", "t")
            client.push_docker_tar(
                docker_archive, url, f"mount/{adapter}-b", "t", progress=events.append
            )
    else:

        async def main() -> None:
            async with registry_async.AsyncRegistryClient() as client:
                await client.push_docker_tar(docker_archive, url, f"mount/{adapter}-a", "t")
                await client.push_docker_tar(
                    docker_archive, url, f"mount/{adapter}-b", "t", progress=events.append
                )

        anyio.run(main, backend=adapter)
    mounted = [e for e in events if isinstance(e, BlobMounted)]
    assert len(mounted) == 3
    assert {e.from_repository for e in mounted} == {f"mount/{adapter}-a"}
    verify_pushed_image(registry_server.host, f"mount/{adapter}-b", "t")


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_all_original_tags_of_a_compressed_multi_image_archive(
    adapter: str, registry_server: RegistryServer
) -> None:
    path = fixture_path("e-docker-save-two-images.tar.xz")
    results = call(adapter, "push_docker_tar_with_all_original_tags", path, registry_server.url)
    assert [(r.repository, r.tag) for r in results] == [
        ("empty", "latest"),
        ("empty/but", "different"),
    ]
    for result in results:
        assert (
            verify_pushed_image(registry_server.host, result.repository, result.tag).manifest_digest
            == result.digest
        )


def test_extract_tags_of_every_format() -> None:
    expected = {
        "b-docker25-save-hello-world.tar": ["hello-world:latest"],
        "c-containerd-store-busybox-arm64-attestation.tar": ["foo/bar:v3"],
        "e-docker-save-gzip-alpine310.tar.gz": ["alpine:3.10"],
        "d-oci-archive-buildah-devnull.tar": [],
    }
    for name, tags in expected.items():
        assert registry_sync.extract_original_tags(fixture_path(name)) == tags
    assert registry_async.get_primary_tag(fixture_path("e-docker-save-gzip-alpine310.tar.gz")) == (
        "alpine",
        "3.10",
    )


def test_oci_archive_built_by_skopeo(registry_server: RegistryServer, oci_archive: Path) -> None:
    # skopeo records the whole reference in ref.name.
    assert registry_sync.get_primary_tag(oci_archive) == ("harness/demo", "1.0")
    digest = registry_sync.push_docker_tar_with_original_tags(oci_archive, registry_server.url)
    verified = verify_pushed_image(registry_server.host, "harness/demo", "1.0")
    assert verified.manifest_digest == digest


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_gzip_layers_under_plain_names_are_hashed(
    adapter: str, registry_server: RegistryServer, tmp_path: Path
) -> None:
    # An older docker could save gzip layers as `<id>/layer.tar`: no name gives their digest.
    source = fixture_path("a-legacy-docker-save-2layers.tar")
    archive = tmp_path / "gzip-layers.tar"
    with tarfile.open(source) as tar, tarfile.open(archive, "w") as out:
        for member in tar.getmembers():
            file = tar.extractfile(member) if member.isfile() else None
            data = file.read() if file is not None else None
            if data is not None and member.name.endswith("layer.tar"):
                data = gzip.compress(data, mtime=0)
                member.size = len(data)
            out.addfile(member, io.BytesIO(data) if data is not None else None)

    repository = f"formats/gzip-names-{adapter}"
    digest = call(adapter, "push_docker_tar", archive, registry_server.url, repository, "t")
    verified = verify_pushed_image(registry_server.host, repository, "t")
    assert verified.manifest_digest == digest
    assert set(verified.layer_media_types) == {OCI_LAYER_GZIP}
