"""Every 1.x name called as 1.x's README and API reference show it, against a real registry.

Archives include the ones 1.x users' tests build (a config holding only a platform, a layer of
a few arbitrary bytes) and a legacy `docker save` archive, which 1.x could not push. Every
pushed image is read back by skopeo.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gzip
import io
import json
import tarfile
from collections.abc import Mapping
from pathlib import Path

import anyio
import pytest

import registry_async
from registry_api_v2_client import (
    BlobInfo,
    ImageConfig,
    ImageInspect,
    LayerInfo,
    ManifestInfo,
    RegistryConfig,
    RegistryError,
    TarReadError,
    ValidationError,
    check_registry_connectivity,
    delete_image,
    delete_image_by_digest,
    extract_original_tags,
    get_image_info,
    get_manifest,
    get_primary_tag,
    get_tar_manifest,
    inspect_docker_tar,
    list_repositories,
    list_tags,
    parse_repository_tag,
    push_docker_tar,
    push_docker_tar_with_all_original_tags,
    push_docker_tar_with_original_tags,
    validate_docker_tar,
)
from tests.compat.test_surface import V1_NAMES
from tests.fixture_archives import fixture_path
from tests.integration.images import verify_pushed_image
from tests.integration.registry_server import RegistryServer, free_port
from tests.proto.pure_support import make_blob_archive, sha256

OPAQUE = "application/octet-stream"
TAR = "application/vnd.oci.image.layer.v1.tar"
GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
LEGACY = "a-legacy-docker-save-2layers.tar"  # records extraction.test:latest
INDEX = "c-containerd-store-busybox-arm64-attestation.tar"  # an index and its attestation
IMAGE_INFO_KEYS = {
    "repository",
    "tag",
    "digest",
    "manifest",
    "config",
    "architecture",
    "os",
    "created",
    "total_size",
    "layer_count",
}


def users_archive(
    directory: Path,
    name: str,
    *,
    tags: list[str] | None = None,
    config: Mapping[str, object] | None = None,
    layers: list[bytes] | None = None,
) -> str:
    """An archive as 1.x users' tests write one: manifest.json, `repositories`, a config with
    only a platform and a layer of a few arbitrary bytes, all under `blobs/sha256/`."""
    tags = tags if tags is not None else ["test:minimal"]
    config_bytes = json.dumps(config or {"architecture": "amd64", "os": "linux"}).encode()
    repositories: dict[str, dict[str, str]] = {}
    for recorded in tags:
        repository, tag = parse_repository_tag(recorded)
        repositories.setdefault(repository, {})[tag] = sha256(config_bytes)[7:]
    path = directory / name
    path.write_bytes(
        make_blob_archive(
            config_bytes,
            layers if layers is not None else [b"dummy layer data"],
            repo_tags=tags,
            repositories=repositories,
        )
    )
    return str(path)


def a_tar(text: bytes) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        info = tarfile.TarInfo("hello.txt")
        info.size = len(text)
        archive.addfile(info, io.BytesIO(text))
    return buffer.getvalue()


# -- README: quick start, concurrency, tag extraction ----------------------------------------


def test_readme_quick_start(registry_server: RegistryServer, tmp_path: Path) -> None:
    my_image = users_archive(tmp_path, "my-image.tar")
    exported = str(fixture_path(LEGACY))  # legacy `docker save`: 1.x could not push it

    async def main() -> tuple[bool, str, str, list[str]]:
        registry_url = registry_server.url
        accessible = await check_registry_connectivity(registry_url)
        digest = await push_docker_tar(my_image, registry_url, "compat/myapp", "v1.0.0")
        original = await push_docker_tar_with_original_tags(exported, registry_url)
        repos = await list_repositories(registry_url)
        return accessible, digest, original, repos

    accessible, digest, original, repos = asyncio.run(main())
    assert accessible is True
    assert {"compat/myapp", "extraction.test"} <= set(repos)
    verified = verify_pushed_image(registry_server.host, "compat/myapp", "v1.0.0", rootless=True)
    assert verified.manifest_digest == digest
    assert verified.layer_media_types == (OPAQUE,)
    legacy = verify_pushed_image(registry_server.host, "extraction.test", "latest")
    assert legacy.manifest_digest == original
    assert len(legacy.layer_digests) == 2


def test_readme_concurrent_pushes(registry_server: RegistryServer, tmp_path: Path) -> None:
    archives = [
        users_archive(tmp_path, f"app{n}.tar", layers=[f"layer of app {n}".encode()])
        for n in range(1, 4)
    ]

    async def concurrent_example() -> list[str]:
        push_tasks = [
            push_docker_tar(path, registry_server.url, f"compat/app{n}", "latest")
            for n, path in enumerate(archives, start=1)
        ]
        return list(await asyncio.gather(*push_tasks))

    digests = asyncio.run(concurrent_example())
    assert len(set(digests)) == 3
    for n, digest in enumerate(digests, start=1):
        verified = verify_pushed_image(
            registry_server.host, f"compat/app{n}", "latest", rootless=True
        )
        assert verified.manifest_digest == digest


def test_readme_tag_extraction_and_original_tags(
    registry_server: RegistryServer, tmp_path: Path
) -> None:
    path = users_archive(
        tmp_path, "exported-image.tar", tags=["compat/orig:latest", "compat/orig:v1.0.0"]
    )
    tags = extract_original_tags(path)
    assert tags == ["compat/orig:latest", "compat/orig:v1.0.0"]
    repo, tag = get_primary_tag(path) or ("", "")
    assert (repo, tag) == ("compat/orig", "latest")

    async def main() -> tuple[str, list[str], list[str]]:
        digest = await push_docker_tar_with_original_tags(path, registry_server.url)
        digests = await push_docker_tar_with_all_original_tags(path, registry_server.url)
        return digest, digests, await list_tags(registry_server.url, "compat/orig")

    digest, digests, listed = asyncio.run(main())
    assert digests == [digest, digest]  # one per tag, the same image
    assert sorted(listed) == ["latest", "v1.0.0"]
    verified = verify_pushed_image(registry_server.host, "compat/orig", "v1.0.0", rootless=True)
    assert verified.manifest_digest == digest


# -- push_docker_tar's docstring: repository and tag from the archive, either one given alone


def test_repository_and_tag_from_the_archive(
    registry_server: RegistryServer, tmp_path: Path
) -> None:
    # The recorded registry host is left out: the image goes to the registry it is pushed to.
    path = users_archive(tmp_path, "nginx.tar", tags=["localhost:5000/compat/nginx:alpine"])
    url = registry_server.url

    async def main() -> list[str]:
        return [
            await push_docker_tar(path, url),
            await push_docker_tar(path, url, repository="compat/my-nginx"),
            await push_docker_tar(path, url, tag="v2"),
            await push_docker_tar(path, url, repository="compat/my-nginx", tag="v1.0"),
        ]

    digests = asyncio.run(main())
    assert len(set(digests)) == 1
    assert sorted(anyio.run(list_tags, url, "compat/nginx")) == ["alpine", "v2"]
    assert sorted(anyio.run(list_tags, url, "compat/my-nginx")) == ["alpine", "v1.0"]


def test_an_untagged_archive_needs_a_repository(
    registry_server: RegistryServer, tmp_path: Path
) -> None:
    path = users_archive(tmp_path, "untagged.tar", tags=[])
    with pytest.raises(ValidationError, match="records no tag"):
        asyncio.run(push_docker_tar(path, registry_server.url))
    digest = asyncio.run(push_docker_tar(path, registry_server.url, "compat/untagged"))
    assert asyncio.run(list_tags(registry_server.url, "compat/untagged")) == ["latest"]
    verified = verify_pushed_image(registry_server.host, "compat/untagged", "latest", rootless=True)
    assert verified.manifest_digest == digest


# -- what 1.x users' test archives hold, read back by skopeo ---------------------------------


@pytest.mark.parametrize(
    ("name", "layers", "media_types"),
    [
        ("dummy", [b"dummy layer data"], (OPAQUE,)),
        ("one-byte", [b"x"], (OPAQUE,)),
        ("tar-and-gzip", [a_tar(b"hi"), gzip.compress(a_tar(b"zip"), mtime=0)], (TAR, GZIP)),
        ("three", [b"one", b"two", b"three"], (OPAQUE, OPAQUE, OPAQUE)),
    ],
)
def test_hand_written_archives_go_up_as_stored(
    registry_server: RegistryServer,
    tmp_path: Path,
    name: str,
    layers: list[bytes],
    media_types: tuple[str, ...],
) -> None:
    repository = f"compat/hand-{name}"
    path = users_archive(tmp_path, "hand.tar", layers=layers)
    assert validate_docker_tar(Path(path)) is True
    digest = asyncio.run(push_docker_tar(path, registry_server.url, repository, "t"))
    verified = verify_pushed_image(registry_server.host, repository, "t", rootless=True)
    assert verified.manifest_digest == digest
    assert verified.layer_digests == tuple(sha256(layer) for layer in layers)
    assert verified.layer_media_types == media_types
    assert verified.config_digest == inspect_docker_tar(Path(path)).id


# -- reading back: manifests, image info, the inspection models ------------------------------


def test_manifest_image_info_and_inspection_agree(
    registry_server: RegistryServer, tmp_path: Path
) -> None:
    config = {"architecture": "arm64", "os": "linux", "created": "2024-01-01T00:00:00Z"}
    path = users_archive(tmp_path, "info.tar", tags=["compat/info:latest"], config=config)
    settings = RegistryConfig(url=registry_server.url + "/", timeout=30)

    async def main() -> tuple[str, dict[str, object], dict[str, object], dict[str, object]]:
        digest = await push_docker_tar(path, settings.base_url, timeout=settings.timeout)
        manifest = await get_manifest(settings.base_url, "compat/info", "latest")
        info = await get_image_info(settings.base_url, "compat/info", "latest")
        by_digest = await get_image_info(settings.base_url, "compat/info", digest)
        return digest, manifest, info, by_digest

    digest, manifest, info, by_digest = asyncio.run(main())
    # API reference: schemaVersion, mediaType, config digest, layers, and the digest added.
    assert manifest["schemaVersion"] == 2
    assert manifest["mediaType"] == "application/vnd.oci.image.manifest.v1+json"
    assert manifest["digest"] == digest
    assert set(info) == IMAGE_INFO_KEYS
    assert info["manifest"] == manifest
    assert (info["repository"], info["tag"], info["digest"]) == ("compat/info", "latest", digest)
    assert info["config"] == config
    assert (info["architecture"], info["os"], info["created"]) == (
        "arm64",
        "linux",
        config["created"],
    )
    assert by_digest == {**info, "tag": digest}

    # The manifest in 1.x's data types, and the archive's own inspection, say the same.
    descriptor = manifest["config"]
    assert isinstance(descriptor, dict)
    raw_layers = manifest["layers"]
    assert isinstance(raw_layers, list)
    described = ManifestInfo(
        schema_version=2,
        media_type=str(manifest["mediaType"]),
        config=BlobInfo(descriptor["digest"], descriptor["size"], descriptor["mediaType"]),
        layers=tuple(BlobInfo(d["digest"], d["size"], d["mediaType"]) for d in raw_layers),
        digest=digest,
    )
    assert described.total_size == info["total_size"]
    assert info["layer_count"] == len(described.layers) == 1
    inspected = inspect_docker_tar(Path(path))
    assert isinstance(inspected, ImageInspect)
    assert isinstance(inspected.config, ImageConfig)
    assert inspected.id == described.config.digest
    assert inspected.layers == [
        LayerInfo(digest=b.digest, size=b.size, media_type=b.media_type) for b in described.layers
    ]
    assert inspected.size == sum(b.size for b in described.layers)
    assert get_tar_manifest(Path(path))[0]["Config"] == "blobs/" + inspected.id.replace(":", "/")
    assert dataclasses.asdict(inspected)["architecture"] == "arm64"


def test_image_info_of_an_index(registry_server: RegistryServer) -> None:
    path = fixture_path(INDEX)
    push = functools.partial(
        registry_async.push_docker_tar,
        path,
        registry_server.url,
        "compat/index",
        "v3",
        all_platforms=True,
    )
    pushed = anyio.run(push)
    info = asyncio.run(get_image_info(registry_server.url, "compat/index", "v3"))
    assert set(info) == {"repository", "tag", "manifest", "config"}
    assert info["config"] is None
    assert info["manifest"]["digest"] == pushed
    assert len(info["manifest"]["manifests"]) == 2


def test_api_reference_deletion(registry_server: RegistryServer, tmp_path: Path) -> None:
    path = users_archive(tmp_path, "delete.tar", tags=["compat/delete:v1.0.0"])
    other = users_archive(tmp_path, "other.tar", tags=["compat/delete:latest"], layers=[b"other"])
    url = registry_server.url

    async def delete_example() -> tuple[bool, bool, list[str]]:
        await push_docker_tar(path, url)
        await push_docker_tar(other, url)
        success = await delete_image(url, "compat/delete", "v1.0.0")
        manifest = await get_manifest(url, "compat/delete", "latest")
        digest = manifest.get("digest")
        assert isinstance(digest, str)
        by_digest = await delete_image_by_digest(url, "compat/delete", digest)
        return success, by_digest, await list_tags(url, "compat/delete")

    assert asyncio.run(delete_example()) == (True, True, [])


def test_every_call_takes_a_timeout(registry_server: RegistryServer, tmp_path: Path) -> None:
    path = users_archive(tmp_path, "timeout.tar", tags=["compat/timeout:a", "compat/timeout:b"])
    url = registry_server.url

    async def main() -> None:
        assert await check_registry_connectivity(url, timeout=60)
        digest = await push_docker_tar(path, url, "compat/timeout", "c", timeout=600)
        assert await push_docker_tar_with_original_tags(path, url, timeout=60) == digest
        assert await push_docker_tar_with_all_original_tags(path, url, timeout=60) == [digest] * 2
        assert "compat/timeout" in await list_repositories(url, timeout=5)
        assert sorted(await list_tags(url, "compat/timeout", timeout=5)) == ["a", "b", "c"]
        assert (await get_manifest(url, "compat/timeout", "a", timeout=5))["digest"] == digest
        assert (await get_image_info(url, "compat/timeout", "a", timeout=5))["digest"] == digest
        assert await delete_image(url, "compat/timeout", "a", timeout=5) is True
        await push_docker_tar(path, url, timeout=60)
        assert await delete_image_by_digest(url, "compat/timeout", digest, timeout=5) is True

    asyncio.run(main())


def test_the_calls_run_under_trio_too(registry_server: RegistryServer, tmp_path: Path) -> None:
    path = users_archive(tmp_path, "trio.tar", tags=["compat/trio:1"])
    digest = anyio.run(push_docker_tar, path, registry_server.url, backend="trio")
    info = anyio.run(get_image_info, registry_server.url, "compat/trio", "1", backend="trio")
    assert info["digest"] == digest


# -- errors, as the API reference catches them -----------------------------------------------


def test_errors_as_the_api_reference_catches_them(
    registry_server: RegistryServer, tmp_path: Path
) -> None:
    invalid = tmp_path / "invalid.tar"
    invalid.write_bytes(b"this is no archive" * 100)
    caught: list[type[Exception]] = []

    async def robust_push(tar_path: str, repo: str, tag: str) -> None:
        try:
            await push_docker_tar(tar_path, registry_server.url, repo, tag)
        except ValidationError:
            caught.append(ValidationError)
        except TarReadError:
            caught.append(TarReadError)
        except RegistryError:
            caught.append(RegistryError)

    asyncio.run(robust_push(str(invalid), "compat/invalid", "tag"))
    asyncio.run(robust_push(str(tmp_path / "missing.tar"), "compat/invalid", "tag"))
    assert caught == [TarReadError, TarReadError]
    with pytest.raises(RegistryError) as missing:
        asyncio.run(get_manifest(registry_server.url, "compat/nothing-here", "latest"))
    assert isinstance(missing.value, registry_async.RegistryError)
    assert missing.value.status == 404
    # A refused connection was a RegistryError in 1.x, and still is one here.
    unreachable = f"http://127.0.0.1:{free_port()}"
    with pytest.raises(RegistryError):
        asyncio.run(list_tags(unreachable, "compat/nothing-here", timeout=5))
    with pytest.raises(RegistryError):
        asyncio.run(get_image_info(registry_server.url, "compat/nothing-here", "latest"))
    nobody = f"http://127.0.0.1:{free_port()}"
    assert asyncio.run(check_registry_connectivity(nobody, timeout=5)) is False


def test_several_images_and_push_options(registry_server: RegistryServer) -> None:
    # 1.x pushed the first image of an archive; this package's push options work here too.
    path = str(fixture_path("e-docker-save-two-images-symlinked-layer.tar"))
    url = registry_server.url

    async def main() -> tuple[str, str, list[str]]:
        first = await push_docker_tar(path, url)
        third = await push_docker_tar(
            path, url, source="bazel/v1/tarball:test_image_3", compression="gzip"
        )
        return first, third, await list_tags(url, "bazel/v1/tarball")

    first, third, tags = asyncio.run(main())
    assert sorted(tags) == ["test_image_1", "test_image_3"]
    one = verify_pushed_image(registry_server.host, "bazel/v1/tarball", "test_image_1")
    three = verify_pushed_image(registry_server.host, "bazel/v1/tarball", "test_image_3")
    assert (one.manifest_digest, three.manifest_digest) == (first, third)
    assert (len(one.layer_digests), len(three.layer_digests)) == (1, 2)
    assert set(three.layer_media_types) == {GZIP}


def test_this_module_calls_every_1x_name() -> None:
    assert set(V1_NAMES) <= set(globals())
