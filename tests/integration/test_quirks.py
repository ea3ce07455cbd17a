"""Every operation under every registry's quirks, through asyncio, trio and the blocking API.

Each profile of `quirk_proxy.py` stands in front of the real registry and answers as one
registry does (GHCR, Google Artifact Registry, ACR, ECR, GCR, Quay, Harbor, Docker Hub, Nexus,
object storage behind redirects); the real registry's own `redirect` storage middleware is
exercised too. Under each: push (whole, then gzip-compressed in chunks), describe, copy,
list, pull and delete a small image whose one larger layer meets the scaled-down body caps.
"""

from __future__ import annotations

import gzip
import hashlib
import tarfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from registry_proto import RegistryError, Unsupported
from tests.integration.adapters import ADAPTERS, call
from tests.integration.loopback import LoopbackServer, RecordedRequest, Reply
from tests.integration.quirk_proxy import CAP, PROFILES, Ghcr, QuirkProxy
from tests.integration.registry_server import RegistryConfig, RegistryServer
from tests.proto.pure_support import make_image_archive

# A small layer, and one of 1.5 MiB that gzip cannot shrink below the 1 MiB caps.
NOISE = b"".join(hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(48 * 1024))
LAYERS = [b"a small layer\n" * 100, NOISE]
CHUNK = 512 * 1024


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("quirks") / "image.tar"
    path.write_bytes(make_image_archive(LAYERS, repo_tags=["quirks/app:1"]))
    return path


def _layers(pulled: Path) -> list[bytes]:
    """The layers of a pulled archive, decompressed."""
    with tarfile.open(pulled) as tar:
        found = []
        for name in tar.getnames():
            member = tar.extractfile(name) if name.startswith("blobs/") else None
            data = member.read() if member is not None else b""
            found.append(gzip.decompress(data) if data[:2] == b"\x1f\x8b" else data)
    return [layer for layer in LAYERS if layer in found]


def exercise(
    adapter: str,
    url: str,
    repository: str,
    archive: Path,
    tmp_path: Path,
    *,
    catalog: bool = True,
    deletes: bool = True,
) -> None:
    """Push, describe, copy, list, pull and delete through `adapter`, checking each."""

    def run(name: str, *args: object, **kwargs: object) -> object:
        return call(adapter, name, *args, docker_config=False, **kwargs)

    digest = run("push_docker_tar", archive, url, repository, "1")
    run("push_docker_tar", archive, url, repository, "gz", compression="gzip", chunk_size=CHUNK)
    info = run("get_image_info", url, repository, "1")
    assert getattr(info, "digest", None) == digest
    assert run("copy_image", url, repository, "1", url, repository, "2") == digest
    assert run("copy_image", url, repository, "gz", url, f"{repository}-copy", "1") is not None
    tags = run("list_tags", url, repository, page_size=5000)
    assert sorted(tags) == ["1", "2", "gz"]  # type: ignore[call-overload]
    if catalog:
        assert repository in run("list_repositories", url, page_size=5000)  # type: ignore[operator]
    else:
        with pytest.raises(RegistryError):
            run("list_repositories", url)
    for source, tag in ((repository, "1"), (f"{repository}-copy", "1")):
        pulled = tmp_path / f"{len(list(tmp_path.iterdir()))}.tar"
        run("pull_image", url, source, tag, pulled)
        assert _layers(pulled) == LAYERS
    if deletes:
        assert run("delete_image", url, f"{repository}-copy", "1") is True
        with pytest.raises(RegistryError):
            run("get_image_info", url, f"{repository}-copy", "1")
    else:
        with pytest.raises(Unsupported):
            run("delete_image", url, f"{repository}-copy", "1")


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("name", sorted(PROFILES))
def test_every_operation_under_every_registry(
    name: str, adapter: str, registry_server: RegistryServer, archive: Path, tmp_path: Path
) -> None:
    profile = PROFILES[name]()
    with QuirkProxy(registry_server.host, profile) as proxy:
        exercise(
            adapter,
            proxy.url,
            f"quirks/{name}/{adapter}",
            archive,
            tmp_path,
            catalog=profile.catalog,
            deletes=profile.deletes,
        )
        assert proxy.errors == []


@pytest.fixture(scope="module")
def redirecting_registry() -> Iterator[tuple[RegistryServer, LoopbackServer]]:
    """The real registry with its `redirect` storage middleware: blob `GET`s and `HEAD`s answer
    307 to a static file server over its storage, as with S3."""
    roots: list[Path] = []

    def serve(request: RecordedRequest) -> Reply:
        path = roots[0] / request.path.lstrip("/")
        return Reply(200, path.read_bytes()) if path.is_file() else Reply(404, b"no such key")

    with LoopbackServer(serve) as storage:
        middleware = [{"name": "redirect", "options": {"baseurl": storage.url}}]
        config = RegistryConfig(extra={"middleware": {"storage": middleware}})
        with RegistryServer(config) as server:
            roots.append(server.storage_dir)
            yield server, storage


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_every_operation_with_the_registrys_storage_redirects(
    adapter: str,
    redirecting_registry: tuple[RegistryServer, LoopbackServer],
    archive: Path,
    tmp_path: Path,
) -> None:
    server, storage = redirecting_registry
    storage.clear()
    exercise(adapter, server.url, f"quirks/redirect/{adapter}", archive, tmp_path)
    assert storage.requests  # the blobs came from storage
    assert not [r for r in storage.requests if r.authorized]


def test_a_registry_capping_bodies_costs_one_refusal_per_client(
    registry_server: RegistryServer, archive: Path, tmp_path: Path
) -> None:
    """GHCR-like: after one body refused as too large, a client sends no body over what the
    registry took, to any repository (a new layer each time, so none is mounted)."""
    import registry_sync

    with QuirkProxy(registry_server.host, Ghcr()) as proxy:
        with registry_sync.RegistryClient(docker_config=False) as client:
            for number in range(3):
                other = tmp_path / f"{number}.tar"
                other.write_bytes(make_image_archive([NOISE + bytes([number])]))
                client.push_docker_tar(other, proxy.url, f"quirks/capped/{number}", "1")
        refused = [seen for seen in proxy.seen if seen.status == 416]
        assert len(refused) == 1
        assert max(seen.body_length for seen in proxy.seen if seen.status < 400) <= CAP
