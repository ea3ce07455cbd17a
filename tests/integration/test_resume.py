"""A download cut in the middle of a blob resumes where it broke, against the real registry
behind a proxy that breaks the connection half-way through the first download of each layer.
A registry that ignores `Range` sends the whole blob again."""

from __future__ import annotations

import tarfile
from dataclasses import replace
from pathlib import Path

import pytest

from registry_proto import TransportFailure
from tests.integration.adapters import ADAPTERS, call
from tests.integration.quirk_proxy import Exchange, Profile, QuirkProxy, Reply
from tests.integration.registry_server import RegistryServer
from tests.proto.pure_support import make_image_archive

LAYERS = [bytes(range(256)) * 1024, b"a second, smaller layer " * 2000]  # 256 KiB, 48 KiB


class CutOnce(Profile):
    """Each layer's first download is cut half-way; `honour_ranges=False` drops `Range`."""

    name = "cut-once"

    def __init__(self, *, honour_ranges: bool = True) -> None:
        super().__init__()
        self.honour_ranges = honour_ranges
        self.cut: set[str] = set()
        self.ranges: list[tuple[str, str | None]] = []

    def before(self, request: Exchange, proxy: QuirkProxy) -> Reply | None:
        if request.method != "GET" or "/blobs/sha256:" not in request.path:
            return None
        asked = request.headers.get("range")
        with self.lock:
            self.ranges.append((request.path, asked))
        if not self.honour_ranges and asked is not None:
            headers = {k: v for k, v in request.headers.items() if k != "range"}
            request = replace(request, headers=headers)
        reply = proxy.forward(request)
        if len(reply.body) < 8192:
            return reply  # the config
        with self.lock:
            first = request.path not in self.cut
            self.cut.add(request.path)
        return replace(reply, cut_after=len(reply.body) // 2) if first else reply


@pytest.fixture(scope="module")
def pushed(registry_server: RegistryServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    archive = tmp_path_factory.mktemp("resume") / "image.tar"
    archive.write_bytes(make_image_archive(LAYERS, repo_tags=["resume/app:1"]))
    digest: str = call("sync", "push_docker_tar", archive, registry_server.url, "resume/app", "1")
    return digest


def _layers_of(archive: Path) -> list[bytes]:
    with tarfile.open(archive) as tar:
        names = sorted(n for n in tar.getnames() if n.startswith("blobs/"))
        found = [tar.extractfile(name) for name in names]
        return [member.read() for member in found if member is not None]


@pytest.mark.parametrize("adapter", ADAPTERS)
@pytest.mark.parametrize("honour_ranges", [True, False])
def test_a_pull_cut_mid_blob_resumes(
    adapter: str,
    honour_ranges: bool,
    registry_server: RegistryServer,
    pushed: str,
    tmp_path: Path,
) -> None:
    profile = CutOnce(honour_ranges=honour_ranges)
    destination = tmp_path / "pulled.tar"
    with QuirkProxy(registry_server.host, profile) as proxy:
        result = call(adapter, "pull_image", proxy.url, "resume/app", "1", destination)
        assert proxy.errors == []
    assert result.digest == pushed
    assert all(layer in _layers_of(destination) for layer in LAYERS)
    resumed = {asked for _, asked in profile.ranges if asked is not None}
    assert resumed == {f"bytes={len(layer) // 2}-" for layer in LAYERS}  # the rest of each
    fetched_whole = len([1 for _, asked in profile.ranges if asked is None])
    assert fetched_whole == 1 + len(LAYERS) * (1 if honour_ranges else 2)  # config + layers


@pytest.mark.parametrize("adapter", ADAPTERS)
def test_without_retries_a_cut_pull_fails(
    adapter: str, registry_server: RegistryServer, pushed: str, tmp_path: Path
) -> None:
    with QuirkProxy(registry_server.host, CutOnce()) as proxy, pytest.raises(TransportFailure):
        call(adapter, "pull_image", proxy.url, "resume/app", "1", tmp_path / "x.tar", retries=0)
    assert list(tmp_path.iterdir()) == []
